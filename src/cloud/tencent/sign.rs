//! Tencent Cloud API 3.0 signature, `TC3-HMAC-SHA256`.

use time::OffsetDateTime;

use crate::cloud::sign::{hmac_sha256, sha256_hex};
use crate::cloud::Secret;

/// Everything TC3 signs. `host` is the exact `Host` header (with `:port` when not default) and
/// `path` the exact request path, which is the canonical URI.
#[derive(Debug)]
pub struct Tc3Request<'a> {
    /// HTTP method, upper case (`POST`).
    pub method: &'a str,
    /// Value of the `Host` header as sent.
    pub host: &'a str,
    /// Request path, e.g. `/` or `/tencentcloud`.
    pub path: &'a str,
    /// Canonical query string (empty for POST).
    pub query: &'a str,
    /// Value of the `Content-Type` header as sent.
    pub content_type: &'a str,
    /// Exact request body bytes.
    pub payload: &'a [u8],
    /// Service name, e.g. `cvm` (part of the credential scope).
    pub service: &'a str,
    /// Unix seconds, also sent as `X-TC-Timestamp`.
    pub timestamp: i64,
    /// SecretId.
    pub secret_id: &'a str,
    /// SecretKey.
    pub secret_key: &'a Secret,
}

const SIGNED_HEADERS: &str = "content-type;host";

/// The canonical request string TC3 hashes (exposed for debugging signature mismatches).
pub fn tc3_canonical_request(r: &Tc3Request) -> String {
    format!(
        "{}\n{}\n{}\ncontent-type:{}\nhost:{}\n\n{}\n{}",
        r.method,
        r.path,
        r.query,
        r.content_type,
        r.host,
        SIGNED_HEADERS,
        sha256_hex(r.payload)
    )
}

fn utc_date(ts: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Err(_) => "1970-01-01".to_string(),
    }
}

fn scope(r: &Tc3Request) -> String {
    format!("{}/{}/tc3_request", utc_date(r.timestamp), r.service)
}

/// Lower-case hex TC3 signature.
pub fn tc3_signature(r: &Tc3Request) -> String {
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{}\n{}",
        r.timestamp,
        scope(r),
        sha256_hex(tc3_canonical_request(r).as_bytes())
    );
    let k_date = hmac_sha256(
        format!("TC3{}", r.secret_key.expose()).as_bytes(),
        utc_date(r.timestamp).as_bytes(),
    );
    let k_service = hmac_sha256(&k_date, r.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

/// Full `Authorization` header value.
pub fn tc3_authorization(r: &Tc3Request) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
        r.secret_id,
        scope(r),
        SIGNED_HEADERS,
        tc3_signature(r)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(key: &Secret) -> Tc3Request<'_> {
        Tc3Request {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            path: "/",
            query: "",
            content_type: "application/json; charset=utf-8",
            payload: br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            service: "cvm",
            timestamp: 1551113065,
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: key,
        }
    }

    #[test]
    fn official_example() {
        let key = Secret::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
        let r = example(&key);
        assert_eq!(
            tc3_signature(&r),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            tc3_authorization(&r),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn debug_redacts_key() {
        let s = format!(
            "{:?}",
            example(&Secret::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"))
        );
        assert!(!s.contains("Gu5t9x"));
    }
}
