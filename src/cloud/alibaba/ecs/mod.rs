//! Alibaba Cloud ECS images (version 2014-05-26), also used for Apsara Stack's ECS (see [`super::apsara`], and [`gateway`] for how its calls are shaped): the
//! client, and how the `alicloud` block (shared with ENS) makes it.

pub mod gateway;
pub mod params;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use url::Url;

pub use params::{
    copy_params, images_of, import_params, map_state, parse_image, ALL_STATUSES, ECS_VERSION,
};

use self::gateway::{ApsaraApiStyle, Tenant};
use super::rpc::{dry_run_passed, share_accounts, valid_region, AcsRpc, RpcTarget};
use super::{account, rules};
use crate::cloud::guard::{answered_or_found, guarded_import, image_id};
use crate::cloud::http::{self, ClientOptions, Failure};
use crate::cloud::json::{arr_field, str_field};
use crate::cloud::ops::{self, Page, PAGE};
use crate::cloud::settings::Resolved;
use crate::cloud::{
    Cloud, CloudError, ConfigError, CopyRequest, ErrorKind, Image, ImageApi, ImageUpdate,
    ImportRequest, ImportStarted,
};
use crate::cloud::{ImageFilter, ListedPage};

/// Makes the public ECS client from the `alicloud` block.
pub(super) fn connect(
    settings: &Resolved,
    options: &ClientOptions,
) -> Result<Arc<dyn ImageApi>, ConfigError> {
    let cloud = Cloud::AliCloud;
    let rpc = account::rpc(cloud, settings, options)?;
    let endpoint = settings
        .text(account::ECS_ENDPOINT)
        .map(|e| http::endpoint(cloud, e))
        .transpose()?;
    Ok(Arc::new(
        EcsClient::new(rpc, EcsFlavor::Public { endpoint })
            .with_plan_dry_run(settings.flag(account::PLAN_DRY_RUN)),
    ))
}

/// Which deployment the ECS API is reached through.
#[derive(Debug, Clone)]
pub enum EcsFlavor {
    /// Public Alibaba Cloud: `https://ecs.<region>.aliyuncs.com` unless overridden.
    Public {
        /// Endpoint override (used for every region).
        endpoint: Option<Url>,
    },
    /// Apsara Stack gateway.
    Apsara {
        /// Gateway base URL.
        gateway: Url,
        /// The organization (`x-acs-organizationid`, `Department`, `OrganizationId`).
        organization_id: Option<String>,
        /// The resource set (`x-acs-resourcegroupid`, `ResourceGroup`).
        resource_group_id: Option<String>,
        /// ECS endpoint (default) or route gateway.
        style: ApsaraApiStyle,
    },
}

impl EcsFlavor {
    /// The Apsara Stack organization and resource set calls are made for (none on public ECS).
    fn tenant(&self) -> Tenant<'_> {
        match self {
            EcsFlavor::Public { .. } => Tenant::default(),
            EcsFlavor::Apsara {
                organization_id,
                resource_group_id,
                ..
            } => Tenant {
                organization_id: organization_id.as_deref(),
                resource_group_id: resource_group_id.as_deref(),
            },
        }
    }
}

/// Client for ECS-style image APIs (public ECS or Apsara Stack).
#[derive(Debug)]
pub struct EcsClient {
    rpc: AcsRpc,
    flavor: EcsFlavor,
    plan_dry_run: bool,
}

impl EcsClient {
    /// Builds a client over an RPC transport.
    pub fn new(rpc: AcsRpc, flavor: EcsFlavor) -> Self {
        EcsClient {
            rpc,
            flavor,
            plan_dry_run: false,
        }
    }

    /// Makes [`ImageApi::check_import`] send ImportImage with `DryRun=true` on public ECS (off by default: no
    /// provider setting turns it on yet).
    pub fn with_plan_dry_run(mut self, on: bool) -> Self {
        self.plan_dry_run = on;
        self
    }

    fn cloud_id(&self) -> Cloud {
        self.rpc.core.cloud
    }

    fn target(&self, action: &str, region: &str) -> Result<RpcTarget, CloudError> {
        match &self.flavor {
            EcsFlavor::Public { endpoint } => {
                let url = match endpoint {
                    Some(u) => u.clone(),
                    None => {
                        let r = valid_region(self.cloud_id(), region)?;
                        Url::parse(&format!("https://ecs.{r}.aliyuncs.com/")).map_err(|e| {
                            ConfigError::new(self.cloud_id(), format!("bad ECS endpoint: {e}"))
                        })?
                    }
                };
                Ok(RpcTarget {
                    url,
                    version: ECS_VERSION,
                    headers: Vec::new(),
                })
            }
            EcsFlavor::Apsara { gateway, style, .. } => {
                gateway::target(gateway, *style, action, region, self.flavor.tenant())
            }
        }
    }

    async fn call(
        &self,
        action: &str,
        region: &str,
        params: &BTreeMap<String, String>,
        idempotent: bool,
    ) -> Result<Value, Failure> {
        let target = self.target(action, region).map_err(Failure::Definite)?;
        let params = match &self.flavor {
            EcsFlavor::Apsara { style, .. } => {
                gateway::style_params(*style, action, region, self.flavor.tenant(), params)
            }
            EcsFlavor::Public { .. } => params.clone(),
        };
        self.rpc
            .call(&target, action, region, &params, idempotent)
            .await
    }

