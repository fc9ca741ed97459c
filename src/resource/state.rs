//! Mapping between Terraform values and the cloud layer: configuration to an import request, and a cloud's image
//! record to state. Kept apart from the lifecycle code so both directions can be tested on their own.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cloud::{Cloud, DataDisk, Image, ImageState, ImportRequest};
use crate::cty::{Number, Value};

use super::equivalence::same_word;
use super::private::Private;
use super::rules::{rules, Allowed};

/// A known, non-empty string attribute.
pub fn string(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A known map-of-strings attribute (empty when null).
pub fn string_map(v: &Value, name: &str) -> BTreeMap<String, String> {
    v.get_attr(name)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The cloud named by a configuration or state.
pub fn cloud_of(v: &Value) -> Option<Cloud> {
    string(v, "cloud")?.parse().ok()
}

/// The value the cloud expects: the allowed spelling for enumerated attributes, the text itself otherwise.
fn cloud_spelling(cloud: Cloud, attribute: &str, value: Option<String>) -> Option<String> {
    let value = value?;
    Some(
        rules(cloud)
            .canonical(attribute, &value)
            .map(str::to_string)
            .unwrap_or(value),
    )
}

/// Builds the import call from configuration. `token` makes retries of this create idempotent where the cloud
/// supports it.
pub fn import_request(cloud: Cloud, config: &Value, region: &str, token: String) -> ImportRequest {
    let r = rules(cloud);
    let get = |name: &str| cloud_spelling(cloud, name, string(config, name));
    let architecture = get("architecture").or_else(|| match r.architecture {
        Allowed::OneOf(values) => values.first().map(|v| v.to_string()),
        _ => None,
    });
    let os_type = get("os_type").or_else(|| match r.os_type {
        Allowed::OneOf(_) => Some("linux".to_string()),
        _ => None,
    });
    let data_disks = config
        .get_attr("data_disks")
        .and_then(Value::as_list)
        .map(|disks| {
            disks
                .iter()
                .map(|d| DataDisk {
                    source_url: string(d, "source_url").unwrap_or_default(),
                    format: cloud_spelling(cloud, "format", string(d, "format")),
                    size_gb: d
                        .get_attr("size_gb")
                        .and_then(Value::as_number)
                        .and_then(Number::to_u64),
                })
                .collect()
        })
        .unwrap_or_default();
    ImportRequest {
        region: region.to_string(),
        name: string(config, "name").unwrap_or_default(),
        description: string(config, "description"),
        source_url: string(config, "source_url").unwrap_or_default(),
        format: get("format"),
        os_type,
        platform: string(config, "platform"),
        os_version: string(config, "os_version"),
        architecture,
        boot_mode: get("boot_mode"),
        license_type: get("license_type"),
        tags: string_map(config, "tags"),
        data_disks,
        idempotency_token: token,
        force: config
            .get_attr("force")
            .filter(|v| v.is_known())
            .and_then(Value::as_bool)
            .unwrap_or(false),
        image_family: string(config, "image_family"),
        role_name: string(config, "role_name"),
        detection_strategy: get("detection_strategy"),
        nvme_support: get("nvme_support"),
        system_disk_size_gb: config
            .get_attr("system_disk_size_gb")
            .and_then(Value::as_number)
            .and_then(Number::to_u64),
        target_oss_region_id: string(config, "target_oss_region_id"),
    }
}

/// The neutral status word stored in state.
pub fn status_word(state: ImageState) -> &'static str {
    match state {
        ImageState::Importing => "importing",
        ImageState::Available => "available",
        ImageState::Failed => "failed",
        ImageState::Deleting => "deleting",
    }
}

fn set(attrs: &mut BTreeMap<String, Value>, name: &str, v: Value) {
    attrs.insert(name.to_string(), v);
}

/// Keeps the stored spelling when the cloud reports the same thing in its own words (`Linux` for `linux`, `arm`
/// for `arm64`), so reads do not invent drift; takes the cloud's value when it really differs. An empty or
/// missing report keeps what was stored.
fn refreshed(
    cloud: Cloud,
    attribute: &str,
    stored: Option<&Value>,
    reported: Option<&str>,
) -> Value {
    let stored = stored.cloned().unwrap_or(Value::Null);
    match reported.map(str::trim).filter(|s| !s.is_empty()) {
        None => stored,
        Some(r) => match stored.as_str() {
            Some(s) if same_word(cloud, attribute, s, r) => stored,
            _ => Value::string(user_spelling(cloud, attribute, r)),
        },
    }
}

/// A reported word in the spelling this provider's users write (the rules table's), e.g. `arm` -> `arm64`.
fn user_spelling(cloud: Cloud, attribute: &str, reported: &str) -> String {
    if let Some((_, Allowed::OneOf(values))) = rules(cloud)
        .choices()
        .into_iter()
        .find(|(a, _)| *a == attribute)
    {
        if let Some(v) = values
            .iter()
            .find(|v| same_word(cloud, attribute, v, reported))
        {
            return v.to_string();
        }
    }
    reported.to_string()
}

/// Writes what the cloud reports about `image` into `base` (the planned state after a create or update, or the
/// prior state on a read). Attributes the cloud cannot report (`source_url`, `format`, `data_disks`, ...) keep
/// their value from `base`.
pub fn merge_image(cloud: Cloud, base: &Value, region: &str, image: &Image) -> Value {
    let mut attrs = base.as_object().cloned().unwrap_or_default();
    set(&mut attrs, "id", Value::string(image.id.clone()));
    set(&mut attrs, "cloud", Value::string(cloud.as_str()));
    set(&mut attrs, "region", Value::string(region));
    if !image.name.is_empty() {
        set(&mut attrs, "name", Value::string(image.name.clone()));
    }
    let description = match image.description.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Value::string(d),
        // An empty description and an unset one are the same thing to every cloud.
        None => match attrs.get("description") {
            Some(v) if v.as_str() == Some("") => v.clone(),
            _ => Value::Null,
        },
    };
    set(&mut attrs, "description", description);
    let r = rules(cloud);
    // `os_type` and `architecture` are optional+computed: the cloud's report is the truth. `platform` and
    // `os_version` are import parameters that clouds echo in their own words (UCloud: "CentOS 7.9 64位"), so
    // refreshing them would invent drift that forces replacement; they keep their configured value.
    for (name, reported) in [
        ("os_type", image.os_type.as_deref()),
        ("architecture", image.architecture.as_deref()),
    ] {
        let allowed = r
            .choices()
            .into_iter()
            .find(|(a, _)| *a == name)
            .map(|(_, a)| a);
        if !matches!(allowed, Some(Allowed::Unsupported)) {
            let v = refreshed(cloud, name, attrs.get(name), reported);
            set(&mut attrs, name, v);
        }
    }
    if r.tags {
        let user_tags: BTreeMap<String, Value> = image
            .tags
            .iter()
            .filter(|(k, _)| !is_system_tag(k))
            .map(|(k, v)| (k.clone(), Value::string(v.clone())))
            .collect();
        let stored_null = attrs.get("tags").is_none_or(Value::is_null);
        let tags = if user_tags.is_empty() && stored_null {
            Value::Null
        } else {
            Value::Map(user_tags)
        };
        set(&mut attrs, "tags", tags);
    }
    set(
        &mut attrs,
        "status",
        Value::string(status_word(image.state)),
    );
    set(
        &mut attrs,
        "size_gb",
        image
            .size_gb
            .map(|s| Value::Number(Number::from_u64(s)))
            .unwrap_or(Value::Null),
    );
    set(
        &mut attrs,
        "created_at",
        image
            .created_at
            .clone()
            .map(Value::string)
            .unwrap_or(Value::Null),
    );
    Value::Object(attrs)
}

