//! Each cloud's own object storage, as the resource meets it: the object an `upload_to` or `source_url` names
//! ([`StoredObject`]), and how to reach the S3-compatible service holding it ([`storage_config`]) with the
//! credentials of the cloud's provider block.
//!
//! What differs per cloud is asked of its [`Backend`]: the URL forms of its objects
//! ([`Backend::stored_object`]), its default S3-compatible endpoint ([`Backend::storage_endpoint`]) and which of its
//! credentials sign storage requests ([`Backend::storage_credentials`]). What every cloud shares is here: loopback
//! URLs (a local S3-compatible server, path style), the `storage_endpoint` override and the
//! `inspect_source_url` switch every block carries.

use url::Url;

use super::backend::Backend;
use super::http::is_loopback_url;
use super::object_url::ObjectUrl;
use super::settings::{Kind, Resolved, Setting};
use super::storage::{check_bucket, check_key, Addressing, StorageConfig, StorageCredentials};
use super::{Cloud, ConfigError};

/// Declared beside [`ObjectUrl`], below [`Backend`] (whose `stored_object` gives one); named here too, where the
/// resource meets it.
pub use super::object_url::StoredObject;

/// The provider-block setting that overrides a cloud's object-storage endpoint.
pub const STORAGE_ENDPOINT: &str = "storage_endpoint";
/// The provider-block switch for plan-time reads of `source_url` objects.
pub const INSPECT_SOURCE_URL: &str = "inspect_source_url";

/// The two settings every block carries for its object storage; `endpoint_about` says what the default endpoint is
/// (or that there is none).
pub fn block_settings(service: &str, endpoint_about: &str) -> Vec<Setting> {
    vec![
        Setting::new(
            STORAGE_ENDPOINT,
            Kind::Endpoint,
            format!(
                "{service} endpoint for `source_file` uploads and `inspect_source_url` reads, as \
                 `https://host[:port]` (its S3-compatible API, AWS Signature V4 with this block's keys). \
                 {endpoint_about}"
            ),
        ),
        Setting::new(
            INSPECT_SOURCE_URL,
            Kind::Flag,
            format!(
                "Whether `terraform plan` of a new image reads the first sectors of its `source_url` objects from \
                 {service} (HeadObject and a few ranged GetObject calls with this block's keys) and checks them \
                 as it checks a `source_file`: that the object exists, its format and its boot mode. Storage that \
                 cannot be read (no permission, not reachable) is skipped with a logged warning; only a missing \
                 object or bucket fails the plan. Default: on, unless this block sets an API endpoint and no \
                 `{STORAGE_ENDPOINT}` (a private region or a test cloud, whose storage is not at the public \
                 endpoint). `false` turns it off."
            ),
        ),
    ]
}

/// Whether plans read the `source_url` objects of new images: as `inspect_source_url` says when it is set; else
/// unless the block points at another API (an endpoint other than `storage_endpoint` set) without saying where
/// its storage is (`storage_endpoint` unset), since the public storage endpoint would then be a guess.
pub fn inspects_source_url(settings: &Resolved) -> bool {
    settings.flag_if_set(INSPECT_SOURCE_URL).unwrap_or_else(|| {
        settings.text(STORAGE_ENDPOINT).is_some()
            || !settings.overrides_endpoint(&[STORAGE_ENDPOINT])
    })
}

/// Parses a path-style loopback URL `http://127.0.0.1:PORT/bucket/key`.
fn local_object(url: &ObjectUrl) -> Result<StoredObject, String> {
    let (bucket, key) = url.path_style()?;
    checked(StoredObject {
        bucket,
        key,
        region: None,
        local_endpoint: Some(url.origin()),
    })
}

/// Checks bucket and key against the rules the S3-compatible APIs share.
pub fn checked(object: StoredObject) -> Result<StoredObject, String> {
    check_bucket(&object.bucket).map_err(|e| e.to_string())?;
    check_key(&object.key).map_err(|e| e.to_string())?;
    Ok(object)
}

/// The object `url` names in `cloud`'s storage: a loopback URL path style (a local S3-compatible server, as the
/// simulator's tests use), else the backend's own URL forms. The key is exactly the bytes the URL's path spells
/// ([`ObjectUrl`]); a spelling that a URL parser would read as another key is refused.
pub fn stored_object(cloud: Cloud, url: &str) -> Result<StoredObject, String> {
    let parsed = ObjectUrl::parse(url)?;
    if parsed.is_loopback_http() {
        return local_object(&parsed.without_query(url)?);
    }
    cloud.backend().stored_object(url)
}

/// The object an `upload_to` names: as [`stored_object`], and with no query (the provider writes the object
/// itself, and a query is no part of its key).
pub fn upload_object(cloud: Cloud, url: &str) -> Result<StoredObject, String> {
    ObjectUrl::parse(url)?.without_query(url)?;
    stored_object(cloud, url)
}

