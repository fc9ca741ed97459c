//! Plan-time validation of a resource configuration against the chosen cloud's rules (`CloudRules`, from its
//! backend): which attributes apply, their allowed values, the documented limits. Unknown values are skipped; they
//! are checked again once known.

use crate::cloud::objects::upload_object;
use crate::cloud::params::Kind;
use crate::cloud::rules::{Allowed, CloudRules};
use crate::cloud::source_url::check_source_url;
use crate::cloud::Cloud;
use crate::cloud::Param;
use crate::cty::{Path, Value};
use crate::provider::{Diagnostic, Diagnostics};

use super::limits;
use super::model::{attr, DataDiskModel, Field, ImageModel};

/// A message as a sentence: capital first letter, full stop.
pub(super) fn capitalised(message: &str) -> String {
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

fn at(attribute: &str) -> Path {
    Path::root().attr(attribute)
}

/// `a, b and c`.
fn and_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The clouds that take `param`, by name.
fn clouds_taking(param: Param) -> String {
    let names: Vec<&str> = Cloud::ALL
        .into_iter()
        .filter(|c| c.backend().rules().supports(param))
        .map(Cloud::as_str)
        .collect();
    and_list(&names)
}

/// The error for a parameter the cloud's import does not take.
fn unsupported(cloud: Cloud, param: Param) -> Diagnostic {
    let attribute = param.attribute();
    let are = match param.def().kind {
        Kind::Tags | Kind::DataDisks => "are",
        _ => "is",
    };
    let detail = match cloud.backend().rules().instead_of(param) {
        Some(why) => format!(
            "{why}. {cloud} takes no {attribute} (only {} do); remove it.",
            clouds_taking(param)
        ),
        None => format!(
            "{cloud} takes no {attribute} (only {} do); remove it.",
            clouds_taking(param)
        ),
    };
    Diagnostic::error(
        format!("{attribute} {are} not supported on {cloud}"),
        detail,
    )
    .at(at(attribute))
}

/// Both checks: what a configuration that makes a new image must satisfy (the unit tests' view).
#[cfg(test)]
pub(super) fn validate(config: &Value) -> Diagnostics {
    let mut diags = configuration(config);
    diags.extend(new_image(config));
    diags
}

/// What a configuration needs only to make a new image: a disk image to import, and the parameters the cloud's
/// import requires. An image that exists (imported, adopted by `terraform query`, or made before) is described
/// without them, since the clouds cannot report them all back; the plan asks for them when it creates or replaces
/// an image, before anything is destroyed.
pub(super) fn new_image(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let m = ImageModel::from_value(config);
    let Some(cloud) = m.cloud() else {
        return diags;
    };
    let known = m.source_url.is_known() && m.source_file.is_known();
    if known && m.source_url.is_null() && m.source_file.is_null() {
        diags.push(
            Diagnostic::error(
                "No disk image",
                "Set source_url (an object already in the cloud's storage) or source_file (a local file to upload).",
            )
            .at(at(attr::SOURCE_URL)),
        );
    }
    for &param in cloud.backend().rules().required {
        let attribute = param.attribute();
        // A local file's format is read from its bytes at plan time.
        if param == Param::Format && m.source_file.is_set() {
            continue;
        }
        if config.get_attr(attribute).is_some_and(Value::is_null) {
            diags.push(
                Diagnostic::error(
                    format!("{attribute} is required on {cloud}"),
                    format!("{cloud}'s image import needs {attribute}; set it in this resource."),
                )
                .at(at(attribute)),
            );
        }
    }
    diags
}

/// What every configuration of the resource must satisfy, whether it makes a new image or describes one that
/// exists (the check of ValidateResourceConfig).
pub(super) fn configuration(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let m = ImageModel::from_value(config);
    let Some(cloud_name) = m.cloud.text() else {
        return diags;
    };
    let cloud: Cloud = match cloud_name.parse() {
        Ok(c) => c,
        Err(message) => {
            diags.push(Diagnostic::error("Unknown cloud", message).at(at(attr::CLOUD)));
            return diags;
        }
    };
    let r = cloud.backend().rules();
    texts(cloud, r, &m, &mut diags);
    sizes(r, &m, &mut diags);
    if let Some(url) = m.source_url.text() {
        if let Err(message) = check_source_url(cloud, url) {
            diags.push(Diagnostic::error("Invalid source_url", message).at(at(attr::SOURCE_URL)));
        }
    }
    source(
        cloud,
        Disk {
            source_url: &m.source_url,
            source_file: &m.source_file,
            upload_to: &m.upload_to,
            source_sha256: &m.source_sha256,
        },
        &Path::root(),
        &mut diags,
    );
    if m.keep_uploaded_object.is_set() && m.source_file.is_null() {
        diags.push(
            Diagnostic::error(
                "keep_uploaded_object applies to source_file only",
                "Only an image made from a local file has an uploaded object to keep; remove it.",
            )
            .at(at(attr::KEEP_UPLOADED_OBJECT)),
        );
    }
    parameters(cloud, r, config, &m, &mut diags);
    shared_accounts(cloud, r, &m, &mut diags);
    for (i, disk) in m.disks().iter().enumerate() {
        data_disk(
            cloud,
            r,
            disk,
            Path::root().attr(attr::DATA_DISKS).index(i as u64),
            &mut diags,
        );
    }
    distinct_uploads(cloud, &m, &mut diags);
    timeouts(&m, &mut diags);
    diags
}

/// The accounts an image is shared with: account IDs (the clouds' account IDs are numbers: Alibaba Cloud's
/// `AliyunId`, Tencent Cloud's root-account ID, which is not a QQ number), at most as many as the cloud allows.
fn shared_accounts(cloud: Cloud, r: &CloudRules, m: &ImageModel, diags: &mut Diagnostics) {
    let Some(accounts) = m.share_with_accounts.known().map(|s| s.known()) else {
        return;
    };
    if !r.supports(Param::ShareWithAccounts) {
        return;
    }
    for a in &accounts {
        if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
            diags.push(
                Diagnostic::error(
                    "Invalid account ID",
                    format!("On {cloud} an account ID is a number (the account's ID, not its name); got {a:?}."),
                )
                .at(at(attr::SHARE_WITH_ACCOUNTS)),
            );
        }
    }
    if let Some(max) = r.max_shared_accounts.filter(|max| accounts.len() > *max) {
        diags.push(
            Diagnostic::error(
                "Too many accounts",
                format!(
                    "On {cloud} an image is shared with at most {max} accounts; {} are listed.",
                    accounts.len()
                ),
            )
            .at(at(attr::SHARE_WITH_ACCOUNTS)),
        );
    }
}

