//! Credential, region and endpoint resolution: provider attributes, then environment
//! variables, then the official CLIs' profile files.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::{
    AlibabaSettings, ApsaraSettings, Cloud, CloudError, Env, SignatureVersion, TencentSettings,
    UCloudSettings,
};

/// A non-empty trimmed value.
fn clean(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// First of several environment variables that is set.
fn env_any(env: &dyn Env, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        env.var(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            // Never log the content: it holds secrets.
            tracing::debug!(path = %path.display(), error = %e.to_string().split(" at ").next().unwrap_or(""), "ignoring unparsable CLI profile file");
            None
        }
    }
}

fn secret_marker(v: &Option<String>) -> &'static str {
    if v.is_some() {
        "Some(<redacted>)"
    } else {
        "None"
    }
}

/// Resolved UCloud / SurferCloud credentials and defaults.
#[derive(Clone, Default)]
pub struct UCloudCredentials {
    /// Public key.
    pub public_key: Option<String>,
    /// Private key (secret).
    pub private_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// Project id.
    pub project_id: Option<String>,
    /// Base URL (attribute or CLI `base_url`).
    pub endpoint: Option<String>,
}

impl fmt::Debug for UCloudCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UCloudCredentials")
            .field("public_key", &self.public_key)
            .field("private_key", &secret_marker(&self.private_key))
            .field("security_token", &secret_marker(&self.security_token))
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

#[derive(Deserialize, Default)]
struct UCloudCliCredential {
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    private_key: Option<String>,
    #[serde(default)]
    profile: Option<String>,
}

#[derive(Deserialize, Default)]
struct UCloudCliConfig {
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    base_url: Option<String>,
}

/// `credential.json` / `config.json` are arrays of profiles (older CLIs wrote one object).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => vec![t],
        }
    }
}

fn ucloud_profile(env: &dyn Env) -> (UCloudCliCredential, UCloudCliConfig) {
    let Some(home) = env.home_dir() else {
        return Default::default();
    };
    let dir = home.join(".ucloud");
    let creds: Vec<UCloudCliCredential> =
        read_json::<OneOrMany<UCloudCliCredential>>(&dir.join("credential.json"))
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
    let configs: Vec<UCloudCliConfig> =
        read_json::<OneOrMany<UCloudCliConfig>>(&dir.join("config.json"))
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
    let wanted = env
        .var("UCLOUD_PROFILE")
        .or_else(|| {
            configs
                .iter()
                .find(|c| c.active)
                .and_then(|c| c.profile.clone())
        })
        .unwrap_or_else(|| "default".to_string());
    let matches = |p: &Option<String>| p.as_deref().unwrap_or("default") == wanted;
    let mut creds = creds;
    let mut configs = configs;
    let cred = creds
        .iter()
        .position(|c| matches(&c.profile))
        .map(|i| creds.swap_remove(i))
        .unwrap_or_default();
    let conf = configs
        .iter()
        .position(|c| matches(&c.profile))
        .map(|i| configs.swap_remove(i))
        .unwrap_or_default();
    (cred, conf)
}

/// Resolves UCloud (or SurferCloud, which reads `SURFERCLOUD_*` before `UCLOUD_*`).
pub fn resolve_ucloud(
    cloud: Cloud,
    attrs: Option<&UCloudSettings>,
    env: &dyn Env,
) -> UCloudCredentials {
    let a = attrs.cloned().unwrap_or_default();
    let names = |suffix: &str| -> Vec<String> {
        if cloud == Cloud::SurferCloud {
            vec![format!("SURFERCLOUD_{suffix}"), format!("UCLOUD_{suffix}")]
        } else {
            vec![format!("UCLOUD_{suffix}")]
        }
    };
    let e = |suffix: &str| {
        let n = names(suffix);
        let refs: Vec<&str> = n.iter().map(String::as_str).collect();
        env_any(env, &refs)
    };
    // SurferCloud accounts are separate from UCloud ones, so the UCloud CLI profile is only
    // consulted for UCloud itself.
    let (pc, pf) = if cloud == Cloud::UCloud {
        ucloud_profile(env)
    } else {
        Default::default()
    };
    UCloudCredentials {
        public_key: clean(a.public_key.as_ref())
            .or_else(|| e("PUBLIC_KEY"))
            .or(clean(pc.public_key.as_ref())),
        private_key: clean(a.private_key.as_ref())
            .or_else(|| e("PRIVATE_KEY"))
            .or(clean(pc.private_key.as_ref())),
        security_token: clean(a.security_token.as_ref()).or_else(|| e("SECURITY_TOKEN")),
        region: clean(a.region.as_ref())
            .or_else(|| e("REGION"))
            .or(clean(pf.region.as_ref())),
        project_id: clean(a.project_id.as_ref())
            .or_else(|| e("PROJECT_ID"))
            .or(clean(pf.project_id.as_ref())),
        endpoint: clean(a.endpoint.as_ref()).or(clean(pf.base_url.as_ref())),
    }
}

