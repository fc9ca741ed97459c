//! ECS image tags: `Tag.N.Key`/`Tag.N.Value` on ImportImage and DescribeImages, and the
//! TagResources / UntagResources actions the provider uses to change them.

use std::collections::BTreeMap;

use serde_json::Map;

use super::{ali_err, missing, optional, AliError, Ctx, Out, Params};
use crate::app::Sim;

/// Most tags one image may carry.
const MAX_TAGS: usize = 20;

fn bad_key() -> AliError {
    ali_err(
        400,
        "InvalidTagKey.Malformed",
        "The specified Tag.n.Key is invalid.",
    )
}

fn bad_value() -> AliError {
    ali_err(
        400,
        "InvalidTagValue.Malformed",
        "The specified Tag.n.Value is invalid.",
    )
}

fn too_many() -> AliError {
    ali_err(
        400,
        "InvalidTagCount",
        "The specified tags are beyond the permitted range.",
    )
}

fn has_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("http://") || l.contains("https://")
}

/// Tag keys: 1-128 characters, not starting with `aliyun` or `acs:`, no `http(s)://`.
pub(super) fn key_ok(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    (1..=128).contains(&k.chars().count())
        && !l.starts_with("aliyun")
        && !l.starts_with("acs:")
        && !has_url(k)
}

/// Tag values: up to 128 characters, not starting with `acs:`, no `http(s)://`.
pub(super) fn value_ok(v: &str) -> bool {
    v.chars().count() <= 128 && !v.to_ascii_lowercase().starts_with("acs:") && !has_url(v)
}

/// Indices `N` used by parameters `<prefix>.N.<field>` / `<prefix>.N`.
fn indices(p: &Params, prefix: &str) -> Vec<u32> {
    let mut v: Vec<u32> = p
        .keys()
        .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('.'))
        .filter_map(|rest| rest.split('.').next()?.parse().ok())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `Tag.N.Key` / `Tag.N.Value` pairs, validated.