/// Two disks uploaded to one object would overwrite each other: every `upload_to` names its own object.
fn distinct_uploads(cloud: Cloud, m: &ImageModel, diags: &mut Diagnostics) {
    let mut seen: Vec<String> = Vec::new();
    let targets = std::iter::once((Path::root(), &m.upload_to)).chain(
        m.disks().iter().enumerate().map(|(i, d)| {
            (
                Path::root().attr(attr::DATA_DISKS).index(i as u64),
                &d.upload_to,
            )
        }),
    );
    for (base, to) in targets {
        let Some(object) = to
            .text()
            .and_then(|u| upload_object(cloud, u).ok())
            .map(|o| o.display())
        else {
            continue;
        };
        if seen.contains(&object) {
            diags.push(
                Diagnostic::error(
                    "upload_to names an object another disk is uploaded to",
                    format!("{object} is already the upload_to of another disk of this image; give each its own."),
                )
                .at(base.attr(attr::UPLOAD_TO)),
            );
        } else {
            seen.push(object);
        }
    }
}

/// The source attributes of one disk.
struct Disk<'a> {
    source_url: &'a Field<String>,
    source_file: &'a Field<String>,
    upload_to: &'a Field<String>,
    source_sha256: &'a Field<String>,
}

/// Exactly one of `source_url` and `source_file`; `upload_to` with (and only with) `source_file`, naming an object
/// of the cloud's storage; `source_sha256` as 64 hex digits.
fn source(cloud: Cloud, d: Disk<'_>, base: &Path, diags: &mut Diagnostics) {
    let here = |name: &str| base.clone().attr(name);
    let known = d.source_url.is_known() && d.source_file.is_known();
    // The system disk's object is needed only to make a new image ([`new_image`]); a data disk block always names
    // its disk.
    let data_disk = !base.0.is_empty();
    match (d.source_url.is_set(), d.source_file.is_set()) {
        (false, false) if known && data_disk => diags.push(
            Diagnostic::error(
                "No disk image",
                "Set source_url (an object already in the cloud's storage) or source_file (a local file to upload).",
            )
            .at(here(attr::SOURCE_URL)),
        ),
        (true, true) => diags.push(
            Diagnostic::error(
                "source_url and source_file are exclusive",
                "Set one of them: source_url for an object already in the cloud's storage, source_file (with \
                 upload_to) for a local file to upload.",
            )
            .at(here(attr::SOURCE_FILE)),
        ),
        _ => {}
    }
    if d.source_file.text().is_some_and(|p| p.trim().is_empty()) {
        diags.push(
            Diagnostic::error("Invalid source_file", "The path is empty.")
                .at(here(attr::SOURCE_FILE)),
        );
    }
    if d.source_file.is_set() && d.upload_to.is_null() {
        diags.push(
            Diagnostic::error(
                "upload_to is required with source_file",
                format!(
                    "Name the object the file is uploaded to, in {cloud}'s own object storage, in the form \
                     source_url takes."
                ),
            )
            .at(here(attr::UPLOAD_TO)),
        );
    }
    if d.upload_to.is_set() && d.source_file.is_null() && d.source_file.is_known() {
        diags.push(
            Diagnostic::error(
                "upload_to applies to source_file only",
                "It names where a local file is uploaded; with source_url there is nothing to upload. Remove it.",
            )
            .at(here(attr::UPLOAD_TO)),
        );
    }
    if let Some(url) = d.upload_to.text() {
        if let Err(message) =
            check_source_url(cloud, url).and_then(|()| upload_object(cloud, url).map(|_| ()))
        {
            diags.push(Diagnostic::error("Invalid upload_to", message).at(here(attr::UPLOAD_TO)));
        }
    }
    if let Some(sha) = d.source_sha256.text() {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            diags.push(
                Diagnostic::error(
                    "Invalid source_sha256",
                    format!("A SHA-256 is 64 hex digits (as filesha256() gives); got {sha:?}."),
                )
                .at(here(attr::SOURCE_SHA256)),
            );
        }
    }
}

