//! Apsara Stack: its ECS API reached through a gateway, and the `apsarastack` provider block (the client is
//! ECS's, see [`super::ecs`]). Two ways to reach its ECS API, chosen by the `api_style` provider setting:
//!
//! - `route` (default): signed forms POSTed to `<gateway>/apsara/route/Ecs/<Action>`, with the body parameters
//!   `version` and `regionId` the Apsara Stack ImportImage reference page lists (the project's seed page 004,
//!   `/work/shared/seeds/004_*.txt`: `version` sample `2016-01-01`, `regionId` required).
//! - `ecs`: the standard ECS RPC API (version 2014-05-26) at the endpoint itself, with the headers both official
//!   Apsara providers send: `x-acs-regionid`, `x-acs-organizationid`, `x-acs-resourcegroupid`,
//!   `x-acs-asapi-product: Ecs` and `x-acs-request-version: v1` (aliyun/terraform-provider-alibabacloudstack
//!   alibabacloudstack/connectivity/client.go `defaultHeaders`, `WithEcsClient` with ECS 2014-05-26;
//!   apsara-stack/terraform-provider-apsarastack apsarastack/connectivity/client.go).

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
    /// ImportImage reference page (the project's seed page 004). The default.
    #[default]
    Route,
    /// The standard ECS RPC API (version 2014-05-26) at `<endpoint>` with the `x-acs-regionid`,
    /// `x-acs-organizationid`, `x-acs-resourcegroupid` and `x-acs-asapi-product` headers, as both official Apsara
    /// Terraform providers call it (aliyun/terraform-provider-alibabacloudstack
    /// alibabacloudstack/connectivity/client.go `defaultHeaders`).
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
                "Sent as `x-acs-organizationid` when set.",
            ),
            Setting::new(
                RESOURCE_GROUP_ID,
                Kind::Text,
                "Sent as `x-acs-resourcegroupid` when set.",
            ),
            Setting::new(
                API_STYLE,
                Kind::Choice(&["route", "ecs"]),
                "How ECS is reached. `route` (default): the Apsara Stack gateway, \
                 `POST <endpoint>/apsara/route/Ecs/<Action>` with `version` and `regionId` in the body, as \
                 Apsara Stack's ImportImage reference page documents. `ecs`: the standard ECS API \
                 (version 2014-05-26) at `<endpoint>` itself with the `x-acs-regionid`, \
                 `x-acs-organizationid`, `x-acs-resourcegroupid` and `x-acs-asapi-product` headers, the \
                 way the official Apsara Stack Terraform providers call it; `endpoint` is then the ECS \
                 (or ASAPI) endpoint.",
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
            style: match settings.text(API_STYLE) {
                Some("ecs") => ApsaraApiStyle::Ecs,
                _ => ApsaraApiStyle::Route,
            },
        },
    )))
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

/// Who the calls are made for: the `x-acs-*` header values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tenant<'a> {
    /// `x-acs-organizationid`.
    pub organization_id: Option<&'a str>,
    /// `x-acs-resourcegroupid`.
    pub resource_group_id: Option<&'a str>,
}

/// The target for `action` in `region` behind `gateway` (which may carry a path prefix).
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
    if style == ApsaraApiStyle::Route {
        let prefix = base.path().trim_end_matches('/').to_string();
        base.set_path(&format!("{prefix}/apsara/route/Ecs/{action}"));
    } else if !region.is_empty() {
        headers.push(("x-acs-regionid".to_string(), region.to_string()));
    }
    if let Some(o) = tenant.organization_id {
        headers.push(("x-acs-organizationid".to_string(), o.to_string()));
    }
    if let Some(r) = tenant.resource_group_id {
        headers.push(("x-acs-resourcegroupid".to_string(), r.to_string()));
    }
    if style == ApsaraApiStyle::Ecs {
        headers.push(("x-acs-asapi-product".to_string(), "Ecs".to_string()));
        headers.push(("x-acs-request-version".to_string(), "v1".to_string()));
    }
    Ok(RpcTarget {
        url: base,
        version: version(style, action),
        headers,
    })
}

/// The route gateway's body parameters `version` and `regionId` (seed page 004), added to every route call.
pub fn route_params(
    style: ApsaraApiStyle,
    action: &str,
    region: &str,
    params: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut p = params.clone();
    if style == ApsaraApiStyle::Route {
        p.insert("version".into(), version(style, action).into());
        if !region.is_empty() {
            p.insert("regionId".into(), region.into());
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
        assert_eq!(h["x-acs-regionid"], "cn-qd");
        assert_eq!(h["x-acs-organizationid"], "o");
        assert_eq!(h["x-acs-resourcegroupid"], "g");
        assert_eq!(h["x-acs-asapi-product"], "Ecs");
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
