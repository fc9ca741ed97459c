//! Tencent Cloud CVM image API (version 2017-03-12), JSON POSTs signed with TC3-HMAC-SHA256.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use url::Url;

use super::sign::{tc3_authorization, Tc3Request};
use crate::cloud::guard::{answered_or_found, guarded_import};
use crate::cloud::http::{
    host_header, json_answer, status_kind, unreadable_answer, ClientOptions, Failure, HttpCore,
    Parsed,
};
use crate::cloud::json::{arr_field, percent, str_field, u64_field};
use crate::cloud::ops::{self, Page, PAGE};
use crate::cloud::params::Param;
use crate::cloud::{
    Cloud, CloudError, ConfigError, CopyRequest, ErrorKind, Image, ImageApi, ImageState,
    ImageUpdate, ImportRequest, ImportStarted, Secret,
};
use crate::cloud::{ImageFilter, ListedPage};

/// CVM API version.
pub const TENCENT_VERSION: &str = "2017-03-12";
const SERVICE: &str = "cvm";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The SecretId / SecretKey pair (and STS token) calls are signed with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// SecretId, named in every signature.
    pub secret_id: String,
    /// SecretKey, the signing key.
    pub secret_key: Secret,
    /// `X-TC-Token`, for temporary keys.
    pub token: Option<Secret>,
}

/// Client for Tencent Cloud CVM images.
#[derive(Debug)]
pub struct TencentClient {
    core: HttpCore,
    endpoint: Url,
    keys: Keys,
    plan_dry_run: bool,
}

/// Maps Tencent's `ImageState`.
pub fn map_state(raw: &str) -> ImageState {
    match raw {
        "NORMAL" | "USING" => ImageState::Available,
        "IMPORTFAILED" | "CREATEFAILED" => ImageState::Failed,
        "DELETING" => ImageState::Deleting,
        // IMPORTING, CREATING, SYNCING and anything new.
        _ => ImageState::Importing,
    }
}

/// Classifies `Response.Error.Code`.
///
/// Only `InvalidImageId.NotFound` means "the image is gone" (tencentcloud-sdk-go cvm/v20170312 errors.go
/// `INVALIDIMAGEID_NOTFOUND`). Other `*.NotFound` codes name something else: `InvalidRegion.NotFound` is a wrong
/// region, and treating it as gone would report a delete that deleted nothing as done.
pub fn classify(code: &str) -> ErrorKind {
    if code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") {
        ErrorKind::Auth
    } else if code.starts_with("RequestLimitExceeded") {
        ErrorKind::Throttled
    } else if matches!(
        code,
        "InvalidImageId.IncorrectState"
            | "FailedOperation.InvalidImageState"
            | "InvalidParameterValue.InvalidImageState"
            | "MutexOperation.TaskRunning"
    ) {
        // tencentcloud-sdk-go cvm/v20170312 errors.go: INVALIDIMAGEID_INCORRECTSTATE, "the image is in a state
        // that does not allow this operation" (DeleteImages of an image still importing, or SYNCING: "当镜像状态为
        // 创建中、复制中、导入中时, 不允许删除", client.go DeleteImages); FAILEDOPERATION_INVALIDIMAGESTATE "镜像状态
        // 繁忙，请稍后重试" and INVALIDPARAMETERVALUE_INVALIDIMAGESTATE "镜像被其他操作占用" (SyncImages);
        // MUTEXOPERATION_TASKRUNNING (DeleteImages). Waiting helps with each.
        ErrorKind::Busy
    } else if code == "InvalidImageName.Duplicate" {
        ErrorKind::Duplicate { existing_id: None }
    } else if code == "InvalidImageId.NotFound" {
        ErrorKind::NotFound
    } else if code.starts_with("InternalError")
        || code.starts_with("InternalServerError")
        || code == "ServiceUnavailable"
    {
        ErrorKind::Server
    } else if code.starts_with("InvalidParameter")
        || code.starts_with("MissingParameter")
        || code.starts_with("UnknownParameter")
        || code.starts_with("InvalidImage")
        || code.starts_with("InvalidRegion")
        // SyncImages: UnsupportedOperation.Region, .EncryptedImagesNotSupported, ... (errors.go).
        || code.starts_with("UnsupportedOperation")
    {
        ErrorKind::InvalidParameter
    } else {
        ErrorKind::Other
    }
}

