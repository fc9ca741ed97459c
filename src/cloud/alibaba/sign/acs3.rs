//! Alibaba Cloud V3 signature, `ACS3-HMAC-SHA256` (the ROA/RPC-unified scheme).

use std::collections::BTreeMap;

use super::acs_percent_encode;
use crate::cloud::sign::{hmac_sha256, sha256_hex};
use crate::cloud::Secret;

/// Everything ACS3 signs. `headers` holds the headers to sign (names in any case) besides `host`, which is always
/// signed: a client passes the `x-acs-*` (and `content-type`) headers it sends, a verifier exactly the headers the
/// request's `SignedHeaders` names (the official SDKs also sign `accept` and `user-agent`:
/// alibabacloud-tea-openapi utils.py `get_canonicalized_headers` signs every header it is given). The caller includes
/// `x-acs-content-sha256` (see [`crate::cloud::sign::sha256_hex`]), `x-acs-date`, `x-acs-signature-nonce`,
/// `x-acs-action`, `x-acs-version`.
#[derive(Debug)]
pub struct Acs3Request<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// `Host` header as sent.
    pub host: &'a str,
    /// Canonical URI (`/` for RPC-style APIs).
    pub path: &'a str,
    /// Query parameters (unencoded).
    pub query: &'a BTreeMap<String, String>,
    /// Headers to send.
    pub headers: &'a BTreeMap<String, String>,
    /// Exact body bytes.
    pub payload: &'a [u8],
    /// AccessKey ID.
    pub access_key_id: &'a str,
    /// AccessKey secret.
    pub secret: &'a Secret,
}

fn signed_headers(r: &Acs3Request) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("host".to_string(), r.host.trim().to_string());
    for (k, v) in r.headers {
        m.insert(k.to_ascii_lowercase(), v.trim().to_string());
    }
    m
}

/// The canonical request ACS3 hashes (exposed for debugging signature mismatches).
pub fn acs3_canonical_request(r: &Acs3Request) -> String {
    let hs = signed_headers(r);
    let canon_headers: String = hs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names = hs.keys().cloned().collect::<Vec<_>>().join(";");
    let mut q: Vec<(String, String)> = r
        .query
        .iter()
        .map(|(k, v)| (acs_percent_encode(k), acs_percent_encode(v)))
        .collect();
    q.sort();
    let query = q
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        r.method,
        r.path,
        query,
        canon_headers,
        names,
        sha256_hex(r.payload)
    )
}

/// Lower-case hex ACS3 signature.
pub fn acs3_signature(r: &Acs3Request) -> String {
    let sts = format!(
        "ACS3-HMAC-SHA256\n{}",
        sha256_hex(acs3_canonical_request(r).as_bytes())
    );
    hex::encode(hmac_sha256(r.secret.expose().as_bytes(), sts.as_bytes()))
}

/// Full `Authorization` header value.
pub fn acs3_authorization(r: &Acs3Request) -> String {
    let names = signed_headers(r)
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(";");
    format!(
        "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={}",
        r.access_key_id,
        names,
        acs3_signature(r)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_example() {
        let query: BTreeMap<String, String> = [
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let headers: BTreeMap<String, String> = [
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            // The documented example also sends `Accept`, unsigned: it is not one of the headers to sign.
            ("x-acs-content-sha256", &sha256_hex(b"")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = Acs3Request {
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            path: "/",
            query: &query,
            headers: &headers,
            payload: b"",
            access_key_id: "YourAccessKeyId",
            secret: &Secret::new("YourAccessKeySecret"),
        };
        assert_eq!(
            acs3_signature(&r),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert!(acs3_authorization(&r).starts_with(
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e"
        ));
        assert!(!format!("{r:?}").contains("YourAccessKeySecret"));
    }
}
