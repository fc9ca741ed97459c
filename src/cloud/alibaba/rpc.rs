//! The signed RPC transport ECS, ENS and Apsara Stack share: common parameters, the two signatures, the answer
//! envelopes and the error vocabulary.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde_json::Value;
use url::Url;

use super::sign::{acs3_authorization, acs_canonical_query, acs_rpc_signature, Acs3Request};
use crate::cloud::http::{host_header, json_answer, ClientOptions, Failure, HttpCore, Parsed};
use crate::cloud::json::{arr_field, now_rfc3339, str_field, u64_field};
use crate::cloud::sign::sha256_hex;
use crate::cloud::{Cloud, CloudError, ConfigError, ErrorKind, Image, Secret};

/// Which Alibaba signature scheme to use (the `alicloud` block's `signature_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// RPC HMAC-SHA1, SignatureVersion 1.0 (default; works everywhere incl. ENS).
    #[default]
    RpcV1,
    /// ACS3-HMAC-SHA256 (V3).
    Acs3,
}

/// The AccessKey pair (and STS token) calls are signed with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// AccessKey ID, named in every call.
    pub access_key: String,
    /// AccessKey secret, the signing key.
    pub secret: Secret,
    /// `SecurityToken`, for temporary keys.
    pub token: Option<Secret>,
}

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
#[derive(Debug)]
pub struct AcsRpc {
    /// HTTP core (retries, limiter).
    pub core: HttpCore,
    keys: Keys,
    signature: SignatureVersion,
}

/// What the person running Terraform should do about `NoSetRoletoECSServiceAccount`.
pub const ROLE_HINT: &str = "ECS needs the AliyunECSImageImportDefaultRole RAM role to read from OSS. Authorize it \
                             once in the RAM console (or with the ECS image import quick authorization page), then \
                             apply again.";

/// Advice for the family's own error codes: ECS may not read the bucket until its import role is authorised
/// (`NoSetRoletoECSServiceAccount`, documented spelling, and the historic `...Acount`).
pub fn hint(e: &CloudError) -> Option<&'static str> {
    e.code
        .starts_with("NoSetRoletoECSServiceAc")
        .then_some(ROLE_HINT)
}

