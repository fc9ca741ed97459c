//! Alibaba Cloud verification (ECS, ENS, Apsara Stack): RPC signature v1 (`Signature`
//! parameter, HMAC-SHA1 over all query and form parameters) and `ACS3-HMAC-SHA256`
//! (Authorization header), with the 15-minute timestamp window and security tokens. Nonce
//! replay is checked by the caller, which owns the nonce cache.

use std::collections::BTreeMap;

use cloudimage::cloud::alibaba::sign::{
    acs3_signature, acs_rpc_signature, acs_rpc_string_to_sign, Acs3Request,
};
use cloudimage::cloud::Secret;

use crate::auth::same_signature;
use crate::clock;
use crate::cloud::KeyFamily;
use crate::creds::{Credentials, KeyPair};
use crate::http::RawRequest;

/// Allowed distance between the request timestamp and the server clock.
pub(crate) const MAX_SKEW_SECS: i64 = 15 * 60;

/// Why an Alibaba request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AcsAuthError {
    /// A required signing parameter or header is absent.
    #[error("{0} is mandatory for this action.")]
    Missing(&'static str),
    /// `SignatureMethod` other than HMAC-SHA1.
    #[error("Specified signature method is not supported.")]
    SignatureMethod,
    /// Timestamp not `YYYY-MM-DDThh:mm:ssZ`.
    #[error("Specified time stamp or date value is not well formatted.")]
    TimestampFormat,
    /// Timestamp outside the window.
    #[error("Specified time stamp or date value is expired.")]
    TimestampExpired,
    /// Unknown AccessKeyId.
    #[error("Specified access key is not found.")]
    KeyNotFound,
    /// Signature mismatch; carries the server's string to sign (RPC) for debugging.
    #[error(
        "Specified signature is not matched with our calculation. server string to sign is:{0}"
    )]
    SignatureMismatch(String),
    /// ACS3 Authorization header malformed.
    #[error("The request signature does not conform to Aliyun standards. {0}")]
    Incomplete(String),
    /// Temporary key used without its token.
    #[error("SecurityToken is mandatory for this action.")]
    TokenMissing,
    /// Token present but wrong, or given with a permanent key.
    #[error("Specified SecurityToken mismatch with the AccessKey.")]
    TokenMismatch,
}

impl AcsAuthError {
    /// HTTP status of the error response.
    pub(crate) fn status(&self) -> u16 {
        match self {
            AcsAuthError::KeyNotFound => 404,
            _ => 400,
        }
    }

    /// The Alibaba error code.
    pub(crate) fn code(&self) -> String {
        match self {
            AcsAuthError::Missing(p) => format!("Missing{p}"),
            AcsAuthError::SignatureMethod => "InvalidSignatureMethod".into(),
            AcsAuthError::TimestampFormat => "InvalidTimeStamp.Format".into(),
            AcsAuthError::TimestampExpired => "InvalidTimeStamp.Expired".into(),
            AcsAuthError::KeyNotFound => "InvalidAccessKeyId.NotFound".into(),
            AcsAuthError::SignatureMismatch(_) => "SignatureDoesNotMatch".into(),
            AcsAuthError::Incomplete(_) => "IncompleteSignature".into(),
            AcsAuthError::TokenMissing => "MissingSecurityToken".into(),
            AcsAuthError::TokenMismatch => "InvalidSecurityToken.MismatchWithAccessKey".into(),
        }
    }
}

/// A verified caller: its key id and the nonce to check for replay.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    /// AccessKeyId.
    pub key_id: String,
    /// `SignatureNonce` / `x-acs-signature-nonce`.
    pub nonce: String,
}

fn check_time(ts: &str, now: i64) -> Result<(), AcsAuthError> {
    let t = clock::parse_iso_z(ts).ok_or(AcsAuthError::TimestampFormat)?;
    if (now - t).abs() > MAX_SKEW_SECS {
        return Err(AcsAuthError::TimestampExpired);
    }
    Ok(())
}

fn check_token(key: &KeyPair, got: Option<&str>) -> Result<(), AcsAuthError> {
    match (&key.token, got.filter(|t| !t.is_empty())) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        (Some(_), None) => Err(AcsAuthError::TokenMissing),
        _ => Err(AcsAuthError::TokenMismatch),
    }
}

fn need<'a>(p: &'a BTreeMap<String, String>, name: &'static str) -> Result<&'a str, AcsAuthError> {
    p.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or(AcsAuthError::Missing(name))
}

