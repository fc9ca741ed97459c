//! What the family's imports accept: ECS's table, and ENS's and Apsara Stack's as differences from it; the naming,
//! description and tag rules they share.
//!
//! Sources: ECS ImportImage (alibabacloud-go/ecs-20140526 `client/import_image_request_model.go`: ImageName,
//! Description, Tag.N, DiskDeviceMapping.N.DiskImageSize), Apsara Stack ImportImage (seed page 004), ENS
//! ImportImage (seed page 003; alibabacloud-go/ens-20171110).

use crate::cloud::rules::{param, Allowed, CloudRules};
use crate::cloud::Cloud;

const LINUX_WINDOWS: &[&str] = &["linux", "windows"];

/// The ImportImage parameters ECS and Apsara Stack share (Apsara Stack's page, seed 004, lists these).
const ECS_AND_APSARA_PARAMETERS: &[(&str, &str)] = &[
    (param::REGION, "RegionId"),
    (param::NAME, "ImageName"),
    (param::DESCRIPTION, "Description"),
    (
        param::SOURCE_URL,
        "DiskDeviceMapping.1.OSSBucket, DiskDeviceMapping.1.OSSObject",
    ),
    (param::FORMAT, "DiskDeviceMapping.1.Format"),
    (param::OS_TYPE, "OSType"),
    (param::PLATFORM, "Platform"),
    (param::ARCHITECTURE, "Architecture"),
    (param::LICENSE_TYPE, "LicenseType"),
    (param::DATA_DISKS, "DiskDeviceMapping.2-17.*"),
    (param::ROLE_NAME, "RoleName"),
    (
        param::SYSTEM_DISK_SIZE_GB,
        "DiskDeviceMapping.1.DiskImageSize",
    ),
];

/// The ImportImage parameters only public ECS has.
const ECS_ONLY_PARAMETERS: &[(&str, &str)] = &[
    (param::BOOT_MODE, "BootMode"),
    (param::TAGS, "Tag.N.Key, Tag.N.Value"),
    (param::DETECTION_STRATEGY, "DetectionStrategy"),
    (param::NVME_SUPPORT, "Features.NvmeSupport"),
];

/// Alibaba Cloud ECS.
pub const ECS: CloudRules = CloudRules {
    name_len: (2, 128),
    name_starts_with_letter: true,
    rename_in_place: true,
    description: true,
    description_in_place: true,
    tags_in_place: true,
    format: Allowed::OneOf(&["raw", "vhd", "qcow2"]),
    os_type: Allowed::OneOf(LINUX_WINDOWS),
    platform: Allowed::Any,
    os_version: Allowed::Unsupported,
    architecture: Allowed::OneOf(&["x86_64", "i386", "arm64"]),
    boot_mode: Allowed::OneOf(&["BIOS", "UEFI"]),
    license_type: Allowed::OneOf(&["Auto", "Aliyun", "BYOL"]),
    tags: true,
    data_disks: true,
    image_family: Allowed::Unsupported,
    role_name: Allowed::Any,
    // "Only the Standard detection mode is supported" (alibabacloud-go/ecs-20140526 ImportImageRequest).
    detection_strategy: Allowed::OneOf(&["Standard"]),
    nvme_support: Allowed::OneOf(&["supported", "unsupported"]),
    target_oss_region_id: Allowed::Unsupported,
    force: false,
    system_disk_size: true,
    required: &[],
    // `InvalidImageName.Duplicated` (Alibaba Cloud ECS API reference, ImportImage error codes).
    unique_names: true,
    // ImportImage Tag.N: N is 1 to 20.
    max_tags: 20,
    // DiskDeviceMapping.1.DiskImageSize: 1 to 2048 GiB.
    system_disk_sizes: (1, 2048),
    // DiskDeviceMapping.N.DiskImageSize, N 2-17: 1 to 2048 GiB.
    data_disk_sizes: Some((1, 2048)),
    data_disk_format: true,
    system_tag_prefixes: &["acs:", "aliyun"],
    api_parameters: &[ECS_AND_APSARA_PARAMETERS, ECS_ONLY_PARAMETERS],
    // BootMode: "If `Architecture=arm64`, the default value is UEFI, and only UEFI is supported"
    // (alibabacloud-go/ecs-20140526 `client/import_image_request_model.go`); the API answers
    // `InvalidBootMode.NotSupport` otherwise.
    uefi_only_architectures: &["arm64"],
};

