//! The MessagePack encoding of cty values: the `msgpack` field of `DynamicValue`.
//!
//! Rules (go-cty `cty/msgpack`, Terraform `object-wire-format.md`): null is nil; unknown is an
//! extension (`d4 00 00`, or code 12 with refinements); strings are str; numbers are int, float64
//! or decimal strings; bools are bool; lists, sets and tuples are arrays; maps are maps; objects are
//! maps with every attribute of the type, sorted by name; dynamic positions hold
//! `[type JSON as bin, value]`.

mod decode;
mod encode;
mod unknown;
mod wire;

#[cfg(test)]
mod tests;

use crate::cty::encode::Walk;
use crate::cty::{CtyError, Path, Type, Value};

/// Encodes `v` as MessagePack against `ty`.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mut walk = Walk::new(encode::Msgpack::default());
    walk.value(v, ty)?;
    Ok(walk.sink.w.out)
}

/// Decodes MessagePack `bytes` as a value of type `ty`. Trailing bytes are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let mut dec = decode::Decoder::new(bytes);
    let v = dec.value(ty)?;
    if dec.r.remaining() != 0 {
        return Err(CtyError::decode(
            Path::root(),
            format!("{} unexpected bytes after the value", dec.r.remaining()),
        ));
    }
    Ok(v)
}
