//! Alibaba Cloud ECS images (version 2014-05-26), also used for Apsara Stack's ECS through its
//! `/apsara/route/Ecs/<Action>` gateway (see [`super::apsara`]).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use url::Url;

use super::apsara;
use super::{ecs_format, valid_region, AcsRpc, RpcTarget};
use crate::cloud::guard::guarded_import;
use crate::cloud::http::Failure;
use crate::cloud::json::{arr_field, percent, str_field, u64_field};
use crate::cloud::source_url::parse_oss;
use crate::cloud::{
    ApsaraApiStyle, Cloud, CloudError, ErrorKind, Image, ImageApi, ImageState, ImageUpdate,
    ImportRequest, ImportStarted,
};

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";
/// Every status an image can be in; `DescribeImages` defaults to `Available` only. `Deprecated` is a valid status
/// (alibabacloud-go/ecs-20140526 client.go `DescribeImagesRequest.Status`): without it a deprecated image would look
/// deleted and be imported again.
pub const ALL_STATUSES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";
const PAGE: usize = 100;
const MAX_PAGES: usize = 50;

/// Which deployment the ECS API is reached through.
#[derive(Debug, Clone)]
pub enum EcsFlavor {
    /// Public Alibaba Cloud: `https://ecs.<region>.aliyuncs.com` unless overridden.
    Public {
        /// Endpoint override (used for every region).
        endpoint: Option<Url>,
    },
    /// Apsara Stack gateway.
    Apsara {
        /// Gateway base URL.
        gateway: Url,
        /// `x-acs-organizationid`.
        organization_id: Option<String>,
        /// `x-acs-resourcegroupid`.
        resource_group_id: Option<String>,
        /// Route gateway or ECS endpoint.
        style: ApsaraApiStyle,
    },
}

/// Client for ECS-style image APIs (public ECS or Apsara Stack).
pub struct EcsClient {
    rpc: AcsRpc,
    flavor: EcsFlavor,
}

impl fmt::Debug for EcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsClient")
            .field("rpc", &self.rpc)
            .field("flavor", &self.flavor)
            .finish()
    }
}

/// Maps the ECS image `Status`.
pub fn map_state(raw: &str) -> ImageState {
    match raw {
        "Available" | "Deprecated" => ImageState::Available,
        "UnAvailable" | "CreateFailed" => ImageState::Failed,
        // Creating, Waiting and anything new.
        _ => ImageState::Importing,
    }
}

/// Parses one `Images.Image[]` entry.
///
/// Where the API reports `Usable` (a boolean, alibabacloud-go/ecs-20140526 `DescribeImagesResponseBodyImagesImage`),
/// an `Available` image that is not yet usable still counts as importing: aliyun/terraform-provider-alicloud waits
/// for `Usable=true` because `Status=Available` can come first (alicloud/resource_alicloud_image.go, PR #10176).
pub fn parse_image(v: &Value) -> Image {
    let raw = str_field(v, "Status").unwrap_or_default();
    let not_usable = v.get("Usable").and_then(Value::as_bool) == Some(false);
    let state = match map_state(&raw) {
        ImageState::Available if not_usable => ImageState::Importing,
        s => s,
    };
    let tags = v
        .get("Tags")
        .map(|t| arr_field(t, "Tag"))
        .unwrap_or(&[])
        .iter()
        .filter_map(|t| {
            let k = str_field(t, "TagKey").or_else(|| str_field(t, "Key"))?;
            let val = str_field(t, "TagValue")
                .or_else(|| str_field(t, "Value"))
                .unwrap_or_default();
            Some((k, val))
        })
        .collect();
    Image {
        id: str_field(v, "ImageId").unwrap_or_default(),
        name: str_field(v, "ImageName").unwrap_or_default(),
        description: str_field(v, "Description"),
        state,
        raw_state: raw,
        progress: percent(v, "Progress"),
        size_gb: u64_field(v, "Size"),
        created_at: str_field(v, "CreationTime"),
        os_type: str_field(v, "OSType"),
        platform: str_field(v, "Platform"),
        os_version: str_field(v, "OSName"),
        architecture: str_field(v, "Architecture"),
        tags,
        failure_reason: None,
        ..imported_files(v)
    }
}

