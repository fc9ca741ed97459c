//! Round trips, exact bytes checked by hand against go-cty's rules, and hostile input.

use std::collections::{BTreeMap, BTreeSet};

use super::{decode, encode};
use crate::cty::{Number, Path, Refinements, Type, Value, MAX_DEPTH};

fn num(s: &str) -> Number {
    Number::parse(s).unwrap()
}

fn round_trip(v: &Value, ty: &Type) -> Vec<u8> {
    let bytes = encode(v, ty).unwrap();
    let back = decode(&bytes, ty).unwrap();
    assert_eq!(&back, v, "round trip of {v:?} as {ty:?}");
    bytes
}

/// A schema-like type using every kind of type.
fn everything_type() -> Type {
    Type::Object {
        attrs: BTreeMap::from([
            ("name".to_string(), Type::String),
            ("size".to_string(), Type::Number),
            ("enabled".to_string(), Type::Bool),
            (
                "data_disks".to_string(),
                Type::list(Type::object([
                    ("format", Type::String),
                    ("size", Type::Number),
                ])),
            ),
            ("zones".to_string(), Type::set(Type::String)),
            ("tags".to_string(), Type::map(Type::String)),
            (
                "pair".to_string(),
                Type::Tuple(vec![Type::Number, Type::Bool]),
            ),
            ("extra".to_string(), Type::Dynamic),
            ("note".to_string(), Type::String),
        ]),
        optional: BTreeSet::from(["note".to_string()]),
    }
}

fn everything_value() -> Value {
    Value::object([
        ("name", Value::string("img-1")),
        (
            "size",
            Value::number(num("123456789012345678901234567890.5")),
        ),
        ("enabled", Value::Bool(true)),
        (
            "data_disks",
            Value::List(vec![
                Value::object([
                    ("format", Value::string("raw")),
                    ("size", Value::from(20i64)),
                ]),
                Value::object([("format", Value::Null), ("size", Value::unknown())]),
            ]),
        ),
        (
            "zones",
            Value::Set(vec![Value::string("b"), Value::string("a")]),
        ),
        (
            "tags",
            Value::map([("k", Value::string("v")), ("e", Value::string(""))]),
        ),
        (
            "pair",
            Value::Tuple(vec![Value::number(num("-0.25")), Value::Bool(false)]),
        ),
        (
            "extra",
            Value::Dynamic(
                Type::list(Type::Number),
                Box::new(Value::List(vec![
                    Value::from(1i64),
                    Value::number(num("1e400")),
                ])),
            ),
        ),
        ("note", Value::Null),
    ])
}

#[test]
fn round_trips_every_type() {
    round_trip(&everything_value(), &everything_type());
    round_trip(&Value::Null, &everything_type());
    round_trip(&Value::unknown(), &everything_type());
    round_trip(&Value::string("héllo"), &Type::String);
    round_trip(&Value::string("x".repeat(70_000)), &Type::String);
    round_trip(&Value::Bool(false), &Type::Bool);
    round_trip(&Value::List(vec![]), &Type::list(Type::String));
    round_trip(&Value::Set(vec![]), &Type::set(Type::Number));
    round_trip(&Value::Map(BTreeMap::new()), &Type::map(Type::Bool));
    round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![]));
    round_trip(
        &Value::Object(BTreeMap::new()),
        &Type::object(Vec::<(String, Type)>::new()),
    );
    let many: Vec<Value> = (0..100i64).map(Value::from).collect();
    round_trip(&Value::List(many), &Type::list(Type::Number));
}

#[test]
fn small_object_exact_bytes() {
    // go-cty: a map with every attribute, names sorted, null as nil, 1 as a positive fixint.
    let ty = Type::object([
        ("size", Type::Number),
        ("name", Type::String),
        ("tags", Type::map(Type::String)),
    ]);
    let v = Value::object([("name", Value::string("a")), ("size", Value::from(1i64))]);
    let bytes = encode(&v, &ty).unwrap();
    let mut want = vec![0x83, 0xa4];
    want.extend_from_slice(b"name");
    want.extend_from_slice(&[0xa1, b'a', 0xa4]);
    want.extend_from_slice(b"size");
    want.extend_from_slice(&[0x01, 0xa4]);
    want.extend_from_slice(b"tags");
    want.push(0xc0);
    assert_eq!(bytes, want);
    // Decoding fills the missing attribute back in as null.
    let back = decode(&bytes, &ty).unwrap();
    assert_eq!(back.get_attr("tags"), Some(&Value::Null));
}

