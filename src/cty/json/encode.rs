//! Value -> JSON text, following go-cty's `json.Marshal`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::cty::{CtyError, Path, PathStep, Type, Value, MAX_DEPTH};

#[derive(Default)]
pub(super) struct Encoder {
    pub(super) out: String,
    path: Vec<PathStep>,
    depth: usize,
}

impl Encoder {
    #[cold]
    #[inline(never)]
    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::encode(Path(self.path.clone()), message)
    }

    fn string(&mut self, s: &str) -> Result<(), CtyError> {
        let quoted = serde_json::to_string(s).map_err(|e| self.err(e.to_string()))?;
        self.out.push_str(&quoted);
        Ok(())
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

    /// Encodes one value as type `ty` (small frames on the recursive path, as in msgpack).
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
            (Value::Unknown(_), _) => {
                Err(self.err("value is not known; JSON cannot represent unknown values"))
            }
            (v, Type::Dynamic) => self.dynamic(v),
            (Value::Null, _) => {
                self.out.push_str("null");
                Ok(())
            }
            (Value::Dynamic(inner_ty, inner), _) if inner_ty == ty => self.value(inner, ty),
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
        match (v, ty) {
            (Value::String(s), Type::String) => self.string(s),
            (Value::Number(n), Type::Number) => {
                let _ = write!(self.out, "{n}");
                Ok(())
            }
            (Value::Bool(b), Type::Bool) => {
                self.out.push_str(if *b { "true" } else { "false" });
                Ok(())
            }
            (v, ty) => Err(self.err(format!(
                "{} value given where {} is required",
                v.kind_name(),
                ty.friendly_name()
            ))),
        }
    }

    #[inline(never)]
    fn dynamic(&mut self, v: &Value) -> Result<(), CtyError> {
        match v {
            Value::Null => {
                self.out.push_str("null");
                Ok(())
            }
            Value::Dynamic(inner_ty, inner) => {
                self.out.push_str("{\"value\":");
                self.value(inner, inner_ty)?;
                self.out.push_str(",\"type\":");
                let type_json = serde_json::to_string(&inner_ty.to_json())
                    .map_err(|e| self.err(e.to_string()))?;
                self.out.push_str(&type_json);
                self.out.push('}');
                Ok(())
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
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.nested(PathStep::Index(i as u64), item, types(i))?;
        }
        self.out.push(']');
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
        self.elements(items, &mut |i| &etys[i])
    }

    #[inline(never)]
    fn map(&mut self, elems: &BTreeMap<String, Value>, ety: &Type) -> Result<(), CtyError> {
        self.out.push('{');
        for (i, (k, elem)) in elems.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(k)?;
            self.out.push(':');
            self.nested(PathStep::Key(k.clone()), elem, ety)?;
        }
        self.out.push('}');
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
        self.out.push('{');
        for (i, (name, aty)) in attrs.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(name)?;
            self.out.push(':');
            let v = vals.get(name).unwrap_or(&Value::Null);
            self.nested(PathStep::Attr(name.clone()), v, aty)?;
        }
        self.out.push('}');
        Ok(())
    }
}
