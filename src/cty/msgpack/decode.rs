//! MessagePack -> Value, following go-cty's `msgpack.Unmarshal` (with stricter input checks).

use std::collections::BTreeMap;

use super::unknown;
use super::wire::{Item, Reader, WireError};
use crate::cty::{CtyError, Number, Path, PathStep, Type, Value, MAX_DEPTH};

pub(crate) struct Decoder<'a> {
    pub(super) r: Reader<'a>,
    path: Vec<PathStep>,
    depth: usize,
}

impl<'a> Decoder<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder {
            r: Reader::new(bytes),
            path: Vec::new(),
            depth: 0,
        }
    }

    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::decode(Path(self.path.clone()), message)
    }

    fn read(&mut self) -> Result<Item<'a>, CtyError> {
        self.r.read().map_err(|e| self.wire(e))
    }

    /// Converts any of the number encodings go-cty accepts: integers, floats, decimal strings.
    pub(super) fn number_from_item(item: Item<'_>, path: &[PathStep]) -> Result<Number, CtyError> {
        let err = |m: String| CtyError::decode(Path(path.to_vec()), m);
        match item {
            Item::Uint(u) => Ok(Number::from_u64(u)),
            Item::Int(i) => Ok(Number::from_i64(i)),
            Item::F32(f) => Number::from_f64(f64::from(f)).ok_or_else(|| {
                err(format!(
                    "number {f} is not finite; cty numbers cannot be NaN or infinite"
                ))
            }),
            Item::F64(f) => Number::from_f64(f).ok_or_else(|| {
                err(format!(
                    "number {f} is not finite; cty numbers cannot be NaN or infinite"
                ))
            }),
            Item::Str(b) | Item::Bin(b) => {
                let text = std::str::from_utf8(b).map_err(|_| err("number is required".into()))?;
                Number::parse(text).map_err(|e| err(e.message().to_string()))
            }
            other => Err(err(format!("number is required, found {}", other.kind()))),
        }
    }

    fn string_from(&self, bytes: &[u8]) -> Result<String, CtyError> {
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| self.err("string is not valid UTF-8"))
    }

    #[inline(never)]
    fn nested(&mut self, step: PathStep, ty: &Type) -> Result<Value, CtyError> {
        self.path.push(step);
        let v = self.value(ty);
        if v.is_ok() {
            self.path.pop();
        }
        v
    }

    /// Room for at most `claimed` elements, but never more than the remaining input could hold.
    fn capacity(&self, claimed: u32) -> usize {
        (claimed as usize).min(self.r.remaining())
    }

    #[cold]
    #[inline(never)]
    fn required(&self, what: &str, found: &Item<'_>) -> CtyError {
        self.err(format!("{what} is required, found {}", found.kind()))
    }

    /// Decodes one value of type `ty`.
    ///
    /// The recursive path (this, `value_from`, one container function, `nested`) keeps its stack
    /// frames small so that [`MAX_DEPTH`] levels fit comfortably in a 2 MiB thread stack even in
    /// debug builds; error formatting lives in separate cold functions.
    pub(super) fn value(&mut self, ty: &Type) -> Result<Value, CtyError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        let v = match self.r.read() {
            Ok(item) => self.value_from(item, ty),
            Err(e) => Err(self.wire(e)),
        };
        self.depth -= 1;
        v
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> CtyError {
        self.err("value is nested too deeply")
    }

    #[cold]
    #[inline(never)]
    fn wire(&self, e: WireError) -> CtyError {
        self.err(e.message())
    }

    fn value_from(&mut self, item: Item<'a>, ty: &Type) -> Result<Value, CtyError> {
        match (ty, &item) {
            (_, Item::Ext { code, data }) => self.unknown(*code, data, ty),
            (Type::Dynamic, _) => self.dynamic(item),
            (_, Item::Nil) => Ok(Value::Null),
            (Type::List(ety), Item::Array(n)) => self.elements(*n, ety, false),
            (Type::Set(ety), Item::Array(n)) => self.elements(*n, ety, true),
            (Type::Tuple(etys), Item::Array(n)) => self.tuple(*n, etys),
            (Type::Map(ety), Item::Map(n)) => self.map(*n, ety),
            (Type::Object { attrs, .. }, Item::Map(n)) => self.object(*n, attrs),
            _ => self.primitive(item, ty),
        }
    }

    #[inline(never)]
    fn unknown(&mut self, code: i8, data: &[u8], ty: &Type) -> Result<Value, CtyError> {
        unknown::read(code, data, ty, &self.path)
    }

    #[inline(never)]
    fn primitive(&mut self, item: Item<'a>, ty: &Type) -> Result<Value, CtyError> {
        match (ty, item) {
            (Type::String, Item::Str(b) | Item::Bin(b)) => Ok(Value::String(self.string_from(b)?)),
            (Type::Number, item) => Ok(Value::Number(Decoder::number_from_item(item, &self.path)?)),
            (Type::Bool, Item::Bool(b)) => Ok(Value::Bool(b)),
            (Type::String, item) => Err(self.required("string", &item)),
            (Type::Bool, item) => Err(self.required("bool", &item)),
            (Type::List(_), item) => Err(self.required("a list", &item)),
            (Type::Set(_), item) => Err(self.required("a set", &item)),
            (Type::Tuple(_), item) => Err(self.required("a tuple", &item)),
            (Type::Map(_), item) => Err(self.required("a map", &item)),
            (Type::Object { .. }, item) => Err(self.required("an object", &item)),
            (Type::Dynamic, item) => self.dynamic(item),
        }
    }

    #[inline(never)]
    fn elements(&mut self, n: u32, ety: &Type, set: bool) -> Result<Value, CtyError> {
        let mut items = Vec::with_capacity(self.capacity(n));
        for i in 0..n {
            items.push(self.nested(PathStep::Index(u64::from(i)), ety)?);
        }
        Ok(if set {
            Value::Set(items)
        } else {
            Value::List(items)
        })
    }

    #[inline(never)]
    fn tuple(&mut self, n: u32, etys: &[Type]) -> Result<Value, CtyError> {
        if n as usize != etys.len() {
            return Err(self.err(format!(
                "a tuple of {} elements is required ({n} given)",
                etys.len()
            )));
        }
        let mut items = Vec::with_capacity(etys.len());
        for (i, ety) in etys.iter().enumerate() {
            items.push(self.nested(PathStep::Index(i as u64), ety)?);
        }
        Ok(Value::Tuple(items))
    }

    #[inline(never)]
    fn map(&mut self, n: u32, ety: &Type) -> Result<Value, CtyError> {
        let mut elems = BTreeMap::new();
        for _ in 0..n {
            let key = self.key("map")?;
            if elems.contains_key(&key) {
                return Err(self.err(format!("duplicate map key {key:?}")));
            }
            let v = self.nested(PathStep::Key(key.clone()), ety)?;
            elems.insert(key, v);
        }
        Ok(Value::Map(elems))
    }

    #[inline(never)]
    fn object(&mut self, n: u32, attrs: &BTreeMap<String, Type>) -> Result<Value, CtyError> {
        let mut vals = BTreeMap::new();
        for _ in 0..n {
            let name = self.key("object")?;
            let Some(aty) = attrs.get(&name) else {
                let mut path = self.path.clone();
                path.push(PathStep::Attr(name));
                return Err(CtyError::decode(Path(path), "unsupported attribute"));
            };
            if vals.contains_key(&name) {
                return Err(self.err(format!("duplicate attribute {name:?}")));
            }
            let v = self.nested(PathStep::Attr(name.clone()), aty)?;
            vals.insert(name, v);
        }
        // Attributes the encoder left out are null.
        for name in attrs.keys() {
            vals.entry(name.clone()).or_insert(Value::Null);
        }
        Ok(Value::Object(vals))
    }

    fn key(&mut self, what: &str) -> Result<String, CtyError> {
        match self.read()? {
            Item::Str(b) => self.string_from(b),
            other => Err(self.err(format!(
                "{what} keys must be strings, found {}",
                other.kind()
            ))),
        }
    }

    /// A dynamic position: nil, or `[type JSON bytes, value]`.
    #[inline(never)]
    fn dynamic(&mut self, item: Item<'a>) -> Result<Value, CtyError> {
        match item {
            Item::Nil => Ok(Value::Null),
            Item::Array(2) => {
                let type_json = match self.read()? {
                    Item::Bin(b) | Item::Str(b) => b,
                    other => {
                        return Err(self.err(format!(
                            "dynamic value type must be JSON bytes, found {}",
                            other.kind()
                        )))
                    }
                };
                let ty = Type::from_json_bytes(type_json)
                    .map_err(|e| e.at_path(Path(self.path.clone())))?;
                let inner = self.value(&ty)?;
                Ok(Value::Dynamic(ty, Box::new(inner)))
            }
            other => Err(self.err(format!(
                "a dynamic value must be a two-element array, found {}",
                other.kind()
            ))),
        }
    }
}