    fn bad_request(&self, action: &str, msg: String) -> CloudError {
        CloudError::new(
            self.cloud_id(),
            ErrorKind::InvalidParameter,
            action,
            "InvalidSourceUrl",
            msg,
            None,
        )
    }

    async fn set_tags(
        &self,
        region: &str,
        id: &str,
        want: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let current = self
            .describe_images(region, &[id.to_string()])
            .await?
            .into_iter()
            .next()
            .map(|i| i.tags)
            .unwrap_or_default();
        // Tags outside the user's set are left alone: the cloud's own (`acs:`, `aliyun`) and the create marker
        // (`cloudimage:`) that proves which configuration made the image.
        let remove: Vec<&String> = current
            .keys()
            .filter(|k| !want.contains_key(*k))
            .filter(|k| !rules::ECS.is_system_tag(k) && !k.starts_with("cloudimage:"))
            .collect();
        let base = |p: &mut BTreeMap<String, String>| {
            p.insert("RegionId".into(), region.to_string());
            p.insert("ResourceType".into(), "image".into());
            p.insert("ResourceId.1".into(), id.to_string());
        };
        if !remove.is_empty() {
            let mut p = BTreeMap::new();
            base(&mut p);
            for (i, k) in remove.iter().enumerate() {
                p.insert(format!("TagKey.{}", i + 1), (*k).clone());
            }
            self.call("UntagResources", region, &p, true).await?;
        }
        let add: Vec<(&String, &String)> = want
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .collect();
        if !add.is_empty() {
            let mut p = BTreeMap::new();
            base(&mut p);
            for (i, (k, v)) in add.iter().enumerate() {
                p.insert(format!("Tag.{}.Key", i + 1), (*k).clone());
                p.insert(format!("Tag.{}.Value", i + 1), (*v).clone());
            }
            self.call("TagResources", region, &p, true).await?;
        }
        Ok(())
    }

    async fn import_public(
        &self,
        req: &ImportRequest,
        params: BTreeMap<String, String>,
    ) -> Result<ImportStarted, CloudError> {
        // ClientToken makes the call idempotent, so a call without an answer (a time-out, a dropped connection, a
        // 5xx) may be sent again. But a gateway that answers after the client's time-out has usually made the image
        // already: before each new send the image is looked up by name and the tags this import set (the create's
        // fingerprint tag among them), so a slow gateway costs one time-out, not one per try.
        let retry = &self.rpc.core.retry;
        let max = retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.call("ImportImage", &req.region, &params, false).await {
                // The answer carries the import's TaskId, which CancelTask takes (ecs-20140526
                // ImportImageResponseBody: ImageId, RegionId, RequestId, TaskId).
                Ok(v) => {
                    return Ok(ImportStarted {
                        image_id: image_id(self.cloud_id(), "ImportImage", &v)?,
                        task_id: str_field(&v, "TaskId").filter(|t| !t.is_empty()),
                    })
                }
                Err(Failure::Ambiguous(e)) if attempt < max => {
                    if let Some(id) = self.made_by(&req.region, &req.name, &req.tags).await {
                        tracing::info!(cloud = %self.cloud_id(), region = %req.region, image = %id,
                            "the unanswered import made its image; not sending it again");
                        return Ok(ImportStarted::of(id));
                    }
                    tracing::debug!(cloud = %self.cloud_id(), attempt, error = %e,
                        "import unanswered and no image found; sending it again with its ClientToken");
                    tokio::time::sleep(retry.delay(attempt)).await;
                    attempt += 1;
                }
                Err(f) => {
                    return Err(self
                        .with_existing(f.into_error(), &req.region, &req.name)
                        .await)
                }
            }
        }
    }

    /// The image an unanswered import or copy made in `region`, if the cloud lists it already: its `name`, and every
    /// tag the call set (without tags a same-named image proves nothing, and the tokened call is sent again
    /// instead).
    async fn made_by(
        &self,
        region: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Option<String> {
        if tags.is_empty() {
            return None;
        }
        let found = self.find_images_by_name(region, name).await.ok()?;
        found
            .into_iter()
            .find(|i| tags.iter().all(|(k, v)| i.tags.get(k) == Some(v)))
            .map(|i| i.id)
    }

    /// Public ECS CopyImage, sent with its `ClientToken`: like ImportImage (see [`Self::import_public`]) a call left
    /// unanswered may be sent again with the same token, after a look in the destination region for the copy it
    /// may have made (its name and tags). That the token returns the first copy is documented for ImportImage, not
    /// for CopyImage ("ensure the idempotence of the request" only): a guess by analogy, docs/simulator.md.
    async fn copy_public(
        &self,
        req: &CopyRequest,
        params: BTreeMap<String, String>,
    ) -> Result<String, CloudError> {
        let retry = &self.rpc.core.retry;
        let max = retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            match self
                .call("CopyImage", &req.source_region, &params, false)
                .await
            {
                Ok(v) => return image_id(self.cloud_id(), "CopyImage", &v),
                Err(Failure::Ambiguous(e)) if attempt < max => {
                    if let Some(id) = self.made_by(&req.region, &req.name, &req.tags).await {
                        tracing::info!(cloud = %self.cloud_id(), region = %req.region, image = %id,
                            "the unanswered copy made its image; not sending it again");
                        return Ok(id);
                    }
                    tracing::debug!(cloud = %self.cloud_id(), attempt, error = %e,
                        "copy unanswered and no copy found; sending it again with its ClientToken");
                    tokio::time::sleep(retry.delay(attempt)).await;
                    attempt += 1;
                }
                Err(f) => {
                    return Err(self
                        .with_existing(f.into_error(), &req.region, &req.name)
                        .await)
                }
            }
        }
    }

    /// A call Apsara Stack takes without a token (ImportImage, CopyImage: the official provider sends none), made
    /// in `call_region`, that makes an image named `name` in `region`: a call that may have reached the cloud is
    /// never sent again, the image is looked for by name instead (ECS names are unique per region:
    /// `InvalidImageName.Duplicated`); an answer without an `ImageId` (Apsara's ImportImage documents only a
    /// RequestID) is settled the same way.
    async fn untokened_apsara(
        &self,
        action: &str,
        call_region: &str,
        region: &str,
        name: &str,
        params: BTreeMap<String, String>,
    ) -> Result<String, CloudError> {
        let lookup = || self.find_images_by_name(region, name);
        let answered = guarded_import(
            &self.rpc.core.retry,
            || async {
                let v = self.call(action, call_region, &params, false).await?;
                Ok(str_field(&v, "ImageId").unwrap_or_default())
            },
            lookup,
        )
        .await?;
        answered_or_found(
            self.cloud_id(),
            action,
            name,
            &self.rpc.core.retry,
            answered,
            lookup,
        )
        .await
    }

    /// A `Duplicate` error with the id of the image that holds the name in `region`, when a lookup finds it.
    async fn with_existing(&self, mut e: CloudError, region: &str, name: &str) -> CloudError {
        if let ErrorKind::Duplicate { existing_id } = &mut e.kind {
            if let Ok(found) = self.find_images_by_name(region, name).await {
                *existing_id = found.first().map(|i| i.id.clone());
            }
        }
        e
    }
}

