//! The backends, listed once. Everything that differs between clouds is asked of a [`Backend`] found here: the
//! provider schema's blocks, validation, replace rules, client construction, the describe batcher's limit (through
//! the client) and the docs generator all iterate [`Cloud::ALL`] instead of matching on the cloud.
//!
//! Adding a cloud: write its folder under `src/cloud/` (client, settings, rules, source-URL check, hints), implement
//! [`Backend`] there, and add one line to the `registry!` list below.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::backend::{resolve, Backend};
use super::http::ClientOptions;
use super::objects::{self, StoredObject};
use super::settings::{BlockSpec, Kind, SettingValue, Settings};
use super::storage::StorageConfig;
use super::{alibaba, tencent, ucloud};
use super::{ConfigError, Env, ImageApi};

/// Declares the backends: the [`Cloud`] enum, its names and the [`Backend`] of each, from one line per cloud.
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $backend:expr, )*) => {
        /// The supported backends; the resource's `cloud` attribute takes [`Cloud::as_str`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Cloud {
            $( $(#[$doc])* $variant, )*
        }

        impl Cloud {
            /// Every cloud, in a stable order (for docs, validation messages and tests).
            pub const ALL: [Cloud; [$($name),*].len()] = [$(Cloud::$variant),*];

            /// The identifier users write in configuration.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Cloud::$variant => $name, )*
                }
            }
        }

        /// The backend of `cloud`.
        pub fn backend(cloud: Cloud) -> &'static dyn Backend {
            match cloud {
                $( Cloud::$variant => $backend, )*
            }
        }
    };
}

registry! {
    /// UCloud (api.ucloud.cn).
    UCloud = "ucloud" => &ucloud::UCLOUD,
    /// SurferCloud: UCloud's API under another brand (api.surfercloud.com).
    SurferCloud = "surfercloud" => &ucloud::SURFERCLOUD,
    /// Tencent Cloud CVM (TC3 signature).
    TencentCloud = "tencentcloud" => &tencent::TENCENT,
    /// Alibaba Cloud ECS (RPC signature).
    AliCloud = "alicloud" => &alibaba::ECS,
    /// Alibaba Cloud ENS, Edge Node Service.
    AliCloudEns = "alicloud_ens" => &alibaba::ENS,
    /// Apsara Stack ECS via the `/apsara/route` gateway.
    ApsaraStack = "apsarastack" => &alibaba::APSARA,
}

impl Cloud {
    /// The backend of this cloud.
    pub fn backend(self) -> &'static dyn Backend {
        backend(self)
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cloud::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Cloud::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown cloud {s:?}; expected one of {}", all.join(", "))
            })
    }
}

/// Setting a value by its text needs the block's spec, which only the registered backends know; so this part of
/// [`Settings`] lives here, beside the list, and `settings` stays below the registry.
impl Settings {
    /// Sets `block.name` from text as the provider block would: a secret setting becomes a [`Secret`], a flag
    /// reads `true`.
    pub fn set(&mut self, block: &str, name: &str, text: impl Into<String>) -> &mut Self {
        let text = text.into();
        let kind = block_spec(block)
            .and_then(|spec| spec.setting(name).map(|s| s.kind))
            .unwrap_or(Kind::Text);
        let value = match kind {
            Kind::Flag => SettingValue::Flag(text.trim() == "true"),
            k => SettingValue::of_kind(k, text),
        };
        self.insert(block, name, value)
    }
}

/// The provider blocks, each once, in the order of the first cloud each configures.
pub fn blocks() -> Vec<BlockSpec> {
    let mut out: Vec<BlockSpec> = Vec::new();
    for cloud in Cloud::ALL {
        let spec = backend(cloud).block();
        if !out.iter().any(|b| b.name == spec.name) {
            out.push(spec);
        }
    }
    out
}

/// The block called `name`, if a backend has it.
pub fn block_spec(name: &str) -> Option<BlockSpec> {
    blocks().into_iter().find(|b| b.name == name)
}

/// The clouds a block configures, in registry order.
pub fn clouds_of_block(name: &str) -> Vec<Cloud> {
    Cloud::ALL
        .into_iter()
        .filter(|c| backend(*c).block().name == name)
        .collect()
}

/// Builds the client for one cloud: resolves its settings (attributes -> environment variables -> CLI profile
/// files) and makes the client. A [`ConfigError`] names the attributes or variables to set.
pub fn connect(
    cloud: Cloud,
    settings: &Settings,
    env: &dyn Env,
    options: &ClientOptions,
) -> Result<Arc<dyn ImageApi>, ConfigError> {
    let b = backend(cloud);
    b.connect(&resolve(b, settings, env), options)
}

