//! What the family's imports accept: ECS's table, and ENS's and Apsara Stack's as differences from it; the naming,
//! description and tag rules they share.
//!
//! Sources: ECS ImportImage (alibabacloud-go/ecs-20140526 `client/import_image_request_model.go`: ImageName,
//! Description, Tag.N, DiskDeviceMapping.N.DiskImageSize), Apsara Stack ImportImage (seed page 004), ENS
//! ImportImage (seed page 003; alibabacloud-go/ens-20171110).

use crate::cloud::params::Param;
use crate::cloud::rules::{CloudRules, CopyRules, Take};
use crate::cloud::Cloud;

/// The ImportImage parameters ECS and Apsara Stack share (Apsara Stack's page, seed 004, lists these).
const ECS_AND_APSARA_TAKE: &[Take] = &[
    Take::new(Param::Region, "RegionId"),
    Take::new(Param::Name, "ImageName"),
    Take::new(Param::Description, "Description"),
    Take::new(
        Param::SourceUrl,
        "DiskDeviceMapping.1.OSSBucket, DiskDeviceMapping.1.OSSObject",
    ),
    Take::new(Param::Format, "DiskDeviceMapping.1.Format").one_of(&["raw", "vhd", "qcow2"]),
    Take::new(Param::OsType, "OSType").one_of(&["linux", "windows"]),
    Take::new(Param::Platform, "Platform"),
    Take::new(Param::Architecture, "Architecture").one_of(&["x86_64", "i386", "arm64"]),
    Take::new(Param::LicenseType, "LicenseType").one_of(&["Auto", "Aliyun", "BYOL"]),
    Take::new(Param::DataDisks, "DiskDeviceMapping.2-17.*"),
    Take::new(Param::RoleName, "RoleName"),
    Take::new(Param::SystemDiskSizeGb, "DiskDeviceMapping.1.DiskImageSize"),
    // ModifyImageSharePermission (alibabacloud-go/ecs-20140526; Apsara Stack's ECS API has it too,
    // aliyun/terraform-provider-alibabacloudstack).
    Take::new(
        Param::ShareWithAccounts,
        "ModifyImageSharePermission AddAccount.N, RemoveAccount.N",
    ),
    // CopyImage (alibabacloud-go/ecs-20140526 `client/copy_image_request_model.go`; Apsara Stack's ECS API has it
    // too: aliyun/terraform-provider-alibabacloudstack `resource_apsarastack_image_copy.go`).
    Take::new(
        Param::Copy,
        "CopyImage DestinationRegionId, DestinationImageName, DestinationDescription, Encrypted, KMSKeyId",
    ),
];

/// The ImportImage parameters only public ECS has.
const ECS_ONLY_TAKE: &[Take] = &[
    Take::new(Param::BootMode, "BootMode").one_of(&["BIOS", "UEFI"]),
    Take::new(Param::Tags, "Tag.N.Key, Tag.N.Value"),
    // "Only the Standard detection mode is supported" (alibabacloud-go/ecs-20140526 ImportImageRequest).
    Take::new(Param::DetectionStrategy, "DetectionStrategy").one_of(&["Standard"]),
    Take::new(Param::NvmeSupport, "Features.NvmeSupport").one_of(&["supported", "unsupported"]),
    // `Features.ImdsSupport`: v1 or v2, default v1 (alibabacloud ecs-20140526 `ImportImageRequestFeatures`).
    Take::new(Param::ImdsSupport, "Features.ImdsSupport").one_of(&["v1", "v2"]),
];

/// Alibaba Cloud ECS.
pub const ECS: CloudRules = CloudRules {
    name_len: (2, 128),
    name_starts_with_letter: true,
    takes: &[ECS_AND_APSARA_TAKE, ECS_ONLY_TAKE],
    in_place: &[Param::Name, Param::Description, Param::Tags],
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
    // BootMode: "If `Architecture=arm64`, the default value is UEFI, and only UEFI is supported"
    // (alibabacloud-go/ecs-20140526 `client/import_image_request_model.go`); the API answers
    // `InvalidBootMode.NotSupport` otherwise.
    uefi_only_architectures: &["arm64"],
    // "Each custom image can be shared with up to 50 Alibaba Cloud accounts" (alibabacloud-go/ecs-20140526
    // ModifyImageSharePermission; the alicloud provider's alicloud_image_share_permission docs).
    max_shared_accounts: Some(50),
    // DeleteImage: 403 `ImageUseShared` "The specified image has been shared to others." (Alibaba Cloud ECS API
    // reference, DeleteImage error codes).
    delete_refused_while_shared: &["ImageUseShared"],
    // CopyImage takes DestinationDescription, Encrypted with KMSKeyId, and Tag.N (N 1 to 20)
    // (alibabacloud-go/ecs-20140526 `client/copy_image_request_model.go`). No limit of copies per image is
    // documented (a region runs five copy tasks at once and queues the rest as `Waiting`).
    copies: Some(CopyRules {
        description: true,
        encryption: true,
        tags: true,
        max_copies: None,
    }),
    instead: &[],
};