/// Resolved Tencent Cloud credentials.
#[derive(Clone, Default)]
pub struct TencentCredentials {
    /// SecretId.
    pub secret_id: Option<String>,
    /// SecretKey (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// Endpoint override.
    pub endpoint: Option<String>,
}

impl fmt::Debug for TencentCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentCredentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &secret_marker(&self.secret_key))
            .field("security_token", &secret_marker(&self.security_token))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

#[derive(Deserialize, Default)]
struct TccliCredential {
    #[serde(default, rename = "secretId")]
    secret_id: Option<String>,
    #[serde(default, rename = "secretKey")]
    secret_key: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize, Default)]
struct TccliSysParam {
    #[serde(default)]
    region: Option<String>,
}

#[derive(Deserialize, Default)]
struct TccliConfigure {
    #[serde(default, rename = "_sys_param")]
    sys_param: TccliSysParam,
}

/// Resolves Tencent Cloud: attributes, `TENCENTCLOUD_*`, then `~/.tccli/<profile>.credential`
/// and `.configure` (profile from `TENCENTCLOUD_PROFILE`, `TCCLI_PROFILE`, else `default`).
pub fn resolve_tencent(attrs: Option<&TencentSettings>, env: &dyn Env) -> TencentCredentials {
    let a = attrs.cloned().unwrap_or_default();
    let profile = env_any(env, &["TENCENTCLOUD_PROFILE", "TCCLI_PROFILE"])
        .unwrap_or_else(|| "default".to_string());
    let (pc, pf) = match env.home_dir() {
        Some(h) if !profile.contains(['/', '\\']) => {
            let dir = h.join(".tccli");
            (
                read_json::<TccliCredential>(&dir.join(format!("{profile}.credential")))
                    .unwrap_or_default(),
                read_json::<TccliConfigure>(&dir.join(format!("{profile}.configure")))
                    .unwrap_or_default(),
            )
        }
        _ => Default::default(),
    };
    TencentCredentials {
        secret_id: clean(a.secret_id.as_ref())
            .or_else(|| env_any(env, &["TENCENTCLOUD_SECRET_ID"]))
            .or(clean(pc.secret_id.as_ref())),
        secret_key: clean(a.secret_key.as_ref())
            .or_else(|| env_any(env, &["TENCENTCLOUD_SECRET_KEY"]))
            .or(clean(pc.secret_key.as_ref())),
        security_token: clean(a.security_token.as_ref())
            .or_else(|| env_any(env, &["TENCENTCLOUD_SECURITY_TOKEN"]))
            .or(clean(pc.token.as_ref())),
        region: clean(a.region.as_ref())
            .or_else(|| env_any(env, &["TENCENTCLOUD_REGION"]))
            .or(clean(pf.sys_param.region.as_ref())),
        endpoint: clean(a.endpoint.as_ref()),
    }
}

/// Resolved Alibaba Cloud credentials (ECS and ENS).
#[derive(Clone, Default)]
pub struct AlibabaCredentials {
    /// AccessKey ID.
    pub access_key: Option<String>,
    /// AccessKey secret (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// ECS endpoint override.
    pub ecs_endpoint: Option<String>,
    /// ENS endpoint override.
    pub ens_endpoint: Option<String>,
    /// Signature scheme.
    pub signature: SignatureVersion,
}

