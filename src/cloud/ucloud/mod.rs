//! UCloud and SurferCloud: one API (UHost image actions, signed form POSTs), two brands with their own endpoints,
//! accounts and keys. Everything the provider knows about them is here: the client, the signature, the provider
//! blocks and their credential lookup, the rules, and the UFile URL check.

pub mod client;
pub mod private_url;
pub mod sign;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

pub use client::UCloudClient;

use crate::cloud::backend::{check_label, Backend, ObjectUrlError};
use crate::cloud::http::{self, ClientOptions};
use crate::cloud::object_url::encode_key;
use crate::cloud::objects::{self, StoredObject};
use crate::cloud::params::Param;
use crate::cloud::rules::{CloudRules, CopyRules, Take};
use crate::cloud::settings::{read_profile_json, BlockSpec, Kind, Profile, Resolved, Setting};
use crate::cloud::source_url::{http_object_host, http_object_url};
use crate::cloud::storage::{Addressing, StorageCredentials, StorageProfile};
use crate::cloud::{Cloud, ConfigError, Env, ImageApi};

/// Default UCloud endpoint.
pub const UCLOUD_ENDPOINT: &str = "https://api.ucloud.cn";
/// Default SurferCloud endpoint.
pub const SURFERCLOUD_ENDPOINT: &str = "https://api.surfercloud.com";

/// The variable naming the UCloud CLI profile to read.
const PROFILE_ENV: &str = "UCLOUD_PROFILE";

const PUBLIC_KEY: &str = "public_key";
const PRIVATE_KEY: &str = "private_key";
const SECURITY_TOKEN: &str = "security_token";
const PROJECT_ID: &str = "project_id";
const ENDPOINT: &str = "endpoint";

/// One brand of the UCloud API.
#[derive(Debug)]
pub struct UCloudBackend {
    cloud: Cloud,
    brand: &'static str,
    block_description: &'static str,
    /// Environment variable prefixes, read in this order (SurferCloud falls back to UCloud's).
    env_prefixes: &'static [&'static str],
    endpoint: &'static str,
    /// Whether the UCloud CLI profile applies (SurferCloud accounts are separate from UCloud ones).
    reads_cli_profile: bool,
}

/// UCloud.
pub static UCLOUD: UCloudBackend = UCloudBackend {
    cloud: Cloud::UCloud,
    brand: "UCloud",
    block_description: "UCloud credentials and defaults.",
    env_prefixes: &["UCLOUD"],
    endpoint: UCLOUD_ENDPOINT,
    reads_cli_profile: true,
};

/// SurferCloud, UCloud's international brand.
pub static SURFERCLOUD: UCloudBackend = UCloudBackend {
    cloud: Cloud::SurferCloud,
    brand: "SurferCloud",
    block_description: "SurferCloud (UCloud's international brand) credentials and defaults.",
    env_prefixes: &["SURFERCLOUD", "UCLOUD"],
    endpoint: SURFERCLOUD_ENDPOINT,
    reads_cli_profile: false,
};

/// What UCloud's ImportCustomImage takes. Parameter names from ucloud-sdk-go services/uhost and the seed pages.
const RULES: CloudRules = CloudRules {
    name_len: (1, 63),
    name_starts_with_letter: false,
    takes: &[&[
        Take::new(Param::Region, "Region"),
        Take::new(Param::Name, "ImageName"),
        Take::new(Param::Description, "ImageDescription"),
        Take::new(Param::SourceUrl, "UFileUrl"),
        Take::new(Param::Format, "Format").one_of(&["raw", "vhd", "vmdk", "qcow2"]),
        Take::checked(Param::OsType)
            .one_of(&["linux", "windows"])
            .note("sent as `OsType` when `platform` is unset"),
        Take::new(Param::Platform, "OsType"),
        Take::new(Param::OsVersion, "OsName"),
        // CopyCustomImage (ucloud/ucloud-sdk-go `services/uhost/copy_custom_image.go`).
        Take::new(
            Param::Copy,
            "CopyCustomImage TargetRegion, TargetImageName, TargetImageDescription",
        ),
    ]],
    // UCloud cannot rename images or change their description.
    in_place: &[],
    required: &[Param::Format, Param::Platform, Param::OsVersion],
    unique_names: false,
    max_tags: 50,
    system_disk_sizes: (1, 2048),
    data_disk_sizes: None,
    data_disk_format: true,
    system_tag_prefixes: &[],
    uefi_only_architectures: &[],
    // UHost has no image sharing (ucloud-sdk-go services/uhost: Copy, Create, Describe, Import, Terminate only).
    max_shared_accounts: None,
    delete_refused_while_shared: &[],
    // CopyCustomImage takes TargetRegion, TargetImageName and TargetImageDescription; no encryption, no tags
    // (ucloud/ucloud-sdk-go `services/uhost/copy_custom_image.go`).
    copies: Some(CopyRules {
        description: true,
        encryption: false,
        tags: false,
        max_copies: None,
    }),
    instead: &[],
};