#[test]
fn unknown_exact_bytes() {
    assert_eq!(
        encode(&Value::unknown(), &Type::String).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    assert_eq!(
        encode(&Value::unknown(), &Type::Dynamic).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    // Refinements that do not apply to the type are not written.
    let prefix_on_number = Value::Unknown(Refinements {
        string_prefix: Some("ab".into()),
        ..Default::default()
    });
    assert_eq!(
        encode(&prefix_on_number, &Type::Number).unwrap(),
        [0xd4, 0x00, 0x00]
    );
    // Not-null alone: ext8 len 3 code 12, map {1: false}.
    let nn = Value::Unknown(Refinements::not_null());
    assert_eq!(
        round_trip(&nn, &Type::String),
        [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]
    );
    // Dynamic unknowns never carry refinements.
    assert_eq!(encode(&nn, &Type::Dynamic).unwrap(), [0xd4, 0x00, 0x00]);
}

#[test]
fn refined_unknown_exact_bytes() {
    let s = Value::Unknown(Refinements {
        not_null: true,
        string_prefix: Some("ab".into()),
        ..Default::default()
    });
    assert_eq!(
        round_trip(&s, &Type::String),
        [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b']
    );
    let n = Value::Unknown(Refinements {
        not_null: true,
        number_lower: Some((num("0"), true)),
        number_upper: Some((num("10"), false)),
        ..Default::default()
    });
    assert_eq!(
        round_trip(&n, &Type::Number),
        [0xc7, 0x0b, 0x0c, 0x83, 0x01, 0xc2, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0x0a, 0xc2]
    );
    let l = Value::Unknown(Refinements {
        length_lower: Some(1),
        length_upper: Some(5),
        ..Default::default()
    });
    assert_eq!(
        round_trip(&l, &Type::list(Type::String)),
        [0xc7, 0x05, 0x0c, 0x82, 0x05, 0x01, 0x06, 0x05]
    );
    // A payload of exactly 4 bytes uses fixext4.
    let m = Value::Unknown(Refinements {
        length_upper: Some(3),
        ..Default::default()
    });
    let prefix = Value::Unknown(Refinements {
        string_prefix: Some("x".into()),
        ..Default::default()
    });
    assert_eq!(
        round_trip(&prefix, &Type::String),
        [0xd6, 0x0c, 0x81, 0x02, 0xa1, b'x']
    );
    round_trip(&m, &Type::map(Type::Number));
    round_trip(&Value::Unknown(Refinements::not_null()), &everything_type());
}

#[test]
fn refined_unknown_decoding_rules() {
    let ty = Type::String;
    // Any extension is unknown; only code 12 payloads are read.
    for bytes in [
        &[0xd4, 0x00, 0x00][..],
        &[0xc7, 0x00, 0x00],
        &[0xd4, 0x0c, 0x00],
        &[0xd5, 0x05, 0x01, 0x02],
        &[0xc7, 0x03, 0x07, 0x81, 0x01, 0xc2],
    ] {
        assert_eq!(decode(bytes, &ty).unwrap(), Value::unknown(), "{bytes:x?}");
    }
    // Unknown keys are skipped (even with nested values), known ones still apply; trailing ignored.
    let bytes = [
        0xc7, 0x09, 0x0c, 0x82, 0x09, 0x81, 0xa1, b'k', 0x90, 0x01, 0xc2, 0xff,
    ];
    assert_eq!(
        decode(&bytes, &ty).unwrap(),
        Value::Unknown(Refinements::not_null())
    );
    // Definitely null collapses to null.
    assert_eq!(
        decode(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3], &ty).unwrap(),
        Value::Null
    );
    // Equal inclusive bounds on a not-null number collapse to that number.
    let bytes = [
        0xc7, 0x0b, 0x0c, 0x83, 0x01, 0xc2, 0x03, 0x92, 0x07, 0xc3, 0x04, 0x92, 0x07, 0xc3,
    ];
    assert_eq!(decode(&bytes, &Type::Number).unwrap(), Value::from(7i64));
    // A not-null collection with at most zero elements is the empty collection.
    let bytes = [0xc7, 0x05, 0x0c, 0x82, 0x01, 0xc2, 0x06, 0x00];
    assert_eq!(
        decode(&bytes, &Type::set(Type::String)).unwrap(),
        Value::Set(vec![])
    );
    // Number bounds may use any number encoding; infinite bounds mean no bound.
    let mut bytes = vec![
        0xc7, 0x0f, 0x0c, 0x82, 0x03, 0x92, 0xa3, b'1', b'.', b'5', 0xc2, 0x04, 0x92, 0xcb,
    ];
    bytes.extend_from_slice(&f64::INFINITY.to_be_bytes());
    bytes.push(0xc3);
    bytes[1] = (bytes.len() - 3) as u8;
    assert_eq!(
        decode(&bytes, &Type::Number).unwrap(),
        Value::Unknown(Refinements {
            number_lower: Some((num("1.5"), false)),
            ..Default::default()
        })
    );
    // Refinements on a dynamic position are ignored.
    assert_eq!(
        decode(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &Type::Dynamic).unwrap(),
        Value::unknown()
    );
}

#[test]
fn refined_unknown_rejects_bad_payloads() {
    let bad: &[(&[u8], Type)] = &[
        // string prefix on a number
        (&[0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'x'], Type::Number),
        // length bound on a string
        (&[0xc7, 0x03, 0x0c, 0x81, 0x05, 0x01], Type::String),
        // number bound on a list
        (
            &[0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x01, 0xc3],
            Type::list(Type::Number),
        ),
        // payload not a map
        (&[0xc7, 0x02, 0x0c, 0x91, 0x01], Type::String),
        // nullness not a bool
        (&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0x01], Type::String),
        // non-integer key
        (&[0xc7, 0x04, 0x0c, 0x81, 0xa1, b'k', 0xc2], Type::String),
        // negative length
        (
            &[0xc7, 0x03, 0x0c, 0x81, 0x05, 0xff],
            Type::list(Type::String),
        ),
        // bound without inclusivity
        (&[0xc7, 0x04, 0x0c, 0x81, 0x03, 0x91, 0x01], Type::Number),
        // map claims more entries than the payload holds
        (&[0xc7, 0x03, 0x0c, 0x82, 0x01, 0xc2], Type::String),
    ];
    for (bytes, ty) in bad {
        assert!(decode(bytes, ty).is_err(), "accepted {bytes:x?} as {ty:?}");
    }
    let mut huge = vec![0xc8, 0x04, 0x01, 0x0c, 0x81, 0x02, 0xda, 0x03, 0xfc];
    huge.extend(std::iter::repeat_n(b'a', 0x3fc));
    assert_eq!(huge.len() - 4, 0x401);
    assert!(decode(&huge, &Type::String).is_err());
}

#[test]
fn long_prefix_is_clipped_on_encode() {
    let v = Value::Unknown(Refinements {
        string_prefix: Some("p".repeat(1000)),
        ..Default::default()
    });
    let bytes = encode(&v, &Type::String).unwrap();
    let Value::Unknown(r) = decode(&bytes, &Type::String).unwrap() else {
        panic!("not unknown")
    };
    let prefix = r.string_prefix.unwrap();
    assert!(prefix.len() < 256 && "p".repeat(1000).starts_with(&prefix));
}

#[test]
fn dynamic_positions() {
    let v = Value::Dynamic(Type::String, Box::new(Value::string("x")));
    let mut want = vec![0x92, 0xc4, 0x08];
    want.extend_from_slice(b"\"string\"");
    want.extend_from_slice(&[0xa1, b'x']);
    assert_eq!(round_trip(&v, &Type::Dynamic), want);
    assert_eq!(round_trip(&Value::Null, &Type::Dynamic), [0xc0]);
    let obj_ty = Type::object([("a", Type::Bool)]);
    let v = Value::Dynamic(
        obj_ty.clone(),
        Box::new(Value::object([("a", Value::Bool(true))])),
    );
    round_trip(&v, &Type::Dynamic);
    round_trip(
        &Value::Dynamic(obj_ty, Box::new(Value::Null)),
        &Type::Dynamic,
    );
    // The type JSON may also arrive as a msgpack string.
    let mut bytes = vec![0x92, 0xa8];
    bytes.extend_from_slice(b"\"number\"");
    bytes.push(0x05);
    assert_eq!(
        decode(&bytes, &Type::Dynamic).unwrap(),
        Value::Dynamic(Type::Number, Box::new(Value::from(5i64)))
    );
    // A bare known value cannot be placed at a dynamic position: its type would be lost.
    assert!(encode(&Value::string("x"), &Type::Dynamic).is_err());
    // A dynamic wrapper whose type matches a static position is unwrapped.
    let wrapped = Value::Dynamic(Type::String, Box::new(Value::string("y")));
    assert_eq!(encode(&wrapped, &Type::String).unwrap(), [0xa1, b'y']);
    assert!(encode(&wrapped, &Type::Number).is_err());
    for bad in [
        &[0x91, 0xc4, 0x01, b'x'][..],
        &[0x92, 0xc4, 0x03, b'b', b'a', b'd', 0xc0],
        &[0x92, 0x01, 0xc0],
        &[0xa1, b'x'],
    ] {
        assert!(decode(bad, &Type::Dynamic).is_err(), "accepted {bad:x?}");
    }
}

#[test]
fn numbers_follow_go_cty_encoding() {
    let cases: Vec<(Number, Vec<u8>)> = vec![
        (num("1"), vec![0x01]),
        (num("-1"), vec![0xff]),
        (num("1.0"), vec![0x01]),
        (num("300"), vec![0xcd, 0x01, 0x2c]),
        (
            Number::from_i64(i64::MIN),
            [vec![0xd3], i64::MIN.to_be_bytes().to_vec()].concat(),
        ),
        (
            num("0.5"),
            [vec![0xcb], 0.5f64.to_be_bytes().to_vec()].concat(),
        ),
        (
            num("-2.75"),
            [vec![0xcb], (-2.75f64).to_be_bytes().to_vec()].concat(),
        ),
        (
            Number::from_f64(0.1).unwrap(),
            [vec![0xcb], 0.1f64.to_be_bytes().to_vec()].concat(),
        ),
        // Decimal 0.1 is not a float64, so it goes as text.
        (num("0.1"), [vec![0xa3], b"0.1".to_vec()].concat()),
        // Integers beyond int64 go as text, even when a float64 could hold them.
        (
            Number::from_u64(u64::MAX),
            [vec![0xb4], b"18446744073709551615".to_vec()].concat(),
        ),
        (
            num("18446744073709551616"),
            [vec![0xb4], b"18446744073709551616".to_vec()].concat(),
        ),
    ];
    for (n, want) in cases {
        let v = Value::Number(n.clone());
        assert_eq!(round_trip(&v, &Type::Number), want, "number {n}");
    }
    for text in [
        "123456789012345678901234567890.5",
        "-98765432109876543210.000000000000000001",
        "1e400",
        "-1e-400",
        "3.14159265358979323846264338327950288419716939937510",
    ] {
        round_trip(&Value::Number(num(text)), &Type::Number);
    }
}

#[test]
fn numbers_decode_from_every_encoding() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0x05], "5"),
        (vec![0xe0], "-32"),
        (vec![0xcc, 0xff], "255"),
        (vec![0xcd, 0x01, 0x00], "256"),
        (vec![0xce, 0, 1, 0, 0], "65536"),
        (
            [vec![0xcf], u64::MAX.to_be_bytes().to_vec()].concat(),
            "18446744073709551615",
        ),
        (vec![0xd0, 0x80], "-128"),
        (vec![0xd1, 0x80, 0x00], "-32768"),
        (vec![0xd2, 0xff, 0xff, 0xff, 0xff], "-1"),
        ([vec![0xd3], (-5i64).to_be_bytes().to_vec()].concat(), "-5"),
        ([vec![0xca], 1.5f32.to_be_bytes().to_vec()].concat(), "1.5"),
        (
            [vec![0xcb], 0.25f64.to_be_bytes().to_vec()].concat(),
            "0.25",
        ),
        ([vec![0xa3], b"1e3".to_vec()].concat(), "1000"),
        ([vec![0xc4, 0x03], b"0.1".to_vec()].concat(), "0.1"),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            decode(&bytes, &Type::Number).unwrap(),
            Value::Number(num(want)),
            "{bytes:x?}"
        );
    }
    for bad in [
        [vec![0xcb], f64::INFINITY.to_be_bytes().to_vec()].concat(),
        [vec![0xcb], f64::NAN.to_be_bytes().to_vec()].concat(),
        [vec![0xa3], b"Inf".to_vec()].concat(),
        [vec![0xa3], b"abc".to_vec()].concat(),
        vec![0xc3],
        vec![0x90],
    ] {
        let err = decode(&bad, &Type::Number).unwrap_err();
        assert!(!err.message().is_empty());
    }
}

