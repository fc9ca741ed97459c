//! The Alibaba Cloud RPC API family: ECS, ENS and Apsara Stack share signing, common
//! parameters, error shape and most of the image vocabulary.

pub mod apsara;
pub mod ecs;
pub mod ens;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use url::Url;

use super::http::{host_header, iso8601_now, ClientOptions, Failure, HttpCore, Parsed};
use super::json::str_field;
use super::sign::{
    acs3_authorization, acs_canonical_query, acs_rpc_signature, sha256_hex, Acs3Request,
};
use super::{Cloud, CloudError, ErrorKind, SignatureVersion};

/// Where and how one RPC call is sent.
#[derive(Debug, Clone)]
pub struct RpcTarget {
    /// Full URL to POST to.
    pub url: Url,
    /// API version (`Version` parameter / `x-acs-version`).
    pub version: &'static str,
    /// Extra headers (Apsara organization / resource group).
    pub headers: Vec<(String, String)>,
}

/// Signed RPC transport shared by the three Alibaba clients.
pub struct AcsRpc {
    /// HTTP core (retries, limiter).
    pub core: HttpCore,
    access_key: String,
    secret: String,
    token: Option<String>,
    signature: SignatureVersion,
}

impl fmt::Debug for AcsRpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcsRpc")
            .field("cloud", &self.core.cloud)
            .field("access_key", &self.access_key)
            .field("secret", &"<redacted>")
            .field("signature", &self.signature)
            .finish()
    }
}

/// Classifies an Alibaba error `Code` (with the HTTP status as a fallback).
///
/// Throttling is any code containing `Throttling` (`Throttling`, `Throttling.User`, `Rejected.Throttling`, ...) and
/// `ServiceUnavailable` is a server failure, as aliyun/terraform-provider-alicloud alicloud/errors.go `NeedRetry`
/// retries them. Only `InvalidImageId.NotFound` means the image is gone (alicloud/service_alicloud_ecs_v2.go
/// `describeEcsImage`); other `*.NotFound` codes such as `InvalidRegionId.NotFound` name something else, and
/// treating them as gone would let a delete in a wrong region report success.
pub fn classify(code: &str, status: u16) -> ErrorKind {
    if code.starts_with("InvalidAccessKeyId")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("IncompleteSignature")
        || code.starts_with("InvalidTimeStamp")
        || code.starts_with("InvalidSecurityToken")
        || code.starts_with("SignatureNonceUsed")
        || code.starts_with("Forbidden")
        || code == "NoPermission"
    {
        ErrorKind::Auth
    } else if code == "ImageIsImporting" || code == "ImageIsCreating" {
        // ECS DeleteImage error codes (Alibaba Cloud ECS API reference, DeleteImage): 403 ImageIsImporting "the
        // image is being imported and cannot be deleted", 403 ImageIsCreating.
        ErrorKind::Busy
    } else if code.contains("Throttling") {
        ErrorKind::Throttled
    } else if code.starts_with("NoSetRoletoECSServiceAc") {
        // Documented spelling "...Account" and the historic "...Acount".
        ErrorKind::MissingRole
    } else if code.contains("Duplicate") {
        ErrorKind::Duplicate { existing_id: None }
    } else if code == "InvalidImageId.NotFound" {
        ErrorKind::NotFound
    } else if code.starts_with("InternalError")
        || code.starts_with("ServiceUnavailable")
        || code.starts_with("UnknownError")
        || status >= 500
    {
        ErrorKind::Server
    } else if code.starts_with("Invalid") || code.starts_with("MissingParameter") {
        ErrorKind::InvalidParameter
    } else {
        ErrorKind::Other
    }
}

