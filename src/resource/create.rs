//! Creating an image so that a create repeated after a crash converges to exactly one image.
//!
//! Terraform learns an image's ID only when the provider returns, up to an hour after the import call. If the
//! provider dies in between, the next apply plans the same create again. Before importing, a create therefore
//! looks for the image an earlier attempt of the same configuration started, and takes it over when it can prove
//! that the image is that attempt's:
//! - the create journal (see `journal`) recorded the image ID the cloud returned; or
//! - the image carries the configuration's fingerprint as a marker tag (clouds that take tags at import:
//!   Tencent Cloud, Alibaba ECS), which no one else puts there; or
//! - the journal recorded that this configuration's import was sent, and exactly one image of that name was
//!   created since.
//!
//! An image of the same name that none of these proves is someone else's: the create stops with an error that
//! names it and says how to import it, on every cloud, including those that would accept a second image of the
//! same name (UCloud, SurferCloud, ENS), where importing anyway would leave one of the two untracked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::cloud::{
    Cloud, CloudError, ErrorKind, Image, ImageApi, ImageState, ImportRequest, OptionValue, Param,
};
use crate::cty::{Path, Value};
use crate::provider::framework::{ApplyOutcome, ApplyRequest};
use crate::provider::Diagnostic;

use super::copies::Source;
use super::diagnostics::{cloud_diagnostic, error_at, not_configured};
use super::image::CustomImage;
use super::journal::{fingerprint, Entry};
use super::marker::MARKER_TAG;
use super::model::{attr, Field, ImageModel};
use super::private::Private;
use super::shares;
use super::state;
use super::wait::{wait_for, Goal, WaitEnd};

/// How far apart this machine's clock and the cloud's may be when the journal's send time is compared with an
/// image's creation time.
const CLOCK_SKEW_SECS: i64 = 60;

/// An image a create takes over from an earlier attempt.
struct Adopted {
    id: String,
    task_id: Option<String>,
    why: &'static str,
}