#[test]
fn errors_carry_the_path() {
    let ty = everything_type();
    let v = Value::object([(
        "data_disks",
        Value::List(vec![
            Value::object([("size", Value::from(1i64))]),
            Value::object([("size", Value::string("big"))]),
        ]),
    )]);
    let err = encode(&v, &ty).unwrap_err();
    assert_eq!(err.path().to_string(), "data_disks[1].size");

    let bad = Value::object([("nope", Value::Null)]);
    assert_eq!(encode(&bad, &ty).unwrap_err().path().to_string(), "nope");

    // Encode {"tags": {"a": 1}} by hand: a number where a string is required.
    let map_ty = Type::object([("tags", Type::map(Type::String))]);
    let mut bytes = vec![0x81, 0xa4];
    bytes.extend_from_slice(b"tags");
    bytes.extend_from_slice(&[0x81, 0xa1, b'a', 0x01]);
    let err = decode(&bytes, &map_ty).unwrap_err();
    assert_eq!(err.path(), &Path::root().attr("tags").key("a"));
    assert!(err.to_string().contains("string is required"), "{err}");

    // An attribute the type does not have.
    let mut bytes = vec![0x81, 0xa3];
    bytes.extend_from_slice(b"zzz");
    bytes.push(0xc0);
    let err = decode(&bytes, &map_ty).unwrap_err();
    assert_eq!(err.path().to_string(), "zzz");
}

