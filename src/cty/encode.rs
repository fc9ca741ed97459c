//! The walk every encoder shares: a value against its type, tracking the path (for errors) and the depth (so
//! hostile input cannot exhaust the stack), checking shapes, and handing each piece to a [`Sink`] that writes it in
//! its format (`json`, `msgpack`).
//!
//! The recursive path keeps small stack frames (error formatting is in cold functions) so that [`MAX_DEPTH`]
//! levels fit a 2 MiB stack even in debug builds.

use std::collections::BTreeMap;

use super::{CtyError, Number, Path, PathStep, Refinements, Type, Value, MAX_DEPTH};

/// How one wire format writes the pieces of a value. Errors are messages; the walk adds the path.
pub(super) trait Sink {
    /// A null.
    fn null(&mut self) -> Result<(), String>;
    /// An unknown of type `ty` (a format that cannot carry unknowns refuses).
    fn unknown(&mut self, refinements: &Refinements, ty: &Type) -> Result<(), String>;
    /// A known string.
    fn string(&mut self, s: &str) -> Result<(), String>;
    /// A known number.
    fn number(&mut self, n: &Number) -> Result<(), String>;
    /// A known bool.
    fn bool(&mut self, b: bool) -> Result<(), String>;
    /// Before the `len` elements of a list, set or tuple.
    fn begin_array(&mut self, len: usize) -> Result<(), String>;
    /// Before element `index` of an array.
    fn array_item(&mut self, index: usize) -> Result<(), String>;
    /// After the elements of an array.
    fn end_array(&mut self) -> Result<(), String>;
    /// Before the `len` entries of a map or object.
    fn begin_map(&mut self, len: usize) -> Result<(), String>;
    /// Before the value of entry `index`, whose key is `key`.
    fn map_key(&mut self, index: usize, key: &str) -> Result<(), String>;
    /// After the entries of a map or object.
    fn end_map(&mut self) -> Result<(), String>;
    /// Before a known value of type `ty` at a dynamic position.
    fn begin_dynamic(&mut self, ty: &Type) -> Result<(), String>;
    /// After a known value of type `ty` at a dynamic position.
    fn end_dynamic(&mut self, ty: &Type) -> Result<(), String>;
}

/// A value being encoded into a sink.
pub(super) struct Walk<S> {
    /// The sink, holding what is written.
    pub(super) sink: S,
    path: Vec<PathStep>,
    depth: usize,
}

impl<S: Sink> Walk<S> {
    /// A walk writing into `sink`.
    pub(super) fn new(sink: S) -> Self {
        Self {
            sink,
            path: Vec::new(),
            depth: 0,
        }
    }

