//! Tencent Cloud CVM: the client (JSON POSTs signed with TC3-HMAC-SHA256), the `tencentcloud` provider block and
//! its credential lookup (attributes, `TENCENTCLOUD_*`, the tccli profile), the rules, and the COS URL check.

pub mod client;
pub mod sign;

use std::sync::Arc;

use serde::Deserialize;

pub use client::TencentClient;

use crate::cloud::backend::{check_label, Backend, ObjectUrlError};
use crate::cloud::http::{self, ClientOptions};
use crate::cloud::object_url::encode_key;
use crate::cloud::objects::{self, StoredObject};
use crate::cloud::params::Param;
use crate::cloud::rules::{CloudRules, CopyRules, Take};
use crate::cloud::settings::{read_profile_json, BlockSpec, Kind, Profile, Resolved, Setting};
use crate::cloud::source_url::{http_object_host, http_object_url};
use crate::cloud::storage::StorageCredentials;
use crate::cloud::{Cloud, ConfigError, Env, ImageApi};

/// Default CVM endpoint.
pub const TENCENT_ENDPOINT: &str = "https://cvm.tencentcloudapi.com";

/// The variables naming the tccli profile to read, in order.
const PROFILE_ENV: [&str; 2] = ["TENCENTCLOUD_PROFILE", "TCCLI_PROFILE"];

const SECRET_ID: &str = "secret_id";
const SECRET_KEY: &str = "secret_key";
const SECURITY_TOKEN: &str = "security_token";
const ENDPOINT: &str = "endpoint";
const PLAN_DRY_RUN: &str = "plan_dry_run";

/// Tencent Cloud CVM.
#[derive(Debug)]
pub struct TencentBackend;

/// The Tencent Cloud backend.
pub static TENCENT: TencentBackend = TencentBackend;

/// What CVM's ImportImage takes (seed page 002; tencentcloud-sdk-go cvm/v20170312 models.go).
const RULES: CloudRules = CloudRules {
    name_len: (1, 60),
    name_starts_with_letter: false,
    takes: &[&[
        Take::new(Param::Region, "Region"),
        Take::new(Param::Name, "ImageName"),
        Take::new(Param::Description, "ImageDescription"),
        Take::new(Param::SourceUrl, "ImageUrl"),
        // ImportImage has no format parameter: CVM reads it from the file.
        Take::checked(Param::Format).one_of(&["raw", "vhd", "vmdk", "qcow2"]),
        Take::checked(Param::OsType)
            .one_of(&["linux", "windows"])
            .note("sent as `OsType` when `platform` is unset"),
        Take::new(Param::Platform, "OsType"),
        Take::new(Param::OsVersion, "OsVersion"),
        // `arm64` is sent as `arm_64` and `arm` read back as `arm64` (see `client`).
        Take::new(Param::Architecture, "Architecture")
            .one_of(&["x86_64", "i386", "arm64"])
            .note("ARM is `arm_64` on import and `arm` when described; the provider translates both to `arm64`"),
        Take::new(Param::BootMode, "BootMode").one_of(&["Legacy BIOS", "UEFI"]),
        Take::new(Param::LicenseType, "LicenseType").one_of(&["TencentCloud", "BYOL"]),
        Take::new(Param::Tags, "TagSpecification.N")
            .note("tags are set by the import; changing them needs Tencent's separate Tag API, which this provider does not call"),
        Take::new(Param::DataDisks, "ImportImageDataDiskList.N.ImageUrl"),
        Take::new(Param::ImageFamily, "ImageFamily"),
        Take::new(Param::Force, "Force"),
        // ModifyImageSharePermission (tencentcloud-sdk-go cvm/v20170312): root-account IDs, the image's region only.
        Take::new(Param::ShareWithAccounts, "ModifyImageSharePermission AccountIds")
            .note("shared with root-account IDs (not QQ numbers), in the image's region"),
        // SyncImages (tencentcloud-sdk-go cvm/v20170312 `SyncImagesRequest`).
        Take::new(Param::Copy, "SyncImages DestinationRegions, ImageName")
            .note("the copy keeps the image's description; Tencent encrypts only copies in the image's own region, so a copy to another region is not encrypted"),
    ]],
    in_place: &[Param::Name, Param::Description],
    required: &[Param::Platform, Param::OsVersion],
    // `InvalidImageName.Duplicate` (seed page 002).
    unique_names: true,
    // Tencent Cloud's tag documentation: at most 50 tags per resource.
    max_tags: 50,
    system_disk_sizes: (1, 2048),
    data_disk_sizes: None,
    // ImportImageDataDiskList carries the object only.
    data_disk_format: false,
    system_tag_prefixes: &["qcloud:"],
    uefi_only_architectures: &[],
    // "每个自定义镜像最多可共享给500个账户" (tencentcloud-sdk-go cvm/v20170312 client.go, ModifyImageSharePermission).
    max_shared_accounts: Some(500),
    // DeleteImages: `InvalidImageId.InShared` (tencentcloud-sdk-go cvm/v20170312 errors.go: "被共享的镜像，需要先取消
    // 共享关系，才能删除").
    delete_refused_while_shared: &["InvalidImageId.InShared"],
    // SyncImages takes ImageName, no description and no tags; `Encrypt` makes an encrypted copy in the source
    // region only (tencentcloud-sdk-go cvm/v20170312 `SyncImagesRequest`; cloud.tencent.com/document/api/213/44007).
    copies: Some(CopyRules {
        description: false,
        encryption: false,
        tags: false,
        max_copies: None,
    }),
    instead: &[],
};

