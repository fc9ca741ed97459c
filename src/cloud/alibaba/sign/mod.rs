//! The Alibaba family's two signatures: RPC (HMAC-SHA1, version 1.0) and ACS3 (HMAC-SHA256, V3).

mod acs3;
mod rpc;

pub use acs3::{acs3_authorization, acs3_canonical_request, acs3_signature, Acs3Request};
pub use rpc::{acs_canonical_query, acs_percent_encode, acs_rpc_signature, acs_rpc_string_to_sign};