/// Name, description, region and tags against the cloud's documented limits.
fn texts(cloud: Cloud, r: &CloudRules, m: &ImageModel, diags: &mut Diagnostics) {
    if let Some(problem) = m
        .name
        .text()
        .and_then(|name| limits::image_name_problem(cloud, name))
    {
        diags.push(
            Diagnostic::error("Invalid image name", capitalised(&problem)).at(at(attr::NAME)),
        );
    }
    if let Some(problem) = m
        .description
        .text()
        .and_then(|d| limits::description_problem(cloud, d))
    {
        diags.push(
            Diagnostic::error("Invalid description", capitalised(&problem))
                .at(at(attr::DESCRIPTION)),
        );
    }
    if let Some(problem) = m.region.text().and_then(limits::region_problem) {
        diags.push(Diagnostic::error("Invalid region", capitalised(&problem)).at(at(attr::REGION)));
    }
    if let Some(tags) = m.tags.known() {
        if r.supports(Param::Tags) && tags.values().all(Field::is_known) {
            let pairs = tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.text().unwrap_or_default()));
            for (key, problem) in limits::tag_problems(cloud, pairs) {
                let path = match key {
                    Some(k) => at(attr::TAGS).key(k),
                    None => at(attr::TAGS),
                };
                diags.push(Diagnostic::error("Invalid tags", capitalised(&problem)).at(path));
            }
        }
    }
}

