//! JSON codec: round trips, exact text, tolerant decoding of old raw state, hostile input.

use std::collections::BTreeMap;

use super::{decode, encode};
use crate::cty::{Number, Refinements, Type, Value, MAX_DEPTH};

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn text(v: &Value, ty: &Type) -> String {
    String::from_utf8(encode(v, ty).unwrap()).unwrap()
}

fn schema() -> Type {
    Type::object([
        ("id", Type::String),
        ("size", Type::Number),
        ("enabled", Type::Bool),
        (
            "disks",
            Type::list(Type::object([
                ("format", Type::String),
                ("size", Type::Number),
            ])),
        ),
        ("zones", Type::set(Type::String)),
        ("tags", Type::map(Type::String)),
        ("pair", Type::Tuple(vec![Type::String, Type::Number])),
        ("extra", Type::Dynamic),
    ])
}

fn sample() -> Value {
    Value::object([
        ("id", Value::string("img-\"1\"")),
        ("size", num("123456789012345678901234567890.5")),
        ("enabled", Value::Bool(false)),
        (
            "disks",
            Value::List(vec![Value::object([
                ("format", Value::string("qcow2")),
                ("size", num("0.1")),
            ])]),
        ),
        (
            "zones",
            Value::Set(vec![Value::string("b"), Value::string("a")]),
        ),
        ("tags", Value::map([("k", Value::string("v"))])),
        ("pair", Value::Tuple(vec![Value::string("x"), num("-1e-3")])),
        (
            "extra",
            Value::Dynamic(
                Type::map(Type::Bool),
                Box::new(Value::map([("t", Value::Bool(true))])),
            ),
        ),
    ])
}

#[test]
fn exact_text_and_round_trip() {
    let ty = schema();
    let v = sample();
    let out = text(&v, &ty);
    assert_eq!(
        out,
        concat!(
            r#"{"disks":[{"format":"qcow2","size":0.1}],"enabled":false,"#,
            r#""extra":{"value":{"t":true},"type":["map","bool"]},"id":"img-\"1\"","#,
            r#""pair":["x",-0.001],"size":123456789012345678901234567890.5,"#,
            r#""tags":{"k":"v"},"zones":["b","a"]}"#
        )
    );
    assert_eq!(decode(out.as_bytes(), &ty).unwrap(), v);
}

#[test]
fn nulls_and_missing_attributes() {
    let ty = schema();
    let v = Value::object([("id", Value::string("a"))]);
    let out = text(&v, &ty);
    assert_eq!(
        out,
        r#"{"disks":null,"enabled":null,"extra":null,"id":"a","pair":null,"size":null,"tags":null,"zones":null}"#
    );
    let back = decode(out.as_bytes(), &ty).unwrap();
    assert_eq!(back.get_attr("size"), Some(&Value::Null));
    assert_eq!(text(&Value::Null, &ty), "null");
    assert_eq!(decode(b"null", &ty).unwrap(), Value::Null);
}

#[test]
fn tolerant_decoding_of_old_state() {
    let ty = Type::object([
        ("id", Type::String),
        ("size", Type::Number),
        ("new_attr", Type::Bool),
    ]);
    // An attribute removed from the schema is ignored; one added later is null.
    let old = br#"{"id":"x","size":"42","removed":{"deep":[1,2]}}"#;
    let v = decode(old, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([
            ("id", Value::string("x")),
            ("size", num("42")),
            ("new_attr", Value::Null),
        ])
    );
}

#[test]
fn primitive_conversions_like_go_cty() {
    assert_eq!(
        decode(b"12.50", &Type::String).unwrap(),
        Value::string("12.50")
    );
    assert_eq!(
        decode(b"true", &Type::String).unwrap(),
        Value::string("true")
    );
    assert_eq!(decode(br#""1e2""#, &Type::Number).unwrap(), num("100"));
    assert_eq!(
        decode(br#""true""#, &Type::Bool).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(decode(br#""0""#, &Type::Bool).unwrap(), Value::Bool(false));
    assert!(decode(br#""yes""#, &Type::Bool).is_err());
    assert!(decode(b"[]", &Type::String).is_err());
    assert!(decode(b"{}", &Type::list(Type::String)).is_err());
}

#[test]
fn big_numbers_stay_exact() {
    for literal in [
        "18446744073709551616",
        "-98765432109876543210.123456789012345678901",
        "0.1",
        "1e400",
        "-2.5e-300",
    ] {
        let v = decode(literal.as_bytes(), &Type::Number).unwrap();
        assert_eq!(v, num(literal));
        let again = decode(&encode(&v, &Type::Number).unwrap(), &Type::Number).unwrap();
        assert_eq!(again, v);
    }
    assert_eq!(text(&num("1e3"), &Type::Number), "1000");
}

#[test]
fn unknowns_cannot_be_encoded() {
    let ty = schema();
    let v = Value::object([(
        "disks",
        Value::List(vec![Value::object([(
            "size",
            Value::Unknown(Refinements::not_null()),
        )])]),
    )]);
    let err = encode(&v, &ty).unwrap_err();
    assert_eq!(err.path().to_string(), "disks[0].size");
}

#[test]
fn dynamic_values() {
    let v = Value::Dynamic(Type::Number, Box::new(num("5")));
    assert_eq!(text(&v, &Type::Dynamic), r#"{"value":5,"type":"number"}"#);
    assert_eq!(
        decode(br#"{"type":"number","value":5}"#, &Type::Dynamic).unwrap(),
        v
    );
    for bad in [
        &br#"{"value":5}"#[..],
        br#"{"type":"number"}"#,
        br#"{"type":"number","value":5,"x":1}"#,
        br#"{"type":"nope","value":5}"#,
        br#"{"type":"number","value":"abc"}"#,
        br#"5"#,
    ] {
        assert!(
            decode(bad, &Type::Dynamic).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(encode(&Value::string("x"), &Type::Dynamic).is_err());
}

#[test]
fn malformed_json_is_an_error_with_path() {
    let ty = schema();
    assert!(decode(b"", &ty).is_err());
    assert!(decode(b"{", &ty).is_err());
    assert!(decode(br#"{"id":"a"} x"#, &ty).is_err());
    let err = decode(br#"{"tags":{"a":[1]}}"#, &ty).unwrap_err();
    assert_eq!(err.path().to_string(), "tags[\"a\"]");
    let err = decode(br#"{"pair":["x"]}"#, &ty).unwrap_err();
    assert_eq!(err.path().to_string(), "pair");
    let out = encode(&sample(), &ty).unwrap();
    for cut in 0..out.len() {
        assert!(decode(&out[..cut], &ty).is_err(), "prefix {cut} decoded");
    }
}

#[test]
fn deep_nesting_is_rejected() {
    let mut ty = Type::String;
    for _ in 0..(MAX_DEPTH + 5) {
        ty = Type::list(ty);
    }
    let deep = format!("{}\"x\"{}", "[".repeat(1000), "]".repeat(1000));
    assert!(decode(deep.as_bytes(), &ty).is_err());
    let mut v = Value::string("x");
    for _ in 0..(MAX_DEPTH + 5) {
        v = Value::List(vec![v]);
    }
    assert!(encode(&v, &ty).is_err());
    let empty: BTreeMap<String, Value> = BTreeMap::new();
    assert_eq!(
        text(
            &Value::Object(empty),
            &Type::object(Vec::<(String, Type)>::new())
        ),
        "{}"
    );
}