/// Tencent's spelling of an architecture on the way out. ImportImage takes `x86_64`, `i386` and `arm_64`
/// (tencentcloud-sdk-go cvm/v20170312 models.go, `ImportImageRequestParams.Architecture`); the provider's word is
/// `arm64`.
pub fn architecture_out(user: &str) -> &str {
    if user.eq_ignore_ascii_case("arm64") {
        "arm_64"
    } else {
        user
    }
}

/// The provider's spelling of an architecture Tencent reports. DescribeImages reports `x86_64`, `arm` and `i386`
/// (cvm/v20170312 models.go, `Image.Architecture`); `arm` (and ImportImage's `arm_64`) read back as `arm64`, so an
/// ARM image does not look changed.
pub fn architecture_in(reported: &str) -> String {
    match reported {
        "arm" | "arm_64" | "aarch64" => "arm64".to_string(),
        other => other.to_string(),
    }
}

/// Parses one entry of `ImageSet`.
pub fn parse_image(v: &Value) -> Image {
    let raw = str_field(v, "ImageState").unwrap_or_default();
    let tags = arr_field(v, "Tags")
        .iter()
        .filter_map(|t| {
            Some((
                str_field(t, "Key")?,
                str_field(t, "Value").unwrap_or_default(),
            ))
        })
        .collect();
    Image {
        id: str_field(v, "ImageId").unwrap_or_default(),
        name: str_field(v, "ImageName").unwrap_or_default(),
        description: str_field(v, "ImageDescription"),
        state: map_state(&raw),
        raw_state: raw,
        progress: percent(v, "SyncPercent"),
        size_gb: u64_field(v, "ImageSize"),
        created_at: str_field(v, "CreatedTime"),
        os_type: None,
        platform: str_field(v, "Platform"),
        os_version: str_field(v, "OsName"),
        architecture: str_field(v, "Architecture").map(|a| architecture_in(&a)),
        tags,
        failure_reason: None,
        ..Image::default()
    }
}

/// Accounts sent in one ModifyImageSharePermission (the documentation gives no per-call limit; a guess kept small,
/// docs/simulator.md).
const SHARE_CALL: usize = 100;

/// How many `Filters` one DescribeImages takes ("每次请求的`Filters`的上限为10", tencentcloud-sdk-go cvm/v20170312).
const MAX_FILTERS: usize = 10;

/// The `ImportImage` body for a request.
pub fn import_body(req: &ImportRequest) -> Value {
    let o = &req.options;
    let mut b = serde_json::Map::new();
    b.insert("ImageName".into(), json!(req.name));
    b.insert("ImageUrl".into(), json!(req.source_url));
    b.insert(
        "Architecture".into(),
        json!(architecture_out(
            o.text(Param::Architecture).unwrap_or("x86_64")
        )),
    );
    if let Some(os) = o.text(Param::Platform).or(o.text(Param::OsType)) {
        b.insert("OsType".into(), json!(os));
    }
    if let Some(v) = o.text(Param::OsVersion) {
        b.insert("OsVersion".into(), json!(v));
    }
    if let Some(d) = &req.description {
        b.insert("ImageDescription".into(), json!(d));
    }
    if let Some(l) = o.text(Param::LicenseType) {
        b.insert("LicenseType".into(), json!(l));
    }
    if let Some(m) = o.text(Param::BootMode) {
        b.insert("BootMode".into(), json!(m));
    }
    if o.flag(Param::Force) {
        b.insert("Force".into(), json!(true));
    }
    if let Some(f) = o.text(Param::ImageFamily) {
        b.insert("ImageFamily".into(), json!(f));
    }
    if !req.tags.is_empty() {
        let tags: Vec<Value> = req
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        b.insert(
            "TagSpecification".into(),
            json!([{"ResourceType": "image", "Tags": tags}]),
        );
    }
    if !req.data_disks.is_empty() {
        let disks: Vec<Value> = req
            .data_disks
            .iter()
            .map(|d| json!({"ImageUrl": d.source_url}))
            .collect();
        b.insert("ImportImageDataDiskList".into(), Value::Array(disks));
    }
    Value::Object(b)
}

/// The `SyncImages` body (tencentcloud-sdk-go cvm/v20170312 `SyncImagesRequestParams`): one image per call ("该
/// 接口每次调用只支持同步一个镜像"), one destination here, `ImageName` for the copy (the source's name otherwise) and
/// `ImageSetRequired` so that the answer names the copy (`ImageSet[]` of `{ImageId, Region}`). The source region is
/// the request's `Region`. No token, tags or description: the call takes none.
pub fn sync_body(req: &CopyRequest) -> Value {
    json!({
        "ImageIds": [req.source_id],
        "DestinationRegions": [req.region],
        "ImageName": req.name,
        "ImageSetRequired": true,
    })
}

