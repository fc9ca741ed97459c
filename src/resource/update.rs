//! Updating an image in place: a rename, a new description or new tags, where the cloud allows it; everything
//! else the plan recorded without a call (import settings, values an imported image could not report).

use crate::cloud::ImageUpdate;
use crate::provider::framework::{ApplyOutcome, ApplyRequest};
use crate::provider::Diagnostic;

use super::copies::Source;
use super::diagnostics::{cloud_diagnostic, not_configured};
use super::image::{locate, CustomImage};
use super::model::ImageModel;
use super::private::Private;
use super::shares;
use super::state;

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
        let mut change = ImageUpdate::default();
        if planned.name != prior.name {
            change.name = planned.name.string();
        }
        if planned.description != prior.description {
            change.description = Some(planned.description.string().unwrap_or_default());
        }
        if planned.tags != prior.tags {
            change.tags = Some(planned.known_tags());
        }
        if change.name.is_some() || change.description.is_some() || change.tags.is_some() {
            let client = match self.client(cloud) {
                Ok(c) => c,
                Err(e) => {
                    out.diagnostics.push(not_configured(&e));
                    return out;
                }
            };
            let config = ImageModel::from_value(request.config);
            let timeout = state::timeout(&config, state::Operation::Update);
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
        // The user's tags reach the copies too, where the copy call put them there (ECS); the copies' own marker
        // tags stay (the client never removes `cloudimage:` tags).
        if change.tags.is_some() && cloud.backend().rules().copies.is_some_and(|r| r.tags) {
            let copies = prior.known_copies();
            if let Ok(client) = self.client(cloud) {
                let retag = ImageUpdate {
                    tags: change.tags.clone(),
                    ..ImageUpdate::default()
                };
                let calls = copies.iter().filter_map(|(copy_region, c)| {
                    let copy_id = c.id.string()?;
                    let client = client.clone();
                    let retag = &retag;
                    Some(async move {
                        client
                            .update_image(copy_region, &copy_id, retag)
                            .await
                            .map_err(|e| {
                                cloud_diagnostic(&e, "copy tag update")
                                    .at(crate::cty::Path::root().attr(super::model::attr::COPY))
                            })
                    })
                });
                for done in futures_util::future::join_all(calls).await {
                    if let Err(d) = done {
                        out.diagnostics.push(d);
                        return out;
                    }
                }
            }
        }
        let shares_changed = shares::accounts(&planned.share_with_accounts)
            != shares::accounts(&prior.share_with_accounts);
        if shares_changed {
            let client = match self.client(cloud) {
                Ok(c) => c,
                Err(e) => {
                    out.diagnostics.push(not_configured(&e));
                    return out;
                }
            };
            let config = ImageModel::from_value(request.config);
            let timeout = state::timeout(&config, state::Operation::Update);
            let have = shares::accounts(&prior.share_with_accounts);
            let want = shares::accounts(&planned.share_with_accounts);
            if let Err(d) =
                shares::apply(client.as_ref(), &region, &id, &have, &want, timeout).await
            {
                out.diagnostics.push(d);
                return out;
            }
        }
        // Copies: made, replaced, removed or waited for as the plan says, and shared like the image.
        let copies_change = planned.copy != prior.copy
            || planned.copies != prior.copies
            || (shares_changed && !prior.known_copies().is_empty());
        let mut copied = None;
        if copies_change {
            let client = match self.client(cloud) {
                Ok(c) => c,
                Err(e) => {
                    out.diagnostics.push(not_configured(&e));
                    return out;
                }
            };
            let config = ImageModel::from_value(request.config);
            let name = planned.name.string().unwrap_or_default();
            let description = planned.description.string();
            let source = Source {
                cloud,
                client,
                region: &region,
                id: &id,
                name: &name,
                description: description.as_deref(),
                tags: planned.known_tags(),
            };
            let outcome = self
                .sync_copies(
                    &source,
                    planned.copy_blocks(),
                    prior.copy_blocks(),
                    &prior.known_copies(),
                    (
                        &shares::accounts(&prior.share_with_accounts),
                        &shares::accounts(&planned.share_with_accounts),
                    ),
                    state::timeout(&config, state::Operation::Update),
                    &request.stop,
                )
                .await;
            copied = Some(outcome);
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
}