/// The files an image was imported from, as `DiskDeviceMappings` reports them: `ImportOSSBucket`,
/// `ImportOSSObject`, `Format`, `Size` and `Type` (`system` or `data`) per disk (alibabacloud ECS SDK 2014-05-26,
/// `DescribeImagesResponseBodyImagesImageDiskDeviceMappingsDiskDeviceMapping`). Images not made by ImportImage
/// report no bucket; they report nothing here.
fn imported_files(v: &Value) -> Image {
    let mappings = v
        .get("DiskDeviceMappings")
        .map(|m| arr_field(m, "DiskDeviceMapping"))
        .unwrap_or(&[]);
    let mut out = Image::default();
    let mut data = Vec::new();
    for m in mappings {
        let (Some(bucket), Some(object)) = (
            str_field(m, "ImportOSSBucket").filter(|b| !b.is_empty()),
            str_field(m, "ImportOSSObject").filter(|o| !o.is_empty()),
        ) else {
            // One disk without an import source: the image was not (wholly) imported, so say nothing.
            return Image::default();
        };
        let url = format!("oss://{bucket}/{object}");
        let format = str_field(m, "Format")
            .filter(|f| !f.is_empty())
            .map(|f| f.to_ascii_lowercase());
        if str_field(m, "Type").as_deref() == Some("data") {
            data.push(crate::cloud::DataDisk {
                source_url: url,
                format,
                size_gb: None,
            });
        } else {
            out.source_url = Some(url);
            out.format = format;
        }
    }
    if out.source_url.is_some() {
        out.data_disks = Some(data);
    }
    out
}

/// The images in an ECS `DescribeImages` answer.
pub fn images_of(v: &Value) -> Vec<Image> {
    v.get("Images")
        .map(|i| arr_field(i, "Image"))
        .unwrap_or(&[])
        .iter()
        .map(parse_image)
        .collect()
}

/// `ImportImage` parameters. `public` adds the ECS-only fields (ClientToken, BootMode, Tag.N, DetectionStrategy,
/// Features.NvmeSupport); Apsara Stack's page (seed 004) lists the rest, including RoleName. Names as in
/// alibabacloud-go/ecs-20140526 client.go `ImportImageRequest`.
pub fn import_params(
    req: &ImportRequest,
    public: bool,
) -> Result<BTreeMap<String, String>, String> {
    let mut p = BTreeMap::new();
    p.insert("RegionId".into(), req.region.clone());
    p.insert("ImageName".into(), req.name.clone());
    let mut opt = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            p.insert(k.to_string(), v.clone());
        }
    };
    opt("Description", &req.description);
    opt("Architecture", &req.architecture);
    opt("Platform", &req.platform);
    opt("OSType", &req.os_type);
    opt("LicenseType", &req.license_type);
    opt("RoleName", &req.role_name);
    if public {
        opt("BootMode", &req.boot_mode);
        opt("DetectionStrategy", &req.detection_strategy);
        opt("Features.NvmeSupport", &req.nvme_support);
        p.insert("ClientToken".into(), req.idempotency_token.clone());
        for (i, (k, v)) in req.tags.iter().enumerate() {
            p.insert(format!("Tag.{}.Key", i + 1), k.clone());
            p.insert(format!("Tag.{}.Value", i + 1), v.clone());
        }
    }
    let sys = parse_oss(&req.source_url)?;
    let disks = std::iter::once((sys, req.format.clone(), req.system_disk_size_gb)).chain(
        req.data_disks
            .iter()
            .map(|d| Ok::<_, String>((parse_oss(&d.source_url)?, d.format.clone(), d.size_gb)))
            .collect::<Result<Vec<_>, _>>()?,
    );
    for (i, (loc, format, size)) in disks.enumerate() {
        let n = i + 1;
        p.insert(format!("DiskDeviceMapping.{n}.OSSBucket"), loc.bucket);
        p.insert(format!("DiskDeviceMapping.{n}.OSSObject"), loc.object);
        if let Some(f) = format {
            p.insert(format!("DiskDeviceMapping.{n}.Format"), ecs_format(&f));
        }
        if let Some(s) = size {
            p.insert(
                format!("DiskDeviceMapping.{n}.DiskImageSize"),
                s.to_string(),
            );
        }
    }
    Ok(p)
}