/// The copy in `region` that a SyncImages answer names (`ImageSet[].Region` / `.ImageId`); empty when it names none.
pub fn synced_id(answer: &Value, region: &str) -> String {
    arr_field(answer, "ImageSet")
        .iter()
        .find(|i| str_field(i, "Region").as_deref() == Some(region))
        .and_then(|i| str_field(i, "ImageId"))
        .unwrap_or_default()
}

impl TencentClient {
    /// Builds a client; `endpoint` is already checked.
    pub fn new(endpoint: Url, keys: Keys, options: &ClientOptions) -> Result<Self, ConfigError> {
        let account = format!("{endpoint} {}", keys.secret_id);
        Ok(TencentClient {
            // SyncImages: 10 calls a second, like ImportImage (cloud.tencent.com/document/product/213/15711).
            core: HttpCore::new(
                Cloud::TencentCloud,
                options,
                &[("ImportImage", 10.0), ("SyncImages", 10.0)],
            )?
            .with_account(&account),
            endpoint,
            keys,
            plan_dry_run: false,
        })
    }

    /// Makes [`ImageApi::check_import`] send ImportImage with `DryRun` (the `plan_dry_run` provider setting).
    pub fn with_plan_dry_run(mut self, on: bool) -> Self {
        self.plan_dry_run = on;
        self
    }

    async fn call(
        &self,
        action: &str,
        region: &str,
        body: &Value,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let payload = serde_json::to_vec(body).map_err(|e| {
            Failure::Definite(CloudError::new(
                Cloud::TencentCloud,
                ErrorKind::Other,
                action,
                "Encode",
                format!("cannot encode request: {e}"),
                None,
            ))
        })?;
        let host = host_header(&self.endpoint);
        let path = match self.endpoint.path() {
            "" => "/",
            p => p,
        };
        let query = self.endpoint.query().unwrap_or("");
        let build = || {
            let ts = time::OffsetDateTime::now_utc().unix_timestamp();
            let auth = tc3_authorization(&Tc3Request {
                method: "POST",
                host: &host,
                path,
                query,
                content_type: CONTENT_TYPE,
                payload: &payload,
                service: SERVICE,
                timestamp: ts,
                secret_id: &self.keys.secret_id,
                secret_key: &self.keys.secret_key,
            });
            let mut rb = self
                .core
                .client
                .post(self.endpoint.clone())
                .header("Content-Type", CONTENT_TYPE)
                .header("Authorization", auth)
                .header("X-TC-Action", action)
                .header("X-TC-Version", TENCENT_VERSION)
                .header("X-TC-Timestamp", ts.to_string())
                .body(payload.clone());
            if !region.is_empty() {
                rb = rb.header("X-TC-Region", region);
            }
            if let Some(t) = &self.keys.token {
                rb = rb.header("X-TC-Token", t.expose());
            }
            Ok(rb)
        };
        let parse = |status: u16, _h: &reqwest::header::HeaderMap, body: &[u8]| {
            parse_response(action, status, body)
        };
        self.core
            .execute(action, region, idempotent, &build, &parse)
            .await
            .map(|p| p.body)
    }
}

/// Parses a TC3 API answer: `{"Response": {..., "Error": {...}, "RequestId": ...}}`.
pub fn parse_response(action: &str, status: u16, body: &[u8]) -> Result<Parsed, CloudError> {
    let cloud = Cloud::TencentCloud;
    let v = json_answer(cloud, action, status, body)?;
    let resp = v.get("Response").cloned().unwrap_or(Value::Null);
    let request_id = str_field(&resp, "RequestId");
    if let Some(err) = resp.get("Error") {
        let code = str_field(err, "Code").unwrap_or_else(|| "Unknown".into());
        let msg = str_field(err, "Message").unwrap_or_default();
        return Err(CloudError::new(
            cloud,
            classify(&code),
            action,
            code,
            msg,
            request_id,
        ));
    }
    if resp.is_null() {
        return Err(unreadable_answer(
            cloud,
            status_kind(status),
            action,
            status,
            "response has no Response object",
            None,
        ));
    }
    Ok(Parsed {
        body: resp,
        request_id,
    })
}

#[async_trait::async_trait]
impl ImageApi for TencentClient {
    fn cloud(&self) -> Cloud {
        Cloud::TencentCloud
    }