#[async_trait::async_trait]
impl ImageApi for EcsClient {
    fn cloud(&self) -> Cloud {
        self.cloud_id()
    }

    async fn import(&self, req: &ImportRequest) -> Result<ImportStarted, CloudError> {
        match self.flavor {
            EcsFlavor::Public { .. } => {
                let params =
                    import_params(req, true).map_err(|m| self.bad_request("ImportImage", m))?;
                self.import_public(req, params).await
            }
            EcsFlavor::Apsara { .. } => {
                let params =
                    gateway::import_params(req).map_err(|m| self.bad_request("ImportImage", m))?;
                self.untokened_apsara("ImportImage", &req.region, &req.region, &req.name, params)
                    .await
                    .map(ImportStarted::of)
            }
        }
    }

    /// ImportImage with `DryRun=true`: "checks the request for potential issues ... If the request passes the dry
    /// run, the `DryRunOperation` error code is returned" (alibabacloud-go/ecs-20140526
    /// client/import_image_request_model.go); the ImportImage error table says 400 `DRYRUN.SUCCESS` instead, so
    /// both pass ([`dry_run_passed`]). Without `ClientToken`: a dry run makes nothing, and the plan has no token
    /// yet. A plain success counts too, as for Tencent. Apsara Stack's ImportImage page lists no `DryRun`.
    async fn check_import(&self, req: &ImportRequest) -> Result<bool, CloudError> {
        if !self.plan_dry_run || !matches!(self.flavor, EcsFlavor::Public { .. }) {
            return Ok(false);
        }
        let mut params =
            import_params(req, true).map_err(|m| self.bad_request("ImportImage", m))?;
        params.remove("ClientToken");
        params.insert("DryRun".into(), "true".into());
        match self.call("ImportImage", &req.region, &params, true).await {
            Ok(_) => Ok(true),
            Err(f) => {
                let e = f.into_error();
                if dry_run_passed(&e.code) {
                    Ok(true)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// ECS CancelTask (RegionId, TaskId; ecs-20140526 CancelTaskRequest), which cancels running ImportImage and
    /// ExportImage tasks (Alibaba Cloud ECS API reference, CancelTask). Without the task, DescribeTasks finds it:
    /// TaskAction `ImportImage` and ResourceIds.N name the image; each Task has TaskId, ResourceId and
    /// TaskStatus (ecs-20140526 DescribeTasksRequest / DescribeTasksResponseBodyTaskSetTask). The Apsara Stack
    /// gateway's operation list has neither call, so there the caller waits instead.
    async fn cancel_import(
        &self,
        region: &str,
        image_id: &str,
        task_id: Option<&str>,
    ) -> Result<bool, CloudError> {
        if !matches!(self.flavor, EcsFlavor::Public { .. }) {
            return Ok(false);
        }
        let task = match task_id {
            Some(t) => t.to_string(),
            None => {
                let p = ops::params([
                    ("RegionId", region),
                    ("TaskAction", "ImportImage"),
                    ("ResourceIds.1", image_id),
                ]);
                let v = self.call("DescribeTasks", region, &p, true).await?;
                let running = v
                    .get("TaskSet")
                    .map(|s| arr_field(s, "Task"))
                    .unwrap_or(&[])
                    .iter()
                    .find(|t| {
                        str_field(t, "ResourceId").as_deref() == Some(image_id)
                            && matches!(
                                str_field(t, "TaskStatus").as_deref(),
                                Some("Processing" | "Waiting")
                            )
                    })
                    .and_then(|t| str_field(t, "TaskId"));
                match running {
                    Some(t) => t,
                    None => return Ok(false),
                }
            }
        };
        let p = ops::params([("RegionId", region), ("TaskId", &task)]);
        self.call("CancelTask", region, &p, true).await?;
        Ok(true)
    }

    fn account(&self) -> String {
        let place = match &self.flavor {
            EcsFlavor::Public { endpoint } => endpoint
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_else(|| "ecs.aliyuncs.com".into()),
            EcsFlavor::Apsara { gateway, .. } => gateway.to_string(),
        };
        format!("{place} {}", self.rpc.access_key())
    }

    /// DescribeImages takes up to 100 comma-separated `ImageId`s.
    fn describe_limit(&self) -> usize {
        PAGE
    }

    async fn describe_images(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<Image>, CloudError> {
        // `InvalidImageId.NotFound` means gone (aliyun/terraform-provider-alicloud alicloud/service_alicloud_ecs_v2.go
        // `describeEcsImage`); for a list it is not known which id it names, so the ids are asked one by one.
        ops::describe_in_chunks(ids, PAGE, ops::not_found, |chunk| async move {
            let p = ops::params([
                ("RegionId", region),
                ("ImageId", &chunk.join(",")),
                ("Status", ALL_STATUSES),
                ("PageSize", &PAGE.to_string()),
            ]);
            let v = self.call("DescribeImages", region, &p, true).await?;
            Ok(images_of(&v))
        })
        .await
    }

    async fn find_images_by_name(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Vec<Image>, CloudError> {
        ops::find_by_name(name, |page| async move {
            let p = ops::params([
                ("RegionId", region),
                ("ImageName", name),
                ("ImageOwnerAlias", "self"),
                ("Status", ALL_STATUSES),
                ("PageSize", &PAGE.to_string()),
                ("PageNumber", &(page + 1).to_string()),
            ]);
            let v = self.call("DescribeImages", region, &p, true).await?;
            Ok(Page::of(images_of(&v), &v))
        })
        .await
    }

    async fn list_images(
        &self,
        region: &str,
        filter: &ImageFilter,
        page: usize,
    ) -> Result<ListedPage, CloudError> {
        // DescribeImages (alibabacloud-go/ecs-20140526 `DescribeImagesRequest`): `ImageOwnerAlias=self` for the
        // account's own images, every `Status` (the default is Available only), `ImageName` fuzzy, `Tag.N` (1-20)
        // on public ECS, `PageSize` at most 100.
        let mut p = ops::params([
            ("RegionId", region),
            ("ImageOwnerAlias", "self"),
            ("Status", ALL_STATUSES),
            ("PageSize", &PAGE.to_string()),
            ("PageNumber", &(page + 1).to_string()),
        ]);
        if let Some(name) = &filter.name_contains {
            p.insert("ImageName".into(), name.clone());
        }
        if matches!(self.flavor, EcsFlavor::Public { .. }) {
            for (i, (k, v)) in filter.tags.iter().take(20).enumerate() {
                p.insert(format!("Tag.{}.Key", i + 1), k.clone());
                p.insert(format!("Tag.{}.Value", i + 1), v.clone());
            }
        }
        let v = self.call("DescribeImages", region, &p, true).await?;
        let Page { images, total } = Page::of(images_of(&v), &v);
        let n = images.len();
        Ok(ListedPage::new(images, n, page, PAGE, total))
    }

    /// DescribeImageSharePermission (alibabacloud-go/ecs-20140526): `PageSize` at most 100, the accounts in
    /// `Accounts.Account[].AliyunId`.
    async fn image_shares(&self, region: &str, id: &str) -> Result<BTreeSet<String>, CloudError> {
        share_accounts("AliyunId", SHARE_PAGE, |page| async move {
            let p = ops::params([
                ("RegionId", region),
                ("ImageId", id),
                ("PageSize", &SHARE_PAGE.to_string()),
                ("PageNumber", &page.to_string()),
            ]);
            Ok(self
                .call("DescribeImageSharePermission", region, &p, true)
                .await?)
        })
        .await
    }

    /// ModifyImageSharePermission (alibabacloud-go/ecs-20140526): `AddAccount.N` / `RemoveAccount.N`, N 1 to 10 (more
    /// are ignored, so longer lists go in several calls).
    async fn share_image(
        &self,
        region: &str,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), CloudError> {
        for (field, accounts) in [("AddAccount", add), ("RemoveAccount", remove)] {
            for chunk in accounts.chunks(SHARE_CALL) {
                let mut p = ops::params([("RegionId", region), ("ImageId", id)]);
                for (i, account) in chunk.iter().enumerate() {
                    p.insert(format!("{field}.{}", i + 1), account.clone());
                }
                self.call("ModifyImageSharePermission", region, &p, true)
                    .await?;
            }
        }
        Ok(())
    }

    /// CopyImage (alibabacloud-go/ecs-20140526 `CopyImageRequest`, see [`copy_params`]): the answer's `ImageId` is
    /// the copy's, in the destination region, where DescribeImages lists it as `Waiting` (queued) or `Creating` with
    /// `Progress` until it is `Available` (or `CreateFailed`): [`ALL_STATUSES`] keeps it visible meanwhile.
    async fn copy_image(&self, req: &CopyRequest) -> Result<String, CloudError> {
        match self.flavor {
            EcsFlavor::Public { .. } => self.copy_public(req, copy_params(req, true)).await,
            EcsFlavor::Apsara { .. } => {
                self.untokened_apsara(
                    "CopyImage",
                    &req.source_region,
                    &req.region,
                    &req.name,
                    copy_params(req, false),
                )
                .await
            }
        }
    }

    /// CancelCopyImage (`RegionId` = the copy's region, `ImageId` = the copy; alibabacloud-go/ecs-20140526
    /// `CancelCopyImageRequest`): "the image that was being created in the destination region is automatically
    /// deleted" (Alibaba Cloud ECS API reference, CancelCopyImage). Its 400 `IncorrectImageStatus` (copy finished,
    /// failed or not copying), `ImageCreatedNotFromCopy` (not a copy) and `CancelNotSupported` mean nothing was
    /// cancelled: `Ok(false)`, and the caller waits and deletes instead. Apsara Stack: no official source calls
    /// CancelCopyImage there (research 19), so it is not tried.
    async fn cancel_copy(&self, region: &str, copy_id: &str) -> Result<bool, CloudError> {
        if !matches!(self.flavor, EcsFlavor::Public { .. }) {
            return Ok(false);
        }
        let p = ops::params([("RegionId", region), ("ImageId", copy_id)]);
        match self.call("CancelCopyImage", region, &p, true).await {
            Ok(_) => Ok(true),
            Err(f) => {
                let e = f.into_error();
                if matches!(
                    e.code.as_str(),
                    "IncorrectImageStatus" | "ImageCreatedNotFromCopy" | "CancelNotSupported"
                ) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn update_image(
        &self,
        region: &str,
        id: &str,
        update: &ImageUpdate,
    ) -> Result<(), CloudError> {
        if update.name.is_some() || update.description.is_some() {
            let mut p = ops::params([("RegionId", region), ("ImageId", id)]);
            if let Some(n) = &update.name {
                p.insert("ImageName".into(), n.clone());
            }
            if let Some(d) = &update.description {
                p.insert("Description".into(), d.clone());
            }
            self.call("ModifyImageAttribute", region, &p, true).await?;
        }
        if let Some(tags) = &update.tags {
            match self.flavor {
                EcsFlavor::Public { .. } => self.set_tags(region, id, tags).await?,
                EcsFlavor::Apsara { .. } => {
                    return Err(CloudError::unsupported(
                        self.cloud_id(),
                        "TagResources",
                        "changing image tags is not supported on Apsara Stack by this provider",
                    ))
                }
            }
        }
        Ok(())
    }

    async fn delete_image(&self, region: &str, id: &str) -> Result<(), CloudError> {
        let p = ops::params([("RegionId", region), ("ImageId", id)]);
        ops::delete_answered(|| self.call("DeleteImage", region, &p, true)).await
    }
}

/// Accounts one ModifyImageSharePermission call takes (`AddAccount.N`, N 1 to 10).
const SHARE_CALL: usize = 10;
/// DescribeImageSharePermission's largest page.
const SHARE_PAGE: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alibaba::rpc::{Keys, SignatureVersion};
    use crate::cloud::alibaba::sign::acs_rpc_signature;
    use crate::cloud::testutil::{fast_options, serve, Recorded};
    use crate::cloud::{DataDisk, Secret};
    use crate::cloud::{Options, Param};

    fn client(url: &str, sig: SignatureVersion) -> EcsClient {
        let rpc = AcsRpc::new(
            Cloud::AliCloud,
            Keys {
                access_key: "ak".into(),
                secret: Secret::new("sk"),
                token: Some(Secret::new("tok")),
            },
            sig,
            &fast_options(),
        )
        .unwrap();
        EcsClient::new(
            rpc,
            EcsFlavor::Public {
                endpoint: Some(Url::parse(url).unwrap()),
            },
        )
    }

    fn req() -> ImportRequest {
        ImportRequest {
            region: "cn-hangzhou".into(),
            name: "img".into(),
            source_url: "oss://bkt/sys.qcow2".into(),
            options: Options::of([
                (Param::Format, "qcow2".into()),
                (Param::OsType, "linux".into()),
                (Param::Platform, "Ubuntu".into()),
                (Param::Architecture, "x86_64".into()),
            ]),
            tags: [("env".to_string(), "dev".to_string())].into(),
            data_disks: vec![DataDisk {
                source_url: "https://bkt.oss-cn-hangzhou.aliyuncs.com/data.raw".into(),
                format: Some("raw".into()),
                size_gb: Some(40),
            }],
            idempotency_token: "tok-123".into(),
            ..Default::default()
        }
    }

    #[test]
    fn import_params_from_one() {
        let p = import_params(&req(), true).unwrap();
        assert_eq!(p["DiskDeviceMapping.1.OSSBucket"], "bkt");
        assert_eq!(p["DiskDeviceMapping.1.OSSObject"], "sys.qcow2");
        assert_eq!(p["DiskDeviceMapping.1.Format"], "qcow2");
        assert_eq!(p["DiskDeviceMapping.2.OSSObject"], "data.raw");
        assert_eq!(p["DiskDeviceMapping.2.Format"], "RAW");
        assert_eq!(p["DiskDeviceMapping.2.DiskImageSize"], "40");
        assert!(!p.keys().any(|k| k.starts_with("DiskDeviceMapping.0")));
        assert_eq!(p["ClientToken"], "tok-123");
        assert_eq!(p["Tag.1.Key"], "env");
        assert_eq!(p["RegionId"], "cn-hangzhou");
        let mut r = req();
        r.options.with(Param::RoleName, "MyRole");
        r.options.with(Param::DetectionStrategy, "Standard");
        r.options.with(Param::NvmeSupport, "supported");
        r.options.with(Param::ImdsSupport, "v2");
        r.options.with(Param::SystemDiskSizeGb, 50u64);
        let p = import_params(&r, true).unwrap();
        assert_eq!(p["RoleName"], "MyRole");
        assert_eq!(p["DetectionStrategy"], "Standard");
        assert_eq!(p["Features.NvmeSupport"], "supported");
        assert_eq!(p["Features.ImdsSupport"], "v2");
        assert_eq!(p["DiskDeviceMapping.1.DiskImageSize"], "50");
        let a = import_params(&r, false).unwrap();
        assert_eq!(a["RoleName"], "MyRole");
        assert!(!a.contains_key("DetectionStrategy") && !a.contains_key("Features.NvmeSupport"));
    }

    #[tokio::test]
    async fn describe_sends_status_and_signed_form() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-1","ImageName":"n","Status":"Waiting"}]}}"#.into())
        }))
        .await;
        let c = client(&format!("{url}/alicloud"), SignatureVersion::RpcV1);
        let imgs = c
            .describe_images("cn-hangzhou", &["m-1".into(), "m-2".into()])
            .await
            .unwrap();
        assert_eq!(imgs.len(), 1);
        let r: Recorded = log.lock().unwrap()[0].clone();
        assert_eq!(r.path, "/alicloud");
        let f = r.form();
        assert_eq!(f["Action"], "DescribeImages");
        assert_eq!(f["ImageId"], "m-1,m-2");
        assert_eq!(f["Status"], ALL_STATUSES);
        assert_eq!(f["SecurityToken"], "tok");
        assert_eq!(f["Version"], ECS_VERSION);
        assert_eq!(
            f["Signature"],
            acs_rpc_signature("POST", &f, &Secret::new("sk"))
        );
    }

    #[tokio::test]
    async fn describe_not_found_means_gone() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| {
            if r.form()["ImageId"].contains(',') || r.form()["ImageId"] == "m-gone" {
                (404, r#"{"RequestId":"R","Code":"InvalidImageId.NotFound","Message":"gone"}"#.into())
            } else {
                (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-1","Status":"Available"}]}}"#.into())
            }
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        assert!(c
            .describe_images("cn-hangzhou", &["m-gone".into()])
            .await
            .unwrap()
            .is_empty());
        let both = c
            .describe_images("cn-hangzhou", &["m-1".into(), "m-gone".into()])
            .await
            .unwrap();
        assert_eq!(both.len(), 1);
        assert_eq!(log.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn wrong_region_delete_is_an_error_and_rejected_throttling_is_retried() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n == 0 {
                (
                    400,
                    r#"{"RequestId":"R","Code":"Rejected.Throttling","Message":"slow"}"#.into(),
                )
            } else {
                (
                    404,
                    r#"{"RequestId":"R","Code":"InvalidRegionId.NotFound","Message":"no region"}"#
                        .into(),
                )
            }
        }))
        .await;
        let e = client(&url, SignatureVersion::RpcV1)
            .delete_image("cn-nowhere", "m-1")
            .await
            .unwrap_err();
        assert_eq!(e.code, "InvalidRegionId.NotFound");
        assert_eq!(log.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn acs3_mode_signs_headers() {
        let (url, log) = serve(Arc::new(|_, _| (200, r#"{"RequestId":"R"}"#.into()))).await;
        let c = client(&url, SignatureVersion::Acs3);
        c.delete_image("cn-hangzhou", "m-1").await.unwrap();
        let r: Recorded = log.lock().unwrap()[0].clone();
        assert_eq!(r.header("x-acs-action"), Some("DeleteImage"));
        assert_eq!(r.header("x-acs-security-token"), Some("tok"));
        assert!(r.path.contains("ImageId=m-1"));
        assert!(r
            .header("Authorization")
            .unwrap()
            .starts_with("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action;"));
    }

    #[tokio::test]
    async fn import_resends_with_same_client_token_after_5xx() {
        let (url, log) = serve(Arc::new(|n, _| {
            if n == 0 {
                (
                    500,
                    r#"{"RequestId":"R0","Code":"InternalError","Message":"oops"}"#.into(),
                )
            } else {
                (200, r#"{"RequestId":"R1","ImageId":"m-new"}"#.into())
            }
        }))
        .await;
        let id = client(&url, SignatureVersion::RpcV1)
            .import(&req())
            .await
            .unwrap()
            .image_id;
        assert_eq!(id, "m-new");
        let log = log.lock().unwrap();
        // Import, a look for the image it may have made (none listed), the import again with its token.
        assert_eq!(log.len(), 3);
        assert_eq!(log[1].form()["Action"], "DescribeImages");
        assert_eq!(log[0].form()["ClientToken"], "tok-123");
        assert_eq!(log[2].form()["ClientToken"], "tok-123");
        assert_ne!(
            log[0].form()["SignatureNonce"],
            log[2].form()["SignatureNonce"]
        );
    }

    /// An import that was not answered but made its image (a gateway answering after the client's time-out): the
    /// image of its name with its tags is found and taken, and the call is not sent again.
    #[tokio::test]
    async fn an_unanswered_import_that_made_its_image_is_not_sent_again() {
        let tags = req().tags;
        let listed: String = tags
            .iter()
            .map(|(k, v)| format!(r#"{{"TagKey":"{k}","TagValue":"{v}"}}"#))
            .collect::<Vec<_>>()
            .join(",");
        let (url, log) = serve(Arc::new(move |_, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "ImportImage" => (
                    503,
                    r#"{"RequestId":"R0","Code":"ServiceUnavailable","Message":"late"}"#.into(),
                ),
                _ => (
                    200,
                    format!(
                        r#"{{"RequestId":"R1","TotalCount":1,"PageNumber":1,"PageSize":100,"Images":{{"Image":[{{"ImageId":"m-made","ImageName":"img","Status":"Creating","Tags":{{"Tag":[{listed}]}}}}]}}}}"#
                    ),
                ),
            }
        }))
        .await;
        let id = client(&url, SignatureVersion::RpcV1)
            .import(&req())
            .await
            .unwrap()
            .image_id;
        assert_eq!(id, "m-made");
        let log = log.lock().unwrap();
        let actions: Vec<String> = log.iter().map(|r| r.form()["Action"].clone()).collect();
        assert_eq!(actions, ["ImportImage", "DescribeImages"]);
    }

    #[tokio::test]
    async fn missing_role_and_delete_not_found() {
        let (url, _log) = serve(Arc::new(|_, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "ImportImage" => (
                    403,
                    r#"{"RequestId":"R","Code":"NoSetRoletoECSServiceAcount","Message":"role"}"#
                        .into(),
                ),
                _ => (
                    404,
                    r#"{"RequestId":"R","Code":"InvalidImageId.NotFound","Message":"gone"}"#.into(),
                ),
            }
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        let e = c.import(&req()).await.unwrap_err();
        assert_eq!(
            crate::cloud::Backend::hint(&super::super::ECS, &e),
            Some(crate::cloud::alibaba::rpc::ROLE_HINT)
        );
        c.delete_image("cn-hangzhou", "m-x").await.unwrap();
    }

    #[tokio::test]
    async fn tags_update_diffs() {
        let (url, log) = serve(Arc::new(|_, r: &Recorded| match r.form()["Action"].as_str() {
            "DescribeImages" => (200, r#"{"RequestId":"R","Images":{"Image":[{"ImageId":"m-1","Tags":{"Tag":[{"TagKey":"old","TagValue":"1"},{"TagKey":"keep","TagValue":"k"}]}}]}}"#.into()),
            _ => (200, r#"{"RequestId":"R"}"#.into()),
        }))
        .await;
        let c = client(&url, SignatureVersion::RpcV1);
        let upd = ImageUpdate {
            name: Some("new".into()),
            tags: Some(
                [
                    ("keep".to_string(), "k".to_string()),
                    ("new".to_string(), "n".to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        };
        c.update_image("cn-hangzhou", "m-1", &upd).await.unwrap();
        let forms: Vec<_> = log.lock().unwrap().iter().map(|r| r.form()).collect();
        let actions: Vec<&str> = forms.iter().map(|f| f["Action"].as_str()).collect();
        assert_eq!(
            actions,
            [
                "ModifyImageAttribute",
                "DescribeImages",
                "UntagResources",
                "TagResources"
            ]
        );
        assert_eq!(forms[2]["TagKey.1"], "old");
        assert_eq!(forms[3]["Tag.1.Key"], "new");
        assert!(!forms[3].contains_key("Tag.2.Key"));
    }

    #[tokio::test]
    async fn dry_run_passes_on_either_documented_code() {
        for code in ["DryRunOperation", "DRYRUN.SUCCESS"] {
            let (url, log) = serve(Arc::new(move |_, _: &Recorded| {
                (
                    400,
                    format!(r#"{{"RequestId":"R","Code":"{code}","Message":"dry run"}}"#),
                )
            }))
            .await;
            let c = client(&url, SignatureVersion::RpcV1).with_plan_dry_run(true);
            assert!(c.check_import(&req()).await.unwrap(), "{code}");
            let log = log.lock().unwrap();
            assert_eq!(log.len(), 1, "{code}: a passed dry run is not retried");
            let f = log[0].form();
            assert_eq!(f["Action"], "ImportImage");
            assert_eq!(f["DryRun"], "true");
            assert!(!f.contains_key("ClientToken"));
        }
    }

    #[tokio::test]
    async fn dry_run_failure_and_off_by_default() {
        let (url, log) = serve(Arc::new(|_, _: &Recorded| {
            (
                400,
                r#"{"RequestId":"R","Code":"InvalidImageName.Duplicated","Message":"dup"}"#.into(),
            )
        }))
        .await;
        let off = client(&url, SignatureVersion::RpcV1);
        assert!(!off.check_import(&req()).await.unwrap());
        assert!(log.lock().unwrap().is_empty());
        let on = client(&url, SignatureVersion::RpcV1).with_plan_dry_run(true);
        let e = on.check_import(&req()).await.unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Duplicated");
    }

    fn copy_req() -> CopyRequest {
        CopyRequest {
            source_region: "cn-hangzhou".into(),
            source_id: "m-src".into(),
            region: "cn-beijing".into(),
            name: "copy".into(),
            description: Some("a copy".into()),
            encrypted: false,
            kms_key_id: None,
            tags: [("env".to_string(), "dev".to_string())].into(),
            idempotency_token: "copy-tok".into(),
        }
    }

    #[tokio::test]
    async fn copy_sends_source_region_and_reads_the_copy_id() {
        let (url, log) = serve(Arc::new(|_, _| {
            (200, r#"{"RequestId":"R","ImageId":"m-copy"}"#.into())
        }))
        .await;
        let id = client(&url, SignatureVersion::RpcV1)
            .copy_image(&copy_req())
            .await
            .unwrap();
        assert_eq!(id, "m-copy");
        let f = log.lock().unwrap()[0].form();
        assert_eq!(f["Action"], "CopyImage");
        assert_eq!(f["RegionId"], "cn-hangzhou");
        assert_eq!(f["ImageId"], "m-src");
        assert_eq!(f["DestinationRegionId"], "cn-beijing");
        assert_eq!(f["DestinationImageName"], "copy");
        assert_eq!(f["DestinationDescription"], "a copy");
        assert_eq!(f["Tag.1.Key"], "env");
        assert_eq!(f["ClientToken"], "copy-tok");
        assert!(!f.contains_key("Encrypted"));
    }

    #[tokio::test]
    async fn an_unanswered_copy_is_resent_with_its_token() {
        let (url, log) = serve(Arc::new(|n, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "CopyImage" if n == 0 => (
                    503,
                    r#"{"RequestId":"R0","Code":"ServiceUnavailable","Message":"late"}"#.into(),
                ),
                "CopyImage" => (200, r#"{"RequestId":"R1","ImageId":"m-copy"}"#.into()),
                _ => (
                    200,
                    r#"{"RequestId":"R","TotalCount":0,"Images":{"Image":[]}}"#.into(),
                ),
            }
        }))
        .await;
        let id = client(&url, SignatureVersion::RpcV1)
            .copy_image(&copy_req())
            .await
            .unwrap();
        assert_eq!(id, "m-copy");
        let log = log.lock().unwrap();
        let actions: Vec<String> = log.iter().map(|r| r.form()["Action"].clone()).collect();
        assert_eq!(actions, ["CopyImage", "DescribeImages", "CopyImage"]);
        // The look for the copy is made in the destination region, with every status.
        assert_eq!(log[1].form()["RegionId"], "cn-beijing");
        assert_eq!(log[1].form()["Status"], ALL_STATUSES);
        assert_eq!(log[2].form()["ClientToken"], "copy-tok");
    }

    #[tokio::test]
    async fn copy_duplicate_names_the_existing_image() {
        let (url, _log) = serve(Arc::new(|_, r: &Recorded| {
            match r.form()["Action"].as_str() {
                "CopyImage" => (400, r#"{"RequestId":"R","Code":"InvalidImageName.Duplicated","Message":"dup"}"#.into()),
                _ => (200, r#"{"RequestId":"R","TotalCount":1,"Images":{"Image":[{"ImageId":"m-old","ImageName":"copy","Status":"Available"}]}}"#.into()),
            }
        }))
        .await;
        let e = client(&url, SignatureVersion::RpcV1)
            .copy_image(&copy_req())
            .await
            .unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Duplicate {
                existing_id: Some("m-old".into())
            }
        );
    }

    #[tokio::test]
    async fn cancel_copy_and_the_codes_that_mean_nothing_to_cancel() {
        for (status, body, want) in [
            (200, r#"{"RequestId":"R"}"#, Some(true)),
            (
                400,
                r#"{"RequestId":"R","Code":"IncorrectImageStatus","Message":"The image is copied finished."}"#,
                Some(false),
            ),
            (
                400,
                r#"{"RequestId":"R","Code":"ImageCreatedNotFromCopy","Message":"not a copy"}"#,
                Some(false),
            ),
            (
                403,
                r#"{"RequestId":"R","Code":"Forbidden.RAM","Message":"no"}"#,
                None,
            ),
        ] {
            let (url, log) = serve(Arc::new(move |_, _| (status, body.into()))).await;
            let got = client(&url, SignatureVersion::RpcV1)
                .cancel_copy("cn-beijing", "m-copy")
                .await;
            assert_eq!(got.as_ref().ok().copied(), want, "{body}");
            let f = log.lock().unwrap()[0].form();
            assert_eq!(f["Action"], "CancelCopyImage");
            assert_eq!(f["RegionId"], "cn-beijing");
            assert_eq!(f["ImageId"], "m-copy");
        }
    }

    #[tokio::test]
    async fn deleting_an_image_being_copied_is_busy() {
        let (url, _log) = serve(Arc::new(|_, _| {
            (403, r#"{"RequestId":"R","Code":"OperationDenied.ImageCopying","Message":"The Image is coping."}"#.into())
        }))
        .await;
        let e = client(&url, SignatureVersion::RpcV1)
            .delete_image("cn-hangzhou", "m-src")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Busy);
    }

    #[test]
    fn a_copy_in_progress_reads_as_importing() {
        let v = serde_json::json!({"Images": {"Image": [
            {"ImageId": "m-1", "Status": "Waiting", "IsCopied": true},
            {"ImageId": "m-2", "Status": "Creating", "Progress": "30%", "IsCopied": true},
            {"ImageId": "m-3", "Status": "CreateFailed"},
            {"ImageId": "m-4", "Status": "UnAvailable"}]}});
        let imgs = images_of(&v);
        let states: Vec<_> = imgs.iter().map(|i| i.state).collect();
        assert_eq!(
            states,
            [
                crate::cloud::ImageState::Importing,
                crate::cloud::ImageState::Importing,
                crate::cloud::ImageState::Failed,
                crate::cloud::ImageState::Failed
            ]
        );
        assert_eq!(imgs[1].progress, Some(30));
    }
}