impl EcsClient {
    /// Builds a client over an RPC transport.
    pub fn new(rpc: AcsRpc, flavor: EcsFlavor) -> Self {
        EcsClient { rpc, flavor }
    }

    fn cloud_id(&self) -> Cloud {
        self.rpc.core.cloud
    }

    fn target(&self, action: &str, region: &str) -> Result<RpcTarget, CloudError> {
        match &self.flavor {
            EcsFlavor::Public { endpoint } => {
                let url = match endpoint {
                    Some(u) => u.clone(),
                    None => {
                        let r = valid_region(self.cloud_id(), region)?;
                        Url::parse(&format!("https://ecs.{r}.aliyuncs.com/")).map_err(|e| {
                            CloudError::config(self.cloud_id(), format!("bad ECS endpoint: {e}"))
                        })?
                    }
                };
                Ok(RpcTarget {
                    url,
                    version: ECS_VERSION,
                    headers: Vec::new(),
                })
            }
            EcsFlavor::Apsara {
                gateway,
                organization_id,
                resource_group_id,
                style,
            } => apsara::target(
                gateway,
                *style,
                action,
                region,
                apsara::Tenant {
                    organization_id: organization_id.as_deref(),
                    resource_group_id: resource_group_id.as_deref(),
                },
            ),
        }
    }

    async fn call(
        &self,
        action: &str,
        region: &str,
        params: &BTreeMap<String, String>,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let target = self.target(action, region).map_err(Failure::Definite)?;
        let params = match &self.flavor {
            EcsFlavor::Apsara { style, .. } => apsara::route_params(*style, action, region, params),
            EcsFlavor::Public { .. } => params.clone(),
        };
        self.rpc
            .call(&target, action, region, &params, idempotent)
            .await
    }

    fn bad_request(&self, action: &str, msg: String) -> CloudError {
        CloudError::new(
            self.cloud_id(),
            ErrorKind::InvalidParameter,
            action,
            "InvalidSourceUrl",
            msg,
            None,
        )
    }

    async fn set_tags(
        &self,
        region: &str,
        id: &str,
        want: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let current = self
            .describe_images(region, &[id.to_string()])
            .await?
            .into_iter()
            .next()
            .map(|i| i.tags)
            .unwrap_or_default();
        // Tags outside the user's set are left alone: the cloud's own (`acs:`, `aliyun`) and the create marker
        // (`cloudimage:`) that proves which configuration made the image.
        let remove: Vec<&String> = current
            .keys()
            .filter(|k| !want.contains_key(*k))
            .filter(|k| {
                !k.starts_with("acs:") && !k.starts_with("aliyun") && !k.starts_with("cloudimage:")
            })
            .collect();
        let base = |p: &mut BTreeMap<String, String>| {
            p.insert("RegionId".into(), region.to_string());
            p.insert("ResourceType".into(), "image".into());
            p.insert("ResourceId.1".into(), id.to_string());
        };
        if !remove.is_empty() {
            let mut p = BTreeMap::new();
            base(&mut p);
            for (i, k) in remove.iter().enumerate() {
                p.insert(format!("TagKey.{}", i + 1), (*k).clone());
            }
            self.call("UntagResources", region, &p, true).await?;
        }
        let add: Vec<(&String, &String)> = want
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .collect();
        if !add.is_empty() {
            let mut p = BTreeMap::new();
            base(&mut p);
            for (i, (k, v)) in add.iter().enumerate() {
                p.insert(format!("Tag.{}.Key", i + 1), (*k).clone());
                p.insert(format!("Tag.{}.Value", i + 1), (*v).clone());
            }
            self.call("TagResources", region, &p, true).await?;
        }
        Ok(())
    }

