//! Copies of an image in other regions of the same account: the `copy` blocks say which regions and how, `copies`
//! reports each copy's image ID and status by region.
//!
//! A copy is an image of its own in its region, so everything that holds for the image holds for it: it is waited
//! for like an import (the same polls, batched per cloud and region), a copy that a killed provider started is
//! found again instead of being made twice, and it is shared with the image's accounts (the clouds share per
//! region and image ID). What a copy is never allowed to do is replace the image it was copied from: adding,
//! removing or changing a copy is an in-place update of the resource, and only of that copy.
//!
//! A copy's fate is keyed by region. Its options (`name`, `description`, `encrypted`, `kms_key_id`) are fixed when
//! it is made: a change makes a new copy in place of the old one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use sha2::{Digest, Sha256};

use crate::cloud::{
    Cloud, CloudError, CopyRequest, ErrorKind, Image, ImageApi, ImageFilter, ImageState,
};
use crate::cty::Path;
use crate::provider::{Diagnostic, Diagnostics};
use crate::signal::Signal;

use super::diagnostics::cloud_diagnostic;
use super::image::CustomImage;
use super::journal::Entry;
use super::limits;
use super::marker::MARKER_TAG;
use super::model::{attr, CopyModel, CopyResultModel, CopySet, Field, ImageModel};
use super::shares;
use super::validate::capitalised;
use super::wait::{wait_for, Goal, WaitEnd};

/// `copies[*].status` of a copy that can boot instances.
pub(super) const AVAILABLE: &str = "available";
/// `copies[*].status` of a copy still being made.
pub(super) const COPYING: &str = "copying";
/// `copies[*].status` of a copy the cloud gave up on (the next plan makes it again).
pub(super) const FAILED: &str = "failed";

/// How far apart this machine's clock and the cloud's may be when a journal's send time is compared with a copy's
/// creation time.
const CLOCK_SKEW_SECS: i64 = 60;

/// The status word of a copy the cloud describes.
pub(super) fn status_of(image: &Image) -> &'static str {
    match image.state {
        ImageState::Importing => COPYING,
        ImageState::Available => AVAILABLE,
        ImageState::Failed => FAILED,
        ImageState::Deleting => "deleting",
    }
}

/// Whether the copy `had` made (recorded as `recorded`) is what `want` asks for: the same options (an unset flag
/// is `false`), and, where `want` names an image to adopt, that image.
pub(super) fn keeps(had: &CopyModel, want: &CopyModel, recorded: Option<&str>) -> bool {
    let flag = |f: &Field<bool>| f.known().copied().unwrap_or(false);
    had.region == want.region
        && had.name == want.name
        && had.description == want.description
        && flag(&had.encrypted) == flag(&want.encrypted)
        && had.kms_key_id == want.kms_key_id
        && (want.image_id.is_null() || want.image_id.text() == recorded)
}

/// The `copy` blocks of a model by region (blocks whose region is not known are left out).
fn by_region(blocks: &[CopyModel]) -> BTreeMap<String, &CopyModel> {
    blocks
        .iter()
        .filter_map(|b| b.region.string().map(|r| (r, b)))
        .collect()
}

/// The planned `copies`: the prior entry of each region whose copy stays as it is (same options, available), an
/// unknown entry for each copy the apply makes or waits for, nothing for a region no longer configured; wholly
/// unknown while the blocks or a region are. `prior` is `None` for a new image (a create or a replacement), whose
/// copies are all made anew.
pub(super) fn planned(
    config: &ImageModel,
    prior: Option<&ImageModel>,
) -> Field<BTreeMap<String, Field<CopyResultModel>>> {
    let Some(blocks) = config.copy.known() else {
        return if config.copy.is_null() {
            Field::Null
        } else {
            Field::unknown()
        };
    };
    if blocks.0.iter().any(|b| !b.region.is_known()) {
        return Field::unknown();
    }
    let (kept_blocks, results) = match prior {
        Some(p) => (by_region(p.copy_blocks()), p.known_copies()),
        None => (BTreeMap::new(), BTreeMap::new()),
    };
    let mut out = BTreeMap::new();
    for block in &blocks.0 {
        let Some(region) = block.region.string() else {
            continue;
        };
        let kept = results.get(&region).filter(|r| {
            r.status.text() == Some(AVAILABLE)
                && kept_blocks
                    .get(&region)
                    .is_some_and(|was| keeps(was, block, r.id.text()))
        });
        out.insert(
            region,
            match kept {
                Some(r) => Field::Known(r.clone()),
                None => Field::unknown(),
            },
        );
    }
    Field::Known(out)
}

