//! `cloudimage_custom_image`: the lifecycle of one imported image.

use std::sync::Arc;

use crate::cloud::{Cloud, CloudError, ErrorKind, Image, ImageState, ImageUpdate};
use crate::cty::{Path, Value};
use crate::provider::framework::{
    ApplyOutcome, ApplyRequest, ImportOutcome, ImportRequest, PlanRequest, PlannedChange,
    ReadOutcome, ReadRequest, Resource,
};
use crate::provider::schema::{IdentitySchema, Schema};
use crate::provider::{Diagnostic, Diagnostics};

use super::context::Clouds;
use super::equivalence::same_value;
use super::journal::Journal;
use super::private::Private;
use super::rules::rules;
use super::state::{self, cloud_of, string};
use super::wait::{wait_for, Goal, PollSchedule, WaitEnd};
use super::{rules as cloud_rules, schema};

/// The resource type.
pub struct CustomImage {
    pub(super) clouds: Arc<Clouds>,
    pending: Arc<PendingSettings>,
    pub(super) schedule: PollSchedule,
    pub(super) journal: Journal,
}

/// Provider settings Terraform could not give yet (they depend on resources not yet applied), per cloud block.
#[derive(Default)]
pub struct PendingSettings(std::sync::RwLock<Vec<(String, String)>>);