/// Verifies an RPC v1 request; `params` holds every query and form parameter.
pub(crate) fn verify_rpc(
    method: &str,
    params: &BTreeMap<String, String>,
    creds: &Credentials,
    family: KeyFamily,
    now: i64,
) -> Result<Verified, AcsAuthError> {
    let key_id = need(params, "AccessKeyId")?;
    let sig = need(params, "Signature")?;
    let ts = need(params, "Timestamp")?;
    let nonce = need(params, "SignatureNonce")?;
    need(params, "SignatureVersion")?;
    if need(params, "SignatureMethod")? != "HMAC-SHA1" {
        return Err(AcsAuthError::SignatureMethod);
    }
    check_time(ts, now)?;
    let key = creds
        .find(family, key_id)
        .ok_or(AcsAuthError::KeyNotFound)?;
    let expected = acs_rpc_signature(method, params, &Secret::new(key.secret.as_str()));
    if !same_signature(&expected, sig) {
        return Err(AcsAuthError::SignatureMismatch(acs_rpc_string_to_sign(
            method, params,
        )));
    }
    check_token(key, params.get("SecurityToken").map(String::as_str))?;
    Ok(Verified {
        key_id: key.id.clone(),
        nonce: nonce.to_string(),
    })
}

struct Acs3Auth<'a> {
    key_id: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_acs3(auth: &str) -> Result<Acs3Auth<'_>, AcsAuthError> {
    let bad = |m: &str| AcsAuthError::Incomplete(m.to_string());
    let rest = auth
        .strip_prefix("ACS3-HMAC-SHA256 ")
        .ok_or_else(|| bad("The algorithm must be ACS3-HMAC-SHA256."))?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("Expected key=value pairs."))?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(bad("Unknown Authorization field.")),
        }
    }
    Ok(Acs3Auth {
        key_id: cred.ok_or_else(|| bad("Credential is missing."))?,
        signed_headers: signed
            .ok_or_else(|| bad("SignedHeaders is missing."))?
            .split(';')
            .collect(),
        signature: sig.ok_or_else(|| bad("Signature is missing."))?,
    })
}

