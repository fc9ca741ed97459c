//! cty types and their JSON description (the `type` field of schema attributes).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::error::CtyError;
use super::MAX_DEPTH;

/// A cty type: what a value must look like, and the key to decoding its wire form.
///
/// Wire encodings carry no type information (except at [`Type::Dynamic`] positions), so every
/// encode and decode takes the type from the provider schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// UTF-8 text.
    String,
    /// An arbitrary-precision number.
    Number,
    /// `true` or `false`.
    Bool,
    /// An ordered sequence of elements of one type.
    List(Box<Type>),
    /// An unordered collection of distinct elements of one type.
    Set(Box<Type>),
    /// String-keyed elements of one type.
    Map(Box<Type>),
    /// A fixed set of named attributes, each with its own type; `optional` names attributes that
    /// type conversion may leave out (only meaningful in type constraints).
    Object {
        /// Attribute types by name.
        attrs: BTreeMap<String, Type>,
        /// Names of optional attributes (a subset of `attrs`).
        optional: BTreeSet<String>,
    },
    /// A fixed-length sequence whose positions have their own types.
    Tuple(Vec<Type>),
    /// "Any type": the concrete type travels with the value.
    Dynamic,
}

impl Type {
    /// An object type with the given attributes and no optional ones.
    pub fn object(attrs: impl IntoIterator<Item = (impl Into<String>, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// A list type of `element`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// A set type of `element`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// A map type of `element`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// True for list, set and map types (the kinds that can carry length refinements).
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// A short human description for error messages, e.g. `list of string`.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Object { .. } => "object".into(),
            Type::Tuple(_) => "tuple".into(),
            Type::Dynamic => "dynamic".into(),
        }
    }

