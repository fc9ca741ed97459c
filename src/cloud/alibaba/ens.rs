//! Alibaba Cloud ENS (Edge Node Service) images, API version 2017-11-10: the client, and how the `alicloud` block
//! (shared with ECS) makes it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};
use url::Url;

use super::account;
use super::oss::parse_oss;
use super::rpc::{AcsRpc, RpcTarget};
use crate::cloud::guard::{guarded_import, image_id};
use crate::cloud::http::{self, ClientOptions, Failure};
use crate::cloud::json::{str_field, u64_field};
use crate::cloud::ops::{self, Page};
use crate::cloud::params::Param;
use crate::cloud::settings::Resolved;
use crate::cloud::{
    Cloud, CloudError, ConfigError, ErrorKind, Image, ImageApi, ImageState, ImageUpdate,
    ImportRequest, ImportStarted,
};
use crate::cloud::{ImageFilter, ListedPage};

/// The one OSS region ENS imports from.
pub const ENS_OSS_REGION: &str = "cn-beijing";
/// ENS API version.
pub const ENS_VERSION: &str = "2017-11-10";

/// `PageSize` of DescribeSelfImages: its request model gives a default of 10 and no maximum, its response model
/// "Maximum value: 50" (alibabacloud-go/ens-20171110 client/describe_self_images_request_model.go and
/// describe_self_images_response_body_model.go `PageSize`), as ENS's DescribeImages does; every page is read
/// (PageNumber) until `TotalCount` is reached.
pub const SELF_IMAGES_PAGE: usize = 50;

/// Client for ENS custom images.
#[derive(Debug)]
pub struct EnsClient {
    rpc: AcsRpc,
    endpoint: Url,
}

/// Makes the ENS client from the `alicloud` block.
pub(super) fn connect(
    settings: &Resolved,
    options: &ClientOptions,
) -> Result<Arc<dyn ImageApi>, ConfigError> {
    let cloud = Cloud::AliCloudEns;
    let rpc = account::rpc(cloud, settings, options)?;
    let endpoint = http::endpoint(
        cloud,
        settings
            .text(account::ENS_ENDPOINT_SETTING)
            .unwrap_or(account::ENS_ENDPOINT),
    )?;
    Ok(Arc::new(EnsClient::new(rpc, endpoint)))
}

/// Maps the ENS `DescribeSelfImages` status.
pub fn map_state(raw: &str) -> ImageState {
    let l = raw.to_ascii_lowercase();
    if l == "available" {
        ImageState::Available
    } else if l.ends_with("failed") || l == "unavailable" {
        ImageState::Failed
    } else if l == "deleting" {
        ImageState::Deleting
    } else {
        // Creating, Packing, Uploading and anything new.
        ImageState::Importing
    }
}

/// Parses one `Images.Image[]` entry.
pub fn parse_image(v: &Value) -> Image {
    let raw = str_field(v, "Status").unwrap_or_default();
    Image {
        id: str_field(v, "ImageId").unwrap_or_default(),
        name: str_field(v, "ImageName").unwrap_or_default(),
        description: str_field(v, "Description"),
        state: map_state(&raw),
        raw_state: raw,
        progress: None,
        size_gb: u64_field(v, "ImageSize"),
        created_at: str_field(v, "CreationTime"),
        os_type: str_field(v, "OSType"),
        platform: str_field(v, "Platform"),
        os_version: str_field(v, "OsVersion"),
        architecture: str_field(v, "Architecture"),
        tags: BTreeMap::new(),
        failure_reason: None,
        ..Image::default()
    }
}

fn images_of(v: &Value) -> Vec<Image> {
    super::rpc::images(v, parse_image)
}

