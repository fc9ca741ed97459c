//! Value -> MessagePack, following go-cty's `msgpack.Marshal`.

use std::collections::BTreeMap;

use super::unknown;
use super::wire::{WireError, Writer};
use crate::cty::{CtyError, Number, Path, PathStep, Type, Value, MAX_DEPTH};

/// Writes a number the way go-cty does: an integer when it fits `i64`, a float64 when it is a
/// non-integer that float64 holds exactly, otherwise its exact decimal text as a string.
pub(super) fn write_number(w: &mut Writer, n: &Number) -> Result<(), WireError> {
    if let Some(i) = n.to_i64() {
        w.int(i);
        return Ok(());
    }
    if !n.is_integer() {
        if let Some(f) = n.to_exact_f64() {
            w.f64(f);
            return Ok(());
        }
    }
    w.str(&n.to_string())
}

pub(super) struct Encoder {
    pub(super) w: Writer,
    path: Vec<PathStep>,
    depth: usize,
}

impl Encoder {
    pub(super) fn new() -> Encoder {
        Encoder {
            w: Writer::default(),
            path: Vec::new(),
            depth: 0,
        }
    }

    #[cold]
    #[inline(never)]
    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::encode(Path(self.path.clone()), message)
    }

    #[cold]
    #[inline(never)]
    fn wire(&self, e: WireError) -> CtyError {
        self.err(e.message())
    }

    #[cold]
    #[inline(never)]
    fn mismatch(&self, v: &Value, ty: &Type) -> CtyError {
        self.err(format!(
            "{} value given where {} is required",
            v.kind_name(),
            ty.friendly_name()
        ))
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
    ///
    /// As in the decoder, the recursive path keeps small stack frames (error formatting is in cold
    /// functions) so that [`MAX_DEPTH`] levels fit a 2 MiB stack even in debug builds.
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
                self.w.nil();
                Ok(())
            }
            (Value::Unknown(r), _) => unknown::write(&mut self.w, r, ty).map_err(|e| self.wire(e)),
            (Value::Dynamic(inner_ty, inner), _) if inner_ty == ty => self.value(inner, ty),
            // Lists and sets share the array encoding; accept either variant for either type.
            (Value::List(items) | Value::Set(items), Type::List(ety) | Type::Set(ety)) => {
                self.elements(items, ety)
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
        match (v, ty) {
            (Value::String(s), Type::String) => self.w.str(s).map_err(|e| self.wire(e)),
            (Value::Number(n), Type::Number) => {
                write_number(&mut self.w, n).map_err(|e| self.wire(e))
            }
            (Value::Bool(b), Type::Bool) => {
                self.w.bool(*b);
                Ok(())
            }
            (v, ty) => Err(self.mismatch(v, ty)),
        }
    }

    #[inline(never)]
    fn dynamic(&mut self, v: &Value) -> Result<(), CtyError> {
        match v {
            Value::Null => {
                self.w.nil();
                Ok(())
            }
            // go-cty never refines unknowns of dynamic type.
            Value::Unknown(_) => {
                unknown::write(&mut self.w, &Default::default(), &Type::Dynamic)
                    .map_err(|e| self.wire(e))
            }
            Value::Dynamic(inner_ty, inner) => {
                self.w.array_len(2).map_err(|e| self.wire(e))?;
                self.w
                    .bin(&inner_ty.to_json_bytes())
                    .map_err(|e| self.wire(e))?;
                self.value(inner, inner_ty)
            }
            other => Err(self.err(format!(
                "a known {} value at a dynamic position must be wrapped in Value::Dynamic with its type",
                other.kind_name()
            ))),
        }
    }

    #[inline(never)]
    fn elements(&mut self, items: &[Value], ety: &Type) -> Result<(), CtyError> {
        self.w.array_len(items.len()).map_err(|e| self.wire(e))?;
        for (i, item) in items.iter().enumerate() {
            self.nested(PathStep::Index(i as u64), item, ety)?;
        }
        Ok(())
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
        self.w.array_len(items.len()).map_err(|e| self.wire(e))?;
        for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
            self.nested(PathStep::Index(i as u64), item, ety)?;
        }
        Ok(())
    }

    #[inline(never)]
    fn map(&mut self, elems: &BTreeMap<String, Value>, ety: &Type) -> Result<(), CtyError> {
        self.w.map_len(elems.len()).map_err(|e| self.wire(e))?;
        for (k, elem) in elems {
            self.w.str(k).map_err(|e| self.wire(e))?;
            self.nested(PathStep::Key(k.clone()), elem, ety)?;
        }
        Ok(())
    }

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
        // Every attribute of the type is written, in name order; missing ones as null.
        self.w.map_len(attrs.len()).map_err(|e| self.wire(e))?;
        for (name, aty) in attrs {
            self.w.str(name).map_err(|e| self.wire(e))?;
            let v = vals.get(name).unwrap_or(&Value::Null);
            self.nested(PathStep::Attr(name.clone()), v, aty)?;
        }
        Ok(())
    }
}