    async fn import_public(
        &self,
        req: &ImportRequest,
        params: BTreeMap<String, String>,
    ) -> Result<ImportStarted, CloudError> {
        // ClientToken makes the call idempotent, so transport failures and 5xx are re-sent.
        match self.call("ImportImage", &req.region, &params, true).await {
            Ok(v) => match str_field(&v, "ImageId") {
                // The answer carries the import's TaskId, which CancelTask takes (ecs-20140526
                // ImportImageResponseBody: ImageId, RegionId, RequestId, TaskId).
                Some(image_id) => Ok(ImportStarted {
                    image_id,
                    task_id: str_field(&v, "TaskId").filter(|t| !t.is_empty()),
                }),
                None => Err(CloudError::new(
                    self.cloud_id(),
                    ErrorKind::Other,
                    "ImportImage",
                    "NoImageId",
                    "response has no ImageId",
                    None,
                )),
            },
            Err(f) => {
                let mut e = f.into_error();
                if let ErrorKind::Duplicate { existing_id } = &mut e.kind {
                    if let Ok(found) = self.find_images_by_name(&req.region, &req.name).await {
                        *existing_id = found.first().map(|i| i.id.clone());
                    }
                }
                Err(e)
            }
        }
    }

    /// One DescribeImages call for `ids`. `InvalidImageId.NotFound` means gone (aliyun/terraform-provider-alicloud
    /// alicloud/service_alicloud_ecs_v2.go `describeEcsImage`); for a batch it is not known which id it names, so
    /// the ids are asked one by one.
    async fn describe_batch(&self, region: &str, ids: &[String]) -> Result<Vec<Image>, CloudError> {
        let mut p = BTreeMap::new();
        p.insert("RegionId".into(), region.to_string());
        p.insert("ImageId".into(), ids.join(","));
        p.insert("Status".into(), ALL_STATUSES.into());
        p.insert("PageSize".into(), PAGE.to_string());
        match self.call("DescribeImages", region, &p, true).await {
            Ok(v) => Ok(images_of(&v)
                .into_iter()
                .filter(|i| ids.contains(&i.id))
                .collect()),
            Err(f) => {
                let e = f.into_error();
                if e.kind != ErrorKind::NotFound {
                    return Err(e);
                }
                if ids.len() == 1 {
                    return Ok(Vec::new());
                }
                let mut out = Vec::new();
                for id in ids {
                    out.extend(
                        Box::pin(self.describe_batch(region, std::slice::from_ref(id))).await?,
                    );
                }
                Ok(out)
            }
        }
    }

    async fn import_apsara(
        &self,
        req: &ImportRequest,
        params: BTreeMap<String, String>,
    ) -> Result<String, CloudError> {
        let id = guarded_import(
            &self.rpc.core.retry,
            || async {
                let v = self
                    .call("ImportImage", &req.region, &params, false)
                    .await?;
                Ok(str_field(&v, "ImageId").unwrap_or_default())
            },
            || self.find_images_by_name(&req.region, &req.name),
        )
        .await?;
        if !id.is_empty() {
            return Ok(id);
        }
        // The Apsara ImportImage answer documents only a RequestID: find the new image by name.
        let retry = self.rpc.core.retry;
        for attempt in 1..=retry.max_attempts.max(1) {
            if let Some(img) = self
                .find_images_by_name(&req.region, &req.name)
                .await?
                .into_iter()
                .next()
            {
                return Ok(img.id);
            }
            tokio::time::sleep(retry.delay(attempt)).await;
        }
        Err(CloudError::new(
            self.cloud_id(),
            ErrorKind::Other,
            "ImportImage",
            "NoImageId",
            format!(
                "ImportImage succeeded without an ImageId and no image named {:?} appeared",
                req.name
            ),
            None,
        ))
    }
}