impl UCloudBackend {
    /// The variables for one setting: `<PREFIX>_<suffix>` for each prefix.
    fn env(&self, suffix: &str) -> Vec<String> {
        self.env_prefixes
            .iter()
            .map(|p| format!("{p}_{suffix}"))
            .collect()
    }
}

impl Backend for UCloudBackend {
    fn cloud(&self) -> Cloud {
        self.cloud
    }

    fn block(&self) -> BlockSpec {
        let brand = self.brand;
        BlockSpec {
            name: self.cloud.as_str(),
            description: self.block_description,
            settings: vec![
                Setting::new(PUBLIC_KEY, Kind::Text, format!("{brand} API public key."))
                    .env(self.env("PUBLIC_KEY"), 1),
                Setting::new(PRIVATE_KEY, Kind::Secret, format!("{brand} API private key."))
                    .env(self.env("PRIVATE_KEY"), 1),
                Setting::new(
                    SECURITY_TOKEN,
                    Kind::Secret,
                    "Temporary security token (STS), if the keys are temporary.",
                )
                .env(self.env("SECURITY_TOKEN"), 0),
                Setting::new(
                    Param::Region.attribute(),
                    Kind::Region,
                    "Default region for images, e.g. `cn-bj2`.",
                )
                .env(self.env("REGION"), 1),
                Setting::new(PROJECT_ID, Kind::Text, "Project ID.").env(self.env("PROJECT_ID"), 1),
                Setting::new(ENDPOINT, Kind::Endpoint, "API endpoint URL.").default_value(self.endpoint),
            ]
            .into_iter()
            .chain(objects::block_settings(
                "US3 (UFile)",
                "Defaults to `https://s3-<region>.ufileos.com`, the region taken from the object's host \
                 (`<bucket>.<region>.ufileos.com`). US3's S3 gateway takes parts of exactly 8 MiB (so files up \
                 to 78 GiB), checks no MD5 (parts are checked by their signed SHA-256), and serves HTTPS with the \
                 bucket in the host name only in cn-bj, hk, vn-sng, kr-seoul, bra-saopaulo, us-ca and us-ws \
                 (elsewhere requests go path style).",
            ))
            .collect(),
            env_summary: (self.env_prefixes.len() > 1).then(|| {
                let prefixes: Vec<String> =
                    self.env_prefixes.iter().map(|p| format!("`{p}_*`")).collect();
                format!("{}, with the same suffixes", prefixes.join(", then "))
            }),
            profile: self.reads_cli_profile.then(|| {
                format!(
                    "`~/.ucloud/credential.json` and `config.json` (profile from `{PROFILE_ENV}`, else the active \
                     one, else `default`)"
                )
            }),
        }
    }

    fn profile(&self, env: &dyn Env) -> Profile {
        if self.reads_cli_profile {
            cli_profile(env)
        } else {
            Profile::default()
        }
    }

    fn connect(
        &self,
        settings: &Resolved,
        options: &ClientOptions,
    ) -> Result<Arc<dyn ImageApi>, ConfigError> {
        let keys = client::Keys {
            public_key: settings.require_text(PUBLIC_KEY, "public key")?,
            private_key: settings.require_secret(PRIVATE_KEY, "private key")?,
            security_token: settings.secret(SECURITY_TOKEN).cloned(),
        };
        let endpoint =
            http::endpoint(self.cloud, settings.text(ENDPOINT).unwrap_or(self.endpoint))?;
        Ok(Arc::new(UCloudClient::new(
            self.cloud,
            endpoint,
            keys,
            settings.text(PROJECT_ID).map(str::to_string),
            options,
        )?))
    }

