//! Apsara Stack: its ECS API reached through a gateway, and the `apsarastack` provider block (the client is
//! ECS's, see [`super::ecs`]). Two ways to reach its ECS API, chosen by the `api_style` provider setting:
//!
//! - `ecs` (default): the standard ECS RPC API (version 2014-05-26) at the endpoint itself (path `/` or the
//!   endpoint's own path), because that is what the official Apsara Stack provider calls: its image resources use
//!   the classic ECS SDK, whose requests are `Ecs` 2014-05-26 RPC calls to `/?...` (aliyun/alibaba-cloud-sdk-go
//!   services/ecs/import_image.go `InitWithApiInfo("Ecs", "2014-05-26", ...)`, sdk/requests/rpc_request.go), and
//!   every one of them gets the provider's default headers and query parameters
//!   (aliyun/terraform-provider-alibabacloudstack alibabacloudstack/connectivity/client.go `defaultHeaders`,
//!   `defaultQueryParams`, `InitRpcRequest`). Those are sent here too: headers `RegionId`, `x-acs-regionid`,
//!   `x-acs-organizationid` and `x-acs-resourcegroupid` (when set), `x-acs-request-version: v1`,
//!   `x-acs-asapi-product: Ecs` and `x-ascm-product-name: Ecs`; parameters `RegionId`, `Department` and
//!   `OrganizationId` (the organization, when set) and `ResourceGroup` (the resource set, when set). The
//!   provider's `EagleEye-TraceId` / `EagleEye-RpcId` tracing headers are not sent: they identify the caller's
//!   trace, not the request.
//! - `route`: signed forms POSTed to `<gateway>/apsara/route/Ecs/<Action>`, with the body parameters `version` and
//!   `regionId` the Apsara Stack ImportImage reference page lists (the project's seed page 004,
//!   `/work/shared/seeds/004_*.txt`: `version` sample `2016-01-01`, `regionId` required). No official client
//!   calls this path; it stays for gateways that only expose the console route.

use std::collections::BTreeMap;
use std::sync::Arc;

use url::Url;

use super::account::{ACCESS_KEY, SECRET_KEY, SECURITY_TOKEN};
use super::ecs::{self, EcsClient, EcsFlavor, ECS_VERSION};
use super::rpc::{AcsRpc, RpcTarget, SignatureVersion};
use crate::cloud::http::{self, ClientOptions};
use crate::cloud::rules::param;
use crate::cloud::settings::{BlockSpec, Kind, Resolved, Setting};
use crate::cloud::{Cloud, CloudError, ConfigError, ImageApi, ImportRequest};

const ENDPOINT: &str = "endpoint";
const ORGANIZATION_ID: &str = "organization_id";
const RESOURCE_GROUP_ID: &str = "resource_group_id";
const API_STYLE: &str = "api_style";

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

/// The `apsarastack` block.
pub(super) fn block() -> BlockSpec {
    BlockSpec {
        name: "apsarastack",
        description: "Apsara Stack credentials and gateway.",
        settings: vec![
            Setting::new(ACCESS_KEY, Kind::Text, "AccessKey ID.")
                .env(["APSARASTACK_ACCESS_KEY"], 1),
            Setting::new(SECRET_KEY, Kind::Secret, "AccessKey secret.")
                .env(["APSARASTACK_SECRET_KEY"], 1),
            Setting::new(
                SECURITY_TOKEN,
                Kind::Secret,
                "STS token, if the keys are temporary.",
            )
            .env(["APSARASTACK_SECURITY_TOKEN"], 0),
            Setting::new(param::REGION, Kind::Region, "Default region.")
                .env(["APSARASTACK_REGION"], 1),
            Setting::new(
                ENDPOINT,
                Kind::Endpoint,
                "Gateway URL, e.g. `https://gateway.example.com`.",
            )
            .env(["APSARASTACK_ENDPOINT"], 1),
            Setting::new(
                ORGANIZATION_ID,
                Kind::Text,
                "Organization (department) ID. Sent as `x-acs-organizationid` when set; with \
                 `api_style = \"ecs\"` also as the `Department` and `OrganizationId` parameters.",
            ),
            Setting::new(
                RESOURCE_GROUP_ID,
                Kind::Text,
                "Resource set ID. Sent as `x-acs-resourcegroupid` when set; with `api_style = \"ecs\"` \
                 also as the `ResourceGroup` parameter.",
            ),
            Setting::new(
                API_STYLE,
                Kind::Choice(&["ecs", "route"]),
                "How ECS is reached. `ecs` (default): the standard ECS API (version 2014-05-26) at \
                 `<endpoint>` itself, with the headers and parameters the official Apsara Stack Terraform \
                 provider sends (`RegionId`, `x-acs-regionid`, `x-acs-organizationid`, \
                 `x-acs-resourcegroupid`, `x-acs-request-version: v1`, `x-acs-asapi-product: Ecs`, \
                 `x-ascm-product-name: Ecs`; parameters `RegionId`, `Department`, `OrganizationId`, \
                 `ResourceGroup`); `endpoint` is then the ECS (POP or ASAPI) endpoint. `route`: the console \
                 route `POST <endpoint>/apsara/route/Ecs/<Action>` with `version` (2016-01-01 for ImportImage) \
                 and `regionId` in the body, as Apsara Stack's ImportImage reference page documents.",
            ),
        ]
        .into_iter()
        .chain(crate::cloud::objects::block_settings(
            "Apsara Stack OSS",
            "No default: Apsara Stack's OSS endpoints are the deployment's own, so set this to use `source_file` \
             or `inspect_source_url`.",
        ))
        .collect(),
        env_summary: None,
        profile: None,
    }
}

