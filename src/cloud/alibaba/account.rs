//! The Alibaba Cloud account ECS and ENS share: the `alicloud` provider block, its environment variables and the
//! aliyun CLI profile.

use serde::Deserialize;

use super::rpc::{AcsRpc, Keys, SignatureVersion};
use crate::cloud::http::ClientOptions;
use crate::cloud::params::Param;
use crate::cloud::settings::{read_profile_json, BlockSpec, Kind, Profile, Resolved, Setting};
use crate::cloud::Cloud;
use crate::cloud::{ConfigError, Env};

/// The variables naming the aliyun CLI profile to read, in order.
const PROFILE_ENV: [&str; 2] = ["ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"];

pub(super) const ACCESS_KEY: &str = "access_key";
pub(super) const SECRET_KEY: &str = "secret_key";
pub(super) const SECURITY_TOKEN: &str = "security_token";
pub(super) const ECS_ENDPOINT: &str = "ecs_endpoint";
pub(super) const ENS_ENDPOINT_SETTING: &str = "ens_endpoint";
/// Default ENS endpoint (ENS is not regional at the API level): the `ens_endpoint` setting's default, so the
/// account that declares the setting owns it and the ENS client reads it from here.
pub const ENS_ENDPOINT: &str = "https://ens.aliyuncs.com";
const SIGNATURE_VERSION: &str = "signature_version";
pub(super) const PLAN_DRY_RUN: &str = "plan_dry_run";

/// The `alicloud` block.
pub(super) fn block() -> BlockSpec {
    BlockSpec {
        name: "alicloud",
        description: "Alibaba Cloud credentials and defaults, for ECS (`alicloud`) and ENS (`alicloud_ens`).",
        settings: vec![
            Setting::new(ACCESS_KEY, Kind::Text, "AccessKey ID.")
                .env(["ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID"], 2),
            Setting::new(SECRET_KEY, Kind::Secret, "AccessKey secret.")
                .env(["ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"], 2),
            Setting::new(SECURITY_TOKEN, Kind::Secret, "STS token.")
                .env(["ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"], 1),
            Setting::new(Param::Region.attribute(), Kind::Region, "Default region, e.g. `cn-beijing`.")
                .env(["ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID"], 1),
            Setting::new(ECS_ENDPOINT, Kind::Endpoint, "ECS API endpoint URL.")
                .default_value("https://ecs.<region>.aliyuncs.com"),
            Setting::new(ENS_ENDPOINT_SETTING, Kind::Endpoint, "ENS API endpoint URL.")
                .default_value(ENS_ENDPOINT),
            Setting::new(
                SIGNATURE_VERSION,
                Kind::Choice(&["1.0", "v3"]),
                "`1.0` (HMAC-SHA1 RPC signatures, the default) or `v3` (ACS3-HMAC-SHA256).",
            ),
            Setting::new(
                PLAN_DRY_RUN,
                Kind::Flag,
                "When `true`, `terraform plan` of a new ECS image from `source_url` asks ECS to check the import: \
                 ImportImage with `DryRun` (parameters, permissions and quotas are checked, nothing is imported; \
                 ECS answers `DryRunOperation` or `DRYRUN.SUCCESS` when the import would go ahead). Default \
                 `false`: plans make no API call. ENS has no dry run.",
            ),
        ]
        .into_iter()
        .chain(crate::cloud::objects::block_settings(
            "OSS",
            "Defaults to `https://s3.oss-<region>.aliyuncs.com`, the region taken from an OSS https URL, else the \
             image's region (OSS takes virtual-hosted requests only; the ECS and ENS imports read the bucket in \
             their own region). A host outside `aliyuncs.com` is a custom domain bound to the bucket (CNAME), \
             reached as `https://<domain>/<key>`: accounts that activated OSS on or after 2025-03-20 need one for \
             buckets in mainland China, where OSS answers `PublicEndpointForbidden` on its public endpoint.",
        ))
        .collect(),
        env_summary: None,
        profile: Some(format!(
            "`~/.aliyun/config.json` (profile from `{}` or `{}`, else `current`; modes `AK` and `StsToken`)",
            PROFILE_ENV[0], PROFILE_ENV[1]
        )),
    }
}

