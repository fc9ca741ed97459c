//! Planning `cloudimage_custom_image`. What replaces and what is kept on update is declared on the schema and
//! enforced by the provider core; this module answers the core's per-object questions (do two values mean the
//! same on this cloud, can this cloud change it in place) and adds what only the resource knows: the region a new
//! image gets, the optional dry run of its import, and the replacement of a failed image.

use crate::cloud::Cloud;
use crate::cty::{Path, Value};
use crate::provider::framework::{PlanRequest, PlannedChange};
use crate::provider::{Diagnostic, Diagnostics};

use super::diagnostics::{cloud_diagnostic, error_at, not_configured};
use super::equivalence::same_word;
use super::image::CustomImage;
use super::model::{attr, Field, ImageModel};
use super::private::Private;
use super::source::{self, DiskSource, Findings, Origin, Slot};
use super::state;

impl CustomImage {
    /// The resource's part of a plan.
    pub(super) async fn plan_change(
        &self,
        request: PlanRequest<'_>,
        plan: &mut PlannedChange,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !matches!(plan.planned, Value::Object(_)) {
            return diags;
        }
        let config = ImageModel::from_value(request.config);
        let Some(cloud) = config.cloud() else {
            return diags;
        };
        // Credentials and region must be resolvable before anything is applied.
        if let Err(e) = self.client(cloud) {
            diags.push(not_configured(&e));
            return diags;
        }
        let prior = request.prior.map(ImageModel::from_value);
        let region = match config.region.string() {
            Some(r) => Some(r),
            None if !config.region.is_known() => None,
            None => match prior.as_ref().and_then(|p| p.region.string()) {
                Some(r) => Some(r),
                None => match self.clouds.default_region(cloud) {
                    Some(r) => Some(r),
                    None => {
                        diags.push(error_at(
                            format!("No region for {cloud}"),
                            format!(
                                "Set region on this resource, or in the provider's `{}` block, or in the cloud's \
                                 region environment variable.",
                                cloud.backend().block().name
                            ),
                            attr::REGION,
                        ));
                        return diags;
                    }
                },
            },
        };
        let mut planned = ImageModel::from_value(&plan.planned);
        let private = Private::decode(request.prior_private);
        match &prior {
            None => {
                if let Some(region) = &region {
                    planned.region = Field::Known(region.clone());
                }
            }
            // A failed image cannot be fixed in place: plan its replacement.
            Some(prior) if prior.status.text() == Some("failed") => {
                planned.status = Field::unknown();
                plan.requires_replace.push(Path::root().attr(attr::STATUS));
            }
            Some(_) => {}
        }
        // A new image (a create, or a replacement: checked now, before Terraform destroys the old one) needs what
        // the cloud's import needs; an existing image is described without it.
        if prior.is_none() || !plan.requires_replace.is_empty() {
            let needs = super::validate::new_image(request.config);
            if needs.has_errors() {
                diags.extend(needs);
                return diags;
            }
        }
        // The disk images: content identity, inspection, checks, and what they fill in.
        let sources = source::sources(&config);
        let started = std::time::Instant::now();
        let mut examined = Diagnostics::new();
        let examine = self.examine(
            cloud,
            region.as_deref().unwrap_or_default(),
            &sources,
            prior.is_none(),
            &mut examined,
        );
        // Hashing a large file takes a while; Ctrl-C must not wait for it (the dropped hash stops reading).
        let findings = tokio::select! {
            f = examine => f,
            () = request.stop.wait() => {
                diags.push(Diagnostic::error(
                    "Interrupted while reading the disk images",
                    "Terraform was asked to stop while the plan was hashing or inspecting source_file (or reading \
                     source_url). Nothing was planned; the next plan starts over (a file hashed to the end is \
                     remembered).",
                ));
                return diags;
            }
        };
        diags.extend(examined);
        if !sources.is_empty() {
            // `scripts/bench --upload` reads this line: the provider's time for a plan's disk images.
            tracing::debug!(
                disks = sources.len(),
                "examined the disk sources in {:.3} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        diags.extend(source::check(cloud, &config, &sources, &findings));
        let planned_files = source::planned_files(&sources, &findings);
        diags.extend(source::changed_since_plan(
            &Private::decode(request.planned_private).planned_files,
            &sources,
            &findings,
        ));
        let filled = plan_sources(
            cloud,
            &config,
            prior.as_ref(),
            &private,
            &sources,
            &findings,
            &mut planned,
            &mut plan.requires_replace,
        );
        plan.private = Private {
            filled,
            planned_files,
            ..private.for_state()
        }
        .encode();
        // Opt-in plan-time check of a new image's import parameters by the cloud (Tencent `DryRun` behind the
        // provider's `plan_dry_run`); only once every value is known, and not for a local file, whose object does
        // not exist before apply uploads it.
        if let (None, Some(region)) = (&prior, &region) {
            let uploads = sources.iter().any(|s| !matches!(s.origin, Origin::Url(_)));
            if request.config.is_wholly_known() && !uploads && !diags.has_errors() {
                let effective = state::effective(&config, &planned);
                let import = state::import_request(cloud, &effective, region, String::new());
                if let Ok(client) = self.client(cloud) {
                    if let Err(e) = client.check_import(&import).await {
                        diags.push(cloud_diagnostic(&e, "import check (plan_dry_run)"));
                    }
                }
            }
        }
        // Copies: checked against the cloud's copy rules; a new image copies everything, an existing one only
        // what is new, changed, failed or unfinished.
        diags.extend(super::copies::check(cloud, &config, region.as_deref()));
        if !config.copy_blocks().is_empty() {
            if let Some(problem) = self.client(cloud).ok().and_then(|c| c.copy_problem()) {
                diags.push(error_at(
                    format!("{cloud} cannot copy images as configured"),
                    format!("{problem}."),
                    attr::COPY,
                ));
            }
        }
        let new_image = prior.is_none() || !plan.requires_replace.is_empty();
        planned.copies = if config.copy_blocks().is_empty() && config.copy.is_known() {
            Field::Null
        } else {
            super::copies::planned(&config, if new_image { None } else { prior.as_ref() })
        };
        plan.planned = planned.to_value();
        diags
    }
}

/// Whether `path` is planned to replace already.
fn push_replace(replace: &mut Vec<Path>, path: Path) {
    if !replace.contains(&path) {
        replace.push(path);
    }
}

/// The planned `source_sha256` of a disk whose configuration leaves it unset: the local file's hash, unknown while
/// the file is not known, null for a `source_url`.
fn planned_sha(source: Option<&DiskSource>, findings: Option<&Findings>) -> Field<String> {
    match source.map(|s| &s.origin) {
        Some(Origin::File { .. }) => Field::from_option(findings.and_then(|f| f.sha256.clone())),
        Some(Origin::Unknown) => Field::unknown(),
        Some(Origin::Url(_)) | None => Field::Null,
    }
}

/// A value the configuration leaves unset (`format`, `boot_mode`), planned: what the disk image says where it was
/// read, else what was filled in before (kept), else null. Returns whether the value was filled, and plans a
/// replacement when the image would differ: a filled value that contradicts the prior one, or a value the user
/// configured before and no longer does (as before these could be filled).
#[allow(clippy::too_many_arguments)]
fn plan_fill(
    cloud: Cloud,
    name: &str,
    fill: Option<String>,
    unknown_source: bool,
    prior: Option<&ImageModel>,
    prior_value: Option<&Field<String>>,
    private: &Private,
    slot: &mut Field<String>,
    replace: &mut Vec<Path>,
) -> bool {
    let was = prior_value.and_then(Field::text);
    match fill {
        Some(v) => {
            if let Some(was) = was {
                if !same_word(cloud, name, was, &v) {
                    push_replace(replace, Path::root().attr(name));
                }
            }
            *slot = Field::Known(v);
            true
        }
        None if unknown_source => {
            *slot = Field::unknown();
            false
        }
        None if prior.is_some() && private.is_filled(name) => {
            *slot = prior_value.cloned().unwrap_or_default();
            true
        }
        None => {
            if was.is_some() {
                push_replace(replace, Path::root().attr(name));
            }
            *slot = Field::Null;
            false
        }
    }
}

/// Plans what the disk images tell: `source_sha256` of each disk, and `format` and `boot_mode` where the
/// configuration leaves them unset. A local file whose content changed replaces the image. Returns the attributes
/// filled in from the disk (for the private record).
#[allow(clippy::too_many_arguments)]
fn plan_sources(
    cloud: Cloud,
    config: &ImageModel,
    prior: Option<&ImageModel>,
    private: &Private,
    sources: &[DiskSource],
    findings: &[Findings],
    planned: &mut ImageModel,
    replace: &mut Vec<Path>,
) -> Vec<String> {
    let of = |slot: Slot| {
        let i = sources.iter().position(|s| s.slot == slot)?;
        Some((&sources[i], findings.get(i)))
    };
    let system = of(Slot::System);
    let changed = |was: Option<&Field<String>>, now: &Field<String>| {
        was.and_then(Field::text)
            .is_some_and(|w| now.text().is_none_or(|n| !n.eq_ignore_ascii_case(w)))
    };
    let mut filled = Vec::new();
    if config.source_sha256.is_null() {
        planned.source_sha256 = planned_sha(system.map(|s| s.0), system.and_then(|s| s.1));
        if prior.is_some()
            && matches!(
                system.map(|s| &s.0.origin),
                Some(Origin::File { .. } | Origin::Unknown)
            )
            && changed(prior.map(|p| &p.source_sha256), &planned.source_sha256)
        {
            push_replace(replace, Path::root().attr(attr::SOURCE_SHA256));
        }
    }
    let (format, boot) = match system {
        Some((_, Some(f))) => source::fills(cloud, Slot::System, f),
        _ => (None, None),
    };
    let unknown_source = matches!(system.map(|s| &s.0.origin), Some(Origin::Unknown));
    if config.format.is_null()
        && plan_fill(
            cloud,
            attr::FORMAT,
            format,
            unknown_source,
            prior,
            prior.map(|p| &p.format),
            private,
            &mut planned.format,
            replace,
        )
    {
        filled.push(attr::FORMAT.to_string());
    }
    if config.boot_mode.is_null()
        && plan_fill(
            cloud,
            attr::BOOT_MODE,
            boot,
            unknown_source,
            prior,
            prior.map(|p| &p.boot_mode),
            private,
            &mut planned.boot_mode,
            replace,
        )
    {
        filled.push(attr::BOOT_MODE.to_string());
    }
    if let Field::Known(disks) = &mut planned.data_disks {
        let configured = config.disks();
        let before = prior.map(ImageModel::disks).unwrap_or_default();
        for (i, disk) in disks.iter_mut().enumerate() {
            if configured.get(i).is_none_or(|c| !c.source_sha256.is_null()) {
                continue;
            }
            let s = of(Slot::Data(i));
            disk.source_sha256 = planned_sha(s.map(|s| s.0), s.and_then(|s| s.1));
            if matches!(
                s.map(|s| &s.0.origin),
                Some(Origin::File { .. } | Origin::Unknown)
            ) && changed(before.get(i).map(|d| &d.source_sha256), &disk.source_sha256)
            {
                push_replace(replace, Path::root().attr(attr::DATA_DISKS));
            }
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::{BootMode, Detail, Format, GuestAccess, Inspection, PartitionTable};

    fn file_source() -> Vec<DiskSource> {
        vec![DiskSource {
            slot: Slot::System,
            origin: Origin::File {
                path: "/tmp/a.qcow2".into(),
                upload_to: "oss://bkt/a.qcow2".into(),
            },
            sha256: Field::Null,
            format: Field::Null,
        }]
    }

    fn url_source() -> Vec<DiskSource> {
        vec![DiskSource {
            slot: Slot::System,
            origin: Origin::Url("oss://bkt/a.qcow2".into()),
            sha256: Field::Null,
            format: Field::Null,
        }]
    }

    fn found(sha: &str, format: Format, boot: BootMode) -> Vec<Findings> {
        vec![Findings {
            sha256: Some(sha.repeat(64)),
            inspection: Some(Inspection {
                format,
                detail: Detail::None,
                virtual_size: None,
                guest: GuestAccess::Read,
                partition_table: PartitionTable::None,
                boot_mode: boot,
                boot_reason: String::new(),
                incomplete: None,
            }),
        }]
    }

    struct Planned {
        model: ImageModel,
        replace: Vec<String>,
        filled: Vec<String>,
    }

    fn plan(
        config: &ImageModel,
        prior: Option<&ImageModel>,
        private: &Private,
        sources: &[DiskSource],
        findings: &[Findings],
    ) -> Planned {
        let mut model = config.clone();
        let mut replace = Vec::new();
        let filled = plan_sources(
            Cloud::AliCloud,
            config,
            prior,
            private,
            sources,
            findings,
            &mut model,
            &mut replace,
        );
        Planned {
            model,
            replace: replace.iter().map(ToString::to_string).collect(),
            filled,
        }
    }

    #[test]
    fn a_new_file_image_gets_its_hash_format_and_boot_mode() {
        let p = plan(
            &ImageModel::default(),
            None,
            &Private::default(),
            &file_source(),
            &found("a", Format::Qcow2, BootMode::Uefi),
        );
        assert_eq!(p.model.source_sha256.text(), Some("a".repeat(64).as_str()));
        assert_eq!(p.model.format.text(), Some("qcow2"));
        assert_eq!(p.model.boot_mode.text(), Some("UEFI"));
        assert_eq!(p.filled, ["format", "boot_mode"]);
        assert!(p.replace.is_empty());
    }

    #[test]
    fn only_other_content_replaces() {
        let prior = ImageModel {
            source_sha256: Field::Known("a".repeat(64)),
            format: Field::Known("qcow2".into()),
            boot_mode: Field::Known("UEFI".into()),
            ..ImageModel::default()
        };
        let filled = Private {
            filled: vec!["format".into(), "boot_mode".into()],
            ..Private::default()
        };
        let same = plan(
            &ImageModel::default(),
            Some(&prior),
            &filled,
            &file_source(),
            &found("a", Format::Qcow2, BootMode::Uefi),
        );
        assert!(same.replace.is_empty(), "{:?}", same.replace);
        assert_eq!(same.model.source_sha256, prior.source_sha256);
        let other = plan(
            &ImageModel::default(),
            Some(&prior),
            &filled,
            &file_source(),
            &found("b", Format::Raw, BootMode::Uefi),
        );
        assert_eq!(other.replace, ["source_sha256", "format"]);
        // Unknown until apply (the path comes from another resource): a replacement, the hash unknown.
        let unknown = vec![DiskSource {
            origin: Origin::Unknown,
            ..file_source().remove(0)
        }];
        let u = plan(
            &ImageModel::default(),
            Some(&prior),
            &filled,
            &unknown,
            &[Findings::default()],
        );
        assert_eq!(u.replace, ["source_sha256"]);
        assert!(!u.model.source_sha256.is_known());
    }

    #[test]
    fn source_url_images_behave_as_before() {
        // Nothing is read: nothing is filled, no hash.
        let p = plan(
            &ImageModel::default(),
            None,
            &Private::default(),
            &url_source(),
            &[Findings::default()],
        );
        assert!(p.model.format.is_null() && p.model.boot_mode.is_null());
        assert!(p.model.source_sha256.is_null() && p.filled.is_empty());
        // A format the user configured and then removed replaces the image, as when format was not computed.
        let configured_before = ImageModel {
            format: Field::Known("qcow2".into()),
            ..ImageModel::default()
        };
        let p = plan(
            &ImageModel::default(),
            Some(&configured_before),
            &Private::default(),
            &url_source(),
            &[Findings::default()],
        );
        assert_eq!(p.replace, ["format"]);
        assert!(p.model.format.is_null());
        // One the provider filled in (inspect_source_url at create) is kept.
        let filled = Private {
            filled: vec!["format".into()],
            ..Private::default()
        };
        let p = plan(
            &ImageModel::default(),
            Some(&configured_before),
            &filled,
            &url_source(),
            &[Findings::default()],
        );
        assert!(p.replace.is_empty());
        assert_eq!(p.model.format.text(), Some("qcow2"));
        assert_eq!(p.filled, ["format"]);
    }
}