/// The system disk size against the cloud's range.
fn sizes(r: &CloudRules, m: &ImageModel, diags: &mut Diagnostics) {
    if let Some(size) = m.system_disk_size_gb.known() {
        if let Some(problem) = limits::size_problem(size, r.system_disk_sizes) {
            diags.push(
                Diagnostic::error("Invalid system_disk_size_gb", capitalised(&problem))
                    .at(at(attr::SYSTEM_DISK_SIZE_GB)),
            );
        }
    }
}

/// Whether the configuration sets `param`: a value (known or not), a non-empty map of tags, a data disk.
fn sets(config: &Value, m: &ImageModel, param: Param) -> bool {
    match param.def().kind {
        Kind::Tags => m.tags.known().is_some_and(|t| !t.is_empty()),
        Kind::Accounts => m
            .share_with_accounts
            .known()
            .is_some_and(|a| !a.0.is_empty()),
        Kind::DataDisks => !m.disks().is_empty(),
        Kind::Copies => !m.copy_blocks().is_empty(),
        Kind::Text | Kind::Flag | Kind::Gib => config
            .get_attr(param.attribute())
            .is_some_and(|v| !v.is_null()),
    }
}

/// Which parameters the cloud takes, which it requires, and the words it accepts, from the parameter table and the
/// cloud's rules.
fn parameters(
    cloud: Cloud,
    r: &CloudRules,
    config: &Value,
    m: &ImageModel,
    diags: &mut Diagnostics,
) {
    // The options first, then the core parameters a cloud may not take (description, tags, data disks), so that
    // diagnostics come in the order users have seen them.
    for param in Param::options() {
        let attribute = param.attribute();
        match r.allowed(param) {
            Allowed::Unsupported if sets(config, m, param) => diags.push(unsupported(cloud, param)),
            Allowed::OneOf(values) => {
                let configured = config
                    .get_attr(attribute)
                    .filter(|v| v.is_known())
                    .and_then(Value::as_str);
                if let Some(v) =
                    configured.filter(|v| !values.iter().any(|a| a.eq_ignore_ascii_case(v)))
                {
                    diags.push(
                        Diagnostic::error(
                            format!("Invalid {attribute}"),
                            format!(
                                "On {cloud}, {attribute} must be one of {}; got {v:?}.",
                                values.join(", ")
                            ),
                        )
                        .at(at(attribute)),
                    )
                }
            }
            _ => {}
        }
    }
    if let (Some(arch), Some(boot)) = (m.architecture.text(), m.boot_mode.text()) {
        let uefi_only = r
            .uefi_only_architectures
            .iter()
            .any(|a| a.eq_ignore_ascii_case(arch));
        if uefi_only && !boot.eq_ignore_ascii_case("UEFI") {
            diags.push(
                Diagnostic::error(
                    "Invalid boot_mode",
                    format!(
                        "On {cloud}, {arch} images boot with UEFI only (the import refuses other boot modes); \
                         set boot_mode = \"UEFI\" or remove it."
                    ),
                )
                .at(at(attr::BOOT_MODE)),
            );
        }
    }
    for param in Param::ALL.into_iter().filter(|p| !p.def().option) {
        if !r.supports(param) && sets(config, m, param) {
            diags.push(unsupported(cloud, param));
        }
    }
}