/// Parses an RPC answer (JSON); also understands the Apsara gateway's `asapi*` / `resultCode`
/// envelopes.
pub fn parse_response(
    cloud: Cloud,
    action: &str,
    status: u16,
    body: &[u8],
) -> Result<Parsed, CloudError> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return Err(CloudError::new(
                cloud,
                if status >= 500 {
                    ErrorKind::Server
                } else {
                    ErrorKind::Other
                },
                action,
                format!("HTTP{status}"),
                format!("unexpected non-JSON response (HTTP {status})"),
                None,
            ))
        }
    };
    let request_id = str_field(&v, "RequestId").or_else(|| str_field(&v, "RequestID"));
    let ok_code = |c: &str| matches!(c, "200" | "Success" | "OK" | "0");
    let mut err: Option<(String, String)> = None;
    if let Some(code) = str_field(&v, "Code").filter(|c| !ok_code(c)) {
        err = Some((code, str_field(&v, "Message").unwrap_or_default()));
    } else if v.get("asapiSuccess").and_then(Value::as_bool) == Some(false) {
        err = Some((
            str_field(&v, "asapiErrorCode").unwrap_or_else(|| "Unknown".into()),
            str_field(&v, "asapiErrorMessage").unwrap_or_default(),
        ));
    } else if let Some(rc) = str_field(&v, "resultCode").filter(|c| !ok_code(c)) {
        err = Some((rc, str_field(&v, "resultMsg").unwrap_or_default()));
    } else if status >= 400 {
        err = Some((format!("HTTP{status}"), format!("HTTP status {status}")));
    }
    match err {
        Some((code, message)) => Err(CloudError::new(
            cloud,
            classify(&code, status),
            action,
            code,
            message,
            request_id,
        )),
        None => Ok(Parsed {
            body: v,
            request_id,
        }),
    }
}

/// The common RPC v1 parameters (everything but `Signature`).
pub fn rpc_common_params(
    action: &str,
    version: &str,
    access_key: &str,
    token: Option<&str>,
    nonce: &str,
    timestamp: &str,
) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert("Action".into(), action.into());
    p.insert("Version".into(), version.into());
    p.insert("Format".into(), "JSON".into());
    p.insert("AccessKeyId".into(), access_key.into());
    p.insert("SignatureMethod".into(), "HMAC-SHA1".into());
    p.insert("SignatureVersion".into(), "1.0".into());
    p.insert("SignatureNonce".into(), nonce.into());
    p.insert("Timestamp".into(), timestamp.into());
    if let Some(t) = token {
        p.insert("SecurityToken".into(), t.into());
    }
    p
}

impl AcsRpc {
    /// The AccessKey ID (not secret): which account the calls act for.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// Builds the transport.
    pub fn new(
        cloud: Cloud,
        access_key: String,
        secret: String,
        token: Option<String>,
        signature: SignatureVersion,
        options: &ClientOptions,
    ) -> Result<Self, CloudError> {
        Ok(AcsRpc {
            core: HttpCore::new(cloud, options, &[])?,
            access_key,
            secret,
            token,
            signature,
        })
    }

    fn build_rpc_v1(
        &self,
        target: &RpcTarget,
        action: &str,
        params: &BTreeMap<String, String>,
    ) -> reqwest::RequestBuilder {
        let mut p = rpc_common_params(
            action,
            target.version,
            &self.access_key,
            self.token.as_deref(),
            &uuid::Uuid::new_v4().to_string(),
            &iso8601_now(),
        );
        p.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let sig = acs_rpc_signature("POST", &p, &self.secret);
        p.insert("Signature".into(), sig);
        let mut rb = self.core.client.post(target.url.clone()).form(&p);
        for (k, v) in &target.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb
    }

    fn build_acs3(
        &self,
        target: &RpcTarget,
        action: &str,
        params: &BTreeMap<String, String>,
    ) -> reqwest::RequestBuilder {
        let mut url = target.url.clone();
        let query = acs_canonical_query(params);
        url.set_query(if query.is_empty() { None } else { Some(&query) });
        let mut headers = BTreeMap::new();
        headers.insert("x-acs-action".to_string(), action.to_string());
        headers.insert("x-acs-version".to_string(), target.version.to_string());
        headers.insert("x-acs-date".to_string(), iso8601_now());
        headers.insert(
            "x-acs-signature-nonce".to_string(),
            uuid::Uuid::new_v4().simple().to_string(),
        );
        headers.insert("x-acs-content-sha256".to_string(), sha256_hex(b""));
        if let Some(t) = &self.token {
            headers.insert("x-acs-security-token".to_string(), t.clone());
        }
        for (k, v) in &target.headers {
            headers.insert(k.to_ascii_lowercase(), v.clone());
        }
        let host = host_header(&url);
        let path = match url.path() {
            "" => "/",
            p => p,
        };
        let auth = acs3_authorization(&Acs3Request {
            method: "POST",
            host: &host,
            path,
            query: params,
            headers: &headers,
            payload: b"",
            access_key_id: &self.access_key,
            secret: &self.secret,
        });
        let mut rb = self.core.client.post(url.clone());
        for (k, v) in &headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb.header("Authorization", auth)
    }

