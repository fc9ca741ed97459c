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

use std::sync::Arc;

use super::account::{ACCESS_KEY, SECRET_KEY, SECURITY_TOKEN};
use super::ecs::gateway::ApsaraApiStyle;
use super::ecs::{EcsClient, EcsFlavor};
use super::rpc::{AcsRpc, SignatureVersion};
use crate::cloud::http::{self, ClientOptions};
use crate::cloud::params::Param;
use crate::cloud::settings::{BlockSpec, Kind, Resolved, Setting};
use crate::cloud::{Cloud, ConfigError, ImageApi};

const ENDPOINT: &str = "endpoint";
const ORGANIZATION_ID: &str = "organization_id";
const RESOURCE_GROUP_ID: &str = "resource_group_id";
const API_STYLE: &str = "api_style";

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
            Setting::new(Param::Region.attribute(), Kind::Region, "Default region.")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alibaba::ecs::gateway::APSARA_VERSION;
    use crate::cloud::alibaba::rpc::Keys;
    use crate::cloud::alibaba::sign::acs_rpc_signature;
    use crate::cloud::backend::resolve;
    use crate::cloud::settings::Settings;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{ImportRequest, MapEnv, Secret};
    use crate::cloud::{Options, Param};
    use url::Url;

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
            options: Options::of([
                (Param::Format, "raw".into()),
                (Param::RoleName, "AliyunECSImageImportDefaultRole".into()),
                (Param::SystemDiskSizeGb, 40u64.into()),
            ]),
            idempotency_token: "t".into(),
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