impl fmt::Debug for AlibabaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlibabaCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &secret_marker(&self.secret_key))
            .field("security_token", &secret_marker(&self.security_token))
            .field("region", &self.region)
            .field("ecs_endpoint", &self.ecs_endpoint)
            .field("ens_endpoint", &self.ens_endpoint)
            .field("signature", &self.signature)
            .finish()
    }
}

#[derive(Deserialize, Default)]
struct AliyunProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    #[serde(default)]
    sts_token: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct AliyunConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<AliyunProfile>,
}

fn aliyun_profile(env: &dyn Env) -> AliyunProfile {
    let Some(home) = env.home_dir() else {
        return AliyunProfile::default();
    };
    let Some(cfg) = read_json::<AliyunConfig>(&home.join(".aliyun").join("config.json")) else {
        return AliyunProfile::default();
    };
    let wanted = env_any(env, &["ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"])
        .or_else(|| Some(cfg.current.clone()).filter(|c| !c.is_empty()))
        .unwrap_or_else(|| "default".to_string());
    let mut profiles = cfg.profiles;
    let found = profiles
        .iter()
        .position(|p| p.name == wanted)
        .map(|i| profiles.swap_remove(i));
    match found {
        // Only static-key modes are usable without an STS/RAM-role round trip.
        Some(p) if p.mode.is_empty() || p.mode == "AK" || p.mode == "StsToken" => {
            let mut p = p;
            if p.mode != "StsToken" {
                p.sts_token = None;
            }
            p
        }
        Some(p) => AliyunProfile {
            region_id: p.region_id,
            ..AliyunProfile::default()
        },
        None => AliyunProfile::default(),
    }
}

/// Resolves Alibaba Cloud: attributes, `ALICLOUD_*` / `ALIBABA_CLOUD_*`, then the aliyun CLI
/// `~/.aliyun/config.json` profile (`ALICLOUD_PROFILE` or `current`) of mode AK / StsToken.
pub fn resolve_alibaba(attrs: Option<&AlibabaSettings>, env: &dyn Env) -> AlibabaCredentials {
    let a = attrs.cloned().unwrap_or_default();
    let p = aliyun_profile(env);
    AlibabaCredentials {
        access_key: clean(a.access_key.as_ref())
            .or_else(|| env_any(env, &["ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID"]))
            .or(clean(p.access_key_id.as_ref())),
        secret_key: clean(a.secret_key.as_ref())
            .or_else(|| {
                env_any(
                    env,
                    &["ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                )
            })
            .or(clean(p.access_key_secret.as_ref())),
        security_token: clean(a.security_token.as_ref())
            .or_else(|| {
                env_any(
                    env,
                    &["ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"],
                )
            })
            .or(clean(p.sts_token.as_ref())),
        region: clean(a.region.as_ref())
            .or_else(|| env_any(env, &["ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID"]))
            .or(clean(p.region_id.as_ref())),
        ecs_endpoint: clean(a.ecs_endpoint.as_ref()),
        ens_endpoint: clean(a.ens_endpoint.as_ref()),
        signature: a.signature.unwrap_or_default(),
    }
}

/// Resolved Apsara Stack credentials.
#[derive(Clone, Default)]
pub struct ApsaraCredentials {
    /// AccessKey ID.
    pub access_key: Option<String>,
    /// AccessKey secret (secret).
    pub secret_key: Option<String>,
    /// STS token (secret).
    pub security_token: Option<String>,
    /// Default region.
    pub region: Option<String>,
    /// Gateway base URL.
    pub endpoint: Option<String>,
    /// Organization (department) id header.
    pub organization_id: Option<String>,
    /// Resource group id header.
    pub resource_group_id: Option<String>,
}

impl fmt::Debug for ApsaraCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApsaraCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &secret_marker(&self.secret_key))
            .field("security_token", &secret_marker(&self.security_token))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("organization_id", &self.organization_id)
            .field("resource_group_id", &self.resource_group_id)
            .finish()
    }
}