/// Plan-time checks of the `copy` blocks against the cloud's copy rules and the image's region.
pub(super) fn check(cloud: Cloud, config: &ImageModel, image_region: Option<&str>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(rules) = cloud.backend().rules().copies else {
        return diags;
    };
    let at = || Path::root().attr(attr::COPY);
    let blocks = config.copy_blocks();
    let mut seen = BTreeSet::new();
    for b in blocks {
        let Some(region) = b.region.text() else {
            continue;
        };
        // The same checks as the image's own region, name and description.
        let problems = [
            ("Invalid copy region", limits::region_problem(region)),
            (
                "Invalid copy name",
                b.name
                    .text()
                    .and_then(|n| limits::image_name_problem(cloud, n)),
            ),
            (
                "Invalid copy description",
                b.description
                    .text()
                    .and_then(|d| limits::description_problem(cloud, d)),
            ),
        ];
        for (summary, problem) in problems {
            if let Some(p) = problem {
                diags.push(Diagnostic::error(summary, capitalised(&p)).at(at()));
            }
        }
        if !seen.insert(region) {
            diags.push(
                Diagnostic::error(
                    "Two copies to one region",
                    format!("Region {region:?} has more than one copy block; an image has one copy per region."),
                )
                .at(at()),
            );
        }
        if Some(region) == image_region {
            diags.push(
                Diagnostic::error(
                    "A copy in the image's own region",
                    format!(
                        "The image is in {region}; a copy goes to another region (the clouds refuse a copy to the \
                         source's region: ECS IncorrectDestinationRegion, Tencent InvalidRegion)."
                    ),
                )
                .at(at()),
            );
        }
        if b.description.is_set() && !rules.description {
            diags.push(
                Diagnostic::error(
                    "A copy's description is not supported here",
                    format!("{cloud}'s copy keeps the image's description; remove description from the copy block."),
                )
                .at(at()),
            );
        }
        let encrypted = b.encrypted.known() == Some(&true);
        if encrypted && !rules.encryption {
            diags.push(
                Diagnostic::error(
                    "Encrypted copies are not supported here",
                    format!("{cloud} cannot encrypt a copy in another region; remove encrypted from the copy block."),
                )
                .at(at()),
            );
        }
        if b.kms_key_id.is_set() && b.encrypted.known() == Some(&false) {
            diags.push(
                Diagnostic::error(
                    "kms_key_id without encrypted",
                    "A KMS key encrypts the copy: set encrypted = true with it (ECS refuses KMSKeyId otherwise: \
                     InvalidParameter.EncryptedIllegal).",
                )
                .at(at()),
            );
        }
    }
    if let Some(max) = rules.max_copies.filter(|max| blocks.len() > *max) {
        diags.push(
            Diagnostic::error(
                "Too many copies",
                format!(
                    "On {cloud} an image has at most {max} copies; {} are configured.",
                    blocks.len()
                ),
            )
            .at(at()),
        );
    }
    diags
}

