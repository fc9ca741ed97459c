//! When two spellings name the same thing.
//!
//! Clouds report values in their own words: UCloud says `Linux` where the configuration says `linux`, Tencent
//! reports architecture `arm` for an image imported as `arm_64`, ECS reports `oss://bucket/key` for a source given
//! as `https://bucket.oss-cn-beijing.aliyuncs.com/key`. A plan that compared the text would replace the image for
//! none of the user's doing, so reads keep the stored spelling when the report means the same, and plans compare
//! through these functions before deciding that a change needs a new image.

use crate::cloud::params::Spelling;
use crate::cloud::source_url::object_of;
use crate::cloud::{Cloud, Param};
use crate::cty::Value;

use super::model::attr;
use super::private::Private;

/// A word reduced to what matters for comparing: lower case, without spaces, `-` and `_`.
fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The architecture a spelling stands for (`arm64`, `arm_64`, `arm`, `aarch64` are one; so are `x86_64`,
/// `x86-64`, `amd64`, `x64`).
fn architecture(s: &str) -> String {
    match folded(s).as_str() {
        "arm" | "arm64" | "aarch64" => "arm64".into(),
        "x8664" | "amd64" | "x64" => "x86_64".into(),
        "i386" | "i686" | "x86" | "x8632" => "i386".into(),
        other => other.into(),
    }
}

/// A boot mode: Tencent's `Legacy BIOS` is ECS's `BIOS`.
fn boot_mode(s: &str) -> String {
    match folded(s).as_str() {
        "legacybios" | "bios" => "bios".into(),
        other => other.into(),
    }
}

/// Whether two spellings of a string attribute mean the same for `cloud`: as the parameter table declares for an
/// import parameter ([`Spelling`]), as words for the other attributes.
pub(super) fn same_word(cloud: Cloud, attribute: &str, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let spelling = Param::from_attribute(attribute).map_or(Spelling::Word, |p| p.def().spelling);
    match spelling {
        // The backend knows which spellings name one object (`oss://b/k` and its https URL on the Alibaba family).
        Spelling::Object => object_of(cloud, a) == object_of(cloud, b),
        Spelling::Architecture => architecture(a) == architecture(b),
        Spelling::BootMode => boot_mode(a) == boot_mode(b),
        // Names, descriptions and tags are the user's own text: only the same text is the same.
        Spelling::Exact => false,
        Spelling::Word => folded(a) == folded(b),
    }
}

/// Whether two values of a top-level attribute mean the same image for `cloud`. `private` says which values the
/// cloud could not report for an imported image: a null there matches whatever is configured.
pub(super) fn same_value(
    cloud: Cloud,
    attribute: &str,
    a: &Value,
    b: &Value,
    private: &Private,
) -> bool {
    if a == b {
        return true;
    }
    if attribute == attr::DATA_DISKS {
        return same_disks(cloud, a, b, private);
    }
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => same_word(cloud, attribute, x, y),
        _ => false,
    }
}

/// The object a data disk is imported from: its `source_url`, else the `upload_to` its `source_file` goes to.
fn disk_object(d: &Value) -> Value {
    match d.get_attr(attr::SOURCE_URL) {
        Some(v) if !v.is_null() => v.clone(),
        _ => d.get_attr(attr::UPLOAD_TO).cloned().unwrap_or(Value::Null),
    }
}

