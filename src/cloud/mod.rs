//! The cloud layer: one signed image-API client per cloud API family, behind [`ImageApi`].
//!
//! The resource logic only sees the types in this module; each backend maps its own request,
//! response, state and error vocabulary onto them.

// `CloudError` carries code, message, request id and action by design (the contract), so it is
// larger than clippy's default threshold; callers of this layer may need the same allow.
#![allow(clippy::result_large_err)]

pub mod alibaba;
pub mod credentials;
pub mod http;
pub mod sign;
pub mod source_url;
pub mod storage;
pub mod tencent;
pub mod ucloud;

mod error;
mod guard;
mod json;
mod settings;
#[cfg(test)]
mod testutil;
mod types;

pub use error::{CloudError, ErrorKind};
pub use settings::{
    AlibabaSettings, ApsaraApiStyle, ApsaraSettings, CloudSettings, Env, MapEnv, ProcessEnv,
    SignatureVersion, TencentSettings, UCloudSettings,
};
pub use types::{Cloud, DataDisk, Image, ImageState, ImageUpdate, ImportRequest, ImportStarted};

use std::sync::Arc;

/// The operations the `cloudimage_custom_image` resource needs from any cloud.
#[async_trait::async_trait]
pub trait ImageApi: Send + Sync {
    /// Which cloud this client talks to.
    fn cloud(&self) -> Cloud;
    /// Starts an import and returns the new image id (the image is usually still importing).
    async fn import_image(&self, req: &ImportRequest) -> Result<String, CloudError>;
    /// Starts an import and returns the new image and, where the cloud has one, its import task (which
    /// [`ImageApi::cancel_import`] takes).
    async fn start_import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        Ok(ImportStarted {
            image_id: self.import_image(req).await?,
            task_id: None,
        })
    }
    /// Cancels the running import of `image_id` (its task, when the caller knows it, saves a lookup);
    /// `Ok(false)` where the cloud cannot cancel imports or runs none for the image (the caller waits instead).
    async fn cancel_import(
        &self,
        _region: &str,
        _image_id: &str,
        _task_id: Option<&str>,
    ) -> Result<bool, CloudError> {
        Ok(false)
    }
    /// Which account at which endpoint this client acts for (no secret in it): two clients with the same
    /// account see the same images. Used to key what the provider remembers between runs.
    fn account(&self) -> String {
        String::new()
    }
    /// Asks the cloud to validate an import without running it, where the cloud has a dry run and the provider is
    /// configured to use it (Tencent `DryRun`, behind `plan_dry_run`). `Ok(false)`: no check was made.
    async fn check_import(&self, _req: &ImportRequest) -> Result<bool, CloudError> {
        Ok(false)
    }
    /// All of `ids` that exist in `region` (missing ids simply absent). Batches as the API allows.
    async fn describe_images(&self, region: &str, ids: &[String])
        -> Result<Vec<Image>, CloudError>;
    /// Custom images in `region` whose name is exactly `name`.
    async fn find_images_by_name(&self, region: &str, name: &str)
        -> Result<Vec<Image>, CloudError>;
    /// Renames / re-describes / re-tags an image (fields left `None` are unchanged).
    async fn update_image(
        &self,
        region: &str,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError>;
    /// Deletes an image. Not-found counts as success.
    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError>;
}

/// Builds the client for one cloud: resolves credentials (attributes -> env vars -> CLI profile
/// files), endpoint and HTTP client. Missing credentials give [`ErrorKind::Config`] naming the
/// env vars / attributes to set.
pub fn client_for(
    cloud: Cloud,
    settings: &CloudSettings,
    env: &dyn Env,
) -> Result<Arc<dyn ImageApi>, CloudError> {
    client_for_with(cloud, settings, env, &http::ClientOptions::default())
}