    /// Sends one signed call and returns the JSON body.
    pub async fn call(
        &self,
        target: &RpcTarget,
        action: &str,
        region: &str,
        params: &BTreeMap<String, String>,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let cloud = self.core.cloud;
        let build = || {
            Ok(match self.signature {
                SignatureVersion::RpcV1 => self.build_rpc_v1(target, action, params),
                SignatureVersion::Acs3 => self.build_acs3(target, action, params),
            })
        };
        let parse = |status: u16, _h: &reqwest::header::HeaderMap, body: &[u8]| {
            parse_response(cloud, action, status, body)
        };
        self.core
            .execute(action, region, idempotent, &build, &parse)
            .await
            .map(|p| p.body)
    }
}

/// Checks a region id before it goes into a host name.
pub fn valid_region(cloud: Cloud, region: &str) -> Result<&str, CloudError> {
    if !region.is_empty()
        && region
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        Ok(region)
    } else {
        Err(CloudError::config(
            cloud,
            format!("region {region:?} is not a valid region id"),
        ))
    }
}

/// ECS / Apsara `Format` spelling.
pub fn ecs_format(f: &str) -> String {
    match f.to_ascii_lowercase().as_str() {
        "raw" => "RAW".into(),
        "vhd" => "VHD".into(),
        "vmdk" => "VMDK".into(),
        "qcow2" => "qcow2".into(),
        _ => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes() {
        assert_eq!(
            classify("InvalidAccessKeyId.NotFound", 404),
            ErrorKind::Auth
        );
        assert_eq!(classify("SignatureDoesNotMatch", 400), ErrorKind::Auth);
        assert_eq!(classify("IncompleteSignature", 400), ErrorKind::Auth);
        assert_eq!(classify("InvalidTimeStamp.Expired", 400), ErrorKind::Auth);
        assert_eq!(classify("Throttling.User", 400), ErrorKind::Throttled);
        assert_eq!(classify("Rejected.Throttling", 400), ErrorKind::Throttled);
        assert_eq!(classify("ServiceUnavailable", 503), ErrorKind::Server);
        assert_ne!(
            classify("InvalidRegionId.NotFound", 404),
            ErrorKind::NotFound
        );
        assert_ne!(
            classify("InvalidResourceGroup.NotFound", 404),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify("NoSetRoletoECSServiceAccount", 400),
            ErrorKind::MissingRole
        );
        assert_eq!(
            classify("NoSetRoletoECSServiceAcount", 400),
            ErrorKind::MissingRole
        );
        assert_eq!(
            classify("InvalidImageId.NotFound", 404),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify("InvalidImageName.Duplicated", 400),
            ErrorKind::Duplicate { existing_id: None }
        );
        assert_eq!(classify("InternalError", 500), ErrorKind::Server);
        assert_eq!(
            classify("InvalidParameter", 400),
            ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn response_envelopes() {
        let e = parse_response(
            Cloud::AliCloud,
            "A",
            400,
            br#"{"RequestId":"R1","Code":"Throttling.User","Message":"m"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.kind, e.request_id.as_deref()),
            (ErrorKind::Throttled, Some("R1"))
        );
        let e = parse_response(
            Cloud::ApsaraStack,
            "A",
            200,
            br#"{"asapiSuccess":false,"asapiErrorCode":"InvalidAccessKeyId.NotFound","asapiErrorMessage":"x"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = parse_response(
            Cloud::ApsaraStack,
            "A",
            200,
            br#"{"resultCode":-1,"resultMsg":"system error"}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, "-1");
        let ok = parse_response(
            Cloud::AliCloud,
            "A",
            200,
            br#"{"RequestId":"R","ImageId":"m-1"}"#,
        )
        .unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("R"));
        assert!(parse_response(Cloud::AliCloud, "A", 503, b"<html>")
            .unwrap_err()
            .is_retryable());
    }
}