/// `ImportImage` parameters: the system disk in the top-level OSS fields, data disks in
/// `DiskDeviceMapping` as one JSON-encoded string.
pub fn import_params(req: &ImportRequest) -> Result<BTreeMap<String, String>, String> {
    let mut p = ops::params([("ImageName", &req.name), ("ComputeType", "ens_vm")]);
    let o = &req.options;
    p.insert(
        "OSType".into(),
        o.text(Param::OsType).unwrap_or("linux").to_string(),
    );
    p.insert(
        "ImageFormat".into(),
        o.text(Param::Format)
            .unwrap_or("qcow2")
            .to_ascii_lowercase(),
    );
    p.insert(
        "Architecture".into(),
        o.text(Param::Architecture).unwrap_or("x86_64").to_string(),
    );
    for (api, param) in [
        ("Platform", Param::Platform),
        ("OSVersion", Param::OsVersion),
        ("LicenseType", Param::LicenseType),
        ("TargetOSSRegionId", Param::TargetOssRegionId),
    ] {
        if let Some(v) = o.text(param) {
            p.insert(api.into(), v.to_string());
        }
    }
    let sys = parse_oss(&req.source_url)?;
    // `OSSRegion`: "Currently, only cn-beijing is supported" (alibabacloud-go/ens-20171110
    // `client/import_image_request_model.go`); an `oss://` URL names no region, an https one is checked at plan.
    let region_of = |r: Option<String>| r.unwrap_or_else(|| ENS_OSS_REGION.to_string());
    p.insert("OSSRegion".into(), region_of(sys.region));
    p.insert("OSSBucket".into(), sys.bucket);
    p.insert("OSSObject".into(), sys.object);
    if !req.data_disks.is_empty() {
        let mut list = Vec::new();
        for d in &req.data_disks {
            let loc = parse_oss(&d.source_url)?;
            list.push(json!({
                "OSSRegion": region_of(loc.region),
                "OSSBucket": loc.bucket,
                "OSSObject": loc.object,
            }));
        }
        p.insert("DiskDeviceMapping".into(), Value::Array(list).to_string());
    }
    Ok(p)
}

impl EnsClient {
    /// Builds a client; `endpoint` is already checked.
    pub fn new(rpc: AcsRpc, endpoint: Url) -> Self {
        EnsClient { rpc, endpoint }
    }

    async fn call(
        &self,
        action: &str,
        region: &str,
        params: &BTreeMap<String, String>,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let target = RpcTarget {
            url: self.endpoint.clone(),
            version: ENS_VERSION,
            headers: Vec::new(),
        };
        self.rpc
            .call(&target, action, region, params, idempotent)
            .await
    }

    /// The images DescribeSelfImages lists for `filter` (one `(parameter, value)`) that `keep` accepts, every page
    /// read. `ImageId` and `ImageName` are fuzzy filters ("Fuzzy search is supported", alibabacloud-go/
    /// ens-20171110 client/describe_self_images_request_model.go), so `keep` makes the exact match.
    async fn self_images(
        &self,
        region: &str,
        filter: (&str, &str),
        keep: impl Fn(&Image) -> bool,
    ) -> Result<Vec<Image>, CloudError> {
        ops::collect_pages(SELF_IMAGES_PAGE, keep, |page| async move {
            let p = ops::params([
                filter,
                ("PageSize", &SELF_IMAGES_PAGE.to_string()),
                ("PageNumber", &(page + 1).to_string()),
            ]);
            let v = self.call("DescribeSelfImages", region, &p, true).await?;
            Ok(Page::of(images_of(&v), &v))
        })
        .await
    }

    fn unsupported(&self, what: &str) -> CloudError {
        CloudError::unsupported(
            Cloud::AliCloudEns,
            "ModifyImageAttribute",
            format!("ENS cannot change the {what} of an existing image"),
        )
    }
}

#[async_trait::async_trait]
impl ImageApi for EnsClient {
    fn cloud(&self) -> Cloud {
        Cloud::AliCloudEns
    }

    fn account(&self) -> String {
        format!("{} {}", self.endpoint, self.rpc.access_key())
    }