/// Attributes that only configuration can give an image this provider did not create: null after an import
/// unless the cloud reports them, and then recorded in place (see [`Private::unreported`]).
pub const CONFIGURATION_ONLY: &[&str] = &[
    "source_url",
    "format",
    "platform",
    "os_version",
    "boot_mode",
    "license_type",
    "os_type",
    "architecture",
    "data_disks",
    "image_family",
    "nvme_support",
    "system_disk_size_gb",
    "target_oss_region_id",
];

/// The state of an image that Terraform imports: everything the cloud reports, in the users' spelling, and the
/// private record of what it could not report. `attributes` are the names of the schema's attributes and blocks.
pub fn imported_state<'a>(
    cloud: Cloud,
    region: &str,
    image: &Image,
    attributes: impl IntoIterator<Item = &'a str>,
) -> (Value, Private) {
    let base = Value::Object(
        attributes
            .into_iter()
            .map(|name| (name.to_string(), Value::Null))
            .collect(),
    );
    let mut state = merge_image(cloud, &base, region, image);
    let r = rules(cloud);
    if let Value::Object(attrs) = &mut state {
        let supported = |name: &str| {
            !matches!(
                r.choices().into_iter().find(|(a, _)| *a == name),
                Some((_, Allowed::Unsupported))
            )
        };
        let mut fill = |name: &str, reported: Option<&String>| {
            if let Some(v) = reported.filter(|v| !v.trim().is_empty()) {
                if supported(name) {
                    attrs.insert(name.into(), Value::string(user_spelling(cloud, name, v)));
                }
            }
        };
        fill("source_url", image.source_url.as_ref());
        fill("format", image.format.as_ref());
        // The distribution word of Tencent and the Alibaba family is the import parameter's own vocabulary;
        // versions are not (Tencent reports `CentOS 7.9` for an import of `7`), so they stay unreported.
        fill("platform", image.platform.as_ref());
        if let (true, Some(disks)) = (r.data_disks, &image.data_disks) {
            let disks = disks
                .iter()
                .map(|d| {
                    Value::object([
                        ("source_url", Value::string(d.source_url.clone())),
                        (
                            "format",
                            d.format
                                .as_deref()
                                .map(|f| Value::string(user_spelling(cloud, "format", f)))
                                .unwrap_or(Value::Null),
                        ),
                        (
                            "size_gb",
                            d.size_gb
                                .map(|s| Value::Number(Number::from_u64(s)))
                                .unwrap_or(Value::Null),
                        ),
                    ])
                })
                .collect();
            attrs.insert("data_disks".into(), Value::List(disks));
        }
    }
    let mut private = Private::default();
    for name in CONFIGURATION_ONLY {
        if state.get_attr(name).is_none_or(is_absent) {
            private.unreported.push(name.to_string());
        }
    }
    if let Some(disks) = state.get_attr("data_disks").and_then(Value::as_list) {
        for nested in ["format", "size_gb"] {
            if disks
                .iter()
                .any(|d| d.get_attr(nested).is_none_or(Value::is_null))
            {
                private.unreported.push(format!("data_disks.{nested}"));
            }
        }
    }
    (state, private)
}

