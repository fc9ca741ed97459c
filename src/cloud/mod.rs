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
    AlibabaSettings, ApsaraSettings, CloudSettings, Env, MapEnv, ProcessEnv, SignatureVersion,
    TencentSettings, UCloudSettings,
};
pub use types::{Cloud, DataDisk, Image, ImageState, ImageUpdate, ImportRequest};

use std::sync::Arc;

/// The operations the `cloudimage_custom_image` resource needs from any cloud.
#[async_trait::async_trait]
pub trait ImageApi: Send + Sync {
    /// Which cloud this client talks to.
    fn cloud(&self) -> Cloud;
    /// Starts an import and returns the new image id (the image is usually still importing).
    async fn import_image(&self, req: &ImportRequest) -> Result<String, CloudError>;
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
    _settings: &CloudSettings,
    _env: &dyn Env,
) -> Result<Arc<dyn ImageApi>, CloudError> {
    Err(CloudError::config(
        cloud,
        "client construction is not implemented yet",
    ))
}

/// The region to use when a resource does not set one (attribute -> env var -> CLI profile).
pub fn default_region(_cloud: Cloud, _settings: &CloudSettings, _env: &dyn Env) -> Option<String> {
    None
}