/// Verifies an `ACS3-HMAC-SHA256` request; `query` holds the decoded query parameters.
pub(crate) fn verify_acs3(
    req: &RawRequest,
    query: &BTreeMap<String, String>,
    creds: &Credentials,
    family: KeyFamily,
    now: i64,
) -> Result<Verified, AcsAuthError> {
    let auth = req
        .header("authorization")
        .ok_or(AcsAuthError::Missing("Authorization"))?;
    let a = parse_acs3(auth)?;
    let date = req
        .header("x-acs-date")
        .ok_or(AcsAuthError::Missing("Date"))?;
    let nonce = req
        .header("x-acs-signature-nonce")
        .ok_or(AcsAuthError::Missing("SignatureNonce"))?;
    check_time(date, now)?;
    let key = creds
        .find(family, a.key_id)
        .ok_or(AcsAuthError::KeyNotFound)?;
    let mut headers = BTreeMap::new();
    for name in &a.signed_headers {
        if *name == "host" {
            continue;
        }
        let v = req.header(name).ok_or_else(|| {
            AcsAuthError::Incomplete(format!("Signed header {name} is not present."))
        })?;
        headers.insert(name.to_string(), v.to_string());
    }
    let expected = acs3_signature(&Acs3Request {
        method: &req.method,
        host: req.host(),
        path: &req.path,
        query,
        headers: &headers,
        payload: &req.body,
        access_key_id: &key.id,
        secret: &Secret::new(key.secret.as_str()),
    });
    if !same_signature(&expected, a.signature) {
        return Err(AcsAuthError::SignatureMismatch(String::new()));
    }
    check_token(key, req.header("x-acs-security-token"))?;
    Ok(Verified {
        key_id: key.id.clone(),
        nonce: nonce.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue};
    use cloudimage::cloud::alibaba::sign::acs3_authorization;
    use cloudimage::cloud::sign::sha256_hex;

    const AK: &str = "LTAIsimAlicloudKey0000000";
    const SK: &str = "simAlicloudSecret000000000000000";
    const NOW: i64 = 1_700_000_000;

    fn rpc_params(secret: &str, ts: &str) -> BTreeMap<String, String> {
        let mut p: BTreeMap<String, String> = [
            ("Action", "DescribeImages"),
            ("Version", "2014-05-26"),
            ("Format", "JSON"),
            ("AccessKeyId", AK),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "n-1"),
            ("Timestamp", ts),
            ("RegionId", "cn-hangzhou"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sig = acs_rpc_signature("GET", &p, &Secret::new(secret));
        p.insert("Signature".into(), sig);
        p
    }

    #[test]
    fn rpc_good_and_bad() {
        let c = Credentials::default();
        let ts = clock::iso_z(NOW * 1000);
        let p = rpc_params(SK, &ts);
        let v = verify_rpc("GET", &p, &c, KeyFamily::Alicloud, NOW).unwrap();
        assert_eq!(v.nonce, "n-1");
        let err = verify_rpc("POST", &p, &c, KeyFamily::Alicloud, NOW).unwrap_err();
        assert_eq!(err.code(), "SignatureDoesNotMatch");
        assert_eq!(err.status(), 400);
        let p2 = rpc_params("wrong", &ts);
        assert!(verify_rpc("GET", &p2, &c, KeyFamily::Alicloud, NOW).is_err());
        let err = verify_rpc("GET", &p, &c, KeyFamily::Alicloud, NOW + 901).unwrap_err();
        assert_eq!(err.code(), "InvalidTimeStamp.Expired");
        let err = verify_rpc("GET", &p, &c, KeyFamily::Apsarastack, NOW).unwrap_err();
        assert_eq!(
            (err.status(), err.code().as_str()),
            (404, "InvalidAccessKeyId.NotFound")
        );
        let mut p3 = p.clone();
        p3.insert("Timestamp".into(), "yesterday".into());
        let err = verify_rpc("GET", &p3, &c, KeyFamily::Alicloud, NOW).unwrap_err();
        assert_eq!(err.code(), "InvalidTimeStamp.Format");
        let mut p4 = p.clone();
        p4.remove("SignatureNonce");
        let err = verify_rpc("GET", &p4, &c, KeyFamily::Alicloud, NOW).unwrap_err();
        assert_eq!(err.code(), "MissingSignatureNonce");
    }

    fn acs3_request(
        secret: &str,
        date: &str,
        token: Option<&str>,
    ) -> (RawRequest, BTreeMap<String, String>) {
        let body = b"RegionId=cn-hangzhou".to_vec();
        let mut headers = BTreeMap::new();
        headers.insert("x-acs-action".to_string(), "DescribeImages".to_string());
        headers.insert("x-acs-version".to_string(), "2014-05-26".to_string());
        headers.insert("x-acs-date".to_string(), date.to_string());
        headers.insert("x-acs-signature-nonce".to_string(), "nonce-3".to_string());
        headers.insert("x-acs-content-sha256".to_string(), sha256_hex(&body));
        headers.insert(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        );
        if let Some(t) = token {
            headers.insert("x-acs-security-token".to_string(), t.to_string());
        }
        let query: BTreeMap<String, String> = [("PageSize".to_string(), "10".to_string())]
            .into_iter()
            .collect();
        let auth = acs3_authorization(&Acs3Request {
            method: "POST",
            host: "127.0.0.1:1",
            path: "/alicloud/ecs",
            query: &query,
            headers: &headers,
            payload: &body,
            access_key_id: AK,
            secret: &Secret::new(secret),
        });
        let mut h = HeaderMap::new();
        for (k, v) in &headers {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let req = RawRequest {
            method: "POST".into(),
            path: "/alicloud/ecs".into(),
            raw_query: "PageSize=10".into(),
            headers: h,
            body: Bytes::from(body),
        };
        (req, query)
    }

    #[test]
    fn acs3_good_and_bad() {
        let c = Credentials::default();
        let date = clock::iso_z(NOW * 1000);
        let (r, q) = acs3_request(SK, &date, None);
        let v = verify_acs3(&r, &q, &c, KeyFamily::Alicloud, NOW).unwrap();
        assert_eq!(v.nonce, "nonce-3");
        let (r2, q2) = acs3_request("wrong", &date, None);
        let err = verify_acs3(&r2, &q2, &c, KeyFamily::Alicloud, NOW).unwrap_err();
        assert_eq!(err.code(), "SignatureDoesNotMatch");
        let err = verify_acs3(&r, &q, &c, KeyFamily::Alicloud, NOW - 1000).unwrap_err();
        assert_eq!(err.code(), "InvalidTimeStamp.Expired");
        let mut r3 = r.clone();
        r3.body = Bytes::from_static(b"RegionId=cn-beijing");
        assert!(verify_acs3(&r3, &q, &c, KeyFamily::Alicloud, NOW).is_err());
        let (r4, q4) = acs3_request(SK, &date, Some("tok"));
        let err = verify_acs3(&r4, &q4, &c, KeyFamily::Alicloud, NOW).unwrap_err();
        assert_eq!(err.code(), "InvalidSecurityToken.MismatchWithAccessKey");
    }

    #[test]
    fn tokens() {
        let k = KeyPair {
            id: "a".into(),
            secret: "b".into(),
            token: Some("t".into()),
        };
        assert_eq!(check_token(&k, Some("t")), Ok(()));
        assert_eq!(check_token(&k, None), Err(AcsAuthError::TokenMissing));
        assert_eq!(check_token(&k, Some("u")), Err(AcsAuthError::TokenMismatch));
    }
}
