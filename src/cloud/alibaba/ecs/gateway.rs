//! How an ECS call reaches Apsara Stack's gateway: the [`ApsaraApiStyle`] (the official provider's ECS call, or
//! the console route), and for each call its target URL, headers, API version and added parameters, for the
//! organization and resource set ([`Tenant`]) it is made for. See [`crate::cloud::alibaba::apsara`] for the two
//! styles and their sources.
//!
//! These pieces are the request shape of [`super::EcsClient`] in its Apsara flavor, and pure: they stand apart
//! from the `apsarastack` block (which chooses the style) so that the ECS client and the Apsara block each import
//! them downward instead of importing each other.

use std::collections::BTreeMap;

use url::Url;

use super::params::{self, ECS_VERSION};
use crate::cloud::alibaba::rpc::RpcTarget;
use crate::cloud::{Cloud, CloudError, ConfigError, ImportRequest};

/// How Apsara Stack's ECS API is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApsaraApiStyle {
    /// `POST <endpoint>/apsara/route/Ecs/<Action>` with `version` and `regionId` in the body: the Apsara Stack
    /// ImportImage reference page (the project's seed page 004). No official client uses it.
    Route,
    /// The standard ECS RPC API (version 2014-05-26) at `<endpoint>` with the official Apsara Stack provider's
    /// default headers and query parameters (aliyun/terraform-provider-alibabacloudstack
    /// alibabacloudstack/connectivity/client.go `defaultHeaders`, `defaultQueryParams`). The default, because it
    /// is the call the official provider makes.
    #[default]
    Ecs,
}

/// The version the seed page gives for the route gateway's ImportImage.
pub const APSARA_VERSION: &str = "2016-01-01";

/// The API version of `action` in `style`. The route gateway's page documents ImportImage at 2016-01-01; the other
/// image actions have no route page, so they use the ECS version the official providers call them with.
pub fn version(style: ApsaraApiStyle, action: &str) -> &'static str {
    match style {
        ApsaraApiStyle::Route if action == "ImportImage" => APSARA_VERSION,
        _ => ECS_VERSION,
    }
}

/// Who the calls are made for: the organization and resource set the official provider names in its default
/// headers and parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tenant<'a> {
    /// The organization (the official provider's `Department`): `x-acs-organizationid`, and in the `ecs` style
    /// the `Department` and `OrganizationId` parameters.
    pub organization_id: Option<&'a str>,
    /// The resource set (the official provider's `ResourceGroup`, a number): `x-acs-resourcegroupid`, and in the
    /// `ecs` style the `ResourceGroup` parameter.
    pub resource_group_id: Option<&'a str>,
}

/// The product code the official provider names in `x-acs-asapi-product` and `x-ascm-product-name`
/// (`request.GetProduct()` of an ECS SDK request, aliyun/alibaba-cloud-sdk-go services/ecs).
const PRODUCT: &str = "Ecs";

/// The target for `action` in `region` behind `gateway` (which may carry a path prefix). In the `ecs` style the
/// headers are the official provider's `defaultHeaders(popcode)` (aliyun/terraform-provider-alibabacloudstack
/// alibabacloudstack/connectivity/client.go) for `Ecs`, minus the EagleEye tracing pair and with empty values left
/// out; in the `route` style only the organization and resource set are sent, the product being in the path.
pub fn target(
    gateway: &Url,
    style: ApsaraApiStyle,
    action: &str,
    region: &str,
    tenant: Tenant<'_>,
) -> Result<RpcTarget, CloudError> {
    let mut base = gateway.clone();
    base.set_query(None);
    if base.cannot_be_a_base() {
        return Err(ConfigError::new(
            Cloud::ApsaraStack,
            format!("gateway {gateway} cannot carry a path"),
        )
        .into());
    }
    let mut headers = Vec::new();
    let mut push = |k: &str, v: &str| headers.push((k.to_string(), v.to_string()));
    if style == ApsaraApiStyle::Route {
        let prefix = base.path().trim_end_matches('/').to_string();
        base.set_path(&format!("{prefix}/apsara/route/Ecs/{action}"));
    } else if !region.is_empty() {
        push("RegionId", region);
        push("x-acs-regionid", region);
    }
    if let Some(o) = tenant.organization_id {
        push("x-acs-organizationid", o);
    }
    if let Some(r) = tenant.resource_group_id {
        push("x-acs-resourcegroupid", r);
    }
    if style == ApsaraApiStyle::Ecs {
        push("x-acs-request-version", "v1");
        push("x-acs-asapi-product", PRODUCT);
        push("x-ascm-product-name", PRODUCT);
    }
    Ok(RpcTarget {
        url: base,
        version: version(style, action),
        headers,
    })
}