pub(super) fn parse(p: &Params) -> Result<BTreeMap<String, String>, AliError> {
    let mut out = BTreeMap::new();
    for n in indices(p, "Tag") {
        if !(1..=MAX_TAGS as u32).contains(&n) {
            return Err(too_many());
        }
        let key = optional(p, &format!("Tag.{n}.Key")).ok_or_else(bad_key)?;
        let value = p
            .get(&format!("Tag.{n}.Value"))
            .cloned()
            .unwrap_or_default();
        if !key_ok(key) {
            return Err(bad_key());
        }
        if !value_ok(&value) {
            return Err(bad_value());
        }
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// True when `tags` satisfies the `Tag.N` filter of DescribeImages (key, and value if given).
pub(super) fn matches(filter: &BTreeMap<String, String>, tags: &BTreeMap<String, String>) -> bool {
    filter
        .iter()
        .all(|(k, v)| tags.get(k).is_some_and(|have| v.is_empty() || have == v))
}

fn targets(sim: &Sim, ctx: &Ctx<'_>) -> Result<(String, Vec<String>), AliError> {
    let p = ctx.params;
    if ctx.region.is_empty() {
        return Err(missing("RegionId"));
    }
    let rtype = optional(p, "ResourceType").ok_or_else(|| missing("ResourceType"))?;
    if rtype != "image" {
        return Err(ali_err(
            400,
            "InvalidResourceType.NotSupported",
            "The simulator tags images only (ResourceType=image).",
        ));
    }
    let ids: Vec<String> = indices(p, "ResourceId")
        .into_iter()
        .filter_map(|n| optional(p, &format!("ResourceId.{n}")).map(str::to_string))
        .collect();
    if ids.is_empty() {
        return Err(missing("ResourceId.1"));
    }
    let store = sim.store();
    if ids
        .iter()
        .any(|id| store.get(ctx.cloud, &ctx.region, id).is_none())
    {
        return Err(ali_err(
            404,
            "InvalidResourceId.NotFound",
            "The specified ResourceIds are not found in our records.",
        ));
    }
    Ok((ctx.region.clone(), ids))
}

/// TagResources.
pub(super) fn tag_resources(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let (region, ids) = targets(sim, ctx)?;
    let add = parse(ctx.params)?;
    if add.is_empty() {
        return Err(missing("Tag.1.Key"));
    }
    {
        let mut store = sim.store();
        for id in &ids {
            if let Some(img) = store.get_mut(ctx.cloud, &region, id) {
                let mut next = img.tags.clone();
                next.extend(add.clone());
                if next.len() > MAX_TAGS {
                    return Err(too_many());
                }
                img.tags = next;
            }
        }
    }
    sim.persist();
    Ok(Map::new())
}

/// UntagResources.
pub(super) fn untag_resources(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let (region, ids) = targets(sim, ctx)?;
    let p = ctx.params;
    let all = optional(p, "All").is_some_and(|a| a.eq_ignore_ascii_case("true"));
    let keys: Vec<String> = indices(p, "TagKey")
        .into_iter()
        .filter_map(|n| optional(p, &format!("TagKey.{n}")).map(str::to_string))
        .collect();
    if !all && keys.is_empty() {
        return Err(missing("TagKey.1"));
    }
    {
        let mut store = sim.store();
        for id in &ids {
            if let Some(img) = store.get_mut(ctx.cloud, &region, id) {
                if all {
                    img.tags.clear();
                } else {
                    keys.iter().for_each(|k| {
                        img.tags.remove(k);
                    });
                }
            }
        }
    }
    sim.persist();
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests_support::sim;
    use crate::cloud::SimCloud;
    use crate::state::test_image;

    use crate::alibaba::test_params as params;

    #[test]
    fn parse_and_validate() {
        let t = parse(&params(&[
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
            ("Tag.2.Key", "team"),
        ]))
        .unwrap();
        assert_eq!(t["env"], "dev");
        assert_eq!(t["team"], "");
        assert_eq!(
            parse(&params(&[("Tag.1.Key", "aliyun:x")]))
                .unwrap_err()
                .code,
            "InvalidTagKey.Malformed"
        );
        assert_eq!(
            parse(&params(&[("Tag.21.Key", "x")])).unwrap_err().code,
            "InvalidTagCount"
        );
        assert!(matches(&t, &t));
        assert!(!matches(&params(&[("env", "prod")]), &t));
        assert!(matches(&params(&[("env", "")]), &t));
    }

    #[test]
    fn tag_and_untag() {
        let s = sim();
        s.store()
            .insert(test_image(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1", "a"));
        let p = params(&[
            ("RegionId", "cn-hangzhou"),
            ("ResourceType", "image"),
            ("ResourceId.1", "m-1"),
            ("Tag.1.Key", "k"),
            ("Tag.1.Value", "v"),
            ("TagKey.1", "k"),
        ]);
        let ctx = Ctx {
            cloud: SimCloud::AlicloudEcs,
            params: &p,
            region: "cn-hangzhou".into(),
            resource_group: String::new(),
        };
        tag_resources(&s, &ctx).unwrap();
        assert_eq!(
            s.store()
                .get(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1")
                .unwrap()
                .tags["k"],
            "v"
        );
        untag_resources(&s, &ctx).unwrap();
        assert!(s
            .store()
            .get(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1")
            .unwrap()
            .tags
            .is_empty());
        let p2 = params(&[
            ("RegionId", "cn-hangzhou"),
            ("ResourceType", "image"),
            ("ResourceId.1", "m-2"),
            ("Tag.1.Key", "k"),
        ]);
        let ctx2 = Ctx { params: &p2, ..ctx };
        assert_eq!(
            tag_resources(&s, &ctx2).unwrap_err().code,
            "InvalidResourceId.NotFound"
        );
    }
}
