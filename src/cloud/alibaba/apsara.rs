//! Apsara Stack specifics: ECS actions are POSTed as signed forms to
//! `<gateway>/apsara/route/Ecs/<Action>` with API version 2016-01-01.

use std::collections::BTreeMap;

use url::Url;

use super::ecs;
use super::RpcTarget;
use crate::cloud::{Cloud, CloudError, ImportRequest};

/// Apsara Stack ECS API version.
pub const APSARA_VERSION: &str = "2016-01-01";

/// The target for `action` behind `gateway` (which may carry a path prefix).
pub fn target(
    gateway: &Url,
    action: &str,
    organization_id: Option<&str>,
    resource_group_id: Option<&str>,
) -> Result<RpcTarget, CloudError> {
    let mut base = gateway.clone();
    base.set_query(None);
    let prefix = base.path().trim_end_matches('/').to_string();
    base.set_path(&format!("{prefix}/apsara/route/Ecs/{action}"));
    let mut headers = Vec::new();
    if let Some(o) = organization_id {
        headers.push(("x-acs-organizationid".to_string(), o.to_string()));
    }
    if let Some(r) = resource_group_id {
        headers.push(("x-acs-resourcegroupid".to_string(), r.to_string()));
    }
    if base.cannot_be_a_base() {
        return Err(CloudError::config(
            Cloud::ApsaraStack,
            format!("gateway {gateway} cannot carry a path"),
        ));
    }
    Ok(RpcTarget {
        url: base,
        version: APSARA_VERSION,
        headers,
    })
}

/// Apsara `ImportImage` parameters: the ECS set without ClientToken, BootMode and tags.
pub fn import_params(req: &ImportRequest) -> Result<BTreeMap<String, String>, String> {
    ecs::import_params(req, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alibaba::ecs::{EcsClient, EcsFlavor};
    use crate::cloud::alibaba::AcsRpc;
    use crate::cloud::sign::acs_rpc_signature;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{ImageApi, SignatureVersion};
    use std::sync::Arc;

    #[test]
    fn route_keeps_prefix() {
        let t = target(
            &Url::parse("http://127.0.0.1:9/apsarastack/").unwrap(),
            "ImportImage",
            Some("1"),
            None,
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
        let t = target(
            &Url::parse("https://gw.example").unwrap(),
            "DeleteImage",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            t.url.as_str(),
            "https://gw.example/apsara/route/Ecs/DeleteImage"
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
            "ak".into(),
            "sk".into(),
            None,
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
            },
        );
        let req = ImportRequest {
            region: "cn-qingdao-env17-d01".into(),
            name: "img".into(),
            source_url: "oss://bkt/sys.raw".into(),
            format: Some("raw".into()),
            idempotency_token: "t".into(),
            ..Default::default()
        };
        assert_eq!(c.import_image(&req).await.unwrap(), "m-aps");
        let log = log.lock().unwrap();
        let first = &log[0];
        assert_eq!(first.path, "/apsarastack/apsara/route/Ecs/ImportImage");
        assert_eq!(first.header("x-acs-organizationid"), Some("org"));
        assert_eq!(first.header("x-acs-resourcegroupid"), Some("rg"));
        let f = first.form();
        assert_eq!(f["Version"], APSARA_VERSION);
        assert_eq!(f["DiskDeviceMapping.1.Format"], "RAW");
        assert!(!f.contains_key("ClientToken"));
        assert_eq!(f["Signature"], acs_rpc_signature("POST", &f, "sk"));
        assert_eq!(log[1].path, "/apsarastack/apsara/route/Ecs/DescribeImages");
    }
}
