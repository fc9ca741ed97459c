//! The documentation of an import parameter, written from its declaration ([`ParamDef::doc`]) and the clouds'
//! rules: which clouds take it, with which values, where it is required, what each cloud adds, and what a change
//! does. Nothing per cloud is written by hand, so the docs cannot contradict the rules.
//!
//! [`ParamDef::doc`]: crate::cloud::params::ParamDef::doc

use crate::cloud::params::{Change, Kind};
use crate::cloud::rules::Allowed;
use crate::cloud::{Cloud, Param};

/// `a`, `a and b`, `a, b and c`.
fn and_list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The clouds in `clouds` as users write them, in backticks.
fn cloud_list(clouds: &[Cloud]) -> String {
    let names: Vec<String> = clouds.iter().map(|c| format!("`{c}`")).collect();
    and_list(&names)
}

/// The clouds whose import takes `param`.
pub(super) fn clouds_taking(param: Param) -> Vec<Cloud> {
    Cloud::ALL
        .into_iter()
        .filter(|c| c.backend().rules().supports(param))
        .collect()
}

/// Groups clouds by a per-cloud text, keeping the order of first appearance.
fn grouped(clouds: &[Cloud], text: impl Fn(Cloud) -> Option<String>) -> Vec<(String, Vec<Cloud>)> {
    let mut groups: Vec<(String, Vec<Cloud>)> = Vec::new();
    for &c in clouds {
        let Some(t) = text(c) else { continue };
        match groups.iter_mut().find(|(g, _)| *g == t) {
            Some((_, members)) => members.push(c),
            None => groups.push((t, vec![c])),
        }
    }
    groups
}

/// Which clouds take it (said only when not all do).
fn taken_by(param: Param, taking: &[Cloud]) -> Option<String> {
    if taking.len() == Cloud::ALL.len() {
        return None;
    }
    Some(match taking {
        [] => "No cloud takes it yet.".to_string(),
        [one] => format!("Only `{one}` takes it."),
        _ => format!("Taken by {}.", cloud_list(taking)),
    })
    .filter(|_| !param.def().on_every_cloud)
}

