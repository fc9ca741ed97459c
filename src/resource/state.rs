//! Mapping between the resource model and the cloud layer: configuration to an import request, and a cloud's image
//! record to state. Kept apart from the lifecycle code so both directions can be tested on their own.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cloud::params::Kind;
use crate::cloud::rules::Allowed;
use crate::cloud::{
    Cloud, DataDisk, Image, ImageState, ImportRequest, OptionValue, Options, Param,
};
use crate::cty::{Number, Value};

use super::equivalence::same_word;
use super::marker::MARKER_TAG;
use super::model::{attr, gib, DataDiskModel, Field, ImageModel};
use super::private::Private;

/// The value the cloud expects: the allowed spelling for enumerated parameters, the text itself otherwise.
fn cloud_spelling(cloud: Cloud, param: Param, value: Option<String>) -> Option<String> {
    let value = value?;
    Some(
        cloud
            .backend()
            .rules()
            .canonical(param, &value)
            .map(str::to_string)
            .unwrap_or(value),
    )
}

/// One option as the import sends it: the configured value in the cloud's spelling, else the default the table
/// declares; `None` when unset or not taken by the cloud.
fn option_value(cloud: Cloud, param: Param, configured: Option<&Value>) -> Option<OptionValue> {
    let r = cloud.backend().rules();
    let configured = configured.filter(|v| v.is_known() && !v.is_null());
    match param.def().kind {
        Kind::Flag => configured.and_then(Value::as_bool).map(OptionValue::Flag),
        Kind::Gib => configured
            .and_then(Value::as_number)
            .and_then(Number::to_u64)
            .map(OptionValue::Gib),
        Kind::Text => {
            let text = configured.and_then(Value::as_str).map(str::to_string);
            let default = || match r.allowed(param) {
                Allowed::OneOf(values) if param.def().defaults_to_first_allowed => {
                    values.first().map(|v| v.to_string())
                }
                _ => None,
            };
            cloud_spelling(cloud, param, text)
                .or_else(default)
                .map(OptionValue::Text)
        }
        Kind::Tags | Kind::DataDisks | Kind::Accounts | Kind::Copies => None,
    }
}

/// The configuration as the import sees it: a `source_file` disk is imported from its `upload_to` object, and
/// what the plan filled in from the disk image (`format`, `boot_mode`) is used where the configuration leaves it
/// unset.
pub(super) fn effective(config: &ImageModel, planned: &ImageModel) -> ImageModel {
    let mut m = config.clone();
    if m.source_url.is_null() && m.source_file.is_set() {
        m.source_url = m.upload_to.clone();
    }
    if let Field::Known(disks) = &mut m.data_disks {
        for d in disks.iter_mut() {
            if d.source_url.is_null() && d.source_file.is_set() {
                d.source_url = d.upload_to.clone();
            }
        }
    }
    if m.format.is_null() && planned.format.is_known() {
        m.format = planned.format.clone();
    }
    if m.boot_mode.is_null() && planned.boot_mode.is_known() {
        m.boot_mode = planned.boot_mode.clone();
    }
    m
}

/// Builds the import call from configuration. `token` makes retries of this create idempotent where the cloud
/// supports it.
pub(super) fn import_request(
    cloud: Cloud,
    config: &ImageModel,
    region: &str,
    token: String,
) -> ImportRequest {
    let data_disks = config
        .disks()
        .iter()
        .map(|d| DataDisk {
            source_url: d.source_url.string().unwrap_or_default(),
            format: cloud_spelling(cloud, Param::Format, d.format.string()),
            size_gb: gib(&d.size_gb),
        })
        .collect();
    let mut options = Options::default();
    for param in Param::options() {
        let value = option_value(cloud, param, config.value_of(param.attribute()).as_ref());
        options.set(param, value);
    }
    ImportRequest {
        region: region.to_string(),
        name: config.name.string().unwrap_or_default(),
        description: config.description.string(),
        source_url: config.source_url.string().unwrap_or_default(),
        options,
        tags: config.known_tags(),
        data_disks,
        idempotency_token: token,
        import_timeout: Some(timeout(config, Operation::Create)),
    }
}

/// The neutral status word stored in state.
pub(super) fn status_word(state: ImageState) -> &'static str {
    match state {
        ImageState::Importing => "importing",
        ImageState::Available => "available",
        ImageState::Failed => "failed",
        ImageState::Deleting => "deleting",
    }
}

