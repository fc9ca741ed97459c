//! Deleting an image: the delete call, a wait for an import still running (cancelled where the cloud can), and a
//! wait until the cloud stops listing the image.

use crate::cloud::{Cloud, ErrorKind, ImageApi, ImageState};
use crate::provider::framework::ApplyRequest;
use crate::provider::{Diagnostic, Diagnostics};

use super::copies::{self, Source};
use super::diagnostics::{cloud_diagnostic, not_configured};
use super::image::{locate, CustomImage};
use super::model::ImageModel;
use super::private::Private;
use super::shares;
use super::state;
use super::wait::{wait_for, Goal, WaitEnd};

impl CustomImage {
    /// ApplyResourceChange for a destroy.
    pub(super) async fn apply_delete(&self, request: ApplyRequest<'_>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let prior = request
            .prior
            .map(ImageModel::from_value)
            .unwrap_or_default();
        let Some((cloud, region, id)) = locate(&prior) else {
            return diags;
        };
        let client = match self.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                diags.push(not_configured(&e));
                return diags;
            }
        };
        tracing::info!(cloud = %cloud, region = %region, image = %id, "deleting image");
        let timeout = state::timeout(&prior, state::Operation::Delete);
        // Unshare first: the clouds refuse to delete a shared image (or would leave other accounts an image that
        // is about to go).
        if !shares::accounts(&prior.share_with_accounts).is_empty() {
            if let Err(e) = shares::unshare_all(client.as_ref(), &region, &id).await {
                diags.push(shares::share_diagnostic(&e));
                return diags;
            }
        }
        // Then the copies: a copy is an image of its own that nothing else would delete, and ECS refuses to
        // delete an image while a copy of it is being made.
        if !prior.known_copies().is_empty() {
            if let Err(d) = self
                .delete_copies(
                    client.clone(),
                    cloud,
                    &region,
                    &id,
                    &prior,
                    timeout,
                    &request.stop,
                )
                .await
            {
                diags.push(d);
                return diags;
            }
        }
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

    /// Deletes every copy `prior` records, all at once, within `timeout`; the first failure is returned (the copies
    /// not deleted stay in state, and so does the image).
    #[allow(clippy::too_many_arguments)]
    async fn delete_copies(
        &self,
        client: std::sync::Arc<dyn ImageApi>,
        cloud: Cloud,
        region: &str,
        id: &str,
        prior: &ImageModel,
        timeout: std::time::Duration,
        stop: &crate::signal::Signal,
    ) -> Result<(), Diagnostic> {
        let deadline = tokio::time::Instant::now() + timeout;
        let source = Source {
            cloud,
            client,
            region,
            id,
            name: prior.name.text().unwrap_or_default(),
            description: prior.description.text(),
            tags: Default::default(),
        };
        let shared = !shares::accounts(&prior.share_with_accounts).is_empty();
        let copies = prior.known_copies();
        let deletions = copies.iter().filter_map(|(copy_region, c)| {
            let copy_id = c.id.text()?;
            let copying = c.status.text() == Some(copies::COPYING);
            Some(self.delete_copy(
                &source,
                copy_region,
                copy_id,
                copying,
                shared,
                deadline,
                stop,
            ))
        });
        for done in futures_util::future::join_all(deletions).await {
            done?;
        }
        Ok(())
    }

    /// Sends the delete, and when the cloud refuses because the image is still importing (a create that timed
    /// out or was interrupted), cancels the import where the cloud can and otherwise waits for it to end, then
    /// deletes; all within the delete timeout. `Ok(false)`: the image went away by itself meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn delete_when_possible(
        &self,
        client: &dyn ImageApi,
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
        let mut unshared = false;
        loop {
            let e = match client.delete_image(region, id).await {
                Ok(()) => return Ok(true),
                // Shared outside Terraform: unshare, then try again (once).
                Err(e)
                    if !unshared
                        && cloud
                            .backend()
                            .rules()
                            .delete_refused_while_shared
                            .contains(&e.code.as_str()) =>
                {
                    shares::unshare_all(client, region, id)
                        .await
                        .map_err(|e| shares::share_diagnostic(&e))?;
                    unshared = true;
                    continue;
                }
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