/// The parameters every call of `style` adds to `params`. Route: the gateway's body parameters `version` and
/// `regionId` (seed page 004). Ecs: the official provider's `defaultQueryParams()`
/// (aliyun/terraform-provider-alibabacloudstack alibabacloudstack/connectivity/client.go): `RegionId`, `Department`
/// and `OrganizationId` (both the organization) and `ResourceGroup` (the resource set), empty ones left out.
pub fn style_params(
    style: ApsaraApiStyle,
    action: &str,
    region: &str,
    tenant: Tenant<'_>,
    params: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut p = params.clone();
    match style {
        ApsaraApiStyle::Route => {
            p.insert("version".into(), version(style, action).into());
            if !region.is_empty() {
                p.insert("regionId".into(), region.into());
            }
        }
        ApsaraApiStyle::Ecs => {
            if !region.is_empty() {
                p.insert("RegionId".into(), region.into());
            }
            if let Some(o) = tenant.organization_id {
                p.insert("Department".into(), o.into());
                p.insert("OrganizationId".into(), o.into());
            }
            if let Some(r) = tenant.resource_group_id {
                p.insert("ResourceGroup".into(), r.into());
            }
        }
    }
    p
}

/// Apsara `ImportImage` parameters: the seed page's set (the ECS set without ClientToken, BootMode, tags,
/// DetectionStrategy and Features).
pub fn import_params(req: &ImportRequest) -> Result<BTreeMap<String, String>, String> {
    params::import_params(req, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keeps_prefix() {
        let t = target(
            &Url::parse("http://127.0.0.1:9/apsarastack/").unwrap(),
            ApsaraApiStyle::Route,
            "ImportImage",
            "r1",
            Tenant {
                organization_id: Some("1"),
                resource_group_id: None,
            },
        )
        .unwrap();
        assert_eq!(
            t.url.as_str(),
            "http://127.0.0.1:9/apsarastack/apsara/route/Ecs/ImportImage"
        );
        assert_eq!(
            t.headers,
            vec![("x-acs-organizationid".to_string(), "1".to_string())]
        );
        assert_eq!(t.version, APSARA_VERSION);
        let t = target(
            &Url::parse("https://gw.example").unwrap(),
            ApsaraApiStyle::Route,
            "DeleteImage",
            "r1",
            Tenant::default(),
        )
        .unwrap();
        assert_eq!(
            t.url.as_str(),
            "https://gw.example/apsara/route/Ecs/DeleteImage"
        );
        assert_eq!(t.version, ECS_VERSION);
    }

    #[test]
    fn ecs_style_is_the_official_providers_call() {
        let t = target(
            &Url::parse("https://ecs.example/x").unwrap(),
            ApsaraApiStyle::Ecs,
            "ImportImage",
            "cn-qd",
            Tenant {
                organization_id: Some("o"),
                resource_group_id: Some("g"),
            },
        )
        .unwrap();
        assert_eq!(t.url.as_str(), "https://ecs.example/x");
        assert_eq!(t.version, "2014-05-26");
        let h: BTreeMap<_, _> = t.headers.into_iter().collect();
        // alibabacloudstack/connectivity/client.go defaultHeaders("Ecs"), without the EagleEye pair.
        let want: BTreeMap<String, String> = [
            ("RegionId", "cn-qd"),
            ("x-acs-regionid", "cn-qd"),
            ("x-acs-organizationid", "o"),
            ("x-acs-resourcegroupid", "g"),
            ("x-acs-request-version", "v1"),
            ("x-acs-asapi-product", "Ecs"),
            ("x-ascm-product-name", "Ecs"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(h, want);
        assert!(!h
            .keys()
            .any(|k| k.to_ascii_lowercase().starts_with("eagleeye")));
    }

    #[test]
    fn ecs_style_leaves_out_what_is_not_set() {
        let t = target(
            &Url::parse("https://ecs.example").unwrap(),
            ApsaraApiStyle::Ecs,
            "DescribeImages",
            "cn-qd",
            Tenant::default(),
        )
        .unwrap();
        let names: Vec<&str> = t.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert!(!names.contains(&"x-acs-organizationid"));
        assert!(!names.contains(&"x-acs-resourcegroupid"));
        assert!(names.contains(&"x-ascm-product-name"));
        let p = style_params(
            ApsaraApiStyle::Ecs,
            "DescribeImages",
            "cn-qd",
            Tenant::default(),
            &BTreeMap::new(),
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p["RegionId"], "cn-qd");
    }

    #[test]
    fn style_params_per_style() {
        let tenant = Tenant {
            organization_id: Some("27"),
            resource_group_id: Some("9"),
        };
        let p = style_params(
            ApsaraApiStyle::Ecs,
            "ImportImage",
            "cn-qd",
            tenant,
            &BTreeMap::new(),
        );
        // alibabacloudstack/connectivity/client.go defaultQueryParams().
        assert_eq!(p["RegionId"], "cn-qd");
        assert_eq!(p["Department"], "27");
        assert_eq!(p["OrganizationId"], "27");
        assert_eq!(p["ResourceGroup"], "9");
        assert!(!p.contains_key("version") && !p.contains_key("regionId"));
        let p = style_params(
            ApsaraApiStyle::Route,
            "ImportImage",
            "cn-qd",
            tenant,
            &BTreeMap::new(),
        );
        assert_eq!(p["version"], APSARA_VERSION);
        assert_eq!(p["regionId"], "cn-qd");
        assert!(!p.contains_key("Department") && !p.contains_key("ResourceGroup"));
    }
}
