//! Unknown values on the wire: extension 0 for plain unknowns, extension 12 carrying refinements.
//!
//! The refinement payload is a msgpack map with small integer keys (go-cty `cty/msgpack/unknown.go`):
//! 1 nullness (bool, true = definitely null), 2 string prefix (string), 3/4 number lower/upper bound
//! (`[number, inclusive bool]`), 5/6 collection length lower/upper bound (inclusive integer).

use super::decode::Decoder;
use super::encode::write_number;
use super::wire::{Item, Reader, WireError, Writer};
use crate::cty::{CtyError, Number, Path, PathStep, Refinements, Type, Value};

const REFINED_EXT: i8 = 12;
const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_MIN: i64 = 3;
const KEY_NUMBER_MAX: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;
/// go-cty truncates longer prefixes so the refinement payload stays small.
const MAX_PREFIX_BYTES: usize = 256;
/// go-cty rejects larger refinement payloads as abusive.
const MAX_PAYLOAD_BYTES: usize = 1024;

/// Writes an unknown of type `ty`: the plain `d4 00 00` form unless a refinement applies to the type.
pub(super) fn write(w: &mut Writer, r: &Refinements, ty: &Type) -> Result<(), WireError> {
    let mut body = Writer::default();
    let mut entries = 0usize;
    if *ty != Type::Dynamic {
        if r.not_null {
            entries += 1;
            body.int(KEY_NULLNESS);
            body.bool(false);
        }
        match ty {
            Type::String => {
                if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                    let prefix = clip_prefix(prefix);
                    if !prefix.is_empty() {
                        entries += 1;
                        body.int(KEY_STRING_PREFIX);
                        body.str(prefix)?;
                    }
                }
            }
            Type::Number => {
                for (key, bound) in [
                    (KEY_NUMBER_MIN, &r.number_lower),
                    (KEY_NUMBER_MAX, &r.number_upper),
                ] {
                    if let Some((n, inclusive)) = bound {
                        entries += 1;
                        body.int(key);
                        body.array_len(2)?;
                        write_number(&mut body, n)?;
                        body.bool(*inclusive);
                    }
                }
            }
            t if t.is_collection() => {
                if let Some(lower) = r.length_lower.filter(|l| *l != 0) {
                    entries += 1;
                    body.int(KEY_LENGTH_MIN);
                    body.uint(lower);
                }
                // go-cty's "no upper bound" is MaxInt; anything at or above it means unbounded.
                if let Some(upper) = r.length_upper.filter(|u| *u < i64::MAX as u64) {
                    entries += 1;
                    body.int(KEY_LENGTH_MAX);
                    body.uint(upper);
                }
            }
            _ => {}
        }
    }
    if entries == 0 {
        return w.ext(0, &[0]);
    }
    let mut payload = Writer::default();
    payload.map_len(entries)?;
    payload.out.extend_from_slice(&body.out);
    w.ext(REFINED_EXT, &payload.out)
}

/// Shortens an over-long prefix to a char boundary, then drops one more character because it might
/// have combined with whatever follows (a conservative stand-in for go-cty's `SafeKnownPrefix`).
fn clip_prefix(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_BYTES {
        return prefix;
    }
    let mut cut = MAX_PREFIX_BYTES - 1;
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let clipped = &prefix[..cut];
    match clipped.char_indices().last() {
        Some((last, _)) => &clipped[..last],
        None => clipped,
    }
}