/// One create in progress: its local files (checked, held for this create), what it asks the cloud for, and the
/// fingerprint that names it in the journal and on the image.
struct Create {
    uploads: Vec<super::upload::Upload>,
    lease: super::shared_uploads::Lease,
    keep: bool,
    import: ImportRequest,
    key: String,
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn created_secs(image: &Image) -> Option<i64> {
    let text = image.created_at.as_deref()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The one image among `found` (images of the create's name) that is provably the earlier attempt's.
fn provably_ours(found: &[Image], fingerprint: &str, earlier: Option<&Entry>) -> Option<Adopted> {
    let live = |i: &&Image| i.state != ImageState::Deleting;
    if let Some(marked) = found
        .iter()
        .filter(live)
        .find(|i| i.tags.get(MARKER_TAG).map(String::as_str) == Some(fingerprint))
    {
        return Some(Adopted {
            id: marked.id.clone(),
            task_id: None,
            why: "it carries this configuration's fingerprint tag",
        });
    }
    let entry = earlier?;
    let since: Vec<&Image> = found
        .iter()
        .filter(live)
        .filter(|i| created_secs(i).is_some_and(|t| t >= entry.sent_at - CLOCK_SKEW_SECS))
        .collect();
    match since.as_slice() {
        [one] => Some(Adopted {
            id: one.id.clone(),
            task_id: entry.task_id.clone(),
            why: "the create journal shows this configuration's import was sent just before it was created",
        }),
        _ => None,
    }
}

/// The error for a name that belongs to an image this create cannot prove is its own.
fn name_taken(
    cloud: Cloud,
    region: &str,
    name: &str,
    existing: Option<&str>,
    cause: Option<&CloudError>,
) -> Diagnostic {
    let mut detail = cause.map(|e| format!("{e}\n\n")).unwrap_or_default();
    match existing {
        Some(id) => detail.push_str(&format!(
            "The existing image is {id}, and nothing shows that this configuration made it. To manage it with \
             Terraform instead of importing a new one, run\n\n  terraform import ADDRESS {cloud}/{region}/{id}\n\n\
             where ADDRESS is this resource's address (as in the error's heading, e.g. \
             cloudimage_custom_image.web), or add an import block with id = \"{cloud}/{region}/{id}\". Otherwise \
             choose another name."
        )),
        None => detail.push_str("Choose another name, or import the existing image."),
    }
    Diagnostic::error(
        format!("An image named {name:?} already exists in {cloud} {region}"),
        detail,
    )
    .at(Path::root().attr(attr::NAME))
}

impl CustomImage {
    /// ApplyResourceChange for a new image: the cloud, its client and the region, then [`Self::create_image`].
    pub(super) async fn apply_create(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        let config = ImageModel::from_value(request.config);
        let Some(cloud) = config.cloud() else {
            return failed(error_at("cloud is not known", "", attr::CLOUD));
        };
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => return failed(not_configured(&e)),
        };
        let planned = ImageModel::from_value(request.planned);
        let Some(region) = planned
            .region
            .string()
            .or_else(|| self.clouds.default_region(cloud))
        else {
            return failed(error_at(
                format!("No region for {cloud}"),
                "Set region.",
                attr::REGION,
            ));
        };
        self.create_image(cloud, client, &region, &config, planned, &request)
            .await
    }

    /// Creates the image of `request` (or takes over the one an earlier attempt started) and waits for it, in
    /// four phases: what the create asks for ([`Self::prepare_create`]), an earlier attempt's image to take over
    /// ([`Self::find_earlier`]), else the uploads and the import call ([`Self::start_import`]), then the wait and
    /// the uploaded objects' removal ([`Self::finish_and_clean_up`]).
    async fn create_image(
        &self,
        cloud: Cloud,
        client: Arc<dyn ImageApi>,
        region: &str,
        config: &ImageModel,
        planned: ImageModel,
        request: &ApplyRequest<'_>,
    ) -> ApplyOutcome {
        let mut create = match self
            .prepare_create(cloud, client.as_ref(), region, config, &planned)
            .await
        {
            Ok(c) => c,
            Err(d) => return failed(d),
        };
        let earlier = self.journal.load(&create.key);
        if let Some(e) = &earlier {
            tracing::info!(cloud = %cloud, region, name = %create.import.name, image = e.image_id.as_deref().unwrap_or("-"),
                "an earlier create of this configuration did not finish; looking for its image");
        }
        let adopted = match self
            .find_earlier(
                cloud,
                client.as_ref(),
                region,
                &create.import,
                &create.key,
                earlier.as_ref(),
            )
            .await
        {
            Ok(a) => a,
            Err(d) => return failed(d),
        };
        let (id, task_id) = match adopted {
            Some(a) => {
                tracing::info!(cloud = %cloud, region, image = %a.id, reason = a.why,
                    "taking over the image an earlier create started");
                (a.id, a.task_id)
            }
            None => match self
                .start_import(
                    cloud,
                    client.as_ref(),
                    region,
                    &mut create,
                    earlier.as_ref(),
                    request,
                )
                .await
            {
                Ok(started) => started,
                Err(d) => return failed(d),
            },
        };
        self.finish_and_clean_up(
            cloud, region, &id, task_id, planned, config, create, request,
        )
        .await
    }

    /// What the create asks for: the local files checked against the plan (not uploaded yet) and held for this
    /// create, the import request, and its fingerprint (the journal's key, and the marker tag where the cloud
    /// takes tags).
    async fn prepare_create(
        &self,
        cloud: Cloud,
        client: &dyn ImageApi,
        region: &str,
        config: &ImageModel,
        planned: &ImageModel,
    ) -> Result<Create, Diagnostic> {
        let uploads = self.prepare_uploads(cloud, region, config, planned).await?;
        let keep = config.keep_uploaded_object.known() == Some(&true);
        let lease = self.lease_uploads(&uploads, keep);
        let contents: Vec<String> = uploads.iter().map(|u| u.sha256.clone()).collect();
        let effective = state::effective(config, planned);
        let mut import = state::import_request(cloud, &effective, region, String::new());
        let key = fingerprint(&client.account(), &import, &contents);
        if cloud.backend().rules().supports(Param::Tags) {
            import.tags.insert(MARKER_TAG.to_string(), key.clone());
        }
        Ok(Create {
            uploads,
            lease,
            keep,
            import,
            key,
        })
    }

    /// No earlier image to take over: uploads the files (no image exists before its files are in storage, so an
    /// upload interrupted here leaves none, and the next apply resumes it), records the attempt in the journal,
    /// and sends the import. Returns the image and its import task.
    async fn start_import(
        &self,
        cloud: Cloud,
        client: &dyn ImageApi,
        region: &str,
        create: &mut Create,
        earlier: Option<&Entry>,
        request: &ApplyRequest<'_>,
    ) -> Result<(String, Option<String>), Diagnostic> {
        self.upload_all(&create.uploads, &create.lease, &request.stop)
            .await?;
        // An earlier attempt whose call was never answered is repeated with its token (ECS then returns the image
        // that call made). One whose recorded image is gone starts afresh: its token would name that image again.
        let repeat = earlier.filter(|e| e.image_id.is_none());
        let entry = Entry {
            token: repeat
                .map(|e| e.token.clone())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            sent_at: repeat.map_or_else(now_secs, |e| e.sent_at),
            image_id: None,
            task_id: None,
        };
        if let Err(e) = self.journal.save(&create.key, &entry) {
            tracing::warn!(error = %e, "cannot write the create journal; a create interrupted now may leave an image Terraform does not know");
        }
        let import = &mut create.import;
        import.idempotency_token = entry.token.clone();
        tracing::info!(cloud = %cloud, region, name = %import.name, "importing image");
        match client.import(import).await {
            Ok(started) => {
                let _ = self.journal.save(
                    &create.key,
                    &Entry {
                        image_id: Some(started.image_id.clone()),
                        task_id: started.task_id.clone(),
                        ..entry
                    },
                );
                Ok((started.image_id, started.task_id))
            }
            Err(e) => self
                .after_refused_import(cloud, client, region, import, &create.key, repeat, e)
                .await
                .map(|a| (a.id, a.task_id)),
        }
    }

    /// Waits for the image (the planned state filled in with what the import sent for computed attributes the
    /// cloud may not echo), forgets the journal entry once Terraform has the image, and deletes the uploaded
    /// objects once it is available: by the last create of this run that needs them, unless one keeps them; a
    /// failed create drops its lease and the objects stay for the next apply.
    #[allow(clippy::too_many_arguments)]
    async fn finish_and_clean_up(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
        task_id: Option<String>,
        mut planned: ImageModel,
        config: &ImageModel,
        create: Create,
        request: &ApplyRequest<'_>,
    ) -> ApplyOutcome {
        tracing::info!(cloud = %cloud, region, image = %id, "import started; waiting for the image");
        // What we sent by default, for computed attributes the cloud may not echo back.
        for param in Param::options().filter(|p| p.def().defaults_to_first_allowed) {
            let name = param.attribute();
            if planned.value_of(name).is_some_and(|v| !v.is_known()) {
                let sent = match create.import.options.get(param) {
                    Some(OptionValue::Text(s)) => Value::string(s.clone()),
                    _ => Value::Null,
                };
                planned.set_value(name, &sent);
            }
        }
        let started = tokio::time::Instant::now();
        let mut out = self
            .finish_create(cloud, region, id, &planned, config, &request.stop)
            .await;
        // The image is available: the import has read the uploaded objects.
        let available = out.state.is_some() && !out.diagnostics.has_errors();
        if available {
            self.share_new_image(cloud, region, id, config, &mut out)
                .await;
            let left =
                state::timeout(config, state::Operation::Create).saturating_sub(started.elapsed());
            self.copy_new_image(cloud, region, id, left, &mut out, &request.stop)
                .await;
        }
        if out.state.is_some() {
            // Terraform has the image now (tainted, if the wait failed): nothing left to find. Only now: a provider
            // killed while the copies were made leaves an image that the next apply must still find.
            self.journal.remove(&create.key);
        }
        if available {
            let deletable = create.lease.finish();
            if !create.keep {
                for w in self.remove_uploads(&create.uploads, &deletable).await {
                    out.diagnostics.push(w);
                }
            }
        }
        out.private = Private {
            import_task: task_id,
            filled: Private::decode(request.private).filled,
            ..Private::default()
        }
        .encode();
        out
    }

    /// Shares a new, available image with the configured accounts. A share that fails does not fail the create
    /// (which would taint, and so replace, an image that is fine): the state records what the cloud shares, a
    /// warning says why, and the next apply shares the rest in place.
    async fn share_new_image(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
        config: &ImageModel,
        out: &mut ApplyOutcome,
    ) {
        let want = shares::accounts(&config.share_with_accounts);
        let Some(state) = out.state.as_ref() else {
            return;
        };
        if want.is_empty() {
            return;
        }
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                out.diagnostics.push(not_configured(&e));
                return;
            }
        };
        let timeout = state::timeout(config, state::Operation::Update);
        let done = shares::apply(
            client.as_ref(),
            region,
            id,
            &BTreeSet::new(),
            &want,
            timeout,
        )
        .await;
        if let Err(d) = done {
            let mut model = ImageModel::from_value(state);
            model.share_with_accounts = Field::Known(
                client
                    .image_shares(region, id)
                    .await
                    .unwrap_or_default()
                    .into(),
            );
            out.state = Some(model.to_value());
            out.diagnostics.push(Diagnostic::warning(
                format!("{cloud} image {id} was made but not shared with every account"),
                format!("{}\n\nThe next apply shares it with the rest.", d.detail),
            ));
        }
    }

