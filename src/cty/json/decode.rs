//! JSON -> Value, following go-cty's `json.Unmarshal`, but ignoring unknown object properties.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::cty::{CtyError, Number, Path, PathStep, Type, Value, MAX_DEPTH};

#[derive(Default)]
pub(super) struct Decoder {
    path: Vec<PathStep>,
    depth: usize,
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

impl Decoder {
    #[cold]
    #[inline(never)]
    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::decode(Path(self.path.clone()), message)
    }

    #[cold]
    #[inline(never)]
    fn required(&self, what: &str, j: &Json) -> CtyError {
        self.err(format!("{what} is required, found {}", kind(j)))
    }

    #[inline(never)]
    fn nested(&mut self, step: PathStep, j: &Json, ty: &Type) -> Result<Value, CtyError> {
        self.path.push(step);
        let v = self.value(j, ty);
        if v.is_ok() {
            self.path.pop();
        }
        v
    }

    fn number(&self, text: &str) -> Result<Value, CtyError> {
        Number::parse(text)
            .map(Value::Number)
            .map_err(|e| e.at_path(Path(self.path.clone())))
    }

    /// Decodes one JSON value as type `ty` (small frames on the recursive path, as in msgpack).
    pub(super) fn value(&mut self, j: &Json, ty: &Type) -> Result<Value, CtyError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("value is nested too deeply"));
        }
        self.depth += 1;
        let v = self.value_inner(j, ty);
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self, j: &Json, ty: &Type) -> Result<Value, CtyError> {
        match (ty, j) {
            (_, Json::Null) => Ok(Value::Null),
            (Type::Dynamic, j) => self.dynamic(j),
            (Type::List(ety), Json::Array(items)) => self.elements(items, ety, false),
            (Type::Set(ety), Json::Array(items)) => self.elements(items, ety, true),
            (Type::Tuple(etys), Json::Array(items)) => self.tuple(items, etys),
            (Type::Map(ety), Json::Object(props)) => self.map(props, ety),
            (Type::Object { attrs, .. }, Json::Object(props)) => self.object(props, attrs),
            (ty, j) => self.primitive(j, ty),
        }
    }

    #[inline(never)]
    fn primitive(&mut self, j: &Json, ty: &Type) -> Result<Value, CtyError> {
        match (ty, j) {
            (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
            // With arbitrary_precision this is the number's original text.
            (Type::String, Json::Number(n)) => Ok(Value::String(n.to_string())),
            (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::Number, Json::Number(n)) => self.number(&n.to_string()),
            (Type::Number, Json::String(s)) => self.number(s),
            (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Bool, Json::String(s)) if s == "true" || s == "1" => Ok(Value::Bool(true)),
            (Type::Bool, Json::String(s)) if s == "false" || s == "0" => Ok(Value::Bool(false)),
            (Type::String, j) => Err(self.required("string", j)),
            (Type::Number, j) => Err(self.required("number", j)),
            (Type::Bool, j) => Err(self.required("bool", j)),
            (Type::List(_) | Type::Set(_) | Type::Tuple(_), j) => Err(self.required("an array", j)),
            (Type::Map(_) | Type::Object { .. }, j) => Err(self.required("an object", j)),
            (Type::Dynamic, j) => self.dynamic(j),
        }
    }

    #[inline(never)]
    fn elements(&mut self, items: &[Json], ety: &Type, set: bool) -> Result<Value, CtyError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.nested(PathStep::Index(i as u64), item, ety)?);
        }
        Ok(if set {
            Value::Set(out)
        } else {
            Value::List(out)
        })
    }

    #[inline(never)]
    fn tuple(&mut self, items: &[Json], etys: &[Type]) -> Result<Value, CtyError> {
        if items.len() != etys.len() {
            return Err(self.err(format!(
                "a tuple of {} elements is required ({} given)",
                etys.len(),
                items.len()
            )));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
            out.push(self.nested(PathStep::Index(i as u64), item, ety)?);
        }
        Ok(Value::Tuple(out))
    }

    #[inline(never)]
    fn map(
        &mut self,
        props: &serde_json::Map<String, Json>,
        ety: &Type,
    ) -> Result<Value, CtyError> {
        let mut out = BTreeMap::new();
        for (k, item) in props {
            let v = self.nested(PathStep::Key(k.clone()), item, ety)?;
            out.insert(k.clone(), v);
        }
        Ok(Value::Map(out))
    }

    /// Every attribute of the type, null when absent; properties the type lacks are ignored.
    #[inline(never)]
    fn object(
        &mut self,
        props: &serde_json::Map<String, Json>,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<Value, CtyError> {
        let mut out = BTreeMap::new();
        for (name, aty) in attrs {
            let v = match props.get(name) {
                Some(item) => self.nested(PathStep::Attr(name.clone()), item, aty)?,
                None => Value::Null,
            };
            out.insert(name.clone(), v);
        }
        Ok(Value::Object(out))
    }

    /// A dynamic position: `{"value": .., "type": ..}` (no other properties).
    #[inline(never)]
    fn dynamic(&mut self, j: &Json) -> Result<Value, CtyError> {
        let Json::Object(props) = j else {
            return Err(self.required("a {\"value\", \"type\"} object", j));
        };
        if let Some(extra) = props.keys().find(|k| *k != "value" && *k != "type") {
            return Err(self.err(format!("invalid key {extra:?} in dynamically-typed value")));
        }
        let type_json = props
            .get("type")
            .ok_or_else(|| self.err("missing type in dynamically-typed value"))?;
        let value_json = props
            .get("value")
            .ok_or_else(|| self.err("missing value in dynamically-typed value"))?;
        let ty = Type::from_json(type_json).map_err(|e| e.at_path(Path(self.path.clone())))?;
        let inner = self.value(value_json, &ty)?;
        Ok(Value::Dynamic(ty, Box::new(inner)))
    }
}