/// The journal key of one copy: the account, the image copied, and everything the copy call asks for. Two applies
/// that would make the same copy have the same key; the marker tag carries it where the copy call takes tags.
fn copy_key(account: &str, req: &CopyRequest) -> String {
    let CopyRequest {
        source_region,
        source_id,
        region,
        name,
        description,
        encrypted,
        kms_key_id,
        tags: _,
        idempotency_token: _,
    } = req;
    let mut h = Sha256::new();
    for part in [
        "copy",
        account,
        source_region,
        source_id,
        region,
        name,
        description.as_deref().unwrap_or(""),
        if *encrypted { "encrypted" } else { "" },
        kms_key_id.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
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

/// The image the copies are made from, and what they inherit from it.
pub(super) struct Source<'a> {
    /// The cloud.
    pub cloud: Cloud,
    /// Its client.
    pub client: Arc<dyn ImageApi>,
    /// Its region.
    pub region: &'a str,
    /// Its ID.
    pub id: &'a str,
    /// Its name (a copy's default name).
    pub name: &'a str,
    /// Its description (a copy's default description, where the copy call takes one).
    pub description: Option<&'a str>,
    /// Its tags (put on copies where the copy call takes tags).
    pub tags: BTreeMap<String, String>,
}

/// What the copies came to after an apply: the `copy` blocks and `copies` entries the state records, and what went
/// wrong.
pub(super) struct Outcome {
    /// The blocks of the copies wanted, and of removed copies that could not be deleted.
    pub blocks: Vec<CopyModel>,
    /// Each existing copy's ID and status.
    pub results: BTreeMap<String, CopyResultModel>,
    /// What went wrong, as errors; the caller decides whether they fail the apply.
    pub diagnostics: Diagnostics,
}

impl Outcome {
    /// Writes the outcome into a state: the blocks as configured (in the state's own form when unchanged), and
    /// `copies`.
    pub(super) fn record(&self, state: &mut ImageModel) {
        let same_blocks = state.copy.known().is_some_and(|s| {
            s.0.len() == self.blocks.len() && s.0.iter().all(|b| self.blocks.contains(b))
        });
        if !same_blocks {
            state.copy = Field::Known(CopySet(self.blocks.clone()));
        }
        state.copies = Field::Known(
            self.results
                .iter()
                .map(|(r, c)| (r.clone(), Field::Known(c.clone())))
                .collect(),
        );
    }
}

/// One copy that exists (or is being made): its region, block and image.
struct Existing {
    region: String,
    block: CopyModel,
    id: String,
    status: String,
    /// Already shared with the prior state's accounts (it was available then).
    shared: bool,
}

impl CustomImage {
    /// Makes the copies of `want` exist, starting from `have` (the prior state's blocks and copies; empty for a new
    /// image): deletes the copies of regions no longer wanted and of changed or failed copies, makes the missing
    /// ones (or takes over those an interrupted apply started), waits for them all within `timeout`, and shares
    /// new copies with `accounts` (and every copy with `added`/`removed` accounts when the shares changed).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sync_copies(
        &self,
        source: &Source<'_>,
        want: &[CopyModel],
        have_blocks: &[CopyModel],
        have: &BTreeMap<String, CopyResultModel>,
        accounts: (&BTreeSet<String>, &BTreeSet<String>),
        timeout: Duration,
        stop: &Signal,
    ) -> Outcome {
        let deadline = tokio::time::Instant::now() + timeout;
        let (shared_before, shared_now) = accounts;
        let mut diagnostics = Diagnostics::new();
        let wanted = by_region(want);
        let had = by_region(have_blocks);
        // Keep the copies whose block is unchanged and that did not fail; everything else in `have` goes.
        let mut kept = Vec::new();
        let mut doomed = Vec::new();
        for (region, result) in have {
            let Some(id) = result.id.string() else {
                continue;
            };
            let stays = wanted.get(region).is_some_and(|w| {
                had.get(region).is_some_and(|h| keeps(h, w, Some(&id)))
                    && result.status.text() != Some(FAILED)
            });
            if stays {
                kept.push(Existing {
                    region: region.clone(),
                    block: (*wanted[region]).clone(),
                    id,
                    status: result.status.string().unwrap_or_default(),
                    shared: result.status.text() == Some(AVAILABLE),
                });
            } else {
                doomed.push((region.clone(), id, result.status.text() == Some(COPYING)));
            }
        }
        // Removed and replaced copies go first: a replaced copy keeps its name otherwise, which ECS and Tencent
        // refuse to give a second image in one region.
        let removals = doomed.iter().map(|(region, id, copying)| {
            self.delete_copy(
                source,
                region,
                id,
                *copying,
                !shared_before.is_empty(),
                deadline,
                stop,
            )
        });
        for (done, (region, id, _)) in join_all(removals).await.into_iter().zip(&doomed) {
            if let Err(d) = done {
                diagnostics.push(d);
                // A copy that is still there stays recorded, so that nothing is lost from state.
                if let Some(block) = had.get(region) {
                    kept.push(Existing {
                        region: region.clone(),
                        block: (*block).clone(),
                        id: id.clone(),
                        status: have[region].status.string().unwrap_or_default(),
                        shared: true,
                    });
                }
            }
        }
        // Make the missing ones.
        let making: Vec<&CopyModel> = wanted
            .iter()
            .filter(|(region, _)| !kept.iter().any(|k| &k.region == *region))
            .map(|(_, b)| *b)
            .collect();
        let started = self.start_copies(source, &making).await;
        let mut fresh = Vec::new();
        let mut keys = Vec::new();
        let mut not_started = Vec::new();
        for (block, result) in making.iter().zip(started) {
            match result {
                Ok((id, key)) => {
                    keys.push(key);
                    fresh.push(Existing {
                        region: block.region.string().unwrap_or_default(),
                        block: (*block).clone(),
                        id,
                        status: COPYING.to_string(),
                        shared: false,
                    });
                }
                Err(d) => {
                    diagnostics.push(d);
                    not_started.push((*block).clone());
                }
            }
        }
        // Wait for the new ones and for kept copies still being made.
        let waits = kept
            .iter_mut()
            .chain(fresh.iter_mut())
            .filter(|c| c.status != AVAILABLE)
            .map(|c| async move {
                let end = self
                    .wait_copy(source, &c.region, &c.id, deadline, stop)
                    .await;
                (c, end)
            });
        for (c, end) in join_all(waits).await {
            match end {
                Ok(status) => c.status = status.to_string(),
                Err((status, d)) => {
                    if let Some(s) = status {
                        c.status = s.to_string();
                    }
                    diagnostics.push(d);
                }
            }
        }
        // Shares: a copy that was available before gets the change of accounts; one that became available now
        // gets them all.
        let shares_work = kept
            .iter()
            .chain(fresh.iter())
            .filter(|c| c.status == AVAILABLE)
            .map(|c| {
                let from = if c.shared {
                    shared_before.clone()
                } else {
                    BTreeSet::new()
                };
                let remaining = deadline
                    .saturating_duration_since(tokio::time::Instant::now())
                    .max(Duration::from_secs(30));
                let client = source.client.clone();
                async move {
                    shares::apply(
                        client.as_ref(),
                        &c.region,
                        &c.id,
                        &from,
                        shared_now,
                        remaining,
                    )
                    .await
                }
            });
        for d in join_all(shares_work)
            .await
            .into_iter()
            .filter_map(Result::err)
        {
            diagnostics.push(d);
        }
        let mut outcome = Outcome {
            blocks: Vec::new(),
            results: BTreeMap::new(),
            diagnostics,
        };
        for c in kept.into_iter().chain(fresh) {
            outcome.blocks.push(c.block);
            outcome.results.insert(
                c.region,
                CopyResultModel {
                    id: Field::Known(c.id),
                    status: Field::Known(c.status),
                },
            );
        }
        // A copy that could not be started is recorded as failed, without an ID: its block stays as planned (a
        // create's state must match its plan), and the next plan makes it again.
        for block in not_started {
            if let Some(region) = block.region.string() {
                outcome.results.insert(
                    region,
                    CopyResultModel {
                        id: Field::Null,
                        status: Field::Known(FAILED.to_string()),
                    },
                );
            }
            outcome.blocks.push(block);
        }
        for key in keys {
            self.journal.remove(&key);
        }
        outcome
    }

    /// The copy request of one block.
    fn copy_request(&self, source: &Source<'_>, block: &CopyModel) -> CopyRequest {
        let rules = source.cloud.backend().rules().copies;
        let takes = |f: fn(&crate::cloud::rules::CopyRules) -> bool| rules.as_ref().is_some_and(f);
        CopyRequest {
            source_region: source.region.to_string(),
            source_id: source.id.to_string(),
            region: block.region.string().unwrap_or_default(),
            name: block
                .name
                .string()
                .unwrap_or_else(|| source.name.to_string()),
            description: if takes(|r| r.description) {
                block
                    .description
                    .string()
                    .or_else(|| source.description.map(str::to_string))
                    .filter(|d| !d.is_empty())
            } else {
                None
            },
            encrypted: block.encrypted.known() == Some(&true),
            kms_key_id: block.kms_key_id.string(),
            tags: if takes(|r| r.tags) {
                source.tags.clone()
            } else {
                BTreeMap::new()
            },
            idempotency_token: String::new(),
        }
    }

    /// Starts the copies of `blocks`, or takes over those an interrupted apply started for the same blocks
    /// (recorded in the journal, or carrying the copy's marker tag, or, after a call that was never answered, the
    /// one image of the copy's name made since). The copies to make are recorded in the journal, then asked for in
    /// one go ([`ImageApi::copy_images`]: one call for several regions where the cloud takes them). Returns each
    /// copy's ID and its journal key (to forget once the state has it), in the order of `blocks`.
    async fn start_copies(
        &self,
        source: &Source<'_>,
        blocks: &[&CopyModel],
    ) -> Vec<Result<(String, String), Diagnostic>> {
        let cloud = source.cloud;
        let client = source.client.as_ref();
        let account = client.account();
        let prepared = join_all(blocks.iter().map(|block| async {
            let mut req = self.copy_request(source, block);
            let key = copy_key(&account, &req);
            // An image named to be adopted is taken as it is, if it is there.
            if let Some(id) = block.image_id.string() {
                return match self.look(cloud, &req.region, &id).await {
                    Ok(Some(image)) if image.state != ImageState::Deleting => {
                        tracing::info!(cloud = %cloud, region = %req.region, image = %id, source = source.id,
                            "adopting an existing image as the copy");
                        Ok(Err((id, key)))
                    }
                    Ok(_) => Err(Diagnostic::error(
                        format!("No image {id} in {cloud} {} to adopt as a copy", req.region),
                        "The copy block's image_id names an image that the cloud does not list in the copy's region. \
                         Check the ID and the region, or remove image_id to copy the image instead.",
                    )
                    .at(Path::root().attr(attr::COPY))),
                    Err(e) => Err(copy_diagnostic(&e, &req.region)),
                };
            }
            let earlier = self.journal.load(&key);
            if let Some(id) = self
                .earlier_copy(source, &req, &key, earlier.as_ref())
                .await?
            {
                tracing::info!(cloud = %cloud, region = %req.region, image = %id, source = source.id,
                    "taking over the copy an earlier apply started");
                return Ok(Err((id, key)));
            }
            if cloud.backend().rules().copies.is_some_and(|r| r.tags) {
                req.tags.insert(MARKER_TAG.to_string(), key.clone());
            }
            // A call that was never answered is repeated with its token (ECS then answers with the copy it made).
            let repeat = earlier.filter(|e| e.image_id.is_none());
            let entry = Entry {
                token: repeat
                    .as_ref()
                    .map(|e| e.token.clone())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                sent_at: repeat.as_ref().map_or_else(now_secs, |e| e.sent_at),
                image_id: None,
                task_id: None,
            };
            if let Err(e) = self.journal.save(&key, &entry) {
                tracing::warn!(error = %e, "cannot write the create journal; a copy interrupted now may be made twice");
            }
            req.idempotency_token = entry.token.clone();
            Ok(Ok((req, key, entry)))
        }))
        .await;
        // `Ok(Err(..))`: taken over; `Ok(Ok(..))`: to send.
        let mut out: Vec<Option<Result<(String, String), Diagnostic>>> = vec![None; blocks.len()];
        let mut sending = Vec::new();
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Err(d) => out[i] = Some(Err(d)),
                Ok(Err(adopted)) => out[i] = Some(Ok(adopted)),
                Ok(Ok(send)) => sending.push((i, send)),
            }
        }
        if !sending.is_empty() {
            let reqs: Vec<CopyRequest> = sending.iter().map(|(_, (r, _, _))| r.clone()).collect();
            tracing::info!(cloud = %cloud, source = source.id, from = source.region,
                to = ?reqs.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(), "copying image");
            let answers = client.copy_images(&reqs).await;
            for ((i, (req, key, entry)), answer) in sending.into_iter().zip(answers) {
                out[i] = Some(match answer {
                    Ok(id) => {
                        let _ = self.journal.save(
                            &key,
                            &Entry {
                                image_id: Some(id.clone()),
                                ..entry
                            },
                        );
                        Ok((id, key))
                    }
                    Err(e) => {
                        let mut d = copy_diagnostic(&e, &req.region);
                        if e.is_retryable() {
                            d.detail.push_str(
                                "\n\nThe cloud may have started the copy anyway. Apply again: the next apply looks \
                                 for it first and takes it over instead of copying a second time.",
                            );
                        } else {
                            self.journal.remove(&key);
                        }
                        Err(d)
                    }
                });
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Diagnostic::error("A copy was neither made nor found", "")
                        .at(Path::root().attr(attr::COPY)))
                })
            })
            .collect()
    }

    /// The copy an earlier, interrupted apply started for `req`, if one can be proved.
    async fn earlier_copy(
        &self,
        source: &Source<'_>,
        req: &CopyRequest,
        key: &str,
        earlier: Option<&Entry>,
    ) -> Result<Option<String>, Diagnostic> {
        let cloud = source.cloud;
        let client = source.client.as_ref();
        let live = |i: &Image| i.state != ImageState::Deleting;
        if let Some(id) = earlier.and_then(|e| e.image_id.as_deref()) {
            match self.look(cloud, &req.region, id).await {
                Ok(Some(image)) if live(&image) => return Ok(Some(id.to_string())),
                Ok(_) => {}
                Err(e) => return Err(copy_diagnostic(&e, &req.region)),
            }
            // Its recorded copy is gone: nothing else is proved by this entry.
            self.journal.remove(key);
            return Ok(None);
        }
        if cloud.backend().rules().copies.is_some_and(|r| r.tags) {
            let filter = ImageFilter {
                name_contains: None,
                tags: [(MARKER_TAG.to_string(), key.to_string())].into(),
            };
            let page = client
                .list_images(&req.region, &filter, 0)
                .await
                .map_err(|e| copy_diagnostic(&e, &req.region))?;
            if let Some(found) = page
                .images
                .iter()
                .find(|i| live(i) && i.tags.get(MARKER_TAG).map(String::as_str) == Some(key))
            {
                return Ok(Some(found.id.clone()));
            }
        }
        let Some(entry) = earlier else {
            return Ok(None);
        };
        // The call was sent and never answered. ECS repeats it with the token; elsewhere the one image of the
        // copy's name made since the call is the copy.
        if cloud.backend().rules().copies.is_some_and(|r| r.tags) {
            return Ok(None);
        }
        let found = client
            .find_images_by_name(&req.region, &req.name)
            .await
            .map_err(|e| copy_diagnostic(&e, &req.region))?;
        let since: Vec<&Image> = found
            .iter()
            .filter(|i| live(i))
            .filter(|i| created_secs(i).is_some_and(|t| t >= entry.sent_at - CLOCK_SKEW_SECS))
            .collect();
        Ok(match since.as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        })
    }

    /// Waits for one copy until it is available, failed, or the deadline. `Ok(status)` when it ended, else the
    /// last status seen (if any) and the error.
    async fn wait_copy(
        &self,
        source: &Source<'_>,
        region: &str,
        id: &str,
        deadline: tokio::time::Instant,
        stop: &Signal,
    ) -> Result<&'static str, (Option<&'static str>, Diagnostic)> {
        let cloud = source.cloud;
        let label = format!("{cloud}/{region}/{id} (copy of {})", source.id);
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
        let at = || Path::root().attr(attr::COPY);
        match wait_for(Goal::Available, &label, timeout, self.schedule, stop, || {
            self.look(cloud, region, id)
        })
        .await
        {
            WaitEnd::Done(Some(_)) => Ok(AVAILABLE),
            WaitEnd::Done(None) => Err((
                None,
                Diagnostic::error(
                    format!("The {region} copy {id} of {cloud} image {} disappeared", source.id),
                    "The copy call returned this ID, but the cloud stopped listing the image. The next apply copies \
                     again.",
                )
                .at(at()),
            )),
            WaitEnd::Failed(image) => Err((
                Some(FAILED),
                Diagnostic::error(
                    format!("{cloud} could not copy image {} to {region}", source.id),
                    format!(
                        "The copy {id} is in state {:?}{}. It is recorded as failed; the next apply deletes it and \
                         copies again.",
                        image.raw_state,
                        image.failure_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                    ),
                )
                .at(at()),
            )),
            WaitEnd::TimedOut(image) => Err((
                image.as_ref().map(status_of),
                Diagnostic::error(
                    format!("Timed out waiting for the {region} copy {id} of {cloud} image {}", source.id),
                    format!(
                        "The copy was still {} when the timeout ran out. It is recorded as it is; the next apply waits \
                         for it again. Raise the timeout if copies of this size take longer.",
                        image.as_ref().map(|i| i.raw_state.as_str()).unwrap_or("not listed"),
                    ),
                )
                .at(at()),
            )),
            WaitEnd::Stopped(image) => Err((
                image.as_ref().map(status_of),
                Diagnostic::error(
                    format!("Interrupted while waiting for the {region} copy {id}"),
                    "Terraform was asked to stop. The copy is recorded; the next apply waits for it.",
                )
                .at(at()),
            )),
            WaitEnd::Error(e) => Err((None, copy_diagnostic(&e, region))),
        }
    }

    /// Deletes one copy: unshared first (where the image was shared), cancelled where it is still being made and
    /// the cloud can cancel (otherwise waited for, since the clouds refuse to delete a copy in progress), then
    /// deleted and waited for until gone.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn delete_copy(
        &self,
        source: &Source<'_>,
        region: &str,
        id: &str,
        copying: bool,
        shared: bool,
        deadline: tokio::time::Instant,
        stop: &Signal,
    ) -> Result<(), Diagnostic> {
        let cloud = source.cloud;
        let client = source.client.as_ref();
        let at = || Path::root().attr(attr::COPY);
        tracing::info!(cloud = %cloud, region, image = id, source = source.id, "deleting a copy");
        if copying {
            match client.cancel_copy(region, id).await {
                Ok(true) => {
                    tracing::info!(cloud = %cloud, region, image = id, "cancelled the copy still running")
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::info!(cloud = %cloud, region, image = id, error = %e, "could not cancel the copy; waiting for it to end")
                }
            }
        }
        if shared {
            if let Err(e) = shares::unshare_all(client, region, id).await {
                // A copy still being made cannot be shared, and one the cancel removed has nothing to unshare.
                if e.kind != ErrorKind::NotFound && e.kind != ErrorKind::Busy {
                    return Err(shares::share_diagnostic(&e));
                }
            }
        }
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.delete_when_possible(client, cloud, region, id, None, timeout, stop)
            .await
            .map_err(|d| d.at(at()))?;
        let label = format!("{cloud}/{region}/{id} (copy of {})", source.id);
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
        match wait_for(Goal::Gone, &label, timeout, self.schedule, stop, || self.look(cloud, region, id)).await {
            WaitEnd::Done(_) => Ok(()),
            WaitEnd::Error(e) => Err(cloud_diagnostic(&e, "copy status check").at(at())),
            _ => Err(Diagnostic::error(
                format!("The {region} copy {id} of {cloud} image {} was not confirmed deleted", source.id),
                "Terraform stopped waiting before the cloud stopped listing the copy; it stays recorded.",
            )
            .at(at())),
        }
    }

    /// Refreshes the copies a state records: each copy's status, and copies gone from the cloud dropped (with
    /// their blocks, so that the next plan shows them to be made again).
    pub(super) async fn refresh_copies(
        &self,
        cloud: Cloud,
        state: &mut ImageModel,
    ) -> Result<(), CloudError> {
        let recorded = state.known_copies();
        if recorded.is_empty() {
            return Ok(());
        }
        let looks = recorded.iter().map(|(region, c)| async move {
            match c.id.text() {
                Some(id) => self.look(cloud, region, id).await.map(Some),
                None => Ok(None),
            }
        });
        let found = join_all(looks).await;
        let mut results = BTreeMap::new();
        let mut gone = BTreeSet::new();
        for ((region, c), image) in recorded.into_iter().zip(found) {
            // A copy that never started has nothing to look at; it stays recorded as failed.
            let Some(image) = image? else {
                results.insert(region, Field::Known(c));
                continue;
            };
            match image {
                Some(image) if image.state != ImageState::Deleting => {
                    results.insert(
                        region,
                        Field::Known(CopyResultModel {
                            id: c.id.clone(),
                            status: Field::Known(status_of(&image).to_string()),
                        }),
                    );
                }
                _ => {
                    tracing::info!(cloud = %cloud, region = %region, image = c.id.text().unwrap_or("-"),
                        "a copy is gone; it will be made again");
                    gone.insert(region);
                }
            }
        }
        if !gone.is_empty() {
            if let Field::Known(blocks) = &mut state.copy {
                blocks
                    .0
                    .retain(|b| b.region.text().is_none_or(|r| !gone.contains(r)));
            }
        }
        state.copies = Field::Known(results);
        Ok(())
    }
}

