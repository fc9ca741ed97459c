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
    fn err(&self, message: impl Into<String>) -> CtyError {
        CtyError::decode(Path(self.path.clone()), message)
    }

    fn required(&self, what: &str, j: &Json) -> CtyError {
        self.err(format!("{what} is required, found {}", kind(j)))
    }

    fn nested(&mut self, step: PathStep, j: &Json, ty: &Type) -> Result<Value, CtyError> {
        self.path.push(step);
        let v = self.value(j, ty)?;
        self.path.pop();
        Ok(v)
    }

    fn number(&self, text: &str) -> Result<Value, CtyError> {
        Number::parse(text)
            .map(Value::Number)
            .map_err(|e| e.at_path(Path(self.path.clone())))
    }

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
        if j.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::String => match j {
                Json::String(s) => Ok(Value::String(s.clone())),
                // With arbitrary_precision this is the number's original text.
                Json::Number(n) => Ok(Value::String(n.to_string())),
                Json::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(self.required("string", other)),
            },
            Type::Number => match j {
                Json::Number(n) => self.number(&n.to_string()),
                Json::String(s) => self.number(s),
                other => Err(self.required("number", other)),
            },
            Type::Bool => match j {
                Json::Bool(b) => Ok(Value::Bool(*b)),
                Json::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
                Json::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
                other => Err(self.required("bool", other)),
            },
            Type::List(ety) | Type::Set(ety) => {
                let Json::Array(items) = j else {
                    return Err(self.required("an array", j));
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.nested(PathStep::Index(i as u64), item, ety)?);
                }
                Ok(if matches!(ty, Type::List(_)) {
                    Value::List(out)
                } else {
                    Value::Set(out)
                })
            }
            Type::Tuple(etys) => {
                let Json::Array(items) = j else {
                    return Err(self.required("an array", j));
                };
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
            Type::Map(ety) => {
                let Json::Object(props) = j else {
                    return Err(self.required("an object", j));
                };
                let mut out = BTreeMap::new();
                for (k, item) in props {
                    let v = self.nested(PathStep::Key(k.clone()), item, ety)?;
                    out.insert(k.clone(), v);
                }
                Ok(Value::Map(out))
            }
            Type::Object { attrs, .. } => {
                let Json::Object(props) = j else {
                    return Err(self.required("an object", j));
                };
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
            Type::Dynamic => self.dynamic(j),
        }
    }

    /// A dynamic position: `{"value": .., "type": ..}` (no other properties).
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
