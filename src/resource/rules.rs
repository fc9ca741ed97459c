//! What each cloud accepts: which attributes apply, their allowed values, which changes happen in place, and the
//! plan-time validation built from that. One table per cloud, so adding a cloud is adding a table.

use super::limits;
use crate::cloud::source_url::validate_source_url;
use crate::cloud::Cloud;
use crate::cty::{Path, Value};
use crate::provider::{Diagnostic, Diagnostics};

/// An optional attribute and the values a cloud accepts for it.
#[derive(Debug, Clone, Copy)]
pub enum Allowed {
    /// The cloud has no such parameter; setting it is an error.
    Unsupported,
    /// Any string.
    Any,
    /// One of these (compared case-insensitively; the cloud gets the spelling given here).
    OneOf(&'static [&'static str]),
}

/// A cloud's rules.
#[derive(Debug)]
pub struct CloudRules {
    /// The cloud.
    pub cloud: Cloud,
    /// Name length bounds and whether it must start with a letter.
    pub name_len: (usize, usize),
    /// Whether the name must start with a letter.
    pub name_starts_with_letter: bool,
    /// Whether the name changes in place (else replacement).
    pub rename_in_place: bool,
    /// Whether the cloud's import call takes a description at all.
    pub description: bool,
    /// Whether the description changes in place (else replacement).
    pub description_in_place: bool,
    /// Whether tags change in place (else replacement).
    pub tags_in_place: bool,
    /// `format`.
    pub format: Allowed,
    /// `os_type`.
    pub os_type: Allowed,
    /// `platform`.
    pub platform: Allowed,
    /// `os_version`.
    pub os_version: Allowed,
    /// `architecture`.
    pub architecture: Allowed,
    /// `boot_mode`.
    pub boot_mode: Allowed,
    /// `license_type`.
    pub license_type: Allowed,
    /// Whether `tags` are sent with the import.
    pub tags: bool,
    /// Whether `data_disks` are sent with the import.
    pub data_disks: bool,
    /// `image_family` (Tencent `ImageFamily`).
    pub image_family: Allowed,
    /// `role_name` (ECS / Apsara Stack `RoleName`).
    pub role_name: Allowed,
    /// `detection_strategy` (ECS `DetectionStrategy`).
    pub detection_strategy: Allowed,
    /// `nvme_support` (ECS `Features.NvmeSupport`).
    pub nvme_support: Allowed,
    /// `target_oss_region_id` (ENS `TargetOSSRegionId`).
    pub target_oss_region_id: Allowed,
    /// Whether `force` is sent (Tencent `Force`).
    pub force: bool,
    /// Whether `system_disk_size_gb` is sent (`DiskDeviceMapping.1.DiskImageSize`).
    pub system_disk_size: bool,
    /// Attributes the cloud's import call requires.
    pub required: &'static [&'static str],
    /// Whether the cloud refuses a second image of the same name in a region (Tencent
    /// `InvalidImageName.Duplicate`, seed page 002; ECS `InvalidImageName.Duplicated`, Alibaba Cloud ECS API
    /// reference, ImportImage error codes). Where it does not, a create looks for the name before importing.
    pub unique_names: bool,
}

const FORMATS_ALL: &[&str] = &["raw", "vhd", "vmdk", "qcow2"];
const FORMATS_ALIBABA: &[&str] = &["raw", "vhd", "qcow2"];
const LINUX_WINDOWS: &[&str] = &["linux", "windows"];