/// Null, or no blocks at all: Terraform stores an absent list of blocks as an empty list.
pub fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_list().is_some_and(|l| l.is_empty())
}

/// What stays unreported after an update: the entries of `before` whose attribute the new state still leaves null.
pub fn still_unreported(before: &Private, state: &Value) -> Vec<String> {
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

/// Tags the user did not set: the clouds' own (`acs:`, `aliyun`, `qcloud:`) and this provider's create marker.
pub fn is_system_tag(key: &str) -> bool {
    key.starts_with("acs:")
        || key.starts_with("aliyun")
        || key.starts_with("qcloud:")
        || key == super::create::MARKER_TAG
}

/// The minimal state of an image known only by ID (a create interrupted before the first read, or an import).
pub fn skeleton(base: &Value, cloud: Cloud, region: &str, id: &str) -> Value {
    let mut attrs = base.as_object().cloned().unwrap_or_default();
    set(&mut attrs, "id", Value::string(id));
    set(&mut attrs, "cloud", Value::string(cloud.as_str()));
    set(&mut attrs, "region", Value::string(region));
    for (name, v) in attrs.iter_mut() {
        if !v.is_known() {
            *v = Value::Null;
        }
        // Status of a create that did not finish: keep it honest.
        if name == "status" && v.is_null() {
            *v = Value::string("importing");
        }
    }
    Value::Object(attrs)
}

/// The operation timeouts in the `timeouts` block, with the documented defaults.
pub fn timeout(config: &Value, op: &str) -> Duration {
    let default = match op {
        "create" => Duration::from_secs(60 * 60),
        "update" => Duration::from_secs(10 * 60),
        _ => Duration::from_secs(20 * 60),
    };
    config
        .get_attr("timeouts")
        .and_then(|t| string(t, op))
        .and_then(|s| super::limits::parse_timeout(&s).ok())
        .unwrap_or(default)
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
        let s = merge_image(Cloud::TencentCloud, &base(), "ap-guangzhou", &image);
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
        let req = import_request(Cloud::AliCloud, &cfg, "cn-beijing", "tok".into());
        assert_eq!(req.format.as_deref(), Some("qcow2"));
        assert_eq!(req.boot_mode.as_deref(), Some("UEFI"));
        assert_eq!(req.architecture.as_deref(), Some("x86_64"));
        assert_eq!(req.os_type.as_deref(), Some("linux"));
        let u = import_request(Cloud::UCloud, &cfg, "cn-bj2", "tok".into());
        assert_eq!(u.architecture, None);
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
        let r = import_request(Cloud::AliCloud, &cfg, "cn-beijing", "tok".into());
        assert!(r.force);
        assert_eq!(r.image_family.as_deref(), Some("fam"));
        assert_eq!(r.role_name.as_deref(), Some("R"));
        assert_eq!(r.detection_strategy.as_deref(), Some("Standard"));
        assert_eq!(r.nvme_support.as_deref(), Some("supported"));
        assert_eq!(r.system_disk_size_gb, Some(40));
        assert_eq!(r.target_oss_region_id.as_deref(), Some("cn-beijing"));
    }

    #[test]
    fn timeouts_default_and_parse() {
        let none = Value::object([("timeouts", Value::Null)]);
        assert_eq!(timeout(&none, "create"), Duration::from_secs(3600));
        let set = Value::object([(
            "timeouts",
            Value::object([("create", Value::string("1m30s"))]),
        )]);
        assert_eq!(timeout(&set, "create"), Duration::from_secs(90));
        assert_eq!(timeout(&set, "delete"), Duration::from_secs(1200));
    }
}