    /// The cty type JSON: `"string"`, `["list","string"]`, `["object",{..}]` or
    /// `["object",{..},["opt"]]`, `["tuple",[..]]`, `"dynamic"`. Object attributes are sorted by name.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec!["list".into(), e.to_json()]),
            Type::Set(e) => Json::Array(vec!["set".into(), e.to_json()]),
            Type::Map(e) => Json::Array(vec!["map".into(), e.to_json()]),
            Type::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
            Type::Object { attrs, optional } => {
                let map = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect::<serde_json::Map<_, _>>();
                let mut parts = vec!["object".into(), Json::Object(map)];
                if !optional.is_empty() {
                    parts.push(Json::Array(
                        optional.iter().map(|k| Json::from(k.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
        }
    }

    /// Compact type JSON bytes, as placed in a schema attribute's `type` field and in dynamic values.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing a serde_json::Value into memory cannot fail.
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// Parses cty type JSON (the inverse of [`Type::to_json`]).
    pub fn from_json(v: &Json) -> Result<Type, CtyError> {
        Type::from_json_depth(v, 0)
    }

    /// Parses cty type JSON from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, CtyError> {
        let v: Json = serde_json::from_slice(bytes)
            .map_err(|e| CtyError::bad_type(format!("not JSON: {e}")))?;
        Type::from_json(&v)
    }

    /// Recursive step of [`Type::from_json`]; kept to small frames (errors built in cold helpers) so
    /// that [`MAX_DEPTH`] levels fit a 2 MiB stack in debug builds.
    fn from_json_depth(v: &Json, depth: usize) -> Result<Type, CtyError> {
        if depth > MAX_DEPTH {
            return Err(type_error("type is nested too deeply"));
        }
        match v {
            Json::String(name) => Type::primitive_from_name(name),
            Json::Array(parts) => Type::complex_from_json(parts, depth),
            _ => Err(type_error("a type must be a string or an array")),
        }
    }

    fn primitive_from_name(name: &str) -> Result<Type, CtyError> {
        match name {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(type_error(format!("invalid primitive type name {other:?}"))),
        }
    }

    #[inline(never)]
    fn complex_from_json(parts: &[Json], depth: usize) -> Result<Type, CtyError> {
        let (kind, arg, extra) =
            match parts {
                [Json::String(kind), arg] => (kind.as_str(), arg, None),
                [Json::String(kind), arg, extra] => (kind.as_str(), arg, Some(extra)),
                _ => return Err(type_error(
                    "a complex type must be [kind, argument] (objects may add optional attributes)",
                )),
            };
        match (kind, extra) {
            ("list", None) => Ok(Type::List(Box::new(Type::from_json_depth(arg, depth + 1)?))),
            ("set", None) => Ok(Type::Set(Box::new(Type::from_json_depth(arg, depth + 1)?))),
            ("map", None) => Ok(Type::Map(Box::new(Type::from_json_depth(arg, depth + 1)?))),
            ("tuple", None) => Type::tuple_from_json(arg, depth),
            ("object", extra) => Type::object_from_json(arg, extra, depth),
            _ => Err(type_error(format!(
                "invalid complex type description of kind {kind:?}"
            ))),
        }
    }

    #[inline(never)]
    fn tuple_from_json(arg: &Json, depth: usize) -> Result<Type, CtyError> {
        let Json::Array(elems) = arg else {
            return Err(type_error("tuple element types must be an array"));
        };
        let mut types = Vec::with_capacity(elems.len());
        for e in elems {
            types.push(Type::from_json_depth(e, depth + 1)?);
        }
        Ok(Type::Tuple(types))
    }

    #[inline(never)]
    fn object_from_json(arg: &Json, extra: Option<&Json>, depth: usize) -> Result<Type, CtyError> {
        let Json::Object(map) = arg else {
            return Err(type_error("object attribute types must be a JSON object"));
        };
        let mut attrs = BTreeMap::new();
        for (k, t) in map {
            attrs.insert(k.clone(), Type::from_json_depth(t, depth + 1)?);
        }
        let mut optional = BTreeSet::new();
        if let Some(extra) = extra {
            let Json::Array(names) = extra else {
                return Err(type_error("optional attributes must be an array"));
            };
            for name in names {
                let Json::String(name) = name else {
                    return Err(type_error("optional attribute names must be strings"));
                };
                if !attrs.contains_key(name) {
                    return Err(type_error(format!(
                        "optional attribute {name:?} is not an attribute"
                    )));
                }
                optional.insert(name.clone());
            }
        }
        Ok(Type::Object { attrs, optional })
    }
}

#[cold]
#[inline(never)]
fn type_error(message: impl Into<String>) -> CtyError {
    CtyError::bad_type(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Type {
        Type::Object {
            attrs: [
                ("name".to_string(), Type::String),
                (
                    "disks".to_string(),
                    Type::list(Type::object([("size", Type::Number)])),
                ),
                ("tags".to_string(), Type::map(Type::String)),
                ("ids".to_string(), Type::set(Type::Number)),
                (
                    "pair".to_string(),
                    Type::Tuple(vec![Type::Bool, Type::Dynamic]),
                ),
            ]
            .into_iter()
            .collect(),
            optional: ["tags".to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn json_bytes_are_compact_and_sorted() {
        assert_eq!(Type::String.to_json_bytes(), b"\"string\"");
        assert_eq!(
            Type::list(Type::String).to_json_bytes(),
            br#"["list","string"]"#
        );
        let t = Type::object([("b", Type::Bool), ("a", Type::Number)]);
        assert_eq!(
            t.to_json_bytes(),
            br#"["object",{"a":"number","b":"bool"}]"#
        );
        assert_eq!(
            sample().to_json_bytes(),
            br#"["object",{"disks":["list",["object",{"size":"number"}]],"ids":["set","number"],"name":"string","pair":["tuple",["bool","dynamic"]],"tags":["map","string"]},["tags"]]"#
        );
    }

    #[test]
    fn json_round_trip() {
        let t = sample();
        assert_eq!(Type::from_json_bytes(&t.to_json_bytes()).unwrap(), t);
        assert_eq!(
            Type::from_json(&Json::from("dynamic")).unwrap(),
            Type::Dynamic
        );
    }

    #[test]
    fn rejects_malformed_types() {
        for bad in [
            r#""str""#,
            r#"["list"]"#,
            r#"["list","string","x"]"#,
            r#"["object",["a"]]"#,
            r#"["object",{"a":"string"},["b"]]"#,
            r#"["tuple","string"]"#,
            r#"["bag","string"]"#,
            r#"[]"#,
            r#"42"#,
            r#"{"a":1}"#,
        ] {
            assert!(
                Type::from_json_bytes(bad.as_bytes()).is_err(),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn deep_type_is_rejected_not_overflowed() {
        let mut v = Json::from("string");
        for _ in 0..(MAX_DEPTH + 10) {
            v = Json::Array(vec!["list".into(), v]);
        }
        assert!(Type::from_json(&v).is_err());
    }
}
