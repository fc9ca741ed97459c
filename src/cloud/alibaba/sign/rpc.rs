//! Alibaba Cloud RPC signature (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), used by ECS,
//! ENS and Apsara Stack.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;

use crate::cloud::Secret;

/// Everything except RFC 3986 unreserved characters is escaped.
const ACS_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes as Alibaba's signers do: RFC 3986 (space `%20`, `*` `%2A`, `~` kept,
/// upper-case hex).
pub fn acs_percent_encode(s: &str) -> String {
    utf8_percent_encode(s, ACS_SET).to_string()
}

/// `k=v&...` with both sides encoded, sorted by name, `Signature` excluded.
pub fn acs_canonical_query(params: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| (acs_percent_encode(k), acs_percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&<encoded canonical query>`.
pub fn acs_rpc_string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{}&{}&{}",
        method,
        acs_percent_encode("/"),
        acs_percent_encode(&acs_canonical_query(params))
    )
}

/// Base64 HMAC-SHA1 of the string to sign, keyed by `secret + "&"`.
pub fn acs_rpc_signature(
    method: &str,
    params: &BTreeMap<String, String>,
    secret: &Secret,
) -> String {
    let key = format!("{}&", secret.expose());
    let sts = acs_rpc_string_to_sign(method, params);
    match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(sts.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_example() {
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            acs_rpc_string_to_sign("GET", &params),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            acs_rpc_signature("GET", &params, &Secret::new("testsecret")),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(acs_percent_encode("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
    }
}