/// Makes the client from the `apsarastack` block: ECS's, through the gateway.
pub(super) fn connect(
    settings: &Resolved,
    options: &ClientOptions,
) -> Result<Arc<dyn ImageApi>, ConfigError> {
    let cloud = Cloud::ApsaraStack;
    let keys = super::account::keys(settings)?;
    let gateway = http::endpoint(cloud, &settings.require_text(ENDPOINT, "gateway endpoint")?)?;
    // The Apsara gateway is reached with the RPC v1 signature only.
    let rpc = AcsRpc::new(cloud, keys, SignatureVersion::RpcV1, options)?;
    let text = |name| settings.text(name).map(str::to_string);
    Ok(Arc::new(EcsClient::new(
        rpc,
        EcsFlavor::Apsara {
            gateway,
            organization_id: text(ORGANIZATION_ID),
            resource_group_id: text(RESOURCE_GROUP_ID),
            style: style_of(settings),
        },
    )))
}

/// The `api_style` setting: `route` only when asked for, the official provider's ECS call otherwise.
fn style_of(settings: &Resolved) -> ApsaraApiStyle {
    match settings.text(API_STYLE) {
        Some("route") => ApsaraApiStyle::Route,
        _ => ApsaraApiStyle::Ecs,
    }
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
    ecs::import_params(req, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alibaba::rpc::Keys;
    use crate::cloud::alibaba::sign::acs_rpc_signature;
    use crate::cloud::settings::{resolve, Settings};
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{MapEnv, Secret};

    #[test]
    fn apsara_env_and_require_message() {
        let env = MapEnv::from_pairs(&[("APSARASTACK_ENDPOINT", "https://gw.example")]);
        let c = resolve(&super::super::APSARA, &Settings::default(), &env);
        assert_eq!(c.text("endpoint"), Some("https://gw.example"));
        let e = c.require_text("access_key", "access key").unwrap_err();
        assert!(e.message.contains("APSARASTACK_ACCESS_KEY"));
        assert!(e.message.contains("apsarastack.access_key"));
    }

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

    #[test]
    fn ecs_is_the_default_style() {
        assert_eq!(ApsaraApiStyle::default(), ApsaraApiStyle::Ecs);
        let settings = |style: Option<&str>| {
            let mut s = Settings::default();
            s.set("apsarastack", "access_key", "ak");
            s.set("apsarastack", "secret_key", "sk");
            s.set("apsarastack", "region", "cn-qd");
            s.set("apsarastack", "endpoint", "https://ecs.example");
            if let Some(v) = style {
                s.set("apsarastack", "api_style", v);
            }
            resolve(&super::super::APSARA, &s, &MapEnv::default())
        };
        assert!(connect(&settings(None), &fast_options()).is_ok());
        assert_eq!(style_of(&settings(None)), ApsaraApiStyle::Ecs);
        assert_eq!(style_of(&settings(Some("ecs"))), ApsaraApiStyle::Ecs);
        assert_eq!(style_of(&settings(Some("route"))), ApsaraApiStyle::Route);
    }

    #[tokio::test]
    async fn ecs_style_sends_the_official_headers_and_params() {
        let (url, log) = serve(Arc::new(|_, _: &Recorded| {
            (
                200,
                r#"{"RequestId":"R","TotalCount":0,"Images":{"Image":[]}}"#.into(),
            )
        }))
        .await;
        let rpc = AcsRpc::new(
            Cloud::ApsaraStack,
            Keys {
                access_key: "ak".into(),
                secret: Secret::new("sk"),
                token: None,
            },
            SignatureVersion::RpcV1,
            &fast_options(),
        )
        .unwrap();
        let c = EcsClient::new(
            rpc,
            EcsFlavor::Apsara {
                gateway: Url::parse(&format!("{url}/apsarastack")).unwrap(),
                organization_id: Some("27".into()),
                resource_group_id: Some("9".into()),
                style: ApsaraApiStyle::default(),
            },
        );
        let found = c
            .describe_images("cn-qingdao-env17-d01", &["m-1".into()])
            .await
            .unwrap();
        assert!(found.is_empty());
        let log = log.lock().unwrap();
        let r = &log[0];
        assert_eq!(r.path, "/apsarastack");
        for (k, v) in [
            ("regionid", "cn-qingdao-env17-d01"),
            ("x-acs-regionid", "cn-qingdao-env17-d01"),
            ("x-acs-organizationid", "27"),
            ("x-acs-resourcegroupid", "9"),
            ("x-acs-request-version", "v1"),
            ("x-acs-asapi-product", "Ecs"),
            ("x-ascm-product-name", "Ecs"),
        ] {
            assert_eq!(r.header(k), Some(v), "{k}");
        }
        assert_eq!(r.header("eagleeye-traceid"), None);
        let f = r.form();
        assert_eq!(f["Version"], "2014-05-26");
        assert_eq!(f["Action"], "DescribeImages");
        assert_eq!(f["RegionId"], "cn-qingdao-env17-d01");
        assert_eq!(f["Department"], "27");
        assert_eq!(f["OrganizationId"], "27");
        assert_eq!(f["ResourceGroup"], "9");
        assert!(!f.contains_key("version") && !f.contains_key("regionId"));
        // The added parameters are signed like every other.
        assert_eq!(
            f["Signature"],
            acs_rpc_signature("POST", &f, &Secret::new("sk"))
        );
    }

    #[tokio::test]
    async fn import_without_image_id_finds_by_name() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            if r.path.ends_with("/ImportImage") {
                (200, r#"{"RequestID":"R"}"#.into())
            } else {
                (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-aps","ImageName":"img","Status":"Creating"}]}}"#.into())
            }
        }))
        .await;
        let rpc = AcsRpc::new(
            Cloud::ApsaraStack,
            Keys {
                access_key: "ak".into(),
                secret: Secret::new("sk"),
                token: None,
            },
            SignatureVersion::RpcV1,
            &fast_options(),
        )
        .unwrap();
        let c = EcsClient::new(
            rpc,
            EcsFlavor::Apsara {
                gateway: Url::parse(&format!("{url}/apsarastack")).unwrap(),
                organization_id: Some("org".into()),
                resource_group_id: Some("rg".into()),
                style: ApsaraApiStyle::Route,
            },
        );
        let req = ImportRequest {
            region: "cn-qingdao-env17-d01".into(),
            name: "img".into(),
            source_url: "oss://bkt/sys.raw".into(),
            format: Some("raw".into()),
            idempotency_token: "t".into(),
            role_name: Some("AliyunECSImageImportDefaultRole".into()),
            system_disk_size_gb: Some(40),
            ..Default::default()
        };
        assert_eq!(c.import(&req).await.unwrap().image_id, "m-aps");
        let log = log.lock().unwrap();
        let first = &log[0];
        assert_eq!(first.path, "/apsarastack/apsara/route/Ecs/ImportImage");
        assert_eq!(first.header("x-acs-organizationid"), Some("org"));
        assert_eq!(first.header("x-acs-resourcegroupid"), Some("rg"));
        let f = first.form();
        assert_eq!(f["Version"], APSARA_VERSION);
        // Every parameter the seed page lists for the route gateway.
        assert_eq!(f["version"], APSARA_VERSION);
        assert_eq!(f["regionId"], "cn-qingdao-env17-d01");
        assert_eq!(f["RegionId"], "cn-qingdao-env17-d01");
        assert_eq!(f["RoleName"], "AliyunECSImageImportDefaultRole");
        assert_eq!(f["DiskDeviceMapping.1.DiskImageSize"], "40");
        assert_eq!(f["DiskDeviceMapping.1.Format"], "RAW");
        assert!(!f.contains_key("ClientToken"));
        assert_eq!(
            f["Signature"],
            acs_rpc_signature("POST", &f, &Secret::new("sk"))
        );
        assert_eq!(log[1].path, "/apsarastack/apsara/route/Ecs/DescribeImages");
        assert_eq!(log[1].form()["Version"], "2014-05-26");
    }
}