const UCLOUD: CloudRules = CloudRules {
    cloud: Cloud::UCloud,
    name_len: (1, 63),
    name_starts_with_letter: false,
    rename_in_place: false,
    description: true,
    description_in_place: false,
    tags_in_place: false,
    format: Allowed::OneOf(FORMATS_ALL),
    os_type: Allowed::OneOf(LINUX_WINDOWS),
    platform: Allowed::Any,
    os_version: Allowed::Any,
    architecture: Allowed::Unsupported,
    boot_mode: Allowed::Unsupported,
    license_type: Allowed::Unsupported,
    tags: false,
    data_disks: false,
    image_family: Allowed::Unsupported,
    role_name: Allowed::Unsupported,
    detection_strategy: Allowed::Unsupported,
    nvme_support: Allowed::Unsupported,
    target_oss_region_id: Allowed::Unsupported,
    force: false,
    system_disk_size: false,
    required: &["format", "platform", "os_version"],
    unique_names: false,
};

/// The rules of `cloud`.
pub fn rules(cloud: Cloud) -> &'static CloudRules {
    const SURFERCLOUD: CloudRules = CloudRules {
        cloud: Cloud::SurferCloud,
        ..UCLOUD
    };
    const TENCENT: CloudRules = CloudRules {
        cloud: Cloud::TencentCloud,
        name_len: (1, 60),
        name_starts_with_letter: false,
        rename_in_place: true,
        description: true,
        description_in_place: true,
        // Tencent changes tags through its separate Tag API, which this provider does not call.
        tags_in_place: false,
        format: Allowed::OneOf(FORMATS_ALL),
        os_type: Allowed::OneOf(LINUX_WINDOWS),
        platform: Allowed::Any,
        os_version: Allowed::Any,
        architecture: Allowed::OneOf(&["x86_64", "i386", "arm64"]),
        boot_mode: Allowed::OneOf(&["Legacy BIOS", "UEFI"]),
        license_type: Allowed::OneOf(&["TencentCloud", "BYOL"]),
        tags: true,
        data_disks: true,
        image_family: Allowed::Any,
        force: true,
        required: &["platform", "os_version"],
        unique_names: true,
        ..UCLOUD
    };
    const ECS: CloudRules = CloudRules {
        cloud: Cloud::AliCloud,
        name_len: (2, 128),
        name_starts_with_letter: true,
        rename_in_place: true,
        description: true,
        description_in_place: true,
        tags_in_place: true,
        format: Allowed::OneOf(FORMATS_ALIBABA),
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
        unique_names: true,
    };
    const ENS: CloudRules = CloudRules {
        cloud: Cloud::AliCloudEns,
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
        // Data disks go in ENS's `DiskDeviceMapping` list (OSSRegion, OSSBucket, OSSObject).
        data_disks: true,
        // Nothing in ENS's ImportImage documentation (seed page 003) refuses a taken name.
        unique_names: false,
        role_name: Allowed::Unsupported,
        detection_strategy: Allowed::Unsupported,
        nvme_support: Allowed::Unsupported,
        target_oss_region_id: Allowed::Any,
        system_disk_size: false,
        ..ECS
    };
    const APSARA: CloudRules = CloudRules {
        cloud: Cloud::ApsaraStack,
        architecture: Allowed::OneOf(&["x86_64", "i386"]),
        boot_mode: Allowed::Unsupported,
        tags: false,
        tags_in_place: false,
        // Apsara Stack's ImportImage page (seed 004) has RoleName but neither DetectionStrategy nor Features.
        detection_strategy: Allowed::Unsupported,
        nvme_support: Allowed::Unsupported,
        ..ECS
    };
    match cloud {
        Cloud::UCloud => &UCLOUD,
        Cloud::SurferCloud => &SURFERCLOUD,
        Cloud::TencentCloud => &TENCENT,
        Cloud::AliCloud => &ECS,
        Cloud::AliCloudEns => &ENS,
        Cloud::ApsaraStack => &APSARA,
    }
}