#[test]
fn structural_errors() {
    let str_list = Type::list(Type::String);
    let bad: &[(&[u8], Type)] = &[
        (&[0x01, 0x02], Type::Number), // trailing bytes
        (&[], Type::String),
        (&[0xc1], Type::String),
        (&[0xa1, 0xff], Type::String), // invalid UTF-8
        (&[0x91, 0x01], str_list.clone()),
        (&[0x81, 0xa1, b'a', 0xa1, b'b'], str_list),
        (&[0x92, 0x01, 0x02], Type::Tuple(vec![Type::Number])),
        (
            &[0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02],
            Type::map(Type::Number),
        ),
        (&[0x81, 0x01, 0x01], Type::map(Type::Number)),
        (
            &[0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02],
            Type::object([("a", Type::Number)]),
        ),
        (
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
            Type::list(Type::Number),
        ),
        (&[0xdf, 0xff, 0xff, 0xff, 0xff], Type::map(Type::Number)),
    ];
    for (bytes, ty) in bad {
        assert!(decode(bytes, ty).is_err(), "accepted {bytes:x?} as {ty:?}");
    }
    // Wrong value kinds on encode.
    assert!(encode(&Value::from(1i64), &Type::String).is_err());
    assert!(encode(&Value::Tuple(vec![Value::Null]), &Type::Tuple(vec![])).is_err());
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let ty = everything_type();
    let mut v = everything_value();
    if let Value::Object(attrs) = &mut v {
        attrs.insert(
            "note".into(),
            Value::Unknown(Refinements {
                not_null: true,
                string_prefix: Some("img-".into()),
                ..Default::default()
            }),
        );
    }
    let bytes = round_trip(&v, &ty);
    for cut in 0..bytes.len() {
        assert!(
            decode(&bytes[..cut], &ty).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
}

#[test]
fn corrupted_input_never_panics() {
    let ty = everything_type();
    let bytes = encode(&everything_value(), &ty).unwrap();
    for i in 0..bytes.len() {
        for replacement in [
            0x00, 0x7f, 0x80, 0x9f, 0xc0, 0xc1, 0xc7, 0xcb, 0xd4, 0xdd, 0xdf, 0xff,
        ] {
            let mut corrupt = bytes.clone();
            corrupt[i] = replacement;
            let _ = decode(&corrupt, &ty);
        }
    }
    // Pseudo-random garbage against a variety of types.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let types = [ty, Type::Dynamic, Type::list(Type::Dynamic), Type::Number];
    for _ in 0..2000 {
        let len = (state % 40) as usize;
        let mut garbage = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            garbage.push((state >> 24) as u8);
        }
        for t in &types {
            let _ = decode(&garbage, t);
        }
    }
}

#[test]
fn deep_nesting_is_capped() {
    let mut ty = Type::String;
    for _ in 0..(MAX_DEPTH + 5) {
        ty = Type::list(ty);
    }
    let mut bytes = vec![0x91; MAX_DEPTH + 5];
    bytes.push(0xa0);
    let err = decode(&bytes, &ty).unwrap_err();
    assert!(err.message().contains("too deeply"), "{err}");

    // Dynamic values nesting dynamic values.
    let mut bytes = Vec::new();
    for _ in 0..(MAX_DEPTH + 5) {
        bytes.extend_from_slice(&[0x92, 0xc4, 0x09]);
        bytes.extend_from_slice(b"\"dynamic\"");
    }
    bytes.push(0xc0);
    assert!(decode(&bytes, &Type::Dynamic).is_err());

    let mut v = Value::string("x");
    for _ in 0..(MAX_DEPTH + 5) {
        v = Value::List(vec![v]);
    }
    assert!(encode(&v, &ty).is_err());
}
