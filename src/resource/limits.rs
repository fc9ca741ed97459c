//! The clouds' documented limits on what a configuration may say, checked at validate and plan time so that a
//! value the cloud would refuse (or should never receive) fails with the attribute's path before anything is
//! imported.
//!
//! Sources: ECS ImportImage (alibabacloud-go/ecs-20140526 `client/import_image_request_model.go`: ImageName,
//! Description, Tag.N, DiskDeviceMapping.N.DiskImageSize), Apsara Stack ImportImage (seed page 004), ENS ImportImage
//! (seed page 003), Tencent Cloud ImportImage (seed page 002; tag rules from Tencent Cloud's tag documentation,
//! reserved prefixes `qcloud`, `tencent`, `project`). Region IDs of every cloud are lower-case words joined by
//! hyphens (`cn-bj2`, `ap-guangzhou`, `cn-qingdao-env17-d01`).

use std::time::Duration;

use crate::cloud::Cloud;

use super::create::MARKER_TAG;

/// The longest operation timeout accepted: a week. Longer values are typing mistakes (and would overflow timers).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

fn is_alibaba(cloud: Cloud) -> bool {
    matches!(
        cloud,
        Cloud::AliCloud | Cloud::AliCloudEns | Cloud::ApsaraStack
    )
}

fn has_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("http://") || l.contains("https://")
}

/// What is wrong with an image name beyond its length, if anything.
pub fn name_problem(cloud: Cloud, name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!(
            "an image name cannot contain control characters; {name:?} contains {c:?}"
        ));
    }
    if name.trim() != name {
        return Some(format!(
            "an image name cannot start or end with spaces; got {name:?}"
        ));
    }
    if is_alibaba(cloud) {
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
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')))
        {
            return Some(format!(
                "on {cloud} an image name holds letters, digits, periods, colons, underscores and hyphens only; \
                 {name:?} contains {c:?}"
            ));
        }
    }
    None
}

/// What is wrong with a description, if anything.
pub fn description_problem(cloud: Cloud, description: &str) -> Option<String> {
    if let Some(c) = description
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Some(format!("a description cannot contain {c:?}"));
    }
    if is_alibaba(cloud) && !description.is_empty() {
        let n = description.chars().count();
        if !(2..=256).contains(&n) {
            return Some(format!(
                "on {cloud} a description has 2 to 256 characters; this one has {n}"
            ));
        }
        let l = description.to_ascii_lowercase();
        if l.starts_with("http://") || l.starts_with("https://") {
            return Some(format!(
                "on {cloud} a description cannot start with http:// or https://"
            ));
        }
    }
    None
}

/// How many tags a cloud takes with an import, the create marker included.
fn max_tags(cloud: Cloud) -> usize {
    match cloud {
        // ImportImage Tag.N: N is 1 to 20.
        Cloud::AliCloud => 20,
        // Tencent Cloud's tag documentation: at most 50 tags per resource.
        _ => 50,
    }
}

/// What is wrong with a tag set, as (the tag key concerned, if one, message).
pub fn tag_problems<'a>(
    cloud: Cloud,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut count = 0;
    for (key, value) in tags {
        count += 1;
        let bad = |m: String| (Some(key.to_string()), m);
        if key.is_empty() {
            out.push((None, "a tag key cannot be empty".to_string()));
            continue;
        }
        if key.chars().any(char::is_control) || value.chars().any(char::is_control) {
            out.push(bad(format!("tag {key:?} contains control characters")));
        }
        if key == MARKER_TAG || key.starts_with("cloudimage:") {
            out.push(bad(format!(
                "tag keys starting with \"cloudimage:\" are this provider's own (the create marker); rename {key:?}"
            )));
        }
        match cloud {
            Cloud::AliCloud => {
                let l = key.to_ascii_lowercase();
                if l.starts_with("aliyun") || l.starts_with("acs:") {
                    out.push(bad(format!(
                        "on {cloud} a tag key cannot start with \"aliyun\" or \"acs:\"; got {key:?}"
                    )));
                }
                if key.chars().count() > 128 || value.chars().count() > 128 {
                    out.push(bad(format!(
                        "on {cloud} tag keys and values have at most 128 characters"
                    )));
                }
                if has_url(key) || has_url(value) {
                    out.push(bad(format!(
                        "on {cloud} tags cannot contain http:// or https://"
                    )));
                }
                if value.to_ascii_lowercase().starts_with("acs:") {
                    out.push(bad(format!(
                        "on {cloud} a tag value cannot start with \"acs:\""
                    )));
                }
            }
            Cloud::TencentCloud => {
                let l = key.to_ascii_lowercase();
                if ["qcloud", "tencent", "project"]
                    .iter()
                    .any(|p| l.starts_with(p))
                {
                    out.push(bad(format!(
                        "on {cloud} tag keys starting with \"qcloud\", \"tencent\" or \"project\" are reserved; got {key:?}"
                    )));
                }
                if key.chars().count() > 127 || value.chars().count() > 255 {
                    out.push(bad(format!(
                        "on {cloud} a tag key has at most 127 characters and a value at most 255"
                    )));
                }
            }
            _ => {}
        }
    }
    let max = max_tags(cloud) - 1;
    if count > max {
        out.push((
            None,
            format!(
                "{cloud} takes {} tags with an import, one of which this provider uses for its create marker: \
                 set at most {max}; there are {count}",
                max + 1
            ),
        ));
    }
    out
}