/// Resolves Apsara Stack: attributes, then `APSARASTACK_*` (no CLI profile file).
pub fn resolve_apsara(attrs: Option<&ApsaraSettings>, env: &dyn Env) -> ApsaraCredentials {
    let a = attrs.cloned().unwrap_or_default();
    ApsaraCredentials {
        access_key: clean(a.access_key.as_ref())
            .or_else(|| env_any(env, &["APSARASTACK_ACCESS_KEY"])),
        secret_key: clean(a.secret_key.as_ref())
            .or_else(|| env_any(env, &["APSARASTACK_SECRET_KEY"])),
        security_token: clean(a.security_token.as_ref())
            .or_else(|| env_any(env, &["APSARASTACK_SECURITY_TOKEN"])),
        region: clean(a.region.as_ref()).or_else(|| env_any(env, &["APSARASTACK_REGION"])),
        endpoint: clean(a.endpoint.as_ref()).or_else(|| env_any(env, &["APSARASTACK_ENDPOINT"])),
        organization_id: clean(a.organization_id.as_ref()),
        resource_group_id: clean(a.resource_group_id.as_ref()),
    }
}

/// Returns `Some(v)` or a Config error naming what to set.
pub fn require(
    cloud: Cloud,
    v: &Option<String>,
    what: &str,
    attr: &str,
    envs: &[&str],
) -> Result<String, CloudError> {
    v.clone().ok_or_else(|| {
        CloudError::config(
            cloud,
            format!(
                "no {what} found: set the provider attribute `{cloud}.{attr}` or the environment variable {}",
                envs.join(" / ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::MapEnv;
    use std::collections::BTreeMap;

    fn env_with(vars: &[(&str, &str)], home: Option<&Path>) -> MapEnv {
        MapEnv {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            home: home.map(Path::to_path_buf),
        }
    }

    #[test]
    fn ucloud_order_attrs_env_profile() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".ucloud");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("credential.json"),
            r#"[{"public_key":"pub-other","private_key":"x","profile":"other"},
                {"public_key":"pub-file","private_key":"priv-file","profile":"default"}]"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"[{"profile":"default","active":true,"region":"cn-file","project_id":"org-file","base_url":"https://api.ucloud.cn/"}]"#,
        )
        .unwrap();
        // profile only
        let env = env_with(&[], Some(home.path()));
        let c = resolve_ucloud(Cloud::UCloud, None, &env);
        assert_eq!(c.public_key.as_deref(), Some("pub-file"));
        assert_eq!(c.private_key.as_deref(), Some("priv-file"));
        assert_eq!(c.region.as_deref(), Some("cn-file"));
        assert_eq!(c.project_id.as_deref(), Some("org-file"));
        // env beats profile
        let env = env_with(
            &[
                ("UCLOUD_PUBLIC_KEY", "pub-env"),
                ("UCLOUD_REGION", "cn-env"),
            ],
            Some(home.path()),
        );
        let c = resolve_ucloud(Cloud::UCloud, None, &env);
        assert_eq!(c.public_key.as_deref(), Some("pub-env"));
        assert_eq!(c.region.as_deref(), Some("cn-env"));
        assert_eq!(c.private_key.as_deref(), Some("priv-file"));
        // attrs beat env
        let attrs = UCloudSettings {
            public_key: Some("pub-attr".into()),
            ..Default::default()
        };
        let c = resolve_ucloud(Cloud::UCloud, Some(&attrs), &env);
        assert_eq!(c.public_key.as_deref(), Some("pub-attr"));
        assert!(!format!("{c:?}").contains("priv-file"));
    }

    #[test]
    fn surfercloud_prefers_its_env_then_ucloud() {
        let env = env_with(
            &[
                ("SURFERCLOUD_PUBLIC_KEY", "s-pub"),
                ("UCLOUD_PUBLIC_KEY", "u-pub"),
                ("UCLOUD_PRIVATE_KEY", "u-priv"),
            ],
            None,
        );
        let c = resolve_ucloud(Cloud::SurferCloud, None, &env);
        assert_eq!(c.public_key.as_deref(), Some("s-pub"));
        assert_eq!(c.private_key.as_deref(), Some("u-priv"));
    }

    #[test]
    fn tencent_order() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".tccli");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("default.credential"),
            r#"{"secretId":"id-file","secretKey":"key-file"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("default.configure"),
            r#"{"_sys_param":{"region":"ap-file","output":"json"},"cvm":{"endpoint":"cvm.tencentcloudapi.com"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("p2.credential"),
            r#"{"secretId":"id-p2","secretKey":"key-p2"}"#,
        )
        .unwrap();
        let env = env_with(&[], Some(home.path()));
        let c = resolve_tencent(None, &env);
        assert_eq!(c.secret_id.as_deref(), Some("id-file"));
        assert_eq!(c.region.as_deref(), Some("ap-file"));
        let env = env_with(&[("TENCENTCLOUD_PROFILE", "p2")], Some(home.path()));
        assert_eq!(
            resolve_tencent(None, &env).secret_id.as_deref(),
            Some("id-p2")
        );
        let env = env_with(
            &[
                ("TENCENTCLOUD_SECRET_ID", "id-env"),
                ("TENCENTCLOUD_REGION", "ap-env"),
            ],
            Some(home.path()),
        );
        let c = resolve_tencent(None, &env);
        assert_eq!(c.secret_id.as_deref(), Some("id-env"));
        assert_eq!(c.secret_key.as_deref(), Some("key-file"));
        assert_eq!(c.region.as_deref(), Some("ap-env"));
        let attrs = TencentSettings {
            secret_id: Some("id-attr".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_tencent(Some(&attrs), &env).secret_id.as_deref(),
            Some("id-attr")
        );
    }

    #[test]
    fn alibaba_order_and_profile_modes() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".aliyun");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"current":"work","profiles":[
                {"name":"default","mode":"AK","access_key_id":"ak-default","access_key_secret":"s","region_id":"cn-default"},
                {"name":"work","mode":"StsToken","access_key_id":"ak-work","access_key_secret":"s-work","sts_token":"tok","region_id":"cn-work"},
                {"name":"role","mode":"RamRoleArn","access_key_id":"ak-role","access_key_secret":"s","region_id":"cn-role"}],
              "meta_path":""}"#,
        )
        .unwrap();
        let env = env_with(&[], Some(home.path()));
        let c = resolve_alibaba(None, &env);
        assert_eq!(c.access_key.as_deref(), Some("ak-work"));
        assert_eq!(c.security_token.as_deref(), Some("tok"));
        assert_eq!(c.region.as_deref(), Some("cn-work"));
        let env = env_with(&[("ALICLOUD_PROFILE", "role")], Some(home.path()));
        let c = resolve_alibaba(None, &env);
        assert_eq!(c.access_key, None);
        assert_eq!(c.region.as_deref(), Some("cn-role"));
        let env = env_with(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ak-env2"),
                ("ALICLOUD_ACCESS_KEY", "ak-env"),
            ],
            Some(home.path()),
        );
        assert_eq!(
            resolve_alibaba(None, &env).access_key.as_deref(),
            Some("ak-env")
        );
        let attrs = AlibabaSettings {
            access_key: Some("ak-attr".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_alibaba(Some(&attrs), &env).access_key.as_deref(),
            Some("ak-attr")
        );
    }

    #[test]
    fn apsara_env_and_require_message() {
        let env = env_with(&[("APSARASTACK_ENDPOINT", "https://gw.example")], None);
        let c = resolve_apsara(None, &env);
        assert_eq!(c.endpoint.as_deref(), Some("https://gw.example"));
        let e = require(
            Cloud::ApsaraStack,
            &c.access_key,
            "access key",
            "access_key",
            &["APSARASTACK_ACCESS_KEY"],
        )
        .unwrap_err();
        assert!(e.message.contains("APSARASTACK_ACCESS_KEY"));
        assert!(e.message.contains("apsarastack.access_key"));
    }
}