impl CustomImage {
    /// Where the state tracks shares: the accounts every available copy is still shared with narrow the recorded
    /// `share_with_accounts`, so that a share removed from a copy outside Terraform is drift the next apply restores
    /// (it shares the account again with the image and every copy; a share the cloud already has counts as made).
    /// One share read per copy, and none where the state has no shares.
    pub(super) async fn refresh_copy_shares(
        &self,
        client: &dyn ImageApi,
        state: &mut ImageModel,
    ) -> Result<(), CloudError> {
        let Some(mut accounts) = state.share_with_accounts.known().map(|s| s.known()) else {
            return Ok(());
        };
        if accounts.is_empty() {
            return Ok(());
        }
        let copies = state.known_copies();
        let reads = copies
            .iter()
            .filter(|(_, c)| c.status.text() == Some(AVAILABLE))
            .filter_map(|(region, c)| c.id.text().map(|id| client.image_shares(region, id)));
        for shared in join_all(reads).await {
            let shared = shared?;
            accounts.retain(|a| shared.contains(a));
        }
        state.share_with_accounts = Field::Known(accounts.into());
        Ok(())
    }
}

/// A failed copy call or look, at the `copy` blocks.
fn copy_diagnostic(e: &CloudError, region: &str) -> Diagnostic {
    let mut d = cloud_diagnostic(e, "image copy");
    d.summary = format!("{} (copy to {region})", d.summary);
    d.at(Path::root().attr(attr::COPY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(region: &str, name: Option<&str>) -> CopyModel {
        CopyModel {
            region: Field::Known(region.into()),
            name: Field::from_option(name.map(str::to_string)),
            ..CopyModel::default()
        }
    }

    fn result(id: &str, status: &str) -> CopyResultModel {
        CopyResultModel {
            id: Field::Known(id.into()),
            status: Field::Known(status.into()),
        }
    }

    fn model(blocks: Vec<CopyModel>, results: &[(&str, CopyResultModel)]) -> ImageModel {
        ImageModel {
            copy: Field::Known(CopySet(blocks)),
            copies: Field::Known(
                results
                    .iter()
                    .map(|(r, c)| (r.to_string(), Field::Known(c.clone())))
                    .collect(),
            ),
            ..ImageModel::default()
        }
    }

    #[test]
    fn only_new_changed_or_unfinished_copies_are_unknown_in_the_plan() {
        let prior = model(
            vec![
                block("a", None),
                block("b", None),
                block("c", None),
                block("d", None),
            ],
            &[
                ("a", result("1", AVAILABLE)),
                ("b", result("2", AVAILABLE)),
                ("c", result("3", FAILED)),
                ("d", result("4", COPYING)),
            ],
        );
        // a unchanged, b renamed, c failed, d still copying, e new; nothing for a removed region.
        let config = model(
            vec![
                block("a", None),
                block("b", Some("other")),
                block("c", None),
                block("d", None),
                block("e", None),
            ],
            &[],
        );
        let Field::Known(plan) = planned(&config, Some(&prior)) else {
            panic!("known keys expected")
        };
        assert_eq!(plan.keys().collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
        assert_eq!(plan["a"], Field::Known(result("1", AVAILABLE)));
        for r in ["b", "c", "d", "e"] {
            assert!(!plan[r].is_known(), "{r}");
        }
        // A new image copies everything.
        let Field::Known(fresh) = planned(&config, None) else {
            panic!()
        };
        assert!(fresh.values().all(|v| !v.is_known()));
        // An unknown region: nothing is known.
        let unknown = model(
            vec![CopyModel {
                region: Field::unknown(),
                ..CopyModel::default()
            }],
            &[],
        );
        assert!(!planned(&unknown, Some(&prior)).is_known());
    }

    #[test]
    fn an_adopted_image_is_kept_only_while_it_is_the_recorded_copy() {
        let had = block("a", None);
        let adopt = |id: &str| CopyModel {
            image_id: Field::Known(id.into()),
            ..block("a", None)
        };
        assert!(keeps(&had, &had, Some("img-1")));
        // Naming the copy already recorded changes nothing; naming another image replaces it.
        assert!(keeps(&had, &adopt("img-1"), Some("img-1")));
        assert!(!keeps(&had, &adopt("img-2"), Some("img-1")));
        // Dropping image_id later keeps the adopted copy.
        assert!(keeps(&adopt("img-1"), &had, Some("img-1")));
        assert!(!keeps(&had, &block("a", Some("renamed")), Some("img-1")));
    }

    #[test]
    fn checks_follow_the_clouds_copy_rules() {
        let encrypted = CopyModel {
            encrypted: Field::Known(true),
            description: Field::Known("a copy".into()),
            ..block("ap-shanghai", None)
        };
        let config = model(
            vec![
                encrypted.clone(),
                block("ap-guangzhou", None),
                block("ap-guangzhou", Some("x")),
            ],
            &[],
        );
        let diags = check(Cloud::TencentCloud, &config, Some("ap-guangzhou"));
        let summaries: Vec<String> = diags.0.iter().map(|d| d.summary.clone()).collect();
        assert!(
            summaries.iter().any(|s| s.contains("description")),
            "{summaries:?}"
        );
        assert!(
            summaries.iter().any(|s| s.contains("Encrypted")),
            "{summaries:?}"
        );
        assert!(
            summaries.iter().any(|s| s.contains("own region")),
            "{summaries:?}"
        );
        assert!(
            summaries.iter().any(|s| s.contains("Two copies")),
            "{summaries:?}"
        );
        // Hostile or malformed strings are refused like the image's own.
        let hostile = model(
            vec![
                block("../cn-shanghai", None),
                block("cn-hangzhou", Some("web\u{7}")),
            ],
            &[],
        );
        let summaries: Vec<String> = check(Cloud::AliCloud, &hostile, Some("cn-beijing"))
            .0
            .iter()
            .map(|d| d.summary.clone())
            .collect();
        assert_eq!(summaries, ["Invalid copy region", "Invalid copy name"]);
        let ecs = model(vec![encrypted], &[]);
        assert!(check(Cloud::AliCloud, &ecs, Some("cn-beijing"))
            .0
            .is_empty());
    }

    #[test]
    fn copy_keys_name_what_the_copy_asks_for() {
        let req = CopyRequest {
            source_region: "cn-beijing".into(),
            source_id: "m-1".into(),
            region: "cn-shanghai".into(),
            name: "web".into(),
            idempotency_token: "a".into(),
            ..CopyRequest::default()
        };
        let same = CopyRequest {
            idempotency_token: "b".into(),
            tags: [("k".to_string(), "v".to_string())].into(),
            ..req.clone()
        };
        assert_eq!(copy_key("acct", &req), copy_key("acct", &same));
        let elsewhere = CopyRequest {
            region: "cn-hangzhou".into(),
            ..req.clone()
        };
        assert_ne!(copy_key("acct", &req), copy_key("acct", &elsewhere));
        assert_ne!(copy_key("acct", &req), copy_key("other", &req));
    }
}