/// Keeps the stored spelling when the cloud reports the same thing in its own words (`Linux` for `linux`, `arm`
/// for `arm64`), so reads do not invent drift; takes the cloud's value when it really differs. An empty or
/// missing report keeps what was stored.
fn refreshed(
    cloud: Cloud,
    param: Param,
    stored: &Field<String>,
    reported: Option<&str>,
) -> Field<String> {
    match reported.map(str::trim).filter(|s| !s.is_empty()) {
        None => stored.clone(),
        Some(r) => match stored.text() {
            Some(s) if same_word(cloud, param.attribute(), s, r) => stored.clone(),
            _ => Field::Known(user_spelling(cloud, param, r)),
        },
    }
}

/// A reported word in the spelling this provider's users write (the rules table's), e.g. `arm` -> `arm64`.
fn user_spelling(cloud: Cloud, param: Param, reported: &str) -> String {
    if let Allowed::OneOf(values) = cloud.backend().rules().allowed(param) {
        if let Some(v) = values
            .iter()
            .find(|v| same_word(cloud, param.attribute(), v, reported))
        {
            return v.to_string();
        }
    }
    reported.to_string()
}

/// Tags the user did not set: the cloud's own and this provider's create marker.
pub(super) fn is_system_tag(cloud: Cloud, key: &str) -> bool {
    cloud.backend().rules().is_system_tag(key) || key == MARKER_TAG
}

/// Writes what the cloud reports about `image` into `base` (the planned state after a create or update, or the
/// prior state on a read). Attributes the cloud cannot report (`source_url`, `format`, `data_disks`, ...) keep
/// their value from `base`.
pub(super) fn merge_image(
    cloud: Cloud,
    base: &ImageModel,
    region: &str,
    image: &Image,
) -> ImageModel {
    let mut m = base.clone();
    m.id = Field::Known(image.id.clone());
    m.cloud = Field::Known(cloud.as_str().to_string());
    m.region = Field::Known(region.to_string());
    if !image.name.is_empty() {
        m.name = Field::Known(image.name.clone());
    }
    m.description = match image.description.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Field::Known(d.to_string()),
        // An empty description and an unset one are the same thing to every cloud.
        None if m.description.text() == Some("") => m.description.clone(),
        None => Field::Null,
    };
    let r = cloud.backend().rules();
    // `os_type` and `architecture` are optional+computed: the cloud's report is the truth. `platform` and
    // `os_version` are import parameters that clouds echo in their own words (UCloud: "CentOS 7.9 64位"), so
    // refreshing them would invent drift that forces replacement; they keep their configured value.
    if r.supports(Param::OsType) {
        m.os_type = refreshed(cloud, Param::OsType, &m.os_type, image.os_type.as_deref());
    }
    if r.supports(Param::Architecture) {
        m.architecture = refreshed(
            cloud,
            Param::Architecture,
            &m.architecture,
            image.architecture.as_deref(),
        );
    }
    if r.supports(Param::Tags) {
        let user_tags: BTreeMap<String, Field<String>> = image
            .tags
            .iter()
            .filter(|(k, _)| !is_system_tag(cloud, k))
            .map(|(k, v)| (k.clone(), Field::Known(v.clone())))
            .collect();
        m.tags = if user_tags.is_empty() && m.tags.is_null() {
            Field::Null
        } else {
            Field::Known(user_tags)
        };
    }
    m.status = Field::Known(status_word(image.state).to_string());
    m.size_gb = Field::from_option(image.size_gb.map(Number::from_u64));
    m.created_at = Field::from_option(image.created_at.clone());
    m
}

