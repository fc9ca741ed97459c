//! The JSON encoding of cty values: the `json` field of `DynamicValue` and of `RawState`.
//!
//! Rules (go-cty `cty/json`, Terraform `object-wire-format.md`): null is `null`; strings, numbers and
//! bools are their JSON kinds (numbers written exactly, however long); lists, sets and tuples are
//! arrays; maps and objects are objects; dynamic positions are `{"value": .., "type": ..}`. JSON cannot
//! carry unknown values, so encoding one is an error.
//!
//! Decoding is tolerant, because raw state may have been written by an older schema: object
//! properties the type lacks are ignored, missing attributes become null, and (as in go-cty) strings
//! are accepted for numbers and bools, and numbers and bools for strings.

mod decode;
mod encode;

use crate::cty::encode::Walk;
use crate::cty::{CtyError, Path, Type, Value};

/// Encodes a wholly known `v` as JSON against `ty`.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mut walk = Walk::new(encode::Json::default());
    walk.value(v, ty)?;
    Ok(walk.sink.out.into_bytes())
}

/// Decodes JSON `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| CtyError::decode(Path::root(), format!("invalid JSON: {e}")))?;
    decode::Decoder::default().value(&json, ty)
}

#[cfg(test)]
mod tests;
