//! Provider-block settings per cloud, and the environment abstraction used to resolve them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Read access to environment variables and the home directory, so credential resolution can
/// be tested with a map and a temp dir.
pub trait Env: Send + Sync {
    /// An environment variable, `None` when unset or empty.
    fn var(&self, k: &str) -> Option<String>;
    /// The user's home directory (for CLI profile files).
    fn home_dir(&self) -> Option<PathBuf>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, k: &str) -> Option<String> {
        std::env::var(k).ok().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .or_else(|| self.var("USERPROFILE"))
            .map(PathBuf::from)
    }
}

/// A fixed environment (tests, or callers that want to isolate the process environment).
#[derive(Clone, Default)]
pub struct MapEnv {
    /// Variables.
    pub vars: BTreeMap<String, String>,
    /// Home directory.
    pub home: Option<PathBuf>,
}

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapEnv")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .finish()
    }
}

impl Env for MapEnv {
    fn var(&self, k: &str) -> Option<String> {
        self.vars.get(k).filter(|v| !v.is_empty()).cloned()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

fn redact(v: &Option<String>) -> &'static str {
    if v.is_some() {
        "Some(<redacted>)"
    } else {
        "None"
    }
}

/// UCloud / SurferCloud provider settings.
#[derive(Clone, Default, PartialEq)]
pub struct UCloudSettings {
    /// Public key.
    pub public_key: Option<String>,
    /// Private key (secret).
    pub private_key: Option<String>,
    /// STS security token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// Project id.
    pub project_id: Option<String>,
    /// API base URL override.
    pub endpoint: Option<String>,
}

impl fmt::Debug for UCloudSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UCloudSettings")
            .field("public_key", &self.public_key)
            .field("private_key", &redact(&self.private_key))
            .field("security_token", &redact(&self.security_token))
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Tencent Cloud provider settings.
#[derive(Clone, Default, PartialEq)]
pub struct TencentSettings {
    /// SecretId.
    pub secret_id: Option<String>,
    /// SecretKey (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// API base URL override.
    pub endpoint: Option<String>,
    /// Ask ImportImage with `DryRun` at plan time to check the import parameters.
    pub plan_dry_run: Option<bool>,
}

impl fmt::Debug for TencentSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentSettings")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &redact(&self.secret_key))
            .field("security_token", &redact(&self.security_token))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("plan_dry_run", &self.plan_dry_run)
            .finish()
    }
}

/// Which Alibaba signature scheme to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// RPC HMAC-SHA1, SignatureVersion 1.0 (default; works everywhere incl. ENS).
    #[default]
    RpcV1,
    /// ACS3-HMAC-SHA256 (V3).
    Acs3,
}

/// Alibaba Cloud (ECS + ENS) provider settings.
#[derive(Clone, Default, PartialEq)]
pub struct AlibabaSettings {
    /// AccessKey ID.
    pub access_key: Option<String>,
    /// AccessKey secret (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// ECS base URL override.
    pub ecs_endpoint: Option<String>,
    /// ENS base URL override.
    pub ens_endpoint: Option<String>,
    /// Signature scheme.
    pub signature: Option<SignatureVersion>,
}

impl fmt::Debug for AlibabaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlibabaSettings")
            .field("access_key", &self.access_key)
            .field("secret_key", &redact(&self.secret_key))
            .field("security_token", &redact(&self.security_token))
            .field("region", &self.region)
            .field("ecs_endpoint", &self.ecs_endpoint)
            .field("ens_endpoint", &self.ens_endpoint)
            .field("signature", &self.signature)
            .finish()
    }
}

/// Apsara Stack provider settings.
#[derive(Clone, Default, PartialEq)]
pub struct ApsaraSettings {
    /// AccessKey ID.
    pub access_key: Option<String>,
    /// AccessKey secret (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// Gateway base URL (required; no public default).
    pub endpoint: Option<String>,
    /// Sent as `x-acs-organizationid`.
    pub organization_id: Option<String>,
    /// Sent as `x-acs-resourcegroupid`.
    pub resource_group_id: Option<String>,
    /// How ECS is reached: the seed page's route gateway or the official providers' ECS endpoint.
    pub api_style: Option<ApsaraApiStyle>,
}

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

impl fmt::Debug for ApsaraSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApsaraSettings")
            .field("access_key", &self.access_key)
            .field("secret_key", &redact(&self.secret_key))
            .field("security_token", &redact(&self.security_token))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("organization_id", &self.organization_id)
            .field("resource_group_id", &self.resource_group_id)
            .field("api_style", &self.api_style)
            .finish()
    }
}

/// All provider-block settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudSettings {
    /// `ucloud` block.
    pub ucloud: Option<UCloudSettings>,
    /// `surfercloud` block.
    pub surfercloud: Option<UCloudSettings>,
    /// `tencentcloud` block.
    pub tencentcloud: Option<TencentSettings>,
    /// `alicloud` block (ECS and ENS).
    pub alicloud: Option<AlibabaSettings>,
    /// `apsarastack` block.
    pub apsarastack: Option<ApsaraSettings>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let s = UCloudSettings {
            private_key: Some("SECRETX".into()),
            security_token: Some("TOKENX".into()),
            ..Default::default()
        };
        let t = TencentSettings {
            secret_key: Some("SECRETX".into()),
            ..Default::default()
        };
        let a = AlibabaSettings {
            secret_key: Some("SECRETX".into()),
            ..Default::default()
        };
        let p = ApsaraSettings {
            secret_key: Some("SECRETX".into()),
            ..Default::default()
        };
        let all = format!("{s:?}{t:?}{a:?}{p:?}");
        assert!(!all.contains("SECRETX") && !all.contains("TOKENX"));
    }
}