    fn account(&self) -> String {
        format!("{} {}", self.endpoint, self.keys.secret_id)
    }

    /// DescribeImages takes up to 100 `ImageIds`.
    fn describe_limit(&self) -> usize {
        PAGE
    }

    async fn import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        let body = import_body(req);
        let lookup = || self.find_images_by_name(&req.region, &req.name);
        let answered = guarded_import(
            &self.core.retry,
            || async {
                let v = self.call("ImportImage", &req.region, &body, false).await?;
                Ok(str_field(&v, "ImageId").unwrap_or_default())
            },
            lookup,
        )
        .await?;
        // Older API revisions answer ImportImage with only a RequestId: then the new image is found by name.
        answered_or_found(
            Cloud::TencentCloud,
            "ImportImage",
            &req.name,
            &self.core.retry,
            answered,
            lookup,
        )
        .await
        .map(ImportStarted::of)
    }

    /// ImportImage with `DryRun: true` ("only check the parameters, do not run the task", cvm/v20170312
    /// models.go `ImportImageRequestParams.DryRun`). Success is the common error `DryRunOperation` ("the request
    /// would succeed, except that DryRun was passed", Tencent Cloud API 3.0 common error codes); some gateways
    /// answer a plain success instead, which counts too.
    async fn check_import(&self, req: &ImportRequest) -> Result<bool, CloudError> {
        if !self.plan_dry_run {
            return Ok(false);
        }
        let mut body = import_body(req);
        if let Value::Object(m) = &mut body {
            m.insert("DryRun".into(), json!(true));
        }
        match self.call("ImportImage", &req.region, &body, true).await {
            Ok(_) => Ok(true),
            Err(f) => {
                let e = f.into_error();
                if e.code == "DryRunOperation" {
                    Ok(true)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// SyncImages ([`sync_body`]). It has no idempotency token, so a call that may have reached the cloud is never
    /// sent again: the copy is looked for by name in the destination region instead (as for ImportImage). The copy
    /// is listed there as `SYNCING` with `SyncPercent` until `NORMAL` (or `CREATEFAILED`) (cvm/v20170312
    /// `Image.ImageState`). Tencent cannot cancel a sync (no such action in cvm/v20170312 client.go), so
    /// [`ImageApi::cancel_copy`] keeps its default.
    async fn copy_image(&self, req: &CopyRequest) -> Result<String, CloudError> {
        let body = sync_body(req);
        let lookup = || self.find_images_by_name(&req.region, &req.name);
        let answered = guarded_import(
            &self.core.retry,
            || async {
                let v = self
                    .call("SyncImages", &req.source_region, &body, false)
                    .await?;
                Ok(synced_id(&v, &req.region))
            },
            lookup,
        )
        .await?;
        answered_or_found(
            Cloud::TencentCloud,
            "SyncImages",
            &req.name,
            &self.core.retry,
            answered,
            lookup,
        )
        .await
    }

    /// One SyncImages per image and copy name, with every destination region of the copies of that name
    /// (`DestinationRegions` takes several: "支持自定义镜像向多个地域同步", cloud.tencent.com/document/api/213/44007):
    /// 10 calls a second go three times as far. The copies are told apart by `ImageSet[].Region`; one the answer
    /// does not name, or a call that may have reached the cloud unanswered, is looked for by name in its region,
    /// never sent again.
    async fn copy_images(&self, reqs: &[CopyRequest]) -> Vec<Result<String, CloudError>> {
        let mut groups: std::collections::BTreeMap<(&str, &str, &str), Vec<usize>> =
            Default::default();
        for (i, r) in reqs.iter().enumerate() {
            groups
                .entry((&r.source_region, &r.source_id, &r.name))
                .or_default()
                .push(i);
        }
        let mut out: Vec<Option<Result<String, CloudError>>> = vec![None; reqs.len()];
        for ((source_region, source_id, name), members) in groups {
            if let [only] = members.as_slice() {
                out[*only] = Some(self.copy_image(&reqs[*only]).await);
                continue;
            }
            let regions: Vec<&str> = members.iter().map(|&i| reqs[i].region.as_str()).collect();
            let body = json!({
                "ImageIds": [source_id],
                "DestinationRegions": regions,
                "ImageName": name,
                "ImageSetRequired": true,
            });
            let sent = self.call("SyncImages", source_region, &body, false).await;
            for &i in &members {
                let req = &reqs[i];
                let lookup = || self.find_images_by_name(&req.region, &req.name);
                let answered = match &sent {
                    Ok(v) => Ok(synced_id(v, &req.region)),
                    Err(f) => {
                        let f = f.clone();
                        guarded_import(&self.core.retry, || async { Err(f) }, lookup).await
                    }
                };
                out[i] = Some(match answered {
                    Ok(id) => {
                        answered_or_found(
                            Cloud::TencentCloud,
                            "SyncImages",
                            &req.name,
                            &self.core.retry,
                            id,
                            lookup,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                });
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(CloudError::new(
                        Cloud::TencentCloud,
                        ErrorKind::Other,
                        "SyncImages",
                        "NotSent",
                        "no copy call was made for this region",
                        None,
                    ))
                })
            })
            .collect()
    }

    async fn describe_images(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Image>, CloudError> {
        // One malformed or unknown id fails a whole list with `InvalidImageId.*`.
        let bad_id = |e: &CloudError| e.code.starts_with("InvalidImageId");
        ops::describe_in_chunks(ids, PAGE, bad_id, |chunk| async move {
            let body = json!({"ImageIds": chunk, "Limit": PAGE});
            let v = self.call("DescribeImages", region, &body, true).await?;
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
            let body = json!({
                "Filters": [
                    {"Name": "image-name", "Values": [name]},
                    {"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}
                ],
                "Limit": PAGE,
                "Offset": page * PAGE,
            });
            // The image-name filter is fuzzy: `find_by_name` keeps exact matches only.
            let v = self.call("DescribeImages", region, &body, true).await?;
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
        filter: &ImageFilter,
        page: usize,
    ) -> Result<ListedPage, CloudError> {
        // DescribeImages `Filters` (tencentcloud-sdk-go cvm/v20170312 `DescribeImagesRequestParams`): at most 10,
        // `image-type` PRIVATE_IMAGE for the account's own, `image-name` (fuzzy), `tag:<key>` for a tag's value.
        // Tags beyond what fits are matched by the caller.
        let mut filters = vec![json!({"Name": "image-type", "Values": ["PRIVATE_IMAGE"]})];
        if let Some(name) = &filter.name_contains {
            filters.push(json!({"Name": "image-name", "Values": [name]}));
        }
        for (k, v) in filter.tags.iter().take(MAX_FILTERS - filters.len()) {
            filters.push(json!({"Name": format!("tag:{k}"), "Values": [v]}));
        }
        let body = json!({"Filters": filters, "Limit": PAGE, "Offset": page * PAGE});
        let v = self.call("DescribeImages", region, &body, true).await?;
        let images: Vec<Image> = arr_field(&v, "ImageSet").iter().map(parse_image).collect();
        let Page { images, total } = Page::of(images, &v);
        let n = images.len();
        Ok(ListedPage::new(images, n, page, PAGE, total))
    }

    /// DescribeImageSharePermission (tencentcloud-sdk-go cvm/v20170312): no paging, the accounts in
    /// `SharePermissionSet[].AccountId`.
    async fn image_shares(&self, region: &str, id: &str) -> Result<BTreeSet<String>, CloudError> {
        let v = self
            .call(
                "DescribeImageSharePermission",
                region,
                &json!({ "ImageId": id }),
                true,
            )
            .await?;
        Ok(arr_field(&v, "SharePermissionSet")
            .iter()
            .filter_map(|s| str_field(s, "AccountId"))
            .collect())
    }

    /// ModifyImageSharePermission (tencentcloud-sdk-go cvm/v20170312): `AccountIds` (root-account IDs) with
    /// `Permission` SHARE or CANCEL. An account shared already (`FailedOperation.AccountAlreadyExists`, as a
    /// retried call meets it) is shared.
    async fn share_image(
        &self,
        region: &str,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), CloudError> {
        for (permission, accounts) in [("SHARE", add), ("CANCEL", remove)] {
            for chunk in accounts.chunks(SHARE_CALL) {
                let body = json!({"ImageId": id, "AccountIds": chunk, "Permission": permission});
                match self
                    .call("ModifyImageSharePermission", region, &body, true)
                    .await
                {
                    Ok(_) => {}
                    Err(f) => {
                        let e = CloudError::from(f);
                        if !(permission == "SHARE"
                            && e.code == "FailedOperation.AccountAlreadyExists")
                        {
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn update_image(
        &self,
        region: &str,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError> {
        if update.tags.is_some() {
            return Err(CloudError::unsupported(
                Cloud::TencentCloud,
                "ModifyImageAttribute",
                "changing tags of an existing Tencent Cloud image needs the Tag API, which this provider does not call; tags are set at import",
            ));
        }
        if update.name.is_none() && update.description.is_none() {
            return Ok(());
        }
        let mut body = serde_json::Map::new();
        body.insert("ImageId".into(), json!(id));
        if let Some(n) = &update.name {
            body.insert("ImageName".into(), json!(n));
        }
        if let Some(d) = &update.description {
            body.insert("ImageDescription".into(), json!(d));
        }
        self.call("ModifyImageAttribute", region, &Value::Object(body), true)
            .await
            .map(|_| ())
            .map_err(Failure::into_error)
    }

    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError> {
        let body = json!({"ImageIds": [id]});
        ops::delete_answered(|| self.call("DeleteImages", region, &body, true)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::tencent::sign::tc3_signature;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{Options, Param};
    use std::sync::Arc;

    fn client(url: &str) -> TencentClient {
        TencentClient::new(
            Url::parse(url).unwrap(),
            Keys {
                secret_id: "AKIDtest".into(),
                secret_key: Secret::new("sekrit"),
                token: Some(Secret::new("tok")),
            },
            &fast_options(),
        )
        .unwrap()
    }

    #[test]
    fn states_and_codes() {
        assert_eq!(map_state("IMPORTING"), ImageState::Importing);
        assert_eq!(map_state("CREATING"), ImageState::Importing);
        assert_eq!(map_state("NORMAL"), ImageState::Available);
        assert_eq!(map_state("IMPORTFAILED"), ImageState::Failed);
        assert_eq!(map_state("CREATEFAILED"), ImageState::Failed);
        assert_eq!(classify("AuthFailure.SignatureFailure"), ErrorKind::Auth);
        assert_eq!(classify("RequestLimitExceeded"), ErrorKind::Throttled);
        assert_eq!(
            classify("InvalidImageName.Duplicate"),
            ErrorKind::Duplicate { existing_id: None }
        );
        assert_eq!(classify("InvalidImageId.NotFound"), ErrorKind::NotFound);
        assert_eq!(classify("InternalError"), ErrorKind::Server);
        assert_eq!(
            classify("InvalidParameterValue.TooLarge"),
            ErrorKind::InvalidParameter
        );
    }

    #[test]
    fn arm64_is_spelled_the_tencent_way_both_ways() {
        let req = ImportRequest {
            options: Options::of([(Param::Architecture, "arm64".into())]),
            ..Default::default()
        };
        assert_eq!(import_body(&req)["Architecture"], "arm_64");
        let i = parse_image(&json!({"ImageId": "img-1", "Architecture": "arm"}));
        assert_eq!(i.architecture.as_deref(), Some("arm64"));
        let i = parse_image(&json!({"ImageId": "img-1", "Architecture": "x86_64"}));
        assert_eq!(i.architecture.as_deref(), Some("x86_64"));
    }

    #[test]
    fn only_image_not_found_means_gone() {
        assert_ne!(classify("InvalidRegion.NotFound"), ErrorKind::NotFound);
        assert_ne!(classify("ResourceNotFound.X"), ErrorKind::NotFound);
        assert_eq!(classify("InvalidImageId.NotFound"), ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn delete_in_a_wrong_region_is_an_error() {
        let (url, _log) = serve(Arc::new(|_, _| {
            (200, r#"{"Response":{"Error":{"Code":"InvalidRegion.NotFound","Message":"no region"},"RequestId":"r"}}"#.into())
        }))
        .await;
        let e = client(&url)
            .delete_image("ap-nowhere", "img-1")
            .await
            .unwrap_err();
        assert_eq!(e.code, "InvalidRegion.NotFound");
    }

    #[tokio::test]
    async fn dry_run_check_sends_dry_run_and_accepts_dry_run_operation() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"Response":{"Error":{"Code":"DryRunOperation","Message":"ok"},"RequestId":"r"}}"#.into())
        }))
        .await;
        let req = ImportRequest {
            region: "ap-guangzhou".into(),
            name: "n".into(),
            options: Options::of([
                (Param::Force, true.into()),
                (Param::ImageFamily, "fam".into()),
            ]),
            ..Default::default()
        };
        assert!(!client(&url).check_import(&req).await.unwrap());
        assert!(log.lock().unwrap().is_empty());
        let c = client(&url).with_plan_dry_run(true);
        assert!(c.check_import(&req).await.unwrap());
        let b = log.lock().unwrap()[0].json();
        assert_eq!(b["DryRun"], true);
        assert_eq!(b["Force"], true);
        assert_eq!(b["ImageFamily"], "fam");
    }

    #[test]
    fn parse_image_fields() {
        let i = parse_image(
            &json!({"ImageId": "img-1", "ImageName": "n", "ImageState": "IMPORTING",
            "SyncPercent": 40, "ImageSize": 50, "Platform": "CentOS", "OsName": "CentOS 7.9",
            "Architecture": "x86_64", "CreatedTime": "2024-01-01T00:00:00Z",
            "Tags": [{"Key": "a", "Value": "b"}]}),
        );
        assert_eq!(i.progress, Some(40));
        assert_eq!(i.tags["a"], "b");
        assert_eq!(i.platform.as_deref(), Some("CentOS"));
        let e = parse_response(
            "X",
            200,
            br#"{"Response":{"Error":{"Code":"AuthFailure.SecretIdNotFound","Message":"m"},"RequestId":"r1"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.request_id.as_deref(), Some("r1"));
    }

    #[tokio::test]
    async fn signs_actual_host_and_path() {
        let (url, log) = serve(Arc::new(|_, _| {
            (
                200,
                r#"{"Response":{"TotalCount":0,"ImageSet":[],"RequestId":"r"}}"#.into(),
            )
        }))
        .await;
        let c = client(&format!("{url}/tencentcloud"));
        let got = c
            .describe_images("ap-guangzhou", &["img-1".into()])
            .await
            .unwrap();
        assert!(got.is_empty());
        let r: Recorded = log.lock().unwrap()[0].clone();
        assert_eq!(r.path, "/tencentcloud");
        assert_eq!(r.header("X-TC-Action"), Some("DescribeImages"));
        assert_eq!(r.header("X-TC-Version"), Some("2017-03-12"));
        assert_eq!(r.header("X-TC-Region"), Some("ap-guangzhou"));
        assert_eq!(r.header("X-TC-Token"), Some("tok"));
        let ts: i64 = r.header("X-TC-Timestamp").unwrap().parse().unwrap();
        let host = r.header("Host").unwrap().to_string();
        let expect = tc3_signature(&Tc3Request {
            method: "POST",
            host: &host,
            path: "/tencentcloud",
            query: "",
            content_type: r.header("Content-Type").unwrap(),
            payload: r.body.as_bytes(),
            service: "cvm",
            timestamp: ts,
            secret_id: "AKIDtest",
            secret_key: &Secret::new("sekrit"),
        });
        assert!(r.header("Authorization").unwrap().ends_with(&expect));
        assert_eq!(r.json()["ImageIds"][0], "img-1");
    }

    #[tokio::test]
    async fn retries_throttling_then_succeeds() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n < 2 {
                (200, r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow"},"RequestId":"r"}}"#.into())
            } else {
                (200, r#"{"Response":{"RequestId":"r"}}"#.into())
            }
        }))
        .await;
        let c = client(&url);
        c.delete_image("ap-guangzhou", "img-1").await.unwrap();
        assert_eq!(log.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn duplicate_name_carries_existing_id() {
        let (url, _log) = serve(Arc::new(|_, r: &Recorded| {
            match r.header("X-TC-Action").unwrap_or_default() {
                "ImportImage" => (200, r#"{"Response":{"Error":{"Code":"InvalidImageName.Duplicate","Message":"dup"},"RequestId":"r"}}"#.into()),
                _ => (200, r#"{"Response":{"TotalCount":2,"ImageSet":[{"ImageId":"img-fuzzy","ImageName":"img-2"},{"ImageId":"img-old","ImageName":"img"}],"RequestId":"r"}}"#.into()),
            }
        }))
        .await;
        let req = ImportRequest {
            region: "ap-guangzhou".into(),
            name: "img".into(),
            source_url: "https://b-125.cos.ap-guangzhou.myqcloud.com/x".into(),
            ..Default::default()
        };
        let e = client(&url).import(&req).await.unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Duplicate {
                existing_id: Some("img-old".into())
            }
        );
    }

    #[tokio::test]
    async fn import_body_shape() {
        let req = ImportRequest {
            name: "n".into(),
            source_url: "u".into(),
            options: Options::of([
                (Param::Platform, "CentOS".into()),
                (Param::OsVersion, "7".into()),
            ]),
            tags: [("k".to_string(), "v".to_string())].into(),
            data_disks: vec![crate::cloud::DataDisk {
                source_url: "d1".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let b = import_body(&req);
        assert_eq!(b["OsType"], "CentOS");
        assert_eq!(b["Architecture"], "x86_64");
        assert_eq!(b["TagSpecification"][0]["Tags"][0]["Key"], "k");
        assert_eq!(b["ImportImageDataDiskList"][0]["ImageUrl"], "d1");
    }

    fn copy_req() -> CopyRequest {
        CopyRequest {
            source_region: "ap-guangzhou".into(),
            source_id: "img-src".into(),
            region: "ap-shanghai".into(),
            name: "copy".into(),
            idempotency_token: "unused".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn copies_of_one_name_share_one_sync_call() {
        let (url, log) = serve(Arc::new(|_, _| {
            (
                200,
                r#"{"Response":{"ImageSet":[{"ImageId":"img-sh","Region":"ap-shanghai"},{"ImageId":"img-bj","Region":"ap-beijing"}],"RequestId":"r"}}"#
                    .into(),
            )
        }))
        .await;
        let sh = copy_req();
        let bj = CopyRequest {
            region: "ap-beijing".into(),
            ..copy_req()
        };
        let ids: Vec<String> = client(&url)
            .copy_images(&[sh, bj])
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ids, ["img-sh", "img-bj"]);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 1, "one SyncImages for both regions");
        assert_eq!(
            log[0].json()["DestinationRegions"],
            json!(["ap-shanghai", "ap-beijing"])
        );
    }

    #[tokio::test]
    async fn sync_images_request_and_answer() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"Response":{"ImageSet":[{"ImageId":"img-copy","Region":"ap-shanghai"}],"RequestId":"r"}}"#.into())
        }))
        .await;
        let id = client(&url).copy_image(&copy_req()).await.unwrap();
        assert_eq!(id, "img-copy");
        let r = log.lock().unwrap()[0].clone();
        assert_eq!(r.header("X-TC-Action"), Some("SyncImages"));
        assert_eq!(r.header("X-TC-Region"), Some("ap-guangzhou"));
        let b = r.json();
        assert_eq!(
            b,
            json!({"ImageIds": ["img-src"], "DestinationRegions": ["ap-shanghai"],
                   "ImageName": "copy", "ImageSetRequired": true})
        );
    }

    #[tokio::test]
    async fn an_unanswered_sync_is_not_sent_again() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            match r.header("X-TC-Action").unwrap_or_default() {
                "SyncImages" => (503, "unavailable".into()),
                _ => (
                    200,
                    r#"{"Response":{"TotalCount":0,"ImageSet":[],"RequestId":"r"}}"#.into(),
                ),
            }
        }))
        .await;
        let e = client(&url).copy_image(&copy_req()).await.unwrap_err();
        assert!(e.message.contains("not sent again"), "{}", e.message);
        let log = log.lock().unwrap();
        let syncs = log
            .iter()
            .filter(|r| r.header("X-TC-Action") == Some("SyncImages"))
            .count();
        assert_eq!(syncs, 1);
        // The look for the copy is made in the destination region.
        assert!(log
            .iter()
            .filter(|r| r.header("X-TC-Action") == Some("DescribeImages"))
            .all(|r| r.header("X-TC-Region") == Some("ap-shanghai")));
    }

    #[test]
    fn copy_states_and_refusals() {
        assert_eq!(map_state("SYNCING"), ImageState::Importing);
        assert_eq!(map_state("CREATEFAILED"), ImageState::Failed);
        let i =
            parse_image(&json!({"ImageId": "img-1", "ImageState": "SYNCING", "SyncPercent": 35}));
        assert_eq!((i.state, i.progress), (ImageState::Importing, Some(35)));
        for code in [
            "InvalidImageId.IncorrectState",
            "FailedOperation.InvalidImageState",
            "InvalidParameterValue.InvalidImageState",
            "MutexOperation.TaskRunning",
        ] {
            assert_eq!(classify(code), ErrorKind::Busy, "{code}");
        }
        assert_eq!(
            classify("UnsupportedOperation.Region"),
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            synced_id(
                &json!({"ImageSet": [{"ImageId": "img-x", "Region": "ap-beijing"}]}),
                "ap-shanghai"
            ),
            ""
        );
    }

    #[tokio::test]
    async fn deleting_a_syncing_image_is_busy() {
        let (url, _log) = serve(Arc::new(|_, _| {
            (200, r#"{"Response":{"Error":{"Code":"InvalidImageId.IncorrectState","Message":"syncing"},"RequestId":"r"}}"#.into())
        }))
        .await;
        let e = client(&url)
            .delete_image("ap-shanghai", "img-copy")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Busy);
    }
}