/// How to reach `object` (of a resource in `region`) with the S3-compatible client: the block's
/// `storage_endpoint` when set, else a loopback URL's own server, else the backend's default endpoint for the
/// object's region (or the resource's). Local servers are addressed path style, the clouds virtual-hosted (OSS
/// takes nothing else). Credentials are the block's own.
pub fn storage_config(
    backend: &dyn Backend,
    settings: &Resolved,
    object: &StoredObject,
    region: &str,
) -> Result<StorageConfig, ConfigError> {
    let cloud = backend.cloud();
    let region = object.region.as_deref().unwrap_or(region);
    let endpoint = match (settings.text(STORAGE_ENDPOINT), &object.local_endpoint) {
        (Some(e), _) => e.to_string(),
        (None, Some(local)) => local.clone(),
        (None, None) => backend.storage_endpoint(region).ok_or_else(|| {
            ConfigError::new(
                cloud,
                format!(
                    "{cloud} has no default object-storage endpoint: set `{}.{STORAGE_ENDPOINT}` in the provider \
                     block to its S3-compatible endpoint",
                    backend.block().name
                ),
            )
        })?,
    };
    let mut profile = backend.storage_profile(region, settings.text(STORAGE_ENDPOINT));
    if matches!(Url::parse(&endpoint), Ok(u) if is_loopback_url(&u)) {
        profile.addressing = Addressing::Path;
    }
    let credentials = backend.storage_credentials(settings)?;
    StorageConfig::new(&endpoint, region, profile.addressing, credentials)
        .map(|c| c.with_profile(profile))
        .map_err(|e| ConfigError::new(cloud, e.to_string()))
}

/// Storage credentials from an access key pair and an optional session token.
pub fn credentials(
    access_key_id: String,
    secret: &super::Secret,
    token: Option<&super::Secret>,
) -> StorageCredentials {
    StorageCredentials {
        access_key_id,
        secret_access_key: secret.clone(),
        session_token: token.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::storage::Addressing;

    fn config_for(cloud: Cloud, url: &str, block: &[(&str, &str)]) -> StorageConfig {
        let mut s = crate::cloud::Settings::default();
        let name = cloud.backend().block().name;
        for (k, v) in block {
            s.set(name, k, v.to_string());
        }
        let object = stored_object(cloud, url).unwrap();
        crate::cloud::registry::storage(
            cloud,
            &s,
            &crate::cloud::MapEnv::default(),
            &object,
            "cn-bj2",
        )
        .unwrap()
    }

    /// US3: 8 MiB parts and no MD5 checks everywhere; virtual-hosted HTTPS only in its seven regions.
    #[test]
    fn each_service_gets_its_profile() {
        let keys = [("public_key", "pk"), ("private_key", "sk")];
        let hk = config_for(Cloud::UCloud, "https://bkt.hk.ufileos.com/k", &keys);
        assert_eq!(hk.addressing, Addressing::VirtualHosted);
        assert_eq!(hk.endpoint.as_str(), "https://s3-hk.ufileos.com/");
        assert_eq!((hk.fixed_part_size, hk.md5_checks), (Some(8 << 20), false));
        let sg = config_for(Cloud::SurferCloud, "https://bkt.sg.ufileos.com/k", &keys);
        assert_eq!(sg.addressing, Addressing::Path);
        let ali = [("access_key", "ak"), ("secret_key", "sk")];
        let oss = config_for(Cloud::AliCloud, "oss://bkt/k", &ali);
        assert_eq!(
            (oss.addressing, oss.md5_checks),
            (Addressing::VirtualHosted, true)
        );
        let mut cname = ali.to_vec();
        cname.push(("storage_endpoint", "https://images.example.com"));
        let c = config_for(Cloud::AliCloud, "oss://bkt/k", &cname);
        assert_eq!(c.addressing, Addressing::CustomDomain);
        cname[2].1 = "https://s3.oss-cn-beijing-internal.aliyuncs.com";
        let internal = config_for(Cloud::AliCloud, "oss://bkt/k", &cname);
        assert_eq!(internal.addressing, Addressing::VirtualHosted);
        // A loopback server is path style whatever the cloud.
        let local = config_for(Cloud::UCloud, "http://127.0.0.1:9/bkt/k", &keys);
        assert_eq!(local.addressing, Addressing::Path);
    }

    #[test]
    fn loopback_objects_are_path_style_on_every_cloud() {
        for c in Cloud::ALL {
            let o = stored_object(c, "http://127.0.0.1:9000/images/dir/a%20b.qcow2").unwrap();
            assert_eq!(o.bucket, "images");
            assert_eq!(o.key, "dir/a b.qcow2");
            assert_eq!(o.local_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            assert!(
                stored_object(c, "http://127.0.0.1:9000/images").is_err(),
                "{c}"
            );
            assert!(stored_object(c, "http://127.0.0.1:9000/Bad_Bucket/k").is_err());
        }
    }
}
