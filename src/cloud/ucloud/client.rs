//! UCloud and SurferCloud (same API, different brand and endpoint): signed form POSTs.
//!
//! Both official SDKs send `application/x-www-form-urlencoded` bodies with arrays flattened as `Name.0`, `Name.1`
//! (ucloud/ucloud-sdk-go ucloud/request/encoder_form.go `FormEncoder`; ucloud-sdk-python3
//! ucloud/core/client/_client.py `_build_http_request`), so this client does the same.

use std::collections::BTreeMap;

use serde_json::Value;
use url::Url;

use super::sign::ucloud_signature;
use crate::cloud::guard::{guarded_import, image_id};
use crate::cloud::http::{unreadable_answer, ClientOptions, Failure, HttpCore, Parsed};
use crate::cloud::json::{arr_field, str_field, u64_field, unix_to_rfc3339};
use crate::cloud::ops::{self, Page, PAGE};
use crate::cloud::params::Param;
use crate::cloud::types::format_word;
use crate::cloud::{
    Cloud, CloudError, CopyRequest, ErrorKind, Image, ImageApi, ImageState, ImageUpdate,
    ImportRequest, ImportStarted, Secret,
};
use crate::cloud::{ImageFilter, ListedPage};

/// The key pair (and STS token) calls are signed with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `PublicKey`, sent with every call.
    pub public_key: String,
    /// The private key the signature is made with.
    pub private_key: Secret,
    /// `SecurityToken`, for temporary keys.
    pub security_token: Option<Secret>,
}

/// Client for the UCloud API family (UHost image actions).
#[derive(Debug)]
pub struct UCloudClient {
    core: HttpCore,
    endpoint: Url,
    keys: Keys,
    project_id: Option<String>,
}

/// Maps UCloud's image `State` word.
pub fn map_state(raw: &str) -> ImageState {
    match raw {
        "Available" => ImageState::Available,
        "Unavailable" => ImageState::Failed,
        "Deleting" | "Deleted" => ImageState::Deleting,
        // Making, Copying and anything new: still in progress.
        _ => ImageState::Importing,
    }
}

/// Classifies a non-zero `RetCode`.
///
/// What the official SDKs retry is the rule: RetCode >= 2000 is retryable (ucloud/ucloud-sdk-go
/// ucloud/error/server_error.go `NewServerCodeError`; ucloud-sdk-python3 ucloud/core/exc/_exc.py
/// `RetCodeException.retryable`), so it counts as a server-side failure. UCloud's public error codes
/// (UCloudDoc-Team/api `summary/public.md`) document 150 as unavailable (retry later), 153 as throttled ("API 请求
/// 被限流") and 170, 171, 172 and 174 as a
/// missing signature, a wrong signature, an unknown user and an unknown token; 173 and 175-179 are not documented
/// and are taken as authentication failures with them (a guess, docs/simulator.md). No official source names a
/// "not found" RetCode for images (8956 means "gone or not a custom image"), so an image is gone when DescribeImage
/// does not list it (ucloud/terraform-provider-ucloud ucloud/service_ucloud_uhost.go `describeImageById`).
pub fn classify(ret_code: i64, message: &str) -> ErrorKind {
    let m = message.to_ascii_lowercase();
    if ret_code == 153 {
        ErrorKind::Throttled
    } else if ret_code == 150 {
        // "服务不可用，请稍后重试" (same page).
        ErrorKind::Server
    } else if (170..180).contains(&ret_code) || m.contains("signature") {
        ErrorKind::Auth
    } else if ret_code >= 2000 {
        ErrorKind::Server
    } else if ret_code == 230 || m.contains("not valid") || m.contains("invalid") {
        ErrorKind::InvalidParameter
    } else {
        ErrorKind::Other
    }
}

/// Classifies an HTTP status that came without a RetCode body. The SDKs retry 429, 502, 503 and 504
/// (ucloud-sdk-go ucloud/error/server_error.go `Retryable`; ucloud-sdk-python3 `HTTPStatusException.retryable`):
/// 429 is throttling, the others a server failure.
pub fn classify_http(status: u16) -> ErrorKind {
    match status {
        429 => ErrorKind::Throttled,
        s if s >= 500 => ErrorKind::Server,
        _ => ErrorKind::Other,
    }
}