/// One data disk: its object, size and format.
fn data_disk(
    cloud: Cloud,
    r: &CloudRules,
    disk: &DataDiskModel,
    path: Path,
    diags: &mut Diagnostics,
) {
    if let Some(url) = disk.source_url.text() {
        if let Err(message) = check_source_url(cloud, url) {
            diags.push(
                Diagnostic::error("Invalid data disk source_url", message)
                    .at(path.clone().attr(attr::SOURCE_URL)),
            );
        }
    }
    source(
        cloud,
        Disk {
            source_url: &disk.source_url,
            source_file: &disk.source_file,
            upload_to: &disk.upload_to,
            source_sha256: &disk.source_sha256,
        },
        &path,
        diags,
    );
    if disk.size_gb.is_set() {
        let problem = match (r.data_disk_sizes, disk.size_gb.known()) {
            (None, _) => Some(format!(
                "{cloud}'s import takes no data disk size (the cloud sizes the disk from the file); remove it"
            )),
            (Some(range), Some(n)) => limits::size_problem(n, range),
            (Some(_), None) => None,
        };
        if let Some(problem) = problem {
            diags.push(
                Diagnostic::error("Invalid data disk size_gb", capitalised(&problem))
                    .at(path.clone().attr(attr::SIZE_GB)),
            );
        }
    }
    if !r.data_disk_format && disk.format.is_set() {
        diags.push(
            Diagnostic::error(
                "Invalid data disk format",
                format!("{cloud}'s import takes no data disk format (it detects it); remove it."),
            )
            .at(path.clone().attr(attr::FORMAT)),
        );
    }
    if let (Allowed::OneOf(values), Some(f)) = (r.allowed(Param::Format), disk.format.text()) {
        if !values.iter().any(|a| a.eq_ignore_ascii_case(f)) {
            diags.push(
                Diagnostic::error(
                    "Invalid data disk format",
                    format!("Use one of {}.", values.join(", ")),
                )
                .at(path.attr(attr::FORMAT)),
            );
        }
    }
}