    /// DescribeSelfImages takes one `ImageId`: nothing to gain from batching.
    fn describe_limit(&self) -> usize {
        1
    }

    async fn import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        let params = import_params(req).map_err(|m| {
            CloudError::new(
                Cloud::AliCloudEns,
                ErrorKind::InvalidParameter,
                "ImportImage",
                "InvalidSourceUrl",
                m,
                None,
            )
        })?;
        guarded_import(
            &self.rpc.core.retry,
            || async {
                let v = self
                    .call("ImportImage", &req.region, &params, false)
                    .await?;
                image_id(Cloud::AliCloudEns, "ImportImage", &v).map_err(Failure::Definite)
            },
            || self.find_images_by_name(&req.region, &req.name),
        )
        .await
        .map(ImportStarted::of)
    }

    async fn describe_images(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Image>, CloudError> {
        // DescribeSelfImages takes one ImageId per call, and matches it partially: `m-1` also lists `m-10`.
        ops::describe_in_chunks(ids, 1, ops::not_found, |chunk| async move {
            let id = chunk.concat();
            self.self_images(region, ("ImageId", &id), |i| i.id == id)
                .await
        })
        .await
    }

    async fn find_images_by_name(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Vec<Image>, CloudError> {
        // The name filter matches partially too: `web` also lists `web-2`.
        self.self_images(region, ("ImageName", name), |i| i.name == name)
            .await
    }

    async fn list_images(
        &self,
        region: &str,
        filter: &ImageFilter,
        page: usize,
    ) -> Result<ListedPage, CloudError> {
        // DescribeSelfImages (alibabacloud-go/ens-20171110): only the account's own images, `ImageName` fuzzy, no
        // tags, no region parameter (each image says its `RegionId`), pages of at most 50.
        let mut p = ops::params([
            ("PageSize", &SELF_IMAGES_PAGE.to_string()),
            ("PageNumber", &(page + 1).to_string()),
        ]);
        if let Some(name) = &filter.name_contains {
            p.insert("ImageName".into(), name.clone());
        }
        let v = self.call("DescribeSelfImages", region, &p, true).await?;
        let entries = v
            .get("Images")
            .map(|i| super::super::json::arr_field(i, "Image"))
            .unwrap_or(&[]);
        let n = entries.len();
        let images = entries
            .iter()
            .filter(|e| str_field(e, "RegionId").is_none_or(|r| r == region))
            .map(parse_image)
            .collect();
        let total = u64_field(&v, "TotalCount").unwrap_or(0) as usize;
        Ok(ListedPage::new(images, n, page, SELF_IMAGES_PAGE, total))
    }

    /// DescribeImageSharePermission (alibabacloud-go/ens-20171110): `PageSize` (a string) at most 100, the
    /// accounts in `Accounts.Account[].AliyunUid`.
    async fn image_shares(&self, region: &str, id: &str) -> Result<BTreeSet<String>, CloudError> {
        super::rpc::share_accounts("AliyunUid", 100, |page| async move {
            let p = ops::params([
                ("ImageId", id),
                ("PageSize", "100"),
                ("PageNumber", &page.to_string()),
            ]);
            Ok(self
                .call("DescribeImageSharePermission", region, &p, true)
                .await?)
        })
        .await
    }

    /// ModifyImageSharePermission (alibabacloud-go/ens-20171110): `AddAccounts` takes IDs separated by commas,
    /// `RemoveAccounts` one ID per call.
    async fn share_image(
        &self,
        region: &str,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), CloudError> {
        if !add.is_empty() {
            let p = ops::params([("ImageId", id), ("AddAccounts", &add.join(","))]);
            self.call("ModifyImageSharePermission", region, &p, true)
                .await?;
        }
        for account in remove {
            let p = ops::params([("ImageId", id), ("RemoveAccounts", account.as_str())]);
            self.call("ModifyImageSharePermission", region, &p, true)
                .await?;
        }
        Ok(())
    }

    async fn update_image(
        &self,
        region: &str,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError> {
        if update.description.is_some() {
            return Err(self.unsupported("description"));
        }
        if update.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(self.unsupported("tags"));
        }
        if let Some(n) = &update.name {
            let p = ops::params([("ImageId", id), ("ImageName", n)]);
            self.call("ModifyImageAttribute", region, &p, true).await?;
        }
        Ok(())
    }

    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError> {
        let p = ops::params([("ImageId", id)]);
        let ids = [id.to_string()];
        // ENS does not document a not-found code for DeleteImage: check.
        ops::delete_confirmed(
            || self.call("DeleteImage", region, &p, true),
            |kind| matches!(kind, ErrorKind::InvalidParameter | ErrorKind::Other),
            || self.describe_images(region, &ids),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alibaba::rpc::{Keys, SignatureVersion};
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{DataDisk, Secret};
    use crate::cloud::{Options, Param};

    fn client(url: &str) -> EnsClient {
        let rpc = AcsRpc::new(
            Cloud::AliCloudEns,
            Keys {
                access_key: "ak".into(),
                secret: Secret::new("sk"),
                token: None,
            },
            SignatureVersion::RpcV1,
            &fast_options(),
        )
        .unwrap();
        EnsClient::new(rpc, Url::parse(url).unwrap())
    }

    #[test]
    fn states() {
        for (raw, s) in [
            ("Creating", ImageState::Importing),
            ("Packing", ImageState::Importing),
            ("Uploading", ImageState::Importing),
            ("Available", ImageState::Available),
            ("Pack_failed", ImageState::Failed),
            ("Upload_failed", ImageState::Failed),
        ] {
            assert_eq!(map_state(raw), s, "{raw}");
        }
    }

    #[test]
    fn disk_mapping_is_one_json_string() {
        let req = ImportRequest {
            region: "cn-beijing".into(),
            name: "n".into(),
            source_url: "https://bkt.oss-cn-beijing.aliyuncs.com/sys.qcow2".into(),
            data_disks: vec![DataDisk {
                source_url: "oss://bkt/d1.qcow2".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let p = import_params(&req).unwrap();
        assert!(!p.contains_key("TargetOSSRegionId"));
        let with_target = ImportRequest {
            options: Options::of([
                (Param::TargetOssRegionId, "cn-beijing".into()),
                (Param::Platform, "centos".into()),
                (Param::LicenseType, "BYOL".into()),
            ]),
            ..req.clone()
        };
        let t = import_params(&with_target).unwrap();
        assert_eq!(t["TargetOSSRegionId"], "cn-beijing");
        assert_eq!(t["Platform"], "centos");
        assert_eq!(t["LicenseType"], "BYOL");
        assert_eq!(p["ComputeType"], "ens_vm");
        assert_eq!(p["ImageFormat"], "qcow2");
        assert_eq!(p["OSType"], "linux");
        assert_eq!(p["Architecture"], "x86_64");
        assert_eq!(p["OSSRegion"], "cn-beijing");
        assert_eq!(p["OSSObject"], "sys.qcow2");
        let dm: Value = serde_json::from_str(&p["DiskDeviceMapping"]).unwrap();
        assert_eq!(dm[0]["OSSObject"], "d1.qcow2");
        assert_eq!(dm[0]["OSSRegion"], "cn-beijing");
        assert!(!p.keys().any(|k| k.starts_with("DiskDeviceMapping.")));
    }

    #[tokio::test]
    async fn describe_per_id_and_parse() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            let id = r.form()["ImageId"].clone();
            if id == "m-1" {
                (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-1","ImageName":"n","Status":"Packing","ImageSize":"20"}]}}"#.into())
            } else {
                (200, r#"{"RequestId":"R","TotalCount":0,"Images":{"Image":[]}}"#.into())
            }
        }))
        .await;
        let imgs = client(&url)
            .describe_images("cn-beijing", &["m-1".into(), "m-2".into()])
            .await
            .unwrap();
        assert_eq!(imgs.len(), 1);
        assert_eq!(imgs[0].size_gb, Some(20));
        assert_eq!(imgs[0].state, ImageState::Importing);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].form()["Version"], ENS_VERSION);
        assert_eq!(log[0].form()["Action"], "DescribeSelfImages");
        assert_eq!(log[0].form()["PageSize"], "50");
        assert_eq!(log[0].form()["PageNumber"], "1");
    }

    /// An image entry of a DescribeSelfImages answer.
    fn entry(id: &str, name: &str) -> Value {
        json!({"ImageId": id, "ImageName": name, "Status": "Available"})
    }

    #[tokio::test]
    async fn fuzzy_matches_are_filtered_out() {
        // As the documentation says ENS does: ImageId and ImageName match partially.
        let (url, _log) = serve(Arc::new(|_, r: &Recorded| {
            let f = r.form();
            let images = match (f.get("ImageId"), f.get("ImageName")) {
                (Some(_), _) => vec![entry("m-1", "a"), entry("m-10", "b"), entry("m-1x", "c")],
                _ => vec![
                    entry("m-2", "web"),
                    entry("m-3", "web-2"),
                    entry("m-4", "my-web"),
                ],
            };
            let body = json!({"RequestId": "R", "TotalCount": images.len().to_string(),
                "Images": {"Image": images}});
            (200, body.to_string())
        }))
        .await;
        let c = client(&url);
        let by_id = c
            .describe_images("cn-beijing", &["m-1".into()])
            .await
            .unwrap();
        assert_eq!(
            by_id.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["m-1"]
        );
        let by_name = c.find_images_by_name("cn-beijing", "web").await.unwrap();
        assert_eq!(
            by_name.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["m-2"]
        );
    }

    #[tokio::test]
    async fn pages_until_total_count() {
        // 120 images called `web` or `web-N`: pages 1 and 2 full (50), page 3 has 20.
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            let f = r.form();
            let size: usize = f["PageSize"].parse().unwrap();
            let page: usize = f["PageNumber"].parse().unwrap();
            let images: Vec<Value> = (0..120usize)
                .skip((page - 1) * size)
                .take(size)
                .map(|n| {
                    let name = if n % 40 == 0 {
                        "web".to_string()
                    } else {
                        format!("web-{n}")
                    };
                    entry(&format!("m-{n}"), &name)
                })
                .collect();
            let body = json!({"RequestId": "R", "TotalCount": "120", "PageNumber": page.to_string(),
                "PageSize": size.to_string(), "Images": {"Image": images}});
            (200, body.to_string())
        }))
        .await;
        let found = client(&url)
            .find_images_by_name("cn-beijing", "web")
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["m-0", "m-40", "m-80"]
        );
        let log = log.lock().unwrap();
        let pages: Vec<String> = log.iter().map(|r| r.form()["PageNumber"].clone()).collect();
        assert_eq!(pages, ["1", "2", "3"]);
        assert!(log.iter().all(|r| r.form()["PageSize"] == "50"));
    }

    #[tokio::test]
    async fn paging_is_bounded() {
        // An answer that keeps claiming more pages than it ever gives stops at the page limit.
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            let page = r.form()["PageNumber"].clone();
            let images: Vec<Value> = (0..50)
                .map(|n| entry(&format!("m-{page}-{n}"), "x"))
                .collect();
            let body =
                json!({"RequestId": "R", "TotalCount": "1000000", "Images": {"Image": images}});
            (200, body.to_string())
        }))
        .await;
        let found = client(&url)
            .find_images_by_name("cn-beijing", "x")
            .await
            .unwrap();
        let calls = log.lock().unwrap().len();
        assert!(calls <= 50, "{calls} pages read");
        assert_eq!(found.len(), calls * 50);
    }
}
