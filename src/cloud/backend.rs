//! What a backend is: everything that differs between clouds, asked of a [`Backend`], and [`resolve`], which reads
//! a backend's provider-block settings. The list of backends is the [`registry`](super::registry); this module
//! stands below it and below every backend, so a backend implements the trait without importing the list that
//! names it.

use std::sync::Arc;

use super::http::ClientOptions;
use super::object_url::StoredObject;
use super::rules::CloudRules;
use super::settings::{self, BlockSpec, Profile, Resolved, Settings};
use super::storage::{ObjectInfo, StorageCredentials, StorageProfile};
use super::{Cloud, CloudError, ConfigError, Env, ImageApi};

/// Everything the provider needs to know about one cloud besides its client's API calls.
pub trait Backend: Send + Sync {
    /// The cloud.
    fn cloud(&self) -> Cloud;

    /// The provider block that configures it, as plain data. Backends of one account share a block (ECS and ENS
    /// are both configured by `alicloud`).
    fn block(&self) -> BlockSpec;

    /// What the cloud's CLI profile files give, by setting name; read after attributes and environment variables.
    fn profile(&self, _env: &dyn Env) -> Profile {
        Profile::default()
    }

    /// Makes the client from the resolved settings.
    fn connect(
        &self,
        settings: &Resolved,
        options: &ClientOptions,
    ) -> Result<Arc<dyn ImageApi>, ConfigError>;

    /// What the cloud's import accepts.
    fn rules(&self) -> &'static CloudRules;

    /// Plan-time check that `url` (not a loopback URL, which every backend accepts for the simulator) is an object
    /// the cloud can import from.
    fn check_source_url(&self, url: &str) -> Result<(), String>;

    /// The object a source URL names, where the cloud accepts several spellings of one object (`oss://b/k` and
    /// `https://b.oss-<region>.aliyuncs.com/k`); `None` compares host and path.
    fn source_object(&self, _url: &str) -> Option<String> {
        None
    }

    /// What is wrong with an image name beyond length and control characters, by the cloud's documented rules.
    fn name_problem(&self, _name: &str) -> Option<String> {
        None
    }

    /// What is wrong with a description beyond control characters, by the cloud's documented rules.
    fn description_problem(&self, _description: &str) -> Option<String> {
        None
    }

    /// What is wrong with one tag, by the cloud's documented rules.
    fn tag_problems(&self, _key: &str, _value: &str) -> Vec<String> {
        Vec::new()
    }

    /// What the person running Terraform should do about an error only this cloud gives, if there is advice.
    fn hint(&self, _error: &CloudError) -> Option<&'static str> {
        None
    }

    /// The object `url` (an `upload_to` or `source_url`, not a loopback URL) names in this cloud's own object
    /// storage: bucket as its S3-compatible API spells it, key, and the storage region the URL names; an error
    /// naming the accepted forms otherwise.
    fn stored_object(&self, url: &str) -> Result<StoredObject, String>;

    /// The cloud's S3-compatible storage endpoint for a bucket in `region`, `None` where there is no public
    /// default (the block's `storage_endpoint` must then be set).
    fn storage_endpoint(&self, region: &str) -> Option<String>;

    /// The keys that sign storage requests: the block's own.
    fn storage_credentials(&self, settings: &Resolved) -> Result<StorageCredentials, ConfigError>;

    /// What the storage service requires beyond S3 for a bucket in `region`, reached at `endpoint` (the block's
    /// `storage_endpoint` when set): addressing, a fixed part size, whether it checks MD5s. Loopback endpoints are
    /// always addressed path style, whatever this says.
    fn storage_profile(&self, _region: &str, _endpoint: Option<&str>) -> StorageProfile {
        StorageProfile::default()
    }

    /// Why the cloud's import would refuse an object its storage holds, from what HeadObject tells (storage class,
    /// encryption), where the cloud documents such refusals.
    fn object_problem(&self, _info: &ObjectInfo) -> Option<String> {
        None
    }

    /// What the person running Terraform should do about a storage error only this cloud's storage gives.
    fn storage_hint(&self, _code: &str) -> Option<String> {
        None
    }

    /// The URL of object `key` in `bucket` in `region`, in the form this cloud's `source_url` and `upload_to` take
    /// (the key percent-encoded so that it reads back byte for byte); errors say what is wrong with an argument.
    fn object_url(&self, region: &str, bucket: &str, key: &str) -> Result<String, ObjectUrlError>;
}

/// Which argument of an object URL is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectUrlError {
    /// The region cannot be part of the URL.
    #[error("{0}")]
    Region(String),
    /// The bucket name is not one of this cloud's.
    #[error("{0}")]
    Bucket(String),
    /// The key cannot be kept as written.
    #[error("{0}")]
    Key(String),
}

/// A DNS label of a host name: what a bucket or region must be to stand in one.
pub fn check_label(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {s:?} must be 1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen"
        ))
    }
}

/// Resolves `backend`'s settings (see [`settings::resolve_block`]): each attribute of its block from `settings`,
/// else from its environment variables, else from the backend's CLI profile (read only when needed).
pub fn resolve(backend: &dyn Backend, settings: &Settings, env: &dyn Env) -> Resolved {
    settings::resolve_block(backend.cloud(), backend.block(), settings, env, || {
        backend.profile(env)
    })
}