/// Whether an error `code` answers a `DryRun` request that passed its checks. The official ECS sources disagree on
/// the code, so both are taken: the ImportImage `DryRun` parameter says "If the request passes the dry run, the
/// `DryRunOperation` error code is returned" (alibabacloud-go/ecs-20140526 client/import_image_request_model.go),
/// while the ImportImage error-code table lists 400 `DRYRUN.SUCCESS` "This request is a dryrun request with
/// successful result." (Alibaba Cloud ECS API reference, ImportImage, api.alibabacloud.com/api/Ecs/2014-05-26/
/// ImportImage), the code ECS's StartInstances documentation also names.
pub fn dry_run_passed(code: &str) -> bool {
    matches!(code, "DryRunOperation" | "DRYRUN.SUCCESS")
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
    } else if matches!(
        code,
        "ImageIsImporting"
            | "ImageIsCreating"
            | "OperationDenied.ImageCopying"
            | "OperationDenied.ImageCopyConflict"
            | "IncorrectImageStatus"
            | "InvalidOperation.Conflict"
    ) {
        // ECS DeleteImage error codes (Alibaba Cloud ECS API reference, DeleteImage): 403 ImageIsImporting "the
        // image is being imported and cannot be deleted", 403 ImageIsCreating, 403 OperationDenied.ImageCopying
        // "The Image is coping" (the image is the source of a running copy; a copy in progress cannot be deleted
        // either, CopyImage notes). CopyImage: 400 OperationDenied.ImageCopyConflict (the same image is being
        // copied already), 400 IncorrectImageStatus (the source is not Available), 409 InvalidOperation.Conflict
        // ("try again later") (Alibaba Cloud ECS API reference, CopyImage). Waiting helps with each.
        ErrorKind::Busy
    } else if code.contains("Throttling") {
        ErrorKind::Throttled
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
    } else if code.starts_with("Invalid")
        || code.starts_with("MissingParameter")
        // CopyImage's region errors (Alibaba Cloud ECS API reference, CopyImage): 400 SourceRegion.NotFound and
        // DestinationRegion.NotFound, 403 IncorrectDestinationRegion (same region) and RegionNotSupportCopy.
        || code.starts_with("SourceRegion.")
        || code.starts_with("DestinationRegion.")
        || code == "IncorrectDestinationRegion"
        || code == "RegionNotSupportCopy"
    {
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
    let v = json_answer(cloud, action, status, body)?;
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
        &self.keys.access_key
    }

    /// Builds the transport.
    pub fn new(
        cloud: Cloud,
        keys: Keys,
        signature: SignatureVersion,
        options: &ClientOptions,
    ) -> Result<Self, ConfigError> {
        // Alibaba counts its API quota per account (key), region and API, whatever the endpoint.
        let account = keys.access_key.clone();
        Ok(AcsRpc {
            core: HttpCore::new(cloud, options, &[])?.with_account(&account),
            keys,
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
            &self.keys.access_key,
            self.keys.token.as_ref().map(Secret::expose),
            &uuid::Uuid::new_v4().to_string(),
            &now_rfc3339(),
        );
        p.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let sig = acs_rpc_signature("POST", &p, &self.keys.secret);
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
        headers.insert("x-acs-date".to_string(), now_rfc3339());
        headers.insert(
            "x-acs-signature-nonce".to_string(),
            uuid::Uuid::new_v4().simple().to_string(),
        );
        headers.insert("x-acs-content-sha256".to_string(), sha256_hex(b""));
        if let Some(t) = &self.keys.token {
            headers.insert("x-acs-security-token".to_string(), t.expose().to_string());
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
            access_key_id: &self.keys.access_key,
            secret: &self.keys.secret,
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
        Err(ConfigError::new(cloud, format!("region {region:?} is not a valid region id")).into())
    }
}

/// Every account a DescribeImageSharePermission listing names, in ECS and ENS alike: `Accounts.Account[]` with the
/// ID in `field` (`AliyunId` on ECS, `AliyunUid` on ENS) and `TotalCount`, read `page_size` at a time with `fetch`
/// (pages from 1) until a page is short or the total is reached.
pub async fn share_accounts<F, Fut>(
    field: &str,
    page_size: usize,
    mut fetch: F,
) -> Result<BTreeSet<String>, CloudError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Value, CloudError>>,
{
    let mut out = BTreeSet::new();
    // An image is shared with at most a few hundred accounts: ten pages are more than any listing needs.
    for page in 1..=10 {
        let v = fetch(page).await?;
        let accounts = v
            .get("Accounts")
            .map(|a| arr_field(a, "Account"))
            .unwrap_or(&[]);
        out.extend(accounts.iter().filter_map(|a| str_field(a, field)));
        let total = u64_field(&v, "TotalCount").unwrap_or(0) as usize;
        if accounts.len() < page_size || out.len() >= total {
            break;
        }
    }
    Ok(out)
}

/// The images of a describe answer, `{"Images": {"Image": [...]}}` in ECS and ENS alike, each read by `parse`.
pub fn images(v: &Value, parse: fn(&Value) -> Image) -> Vec<Image> {
    v.get("Images")
        .map(|i| arr_field(i, "Image"))
        .unwrap_or(&[])
        .iter()
        .map(parse)
        .collect()
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
        for code in [
            "NoSetRoletoECSServiceAccount",
            "NoSetRoletoECSServiceAcount",
        ] {
            let e = CloudError::new(
                Cloud::AliCloud,
                classify(code, 400),
                "ImportImage",
                code,
                "",
                None,
            );
            assert_eq!(hint(&e), Some(ROLE_HINT), "{code}");
        }
        assert_eq!(
            classify("InvalidImageId.NotFound", 404),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify("InvalidImageName.Duplicated", 400),
            ErrorKind::Duplicate { existing_id: None }
        );
        assert_eq!(classify("InternalError", 500), ErrorKind::Server);
        for code in [
            "OperationDenied.ImageCopying",
            "OperationDenied.ImageCopyConflict",
            "IncorrectImageStatus",
        ] {
            assert_eq!(classify(code, 403), ErrorKind::Busy, "{code}");
        }
        // A region the copy cannot go to is a parameter error, not a missing image.
        assert_eq!(
            classify("DestinationRegion.NotFound", 400),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            classify("InvalidParameter", 400),
            ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn both_documented_dry_run_answers_pass() {
        assert!(dry_run_passed("DryRunOperation"));
        assert!(dry_run_passed("DRYRUN.SUCCESS"));
        assert!(!dry_run_passed("DryRun"));
        assert!(!dry_run_passed("InvalidParameter"));
        // Neither is mistaken for a retryable or parameter error when it is not a dry run's answer.
        assert_eq!(classify("DRYRUN.SUCCESS", 400), ErrorKind::Other);
        assert_eq!(classify("DryRunOperation", 400), ErrorKind::Other);
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
