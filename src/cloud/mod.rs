//! The cloud layer: one signed image-API client per cloud API family, behind [`ImageApi`], and everything else
//! that differs between clouds behind a [`Backend`] (declared in [`backend`]), listed once in the [`registry`].
//!
//! Each family has its folder (`ucloud/`, `tencent/`, `alibaba/`) holding its client, signature, provider-block
//! settings and credential lookup, rules, source-URL check and error hints. The resource logic only sees the types
//! here; nothing in this layer knows Terraform.

// `CloudError` carries code, message, request id and action by design (the contract), so it is
// larger than clippy's default threshold; callers of this layer may need the same allow.
#![allow(clippy::result_large_err)]

pub mod alibaba;
pub mod backend;
pub mod batch;
pub mod http;
pub mod object_url;
pub mod objects;
pub mod params;
pub mod registry;
pub mod rules;
pub mod settings;
pub mod sign;
pub mod source_url;
pub mod storage;
pub mod tencent;
pub mod ucloud;

mod env;
mod error;
mod guard;
mod json;
mod limiter;
mod ops;
mod secret;
#[cfg(test)]
mod testutil;
mod types;

pub use backend::Backend;
pub use env::{Env, MapEnv, ProcessEnv};
pub use error::{CloudError, ConfigError, ErrorKind};
pub use object_url::StoredObject;
pub use params::{OptionValue, Options, Param};
pub use registry::{backend, connect, default_region, Cloud};
pub use secret::Secret;
pub use settings::{SettingValue, Settings};
pub use types::{
    CopyRequest, DataDisk, Image, ImageFilter, ImageState, ImageUpdate, ImportRequest,
    ImportStarted, ListedPage,
};

/// The operations the `cloudimage_custom_image` resource needs from any cloud.
#[async_trait::async_trait]
pub trait ImageApi: Send + Sync {
    /// Which cloud this client talks to.
    fn cloud(&self) -> Cloud;
    /// Which account at which endpoint this client acts for (no secret in it): two clients with the same
    /// account see the same images. Used to key what the provider remembers between runs.
    fn account(&self) -> String;
    /// How many ids one [`ImageApi::describe_images`] call takes; the describe batcher never collects more. The
    /// client splits longer lists itself, but sequentially.
    fn describe_limit(&self) -> usize;
    /// Starts an import and returns the new image (usually still importing) and, where the cloud has one, its
    /// import task (which [`ImageApi::cancel_import`] takes).
    async fn import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError>;
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
    /// Page `page` (from 0) of the account's own custom images in `region`, narrowed by the cloud's native
    /// filters where it has them (never public, marketplace or shared images). Pages follow the cloud's
    /// documented page size; the caller matches `filter` exactly and stops when it has enough.
    async fn list_images(
        &self,
        region: &str,
        filter: &ImageFilter,
        page: usize,
    ) -> Result<ListedPage, CloudError>;
    /// The accounts `id` is shared with. A cloud without image sharing answers [`ErrorKind::Unsupported`] (the
    /// resource refuses `share_with_accounts` there at plan, from the cloud's rules).
    async fn image_shares(
        &self,
        _region: &str,
        _id: &str,
    ) -> Result<std::collections::BTreeSet<String>, CloudError> {
        Err(CloudError::unsupported(
            self.cloud(),
            "DescribeImageSharePermission",
            "this cloud has no image sharing",
        ))
    }
    /// Shares `id` with the accounts of `add` and stops sharing it with those of `remove`.
    async fn share_image(
        &self,
        _region: &str,
        _id: &str,
        _add: &[String],
        _remove: &[String],
    ) -> Result<(), CloudError> {
        Err(CloudError::unsupported(
            self.cloud(),
            "ModifyImageSharePermission",
            "this cloud has no image sharing",
        ))
    }
    /// Starts copying `req.source_id` into `req.region` and returns the copy's image ID there (the copy is listed
    /// as importing until it is done). A cloud without image copies answers [`ErrorKind::Unsupported`] (the
    /// resource refuses `copy` there at plan, from the cloud's rules).
    async fn copy_image(&self, _req: &CopyRequest) -> Result<String, CloudError> {
        Err(CloudError::unsupported(
            self.cloud(),
            "CopyImage",
            "this cloud has no image copy",
        ))
    }
    /// Why this client cannot copy images as configured (a setting the copy call needs and the provider block
    /// leaves unset), for the plan to say before anything is made; `None` when it can.
    fn copy_problem(&self) -> Option<String> {
        None
    }
    /// Starts the copies of `reqs` (of one image) and returns each copy's ID or error, in order. Clouds whose copy
    /// call takes several destinations (Tencent `SyncImages` `DestinationRegions`) make one call for them: each call
    /// counts against the cloud's rate limit, and copies that start together are waited for together.
    async fn copy_images(&self, reqs: &[CopyRequest]) -> Vec<Result<String, CloudError>> {
        futures_util::future::join_all(reqs.iter().map(|r| self.copy_image(r))).await
    }
    /// Cancels the running copy that makes `copy_id` in `region` (the cloud then removes the unfinished copy);
    /// `Ok(false)` where the cloud cannot cancel copies or `copy_id` is not being copied (the caller waits for
    /// the copy to end, then deletes it).
    async fn cancel_copy(&self, _region: &str, _copy_id: &str) -> Result<bool, CloudError> {
        Ok(false)
    }
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