/// Parses one `UHostImageSet` entry.
pub fn parse_image(v: &Value) -> Image {
    let raw = str_field(v, "State").unwrap_or_default();
    let features: Vec<&str> = arr_field(v, "Features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    Image {
        id: str_field(v, "ImageId").unwrap_or_default(),
        name: str_field(v, "ImageName").unwrap_or_default(),
        description: str_field(v, "ImageDescription"),
        state: map_state(&raw),
        raw_state: raw,
        progress: None,
        size_gb: u64_field(v, "ImageSize"),
        created_at: u64_field(v, "CreateTime").and_then(unix_to_rfc3339),
        os_type: str_field(v, "OsType"),
        platform: None,
        os_version: str_field(v, "OsName"),
        architecture: features
            .iter()
            .any(|f| f.eq_ignore_ascii_case("Aarch64_Type"))
            .then(|| "aarch64".to_string()),
        tags: BTreeMap::new(),
        failure_reason: None,
        ..Image::default()
    }
}

/// The flattened `ImportCustomImage` parameters for a request.
pub fn import_params(req: &ImportRequest) -> BTreeMap<String, String> {
    let mut p = ops::params([("ImageName", &req.name), ("UFileUrl", &req.source_url)]);
    let o = &req.options;
    let os_type = o
        .text(Param::Platform)
        .or(o.text(Param::OsType))
        .unwrap_or("Other");
    p.insert("OsType".into(), os_type.to_string());
    p.insert(
        "OsName".into(),
        o.text(Param::OsVersion).unwrap_or("Other").to_string(),
    );
    p.insert(
        "Format".into(),
        format_word(o.text(Param::Format).unwrap_or("RAW")),
    );
    p.insert("Auth".into(), "true".into());
    if let Some(d) = &req.description {
        p.insert("ImageDescription".into(), d.clone());
    }
    p
}

/// Why a copy cannot be made without a project.
const NO_PROJECT: &str = "CopyCustomImage needs the target project (TargetProjectId): set the provider block's \
                          project_id (or UCLOUD_PROJECT_ID / SURFERCLOUD_PROJECT_ID) to the project the images are in";

/// The `CopyCustomImage` parameters (ucloud/ucloud-sdk-go services/uhost/apis.go `CopyCustomImageRequest`):
/// `SourceImageId`, `TargetProjectId` (required, even within one project), `TargetRegion` (one destination: the
/// answer then has `TargetImageId`), `TargetImageName`, `TargetImageDescription`. The source region is the
/// request's `Region`.
pub fn copy_params(req: &CopyRequest, project: &str) -> BTreeMap<String, String> {
    let mut p = ops::params([
        ("SourceImageId", &req.source_id),
        ("TargetProjectId", project),
        ("TargetRegion", &req.region),
        ("TargetImageName", &req.name),
    ]);
    if let Some(d) = &req.description {
        p.insert("TargetImageDescription".into(), d.clone());
    }
    p
}

/// The copy's id in a CopyCustomImage answer: `TargetImageId` ("只有非批量复制的时候该字段才存在"), else the
/// `Infos[]` entry (`CopyImageTaskInfo`) of `region`.
pub fn copied_id(answer: &Value, region: &str) -> Option<String> {
    str_field(answer, "TargetImageId")
        .filter(|i| !i.is_empty())
        .or_else(|| {
            arr_field(answer, "Infos")
                .iter()
                .find(|i| str_field(i, "TargetRegion").as_deref() == Some(region))
                .and_then(|i| str_field(i, "TargetImageId"))
        })
}

/// `DescribeImage` parameters for a batch of ids (`ImageIds.N` from 0).
pub fn describe_params(ids: &[String]) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        p.insert(format!("ImageIds.{i}"), id.clone());
    }
    p.insert("Limit".into(), ids.len().max(1).to_string());
    p
}

impl UCloudClient {
    /// Builds a client; `endpoint` is already checked.
    pub fn new(
        cloud: Cloud,
        endpoint: Url,
        keys: Keys,
        project_id: Option<String>,
        options: &ClientOptions,
    ) -> Result<Self, crate::cloud::ConfigError> {
        let account = format!("{endpoint} {}", keys.public_key);
        Ok(UCloudClient {
            core: HttpCore::new(cloud, options, &[])?.with_account(&account),
            endpoint,
            keys,
            project_id,
        })
    }