    fn rules(&self) -> &'static CloudRules {
        &RULES
    }

    fn check_source_url(&self, url: &str) -> Result<(), String> {
        if is_ufile_host(&http_object_host(url)?) {
            Ok(())
        } else {
            Err(format!(
                "{url:?}: expected a UFile URL such as https://<bucket>.<region>.ufileos.com/<key>"
            ))
        }
    }

    /// `https://<bucket>.<region>.ufileos.com/<key>`, the form UCloud's and SurferCloud's ImportCustomImage pages
    /// show for `UFileUrl` (seed pages 000, 001).
    fn stored_object(&self, url: &str) -> Result<StoredObject, String> {
        let u = http_object_url(url)?;
        let host = u.host.clone();
        let labels: Vec<&str> = host.split('.').collect();
        match labels.as_slice() {
            [bucket, region, "ufileos", "com"] => objects::checked(StoredObject {
                bucket: bucket.to_string(),
                key: u.key()?,
                region: Some(region.to_string()),
                local_endpoint: None,
            }),
            _ => Err(format!(
                "{url:?}: expected a US3 (UFile) object URL https://<bucket>.<region>.ufileos.com/<key>"
            )),
        }
    }

    /// US3's S3-compatible endpoint, `s3-<region>.ufileos.com` (UCloud documentation, US3 "AWS S3 Protocol
    /// Support"). SurferCloud's objects live on the same `ufileos.com` hosts (seed page 000), so the same endpoint
    /// is taken for it (a known guess, docs/simulator.md).
    /// `https://<bucket>.<region>.ufileos.com/<key>`, the form `stored_object` reads.
    fn object_url(&self, region: &str, bucket: &str, key: &str) -> Result<String, ObjectUrlError> {
        check_label("a region", region).map_err(ObjectUrlError::Region)?;
        check_label("a US3 (UFile) bucket name", bucket).map_err(ObjectUrlError::Bucket)?;
        let path = encode_key(key).map_err(ObjectUrlError::Key)?;
        Ok(format!("https://{bucket}.{region}.ufileos.com/{path}"))
    }

    fn storage_endpoint(&self, region: &str) -> Option<String> {
        Some(format!("https://s3-{region}.ufileos.com"))
    }

    /// US3's S3 gateway (UCloudDoc-Team/ufile `s3/s3_introduction.md`): UploadPart takes only 8 MB parts (the last
    /// one shorter; "8MB" read as 8 MiB, the unit of the same docs' s3cmd/rclone settings), at most 10,000 of them;
    /// S3's MD5 checks are not supported ("建议关闭") and its ETags are not S3's ("建议不依赖该 ETag"); HTTPS with
    /// the bucket in the host name only in cn-bj, hk, vn-sng, kr-seoul, bra-saopaulo, us-ca and us-ws, elsewhere
    /// path style.
    fn storage_profile(&self, region: &str, _endpoint: Option<&str>) -> StorageProfile {
        StorageProfile {
            addressing: if US3_VIRTUAL_HOSTED_HTTPS.contains(&region) {
                Addressing::VirtualHosted
            } else {
                Addressing::Path
            },
            fixed_part_size: Some(US3_PART_SIZE),
            md5_checks: false,
        }
    }

    /// The API key pair also signs US3 requests: US3's S3 page says ListBuckets lists "the buckets of the owner of
    /// the public/private key or token" (ucloud-us3.github.io, php-sdk "S3协议支持说明").
    fn storage_credentials(&self, settings: &Resolved) -> Result<StorageCredentials, ConfigError> {
        Ok(objects::credentials(
            settings.require_text(PUBLIC_KEY, "public key")?,
            &settings.require_secret(PRIVATE_KEY, "private key")?,
            settings.secret(SECURITY_TOKEN),
        ))
    }
}

/// The one part size US3's S3 gateway takes (UCloudDoc-Team/ufile `s3/s3_introduction.md`: "UploadPart 目前仅支持
/// 8MB 定长分片大小（最后一个分片允许小于 8MB）").
pub const US3_PART_SIZE: u64 = 8 << 20;

/// The US3 regions whose S3 gateway serves HTTPS with the bucket in the host name (same page: "目前华北（北京2），香港，
/// 胡志明，韩国（首尔），巴西（圣保罗），美国（洛杉矶），美国（华盛顿）地域已经支持https协议，其他地域可支持路径风格https").
const US3_VIRTUAL_HOSTED_HTTPS: [&str; 7] = [
    "cn-bj",
    "hk",
    "vn-sng",
    "kr-seoul",
    "bra-saopaulo",
    "us-ca",
    "us-ws",
];

/// Is `host` a UFile (US3) host, e.g. `<bucket>.cn-bj.ufileos.com`?
fn is_ufile_host(host: &str) -> bool {
    host.ends_with(".ufileos.com")
        || host.ends_with(".ufile.ucloud.cn")
        || host.ends_with(".ufile.ucloud.com.cn")
        || host.ends_with(".ufile.surfercloud.com")
}

#[derive(Deserialize, Default)]
struct CliCredential {
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    private_key: Option<String>,
    #[serde(default)]
    profile: Option<String>,
}