/// Decodes an extension item found where a value of type `ty` was expected.
///
/// Any extension code means "unknown" (per Terraform's wire-format document); only code 12 with a
/// payload longer than one byte carries refinements. Unrecognized refinement keys are skipped and
/// trailing payload bytes ignored, for forward compatibility. Refinements that pin the value down
/// collapse to the known value, as go-cty does (definitely null; equal inclusive number bounds;
/// a not-null collection of length exactly zero).
pub(super) fn read(code: i8, data: &[u8], ty: &Type, path: &[PathStep]) -> Result<Value, CtyError> {
    let err = |m: &str| {
        CtyError::decode(
            Path(path.to_vec()),
            format!("invalid unknown value refinements: {m}"),
        )
    };
    if data.len() <= 1 || code != REFINED_EXT {
        return Ok(Value::unknown());
    }
    if data.len() > MAX_PAYLOAD_BYTES {
        return Err(err("payload larger than 1 KiB"));
    }
    let mut r = Reader::new(data);
    let Ok(Item::Map(entries)) = r.read() else {
        return Err(err("payload is not a map"));
    };
    if *ty == Type::Dynamic {
        return Ok(Value::unknown());
    }
    let mut refined = Refinements::default();
    let mut is_null = false;
    for _ in 0..entries {
        let key = match r.read() {
            Ok(Item::Uint(k)) => i64::try_from(k).unwrap_or(i64::MAX),
            Ok(Item::Int(k)) => k,
            Ok(_) => return Err(err("non-integer key")),
            Err(e) => return Err(err(e.message())),
        };
        match key {
            KEY_NULLNESS => match r.read() {
                Ok(Item::Bool(null)) => {
                    is_null = null;
                    refined.not_null = !null;
                }
                _ => return Err(err("nullness must be a bool")),
            },
            KEY_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(err("string prefix for a non-string type"));
                }
                let Ok(Item::Str(bytes)) = r.read() else {
                    return Err(err("string prefix must be a string"));
                };
                let prefix =
                    std::str::from_utf8(bytes).map_err(|_| err("string prefix is not UTF-8"))?;
                refined.string_prefix = Some(prefix.to_string()).filter(|p| !p.is_empty());
            }
            KEY_NUMBER_MIN | KEY_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(err("number bound for a non-number type"));
                }
                let bound = read_bound(&mut r, path)
                    .ok_or_else(|| err("number bound must be [number, bool]"))?;
                let slot = if key == KEY_NUMBER_MIN {
                    &mut refined.number_lower
                } else {
                    &mut refined.number_upper
                };
                *slot = bound;
            }
            KEY_LENGTH_MIN | KEY_LENGTH_MAX => {
                if !ty.is_collection() {
                    return Err(err("length bound for a non-collection type"));
                }
                let bound = match r.read() {
                    Ok(Item::Uint(n)) => n,
                    Ok(Item::Int(n)) if n >= 0 => n as u64,
                    _ => return Err(err("length bound must be a non-negative integer")),
                };
                if key == KEY_LENGTH_MIN {
                    refined.length_lower = Some(bound).filter(|b| *b != 0);
                } else {
                    refined.length_upper = Some(bound).filter(|b| *b < i64::MAX as u64);
                }
            }
            _ => r.skip().map_err(|e| err(e.message()))?,
        }
    }
    Ok(collapse(refined, is_null, ty))
}

/// Reads `[number, bool]`; an infinite bound (never written by go-cty) means "no bound".
fn read_bound(r: &mut Reader<'_>, path: &[PathStep]) -> Option<Option<(Number, bool)>> {
    if !matches!(r.read(), Ok(Item::Array(2))) {
        return None;
    }
    let number = r.read().ok()?;
    let Ok(Item::Bool(inclusive)) = r.read() else {
        return None;
    };
    match number {
        Item::F64(f) if f.is_infinite() => Some(None),
        Item::F32(f) if f.is_infinite() => Some(None),
        other => Decoder::number_from_item(other, path)
            .ok()
            .map(|n| Some((n, inclusive))),
    }
}

fn collapse(refined: Refinements, is_null: bool, ty: &Type) -> Value {
    if is_null {
        return Value::Null;
    }
    if refined.not_null {
        if let (Some((lo, true)), Some((hi, true))) = (&refined.number_lower, &refined.number_upper)
        {
            if lo == hi {
                return Value::Number(lo.clone());
            }
        }
        if refined.length_upper == Some(0) {
            match ty {
                Type::List(_) => return Value::List(Vec::new()),
                Type::Set(_) => return Value::Set(Vec::new()),
                Type::Map(_) => return Value::Map(Default::default()),
                _ => {}
            }
        }
    }
    Value::Unknown(refined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_prefix_keeps_char_boundaries() {
        assert_eq!(clip_prefix("abc"), "abc");
        let long = "é".repeat(200); // 400 bytes
        let clipped = clip_prefix(&long);
        assert!(clipped.len() < MAX_PREFIX_BYTES);
        assert!(long.starts_with(clipped));
        assert_eq!(clipped.len() % 2, 0);
    }
}
