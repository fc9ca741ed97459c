//! Limits on what a configuration may say, checked at validate and plan time so that a value the cloud would
//! refuse (or should never receive) fails with the attribute's path before anything is imported.
//!
//! What holds everywhere is here (no control characters, no padding, region IDs, whole GiB in range, sane
//! timeouts, this provider's own tag prefix); what one cloud documents comes from its backend (`name_problem`,
//! `description_problem`, `tag_problems`, and the numbers in its `CloudRules`). Region IDs of every cloud are
//! lower-case words joined by hyphens (`cn-bj2`, `ap-guangzhou`, `cn-qingdao-env17-d01`).

use std::time::Duration;

use crate::cloud::Cloud;

use super::marker::MARKER_TAG;

/// The longest operation timeout accepted: a week. Longer values are typing mistakes (and would overflow timers).
pub(super) const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What is wrong with an image name (an image's or a copy's), if anything: its length and first letter by the
/// cloud's rules, then [`name_problem`].
pub(super) fn image_name_problem(cloud: Cloud, name: &str) -> Option<String> {
    let r = cloud.backend().rules();
    let len = name.chars().count();
    let (min, max) = r.name_len;
    if len < min || len > max {
        Some(format!(
            "on {cloud} an image name has {min} to {max} characters; {name:?} has {len}"
        ))
    } else if r.name_starts_with_letter && !name.chars().next().is_some_and(char::is_alphabetic) {
        Some(format!(
            "on {cloud} an image name must start with a letter; {name:?} does not"
        ))
    } else {
        name_problem(cloud, name)
    }
}

/// What is wrong with an image name beyond its length, if anything.
pub(super) fn name_problem(cloud: Cloud, name: &str) -> Option<String> {
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
    cloud.backend().name_problem(name)
}

/// What is wrong with a description, if anything.
pub(super) fn description_problem(cloud: Cloud, description: &str) -> Option<String> {
    if let Some(c) = description
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Some(format!("a description cannot contain {c:?}"));
    }
    cloud.backend().description_problem(description)
}

/// What is wrong with a tag set, as (the tag key concerned, if one, message).
pub(super) fn tag_problems<'a>(
    cloud: Cloud,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(Option<String>, String)> {
    let backend = cloud.backend();
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
        out.extend(backend.tag_problems(key, value).into_iter().map(bad));
    }
    let max = backend.rules().max_tags - 1;
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
pub(super) fn region_problem(region: &str) -> Option<String> {
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

/// What is wrong with a disk size in GiB (a whole number in `range`), if anything.
pub(super) fn size_problem(size: &crate::cty::Number, range: (u64, u64)) -> Option<String> {
    let (min, max) = range;
    match size.to_u64() {
        Some(n) if (min..=max).contains(&n) => None,
        _ => Some(format!(
            "a size is a whole number of GiB from {min} to {max}; got {size}"
        )),
    }
}

/// A duration from a `timeouts` value, or what is wrong with it.
pub(super) fn parse_timeout(text: &str) -> Result<Duration, String> {
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
