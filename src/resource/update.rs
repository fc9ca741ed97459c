//! Updating an image in place: a rename, a new description or new tags, where the cloud allows it; shares and
//! copies as the plan says; everything else the plan recorded without a call (import settings, values an imported
//! image could not report).

use std::sync::Arc;
use std::time::Duration;

use crate::cloud::{Cloud, ImageApi, ImageUpdate};
use crate::cty::Path;
use crate::provider::framework::{ApplyOutcome, ApplyRequest};
use crate::provider::Diagnostic;

use super::copies::{Outcome, Source};
use super::diagnostics::{cloud_diagnostic, not_configured};
use super::image::{locate, CustomImage};
use super::model::{attr, ImageModel};
use super::private::Private;
use super::shares;
use super::state;

/// What an update changes, from prior state and plan.
struct Changes {
    /// Name, description, tags of the image.
    image: ImageUpdate,
    /// The accounts it is shared with.
    shares: bool,
    /// Its copies (blocks, a copy to make again or wait for, or the shares of existing copies).
    copies: bool,
}

impl Changes {
    fn of(prior: &ImageModel, planned: &ImageModel) -> Self {
        let mut image = ImageUpdate::default();
        if planned.name != prior.name {
            image.name = planned.name.string();
        }
        if planned.description != prior.description {
            image.description = Some(planned.description.string().unwrap_or_default());
        }
        if planned.tags != prior.tags {
            image.tags = Some(planned.known_tags());
        }
        let shares = shares::accounts(&planned.share_with_accounts)
            != shares::accounts(&prior.share_with_accounts);
        let copies = planned.copy != prior.copy
            || planned.copies != prior.copies
            || (shares && !prior.known_copies().is_empty());
        Changes {
            image,
            shares,
            copies,
        }
    }

    fn of_image(&self) -> bool {
        self.image.name.is_some() || self.image.description.is_some() || self.image.tags.is_some()
    }

    fn any(&self) -> bool {
        self.of_image() || self.shares || self.copies
    }
}

impl CustomImage {
    /// ApplyResourceChange for an existing image.
    pub(super) async fn apply_update(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        let prior = request
            .prior
            .map(ImageModel::from_value)
            .unwrap_or_default();
        let Some((cloud, region, id)) = locate(&prior) else {
            out.diagnostics.push(Diagnostic::error(
                "Cannot update: the state has no image ID",
                "",
            ));
            return out;
        };
        let planned = ImageModel::from_value(request.planned);
        let changes = Changes::of(&prior, &planned);
        let mut copied = None;
        if changes.any() {
            let client = match self.client(cloud) {
                Ok(c) => c,
                Err(e) => {
                    out.diagnostics.push(not_configured(&e));
                    return out;
                }
            };
            let config = ImageModel::from_value(request.config);
            let timeout = state::timeout(&config, state::Operation::Update);
            let step = Step {
                cloud,
                client,
                region: &region,
                id: &id,
                prior: &prior,
                planned: &planned,
                timeout,
            };
            if let Err(d) = step.image(&changes).await {
                out.diagnostics.push(d);
                return out;
            }
            if changes.shares {
                if let Err(d) = step.shares().await {
                    out.diagnostics.push(d);
                    return out;
                }
            }
            if changes.copies {
                copied = Some(self.update_copies(&step, &request).await);
            }
        }
        // Read back what the cloud now reports; attributes it cannot report come from the plan.
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                let mut merged = state::merge_image(cloud, &planned, &region, &image);
                if let Some(outcome) = copied {
                    outcome.record(&mut merged);
                    // A copy that failed fails the update; the state records what exists, and the next plan shows
                    // what is still to do.
                    out.diagnostics.extend(outcome.diagnostics);
                }
                // Name, description and tags as planned: a cloud that lists with a delay must not look like drift.
                merged.name = planned.name.clone();
                merged.description = planned.description.clone();
                merged.tags = planned.tags.clone();
                merged.share_with_accounts = planned.share_with_accounts.clone();
                let state = merged.to_value();
                // What configuration now gives is no longer waiting to be filled in.
                let before = Private::decode(request.private);
                out.private = Private {
                    unreported: state::still_unreported(&before, &state),
                    ..before.for_state()
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

    /// Makes, replaces, removes or waits for the copies as the plan says, and shares them like the image.
    async fn update_copies(&self, step: &Step<'_>, request: &ApplyRequest<'_>) -> Outcome {
        let name = step.planned.name.string().unwrap_or_default();
        let description = step.planned.description.string();
        let source = Source {
            cloud: step.cloud,
            client: step.client.clone(),
            region: step.region,
            id: step.id,
            name: &name,
            description: description.as_deref(),
            tags: step.planned.known_tags(),
        };
        self.sync_copies(
            &source,
            step.planned.copy_blocks(),
            step.prior.copy_blocks(),
            &step.prior.known_copies(),
            (
                &shares::accounts(&step.prior.share_with_accounts),
                &shares::accounts(&step.planned.share_with_accounts),
            ),
            step.timeout,
            &request.stop,
        )
        .await
    }
}

/// One update's calls, with what they all need.
struct Step<'a> {
    cloud: Cloud,
    client: Arc<dyn ImageApi>,
    region: &'a str,
    id: &'a str,
    prior: &'a ImageModel,
    planned: &'a ImageModel,
    timeout: Duration,
}

impl Step<'_> {
    /// Renames, re-describes or re-tags the image; new tags reach its copies too where the copy call put tags on
    /// them (ECS), the copies' own marker tags staying (the client never removes `cloudimage:` tags).
    async fn image(&self, changes: &Changes) -> Result<(), Diagnostic> {
        if !changes.of_image() {
            return Ok(());
        }
        let (cloud, id) = (self.cloud, self.id);
        match tokio::time::timeout(
            self.timeout,
            self.client.update_image(self.region, id, &changes.image),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(cloud_diagnostic(&e, "image update")),
            Err(_) => {
                return Err(Diagnostic::error(
                    format!("Timed out updating {cloud} image {id}"),
                    "Raise timeouts.update.",
                ))
            }
        }
        let copies_take_tags = cloud.backend().rules().copies.is_some_and(|r| r.tags);
        if changes.image.tags.is_none() || !copies_take_tags {
            return Ok(());
        }
        let retag = ImageUpdate {
            tags: changes.image.tags.clone(),
            ..ImageUpdate::default()
        };
        let copies = self.prior.known_copies();
        let calls = copies.iter().filter_map(|(copy_region, c)| {
            let copy_id = c.id.string()?;
            let retag = &retag;
            Some(async move {
                self.client
                    .update_image(copy_region, &copy_id, retag)
                    .await
                    .map_err(|e| {
                        cloud_diagnostic(&e, "copy tag update").at(Path::root().attr(attr::COPY))
                    })
            })
        });
        for done in futures_util::future::join_all(calls).await {
            done?;
        }
        Ok(())
    }

    /// Shares and unshares the image as the plan says (its copies follow in [`CustomImage::update_copies`]).
    async fn shares(&self) -> Result<(), Diagnostic> {
        let have = shares::accounts(&self.prior.share_with_accounts);
        let want = shares::accounts(&self.planned.share_with_accounts);
        shares::apply(
            self.client.as_ref(),
            self.region,
            self.id,
            &have,
            &want,
            self.timeout,
        )
        .await
    }
}