/// Alibaba Cloud ENS.
pub const ENS: CloudRules = CloudRules {
    // ENS ImportImage (seed page 003; alibabacloud-go/ens-20171110): no description, no tags, no region parameter
    // (the image is made where `TargetOSSRegionId` says).
    takes: &[&[
        Take::new(Param::Name, "ImageName"),
        Take::new(Param::SourceUrl, "OSSRegion, OSSBucket, OSSObject"),
        Take::new(Param::Format, "ImageFormat").one_of(&["qcow2"]),
        Take::new(Param::OsType, "OSType").one_of(&["linux"]),
        Take::new(Param::Platform, "Platform"),
        Take::new(Param::OsVersion, "OSVersion"),
        Take::new(Param::Architecture, "Architecture").one_of(&["x86_64"]),
        Take::new(Param::LicenseType, "LicenseType"),
        // Data disks go in ENS's `DiskDeviceMapping` list (OSSRegion, OSSBucket, OSSObject), which carries the
        // object only.
        Take::new(
            Param::DataDisks,
            "DiskDeviceMapping (a JSON list of OSSRegion, OSSBucket, OSSObject)",
        )
        .note("the source URL only, as entries of its `DiskDeviceMapping` JSON list"),
        // TargetOSSRegionId: "Currently, only cn-beijing and ap-southeast-1 are supported"
        // (alibabacloud-go/ens-20171110 `client/import_image_request_model.go`).
        Take::new(Param::TargetOssRegionId, "TargetOSSRegionId")
            .one_of(&["cn-beijing", "ap-southeast-1"]),
        // ModifyImageSharePermission (alibabacloud-go/ens-20171110): no limit documented.
        Take::new(
            Param::ShareWithAccounts,
            "ModifyImageSharePermission AddAccounts, RemoveAccounts",
        ),
    ]],
    max_shared_accounts: None,
    // The ENS API (alibabacloud-go/ens-20171110 `client/client.go`) has no image copy: CopySnapshot, CopySDG and
    // DistApplicationData copy snapshots, shared data groups and application data, not images.
    copies: None,
    instead: &[(
        Param::Copy,
        "ENS has no image copy API. An ENS image is not tied to one node: instances on any node are created from \
         the same image ID (RunInstances takes `ImageId` with the node), so no copy is needed",
    )],
    // ENS's ModifyImageAttribute takes a name only.
    in_place: &[Param::Name],
    data_disk_sizes: None,
    data_disk_format: false,
    // Nothing in ENS's ImportImage documentation (seed page 003) refuses a taken name.
    unique_names: false,
    ..ECS
};

/// Apsara Stack ECS.
pub const APSARA: CloudRules = CloudRules {
    // Apsara Stack's ImportImage page (seed 004) has RoleName but neither BootMode, Tag.N, DetectionStrategy nor
    // Features, and no arm64.
    takes: &[
        &[Take::new(Param::Architecture, "Architecture").one_of(&["x86_64", "i386"])],
        ECS_AND_APSARA_TAKE,
    ],
    in_place: &[Param::Name, Param::Description],
    // Seed page 004: the system disk 5 to 500 GiB, data disks 5 to 1000 GiB.
    system_disk_sizes: (5, 500),
    data_disk_sizes: Some((5, 1000)),
    // aliyun/terraform-provider-alibabacloudstack `resource_apsarastack_image_copy.go` sends no Tag.N to CopyImage.
    copies: Some(CopyRules {
        description: true,
        encryption: true,
        tags: false,
        max_copies: None,
    }),
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
        assert_eq!(ECS.canonical(Param::BootMode, "uefi"), Some("UEFI"));
        assert_eq!(ECS.canonical(Param::Format, "QCOW2"), Some("qcow2"));
        assert_eq!(
            ECS.api_parameter(Param::NvmeSupport),
            Some("Features.NvmeSupport")
        );
        assert_eq!(
            ENS.api_parameter(Param::TargetOssRegionId),
            Some("TargetOSSRegionId")
        );
    }
}