    #[cold]
    #[inline(never)]
    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::encode(Path(self.path.clone()), message)
    }

    /// The sink's result, with the path of the value being written on error.
    fn write(&self, r: Result<(), String>) -> Result<(), CtyError> {
        r.map_err(|m| self.err(m))
    }

    #[inline(never)]
    fn nested(&mut self, step: PathStep, v: &Value, ty: &Type) -> Result<(), CtyError> {
        self.path.push(step);
        let r = self.value(v, ty);
        if r.is_ok() {
            self.path.pop();
        }
        r
    }

    /// Encodes one value as type `ty`.
    pub(super) fn value(&mut self, v: &Value, ty: &Type) -> Result<(), CtyError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        self.depth += 1;
        let result = self.value_inner(v, ty);
        self.depth -= 1;
        result
    }

    fn value_inner(&mut self, v: &Value, ty: &Type) -> Result<(), CtyError> {
        match (v, ty) {
            (v, Type::Dynamic) => self.dynamic(v),
            (Value::Null, _) => {
                let r = self.sink.null();
                self.write(r)
            }
            (Value::Unknown(r), _) => {
                let r = self.sink.unknown(r, ty);
                self.write(r)
            }
            (Value::Dynamic(inner_ty, inner), _) if inner_ty == ty => self.value(inner, ty),
            // Lists and sets share the array encoding; accept either variant for either type.
            (Value::List(items) | Value::Set(items), Type::List(ety) | Type::Set(ety)) => {
                self.elements(items, &mut |_| ety)
            }
            (Value::Tuple(items) | Value::List(items), Type::Tuple(etys)) => {
                self.tuple(items, etys)
            }
            (Value::Map(elems), Type::Map(ety)) => self.map(elems, ety),
            (Value::Object(vals), Type::Object { attrs, .. }) => self.object(vals, attrs),
            _ => self.primitive(v, ty),
        }
    }

    #[inline(never)]
    fn primitive(&mut self, v: &Value, ty: &Type) -> Result<(), CtyError> {
        let r = match (v, ty) {
            (Value::String(s), Type::String) => self.sink.string(s),
            (Value::Number(n), Type::Number) => self.sink.number(n),
            (Value::Bool(b), Type::Bool) => self.sink.bool(*b),
            (v, ty) => Err(format!(
                "{} value given where {} is required",
                v.kind_name(),
                ty.friendly_name()
            )),
        };
        self.write(r)
    }

    /// A value at a dynamic position: null, unknown (never refined, as go-cty), or known with its type.
    #[inline(never)]
    fn dynamic(&mut self, v: &Value) -> Result<(), CtyError> {
        match v {
            Value::Null => {
                let r = self.sink.null();
                self.write(r)
            }
            Value::Unknown(_) => {
                let r = self.sink.unknown(&Refinements::default(), &Type::Dynamic);
                self.write(r)
            }
            Value::Dynamic(inner_ty, inner) => {
                let r = self.sink.begin_dynamic(inner_ty);
                self.write(r)?;
                self.value(inner, inner_ty)?;
                let r = self.sink.end_dynamic(inner_ty);
                self.write(r)
            }
            other => Err(self.err(format!(
                "a known {} value at a dynamic position must be wrapped in Value::Dynamic with its type",
                other.kind_name()
            ))),
        }
    }

    #[inline(never)]
    fn elements<'t>(
        &mut self,
        items: &[Value],
        types: &mut dyn FnMut(usize) -> &'t Type,
    ) -> Result<(), CtyError> {
        let r = self.sink.begin_array(items.len());
        self.write(r)?;
        for (i, item) in items.iter().enumerate() {
            let r = self.sink.array_item(i);
            self.write(r)?;
            self.nested(PathStep::Index(i as u64), item, types(i))?;
        }
        let r = self.sink.end_array();
        self.write(r)
    }

    #[inline(never)]
    fn tuple(&mut self, items: &[Value], etys: &[Type]) -> Result<(), CtyError> {
        if items.len() != etys.len() {
            return Err(self.err(format!(
                "a tuple of {} elements is required ({} given)",
                etys.len(),
                items.len()
            )));
        }
        self.elements(items, &mut |i| &etys[i])
    }

    #[inline(never)]
    fn map(&mut self, elems: &BTreeMap<String, Value>, ety: &Type) -> Result<(), CtyError> {
        let r = self.sink.begin_map(elems.len());
        self.write(r)?;
        for (i, (k, elem)) in elems.iter().enumerate() {
            let r = self.sink.map_key(i, k);
            self.write(r)?;
            self.nested(PathStep::Key(k.clone()), elem, ety)?;
        }
        let r = self.sink.end_map();
        self.write(r)
    }

    /// Every attribute of the type is written, in name order; missing ones as null.
    #[inline(never)]
    fn object(
        &mut self,
        vals: &BTreeMap<String, Value>,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<(), CtyError> {
        if let Some(extra) = vals.keys().find(|k| !attrs.contains_key(*k)) {
            let mut path = self.path.clone();
            path.push(PathStep::Attr(extra.clone()));
            return Err(CtyError::encode(Path(path), "unsupported attribute"));
        }
        let r = self.sink.begin_map(attrs.len());
        self.write(r)?;
        for (i, (name, aty)) in attrs.iter().enumerate() {
            let r = self.sink.map_key(i, name);
            self.write(r)?;
            let v = vals.get(name).unwrap_or(&Value::Null);
            self.nested(PathStep::Attr(name.clone()), v, aty)?;
        }
        let r = self.sink.end_map();
        self.write(r)
    }
}