/// Alibaba Cloud ENS.
pub const ENS: CloudRules = CloudRules {
    // ENS's ImportImage has no description, and its ModifyImageAttribute takes a name only.
    description: false,
    description_in_place: false,
    tags_in_place: false,
    format: Allowed::OneOf(&["qcow2"]),
    os_type: Allowed::OneOf(&["linux"]),
    // ENS ImportImage `Platform` and `LicenseType` (seed page 003; alibabacloud-go/ens-20171110).
    platform: Allowed::Any,
    os_version: Allowed::Any,
    architecture: Allowed::OneOf(&["x86_64"]),
    boot_mode: Allowed::Unsupported,
    license_type: Allowed::Any,
    tags: false,
    // Data disks go in ENS's `DiskDeviceMapping` list (OSSRegion, OSSBucket, OSSObject), which carries the object
    // only.
    data_disks: true,
    data_disk_sizes: None,
    data_disk_format: false,
    // Nothing in ENS's ImportImage documentation (seed page 003) refuses a taken name.
    unique_names: false,
    role_name: Allowed::Unsupported,
    detection_strategy: Allowed::Unsupported,
    nvme_support: Allowed::Unsupported,
    // TargetOSSRegionId: "Currently, only cn-beijing and ap-southeast-1 are supported"
    // (alibabacloud-go/ens-20171110 `client/import_image_request_model.go`).
    target_oss_region_id: Allowed::OneOf(&["cn-beijing", "ap-southeast-1"]),
    system_disk_size: false,
    api_parameters: &[&[
        (param::NAME, "ImageName"),
        (param::SOURCE_URL, "OSSRegion, OSSBucket, OSSObject"),
        (param::FORMAT, "ImageFormat"),
        (param::OS_TYPE, "OSType"),
        (param::PLATFORM, "Platform"),
        (param::OS_VERSION, "OSVersion"),
        (param::ARCHITECTURE, "Architecture"),
        (param::LICENSE_TYPE, "LicenseType"),
        (
            param::DATA_DISKS,
            "DiskDeviceMapping (a JSON list of OSSRegion, OSSBucket, OSSObject)",
        ),
        (param::TARGET_OSS_REGION_ID, "TargetOSSRegionId"),
    ]],
    ..ECS
};

/// Apsara Stack ECS.
pub const APSARA: CloudRules = CloudRules {
    architecture: Allowed::OneOf(&["x86_64", "i386"]),
    boot_mode: Allowed::Unsupported,
    tags: false,
    tags_in_place: false,
    // Apsara Stack's ImportImage page (seed 004) has RoleName but neither DetectionStrategy nor Features.
    detection_strategy: Allowed::Unsupported,
    nvme_support: Allowed::Unsupported,
    // Seed page 004: the system disk 5 to 500 GiB, data disks 5 to 1000 GiB.
    system_disk_sizes: (5, 500),
    data_disk_sizes: Some((5, 1000)),
    api_parameters: &[ECS_AND_APSARA_PARAMETERS],
    ..ECS
};

fn has_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("http://") || l.contains("https://")
}

/// The family's image names: no `http(s)://`, no `aliyun` / `acs:` prefix, letters, digits, `.`, `:`, `_` and `-`.
pub fn name_problem(cloud: Cloud, name: &str) -> Option<String> {
    let l = name.to_ascii_lowercase();
    if has_url(name) {
        return Some(format!(
            "on {cloud} an image name cannot contain http:// or https://; got {name:?}"
        ));
    }
    if l.starts_with("aliyun") || l.starts_with("acs:") {
        return Some(format!(
            "on {cloud} an image name cannot start with \"aliyun\" or \"acs:\"; got {name:?}"
        ));
    }
    name.chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')))
        .map(|c| {
            format!(
                "on {cloud} an image name holds letters, digits, periods, colons, underscores and hyphens only; \
                 {name:?} contains {c:?}"
            )
        })
}

/// The family's descriptions: 2 to 256 characters, not starting with `http(s)://`.
pub fn description_problem(cloud: Cloud, description: &str) -> Option<String> {
    if description.is_empty() {
        return None;
    }
    let n = description.chars().count();
    if !(2..=256).contains(&n) {
        return Some(format!(
            "on {cloud} a description has 2 to 256 characters; this one has {n}"
        ));
    }
    let l = description.to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://"))
        .then(|| format!("on {cloud} a description cannot start with http:// or https://"))
}

/// ECS tags (ImportImage Tag.N, TagResources): keys not starting with `aliyun` or `acs:`, keys and values of at
/// most 128 characters without `http(s)://`, values not starting with `acs:`.
pub fn tag_problems(cloud: Cloud, key: &str, value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let l = key.to_ascii_lowercase();
    if l.starts_with("aliyun") || l.starts_with("acs:") {
        out.push(format!(
            "on {cloud} a tag key cannot start with \"aliyun\" or \"acs:\"; got {key:?}"
        ));
    }
    if key.chars().count() > 128 || value.chars().count() > 128 {
        out.push(format!(
            "on {cloud} tag keys and values have at most 128 characters"
        ));
    }
    if has_url(key) || has_url(value) {
        out.push(format!(
            "on {cloud} tags cannot contain http:// or https://"
        ));
    }
    if value.to_ascii_lowercase().starts_with("acs:") {
        out.push(format!("on {cloud} a tag value cannot start with \"acs:\""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_spelling() {
        assert_eq!(ECS.canonical("boot_mode", "uefi"), Some("UEFI"));
        assert_eq!(ECS.canonical("format", "QCOW2"), Some("qcow2"));
        assert_eq!(
            ECS.api_parameter("nvme_support"),
            Some("Features.NvmeSupport")
        );
        assert_eq!(
            ENS.api_parameter("target_oss_region_id"),
            Some("TargetOSSRegionId")
        );
    }
}
