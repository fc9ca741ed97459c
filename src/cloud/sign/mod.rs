//! Request-signing algorithms, one module per cloud API family.
//!
//! These functions are pure (no clock, no randomness, no I/O) so that the clients here and the
//! simulator's verifier compute byte-identical signatures from the same inputs.

mod acs3;
mod acs_rpc;
mod tc3;
mod ucloud;

pub use acs3::{acs3_authorization, acs3_canonical_request, acs3_signature, Acs3Request};
pub use acs_rpc::{
    acs_canonical_query, acs_percent_encode, acs_rpc_signature, acs_rpc_string_to_sign,
};
pub use tc3::{tc3_authorization, tc3_canonical_request, tc3_signature, Tc3Request};
pub use ucloud::{ucloud_flatten, ucloud_signature};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 of `data` under `key`; shared by TC3 and ACS3.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
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