/// See [`CloudRules::api_parameter`]. Names come from the seed pages (`/work/shared/seeds/`) and the clouds' SDK
/// models (ucloud-sdk-go services/uhost, tencentcloud-sdk-go cvm/v20170312 models.go, alibabacloud-go
/// ecs-20140526 and ens-20171110).
fn api_parameter(cloud: Cloud, attribute: &str) -> Option<&'static str> {
    use Cloud::*;
    Some(match (cloud, attribute) {
        (UCloud | SurferCloud, "region") => "Region",
        (UCloud | SurferCloud, "name") => "ImageName",
        (UCloud | SurferCloud, "description") => "ImageDescription",
        (UCloud | SurferCloud, "source_url") => "UFileUrl",
        (UCloud | SurferCloud, "format") => "Format",
        (UCloud | SurferCloud, "platform") => "OsType",
        (UCloud | SurferCloud, "os_version") => "OsName",
        (TencentCloud, "region") => "Region",
        (TencentCloud, "name") => "ImageName",
        (TencentCloud, "description") => "ImageDescription",
        (TencentCloud, "source_url") => "ImageUrl",
        (TencentCloud, "platform") => "OsType",
        (TencentCloud, "os_version") => "OsVersion",
        // `arm64` is sent as `arm_64` and `arm` read back as `arm64` (see `cloud::tencent`).
        (TencentCloud, "architecture") => "Architecture",
        (TencentCloud, "boot_mode") => "BootMode",
        (TencentCloud, "license_type") => "LicenseType",
        (TencentCloud, "tags") => "TagSpecification.N",
        (TencentCloud, "data_disks") => "ImportImageDataDiskList.N.ImageUrl",
        (TencentCloud, "image_family") => "ImageFamily",
        (TencentCloud, "force") => "Force",
        (AliCloud | ApsaraStack, "region") => "RegionId",
        (AliCloud | ApsaraStack, "name") => "ImageName",
        (AliCloud | ApsaraStack, "description") => "Description",
        (AliCloud | ApsaraStack, "source_url") => {
            "DiskDeviceMapping.1.OSSBucket, DiskDeviceMapping.1.OSSObject"
        }
        (AliCloud | ApsaraStack, "format") => "DiskDeviceMapping.1.Format",
        (AliCloud | ApsaraStack | AliCloudEns, "os_type") => "OSType",
        (AliCloud | ApsaraStack | AliCloudEns, "platform") => "Platform",
        (AliCloud | ApsaraStack | AliCloudEns, "architecture") => "Architecture",
        (AliCloud, "boot_mode") => "BootMode",
        (AliCloud | ApsaraStack | AliCloudEns, "license_type") => "LicenseType",
        (AliCloud, "tags") => "Tag.N.Key, Tag.N.Value",
        (AliCloud | ApsaraStack, "data_disks") => "DiskDeviceMapping.2-17.*",
        (AliCloud | ApsaraStack, "role_name") => "RoleName",
        (AliCloud, "detection_strategy") => "DetectionStrategy",
        (AliCloud, "nvme_support") => "Features.NvmeSupport",
        (AliCloud | ApsaraStack, "system_disk_size_gb") => "DiskDeviceMapping.1.DiskImageSize",
        (AliCloudEns, "name") => "ImageName",
        (AliCloudEns, "source_url") => "OSSRegion, OSSBucket, OSSObject",
        (AliCloudEns, "format") => "ImageFormat",
        (AliCloudEns, "os_version") => "OSVersion",
        (AliCloudEns, "data_disks") => {
            "DiskDeviceMapping (a JSON list of OSSRegion, OSSBucket, OSSObject)"
        }
        (AliCloudEns, "target_oss_region_id") => "TargetOSSRegionId",
        _ => return None,
    })
}