#[async_trait::async_trait]
impl ImageApi for EcsClient {
    fn cloud(&self) -> Cloud {
        self.cloud_id()
    }

    async fn import_image(&self, req: &ImportRequest) -> Result<String, CloudError> {
        Ok(self.start_import(req).await?.image_id)
    }

    async fn start_import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        match self.flavor {
            EcsFlavor::Public { .. } => {
                let params =
                    import_params(req, true).map_err(|m| self.bad_request("ImportImage", m))?;
                self.import_public(req, params).await
            }
            EcsFlavor::Apsara { .. } => {
                let params =
                    apsara::import_params(req).map_err(|m| self.bad_request("ImportImage", m))?;
                Ok(ImportStarted {
                    image_id: self.import_apsara(req, params).await?,
                    task_id: None,
                })
            }
        }
    }

    /// ECS CancelTask (RegionId, TaskId; ecs-20140526 CancelTaskRequest), which cancels running ImportImage and
    /// ExportImage tasks (Alibaba Cloud ECS API reference, CancelTask). Without the task, DescribeTasks finds it:
    /// TaskAction `ImportImage` and ResourceIds.N name the image; each Task has TaskId, ResourceId and
    /// TaskStatus (ecs-20140526 DescribeTasksRequest / DescribeTasksResponseBodyTaskSetTask). The Apsara Stack
    /// gateway's operation list has neither call, so there the caller waits instead.
    async fn cancel_import(
        &self,
        region: &str,
        image_id: &str,
        task_id: Option<&str>,
    ) -> Result<bool, CloudError> {
        if !matches!(self.flavor, EcsFlavor::Public { .. }) {
            return Ok(false);
        }
        let task = match task_id {
            Some(t) => t.to_string(),
            None => {
                let mut p = BTreeMap::new();
                p.insert("RegionId".into(), region.to_string());
                p.insert("TaskAction".into(), "ImportImage".into());
                p.insert("ResourceIds.1".into(), image_id.to_string());
                let v = self.call("DescribeTasks", region, &p, true).await?;
                let running = v
                    .get("TaskSet")
                    .map(|s| arr_field(s, "Task"))
                    .unwrap_or(&[])
                    .iter()
                    .find(|t| {
                        str_field(t, "ResourceId").as_deref() == Some(image_id)
                            && matches!(
                                str_field(t, "TaskStatus").as_deref(),
                                Some("Processing" | "Waiting")
                            )
                    })
                    .and_then(|t| str_field(t, "TaskId"));
                match running {
                    Some(t) => t,
                    None => return Ok(false),
                }
            }
        };
        let mut p = BTreeMap::new();
        p.insert("RegionId".into(), region.to_string());
        p.insert("TaskId".into(), task);
        self.call("CancelTask", region, &p, true).await?;
        Ok(true)
    }

    fn account(&self) -> String {
        let place = match &self.flavor {
            EcsFlavor::Public { endpoint } => endpoint
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_else(|| "ecs.aliyuncs.com".into()),
            EcsFlavor::Apsara { gateway, .. } => gateway.to_string(),
        };
        format!("{place} {}", self.rpc.access_key())
    }

    async fn describe_images(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Image>, CloudError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(PAGE) {
            out.extend(self.describe_batch(region, chunk).await?);
        }
        Ok(out)
    }

    async fn find_images_by_name(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Vec<Image>, CloudError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut p = BTreeMap::new();
            p.insert("RegionId".into(), region.to_string());
            p.insert("ImageName".into(), name.to_string());
            p.insert("ImageOwnerAlias".into(), "self".into());
            p.insert("Status".into(), ALL_STATUSES.into());
            p.insert("PageSize".into(), PAGE.to_string());
            p.insert("PageNumber".into(), page.to_string());
            let v = self.call("DescribeImages", region, &p, true).await?;
            let imgs = images_of(&v);
            let n = imgs.len();
            out.extend(imgs.into_iter().filter(|i| i.name == name));
            let total = u64_field(&v, "TotalCount").unwrap_or(0) as usize;
            if n < PAGE || page * PAGE >= total {
                break;
            }
        }
        Ok(out)
    }

    async fn update_image(
        &self,
        region: &str,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError> {
        if update.name.is_some() || update.description.is_some() {
            let mut p = BTreeMap::new();
            p.insert("RegionId".into(), region.to_string());
            p.insert("ImageId".into(), id.to_string());
            if let Some(n) = &update.name {
                p.insert("ImageName".into(), n.clone());
            }
            if let Some(d) = &update.description {
                p.insert("Description".into(), d.clone());
            }
            self.call("ModifyImageAttribute", region, &p, true).await?;
        }
        if let Some(tags) = &update.tags {
            match self.flavor {
                EcsFlavor::Public { .. } => self.set_tags(region, id, tags).await?,
                EcsFlavor::Apsara { .. } => {
                    return Err(CloudError::new(
                        self.cloud_id(),
                        ErrorKind::InvalidParameter,
                        "TagResources",
                        "Unsupported",
                        "changing image tags is not supported on Apsara Stack by this provider",
                        None,
                    ))
                }
            }
        }
        Ok(())
    }

    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError> {
        let mut p = BTreeMap::new();
        p.insert("RegionId".into(), region.to_string());
        p.insert("ImageId".into(), id.to_string());
        match self.call("DeleteImage", region, &p, true).await {
            Ok(_) => Ok(()),
            Err(f) => {
                let e = f.into_error();
                if e.kind == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::sign::acs_rpc_signature;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{DataDisk, SignatureVersion};
    use std::sync::Arc;

    fn client(url: &str, sig: SignatureVersion) -> EcsClient {
        let rpc = AcsRpc::new(
            Cloud::AliCloud,
            "ak".into(),
            "sk".into(),
            Some("tok".into()),
            sig,
            &fast_options(),
        )
        .unwrap();
        EcsClient::new(
            rpc,
            EcsFlavor::Public {
                endpoint: Some(Url::parse(url).unwrap()),
            },
        )
    }

    fn req() -> ImportRequest {
        ImportRequest {
            region: "cn-hangzhou".into(),
            name: "img".into(),
            source_url: "oss://bkt/sys.qcow2".into(),
            format: Some("qcow2".into()),
            os_type: Some("linux".into()),
            platform: Some("Ubuntu".into()),
            architecture: Some("x86_64".into()),
            tags: [("env".to_string(), "dev".to_string())].into(),
            data_disks: vec![DataDisk {
                source_url: "https://bkt.oss-cn-hangzhou.aliyuncs.com/data.raw".into(),
                format: Some("raw".into()),
                size_gb: Some(40),
            }],
            idempotency_token: "tok-123".into(),
            ..Default::default()
        }
    }

    #[test]
    fn import_params_from_one() {
        let p = import_params(&req(), true).unwrap();
        assert_eq!(p["DiskDeviceMapping.1.OSSBucket"], "bkt");
        assert_eq!(p["DiskDeviceMapping.1.OSSObject"], "sys.qcow2");
        assert_eq!(p["DiskDeviceMapping.1.Format"], "qcow2");
        assert_eq!(p["DiskDeviceMapping.2.OSSObject"], "data.raw");
        assert_eq!(p["DiskDeviceMapping.2.Format"], "RAW");
        assert_eq!(p["DiskDeviceMapping.2.DiskImageSize"], "40");
        assert!(!p.keys().any(|k| k.starts_with("DiskDeviceMapping.0")));
        assert_eq!(p["ClientToken"], "tok-123");
        assert_eq!(p["Tag.1.Key"], "env");
        assert_eq!(p["RegionId"], "cn-hangzhou");
        let mut r = req();
        r.role_name = Some("MyRole".into());
        r.detection_strategy = Some("Standard".into());
        r.nvme_support = Some("supported".into());
        r.system_disk_size_gb = Some(50);
        let p = import_params(&r, true).unwrap();
        assert_eq!(p["RoleName"], "MyRole");
        assert_eq!(p["DetectionStrategy"], "Standard");
        assert_eq!(p["Features.NvmeSupport"], "supported");
        assert_eq!(p["DiskDeviceMapping.1.DiskImageSize"], "50");
        let a = import_params(&r, false).unwrap();
        assert_eq!(a["RoleName"], "MyRole");
        assert!(!a.contains_key("DetectionStrategy") && !a.contains_key("Features.NvmeSupport"));
    }

    #[test]
    fn states_and_parse() {
        assert_eq!(map_state("Creating"), ImageState::Importing);
        assert_eq!(map_state("Waiting"), ImageState::Importing);
        assert_eq!(map_state("Available"), ImageState::Available);
        assert_eq!(map_state("UnAvailable"), ImageState::Failed);
        assert_eq!(map_state("CreateFailed"), ImageState::Failed);
        let v = serde_json::json!({"Images": {"Image": [{"ImageId": "m-1", "ImageName": "n",
            "Status": "Creating", "Progress": "50%", "Size": 40,
            "Tags": {"Tag": [{"TagKey": "a", "TagValue": "b"}]}}]}, "TotalCount": 1});
        let imgs = images_of(&v);
        assert_eq!(imgs[0].progress, Some(50));
        assert_eq!(imgs[0].tags["a"], "b");
        assert!(images_of(&serde_json::json!({})).is_empty());
    }

    #[tokio::test]
    async fn describe_sends_status_and_signed_form() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-1","ImageName":"n","Status":"Waiting"}]}}"#.into())
        }))
        .await;
        let c = client(&format!("{url}/alicloud"), SignatureVersion::RpcV1);
        let imgs = c
            .describe_images("cn-hangzhou", &["m-1".into(), "m-2".into()])
            .await
            .unwrap();
        assert_eq!(imgs.len(), 1);
        let r: Recorded = log.lock().unwrap()[0].clone();
        assert_eq!(r.path, "/alicloud");
        let f = r.form();
        assert_eq!(f["Action"], "DescribeImages");
        assert_eq!(f["ImageId"], "m-1,m-2");
        assert_eq!(f["Status"], ALL_STATUSES);
        assert_eq!(f["SecurityToken"], "tok");
        assert_eq!(f["Version"], ECS_VERSION);
        assert_eq!(f["Signature"], acs_rpc_signature("POST", &f, "sk"));
    }

    #[test]
    fn available_but_not_usable_is_still_importing() {
        let i = parse_image(
            &serde_json::json!({"ImageId": "m-1", "Status": "Available", "Usable": false}),
        );
        assert_eq!(i.state, ImageState::Importing);
        let i = parse_image(
            &serde_json::json!({"ImageId": "m-1", "Status": "Available", "Usable": true}),
        );
        assert_eq!(i.state, ImageState::Available);
        let i = parse_image(&serde_json::json!({"ImageId": "m-1", "Status": "Deprecated"}));
        assert_eq!(i.state, ImageState::Available);
        assert!(ALL_STATUSES.split(',').any(|s| s == "Deprecated"));
    }

    #[tokio::test]
    async fn describe_not_found_means_gone() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            if r.form()["ImageId"].contains(',') || r.form()["ImageId"] == "m-gone" {
                (404, r#"{"RequestId":"R","Code":"InvalidImageId.NotFound","Message":"gone"}"#.into())
            } else {
                (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-1","Status":"Available"}]}}"#.into())
            }
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        assert!(c
            .describe_images("cn-hangzhou", &["m-gone".into()])
            .await
            .unwrap()
            .is_empty());
        let both = c
            .describe_images("cn-hangzhou", &["m-1".into(), "m-gone".into()])
            .await
            .unwrap();
        assert_eq!(both.len(), 1);
        assert_eq!(log.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn wrong_region_delete_is_an_error_and_rejected_throttling_is_retried() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n == 0 {
                (
                    400,
                    r#"{"RequestId":"R","Code":"Rejected.Throttling","Message":"slow"}"#.into(),
                )
            } else {
                (
                    404,
                    r#"{"RequestId":"R","Code":"InvalidRegionId.NotFound","Message":"no region"}"#
                        .into(),
                )
            }
        }))
        .await;
        let e = client(&url, SignatureVersion::RpcV1)
            .delete_image("cn-nowhere", "m-1")
            .await
            .unwrap_err();
        assert_eq!(e.code, "InvalidRegionId.NotFound");
        assert_eq!(log.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn acs3_mode_signs_headers() {
        let (url, log) = serve(Arc::new(|_, _| (200, r#"{"RequestId":"R"}"#.into()))).await;
        let c = client(&url, SignatureVersion::Acs3);
        c.delete_image("cn-hangzhou", "m-1").await.unwrap();
        let r: Recorded = log.lock().unwrap()[0].clone();
        assert_eq!(r.header("x-acs-action"), Some("DeleteImage"));
        assert_eq!(r.header("x-acs-security-token"), Some("tok"));
        assert!(r.path.contains("ImageId=m-1"));
        assert!(r
            .header("Authorization")
            .unwrap()
            .starts_with("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action;"));
    }

    #[tokio::test]
    async fn import_resends_with_same_client_token_after_5xx() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n == 0 {
                (
                    500,
                    r#"{"RequestId":"R0","Code":"InternalError","Message":"oops"}"#.into(),
                )
            } else {
                (200, r#"{"RequestId":"R1","ImageId":"m-new"}"#.into())
            }
        }))
        .await;
        let id = client(&url, SignatureVersion::RpcV1)
            .import_image(&req())
            .await
            .unwrap();
        assert_eq!(id, "m-new");
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].form()["ClientToken"], "tok-123");
        assert_eq!(log[1].form()["ClientToken"], "tok-123");
        assert_ne!(
            log[0].form()["SignatureNonce"],
            log[1].form()["SignatureNonce"]
        );
    }

    #[tokio::test]
    async fn missing_role_and_delete_not_found() {
        let (url, _log) = serve(Arc::new(|_, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "ImportImage" => (
                    403,
                    r#"{"RequestId":"R","Code":"NoSetRoletoECSServiceAcount","Message":"role"}"#
                        .into(),
                ),
                _ => (
                    404,
                    r#"{"RequestId":"R","Code":"InvalidImageId.NotFound","Message":"gone"}"#.into(),
                ),
            }
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        let e = c.import_image(&req()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingRole);
        c.delete_image("cn-hangzhou", "m-x").await.unwrap();
    }

    #[tokio::test]
    async fn tags_update_diffs() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| match r.form()["Action"].as_str() {
            "DescribeImages" => (200, r#"{"RequestId":"R","Images":{"Image":[{"ImageId":"m-1","Tags":{"Tag":[{"TagKey":"old","TagValue":"1"},{"TagKey":"keep","TagValue":"k"}]}}]}}"#.into()),
            _ => (200, r#"{"RequestId":"R"}"#.into()),
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        let upd = ImageUpdate {
            name: Some("new".into()),
            tags: Some(
                [
                    ("keep".to_string(), "k".to_string()),
                    ("new".to_string(), "n".to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        };
        c.update_image("cn-hangzhou", "m-1", &upd).await.unwrap();
        let forms: Vec<_> = log.lock().unwrap().iter().map(|r| r.form()).collect();
        let actions: Vec<&str> = forms.iter().map(|f| f["Action"].as_str()).collect();
        assert_eq!(
            actions,
            [
                "ModifyImageAttribute",
                "DescribeImages",
                "UntagResources",
                "TagResources"
            ]
        );
        assert_eq!(forms[2]["TagKey.1"], "old");
        assert_eq!(forms[3]["Tag.1.Key"], "new");
        assert!(!forms[3].contains_key("Tag.2.Key"));
    }
}