impl PendingSettings {
    /// Replaces the list at ConfigureProvider.
    pub fn set(&self, pending: Vec<(String, String)>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = pending;
        }
    }

    /// The unknown attributes of the block that configures `cloud`.
    fn of(&self, cloud: Cloud) -> Vec<String> {
        let block = provider_block(cloud);
        self.0
            .read()
            .map(|v| {
                v.iter()
                    .filter(|(b, _)| b == block)
                    .map(|(_, a)| a.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl CustomImage {
    /// The resource over the provider's cloud clients.
    pub fn new(clouds: Arc<Clouds>, pending: Arc<PendingSettings>) -> Self {
        Self {
            journal: clouds.journal(),
            clouds,
            pending,
            schedule: PollSchedule::default(),
        }
    }
}

/// Attributes whose change always means a new image.
const REPLACE_ALWAYS: &[&str] = &[
    "cloud",
    "source_url",
    "format",
    "platform",
    "os_version",
    "boot_mode",
    "license_type",
    "data_disks",
    "image_family",
    "nvme_support",
    "system_disk_size_gb",
    "target_oss_region_id",
];

/// Optional+computed attributes: a change only counts when configured.
const REPLACE_WHEN_SET: &[&str] = &["region", "os_type", "architecture"];

/// Computed attributes that stay as they are through an in-place update.
const KEPT_ON_UPDATE: &[&str] = &[
    "id",
    "region",
    "os_type",
    "architecture",
    "status",
    "size_gb",
    "created_at",
];

pub(super) fn error_at(
    summary: impl Into<String>,
    detail: impl Into<String>,
    attribute: &str,
) -> Diagnostic {
    Diagnostic::error(summary, detail).at(Path::root().attr(attribute))
}

/// A cloud error as the person running Terraform should read it.
pub(super) fn cloud_diagnostic(e: &CloudError, doing: &str) -> Diagnostic {
    let mut detail = e.to_string();
    match &e.kind {
        ErrorKind::Auth => detail.push_str(&format!(
            "\n\nThe {} credentials were rejected. Check the provider's `{}` block or its environment variables.",
            e.cloud,
            provider_block(e.cloud)
        )),
        ErrorKind::MissingRole => detail.push_str(
            "\n\nECS needs the AliyunECSImageImportDefaultRole RAM role to read from OSS. Authorize it once in the \
             RAM console (or with the ECS image import quick authorization page), then apply again.",
        ),
        ErrorKind::Throttled => detail.push_str("\n\nThe cloud kept throttling requests after several retries."),
        _ => {}
    }
    Diagnostic::error(format!("{} {doing} failed", e.cloud), detail)
}

fn provider_block(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::AliCloud | Cloud::AliCloudEns => "alicloud",
        other => other.as_str(),
    }
}

/// An ID of the form `<cloud>/<region>/<image-id>`.
fn parse_import_id(id: &str) -> Result<(Cloud, String, String), String> {
    let parts: Vec<&str> = id.splitn(3, '/').collect();
    match parts.as_slice() {
        [cloud, region, image] if !region.is_empty() && !image.is_empty() => {
            Ok((cloud.parse()?, region.to_string(), image.to_string()))
        }
        _ => Err(format!(
            "{id:?} is not an import ID. Use <cloud>/<region>/<image-id>, e.g. tencentcloud/ap-guangzhou/img-0a1b2c3d."
        )),
    }
}

impl CustomImage {
    /// The cloud, region and ID a state names.
    fn locate(&self, state: &Value) -> Option<(Cloud, String, String)> {
        Some((
            cloud_of(state)?,
            string(state, "region")?,
            string(state, "id")?,
        ))
    }

    pub(super) async fn look(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
    ) -> Result<Option<Image>, CloudError> {
        self.settings_known(cloud)?;
        self.clouds.describe(cloud, region, id).await
    }

    /// Refuses to call a cloud whose provider block still has unknown values: treating them as unset would send
    /// requests (with credentials) to the cloud's default public endpoint.
    fn settings_known(&self, cloud: Cloud) -> Result<(), CloudError> {
        let pending = self.pending.of(cloud);
        if pending.is_empty() {
            return Ok(());
        }
        Err(CloudError::config(
            cloud,
            format!(
                "the provider's `{}` block has values that are not known yet ({}); they depend on resources that \
                 are not applied. Apply those first (e.g. with -target), or set the values directly.",
                provider_block(cloud),
                pending.join(", ")
            ),
        ))
    }

    fn client(&self, cloud: Cloud) -> Result<Arc<dyn crate::cloud::ImageApi>, CloudError> {
        self.settings_known(cloud)?;
        self.clouds.client(cloud)
    }

    /// Waits for a fresh import and turns the outcome into a state and diagnostics.
    pub(super) async fn finish_create(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
        planned: &Value,
        request: &ApplyRequest<'_>,
    ) -> ApplyOutcome {
        let timeout = state::timeout(request.config, "create");
        let label = format!("{cloud}/{region}/{id}");
        let end = wait_for(
            Goal::Available,
            &label,
            timeout,
            self.schedule,
            &request.stop,
            || self.look(cloud, region, id),
        )
        .await;
        let partial = |image: Option<&Image>| match image {
            Some(i) => fill_unknowns(state::merge_image(cloud, planned, region, i)),
            None => state::skeleton(planned, cloud, region, id),
        };
        let mut out = ApplyOutcome::default();
        match end {
            WaitEnd::Done(Some(image)) => {
                out.state = Some(fill_unknowns(state::merge_image(
                    cloud, planned, region, &image,
                )));
            }
            WaitEnd::Done(None) => {
                out.state = Some(partial(None));
                out.diagnostics.push(Diagnostic::error(
                    format!("{cloud} image {id} disappeared while importing"),
                    "The import call returned this ID, but the cloud stopped listing the image. It may have been \
                     deleted or failed without a trace; the next apply will try again.",
                ));
            }
            WaitEnd::Failed(image) => {
                out.diagnostics.push(Diagnostic::error(
                    format!("{cloud} could not import image {id}"),
                    format!(
                        "The cloud reports state {:?}{}. The image is kept in state as tainted, so the next apply \
                         deletes it and imports again; check that source_url points at a readable image of the \
                         declared format.",
                        image.raw_state,
                        image.failure_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                    ),
                ));
                out.state = Some(partial(Some(&image)));
            }
            WaitEnd::TimedOut(image) => {
                out.diagnostics.push(Diagnostic::error(
                    format!("Timed out waiting for {cloud} image {id}"),
                    format!(
                        "The image was still {} after {}. It is kept in state as tainted; raise timeouts.create if \
                         imports of this size take longer.",
                        image.as_ref().map(|i| i.raw_state.as_str()).unwrap_or("not listed"),
                        humantime::format_duration(timeout)
                    ),
                ));
                out.state = Some(partial(image.as_ref()));
            }
            WaitEnd::Stopped(image) => {
                out.diagnostics.push(Diagnostic::error(
                    format!("Interrupted while waiting for {cloud} image {id}"),
                    "Terraform was asked to stop. The image is kept in state as tainted so it is not lost.",
                ));
                out.state = Some(partial(image.as_ref()));
            }
            WaitEnd::Error(e) => {
                out.diagnostics
                    .push(cloud_diagnostic(&e, "image status check"));
                out.state = Some(partial(None));
            }
        }
        out
    }
}

impl CustomImage {
    /// Sends the delete, and when the cloud refuses because the image is still importing (a create that timed
    /// out or was interrupted), cancels the import where the cloud can and otherwise waits for it to end, then
    /// deletes; all within the delete timeout. `Ok(false)`: the image went away by itself meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn delete_when_possible(
        &self,
        client: &dyn crate::cloud::ImageApi,
        cloud: Cloud,
        region: &str,
        id: &str,
        task: Option<&str>,
        timeout: std::time::Duration,
        stop: &crate::signal::Signal,
    ) -> Result<bool, Diagnostic> {
        let started = tokio::time::Instant::now();
        // Cancel once (with the task when state recorded it); after that, wait.
        let mut cancel = Some(task);
        loop {
            let e = match client.delete_image(region, id).await {
                Ok(()) => return Ok(true),
                Err(e) if e.kind == ErrorKind::Busy => e,
                Err(e) => return Err(cloud_diagnostic(&e, "image deletion")),
            };
            if let Some(task) = cancel.take() {
                match client.cancel_import(region, id, task).await {
                    Ok(true) => {
                        tracing::info!(cloud = %cloud, region, image = id, "cancelled the import still running")
                    }
                    Ok(false) => {}
                    Err(ce) => {
                        tracing::info!(cloud = %cloud, region, image = id, error = %ce, "could not cancel the import; waiting for it to end")
                    }
                }
            } else {
                tracing::info!(cloud = %cloud, region, image = id, "the image is still importing; waiting to delete it");
            }
            // Look until the image is gone or no longer importing, then try the delete again.
            loop {
                let waited = started.elapsed();
                if waited >= timeout {
                    return Err(Diagnostic::error(
                        format!("{cloud} image {id} could not be deleted yet"),
                        format!(
                            "{e}\n\nThe image was still importing after {}; it stays in state. Raise \
                             timeouts.delete, or apply again once the import has ended.",
                            humantime::format_duration(timeout)
                        ),
                    ));
                }
                let pause = self.schedule.next(waited).min(timeout - waited);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.wait() => {
                        return Err(Diagnostic::error(
                            format!("Interrupted while waiting to delete {cloud} image {id}"),
                            "Terraform was asked to stop; the image stays in state.",
                        ))
                    }
                }
                match self.look(cloud, region, id).await {
                    Ok(None) => return Ok(false),
                    Ok(Some(image)) if image.state != ImageState::Importing => break,
                    Ok(Some(_)) => {}
                    Err(le) => return Err(cloud_diagnostic(&le, "image status check")),
                }
            }
        }
    }
}

/// Computed attributes the cloud did not report after a create become null rather than staying unknown.
fn fill_unknowns(mut v: Value) -> Value {
    crate::provider::invariants::replace_unknowns_with_null(&mut v);
    v
}

#[async_trait::async_trait]
impl Resource for CustomImage {
    fn type_name(&self) -> &'static str {
        schema::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::resource_schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(schema::identity_schema())
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        let (cloud, region, id) = self.locate(state)?;
        Some(Value::object([
            ("cloud", Value::string(cloud.as_str())),
            ("region", Value::string(region)),
            ("id", Value::string(id)),
        ]))
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        cloud_rules::validate(config)
    }

    async fn plan(&self, request: PlanRequest<'_>, plan: &mut PlannedChange) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let config = request.config;
        let Value::Object(planned) = &mut plan.planned else {
            return diags;
        };
        let Some(cloud) = cloud_of(config) else {
            return diags;
        };
        // Credentials and region must be resolvable before anything is applied.
        if let Err(e) = self.client(cloud) {
            diags.push(error_at(
                format!("{cloud} is not configured"),
                e.message.clone(),
                "cloud",
            ));
            return diags;
        }
        let region = match string(config, "region") {
            Some(r) => Some(r),
            None if config.get_attr("region").is_some_and(|v| !v.is_known()) => None,
            None => match request.prior.and_then(|p| string(p, "region")) {
                Some(r) => Some(r),
                None => match self.clouds.default_region(cloud) {
                    Some(r) => Some(r),
                    None => {
                        diags.push(error_at(
                            format!("No region for {cloud}"),
                            format!(
                                "Set region on this resource, or in the provider's `{}` block, or in the cloud's \
                                 region environment variable.",
                                provider_block(cloud)
                            ),
                            "region",
                        ));
                        return diags;
                    }
                },
            },
        };
        let Some(prior) = request.prior else {
            if let Some(r) = region {
                // Opt-in plan-time check of a new image's import parameters by the cloud (Tencent `DryRun`
                // behind the provider's `plan_dry_run`); only once every value is known.
                if config.is_wholly_known() {
                    let import = state::import_request(cloud, config, &r, String::new());
                    if let Ok(client) = self.client(cloud) {
                        if let Err(e) = client.check_import(&import).await {
                            diags.push(cloud_diagnostic(&e, "import check (plan_dry_run)"));
                        }
                    }
                }
                planned.insert("region".into(), Value::string(r));
            }
            return diags;
        };

        // An update: decide what forces replacement. A configured value that means what the prior one means
        // (another spelling of it, or a value the cloud could not report for an imported image) is recorded in
        // place; only a real difference needs a new image.
        let r = rules(cloud);
        let private = Private::decode(request.prior_private);
        let value = |v: &Value, name: &str| v.get_attr(name).cloned().unwrap_or(Value::Null);
        for name in REPLACE_ALWAYS.iter().chain(REPLACE_WHEN_SET) {
            let (configured, stored) = (value(config, name), value(prior, name));
            if REPLACE_WHEN_SET.contains(name) && configured.is_null() {
                continue; // Computed: the prior value stays.
            }
            let unreported = state::is_absent(&stored) && private.is_unreported(name);
            // An unknown value may turn out different: only a known one can be compared.
            let same = configured.is_wholly_known()
                && same_value(cloud, name, &configured, &stored, &private);
            if !unreported && !same {
                plan.requires_replace.push(Path::root().attr(*name));
            }
        }
        for name in ["name", "description", "tags"] {
            if value(config, name) != value(prior, name) && !r.changes_in_place(name) {
                plan.requires_replace.push(Path::root().attr(name));
            }
        }
        // A failed image cannot be fixed in place: plan its replacement.
        if prior.get_attr("status").and_then(Value::as_str) == Some("failed") {
            planned.insert("status".into(), Value::unknown());
            plan.requires_replace.push(Path::root().attr("status"));
            return diags;
        }
        if plan.requires_replace.is_empty() {
            // In place: what the cloud computed stays as it is.
            for name in KEPT_ON_UPDATE {
                let configured = config.get_attr(name).is_some_and(|v| !v.is_null());
                if !configured {
                    if let Some(v) = prior.get_attr(name) {
                        planned.insert(name.to_string(), v.clone());
                    }
                }
            }
        }
        diags
    }

    async fn create(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        let Some(cloud) = cloud_of(request.config) else {
            out.diagnostics
                .push(error_at("cloud is not known", "", "cloud"));
            return out;
        };
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                out.diagnostics.push(error_at(
                    format!("{cloud} is not configured"),
                    e.message,
                    "cloud",
                ));
                return out;
            }
        };
        let Some(region) =
            string(request.planned, "region").or_else(|| self.clouds.default_region(cloud))
        else {
            out.diagnostics.push(error_at(
                format!("No region for {cloud}"),
                "Set region.",
                "region",
            ));
            return out;
        };
        self.create_image(cloud, client, &region, &request).await
    }

    async fn update(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        let Some((cloud, region, id)) = request.prior.and_then(|p| self.locate(p)) else {
            out.diagnostics.push(Diagnostic::error(
                "Cannot update: the state has no image ID",
                "",
            ));
            return out;
        };
        let prior = request.prior.cloned().unwrap_or(Value::Null);
        let mut change = ImageUpdate::default();
        if request.planned.get_attr("name") != prior.get_attr("name") {
            change.name = string(request.planned, "name");
        }
        if request.planned.get_attr("description") != prior.get_attr("description") {
            change.description = Some(string(request.planned, "description").unwrap_or_default());
        }
        if request.planned.get_attr("tags") != prior.get_attr("tags") {
            change.tags = Some(state::string_map(request.planned, "tags"));
        }
        if change.name.is_some() || change.description.is_some() || change.tags.is_some() {
            let client = match self.client(cloud) {
                Ok(c) => c,
                Err(e) => {
                    out.diagnostics.push(error_at(
                        format!("{cloud} is not configured"),
                        e.message,
                        "cloud",
                    ));
                    return out;
                }
            };
            let timeout = state::timeout(request.config, "update");
            match tokio::time::timeout(timeout, client.update_image(&region, &id, &change)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    out.diagnostics.push(cloud_diagnostic(&e, "image update"));
                    return out;
                }
                Err(_) => {
                    out.diagnostics.push(Diagnostic::error(
                        format!("Timed out updating {cloud} image {id}"),
                        "Raise timeouts.update.",
                    ));
                    return out;
                }
            }
        }
        // Read back what the cloud now reports; attributes it cannot report come from the plan.
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                let mut state = state::merge_image(cloud, request.planned, &region, &image);
                // Name and description as planned: a cloud that lists with a delay must not look like drift.
                if let Value::Object(attrs) = &mut state {
                    for name in ["name", "description", "tags"] {
                        if let Some(v) = request.planned.get_attr(name) {
                            attrs.insert(name.into(), v.clone());
                        }
                    }
                }
                // What configuration now gives is no longer waiting to be filled in.
                let before = Private::decode(request.private);
                out.private = Private {
                    unreported: state::still_unreported(&before, &state),
                    ..before
                }
                .encode();
                out.state = Some(state);
            }
            Ok(None) => out.diagnostics.push(Diagnostic::error(
                format!("{cloud} image {id} is gone"),
                "The image disappeared during the update; the next plan will re-create it.",
            )),
            Err(e) => out.diagnostics.push(cloud_diagnostic(&e, "image read")),
        }
        out
    }

    async fn delete(&self, request: ApplyRequest<'_>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some((cloud, region, id)) = request.prior.and_then(|p| self.locate(p)) else {
            return diags;
        };
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                diags.push(error_at(
                    format!("{cloud} is not configured"),
                    e.message,
                    "cloud",
                ));
                return diags;
            }
        };
        tracing::info!(cloud = %cloud, region = %region, image = %id, "deleting image");
        let timeout = request
            .prior
            .map(|p| state::timeout(p, "delete"))
            .unwrap_or_default();
        let task = Private::decode(request.private).import_task;
        match self
            .delete_when_possible(
                client.as_ref(),
                cloud,
                &region,
                &id,
                task.as_deref(),
                timeout,
                &request.stop,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => return diags, // Gone while we waited for the import to end.
            Err(d) => {
                diags.push(d);
                return diags;
            }
        }
        let label = format!("{cloud}/{region}/{id}");
        match wait_for(
            Goal::Gone,
            &label,
            timeout,
            self.schedule,
            &request.stop,
            || self.look(cloud, &region, &id),
        )
        .await
        {
            WaitEnd::Done(_) => {}
            WaitEnd::Error(e) => diags.push(cloud_diagnostic(&e, "image status check")),
            WaitEnd::Failed(image)
            | WaitEnd::TimedOut(Some(image))
            | WaitEnd::Stopped(Some(image)) => diags.push(Diagnostic::error(
                format!("{cloud} image {id} was not deleted"),
                format!("The image is still listed, in state {:?}.", image.raw_state),
            )),
            WaitEnd::TimedOut(None) | WaitEnd::Stopped(None) => diags.push(Diagnostic::error(
                format!("{cloud} image {id} was not confirmed deleted"),
                "Terraform stopped waiting before the cloud stopped listing the image.",
            )),
        }
        diags
    }

    async fn read(&self, request: ReadRequest<'_>) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let Some((cloud, region, id)) = self.locate(request.state) else {
            out.state = Some(request.state.clone());
            return out;
        };
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                out.state = Some(state::merge_image(cloud, request.state, &region, &image))
            }
            Ok(None) => {
                tracing::info!(cloud = %cloud, region = %region, image = %id, "image is gone; it will be planned for creation");
                out.state = None;
            }
            Err(e) => {
                out.diagnostics.push(cloud_diagnostic(&e, "image read"));
            }
        }
        out
    }

    async fn import(&self, request: ImportRequest) -> ImportOutcome {
        let mut out = ImportOutcome::default();
        let located = match &request.identity {
            Some(identity) => match (
                identity
                    .get_attr("cloud")
                    .and_then(Value::as_str)
                    .map(str::parse::<Cloud>),
                string(identity, "region"),
                string(identity, "id"),
            ) {
                (Some(Ok(cloud)), Some(region), Some(id)) => Ok((cloud, region, id)),
                (Some(Err(e)), _, _) => Err(e),
                _ => Err("the identity needs cloud, region and id".to_string()),
            },
            None => parse_import_id(&request.id),
        };
        let (cloud, region, id) = match located {
            Ok(l) => l,
            Err(message) => {
                out.diagnostics
                    .push(Diagnostic::error("Invalid import ID", message));
                return out;
            }
        };
        // Look it up now so a wrong ID fails at import, not at the next plan.
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                let block = schema::resource_schema().block;
                let names = block
                    .attributes
                    .iter()
                    .map(|a| a.name.as_str())
                    .chain(block.blocks.iter().map(|b| b.type_name.as_str()));
                let (state, private) = state::imported_state(cloud, &region, &image, names);
                out.state = Some(state);
                out.private = private.encode();
            }
            Ok(None) => out.diagnostics.push(Diagnostic::error(
                "Cannot import a missing image",
                format!("{cloud} has no image {id} in region {region}."),
            )),
            Err(e) => out.diagnostics.push(cloud_diagnostic(&e, "image read")),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("tencentcloud/ap-guangzhou/img-1").unwrap(),
            (
                Cloud::TencentCloud,
                "ap-guangzhou".to_string(),
                "img-1".to_string()
            )
        );
        assert!(parse_import_id("img-1").is_err());
        assert!(parse_import_id("aws/us-east-1/ami-1")
            .unwrap_err()
            .contains("unknown cloud"));
        assert!(parse_import_id("ucloud//x").is_err());
    }
}