    /// The `UFileUrl` to send: the configured URL signed as a private URL valid for the import's timeout and an
    /// hour more (see [`super::private_url`]); `None` keeps the URL as configured (it already has a query, or names
    /// no US3 object).
    fn private_url(&self, req: &ImportRequest) -> Option<String> {
        if req.source_url.contains('?') {
            return None;
        }
        let object = crate::cloud::objects::stored_object(self.core.cloud, &req.source_url).ok()?;
        let valid = req
            .import_timeout
            .unwrap_or(std::time::Duration::from_secs(24 * 60 * 60))
            + std::time::Duration::from_secs(60 * 60);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        let expires = i64::try_from((now + valid).as_secs()).ok()?;
        Some(super::private_url::sign(
            &req.source_url,
            &object.bucket,
            &object.key,
            &self.keys.public_key,
            &self.keys.private_key,
            expires,
        ))
    }

    fn signed_form(
        &self,
        action: &str,
        region: &str,
        params: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut p = params.clone();
        p.insert("Action".into(), action.into());
        p.insert("PublicKey".into(), self.keys.public_key.clone());
        if !region.is_empty() {
            p.insert("Region".into(), region.into());
        }
        if let Some(pid) = &self.project_id {
            p.insert("ProjectId".into(), pid.clone());
        }
        if let Some(t) = &self.keys.security_token {
            p.insert("SecurityToken".into(), t.expose().to_string());
        }
        let sig = ucloud_signature(&p, &self.keys.private_key);
        p.insert("Signature".into(), sig);
        p
    }

    async fn call(
        &self,
        action: &str,
        region: &str,
        params: BTreeMap<String, String>,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let cloud = self.core.cloud;
        let build = || {
            let form = self.signed_form(action, region, &params);
            Ok(self.core.client.post(self.endpoint.clone()).form(&form))
        };
        let parse = |status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]| {
            let request_id = headers
                .get("X-UCLOUD-REQUEST-UUID")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let v: Value = match serde_json::from_slice::<Value>(body) {
                Ok(v) if v.get("RetCode").is_some() => v,
                _ => {
                    return Err(unreadable_answer(
                        cloud,
                        classify_http(status),
                        action,
                        status,
                        "unexpected non-JSON response (HTTP {status})",
                        request_id,
                    ));
                }
            };
            let ret = v.get("RetCode").and_then(Value::as_i64);
            match ret {
                Some(0) => Ok(Parsed {
                    body: v,
                    request_id,
                }),
                Some(code) => {
                    let msg = str_field(&v, "Message").unwrap_or_default();
                    Err(CloudError::new(
                        cloud,
                        classify(code, &msg),
                        action,
                        code.to_string(),
                        msg,
                        request_id,
                    ))
                }
                None => Err(unreadable_answer(
                    cloud,
                    classify_http(status),
                    action,
                    status,
                    "response has no RetCode",
                    request_id,
                )),
            }
        };
        self.core
            .execute(action, region, idempotent, &build, &parse)
            .await
            .map(|p| p.body)
    }
}

#[async_trait::async_trait]
impl ImageApi for UCloudClient {
    fn cloud(&self) -> Cloud {
        self.core.cloud
    }

    fn account(&self) -> String {
        format!("{} {}", self.endpoint, self.keys.public_key)
    }

    /// DescribeImage takes up to 100 `ImageIds`.
    fn describe_limit(&self) -> usize {
        PAGE
    }

