//! Tencent Cloud `TC3-HMAC-SHA256` verification: Authorization header parsing, the 5-minute
//! timestamp window, credential scope, SecretId lookup, signature and `X-TC-Token`.

use cloudimage::cloud::tencent::sign::{tc3_signature, Tc3Request};
use cloudimage::cloud::Secret;
use time::OffsetDateTime;

use crate::auth::same_signature;
use crate::cloud::KeyFamily;
use crate::creds::Credentials;
use crate::http::RawRequest;

/// Allowed distance between `X-TC-Timestamp` and the server clock.
pub(super) const MAX_SKEW_SECS: i64 = 300;

/// Why a Tencent request was refused; each maps to an `AuthFailure.*` code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum TcAuthError {
    /// Authorization header missing or malformed.
    #[error("{0}")]
    InvalidAuthorization(String),
    /// Timestamp outside the window.
    #[error(
        "Signature expired. Timestamp {ts} differs from server time {now} by more than 5 minutes."
    )]
    SignatureExpire {
        /// Request timestamp.
        ts: i64,
        /// Server time.
        now: i64,
    },
    /// Unknown SecretId.
    #[error("The SecretId is not found, please ensure that your SecretId is correct.")]
    SecretIdNotFound,
    /// Signature (or its scope) does not match.
    #[error("The provided credentials could not be validated. Please check your signature is correct. {0}")]
    SignatureFailure(String),
    /// `X-TC-Token` missing, unexpected or wrong.
    #[error("The provided Token is invalid.")]
    TokenFailure,
}

impl TcAuthError {
    /// The Tencent error code.
    pub(super) fn code(&self) -> &'static str {
        match self {
            TcAuthError::InvalidAuthorization(_) => "AuthFailure.InvalidAuthorization",
            TcAuthError::SignatureExpire { .. } => "AuthFailure.SignatureExpire",
            TcAuthError::SecretIdNotFound => "AuthFailure.SecretIdNotFound",
            TcAuthError::SignatureFailure(_) => "AuthFailure.SignatureFailure",
            TcAuthError::TokenFailure => "AuthFailure.TokenFailure",
        }
    }
}

/// The parts of a TC3 Authorization header.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    secret_id: String,
    date: String,
    service: String,
    signed_headers: String,
    signature: String,
}

fn parse(auth: &str) -> Result<Parsed, TcAuthError> {
    let bad = |m: &str| {
        TcAuthError::InvalidAuthorization(format!("Authorization header is malformed: {m}"))
    };
    let rest = auth
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(|| bad("algorithm must be TC3-HMAC-SHA256"))?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("expected key=value"))?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(bad("unknown field")),
        }
    }
    let cred = cred.ok_or_else(|| bad("missing Credential"))?;
    let scope: Vec<&str> = cred.split('/').collect();
    let [id, date, service, term] = scope.as_slice() else {
        return Err(bad("Credential must be SecretId/Date/Service/tc3_request"));
    };
    if *term != "tc3_request" {
        return Err(bad("credential scope must end with tc3_request"));
    }
    Ok(Parsed {
        secret_id: id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers: signed
            .ok_or_else(|| bad("missing SignedHeaders"))?
            .to_string(),
        signature: sig.ok_or_else(|| bad("missing Signature"))?.to_string(),
    })
}

