//! ECS request and answer shapes: the `ImportImage` parameters and the `DescribeImages` entries, as the official
//! SDK models name them (alibabacloud-go/ecs-20140526).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cloud::alibaba::oss::parse_oss;
use crate::cloud::alibaba::rpc::images;
use crate::cloud::json::{arr_field, percent, str_field, u64_field};
use crate::cloud::params::Param;
use crate::cloud::types::format_word;
use crate::cloud::{CopyRequest, DataDisk, Image, ImageState, ImportRequest};

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";

/// Every status an image can be in; `DescribeImages` defaults to `Available` only. `Deprecated` is a valid status
/// (alibabacloud-go/ecs-20140526 client.go `DescribeImagesRequest.Status`): without it a deprecated image would look
/// deleted and be imported again.
pub const ALL_STATUSES: &str = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

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
            data.push(DataDisk {
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
    images(v, parse_image)
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
    let mut opt = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            p.insert(k.to_string(), v.to_string());
        }
    };
    let o = &req.options;
    opt("Description", req.description.as_deref());
    opt("Architecture", o.text(Param::Architecture));
    opt("Platform", o.text(Param::Platform));
    opt("OSType", o.text(Param::OsType));
    opt("LicenseType", o.text(Param::LicenseType));
    opt("RoleName", o.text(Param::RoleName));
    if public {
        opt("BootMode", o.text(Param::BootMode));
        opt("DetectionStrategy", o.text(Param::DetectionStrategy));
        opt("Features.NvmeSupport", o.text(Param::NvmeSupport));
        opt("Features.ImdsSupport", o.text(Param::ImdsSupport));
        p.insert("ClientToken".into(), req.idempotency_token.clone());
        for (i, (k, v)) in req.tags.iter().enumerate() {
            p.insert(format!("Tag.{}.Key", i + 1), k.clone());
            p.insert(format!("Tag.{}.Value", i + 1), v.clone());
        }
    }
    let sys = parse_oss(&req.source_url)?;
    let system = (
        sys,
        o.text(Param::Format).map(str::to_string),
        o.gib(Param::SystemDiskSizeGb),
    );
    let disks = std::iter::once(system).chain(
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
            p.insert(format!("DiskDeviceMapping.{n}.Format"), format_word(&f));
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

/// `CopyImage` parameters (alibabacloud-go/ecs-20140526 `client/copy_image_request_model.go`): `RegionId` is the
/// SOURCE image's region, `DestinationRegionId` where the copy is made. `public` adds what only public ECS is sent:
/// `Tag.N` (N 1 to 20, tags of the copy) and `ClientToken` ("to ensure the idempotence of the request", <= 64 ASCII
/// characters); the official Apsara Stack provider sends neither (aliyun/terraform-provider-alibabacloudstack
/// `resource_apsarastack_image_copy.go`). `KMSKeyId` goes only with `Encrypted=true`: ECS refuses a key without it
/// (400 `InvalidParameter.EncryptedIllegal`, Alibaba Cloud ECS API reference, CopyImage).
pub fn copy_params(req: &CopyRequest, public: bool) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert("RegionId".into(), req.source_region.clone());
    p.insert("ImageId".into(), req.source_id.clone());
    p.insert("DestinationRegionId".into(), req.region.clone());
    p.insert("DestinationImageName".into(), req.name.clone());
    if let Some(d) = &req.description {
        p.insert("DestinationDescription".into(), d.clone());
    }
    if req.encrypted {
        p.insert("Encrypted".into(), "true".into());
        if let Some(k) = &req.kms_key_id {
            p.insert("KMSKeyId".into(), k.clone());
        }
    }
    if public {
        for (i, (k, v)) in req.tags.iter().enumerate() {
            p.insert(format!("Tag.{}.Key", i + 1), k.clone());
            p.insert(format!("Tag.{}.Value", i + 1), v.clone());
        }
        if !req.idempotency_token.is_empty() {
            p.insert("ClientToken".into(), req.idempotency_token.clone());
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_params_public_and_apsara() {
        let req = CopyRequest {
            source_region: "cn-hangzhou".into(),
            source_id: "m-src".into(),
            region: "cn-beijing".into(),
            name: "copy".into(),
            description: Some("d".into()),
            encrypted: true,
            kms_key_id: Some("key-1".into()),
            tags: [("env".to_string(), "dev".to_string())].into(),
            idempotency_token: "tok".into(),
        };
        let p = copy_params(&req, true);
        assert_eq!(p["RegionId"], "cn-hangzhou");
        assert_eq!(p["ImageId"], "m-src");
        assert_eq!(p["DestinationRegionId"], "cn-beijing");
        assert_eq!(p["DestinationImageName"], "copy");
        assert_eq!(p["DestinationDescription"], "d");
        assert_eq!(p["Encrypted"], "true");
        assert_eq!(p["KMSKeyId"], "key-1");
        assert_eq!(
            (p["Tag.1.Key"].as_str(), p["Tag.1.Value"].as_str()),
            ("env", "dev")
        );
        assert_eq!(p["ClientToken"], "tok");
        let a = copy_params(&req, false);
        assert!(!a.contains_key("ClientToken") && !a.contains_key("Tag.1.Key"));
        let plain = CopyRequest {
            description: None,
            encrypted: false,
            ..req
        };
        let p = copy_params(&plain, true);
        assert!(!p.contains_key("DestinationDescription"));
        assert!(!p.contains_key("Encrypted") && !p.contains_key("KMSKeyId"));
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
}
