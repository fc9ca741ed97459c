//! Hashing pieces several families' signatures share (TC3 and ACS3 are both HMAC-SHA256 schemes). Each family's
//! signature lives in its folder (`ucloud::sign`, `tencent::sign`, `alibaba::sign`).
//!
//! The signing functions are pure (no clock, no randomness, no I/O) so that the clients and the simulator's
//! verifier compute byte-identical signatures from the same inputs.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 of `data` under `key`; shared by TC3 and ACS3.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so construction cannot fail; fall back to an empty MAC anyway.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Lower-case hex SHA-256 of `data`; the payload hash used by TC3 and ACS3.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