/// Data disk lists match when they have as many disks, in the same order, from the same objects (a `source_file`
/// moved to another path is the same disk; its content is compared by the plan through `source_sha256`), and each
/// nested value matches (a value the cloud could not report matches anything; a content hash only where both
/// sides have one).
fn same_disks(cloud: Cloud, a: &Value, b: &Value, private: &Private) -> bool {
    let empty = Vec::new();
    let list = |v: &Value| -> Option<Vec<Value>> {
        match v {
            Value::Null => Some(empty.clone()),
            Value::List(items) => Some(items.clone()),
            _ => None,
        }
    };
    let (Some(xs), Some(ys)) = (list(a), list(b)) else {
        return false;
    };
    xs.len() == ys.len()
        && xs.iter().zip(&ys).all(|(x, y)| {
            let hashes = (
                x.get_attr(attr::SOURCE_SHA256),
                y.get_attr(attr::SOURCE_SHA256),
            );
            if let (Some(hx), Some(hy)) = hashes {
                if !hx.is_null() && !hy.is_null() && hx != hy {
                    return false;
                }
            }
            [attr::SOURCE_URL, attr::FORMAT, attr::SIZE_GB]
                .iter()
                .all(|name| {
                    let value = |d: &Value| match *name {
                        attr::SOURCE_URL => disk_object(d),
                        _ => d.get_attr(name).cloned().unwrap_or(Value::Null),
                    };
                    let (vx, vy) = (value(x), value(y));
                    let unreported = private.is_unreported(&format!("{}.{name}", attr::DATA_DISKS));
                    vx == vy
                        || (unreported && (vx.is_null() || vy.is_null()))
                        || match (vx.as_str(), vy.as_str()) {
                            (Some(p), Some(q)) => same_word(cloud, name, p, q),
                            _ => false,
                        }
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_spellings_match_the_users() {
        let c = Cloud::TencentCloud;
        assert!(same_word(c, "architecture", "arm", "arm64"));
        assert!(same_word(c, "architecture", "arm_64", "ARM64"));
        assert!(!same_word(c, "architecture", "arm64", "x86_64"));
        assert!(same_word(c, "os_type", "Linux", "linux"));
        assert!(same_word(c, "platform", "Other Linux", "other_linux"));
        assert!(!same_word(c, "platform", "CentOS", "Ubuntu"));
        assert!(same_word(c, "boot_mode", "Legacy BIOS", "BIOS"));
        assert!(same_word(c, "format", "QCOW2", "qcow2"));
        assert!(!same_word(c, "name", "Web", "web"));
    }

    #[test]
    fn one_object_in_two_spellings() {
        assert!(same_word(
            Cloud::AliCloud,
            "source_url",
            "oss://images/a/b.qcow2",
            "https://images.oss-cn-beijing.aliyuncs.com/a/b.qcow2"
        ));
        assert!(!same_word(
            Cloud::AliCloud,
            "source_url",
            "oss://images/a.qcow2",
            "oss://images/b.qcow2"
        ));
        assert!(same_word(
            Cloud::TencentCloud,
            "source_url",
            "https://B-1.cos.ap-guangzhou.myqcloud.com/a%20b.qcow2",
            "https://b-1.cos.ap-guangzhou.myqcloud.com/a b.qcow2"
        ));
    }

    fn disk(url: &str, format: Value, size: Value) -> Value {
        Value::object([
            ("source_url", Value::string(url)),
            ("format", format),
            ("size_gb", size),
        ])
    }

    #[test]
    fn data_disks_tolerate_only_what_was_not_reported() {
        let reported = Value::List(vec![disk(
            "oss://b/d.raw",
            Value::string("RAW"),
            Value::Null,
        )]);
        let configured = Value::List(vec![disk(
            "https://b.oss-cn-beijing.aliyuncs.com/d.raw",
            Value::string("raw"),
            Value::Number(crate::cty::Number::from_u64(40)),
        )]);
        let imported = Private {
            unreported: vec!["data_disks.size_gb".into()],
            ..Private::default()
        };
        // The same object, now uploaded from a file.
        let from_file = Value::List(vec![Value::object([
            ("source_url", Value::Null),
            ("source_file", Value::string("/tmp/d.raw")),
            ("upload_to", Value::string("oss://b/d.raw")),
            ("format", Value::string("raw")),
            ("size_gb", Value::Null),
        ])]);
        assert!(same_value(
            Cloud::AliCloud,
            "data_disks",
            &from_file,
            &reported,
            &imported
        ));
        assert!(same_value(
            Cloud::AliCloud,
            "data_disks",
            &configured,
            &reported,
            &imported
        ));
        assert!(!same_value(
            Cloud::AliCloud,
            "data_disks",
            &configured,
            &reported,
            &Private::default()
        ));
        assert!(!same_value(
            Cloud::AliCloud,
            "data_disks",
            &Value::List(vec![]),
            &reported,
            &imported
        ));
    }
}