fn utc_date(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// Verifies a TC3-signed request whose `X-TC-Timestamp` is `ts`, at server time `now`.
pub(super) fn verify(
    req: &RawRequest,
    ts: i64,
    service: &str,
    creds: &Credentials,
    now: i64,
) -> Result<(), TcAuthError> {
    let auth = req.header("authorization").ok_or_else(|| {
        TcAuthError::InvalidAuthorization("Authorization header is missing.".into())
    })?;
    let p = parse(auth)?;
    if (now - ts).abs() > MAX_SKEW_SECS {
        return Err(TcAuthError::SignatureExpire { ts, now });
    }
    let key = creds
        .find(KeyFamily::Tencentcloud, &p.secret_id)
        .ok_or(TcAuthError::SecretIdNotFound)?;
    if p.date != utc_date(ts) {
        return Err(TcAuthError::SignatureFailure(
            "Credential date does not match X-TC-Timestamp.".into(),
        ));
    }
    if p.service != service {
        return Err(TcAuthError::SignatureFailure(format!(
            "Credential service must be {service}."
        )));
    }
    if p.signed_headers != "content-type;host" {
        return Err(TcAuthError::SignatureFailure(
            "The simulator verifies SignedHeaders=content-type;host only.".into(),
        ));
    }
    let expected = tc3_signature(&Tc3Request {
        method: &req.method,
        host: req.host(),
        path: &req.path,
        query: &req.raw_query,
        content_type: req.content_type(),
        payload: &req.body,
        service,
        timestamp: ts,
        secret_id: &key.id,
        secret_key: &Secret::new(key.secret.as_str()),
    });
    if !same_signature(&expected, &p.signature) {
        return Err(TcAuthError::SignatureFailure(String::new()));
    }
    match (
        &key.token,
        req.header("x-tc-token").filter(|t| !t.is_empty()),
    ) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        _ => Err(TcAuthError::TokenFailure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue};
    use cloudimage::cloud::tencent::sign::tc3_authorization;

    const ID: &str = "AKIDsimTencentSecretId000000000000";
    const KEY: &str = "simTencentSecretKey0000000000000";

    fn signed(ts: i64, id: &str, key: &str, body: &str) -> RawRequest {
        let auth = tc3_authorization(&Tc3Request {
            method: "POST",
            host: "127.0.0.1:8080",
            path: "/tencentcloud",
            query: "",
            content_type: "application/json",
            payload: body.as_bytes(),
            service: "cvm",
            timestamp: ts,
            secret_id: id,
            secret_key: &Secret::new(key),
        });
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        RawRequest {
            method: "POST".into(),
            path: "/tencentcloud".into(),
            raw_query: String::new(),
            headers: h,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn accepts_a_good_request() {
        let c = Credentials::default();
        let r = signed(1_700_000_000, ID, KEY, "{}");
        assert_eq!(verify(&r, 1_700_000_000, "cvm", &c, 1_700_000_100), Ok(()));
    }

    #[test]
    fn rejects_each_failure() {
        let c = Credentials::default();
        let r = signed(1_700_000_000, ID, KEY, "{}");
        let err = verify(&r, 1_700_000_000, "cvm", &c, 1_700_000_301).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.SignatureExpire");
        let r2 = signed(1_700_000_000, ID, "wrong", "{}");
        let err = verify(&r2, 1_700_000_000, "cvm", &c, 1_700_000_000).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.SignatureFailure");
        let r3 = signed(1_700_000_000, "AKIDnope", KEY, "{}");
        let err = verify(&r3, 1_700_000_000, "cvm", &c, 1_700_000_000).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.SecretIdNotFound");
        let mut r4 = signed(1_700_000_000, ID, KEY, "{}");
        r4.body = Bytes::from_static(b"{\"x\":1}");
        let err = verify(&r4, 1_700_000_000, "cvm", &c, 1_700_000_000).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.SignatureFailure");
        let err = verify(&r, 1_700_000_000, "cbs", &c, 1_700_000_000).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.SignatureFailure");
    }

    #[test]
    fn sts_token_required_for_sts_keys() {
        let c = Credentials::default();
        let id = "AKIDsimTencentStsId00000000000000";
        let key = "simTencentStsKey00000000000000000";
        let mut r = signed(1_700_000_000, id, key, "{}");
        let err = verify(&r, 1_700_000_000, "cvm", &c, 1_700_000_000).unwrap_err();
        assert_eq!(err.code(), "AuthFailure.TokenFailure");
        r.headers.insert(
            "x-tc-token",
            HeaderValue::from_static("sim-tencent-sts-token"),
        );
        assert_eq!(verify(&r, 1_700_000_000, "cvm", &c, 1_700_000_000), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        assert!(parse("HMAC-SHA1 x").is_err());
        assert!(parse("TC3-HMAC-SHA256 Credential=a/b/c, SignedHeaders=x, Signature=y").is_err());
        let p = parse("TC3-HMAC-SHA256 Credential=a/2024-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature=ff").unwrap();
        assert_eq!(p.secret_id, "a");
        assert_eq!(p.signature, "ff");
    }
}