    /// Copies a new, available image to the regions of its `copy` blocks and waits for the copies within `timeout`
    /// (what the create timeout leaves). A copy that fails does not fail the create, for the same reason as a
    /// share: an error would taint the image and the next apply would replace it and every copy. The state
    /// records each copy as it came out (`failed` or `copying`), a warning says why, and the next apply makes or
    /// waits for the rest in place.
    async fn copy_new_image(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
        timeout: std::time::Duration,
        out: &mut ApplyOutcome,
        stop: &crate::signal::Signal,
    ) {
        let Some(state) = out.state.as_ref() else {
            return;
        };
        let mut model = ImageModel::from_value(state);
        if model.copy_blocks().is_empty() {
            return;
        }
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                out.diagnostics.push(not_configured(&e));
                return;
            }
        };
        let name = model.name.string().unwrap_or_default();
        let description = model.description.string();
        let source = Source {
            cloud,
            client,
            region,
            id,
            name: &name,
            description: description.as_deref(),
            tags: model.known_tags(),
        };
        let accounts = shares::accounts(&model.share_with_accounts);
        let want = model.copy_blocks().to_vec();
        let outcome = self
            .sync_copies(
                &source,
                &want,
                &[],
                &BTreeMap::new(),
                (&BTreeSet::new(), &accounts),
                timeout,
                stop,
            )
            .await;
        outcome.record(&mut model);
        out.state = Some(model.to_value());
        for d in outcome.diagnostics.0 {
            out.diagnostics.push(Diagnostic {
                severity: crate::provider::diag::Severity::Warning,
                detail: format!(
                    "{}\n\nThe image {id} itself is available and kept. The next apply makes or waits for this copy \
                     in place.",
                    d.detail
                ),
                ..d
            });
        }
    }

    /// The image an earlier attempt of this create started, if one can be proved; an error when the name is
    /// taken by an image that cannot.
    async fn find_earlier(
        &self,
        cloud: Cloud,
        client: &dyn ImageApi,
        region: &str,
        import: &ImportRequest,
        key: &str,
        earlier: Option<&Entry>,
    ) -> Result<Option<Adopted>, Diagnostic> {
        if let Some(entry) = earlier {
            if let Some(id) = &entry.image_id {
                match self.look(cloud, region, id).await {
                    Ok(Some(image)) if image.state != ImageState::Deleting => {
                        return Ok(Some(Adopted {
                            id: id.clone(),
                            task_id: entry.task_id.clone(),
                            why: "the create journal recorded its ID",
                        }))
                    }
                    Ok(_) => {}
                    Err(e) => return Err(cloud_diagnostic(&e, "image read")),
                }
            }
        }
        // An attempt whose recorded image is gone proves nothing about other images of the name.
        let earlier = earlier.filter(|e| e.image_id.is_none());
        // Clouds that refuse a second image of a name answer the import itself with a duplicate error; the others
        // are asked first, so that they never get a second image.
        let unique = cloud.backend().rules().unique_names;
        if unique && earlier.is_none() {
            return Ok(None);
        }
        let found = client
            .find_images_by_name(region, &import.name)
            .await
            .map_err(|e| cloud_diagnostic(&e, "image lookup"))?;
        if let Some(a) = provably_ours(&found, key, earlier) {
            return Ok(Some(a));
        }
        match found.first() {
            Some(other) if !unique => Err(name_taken(
                cloud,
                region,
                &import.name,
                Some(&other.id),
                None,
            )),
            _ => Ok(None),
        }
    }

    /// An import call that failed: a duplicate name may be the earlier attempt's image; an answer that never came
    /// may still have made one, so the journal is kept for the next apply to look again.
    #[allow(clippy::too_many_arguments)]
    async fn after_refused_import(
        &self,
        cloud: Cloud,
        client: &dyn ImageApi,
        region: &str,
        import: &ImportRequest,
        key: &str,
        earlier: Option<&Entry>,
        e: CloudError,
    ) -> Result<Adopted, Diagnostic> {
        if let ErrorKind::Duplicate { existing_id } = &e.kind {
            let found = client
                .find_images_by_name(region, &import.name)
                .await
                .unwrap_or_default();
            // Only an earlier attempt's journal entry proves anything: this attempt's own says nothing about an
            // image that was there before it.
            if let Some(a) = provably_ours(&found, key, earlier) {
                return Ok(a);
            }
            self.journal.remove(key);
            let existing = existing_id
                .as_deref()
                .or(found.first().map(|i| i.id.as_str()));
            return Err(name_taken(cloud, region, &import.name, existing, Some(&e)));
        }
        let mut d = cloud_diagnostic(&e, "image import");
        if e.is_retryable() {
            d.detail.push_str(
                "\n\nThe cloud may have started the import anyway. Apply again: the next apply looks for the \
                 image first and takes it over if the cloud made it, instead of importing a second one.",
            );
        } else {
            self.journal.remove(key);
        }
        Err(d)
    }
}