impl Backend for TencentBackend {
    fn cloud(&self) -> Cloud {
        Cloud::TencentCloud
    }

    fn block(&self) -> BlockSpec {
        BlockSpec {
            name: "tencentcloud",
            description: "Tencent Cloud credentials and defaults.",
            settings: vec![
                Setting::new(SECRET_ID, Kind::Text, "SecretId.").env(["TENCENTCLOUD_SECRET_ID"], 1),
                Setting::new(SECRET_KEY, Kind::Secret, "SecretKey.")
                    .env(["TENCENTCLOUD_SECRET_KEY"], 1),
                Setting::new(SECURITY_TOKEN, Kind::Secret, "STS token.")
                    .env(["TENCENTCLOUD_SECURITY_TOKEN"], 1),
                Setting::new(
                    Param::Region.attribute(),
                    Kind::Region,
                    "Default region, e.g. `ap-guangzhou`.",
                )
                .env(["TENCENTCLOUD_REGION"], 1),
                Setting::new(ENDPOINT, Kind::Endpoint, "CVM API endpoint URL.")
                    .default_value(TENCENT_ENDPOINT),
                Setting::new(
                    PLAN_DRY_RUN,
                    Kind::Flag,
                    "When `true`, `terraform plan` of a new image asks Tencent Cloud to check the import: \
                     ImportImage with `DryRun` (the parameters are validated, nothing is imported). Default \
                     `false`: plans make no API call.",
                ),
            ]
            .into_iter()
            .chain(objects::block_settings(
                "COS",
                "Defaults to `https://cos.<region>.myqcloud.com`, the region taken from the object's host \
                 (`<bucket>-<appid>.cos.<region>.myqcloud.com`).",
            ))
            .collect(),
            env_summary: None,
            profile: Some(format!(
                "`~/.tccli/<profile>.credential` and `.configure` (profile from `{}` or `{}`, else `default`)",
                PROFILE_ENV[0], PROFILE_ENV[1]
            )),
        }
    }

    fn profile(&self, env: &dyn Env) -> Profile {
        cli_profile(env)
    }

    fn connect(
        &self,
        settings: &Resolved,
        options: &ClientOptions,
    ) -> Result<Arc<dyn ImageApi>, ConfigError> {
        let keys = client::Keys {
            secret_id: settings.require_text(SECRET_ID, "secret id")?,
            secret_key: settings.require_secret(SECRET_KEY, "secret key")?,
            token: settings.secret(SECURITY_TOKEN).cloned(),
        };
        let endpoint = http::endpoint(
            Cloud::TencentCloud,
            settings.text(ENDPOINT).unwrap_or(TENCENT_ENDPOINT),
        )?;
        Ok(Arc::new(
            TencentClient::new(endpoint, keys, options)?
                .with_plan_dry_run(settings.flag(PLAN_DRY_RUN)),
        ))
    }