/// The state of an image that Terraform imports: everything the cloud reports, in the users' spelling, and the
/// private record of what it could not report (the attributes the schema declares not reported that are still
/// null).
pub(super) fn imported_state(cloud: Cloud, region: &str, image: &Image) -> (ImageModel, Private) {
    let mut m = merge_image(cloud, &ImageModel::default(), region, image);
    let r = cloud.backend().rules();
    let fill = |param: Param, reported: Option<&String>| -> Option<Field<String>> {
        let v = reported.filter(|v| !v.trim().is_empty())?;
        r.supports(param)
            .then(|| Field::Known(user_spelling(cloud, param, v)))
    };
    if let Some(v) = fill(Param::SourceUrl, image.source_url.as_ref()) {
        m.source_url = v;
    }
    if let Some(v) = fill(Param::Format, image.format.as_ref()) {
        m.format = v;
    }
    // The distribution word of Tencent and the Alibaba family is the import parameter's own vocabulary;
    // versions are not (Tencent reports `CentOS 7.9` for an import of `7`), so they stay unreported.
    if let Some(v) = fill(Param::Platform, image.platform.as_ref()) {
        m.platform = v;
    }
    if let (true, Some(disks)) = (r.supports(Param::DataDisks), &image.data_disks) {
        m.data_disks = Field::Known(
            disks
                .iter()
                .map(|d| DataDiskModel {
                    source_url: Field::Known(d.source_url.clone()),
                    format: Field::from_option(
                        d.format
                            .as_deref()
                            .map(|f| user_spelling(cloud, Param::Format, f)),
                    ),
                    size_gb: Field::from_option(d.size_gb.map(Number::from_u64)),
                    ..DataDiskModel::default()
                })
                .collect(),
        );
    }
    let state = m.to_value();
    let mut private = Private::default();
    let block = super::schema::resource_schema().block;
    let not_reported = block
        .attributes
        .iter()
        .filter(|a| a.plan.not_reported)
        .map(|a| a.name.as_str())
        .chain(
            block
                .blocks
                .iter()
                .filter(|b| b.plan.not_reported)
                .map(|b| b.type_name.as_str()),
        );
    for name in not_reported {
        if state.get_attr(name).is_none_or(is_absent) {
            private.unreported.push(name.to_string());
        }
    }
    for nested in [attr::FORMAT, attr::SIZE_GB] {
        if m.disks().iter().any(|d| {
            let v = d.to_value();
            v.get_attr(nested).is_none_or(Value::is_null)
        }) {
            private
                .unreported
                .push(format!("{}.{nested}", attr::DATA_DISKS));
        }
    }
    (m, private)
}

/// Null, or no blocks at all: Terraform stores an absent list of blocks as an empty list.
pub(super) fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_list().is_some_and(|l| l.is_empty())
}

/// What stays unreported after an update: the entries of `before` whose attribute the new state still leaves null.
pub(super) fn still_unreported(before: &Private, state: &Value) -> Vec<String> {
    before
        .unreported
        .iter()
        .filter(|entry| match entry.split_once('.') {
            None => state.get_attr(entry).is_none_or(is_absent),
            Some((block, nested)) => {
                state
                    .get_attr(block)
                    .and_then(Value::as_list)
                    .is_some_and(|items| {
                        items
                            .iter()
                            .any(|d| d.get_attr(nested).is_none_or(Value::is_null))
                    })
            }
        })
        .cloned()
        .collect()
}

/// The minimal state of an image known only by ID (a create interrupted before the first read, or an import).
pub(super) fn skeleton(base: &ImageModel, cloud: Cloud, region: &str, id: &str) -> ImageModel {
    let mut m = base.clone();
    m.id = Field::Known(id.to_string());
    m.cloud = Field::Known(cloud.as_str().to_string());
    m.region = Field::Known(region.to_string());
    m.unknowns_to_null();
    // Status of a create that did not finish: keep it honest.
    if m.status.is_null() {
        m.status = Field::Known("importing".to_string());
    }
    m
}

/// An operation the `timeouts` block bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    /// Import and wait.
    Create,
    /// Rename, describe, re-tag.
    Update,
    /// Delete (and cancel a running import).
    Delete,
}