/// The values each cloud accepts, grouped by clouds that accept the same.
fn values(param: Param, taking: &[Cloud]) -> Option<String> {
    if param.def().kind != Kind::Text {
        return None;
    }
    let groups = grouped(taking, |c| match c.backend().rules().allowed(param) {
        Allowed::OneOf(values) => Some(
            values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Allowed::Any => Some("any value".to_string()),
        Allowed::Unsupported => None,
    });
    if groups.iter().all(|(v, _)| v == "any value") {
        return None;
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(v, clouds)| format!("{v} on {}", cloud_list(clouds)))
        .collect();
    Some(format!("Values: {}.", parts.join("; ")))
}

/// The documented bounds the rules give a parameter: the name's length, the system disk's size.
fn bounds(param: Param, taking: &[Cloud]) -> Option<String> {
    let text = |c: Cloud| {
        let r = c.backend().rules();
        match param {
            Param::Name => {
                let (min, max) = r.name_len;
                let letter = if r.name_starts_with_letter {
                    ", starting with a letter"
                } else {
                    ""
                };
                Some(format!("{min} to {max} characters{letter}"))
            }
            Param::SystemDiskSizeGb => {
                let (min, max) = r.system_disk_sizes;
                Some(format!("{min} to {max} GiB"))
            }
            _ => None,
        }
    };
    let groups = grouped(taking, text);
    (!groups.is_empty()).then(|| {
        let parts: Vec<String> = groups
            .iter()
            .map(|(t, clouds)| format!("{t} on {}", cloud_list(clouds)))
            .collect();
        format!("{}.", capitalised(&parts.join("; ")))
    })
}

/// The first letter in upper case.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Where the import requires it.
fn required(param: Param) -> Option<String> {
    let clouds: Vec<Cloud> = Cloud::ALL
        .into_iter()
        .filter(|c| c.backend().rules().requires(param))
        .collect();
    (!clouds.is_empty()).then(|| format!("Required on {}.", cloud_list(&clouds)))
}

/// What each cloud says of it.
fn notes(param: Param, taking: &[Cloud]) -> Vec<String> {
    grouped(taking, |c| {
        c.backend()
            .rules()
            .take(param)
            .map(|t| t.note)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    })
    .into_iter()
    .map(|(note, clouds)| format!("On {}: {note}.", cloud_list(&clouds)))
    .collect()
}

/// Why the clouds that do not take it have no place for it, and what they offer instead.
fn instead(param: Param) -> Vec<String> {
    let mut out: Vec<String> = Cloud::ALL
        .into_iter()
        .filter_map(|c| c.backend().rules().instead_of(param))
        .map(|why| format!("{why}."))
        .collect();
    out.dedup();
    out
}

/// What a change does.
fn change(param: Param, taking: &[Cloud]) -> String {
    match param.def().change {
        Change::Replace => "Changing it replaces the image.".to_string(),
        Change::Setting => {
            "A setting of the import call: changing it later records the new value and calls nothing.".to_string()
        }
        Change::InPlace => "Changed in place.".to_string(),
        Change::InPlaceWhereTheCloudCan => {
            let (in_place, replaced): (Vec<Cloud>, Vec<Cloud>) = taking
                .iter()
                .partition(|c| c.backend().rules().changes_in_place(param));
            match (in_place.is_empty(), replaced.is_empty()) {
                (true, _) => "Changing it replaces the image.".to_string(),
                (false, true) => "Changed in place.".to_string(),
                (false, false) => format!(
                    "Changed in place on {}; a change replaces the image on {}.",
                    cloud_list(&in_place),
                    cloud_list(&replaced)
                ),
            }
        }
    }
}

/// The full description of `param`'s attribute (or block).
pub(super) fn description(param: Param) -> String {
    let taking = clouds_taking(param);
    let mut parts = vec![param.def().doc.to_string()];
    parts.extend(taken_by(param, &taking));
    parts.extend(values(param, &taking));
    parts.extend(bounds(param, &taking));
    parts.extend(required(param));
    parts.extend(notes(param, &taking));
    parts.extend(instead(param));
    parts.push(change(param, &taking));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prose and the rules say the same, for every parameter and cloud: each cloud that takes a parameter is
    /// named where not all do, and no other; each allowed value and each cloud requiring it appears; the change
    /// sentence names the clouds that change it in place.
    #[test]
    fn the_prose_says_what_the_rules_say() {
        for param in Param::ALL {
            let text = description(param);
            let taking = clouds_taking(param);
            let named = |c: Cloud| text.contains(&format!("`{c}`"));
            for c in Cloud::ALL {
                let r = c.backend().rules();
                if taking.len() < Cloud::ALL.len() && !param.def().on_every_cloud {
                    assert_eq!(named(c), r.supports(param), "{param} on {c}: {text}");
                }
                if let Allowed::OneOf(values) = r.allowed(param) {
                    for v in values {
                        assert!(
                            text.contains(&format!("`{v}`")),
                            "{param} value {v} on {c}: {text}"
                        );
                    }
                }
                if r.requires(param) {
                    assert!(
                        text.contains("Required on") && named(c),
                        "{param} required on {c}: {text}"
                    );
                }
                if let Some(why) = r.instead_of(param) {
                    assert!(text.contains(why), "{param} instead on {c}: {text}");
                }
                if let Some(t) = r.take(param).filter(|t| !t.note.is_empty()) {
                    assert!(text.contains(t.note), "{param} note on {c}: {text}");
                }
                if param.def().change == Change::InPlaceWhereTheCloudCan
                    && r.changes_in_place(param)
                {
                    assert!(
                        text.contains("in place") && named(c),
                        "{param} in place on {c}: {text}"
                    );
                }
            }
            let per_cloud = param.def().change == Change::InPlaceWhereTheCloudCan;
            if per_cloud
                && !taking
                    .iter()
                    .any(|c| c.backend().rules().changes_in_place(param))
            {
                assert!(!text.contains("in place"), "{param}: {text}");
            }
        }
    }

    #[test]
    fn the_old_contradictions_are_gone() {
        // The hand-written prose said `platform` was not used by ENS and left ENS out of `license_type`.
        assert!(clouds_taking(Param::Platform).contains(&Cloud::AliCloudEns));
        assert!(!description(Param::Platform).contains("not used"));
        assert!(description(Param::LicenseType).contains("`alicloud_ens`"));
    }
}