    async fn import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        if !req.data_disks.is_empty() {
            return Err(CloudError::unsupported(
                self.core.cloud,
                "ImportCustomImage",
                "ImportCustomImage imports a single system disk; data_disks are not supported",
            ));
        }
        let mut params = import_params(req);
        let cloud = self.core.cloud;
        if let Some(signed) = self.private_url(req) {
            params.insert("UFileUrl".into(), signed);
        }
        guarded_import(
            &self.core.retry,
            || async {
                // The SDKs never retry ImportCustomImage (ucloud-sdk-go services/uhost/apis.go
                // `NewImportCustomImageRequest` sets `SetRetryable(false)`): an answered RetCode is final, only a
                // failure without an answer may have created the image.
                let v = self
                    .call("ImportCustomImage", &req.region, params.clone(), false)
                    .await
                    .map_err(|f| match f {
                        Failure::Ambiguous(e) if e.code.parse::<i64>().is_ok() => {
                            Failure::Definite(e)
                        }
                        other => other,
                    })?;
                image_id(cloud, "ImportCustomImage", &v).map_err(Failure::Definite)
            },
            || self.find_images_by_name(&req.region, &req.name),
        )
        .await
        .map(ImportStarted::of)
    }

    /// CopyCustomImage ([`copy_params`]) into this client's project: `TargetProjectId` is required, and the copy
    /// must land where this client looks for it (its `ProjectId`). Without a configured project the client cannot
    /// name one, so it refuses before calling. The SDKs never retry the call (ucloud-sdk-go `NewCopyCustomImageRequest`
    /// sets `SetRetryable(false)`; docs/en-us/Retry.md lists CopyCustomImage), and it has no token: an unanswered
    /// call is not sent again, the copy is looked for by name in the destination instead. The copy is `Copying`
    /// until `Available` (or `Unavailable`) (services/uhost/models.go `UHostImageSet.State`); UCloud cannot cancel
    /// a copy (no such action in services/uhost), so [`ImageApi::cancel_copy`] keeps its default.
    /// CopyCustomImage requires `TargetProjectId`, which only the provider block's `project_id` names.
    fn copy_problem(&self) -> Option<String> {
        self.project_id
            .as_deref()
            .filter(|p| !p.is_empty())
            .is_none()
            .then(|| NO_PROJECT.to_string())
    }

    async fn copy_image(&self, req: &CopyRequest) -> Result<String, CloudError> {
        let cloud = self.core.cloud;
        let Some(project) = self.project_id.as_deref().filter(|p| !p.is_empty()) else {
            return Err(CloudError::new(
                cloud,
                ErrorKind::Config,
                "CopyCustomImage",
                "Config",
                NO_PROJECT,
                None,
            ));
        };
        let params = copy_params(req, project);
        guarded_import(
            &self.core.retry,
            || async {
                let v = self
                    .call("CopyCustomImage", &req.source_region, params.clone(), false)
                    .await
                    .map_err(|f| match f {
                        // An answered RetCode is final; only a failure without an answer may have made the copy.
                        Failure::Ambiguous(e) if e.code.parse::<i64>().is_ok() => {
                            Failure::Definite(e)
                        }
                        other => other,
                    })?;
                copied_id(&v, &req.region).ok_or_else(|| {
                    Failure::Definite(CloudError::new(
                        cloud,
                        ErrorKind::Other,
                        "CopyCustomImage",
                        "NoImageId",
                        "response has no TargetImageId",
                        None,
                    ))
                })
            },
            || self.find_images_by_name(&req.region, &req.name),
        )
        .await
    }

    async fn describe_images(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Image>, CloudError> {
        ops::describe_in_chunks(ids, PAGE, ops::no_id_fault, |chunk| async move {
            let v = self
                .call("DescribeImage", region, describe_params(&chunk), true)
                .await?;
            Ok(arr_field(&v, "ImageSet").iter().map(parse_image).collect())
        })
        .await
    }

    async fn find_images_by_name(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Vec<Image>, CloudError> {
        ops::find_by_name(name, |page| async move {
            let p = ops::params([
                ("ImageType", "Custom"),
                ("Limit", &PAGE.to_string()),
                ("Offset", &(page * PAGE).to_string()),
            ]);
            let v = self.call("DescribeImage", region, p, true).await?;
            Ok(Page::of(
                arr_field(&v, "ImageSet").iter().map(parse_image).collect(),
                &v,
            ))
        })
        .await
    }

    async fn list_images(
        &self,
        region: &str,
        _filter: &ImageFilter,
        page: usize,
    ) -> Result<ListedPage, CloudError> {
        // DescribeImage has no name or tag filter (ucloud-sdk-go services/uhost `DescribeImageRequest`): the
        // caller filters. `ImageType=Custom` keeps base and marketplace images out.
        let p = ops::params([
            ("ImageType", "Custom"),
            ("Limit", &PAGE.to_string()),
            ("Offset", &(page * PAGE).to_string()),
        ]);
        let v = self.call("DescribeImage", region, p, true).await?;
        let images: Vec<Image> = arr_field(&v, "ImageSet").iter().map(parse_image).collect();
        let Page { images, total } = Page::of(images, &v);
        let n = images.len();
        Ok(ListedPage::new(images, n, page, PAGE, total))
    }

    async fn update_image(
        &self,
        _region: &str,
        _id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError> {
        let tags_change = update.tags.as_ref().is_some_and(|t| !t.is_empty());
        if update.name.is_none() && update.description.is_none() && !tags_change {
            return Ok(());
        }
        Err(CloudError::unsupported(
            self.core.cloud,
            "UpdateImage",
            "the UCloud API cannot rename, re-describe or tag an existing custom image; changing these requires a new image",
        ))
    }

    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError> {
        let p = ops::params([("ImageId", id)]);
        let ids = [id.to_string()];
        // No official source names UCloud's "no such image" RetCode: the image is gone when DescribeImage, asked
        // for exactly this id in this region, does not list it.
        ops::delete_confirmed(
            || self.call("TerminateCustomImage", region, p, true),
            |kind| !matches!(kind, ErrorKind::Auth | ErrorKind::Config),
            || self.describe_images(region, &ids),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{Options, Param};
    use std::sync::Arc;

    fn client(url: &str) -> UCloudClient {
        UCloudClient::new(
            Cloud::UCloud,
            Url::parse(url).unwrap(),
            Keys {
                public_key: "pub".into(),
                private_key: Secret::new("priv"),
                security_token: None,
            },
            Some("org-1".into()),
            &fast_options(),
        )
        .unwrap()
    }

    #[test]
    fn state_mapping_and_parse() {
        assert_eq!(map_state("Making"), ImageState::Importing);
        assert_eq!(map_state("Copying"), ImageState::Importing);
        assert_eq!(map_state("Available"), ImageState::Available);
        assert_eq!(map_state("Unavailable"), ImageState::Failed);
        let img = parse_image(&serde_json::json!({
            "ImageId": "uimage-1", "ImageName": "n", "State": "Unavailable",
            "CreateTime": 1700000000, "ImageSize": 20, "OsType": "Linux", "OsName": "CentOS 7",
            "Features": ["CloudInit", "Aarch64_Type"]
        }));
        assert_eq!(img.state, ImageState::Failed);
        assert_eq!(img.raw_state, "Unavailable");
        assert_eq!(img.size_gb, Some(20));
        assert_eq!(img.architecture.as_deref(), Some("aarch64"));
        assert_eq!(img.created_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        let sparse = parse_image(&serde_json::json!({"ImageId": "x"}));
        assert_eq!(sparse.state, ImageState::Importing);
    }

    #[test]
    fn classification() {
        assert_eq!(classify(171, "Signature VerifyAC Error"), ErrorKind::Auth);
        assert_eq!(classify(5000, "internal"), ErrorKind::Server);
        assert_eq!(
            classify(230, "Params [X] not available"),
            ErrorKind::InvalidParameter
        );
        // 8956 is "gone or not a custom image": it must not decide "gone" by itself. 153 is documented throttling.
        assert_ne!(
            classify(8956, "资源不存在或非自制镜像"),
            ErrorKind::NotFound
        );
        assert_eq!(classify(153, "whatever"), ErrorKind::Throttled);
        assert_eq!(classify_http(429), ErrorKind::Throttled);
        assert_eq!(classify_http(503), ErrorKind::Server);
    }

    #[test]
    fn describe_params_from_zero() {
        let p = describe_params(&["a".into(), "b".into()]);
        assert_eq!(p["ImageIds.0"], "a");
        assert_eq!(p["ImageIds.1"], "b");
        assert!(!p.contains_key("ImageIds.2"));
    }

    #[tokio::test]
    async fn signed_form_request_and_parse() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"RetCode":0,"Action":"DescribeImageResponse","TotalCount":1,"ImageSet":[{"ImageId":"uimage-a","ImageName":"n","State":"Available"}]}"#.into())
        }))
        .await;
        let c = client(&format!("{url}/ucloud"));
        let imgs = c
            .describe_images("cn-bj2", &["uimage-a".into(), "uimage-b".into()])
            .await
            .unwrap();
        assert_eq!(imgs.len(), 1);
        assert_eq!(imgs[0].state, ImageState::Available);
        let log = log.lock().unwrap();
        let r = &log[0];
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/ucloud");
        assert_eq!(
            r.header("Content-Type"),
            Some("application/x-www-form-urlencoded")
        );
        let f = r.form();
        assert_eq!(f["Action"], "DescribeImage");
        assert_eq!(f["ImageIds.0"], "uimage-a");
        assert_eq!(f["ImageIds.1"], "uimage-b");
        assert_eq!(f["ProjectId"], "org-1");
        assert_eq!(f["Region"], "cn-bj2");
        assert_eq!(f["Signature"], ucloud_signature(&f, &Secret::new("priv")));
    }

    /// The import sends `UFileUrl` signed as a private URL valid for the import's timeout and an hour more; a URL
    /// that already has a query is sent as it is.
    #[tokio::test]
    async fn imports_send_a_signed_private_url() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"RetCode":0,"ImageId":"uimage-new"}"#.into())
        }))
        .await;
        let c = client(&url);
        let mut req = ImportRequest {
            region: "cn-bj2".into(),
            name: "web".into(),
            source_url: "https://images.cn-bj.ufileos.com/dir/a%20b.qcow2".into(),
            options: Options::of([(Param::Format, "qcow2".into())]),
            import_timeout: Some(std::time::Duration::from_secs(3600)),
            ..ImportRequest::default()
        };
        c.import(&req).await.unwrap();
        req.source_url = "https://images.cn-bj.ufileos.com/x.qcow2?Expires=1&Signature=s".into();
        c.import(&req).await.unwrap();
        let log = log.lock().unwrap();
        let sent = log[0].form()["UFileUrl"].clone();
        let (base, query) = sent.split_once('?').unwrap();
        assert_eq!(base, "https://images.cn-bj.ufileos.com/dir/a%20b.qcow2");
        let q: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        let expires: i64 = q["Expires"].parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(
            (now + 7100..=now + 7300).contains(&expires),
            "{expires} vs {now}"
        );
        assert_eq!(q["UCloudPublicKey"], "pub");
        assert_eq!(
            q["Signature"],
            super::super::private_url::signature(
                &Secret::new("priv"),
                "images",
                "dir/a b.qcow2",
                expires
            )
        );
        assert_eq!(log[0].form()["Auth"], "true");
        assert_eq!(
            log[1].form()["UFileUrl"],
            "https://images.cn-bj.ufileos.com/x.qcow2?Expires=1&Signature=s"
        );
    }

    #[tokio::test]
    async fn http_429_without_json_is_throttling_and_retried() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n == 0 {
                (429, "Too Many Requests".into())
            } else {
                (200, r#"{"RetCode":0,"TotalCount":0,"ImageSet":[]}"#.into())
            }
        }))
        .await;
        let got = client(&url)
            .describe_images("cn-bj2", &["uimage-a".into()])
            .await
            .unwrap();
        assert!(got.is_empty());
        assert_eq!(log.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn delete_is_gone_only_when_describe_no_longer_lists_it() {
        // TerminateCustomImage fails with a RetCode no source explains; DescribeImage decides.
        let listed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let l2 = listed.clone();
        let (url, _log) = serve(Arc::new(move |_, r: &crate::cloud::testutil::Recorded| {
            match r.form()["Action"].as_str() {
                "TerminateCustomImage" => (200, r#"{"RetCode":8956,"Message":"x"}"#.into()),
                _ if l2.load(std::sync::atomic::Ordering::SeqCst) => (200, r#"{"RetCode":0,"TotalCount":1,"ImageSet":[{"ImageId":"uimage-a","State":"Available"}]}"#.into()),
                _ => (200, r#"{"RetCode":0,"TotalCount":0,"ImageSet":[]}"#.into()),
            }
        }))
        .await;
        let c = client(&url);
        c.delete_image("cn-bj2", "uimage-a").await.unwrap();
        listed.store(true, std::sync::atomic::Ordering::SeqCst);
        let e = c.delete_image("cn-bj2", "uimage-a").await.unwrap_err();
        assert_eq!(e.code, "8956");
    }

    #[tokio::test]
    async fn import_5xx_looks_up_by_name_before_resending() {
        let (url, log) = serve(Arc::new(|n, r: &crate::cloud::testutil::Recorded| {
            let action = r.form().get("Action").cloned().unwrap_or_default();
            match (n, action.as_str()) {
                (0, "ImportCustomImage") => (502, "bad gateway".into()),
                (_, "DescribeImage") => (200, r#"{"RetCode":0,"TotalCount":1,"ImageSet":[{"ImageId":"uimage-made","ImageName":"img","State":"Making"}]}"#.into()),
                _ => (200, r#"{"RetCode":0,"ImageId":"uimage-second"}"#.into()),
            }
        }))
        .await;
        let c = client(&url);
        let req = ImportRequest {
            region: "cn-bj2".into(),
            name: "img".into(),
            source_url: "https://b.cn-bj.ufileos.com/x.qcow2".into(),
            options: Options::of([(Param::Format, "qcow2".into())]),
            ..Default::default()
        };
        assert_eq!(c.import(&req).await.unwrap().image_id, "uimage-made");
        let actions: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.form()["Action"].clone())
            .collect();
        assert_eq!(actions, ["ImportCustomImage", "DescribeImage"]);
        let first = log.lock().unwrap()[0].form();
        assert_eq!(first["Format"], "qcow2");
        assert_eq!(first["Auth"], "true");
        assert_eq!(first["UFileUrl"], "https://b.cn-bj.ufileos.com/x.qcow2");
    }

    #[tokio::test]
    async fn auth_error_is_classified_and_not_retried() {
        let (url, log) = serve(Arc::new(|_, _| {
            (
                200,
                r#"{"RetCode":171,"Message":"Signature VerifyAC Error"}"#.into(),
            )
        }))
        .await;
        let e = client(&url)
            .describe_images("cn-bj2", &["x".into()])
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.code, "171");
        assert_eq!(log.lock().unwrap().len(), 1);
        assert!(!e.to_string().contains("priv"));
    }

    fn copy_req() -> CopyRequest {
        CopyRequest {
            source_region: "cn-bj2".into(),
            source_id: "uimage-src".into(),
            region: "hk".into(),
            name: "copy".into(),
            description: Some("d".into()),
            idempotency_token: "unused".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn copy_custom_image_request_and_answer() {
        let (url, log) = serve(Arc::new(|_, _| {
            (
                200,
                r#"{"Action":"CopyCustomImageResponse","RetCode":0,"TargetImageId":"uimage-copy"}"#
                    .into(),
            )
        }))
        .await;
        let id = client(&url).copy_image(&copy_req()).await.unwrap();
        assert_eq!(id, "uimage-copy");
        let f = log.lock().unwrap()[0].form();
        assert_eq!(f["Action"], "CopyCustomImage");
        assert_eq!(f["Region"], "cn-bj2");
        assert_eq!(f["ProjectId"], "org-1");
        assert_eq!(f["SourceImageId"], "uimage-src");
        assert_eq!(f["TargetProjectId"], "org-1");
        assert_eq!(f["TargetRegion"], "hk");
        assert_eq!(f["TargetImageName"], "copy");
        assert_eq!(f["TargetImageDescription"], "d");
        assert_eq!(
            copied_id(
                &serde_json::json!({"Infos": [{"TargetImageId": "uimage-b", "TargetRegion": "hk"}]}),
                "hk"
            )
            .as_deref(),
            Some("uimage-b")
        );
    }

    #[tokio::test]
    async fn copy_is_never_resent_and_needs_a_project() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "CopyCustomImage" => (502, "bad gateway".into()),
                _ => (200, r#"{"RetCode":0,"TotalCount":0,"ImageSet":[]}"#.into()),
            }
        }))
        .await;
        let e = client(&url).copy_image(&copy_req()).await.unwrap_err();
        assert!(e.message.contains("not sent again"), "{}", e.message);
        let copies = log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.form()["Action"] == "CopyCustomImage")
            .count();
        assert_eq!(copies, 1);
        let no_project = UCloudClient::new(
            Cloud::UCloud,
            Url::parse(&url).unwrap(),
            Keys {
                public_key: "pub".into(),
                private_key: Secret::new("priv"),
                security_token: None,
            },
            None,
            &fast_options(),
        )
        .unwrap();
        let e = no_project.copy_image(&copy_req()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(!no_project.cancel_copy("hk", "uimage-copy").await.unwrap());
    }
}