/// The AccessKey pair (the family's two blocks name them alike).
pub(super) fn keys(settings: &Resolved) -> Result<Keys, ConfigError> {
    Ok(Keys {
        access_key: settings.require_text(ACCESS_KEY, "access key")?,
        secret: settings.require_secret(SECRET_KEY, "secret key")?,
        token: settings.secret(SECURITY_TOKEN).cloned(),
    })
}

/// The signed transport of `cloud` (ECS or ENS), with the keys and signature scheme the block gives.
pub(super) fn rpc(
    cloud: Cloud,
    settings: &Resolved,
    options: &ClientOptions,
) -> Result<AcsRpc, ConfigError> {
    let signature = match settings.text(SIGNATURE_VERSION) {
        Some("v3") => SignatureVersion::Acs3,
        _ => SignatureVersion::RpcV1,
    };
    AcsRpc::new(cloud, keys(settings)?, signature, options)
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

/// The aliyun CLI's `~/.aliyun/config.json`: the profile named by `ALICLOUD_PROFILE` (or `current`). Only the
/// static-key modes (AK, StsToken) give keys: the others need an STS or RAM-role round trip; they still give the
/// region.
pub(super) fn cli_profile(env: &dyn Env) -> Profile {
    let mut out = Profile::new();
    let Some(home) = env.home_dir() else {
        return out;
    };
    let Some(cfg) = read_profile_json::<AliyunConfig>(&home.join(".aliyun").join("config.json"))
    else {
        return out;
    };
    let wanted = env
        .first_var(&PROFILE_ENV)
        .or_else(|| Some(cfg.current.clone()).filter(|c| !c.is_empty()))
        .unwrap_or_else(|| "default".to_string());
    let Some(p) = cfg.profiles.into_iter().find(|p| p.name == wanted) else {
        return out;
    };
    out.extend(p.region_id.map(|v| (Param::Region.attribute(), v)));
    if p.mode.is_empty() || p.mode == "AK" || p.mode == "StsToken" {
        out.extend(p.access_key_id.map(|v| (ACCESS_KEY, v)));
        out.extend(p.access_key_secret.map(|v| (SECRET_KEY, v)));
        if p.mode == "StsToken" {
            out.extend(p.sts_token.map(|v| (SECURITY_TOKEN, v)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::cloud::alibaba::ECS;
    use crate::cloud::backend::resolve;
    use crate::cloud::settings::Settings;
    use crate::cloud::testutil::{env_with, home_with};

    #[test]
    fn alibaba_order_and_profile_modes() {
        let home = home_with(&[(
            ".aliyun/config.json",
            r#"{"current":"work","profiles":[
                {"name":"default","mode":"AK","access_key_id":"ak-default","access_key_secret":"s","region_id":"cn-default"},
                {"name":"work","mode":"StsToken","access_key_id":"ak-work","access_key_secret":"s-work","sts_token":"tok","region_id":"cn-work"},
                {"name":"role","mode":"RamRoleArn","access_key_id":"ak-role","access_key_secret":"s","region_id":"cn-role"}],
              "meta_path":""}"#,
        )]);
        let none = Settings::default();
        let env = env_with(&[], Some(home.path()));
        let c = resolve(&ECS, &none, &env);
        assert_eq!(c.text("access_key"), Some("ak-work"));
        assert_eq!(c.secret("security_token").map(|s| s.expose()), Some("tok"));
        assert_eq!(c.text("region"), Some("cn-work"));
        let env = env_with(&[("ALICLOUD_PROFILE", "role")], Some(home.path()));
        let c = resolve(&ECS, &none, &env);
        assert_eq!(c.text("access_key"), None);
        assert_eq!(c.text("region"), Some("cn-role"));
        let env = env_with(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ak-env2"),
                ("ALICLOUD_ACCESS_KEY", "ak-env"),
            ],
            Some(home.path()),
        );
        assert_eq!(
            resolve(&ECS, &none, &env).text("access_key"),
            Some("ak-env")
        );
        let mut attrs = Settings::default();
        attrs.set("alicloud", "access_key", "ak-attr");
        assert_eq!(
            resolve(&ECS, &attrs, &env).text("access_key"),
            Some("ak-attr")
        );
    }
}