/// Durations that parse and are not absurd.
fn timeouts(m: &ImageModel, diags: &mut Diagnostics) {
    let Some(t) = m.timeouts.known() else {
        return;
    };
    for (op, value) in [
        (attr::CREATE, &t.create),
        (attr::UPDATE, &t.update),
        (attr::DELETE, &t.delete),
    ] {
        if let Some(problem) = value.text().and_then(|v| limits::parse_timeout(v).err()) {
            diags.push(
                Diagnostic::error("Invalid timeout", capitalised(&problem))
                    .at(at(attr::TIMEOUTS).attr(op)),
            );
        }
    }
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
        d.attribute_paths()
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
                (
                    "source_url",
                    Value::string("http://127.0.0.1:9000/images/k.qcow2"),
                ),
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
            Cloud::AliCloud
                .backend()
                .rules()
                .api_parameter(Param::NvmeSupport),
            Some("Features.NvmeSupport")
        );
        assert_eq!(
            Cloud::AliCloudEns
                .backend()
                .rules()
                .api_parameter(Param::TargetOssRegionId),
            Some("TargetOSSRegionId")
        );
    }

    /// Documented limits of the Alibaba family: ECS arm64 images boot with UEFI only; ENS stores imported images
    /// in cn-beijing or ap-southeast-1 only.
    #[test]
    fn documented_combinations() {
        let base = |cloud: &str, extra: &[(&str, Value)]| {
            let mut pairs = vec![
                ("cloud", Value::string(cloud)),
                ("name", Value::string("img-a")),
                ("source_url", Value::string("oss://bkt/k.qcow2")),
            ];
            pairs.extend(extra.iter().cloned());
            validate(&config(&pairs))
        };
        let arm = ("architecture", Value::string("arm64"));
        assert_eq!(
            paths(&base(
                "alicloud",
                &[arm.clone(), ("boot_mode", Value::string("BIOS"))]
            )),
            ["boot_mode"]
        );
        assert!(base(
            "alicloud",
            &[arm.clone(), ("boot_mode", Value::string("uefi"))]
        )
        .is_empty());
        assert!(base("alicloud", std::slice::from_ref(&arm)).is_empty());
        assert!(base(
            "alicloud",
            &[
                ("architecture", Value::string("x86_64")),
                ("boot_mode", Value::string("BIOS"))
            ]
        )
        .is_empty());
        assert_eq!(
            paths(&base(
                "alicloud_ens",
                &[("target_oss_region_id", Value::string("cn-hangzhou"))]
            )),
            ["target_oss_region_id"]
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
    fn one_source_per_disk_and_upload_to_with_files_only() {
        let base = |extra: &[(&str, Value)]| {
            let mut pairs = vec![
                ("cloud", Value::string("alicloud")),
                ("name", Value::string("img-a")),
            ];
            pairs.extend(extra.iter().cloned());
            validate(&config(&pairs))
        };
        assert_eq!(paths(&base(&[])), ["source_url"]);
        let both = base(&[
            ("source_url", Value::string("oss://bkt/k.qcow2")),
            ("source_file", Value::string("/tmp/k.qcow2")),
            ("upload_to", Value::string("oss://bkt/k.qcow2")),
        ]);
        assert_eq!(paths(&both), ["source_file"]);
        let no_target = base(&[("source_file", Value::string("/tmp/k.qcow2"))]);
        assert_eq!(paths(&no_target), ["upload_to"]);
        let stray = base(&[
            ("source_url", Value::string("oss://bkt/k.qcow2")),
            ("upload_to", Value::string("oss://bkt/k.qcow2")),
            ("keep_uploaded_object", Value::Bool(true)),
        ]);
        assert_eq!(paths(&stray), ["upload_to", "keep_uploaded_object"]);
        let bad = base(&[
            ("source_file", Value::string("/tmp/k.qcow2")),
            ("upload_to", Value::string("https://b.example.com/k")),
            ("source_sha256", Value::string("abc")),
        ]);
        assert_eq!(paths(&bad), ["upload_to", "source_sha256"]);
        let ok = base(&[
            ("source_file", Value::string("/tmp/k.qcow2")),
            ("upload_to", Value::string("oss://images/k.qcow2")),
            ("source_sha256", Value::string("0a".repeat(32))),
            ("keep_uploaded_object", Value::Bool(false)),
        ]);
        assert!(ok.is_empty(), "{ok:?}");
        // An unknown source may still turn out set.
        assert!(base(&[
            ("source_file", Value::unknown()),
            ("upload_to", Value::unknown())
        ])
        .is_empty());
        // UCloud's required format is read from a local file.
        let u = validate(&config(&[
            ("cloud", Value::string("ucloud")),
            ("name", Value::string("img")),
            ("source_file", Value::string("/tmp/k.qcow2")),
            (
                "upload_to",
                Value::string("https://images.cn-bj.ufileos.com/k.qcow2"),
            ),
            ("platform", Value::string("Ubuntu")),
            ("os_version", Value::string("22.04")),
        ]));
        assert!(u.is_empty(), "{u:?}");
        // Data disks: the same rules at their own paths.
        let disks = base(&[
            ("source_url", Value::string("oss://b/k.qcow2")),
            (
                "data_disks",
                Value::List(vec![Value::object([
                    ("source_url", Value::Null),
                    ("source_file", Value::string("/tmp/d.raw")),
                    ("upload_to", Value::Null),
                    ("source_sha256", Value::Null),
                    ("format", Value::Null),
                    ("size_gb", Value::Null),
                ])]),
            ),
        ]);
        assert_eq!(paths(&disks), ["data_disks[0].upload_to"]);
        let disk = |to: &str| {
            Value::object([
                ("source_url", Value::Null),
                ("source_file", Value::string("/tmp/d.raw")),
                ("upload_to", Value::string(to)),
                ("source_sha256", Value::Null),
                ("format", Value::Null),
                ("size_gb", Value::Null),
            ])
        };
        let twice = base(&[
            ("source_file", Value::string("/tmp/k.qcow2")),
            ("upload_to", Value::string("oss://bkt/k.qcow2")),
            (
                "data_disks",
                Value::List(vec![disk("oss://bkt/d.raw"), disk("oss://bkt/k.qcow2")]),
            ),
        ]);
        assert_eq!(paths(&twice), ["data_disks[1].upload_to"]);
    }

    #[test]
    fn canonical_spelling() {
        let rules = |c: Cloud| c.backend().rules();
        assert_eq!(
            rules(Cloud::AliCloud).canonical(Param::BootMode, "uefi"),
            Some("UEFI")
        );
        assert_eq!(
            rules(Cloud::AliCloud).canonical(Param::Format, "QCOW2"),
            Some("qcow2")
        );
        assert_eq!(
            rules(Cloud::UCloud).canonical(Param::Architecture, "x86_64"),
            None
        );
    }
}