/// What is wrong with a region ID, if anything.
pub fn region_problem(region: &str) -> Option<String> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    (!ok).then(|| {
        format!(
            "{region:?} is not a region ID: lower-case letters and digits in words joined by hyphens, like \
             \"cn-beijing\" or \"ap-guangzhou\""
        )
    })
}

/// The allowed sizes of a data disk in GiB on `cloud`, or `None` where its import takes no data disk size.
pub fn data_disk_sizes(cloud: Cloud) -> Option<(u64, u64)> {
    match cloud {
        // DiskDeviceMapping.N.DiskImageSize, N 2-17: 1 to 2048 GiB.
        Cloud::AliCloud => Some((1, 2048)),
        // Seed page 004: data disks 5 to 1000 GiB.
        Cloud::ApsaraStack => Some((5, 1000)),
        _ => None,
    }
}

/// What is wrong with a disk size in GiB (a whole number in `range`), if anything.
pub fn size_problem(size: &crate::cty::Number, range: (u64, u64)) -> Option<String> {
    let (min, max) = range;
    match size.to_u64() {
        Some(n) if (min..=max).contains(&n) => None,
        _ => Some(format!(
            "a size is a whole number of GiB from {min} to {max}; got {size}"
        )),
    }
}

/// A duration from a `timeouts` value, or what is wrong with it.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration like \"45m\": {e}"))?;
    if d.is_zero() {
        return Err(format!("{text:?} is no time at all"));
    }
    if d > MAX_TIMEOUT {
        return Err(format!(
            "{text:?} is longer than the longest timeout accepted, {}",
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names() {
        for (cloud, name) in [
            (Cloud::UCloud, "web\nimage"),
            (Cloud::TencentCloud, "web\0"),
            (Cloud::AliCloud, "aliyun-web"),
            (Cloud::AliCloud, "acs:web"),
            (Cloud::AliCloud, "web image"),
            (Cloud::ApsaraStack, "webhttps://x"),
            (Cloud::UCloud, " padded"),
        ] {
            assert!(name_problem(cloud, name).is_some(), "{cloud} {name:?}");
        }
        assert_eq!(name_problem(Cloud::AliCloud, "web-2.0:final_1"), None);
        assert_eq!(name_problem(Cloud::UCloud, "CentOS 7.9 64位"), None);
    }

    #[test]
    fn hostile_tags() {
        let p = tag_problems(Cloud::AliCloud, [("", "x")]);
        assert_eq!(p.len(), 1);
        assert!(!tag_problems(Cloud::AliCloud, [("acs:team", "x")]).is_empty());
        assert!(!tag_problems(Cloud::TencentCloud, [("qcloud:x", "y")]).is_empty());
        let many: Vec<(String, String)> = (0..20).map(|i| (format!("k{i}"), "v".into())).collect();
        let p = tag_problems(
            Cloud::AliCloud,
            many.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        assert!(p.iter().any(|(_, m)| m.contains("at most 19")), "{p:?}");
        assert!(tag_problems(Cloud::AliCloud, [("team", "images")]).is_empty());
    }

    #[test]
    fn regions_sizes_and_timeouts() {
        for bad in ["../../x", "cn-beijing\n", "", "CN-BEIJING", "cn--x", "a b"] {
            assert!(region_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["cn-bj2", "hk", "ap-guangzhou", "cn-qingdao-env17-d01"] {
            assert_eq!(region_problem(good), None, "{good}");
        }
        let n = |s: &str| crate::cty::Number::parse(s).unwrap();
        assert!(size_problem(&n("-5"), (1, 2048)).is_some());
        assert!(size_problem(&n("1.5"), (1, 2048)).is_some());
        assert!(size_problem(&n("1e30"), (1, 2048)).is_some());
        assert_eq!(size_problem(&n("40"), (1, 2048)), None);
        assert!(parse_timeout("99999999999999h").is_err());
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_timeout("45m"), Ok(Duration::from_secs(2700)));
    }
}