    fn rules(&self) -> &'static CloudRules {
        &RULES
    }

    fn check_source_url(&self, url: &str) -> Result<(), String> {
        if is_cos_host(&http_object_host(url)?) {
            Ok(())
        } else {
            Err(format!(
                "{url:?}: expected a COS URL such as https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>"
            ))
        }
    }

    /// `https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>` (or `.tencentcos.cn`): the COS bucket name
    /// includes the APPID (COS documentation, SDK "Preparations": `BucketName-APPID`); the region is the host's
    /// third label.
    fn stored_object(&self, url: &str) -> Result<StoredObject, String> {
        let u = http_object_url(url)?;
        let host = u.host.clone();
        if !is_cos_host(&host) {
            return Err(format!(
                "{url:?}: expected a COS object URL https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>"
            ));
        }
        let labels: Vec<&str> = host.split('.').collect();
        let region = match labels.as_slice() {
            [_, "cos", region, _, _] => Some(region.to_string()),
            _ => None,
        };
        objects::checked(StoredObject {
            bucket: labels.first().copied().unwrap_or_default().to_string(),
            key: u.key()?,
            region,
            local_endpoint: None,
        })
    }

    /// COS's S3-compatible endpoint, `cos.<region>.myqcloud.com` (Tencent Cloud COS documentation, "Accessing COS
    /// with AWS S3 SDK").
    /// `https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>`: a COS bucket name ends in its APPID.
    fn object_url(&self, region: &str, bucket: &str, key: &str) -> Result<String, ObjectUrlError> {
        check_label("a region", region).map_err(ObjectUrlError::Region)?;
        check_label("a COS bucket name", bucket).map_err(ObjectUrlError::Bucket)?;
        let appid = bucket.rsplit_once('-').map(|(_, a)| a).unwrap_or_default();
        if appid.is_empty() || !appid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ObjectUrlError::Bucket(format!(
                "a COS bucket name ends in -<APPID>, e.g. images-1250000000; got {bucket:?}"
            )));
        }
        let path = encode_key(key).map_err(ObjectUrlError::Key)?;
        Ok(format!("https://{bucket}.cos.{region}.myqcloud.com/{path}"))
    }

    fn storage_endpoint(&self, region: &str) -> Option<String> {
        Some(format!("https://cos.{region}.myqcloud.com"))
    }

    /// SecretId and SecretKey sign COS's S3-compatible API too (same COS page), the STS token as
    /// `x-amz-security-token`.
    fn storage_credentials(&self, settings: &Resolved) -> Result<StorageCredentials, ConfigError> {
        Ok(objects::credentials(
            settings.require_text(SECRET_ID, "secret id")?,
            &settings.require_secret(SECRET_KEY, "secret key")?,
            settings.secret(SECURITY_TOKEN),
        ))
    }

    /// Tencent Cloud's tag documentation: keys starting with `qcloud`, `tencent` or `project` are reserved; keys
    /// have at most 127 characters and values at most 255.
    fn tag_problems(&self, key: &str, value: &str) -> Vec<String> {
        let cloud = Cloud::TencentCloud;
        let mut out = Vec::new();
        let l = key.to_ascii_lowercase();
        if ["qcloud", "tencent", "project"]
            .iter()
            .any(|p| l.starts_with(p))
        {
            out.push(format!(
                "on {cloud} tag keys starting with \"qcloud\", \"tencent\" or \"project\" are reserved; got {key:?}"
            ));
        }
        if key.chars().count() > 127 || value.chars().count() > 255 {
            out.push(format!(
                "on {cloud} a tag key has at most 127 characters and a value at most 255"
            ));
        }
        out
    }
}

/// Is `host` `<bucket>-<appid>.cos[d].<region>.myqcloud.com` (or `.tencentcos.cn`)?
fn is_cos_host(host: &str) -> bool {
    let Some((label, rest)) = host.split_once('.') else {
        return false;
    };
    let appid_ok = label.rsplit_once('-').is_some_and(|(b, id)| {
        !b.is_empty() && !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())
    });
    let domain_ok = rest.ends_with(".myqcloud.com") || rest.ends_with(".tencentcos.cn");
    let service_ok = rest.starts_with("cos.") || rest.starts_with("cosd.");
    appid_ok && domain_ok && service_ok
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