/// The operation timeouts in the `timeouts` block, with the documented defaults.
pub(super) fn timeout(m: &ImageModel, op: Operation) -> Duration {
    let (default, set) = match op {
        Operation::Create => (60 * 60, m.timeouts.known().and_then(|t| t.create.text())),
        Operation::Update => (60 * 60, m.timeouts.known().and_then(|t| t.update.text())),
        Operation::Delete => (20 * 60, m.timeouts.known().and_then(|t| t.delete.text())),
    };
    set.and_then(|s| super::limits::parse_timeout(s).ok())
        .unwrap_or(Duration::from_secs(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Value {
        Value::object([
            ("id", Value::unknown()),
            ("cloud", Value::string("tencentcloud")),
            ("region", Value::string("ap-guangzhou")),
            ("name", Value::string("web")),
            ("description", Value::Null),
            ("os_type", Value::string("linux")),
            ("architecture", Value::unknown()),
            ("platform", Value::string("CentOS")),
            ("os_version", Value::string("7")),
            ("tags", Value::Null),
            ("status", Value::unknown()),
            ("size_gb", Value::unknown()),
            ("created_at", Value::unknown()),
            (
                "source_url",
                Value::string("https://b-1.cos.ap-guangzhou.myqcloud.com/a.qcow2"),
            ),
        ])
    }

    #[test]
    fn merge_keeps_configured_spelling_and_unreportable_values() {
        let image = Image {
            id: "img-1".into(),
            name: "web".into(),
            description: Some(String::new()),
            state: ImageState::Available,
            os_type: Some("Linux".into()),
            architecture: Some("x86_64".into()),
            platform: Some("CentOS".into()),
            size_gb: Some(20),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            ..Image::default()
        };
        let s = merge_image(
            Cloud::TencentCloud,
            &ImageModel::from_value(&base()),
            "ap-guangzhou",
            &image,
        )
        .to_value();
        assert_eq!(s.get_attr("os_type"), Some(&Value::string("linux")));
        assert_eq!(s.get_attr("architecture"), Some(&Value::string("x86_64")));
        assert_eq!(s.get_attr("description"), Some(&Value::Null));
        assert_eq!(s.get_attr("tags"), Some(&Value::Null));
        assert_eq!(s.get_attr("status"), Some(&Value::string("available")));
        assert_eq!(s.get_attr("source_url"), base().get_attr("source_url"));
        assert!(s.is_wholly_known());
    }

    #[test]
    fn import_request_uses_cloud_spelling_and_defaults() {
        let cfg = Value::object([
            ("name", Value::string("web")),
            ("source_url", Value::string("oss://b/k")),
            ("format", Value::string("QCOW2")),
            ("boot_mode", Value::string("uefi")),
        ]);
        let req = import_request(
            Cloud::AliCloud,
            &ImageModel::from_value(&cfg),
            "cn-beijing",
            "tok".into(),
        );
        assert_eq!(req.options.text(Param::Format), Some("qcow2"));
        assert_eq!(req.options.text(Param::BootMode), Some("UEFI"));
        assert_eq!(req.options.text(Param::Architecture), Some("x86_64"));
        assert_eq!(req.options.text(Param::OsType), Some("linux"));
        let u = import_request(
            Cloud::UCloud,
            &ImageModel::from_value(&cfg),
            "cn-bj2",
            "tok".into(),
        );
        assert_eq!(u.options.text(Param::Architecture), None);
        let cfg = Value::object([
            ("name", Value::string("web")),
            ("force", Value::Bool(true)),
            ("image_family", Value::string("fam")),
            ("role_name", Value::string("R")),
            ("detection_strategy", Value::string("standard")),
            ("nvme_support", Value::string("Supported")),
            ("system_disk_size_gb", Value::Number(Number::from_u64(40))),
            ("target_oss_region_id", Value::string("cn-beijing")),
        ]);
        let r = import_request(
            Cloud::AliCloud,
            &ImageModel::from_value(&cfg),
            "cn-beijing",
            "tok".into(),
        );
        assert!(r.options.flag(Param::Force));
        assert_eq!(r.options.text(Param::ImageFamily), Some("fam"));
        assert_eq!(r.options.text(Param::RoleName), Some("R"));
        assert_eq!(r.options.text(Param::DetectionStrategy), Some("Standard"));
        assert_eq!(r.options.text(Param::NvmeSupport), Some("supported"));
        assert_eq!(r.options.gib(Param::SystemDiskSizeGb), Some(40));
        assert_eq!(r.options.text(Param::TargetOssRegionId), Some("cn-beijing"));
    }

    #[test]
    fn local_files_import_from_their_upload_and_fills_apply() {
        let config = ImageModel {
            name: Field::Known("web".into()),
            source_file: Field::Known("/tmp/a.qcow2".into()),
            upload_to: Field::Known("oss://b/a.qcow2".into()),
            data_disks: Field::Known(vec![DataDiskModel {
                source_file: Field::Known("/tmp/d.raw".into()),
                upload_to: Field::Known("oss://b/d.raw".into()),
                ..Default::default()
            }]),
            ..ImageModel::default()
        };
        let planned = ImageModel {
            format: Field::Known("qcow2".into()),
            boot_mode: Field::Known("UEFI".into()),
            ..config.clone()
        };
        let req = import_request(
            Cloud::AliCloud,
            &effective(&config, &planned),
            "cn-beijing",
            "t".into(),
        );
        assert_eq!(req.source_url, "oss://b/a.qcow2");
        assert_eq!(req.data_disks[0].source_url, "oss://b/d.raw");
        assert_eq!(
            (
                req.options.text(Param::Format),
                req.options.text(Param::BootMode)
            ),
            (Some("qcow2"), Some("UEFI"))
        );
    }

    #[test]
    fn timeouts_default_and_parse() {
        let none = Value::object([("timeouts", Value::Null)]);
        let none = ImageModel::from_value(&none);
        assert_eq!(timeout(&none, Operation::Create), Duration::from_secs(3600));
        let set = Value::object([(
            "timeouts",
            Value::object([("create", Value::string("1m30s"))]),
        )]);
        let set = ImageModel::from_value(&set);
        assert_eq!(timeout(&set, Operation::Create), Duration::from_secs(90));
        assert_eq!(timeout(&set, Operation::Delete), Duration::from_secs(1200));
    }
}