/// How to reach `object` (of a resource in `region`) in `cloud`'s object storage, with the block's credentials
/// (see [`objects::storage_config`]).
pub fn storage(
    cloud: Cloud,
    settings: &Settings,
    env: &dyn Env,
    object: &StoredObject,
    region: &str,
) -> Result<StorageConfig, ConfigError> {
    let b = backend(cloud);
    objects::storage_config(b, &resolve(b, settings, env), object, region)
}

/// Whether plans read the `source_url` objects of new images in `cloud` (see [`objects::inspects_source_url`]).
pub fn inspects_source_url(cloud: Cloud, settings: &Settings, env: &dyn Env) -> bool {
    objects::inspects_source_url(&resolve(backend(cloud), settings, env))
}

/// The region to use when a resource does not set one (attribute -> environment variable -> CLI profile).
pub fn default_region(cloud: Cloud, settings: &Settings, env: &dyn Env) -> Option<String> {
    resolve(backend(cloud), settings, env)
        .text(super::params::Param::Region.attribute())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::MapEnv;

    #[test]
    fn plans_read_source_url_objects_unless_the_api_is_elsewhere() {
        let e = MapEnv::default();
        let mut s = Settings::default();
        // Public endpoints: on by default, off when asked.
        assert!(inspects_source_url(Cloud::AliCloud, &s, &e));
        assert!(inspects_source_url(Cloud::TencentCloud, &s, &e));
        s.set("tencentcloud", "inspect_source_url", "false");
        assert!(!inspects_source_url(Cloud::TencentCloud, &s, &e));
        // Another API (a simulator, a private region) without a storage endpoint: storage would be a guess.
        s.set("alicloud", "ecs_endpoint", "http://127.0.0.1:9/alicloud");
        assert!(!inspects_source_url(Cloud::AliCloud, &s, &e));
        // Unless the storage endpoint is given too, or reads are asked for.
        s.set("alicloud", "storage_endpoint", "http://127.0.0.1:9000");
        assert!(inspects_source_url(Cloud::AliCloud, &s, &e));
        s.remove("alicloud", "storage_endpoint");
        s.set("alicloud", "inspect_source_url", "true");
        assert!(inspects_source_url(Cloud::AliCloud, &s, &e));
        // An endpoint from the environment counts as set (Apsara Stack always has one: its own storage endpoint
        // must be given).
        let apsara =
            MapEnv::from_pairs(&[("APSARASTACK_ENDPOINT", "https://ecs.example.internal")]);
        assert!(!inspects_source_url(
            Cloud::ApsaraStack,
            &Settings::default(),
            &apsara
        ));
    }

    #[test]
    fn cloud_round_trips() {
        for c in Cloud::ALL {
            assert_eq!(c.as_str().parse::<Cloud>().unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(backend(c).cloud(), c);
        }
        assert!("aws".parse::<Cloud>().unwrap_err().contains("alicloud_ens"));
    }

    #[test]
    fn blocks_in_order() {
        let names: Vec<&str> = blocks().iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            [
                "ucloud",
                "surfercloud",
                "tencentcloud",
                "alicloud",
                "apsarastack"
            ]
        );
        assert_eq!(
            clouds_of_block("alicloud"),
            [Cloud::AliCloud, Cloud::AliCloudEns]
        );
    }

    fn options() -> ClientOptions {
        ClientOptions::default()
    }

    #[test]
    fn missing_credentials_name_the_env_vars() {
        let s = Settings::default();
        let e = connect(Cloud::TencentCloud, &s, &MapEnv::default(), &options())
            .err()
            .unwrap();
        assert!(
            e.message.contains("TENCENTCLOUD_SECRET_ID"),
            "{}",
            e.message
        );
        let e = connect(Cloud::SurferCloud, &s, &MapEnv::default(), &options())
            .err()
            .unwrap();
        assert!(e.message.contains("SURFERCLOUD_PUBLIC_KEY"));
        let e = connect(
            Cloud::ApsaraStack,
            &s,
            &MapEnv::from_pairs(&[
                ("APSARASTACK_ACCESS_KEY", "a"),
                ("APSARASTACK_SECRET_KEY", "b"),
            ]),
            &options(),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("APSARASTACK_ENDPOINT"));
    }

    #[test]
    fn builds_every_cloud_and_refuses_plain_http() {
        let e = MapEnv::from_pairs(&[
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
        let s = Settings::default();
        for c in Cloud::ALL {
            let client = connect(c, &s, &e, &options()).unwrap();
            assert_eq!(client.cloud(), c);
        }
        assert_eq!(
            default_region(Cloud::AliCloudEns, &s, &e).as_deref(),
            Some("cn-hangzhou")
        );
        let mut s = Settings::default();
        s.set("tencentcloud", "endpoint", "http://cvm.example.com");
        let err = connect(Cloud::TencentCloud, &s, &e, &options())
            .err()
            .unwrap();
        assert!(err.message.contains("plain http"));
    }
}