/// tccli's `~/.tccli/<profile>.credential` and `.configure` (profile from `TENCENTCLOUD_PROFILE`, `TCCLI_PROFILE`,
/// else `default`).
fn cli_profile(env: &dyn Env) -> Profile {
    let mut out = Profile::new();
    let profile = env
        .first_var(&PROFILE_ENV)
        .unwrap_or_else(|| "default".to_string());
    let Some(home) = env.home_dir() else {
        return out;
    };
    if profile.contains(['/', '\\']) {
        return out;
    }
    let dir = home.join(".tccli");
    if let Some(c) =
        read_profile_json::<TccliCredential>(&dir.join(format!("{profile}.credential")))
    {
        out.extend(c.secret_id.map(|v| (SECRET_ID, v)));
        out.extend(c.secret_key.map(|v| (SECRET_KEY, v)));
        out.extend(c.token.map(|v| (SECURITY_TOKEN, v)));
    }
    if let Some(c) = read_profile_json::<TccliConfigure>(&dir.join(format!("{profile}.configure")))
    {
        out.extend(c.sys_param.region.map(|v| (Param::Region.attribute(), v)));
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
    fn tencent_order() {
        let home = home_with(&[
            (
                ".tccli/default.credential",
                r#"{"secretId":"id-file","secretKey":"key-file"}"#,
            ),
            (
                ".tccli/default.configure",
                r#"{"_sys_param":{"region":"ap-file","output":"json"},"cvm":{"endpoint":"cvm.tencentcloudapi.com"}}"#,
            ),
            (
                ".tccli/p2.credential",
                r#"{"secretId":"id-p2","secretKey":"key-p2"}"#,
            ),
        ]);
        let none = Settings::default();
        let env = env_with(&[], Some(home.path()));
        let c = resolve(&TENCENT, &none, &env);
        assert_eq!(c.text("secret_id"), Some("id-file"));
        assert_eq!(c.text("region"), Some("ap-file"));
        let env = env_with(&[("TENCENTCLOUD_PROFILE", "p2")], Some(home.path()));
        assert_eq!(
            resolve(&TENCENT, &none, &env).text("secret_id"),
            Some("id-p2")
        );
        let env = env_with(
            &[
                ("TENCENTCLOUD_SECRET_ID", "id-env"),
                ("TENCENTCLOUD_REGION", "ap-env"),
            ],
            Some(home.path()),
        );
        let c = resolve(&TENCENT, &none, &env);
        assert_eq!(c.text("secret_id"), Some("id-env"));
        assert_eq!(c.secret("secret_key").map(|s| s.expose()), Some("key-file"));
        assert_eq!(c.text("region"), Some("ap-env"));
        let mut attrs = Settings::default();
        attrs.set("tencentcloud", "secret_id", "id-attr");
        assert_eq!(
            resolve(&TENCENT, &attrs, &env).text("secret_id"),
            Some("id-attr")
        );
    }

    #[test]
    fn cos_objects() {
        let o = TENCENT
            .stored_object("https://images-1250000000.cos.ap-guangzhou.myqcloud.com/a/b.raw")
            .unwrap();
        assert_eq!(
            (o.bucket.as_str(), o.key.as_str(), o.region.as_deref()),
            ("images-1250000000", "a/b.raw", Some("ap-guangzhou"))
        );
        let d = TENCENT
            .stored_object("http://111-1251233127.cosd.myqcloud.com/x.vmdk")
            .unwrap();
        assert_eq!(d.region, None);
        assert!(TENCENT
            .stored_object("https://images.cos.ap-guangzhou.myqcloud.com/a")
            .is_err());
    }

    #[test]
    fn cos_urls() {
        assert!(TENCENT
            .check_source_url("https://b-1250000000.cos.ap-guangzhou.myqcloud.com/i.qcow2")
            .is_ok());
        assert!(TENCENT
            .check_source_url("https://b.cos.ap-guangzhou.myqcloud.com/i.qcow2")
            .is_err());
    }
}