impl CustomImage {
    /// Waits for a fresh import and turns the outcome into a state and diagnostics.
    async fn finish_create(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
        planned: &ImageModel,
        config: &ImageModel,
        stop: &crate::signal::Signal,
    ) -> ApplyOutcome {
        let timeout = state::timeout(config, state::Operation::Create);
        let label = format!("{cloud}/{region}/{id}");
        let end = wait_for(
            Goal::Available,
            &label,
            timeout,
            self.schedule,
            stop,
            || self.look(cloud, region, id),
        )
        .await;
        let merged = |image: &Image| {
            fill_unknowns(state::merge_image(cloud, planned, region, image).to_value())
        };
        let partial = |image: Option<&Image>| match image {
            Some(i) => merged(i),
            None => state::skeleton(planned, cloud, region, id).to_value(),
        };
        let mut out = ApplyOutcome::default();
        match end {
            WaitEnd::Done(Some(image)) => {
                out.state = Some(merged(&image));
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

/// Computed attributes the cloud did not report after a create become null rather than staying unknown.
fn fill_unknowns(mut v: Value) -> Value {
    crate::provider::invariants::replace_unknowns_with_null(&mut v);
    v
}

fn failed(d: Diagnostic) -> ApplyOutcome {
    let mut out = ApplyOutcome::default();
    out.diagnostics.push(d);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, created: &str, tags: &[(&str, &str)]) -> Image {
        Image {
            id: id.into(),
            created_at: Some(created.into()),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Image::default()
        }
    }

    fn entry(sent_at: i64) -> Entry {
        Entry {
            token: "t".into(),
            sent_at,
            image_id: None,
            task_id: None,
        }
    }

    #[test]
    fn only_provable_images_are_taken_over() {
        let sent = 1_767_225_600; // 2026-01-01T00:00:00Z
        let before = image("old", "2025-12-01T00:00:00Z", &[]);
        let after = image("new", "2026-01-01T00:00:05Z", &[]);
        let marked = image("marked", "2020-01-01T00:00:00Z", &[(MARKER_TAG, "fp")]);
        // The marker proves it without any journal.
        assert_eq!(
            provably_ours(&[before.clone(), marked.clone()], "fp", None).map(|a| a.id),
            Some("marked".into())
        );
        // Another configuration's marker proves nothing.
        assert!(provably_ours(&[marked], "other", None).is_none());
        // Without a journal, a same-named image is someone else's.
        assert!(provably_ours(std::slice::from_ref(&after), "fp", None).is_none());
        // With one, the single image made since the send is ours; an older one is not.
        assert_eq!(
            provably_ours(&[before.clone(), after.clone()], "fp", Some(&entry(sent))).map(|a| a.id),
            Some("new".into())
        );
        assert!(provably_ours(&[before], "fp", Some(&entry(sent))).is_none());
        // Two candidates: no proof which.
        let twin = image("twin", "2026-01-01T00:00:09Z", &[]);
        assert!(provably_ours(&[after, twin], "fp", Some(&entry(sent))).is_none());
    }
}
