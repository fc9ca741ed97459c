//! cty values: what configuration, plans and state are made of.

use std::collections::BTreeMap;

use super::number::Number;
use super::path::{Path, PathStep};
use super::types::Type;

/// What Terraform already knows about a value that is not known yet (msgpack extension 12).
///
/// The default is a plain unknown with no refinements. Only the refinements that fit the value's type
/// are put on the wire: `string_prefix` for strings, number bounds for numbers, length bounds for
/// lists, sets and maps; `not_null` for any type except dynamic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Refinements {
    /// The final value is definitely not null.
    pub not_null: bool,
    /// The final string starts with this text.
    pub string_prefix: Option<String>,
    /// Lower bound of the final number and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of the final number and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Inclusive lower bound of the final collection length.
    pub length_lower: Option<u64>,
    /// Inclusive upper bound of the final collection length.
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// True when nothing is refined (a plain unknown).
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }

    /// Refinements saying only "definitely not null".
    pub fn not_null() -> Refinements {
        Refinements {
            not_null: true,
            ..Refinements::default()
        }
    }
}

/// A cty value. Values do not carry their type (except [`Value::Dynamic`]); the schema supplies it.
///
/// `Null` is untyped: it is the null of whatever type the position has.
#[derive(Clone, Debug)]
pub enum Value {
    /// The null value of the position's type.
    Null,
    /// A value that will only be known after apply, with what is already known about it.
    Unknown(Refinements),
    /// A known bool.
    Bool(bool),
    /// A known number.
    Number(Number),
    /// A known string.
    String(String),
    /// A list, in order.
    List(Vec<Value>),
    /// A set; element order carries no meaning.
    Set(Vec<Value>),
    /// A map by key.
    Map(BTreeMap<String, Value>),
    /// An object by attribute name.
    Object(BTreeMap<String, Value>),
    /// A tuple, in order.
    Tuple(Vec<Value>),
    /// A known value that stood at a DynamicPseudoType position: it carries its concrete type.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// A plain unknown value.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A number value.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// An object value from attribute pairs.
    pub fn object(attrs: impl IntoIterator<Item = (impl Into<String>, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map value from key/element pairs.
    pub fn map(elems: impl IntoIterator<Item = (impl Into<String>, Value)>) -> Value {
        Value::Map(elems.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The kind of value, for error messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic",
        }
    }

    /// The value itself, or the value inside a [`Value::Dynamic`] wrapper.
    pub fn unwrap_dynamic(&self) -> &Value {
        match self {
            Value::Dynamic(_, inner) => inner.unwrap_dynamic(),
            other => other,
        }
    }

    /// True for null (also when wrapped in `Dynamic`).
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// False for an unknown value; true otherwise (containers may still hold unknowns).
    pub fn is_known(&self) -> bool {
        !matches!(self.unwrap_dynamic(), Value::Unknown(_))
    }

    /// True when neither the value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
        }
    }

    /// The text of a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The attributes of a known object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The elements of a known list, set or tuple (all three are sequences on the wire, and nested
    /// blocks may use either lists or sets).
    pub fn as_list(&self) -> Option<&Vec<Value>> {
        match self.unwrap_dynamic() {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The elements of a known map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// One attribute of a known object; `None` if this is not an object or lacks the attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_object()?.get(name)
    }

    /// The nested value at `path`: attributes of objects, keys of maps, indexes of lists/sets/tuples.
    pub fn get_path(&self, path: &Path) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match step {
                PathStep::Attr(name) => cur.get_attr(name)?,
                PathStep::Key(key) => cur.as_map()?.get(key)?,
                PathStep::Index(i) => cur.as_list()?.get(usize::try_from(*i).ok()?)?,
            };
        }
        Some(cur)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::from_i64(n))
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(Number::from_u64(n))
    }
}

/// Semantic equality: numbers compare numerically, sets ignore order (multiset comparison), unknowns
/// are equal when their refinements are, dynamic wrappers need equal types and equal contents.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => same_elements(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

/// Multiset equality without requiring an order or hash on values.
fn same_elements(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .enumerate()
            .find(|(i, y)| !used[*i] && x == *y)
            .map(|(i, _)| i);
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap())
    }

    #[test]
    fn equality_is_semantic() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(
            Value::Set(vec![n("1"), n("2"), n("2")]),
            Value::Set(vec![n("2"), n("1"), n("2.0")])
        );
        assert_ne!(
            Value::Set(vec![n("1"), n("2"), n("2")]),
            Value::Set(vec![n("1"), n("1"), n("2")])
        );
        assert_ne!(
            Value::List(vec![n("1"), n("2")]),
            Value::List(vec![n("2"), n("1")])
        );
        assert_eq!(Value::unknown(), Value::unknown());
        assert_ne!(Value::unknown(), Value::Unknown(Refinements::not_null()));
        assert_ne!(Value::Null, Value::unknown());
        assert_ne!(Value::List(vec![]), Value::Set(vec![]));
    }

    #[test]
    fn knownness() {
        let v = Value::object([
            ("a", Value::List(vec![Value::unknown()])),
            ("b", Value::Null),
        ]);
        assert!(v.is_known());
        assert!(!v.is_wholly_known());
        assert!(!Value::unknown().is_known());
        assert!(Value::Null.is_known() && Value::Null.is_null());
        let d = Value::Dynamic(Type::String, Box::new(Value::Null));
        assert!(d.is_null());
    }

    #[test]
    fn accessors_and_paths() {
        let v = Value::object([
            (
                "data_disks",
                Value::List(vec![Value::object([("format", Value::string("raw"))])]),
            ),
            ("tags", Value::map([("a", Value::string("x"))])),
            ("size", Value::from(3i64)),
            ("on", Value::from(true)),
            (
                "any",
                Value::Dynamic(Type::String, Box::new(Value::string("dyn"))),
            ),
        ]);
        let p = Path::root().attr("data_disks").index(0).attr("format");
        assert_eq!(v.get_path(&p).and_then(Value::as_str), Some("raw"));
        let p = Path::root().attr("tags").key("a");
        assert_eq!(v.get_path(&p).and_then(Value::as_str), Some("x"));
        assert_eq!(v.get_path(&Path::root().attr("nope")), None);
        assert_eq!(v.get_path(&Path::root().attr("data_disks").index(5)), None);
        assert_eq!(
            v.get_attr("size")
                .and_then(Value::as_number)
                .and_then(Number::to_i64),
            Some(3)
        );
        assert_eq!(v.get_attr("on").and_then(Value::as_bool), Some(true));
        assert_eq!(v.get_attr("any").and_then(Value::as_str), Some("dyn"));
        assert!(v.as_map().is_none());
        assert!(v.get_attr("tags").and_then(Value::as_map).is_some());
        assert_eq!(v.get_path(&Path::root()), Some(&v));
    }
}