#[derive(Deserialize, Default)]
struct CliConfig {
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

fn profiles<T: for<'de> Deserialize<'de>>(path: PathBuf) -> Vec<T> {
    match read_profile_json::<OneOrMany<T>>(&path) {
        Some(OneOrMany::Many(v)) => v,
        Some(OneOrMany::One(t)) => vec![t],
        None => Vec::new(),
    }
}

/// The UCloud CLI's `~/.ucloud/credential.json` and `config.json`: the profile named by `UCLOUD_PROFILE`, else
/// the active one, else `default`.
fn cli_profile(env: &dyn Env) -> Profile {
    let mut out = Profile::new();
    let Some(home) = env.home_dir() else {
        return out;
    };
    let dir = home.join(".ucloud");
    let creds: Vec<CliCredential> = profiles(dir.join("credential.json"));
    let configs: Vec<CliConfig> = profiles(dir.join("config.json"));
    let wanted = env
        .var(PROFILE_ENV)
        .or_else(|| {
            configs
                .iter()
                .find(|c| c.active)
                .and_then(|c| c.profile.clone())
        })
        .unwrap_or_else(|| "default".to_string());
    let matches = |p: &Option<String>| p.as_deref().unwrap_or("default") == wanted;
    if let Some(c) = creds.into_iter().find(|c| matches(&c.profile)) {
        out.extend(c.public_key.map(|v| (PUBLIC_KEY, v)));
        out.extend(c.private_key.map(|v| (PRIVATE_KEY, v)));
    }
    if let Some(c) = configs.into_iter().find(|c| matches(&c.profile)) {
        out.extend(c.region.map(|v| (Param::Region.attribute(), v)));
        out.extend(c.project_id.map(|v| (PROJECT_ID, v)));
        out.extend(c.base_url.map(|v| (ENDPOINT, v)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::backend::resolve;
    use crate::cloud::settings::Settings;
    use crate::cloud::testutil::{env_with, home_with};

    #[test]
    fn ucloud_order_attrs_env_profile() {
        let home = home_with(&[
            (
                ".ucloud/credential.json",
                r#"[{"public_key":"pub-other","private_key":"x","profile":"other"},
                    {"public_key":"pub-file","private_key":"priv-file","profile":"default"}]"#,
            ),
            (
                ".ucloud/config.json",
                r#"[{"profile":"default","active":true,"region":"cn-file","project_id":"org-file","base_url":"https://api.ucloud.cn/"}]"#,
            ),
        ]);
        let none = Settings::default();
        // profile only
        let env = env_with(&[], Some(home.path()));
        let c = resolve(&UCLOUD, &none, &env);
        assert_eq!(c.text("public_key"), Some("pub-file"));
        assert_eq!(
            c.secret("private_key").map(|s| s.expose()),
            Some("priv-file")
        );
        assert_eq!(c.text("region"), Some("cn-file"));
        assert_eq!(c.text("project_id"), Some("org-file"));
        // env beats profile
        let env = env_with(
            &[
                ("UCLOUD_PUBLIC_KEY", "pub-env"),
                ("UCLOUD_REGION", "cn-env"),
            ],
            Some(home.path()),
        );
        let c = resolve(&UCLOUD, &none, &env);
        assert_eq!(c.text("public_key"), Some("pub-env"));
        assert_eq!(c.text("region"), Some("cn-env"));
        assert_eq!(
            c.secret("private_key").map(|s| s.expose()),
            Some("priv-file")
        );
        // attrs beat env
        let mut attrs = Settings::default();
        attrs.set("ucloud", "public_key", "pub-attr");
        let c = resolve(&UCLOUD, &attrs, &env);
        assert_eq!(c.text("public_key"), Some("pub-attr"));
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
        let c = resolve(&SURFERCLOUD, &Settings::default(), &env);
        assert_eq!(c.text("public_key"), Some("s-pub"));
        assert_eq!(c.secret("private_key").map(|s| s.expose()), Some("u-priv"));
    }

    #[test]
    fn us3_objects() {
        let o = UCLOUD
            .stored_object("https://images.cn-bj.ufileos.com/dir/a%20b.qcow2")
            .unwrap();
        assert_eq!(
            (o.bucket.as_str(), o.key.as_str(), o.region.as_deref()),
            ("images", "dir/a b.qcow2", Some("cn-bj"))
        );
        assert!(UCLOUD
            .stored_object("https://images.ufile.ucloud.cn/x.qcow2")
            .is_err());
        assert_eq!(
            SURFERCLOUD.storage_endpoint("hk").as_deref(),
            Some("https://s3-hk.ufileos.com")
        );
    }

    #[test]
    fn ufile_urls() {
        assert!(UCLOUD
            .check_source_url("https://b.cn-bj.ufileos.com/img.qcow2")
            .is_ok());
        assert!(UCLOUD
            .check_source_url("https://example.com/img.qcow2")
            .is_err());
    }
}