/// [`client_for`] with explicit retry / rate-limit options (tests shrink the delays).
pub fn client_for_with(
    cloud: Cloud,
    settings: &CloudSettings,
    env: &dyn Env,
    options: &http::ClientOptions,
) -> Result<Arc<dyn ImageApi>, CloudError> {
    use credentials::require;
    match cloud {
        Cloud::UCloud | Cloud::SurferCloud => {
            let (attrs, prefix, default_ep) = if cloud == Cloud::UCloud {
                (settings.ucloud.as_ref(), "UCLOUD", ucloud::UCLOUD_ENDPOINT)
            } else {
                (
                    settings.surfercloud.as_ref(),
                    "SURFERCLOUD",
                    ucloud::SURFERCLOUD_ENDPOINT,
                )
            };
            let c = credentials::resolve_ucloud(cloud, attrs, env);
            let pk_env = format!("{prefix}_PUBLIC_KEY");
            let sk_env = format!("{prefix}_PRIVATE_KEY");
            let public_key = require(cloud, &c.public_key, "public key", "public_key", &[&pk_env])?;
            let private_key = require(
                cloud,
                &c.private_key,
                "private key",
                "private_key",
                &[&sk_env],
            )?;
            let endpoint =
                http::check_endpoint(cloud, c.endpoint.as_deref().unwrap_or(default_ep))?;
            Ok(Arc::new(ucloud::UCloudClient::new(
                cloud,
                endpoint,
                public_key,
                private_key,
                c.security_token,
                c.project_id,
                options,
            )?))
        }
        Cloud::TencentCloud => {
            let c = credentials::resolve_tencent(settings.tencentcloud.as_ref(), env);
            let id = require(
                cloud,
                &c.secret_id,
                "secret id",
                "secret_id",
                &["TENCENTCLOUD_SECRET_ID"],
            )?;
            let key = require(
                cloud,
                &c.secret_key,
                "secret key",
                "secret_key",
                &["TENCENTCLOUD_SECRET_KEY"],
            )?;
            let endpoint = http::check_endpoint(
                cloud,
                c.endpoint.as_deref().unwrap_or(tencent::TENCENT_ENDPOINT),
            )?;
            Ok(Arc::new(
                tencent::TencentClient::new(endpoint, id, key, c.security_token, options)?
                    .with_plan_dry_run(
                        settings
                            .tencentcloud
                            .as_ref()
                            .and_then(|t| t.plan_dry_run)
                            .unwrap_or(false),
                    ),
            ))
        }
        Cloud::AliCloud | Cloud::AliCloudEns => {
            let c = credentials::resolve_alibaba(settings.alicloud.as_ref(), env);
            let ak = require(
                cloud,
                &c.access_key,
                "access key",
                "access_key",
                &["ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID"],
            )?;
            let sk = require(
                cloud,
                &c.secret_key,
                "secret key",
                "secret_key",
                &["ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            )?;
            let rpc = alibaba::AcsRpc::new(cloud, ak, sk, c.security_token, c.signature, options)?;
            if cloud == Cloud::AliCloud {
                let endpoint = c
                    .ecs_endpoint
                    .as_deref()
                    .map(|e| http::check_endpoint(cloud, e))
                    .transpose()?;
                Ok(Arc::new(alibaba::ecs::EcsClient::new(
                    rpc,
                    alibaba::ecs::EcsFlavor::Public { endpoint },
                )))
            } else {
                let endpoint = http::check_endpoint(
                    cloud,
                    c.ens_endpoint
                        .as_deref()
                        .unwrap_or(alibaba::ens::ENS_ENDPOINT),
                )?;
                Ok(Arc::new(alibaba::ens::EnsClient::new(rpc, endpoint)))
            }
        }
        Cloud::ApsaraStack => {
            let c = credentials::resolve_apsara(settings.apsarastack.as_ref(), env);
            let ak = require(
                cloud,
                &c.access_key,
                "access key",
                "access_key",
                &["APSARASTACK_ACCESS_KEY"],
            )?;
            let sk = require(
                cloud,
                &c.secret_key,
                "secret key",
                "secret_key",
                &["APSARASTACK_SECRET_KEY"],
            )?;
            let gw = require(
                cloud,
                &c.endpoint,
                "gateway endpoint",
                "endpoint",
                &["APSARASTACK_ENDPOINT"],
            )?;
            let gateway = http::check_endpoint(cloud, &gw)?;
            // The Apsara gateway is reached with the RPC v1 signature only.
            let rpc = alibaba::AcsRpc::new(
                cloud,
                ak,
                sk,
                c.security_token,
                SignatureVersion::RpcV1,
                options,
            )?;
            Ok(Arc::new(alibaba::ecs::EcsClient::new(
                rpc,
                alibaba::ecs::EcsFlavor::Apsara {
                    gateway,
                    organization_id: c.organization_id,
                    resource_group_id: c.resource_group_id,
                    style: settings
                        .apsarastack
                        .as_ref()
                        .and_then(|a| a.api_style)
                        .unwrap_or_default(),
                },
            )))
        }
    }
}

/// The region to use when a resource does not set one (attribute -> env var -> CLI profile).
pub fn default_region(cloud: Cloud, settings: &CloudSettings, env: &dyn Env) -> Option<String> {
    match cloud {
        Cloud::UCloud => credentials::resolve_ucloud(cloud, settings.ucloud.as_ref(), env).region,
        Cloud::SurferCloud => {
            credentials::resolve_ucloud(cloud, settings.surfercloud.as_ref(), env).region
        }
        Cloud::TencentCloud => {
            credentials::resolve_tencent(settings.tencentcloud.as_ref(), env).region
        }
        Cloud::AliCloud | Cloud::AliCloudEns => {
            credentials::resolve_alibaba(settings.alicloud.as_ref(), env).region
        }
        Cloud::ApsaraStack => {
            credentials::resolve_apsara(settings.apsarastack.as_ref(), env).region
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> MapEnv {
        MapEnv {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: None,
        }
    }

    #[test]
    fn missing_credentials_name_the_env_vars() {
        let s = CloudSettings::default();
        let e = client_for(Cloud::TencentCloud, &s, &env(&[]))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(
            e.message.contains("TENCENTCLOUD_SECRET_ID"),
            "{}",
            e.message
        );
        let e = client_for(Cloud::SurferCloud, &s, &env(&[])).err().unwrap();
        assert!(e.message.contains("SURFERCLOUD_PUBLIC_KEY"));
        let e = client_for(
            Cloud::ApsaraStack,
            &s,
            &env(&[
                ("APSARASTACK_ACCESS_KEY", "a"),
                ("APSARASTACK_SECRET_KEY", "b"),
            ]),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("APSARASTACK_ENDPOINT"));
    }

    #[test]
    fn builds_every_cloud_and_refuses_plain_http() {
        let e = env(&[
            ("UCLOUD_PUBLIC_KEY", "p"),
            ("UCLOUD_PRIVATE_KEY", "s"),
            ("TENCENTCLOUD_SECRET_ID", "i"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
            ("ALICLOUD_ACCESS_KEY", "a"),
            ("ALICLOUD_SECRET_KEY", "s"),
            ("ALICLOUD_REGION", "cn-hangzhou"),
            ("APSARASTACK_ACCESS_KEY", "a"),
            ("APSARASTACK_SECRET_KEY", "s"),
            ("APSARASTACK_ENDPOINT", "http://127.0.0.1:1/apsarastack"),
        ]);
        let s = CloudSettings::default();
        for c in Cloud::ALL {
            let client = client_for(c, &s, &e).unwrap();
            assert_eq!(client.cloud(), c);
        }
        assert_eq!(
            default_region(Cloud::AliCloudEns, &s, &e).as_deref(),
            Some("cn-hangzhou")
        );
        let s = CloudSettings {
            tencentcloud: Some(TencentSettings {
                endpoint: Some("http://cvm.example.com".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = client_for(Cloud::TencentCloud, &s, &e).err().unwrap();
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err.message.contains("plain http"));
    }
}