impl CloudRules {
    /// The optional, per-cloud string attributes with their rule.
    pub fn choices(&self) -> [(&'static str, Allowed); 12] {
        [
            ("format", self.format),
            ("os_type", self.os_type),
            ("platform", self.platform),
            ("os_version", self.os_version),
            ("architecture", self.architecture),
            ("boot_mode", self.boot_mode),
            ("license_type", self.license_type),
            ("image_family", self.image_family),
            ("role_name", self.role_name),
            ("detection_strategy", self.detection_strategy),
            ("nvme_support", self.nvme_support),
            ("target_oss_region_id", self.target_oss_region_id),
        ]
    }

    /// The optional non-string attributes (`force`, `system_disk_size_gb`) and whether the cloud takes them.
    pub fn flags(&self) -> [(&'static str, bool); 2] {
        [
            ("force", self.force),
            ("system_disk_size_gb", self.system_disk_size),
        ]
    }

    /// The API parameter an attribute becomes on this cloud, so a user can check it against the cloud's own
    /// reference page. `None` where the cloud's import call has no such parameter.
    pub fn api_parameter(&self, attribute: &str) -> Option<&'static str> {
        api_parameter(self.cloud, attribute)
    }

    /// The spelling the cloud expects for `value` of `attribute`, if it is allowed.
    pub fn canonical(&self, attribute: &str, value: &str) -> Option<&'static str> {
        let (_, allowed) = self.choices().into_iter().find(|(a, _)| *a == attribute)?;
        match allowed {
            Allowed::OneOf(values) => values
                .iter()
                .copied()
                .find(|v| v.eq_ignore_ascii_case(value)),
            _ => None,
        }
    }

    /// Whether a change of this top-level attribute can be made without replacing the image.
    pub fn changes_in_place(&self, attribute: &str) -> bool {
        match attribute {
            "name" => self.rename_in_place,
            "description" => self.description_in_place,
            "tags" => self.tags_in_place,
            "timeouts" => true,
            // Settings of the import call, not properties of the image: a later change is only recorded.
            "force" | "role_name" | "detection_strategy" => true,
            _ => false,
        }
    }
}

/// A message as a sentence: capital first letter, full stop.
fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn known_str<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config
        .get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_str)
}

fn is_set(config: &Value, name: &str) -> bool {
    config.get_attr(name).is_some_and(|v| !v.is_null())
}

/// Validates a resource configuration. Unknown values are skipped; they are checked again once known.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(cloud_name) = known_str(config, "cloud") else {
        return diags;
    };
    let cloud: Cloud = match cloud_name.parse() {
        Ok(c) => c,
        Err(message) => {
            diags.push(Diagnostic::error("Unknown cloud", message).at(Path::root().attr("cloud")));
            return diags;
        }
    };
    let r = rules(cloud);

    if let Some(name) = known_str(config, "name") {
        let len = name.chars().count();
        let (min, max) = r.name_len;
        if len < min || len > max {
            diags.push(
                Diagnostic::error(
                    "Invalid image name",
                    format!("On {cloud} an image name has {min} to {max} characters; {name:?} has {len}."),
                )
                .at(Path::root().attr("name")),
            );
        } else if r.name_starts_with_letter && !name.chars().next().is_some_and(char::is_alphabetic)
        {
            diags.push(
                Diagnostic::error(
                    "Invalid image name",
                    format!(
                        "On {cloud} an image name must start with a letter; {name:?} does not."
                    ),
                )
                .at(Path::root().attr("name")),
            );
        } else if let Some(problem) = limits::name_problem(cloud, name) {
            diags.push(
                Diagnostic::error("Invalid image name", capitalised(&problem))
                    .at(Path::root().attr("name")),
            );
        }
    }
    if let Some(d) = known_str(config, "description") {
        if let Some(problem) = limits::description_problem(cloud, d) {
            diags.push(
                Diagnostic::error("Invalid description", capitalised(&problem))
                    .at(Path::root().attr("description")),
            );
        }
    }
    if let Some(region) = known_str(config, "region") {
        if let Some(problem) = limits::region_problem(region) {
            diags.push(
                Diagnostic::error("Invalid region", capitalised(&problem))
                    .at(Path::root().attr("region")),
            );
        }
    }
    if let Some(tags) = config.get_attr("tags").and_then(Value::as_map) {
        if r.tags && tags.values().all(Value::is_known) {
            let pairs = tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()));
            for (key, problem) in limits::tag_problems(cloud, pairs) {
                let at = match key {
                    Some(k) => Path::root().attr("tags").key(k),
                    None => Path::root().attr("tags"),
                };
                diags.push(Diagnostic::error("Invalid tags", capitalised(&problem)).at(at));
            }
        }
    }
    if let Some(size) = config
        .get_attr("system_disk_size_gb")
        .and_then(Value::as_number)
    {
        // ECS DiskDeviceMapping.1.DiskImageSize: 1 to 2048 GiB; Apsara (seed page 004): 5 to 500 GiB.
        let range = if cloud == Cloud::ApsaraStack {
            (5, 500)
        } else {
            (1, 2048)
        };
        if let Some(problem) = limits::size_problem(size, range) {
            diags.push(
                Diagnostic::error("Invalid system_disk_size_gb", capitalised(&problem))
                    .at(Path::root().attr("system_disk_size_gb")),
            );
        }
    }

    if let Some(url) = known_str(config, "source_url") {
        if let Err(message) = validate_source_url(cloud, url) {
            diags.push(
                Diagnostic::error("Invalid source_url", message)
                    .at(Path::root().attr("source_url")),
            );
        }
    }

    for (attribute, allowed) in r.choices() {
        let path = Path::root().attr(attribute);
        match (allowed, known_str(config, attribute)) {
            (Allowed::Unsupported, _) if is_set(config, attribute) => diags.push(
                Diagnostic::error(
                    format!("{attribute} is not supported on {cloud}"),
                    format!("{cloud}'s image import has no {attribute} parameter; remove it."),
                )
                .at(path),
            ),
            (Allowed::OneOf(values), Some(v))
                if !values.iter().any(|a| a.eq_ignore_ascii_case(v)) =>
            {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid {attribute}"),
                        format!(
                            "On {cloud}, {attribute} must be one of {}; got {v:?}.",
                            values.join(", ")
                        ),
                    )
                    .at(path),
                )
            }
            _ => {}
        }
    }
    for (attribute, supported) in r.flags() {
        if !supported && is_set(config, attribute) {
            diags.push(
                Diagnostic::error(
                    format!("{attribute} is not supported on {cloud}"),
                    format!("{cloud}'s image import has no {attribute} parameter; remove it."),
                )
                .at(Path::root().attr(attribute)),
            );
        }
    }
    for attribute in r.required {
        if config.get_attr(attribute).is_some_and(Value::is_null) {
            diags.push(
                Diagnostic::error(
                    format!("{attribute} is required on {cloud}"),
                    format!("{cloud}'s image import needs {attribute}; set it in this resource."),
                )
                .at(Path::root().attr(*attribute)),
            );
        }
    }
    if !r.description && is_set(config, "description") {
        diags.push(
            Diagnostic::error(
                format!("description is not supported on {cloud}"),
                format!("{cloud} images have no description; remove it."),
            )
            .at(Path::root().attr("description")),
        );
    }
    if !r.tags
        && config
            .get_attr("tags")
            .and_then(Value::as_map)
            .is_some_and(|m| !m.is_empty())
    {
        diags.push(
            Diagnostic::error(
                format!("tags are not supported on {cloud}"),
                "Tags can be set on tencentcloud and alicloud images only.",
            )
            .at(Path::root().attr("tags")),
        );
    }
    if !r.data_disks
        && config
            .get_attr("data_disks")
            .and_then(Value::as_list)
            .is_some_and(|l| !l.is_empty())
    {
        diags.push(
            Diagnostic::error(
                format!("data_disks are not supported on {cloud}"),
                "Data disks can be imported on tencentcloud, alicloud, alicloud_ens and apsarastack only.",
            )
            .at(Path::root().attr("data_disks")),
        );
    }
    if let Some(disks) = config.get_attr("data_disks").and_then(Value::as_list) {
        for (i, disk) in disks.iter().enumerate() {
            let at = Path::root().attr("data_disks").index(i as u64);
            if let Some(url) = known_str(disk, "source_url") {
                if let Err(message) = validate_source_url(cloud, url) {
                    diags.push(
                        Diagnostic::error("Invalid data disk source_url", message)
                            .at(at.clone().attr("source_url")),
                    );
                }
            }
            let sized = limits::data_disk_sizes(cloud);
            if let Some(size) = disk.get_attr("size_gb").filter(|v| !v.is_null()) {
                let problem = match (sized, size.as_number()) {
                    (None, _) => Some(format!(
                        "{cloud}'s import takes no data disk size (the cloud sizes the disk from the file); remove it"
                    )),
                    (Some(range), Some(n)) => limits::size_problem(n, range),
                    (Some(_), None) => None,
                };
                if let Some(problem) = problem {
                    diags.push(
                        Diagnostic::error("Invalid data disk size_gb", capitalised(&problem))
                            .at(at.clone().attr("size_gb")),
                    );
                }
            }
            // Tencent's ImportImageDataDiskList and ENS's DiskDeviceMapping carry the object only.
            if matches!(cloud, Cloud::TencentCloud | Cloud::AliCloudEns) && is_set(disk, "format") {
                diags.push(
                    Diagnostic::error(
                        "Invalid data disk format",
                        format!("{cloud}'s import takes no data disk format (it detects it); remove it."),
                    )
                    .at(at.clone().attr("format")),
                );
            }
            if let (Allowed::OneOf(values), Some(f)) = (r.format, known_str(disk, "format")) {
                if !values.iter().any(|a| a.eq_ignore_ascii_case(f)) {
                    diags.push(
                        Diagnostic::error(
                            "Invalid data disk format",
                            format!("Use one of {}.", values.join(", ")),
                        )
                        .at(at.attr("format")),
                    );
                }
            }
        }
    }
    if let Some(timeouts) = config.get_attr("timeouts").filter(|v| !v.is_null()) {
        for op in ["create", "update", "delete"] {
            if let Some(text) = known_str(timeouts, op) {
                if let Err(problem) = limits::parse_timeout(text) {
                    diags.push(
                        Diagnostic::error("Invalid timeout", capitalised(&problem))
                            .at(Path::root().attr("timeouts").attr(op)),
                    );
                }
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let block = crate::resource::schema::resource_schema().block;
        let mut attrs: std::collections::BTreeMap<String, Value> = block
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .chain(block.blocks.iter().map(|b| b.type_name.clone()))
            .map(|n| (n, Value::Null))
            .collect();
        for (k, v) in pairs {
            attrs.insert(k.to_string(), v.clone());
        }
        Value::Object(attrs)
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn alibaba_name_rules() {
        let d = validate(&config(&[
            ("cloud", Value::string("alicloud")),
            ("name", Value::string("1bad")),
            ("source_url", Value::string("oss://b/k.qcow2")),
        ]));
        assert_eq!(paths(&d), ["name"]);
        let d = validate(&config(&[
            ("cloud", Value::string("alicloud")),
            ("name", Value::string("x")),
            ("source_url", Value::string("oss://b/k.qcow2")),
        ]));
        assert_eq!(paths(&d), ["name"]);
    }

    #[test]
    fn tencent_name_length_and_required() {
        let long = "n".repeat(61);
        let d = validate(&config(&[
            ("cloud", Value::string("tencentcloud")),
            ("name", Value::string(long)),
            (
                "source_url",
                Value::string("https://b-1250000000.cos.ap-guangzhou.myqcloud.com/a.qcow2"),
            ),
        ]));
        assert_eq!(paths(&d), ["name", "platform", "os_version"]);
    }

    #[test]
    fn unsupported_and_enum_values_point_at_the_attribute() {
        let d = validate(&config(&[
            ("cloud", Value::string("alicloud_ens")),
            ("name", Value::string("edge")),
            ("source_url", Value::string("oss://b/k.qcow2")),
            ("format", Value::string("vhd")),
            ("platform", Value::string("Ubuntu")),
            ("description", Value::string("edge image")),
            ("role_name", Value::string("R")),
            ("force", Value::Bool(true)),
        ]));
        assert_eq!(paths(&d), ["format", "role_name", "force", "description"]);
    }

    #[test]
    fn every_seed_parameter_is_reachable() {
        // ENS Platform, LicenseType, TargetOSSRegionId and data disks; Tencent Force and ImageFamily; ECS and
        // Apsara RoleName; ECS DetectionStrategy and Features.NvmeSupport.
        let ok = |cloud: &str, extra: &[(&str, Value)]| {
            let mut pairs = vec![
                ("cloud", Value::string(cloud)),
                ("name", Value::string("img-a")),
            ];
            pairs.extend(extra.iter().cloned());
            validate(&config(&pairs))
        };
        let d = ok(
            "alicloud_ens",
            &[
                ("platform", Value::string("centos")),
                ("license_type", Value::string("BYOL")),
                ("target_oss_region_id", Value::string("cn-beijing")),
            ],
        );
        assert!(d.is_empty(), "{d:?}");
        let d = ok(
            "tencentcloud",
            &[
                ("platform", Value::string("CentOS")),
                ("os_version", Value::string("7")),
                ("force", Value::Bool(true)),
                ("image_family", Value::string("web")),
            ],
        );
        assert!(d.is_empty(), "{d:?}");
        let d = ok(
            "alicloud",
            &[
                ("role_name", Value::string("R")),
                ("detection_strategy", Value::string("standard")),
                ("nvme_support", Value::string("supported")),
                (
                    "system_disk_size_gb",
                    Value::Number(crate::cty::Number::from_u64(40)),
                ),
            ],
        );
        assert!(d.is_empty(), "{d:?}");
        let d = ok("apsarastack", &[("role_name", Value::string("R"))]);
        assert!(d.is_empty(), "{d:?}");
        let d = ok(
            "apsarastack",
            &[("nvme_support", Value::string("supported"))],
        );
        assert_eq!(paths(&d), ["nvme_support"]);
        assert_eq!(
            rules(Cloud::AliCloud).api_parameter("nvme_support"),
            Some("Features.NvmeSupport")
        );
        assert_eq!(
            rules(Cloud::AliCloudEns).api_parameter("target_oss_region_id"),
            Some("TargetOSSRegionId")
        );
    }

    #[test]
    fn unknown_values_are_skipped() {
        let d = validate(&config(&[
            ("cloud", Value::string("ucloud")),
            ("name", Value::unknown()),
            ("source_url", Value::unknown()),
            ("format", Value::unknown()),
            ("platform", Value::unknown()),
            ("os_version", Value::unknown()),
        ]));
        assert!(d.is_empty(), "{d:?}");
        assert!(validate(&config(&[("cloud", Value::unknown())])).is_empty());
    }

    #[test]
    fn wrong_storage_for_the_cloud() {
        let d = validate(&config(&[
            ("cloud", Value::string("ucloud")),
            ("name", Value::string("img")),
            ("source_url", Value::string("oss://bucket/key")),
            ("format", Value::string("qcow2")),
            ("platform", Value::string("Ubuntu")),
            ("os_version", Value::string("22.04")),
        ]));
        assert_eq!(paths(&d), ["source_url"]);
    }

    #[test]
    fn canonical_spelling() {
        assert_eq!(
            rules(Cloud::AliCloud).canonical("boot_mode", "uefi"),
            Some("UEFI")
        );
        assert_eq!(
            rules(Cloud::AliCloud).canonical("format", "QCOW2"),
            Some("qcow2")
        );
        assert_eq!(
            rules(Cloud::UCloud).canonical("architecture", "x86_64"),
            None
        );
    }
}
