//! The disk images an image is made from, at plan time: a `source_url` object already in the cloud's storage, or a
//! local `source_file` that apply uploads to `upload_to`.
//!
//! For every local file the plan learns its content identity (`source_sha256`, through the user's hash cache, so an
//! unchanged file is not read again) and inspects it (`crate::disk`: the format from its own bytes, the boot mode
//! from its partition table). A `source_url` object of a new image is inspected the same way by ranged reads when
//! the provider block asks for it (`inspect_source_url`). The findings are checked against the configuration and
//! the cloud's rules (errors at the attribute that is wrong) and fill in what the configuration leaves unset.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cloud::objects::{stored_object, upload_object};
use crate::cloud::params::Param;
use crate::cloud::rules::{Allowed, CloudRules};
use crate::cloud::storage::{human_bytes, ObjectReader, S3Client, StorageError, MAX_PARTS};
use crate::cloud::Cloud;
use crate::cloud::StoredObject;
use crate::cty::Path;
use crate::disk::{self, BootMode, CachedReader, Format, Inspection};
use crate::provider::{Diagnostic, Diagnostics};

use super::context::StorageUse;
use super::equivalence::same_word;
use super::image::CustomImage;
use super::model::{attr, Field, ImageModel};

/// Which disk of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// The system disk (the resource's top-level attributes).
    System,
    /// A `data_disks` entry.
    Data(usize),
}

impl Slot {
    /// The path of one of this disk's attributes.
    pub(super) fn path(self, attribute: &str) -> Path {
        match self {
            Slot::System => Path::root().attr(attribute),
            Slot::Data(i) => Path::root()
                .attr(attr::DATA_DISKS)
                .index(i as u64)
                .attr(attribute),
        }
    }
}

/// Where one disk's image comes from, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    /// An object already in the cloud's storage.
    Url(String),
    /// A local file, uploaded to `upload_to` by apply.
    File {
        /// The file.
        path: PathBuf,
        /// The object it becomes.
        upload_to: String,
    },
    /// Not known until apply (it depends on other resources).
    Unknown,
}

/// One disk's configured source.
#[derive(Debug, Clone)]
pub(super) struct DiskSource {
    /// Which disk.
    pub slot: Slot,
    /// Where its image comes from.
    pub origin: Origin,
    /// The configured `source_sha256`.
    pub sha256: Field<String>,
    /// The configured `format`.
    pub format: Field<String>,
}

/// Reads one disk's source from its attributes; `None` when neither `source_url` nor `source_file` is set.
fn origin(url: &Field<String>, file: &Field<String>, upload_to: &Field<String>) -> Option<Origin> {
    if !url.is_known() || !file.is_known() {
        return Some(Origin::Unknown);
    }
    if let Some(path) = file.text() {
        return Some(match upload_to.text() {
            Some(to) => Origin::File {
                path: PathBuf::from(path),
                upload_to: to.to_string(),
            },
            None if !upload_to.is_known() => Origin::Unknown,
            // Validation names the missing `upload_to`.
            None => return None,
        });
    }
    url.text().map(|u| Origin::Url(u.to_string()))
}

/// The configured sources of an image, system disk first.
pub(super) fn sources(config: &ImageModel) -> Vec<DiskSource> {
    let mut out = Vec::new();
    if let Some(o) = origin(&config.source_url, &config.source_file, &config.upload_to) {
        out.push(DiskSource {
            slot: Slot::System,
            origin: o,
            sha256: config.source_sha256.clone(),
            format: config.format.clone(),
        });
    }
    for (i, d) in config.disks().iter().enumerate() {
        if let Some(o) = origin(&d.source_url, &d.source_file, &d.upload_to) {
            out.push(DiskSource {
                slot: Slot::Data(i),
                origin: o,
                sha256: d.source_sha256.clone(),
                format: d.format.clone(),
            });
        }
    }
    out
}

/// What the plan learned about one disk.
#[derive(Debug, Clone, Default)]
pub(super) struct Findings {
    /// The local file's SHA-256 (lower-case hex).
    pub sha256: Option<String>,
    /// The inspection of the file or object.
    pub inspection: Option<Inspection>,
}

/// The error for a disk whose image cannot be read.
fn unreadable(slot: Slot, attribute: &str, summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail).at(slot.path(attribute))
}

impl CustomImage {
    /// Hashes and inspects each local file; inspects `source_url` objects of a new image when the block asks for
    /// it. Problems reading a local file or a definitely missing object are errors; storage that cannot be reached
    /// is a warning and no finding.
    pub(super) async fn examine(
        &self,
        cloud: Cloud,
        region: &str,
        sources: &[DiskSource],
        new_image: bool,
        diags: &mut Diagnostics,
    ) -> Vec<Findings> {
        let mut out = Vec::with_capacity(sources.len());
        let inspect_urls = new_image && self.clouds.inspects_source_url(cloud);
        for s in sources {
            let found = match &s.origin {
                Origin::File { path, upload_to } => {
                    // Too large for the storage is known from the size alone: no hash of 100 GiB to refuse it.
                    let size = std::fs::metadata(path).map(|m| m.len()).ok();
                    if let Some(too_large) =
                        size.and_then(|n| self.too_large(cloud, region, s.slot, upload_to, n))
                    {
                        diags.push(too_large);
                        out.push(Findings::default());
                        continue;
                    }
                    let found = self.examine_file(s.slot, path, diags).await;
                    if let Some(sha) = &found.sha256 {
                        self.plan_upload(cloud, region, s.slot, upload_to, sha, diags);
                    }
                    found
                }
                Origin::Url(url) if inspect_urls => {
                    self.examine_object(cloud, region, s.slot, url, diags).await
                }
                Origin::Url(_) | Origin::Unknown => Findings::default(),
            };
            out.push(found);
        }
        out
    }

    /// The storage client an `upload_to` is reached with at plan time, if it can be made (validation names what
    /// is wrong otherwise).
    fn plan_storage(
        &self,
        cloud: Cloud,
        region: &str,
        upload_to: &str,
    ) -> Option<(StoredObject, S3Client)> {
        let object = upload_object(cloud, upload_to).ok()?;
        let client = self
            .clouds
            .storage(cloud, &object, region, StorageUse::Plan)
            .ok()?;
        Some((object, client))
    }

    /// The error for a file larger than the storage service takes in its one part size (US3: 8 MiB parts, at most
    /// 10,000 of them).
    fn too_large(
        &self,
        cloud: Cloud,
        region: &str,
        slot: Slot,
        upload_to: &str,
        size: u64,
    ) -> Option<Diagnostic> {
        let (_, client) = self.plan_storage(cloud, region, upload_to)?;
        let part = client.config().fixed_part_size?;
        let most = part.saturating_mul(MAX_PARTS);
        (size > most).then(|| {
            Diagnostic::error(
                "source_file is too large for this object storage",
                format!(
                    "{cloud}'s object storage takes uploads in parts of exactly {} and at most {MAX_PARTS} of them, \
                     so files up to {}; this one has {}. Upload it with the storage service's own tools and use \
                     source_url.",
                    human_bytes(part),
                    human_bytes(most),
                    human_bytes(size)
                ),
            )
            .at(slot.path(attr::SOURCE_FILE))
        })
    }

    /// Records what this plan uploads to `upload_to`; another image of this run uploading other content there is
    /// an error (one would overwrite the other's disk before its import reads it).
    fn plan_upload(
        &self,
        cloud: Cloud,
        region: &str,
        slot: Slot,
        upload_to: &str,
        sha256: &str,
        diags: &mut Diagnostics,
    ) {
        let Some((object, client)) = self.plan_storage(cloud, region, upload_to) else {
            return;
        };
        let id = (
            client.config().endpoint.to_string(),
            object.bucket.clone(),
            object.key.clone(),
        );
        if let Err(other) = self.clouds.shared_uploads().plan(&id, sha256) {
            diags.push(
                Diagnostic::error(
                    "upload_to is shared with other content",
                    format!(
                        "Another image in this run uploads a file with SHA-256 {other} to {upload_to}, and this \
                         one uploads {sha256} there: one upload would replace the other's disk before its import \
                         reads it. Give each file its own upload_to (images made from one file may share one)."
                    ),
                )
                .at(slot.path(attr::UPLOAD_TO)),
            );
        }
    }

    async fn examine_file(
        &self,
        slot: Slot,
        path: &std::path::Path,
        diags: &mut Diagnostics,
    ) -> Findings {
        let shown = path.display();
        let digest = match self.clouds.hash_cache().sha256(path).await {
            Ok(d) => d,
            Err(e) => {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_FILE,
                    "Cannot read source_file",
                    format!(
                        "{e}. The file must exist on the machine running Terraform when it plans."
                    ),
                ));
                return Findings::default();
            }
        };
        if !digest.from_cache {
            tracing::info!(file = %shown, size = digest.size, "hashed the disk image (remembered for later plans)");
        }
        match disk::inspect_file(path).await {
            Ok(inspection) => Findings {
                sha256: Some(digest.sha256),
                inspection: Some(inspection),
            },
            Err(e) => {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_FILE,
                    "source_file is not a readable disk image",
                    format!(
                        "{shown}: {e}. The cloud's import would fail on it; check that the file is complete."
                    ),
                ));
                Findings {
                    sha256: Some(digest.sha256),
                    inspection: None,
                }
            }
        }
    }

    async fn examine_object(
        &self,
        cloud: Cloud,
        region: &str,
        slot: Slot,
        url: &str,
        diags: &mut Diagnostics,
    ) -> Findings {
        let skip = |why: String| {
            tracing::warn!(url, "not inspecting source_url at plan time: {why}");
            Findings::default()
        };
        let object = match stored_object(cloud, url) {
            Ok(o) => o,
            Err(e) => return skip(e),
        };
        let client = match self
            .clouds
            .storage(cloud, &object, region, StorageUse::Plan)
        {
            Ok(c) => c,
            Err(e) => return skip(e.message),
        };
        let endpoint = client.config().endpoint.to_string();
        if self.clouds.storage_unreachable(&endpoint) {
            return skip(format!(
                "{endpoint} could not be reached earlier in this run"
            ));
        }
        let reader = match ObjectReader::open(&client, &object.bucket, &object.key).await {
            Ok(Some(r)) => r,
            // A HEAD answer has no body to tell a missing bucket from a missing key; a ranged GET does.
            Ok(None)
                if client
                    .get_range(&object.bucket, &object.key, 0, 1)
                    .await
                    .is_err_and(|e| e.code() == Some("NoSuchBucket")) =>
            {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_URL,
                    "source_url names no bucket",
                    format!(
                        "{cloud}'s object storage has no bucket {} (NoSuchBucket). The import would fail on it.",
                        object.bucket
                    ),
                ));
                return Findings::default();
            }
            Ok(None) => {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_URL,
                    "source_url names no object",
                    format!(
                        "{cloud}'s object storage has no object {} (HeadObject answered 404). The import would fail \
                         on it; upload the image first, or use source_file.",
                        object.display()
                    ),
                ));
                return Findings::default();
            }
            Err(e) if e.code() == Some("NoSuchBucket") => {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_URL,
                    "source_url names no bucket",
                    format!("{e}. The import would fail on it."),
                ));
                return Findings::default();
            }
            Err(e) => {
                if matches!(e, StorageError::Transport { .. }) {
                    self.clouds.mark_storage_unreachable(endpoint);
                }
                return skip(e.to_string());
            }
        };
        if let Some(problem) = cloud.backend().object_problem(reader.info()) {
            diags.push(unreadable(
                slot,
                attr::SOURCE_URL,
                &format!("{cloud} cannot import this object"),
                format!("{}: {problem}.", object.display()),
            ));
            return Findings::default();
        }
        match disk::inspect(Arc::new(CachedReader::new(Arc::new(reader), 16))).await {
            Ok(inspection) => Findings {
                sha256: None,
                inspection: Some(inspection),
            },
            // A read that failed on the way is storage trouble, not the image's.
            Err(e @ disk::DiskError::Read { .. }) => skip(e.to_string()),
            Err(e) => {
                diags.push(unreadable(
                    slot,
                    attr::SOURCE_URL,
                    "source_url is not a readable disk image",
                    format!(
                        "{}: {e}. The cloud's import would fail on it.",
                        object.display()
                    ),
                ));
                Findings::default()
            }
        }
    }
}

/// A detected container format in the cloud's spelling, or why the cloud does not take it.
fn cloud_format(cloud: Cloud, rules: &CloudRules, format: Format) -> Result<String, String> {
    let convert = "convert it, e.g. `qemu-img convert -O qcow2 in out.qcow2`";
    match rules.allowed(Param::Format) {
        Allowed::OneOf(values) => match rules.canonical(Param::Format, format.as_str()) {
            Some(v) => Ok(v.to_string()),
            // Tencent Cloud imports ISO files when forced (`InvalidParameterValue.ISOMustImportByForce`).
            None if format == Format::Iso && rules.supports(Param::Force) => {
                Ok(format.as_str().to_string())
            }
            None => Err(format!(
                "{cloud} imports {} files; this one is {format}: {convert}",
                values.join(", ")
            )),
        },
        Allowed::Any | Allowed::Unsupported => Ok(format.as_str().to_string()),
    }
}

/// The cloud's word for a boot mode the partition table implies, where the cloud takes a boot mode.
fn cloud_boot_mode(cloud: Cloud, rules: &CloudRules, mode: BootMode) -> Option<&'static str> {
    let word = match mode {
        BootMode::Uefi => "UEFI",
        BootMode::Bios => "BIOS",
        BootMode::Hybrid | BootMode::Unknown => return None,
    };
    match rules.allowed(Param::BootMode) {
        Allowed::OneOf(values) => values
            .iter()
            .copied()
            .find(|v| same_word(cloud, attr::BOOT_MODE, v, word)),
        _ => None,
    }
}

/// What the findings say about the configuration: a configured value they contradict, a format the cloud does not
/// take, an ISO on Tencent Cloud without `force`, a boot mode the disk cannot boot with, a configured
/// `source_sha256` that is not the file's.
pub(super) fn check(
    cloud: Cloud,
    config: &ImageModel,
    sources: &[DiskSource],
    findings: &[Findings],
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let rules = cloud.backend().rules();
    for (s, f) in sources.iter().zip(findings) {
        let what = match &s.origin {
            Origin::File { path, .. } => format!("{}", path.display()),
            Origin::Url(u) => u.clone(),
            Origin::Unknown => continue,
        };
        let source_attr = match s.origin {
            Origin::File { .. } => attr::SOURCE_FILE,
            _ => attr::SOURCE_URL,
        };
        if let (Some(want), Some(have)) = (s.sha256.text(), &f.sha256) {
            if !want.eq_ignore_ascii_case(have) {
                diags.push(
                    Diagnostic::error(
                        "source_sha256 does not match source_file",
                        format!("{what} has SHA-256 {have}; source_sha256 is {want}."),
                    )
                    .at(s.slot.path(attr::SOURCE_SHA256)),
                );
            }
        }
        let Some(inspection) = &f.inspection else {
            continue;
        };
        let detected = inspection.format;
        if let Some(why) = &inspection.incomplete {
            diags.push(
                Diagnostic::error(
                    format!("{source_attr} is not a self-contained disk image"),
                    format!(
                        "{what}: {why}. {cloud} imports this one file, so an image made from it would not boot. \
                         Make a self-contained copy first, e.g. `qemu-img convert -O {out} <file> whole.{detected}` \
                         (it reads the other files and decrypts with the key you give it), and use that.",
                        out = if detected == Format::Vhd { "vpc" } else { detected.as_str() },
                    ),
                )
                .at(s.slot.path(source_attr)),
            );
            continue;
        }
        match cloud_format(cloud, rules, detected) {
            Err(why) => diags.push(
                Diagnostic::error(
                    format!("{cloud} cannot import this {detected} image"),
                    format!("{what}: {why}."),
                )
                .at(s.slot.path(source_attr)),
            ),
            Ok(_) if detected == Format::Iso && rules.supports(Param::Force) && config.force.known() != Some(&true) => {
                diags.push(
                    Diagnostic::error(
                        "An ISO image needs force on tencentcloud",
                        format!(
                            "{what} is an ISO 9660 image; Tencent Cloud imports ISO files only when forced \
                             (InvalidParameterValue.ISOMustImportByForce). Set force = true."
                        ),
                    )
                    .at(Path::root().attr(attr::FORCE)),
                )
            }
            Ok(_) => {}
        }
        if let Some(configured) = s.format.text() {
            if !same_word(cloud, attr::FORMAT, configured, detected.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "format does not match the disk image",
                        format!(
                            "format is {configured:?}, but {what} is a {detected} image (read from its own \
                             bytes). Remove format to have it filled in, or point at the right file."
                        ),
                    )
                    .at(s.slot.path(attr::FORMAT)),
                );
            }
        }
        if s.slot == Slot::System && inspection.boot_mode == BootMode::Bios {
            if let Some(arch) = config.architecture.text().filter(|a| {
                rules
                    .uefi_only_architectures
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(a))
            }) {
                diags.push(
                    Diagnostic::error(
                        "The disk image cannot boot as this architecture",
                        format!(
                            "{what} boots with BIOS only ({}), but {cloud} imports {arch} images with UEFI only.",
                            inspection.boot_reason
                        ),
                    )
                    .at(s.slot.path(source_attr)),
                );
            }
        }
        if s.slot == Slot::System {
            if let Some(configured) = config.boot_mode.text() {
                let needs = match inspection.boot_mode {
                    BootMode::Uefi if same_word(cloud, attr::BOOT_MODE, configured, "BIOS") => {
                        Some("UEFI")
                    }
                    BootMode::Bios if same_word(cloud, attr::BOOT_MODE, configured, "UEFI") => {
                        Some("BIOS")
                    }
                    _ => None,
                };
                if let Some(needs) = needs {
                    diags.push(
                        Diagnostic::error(
                            "boot_mode does not match the disk image",
                            format!(
                                "boot_mode is {configured:?}, but {what} boots only with {needs}: {}. An \
                                 instance of this image would not boot; set boot_mode to match or remove it.",
                                inspection.boot_reason
                            ),
                        )
                        .at(Path::root().attr(attr::BOOT_MODE)),
                    );
                }
            }
        }
    }
    diags
}

/// The SHA-256 of each local file as this plan found it, by the path of its `source_file` attribute.
pub(super) fn planned_files(
    sources: &[DiskSource],
    findings: &[Findings],
) -> std::collections::BTreeMap<String, String> {
    sources
        .iter()
        .zip(findings)
        .filter(|(s, _)| matches!(s.origin, Origin::File { .. }))
        .filter_map(|(s, f)| {
            Some((
                s.slot.path(attr::SOURCE_FILE).to_string(),
                f.sha256.clone()?,
            ))
        })
        .collect()
}

/// At apply, the files whose content is not what the plan being applied hashed (`then`, from the plan's private
/// data, which Terraform 1.16+ hands back): an error each, instead of a final plan that contradicts the saved one.
pub(super) fn changed_since_plan(
    then: &std::collections::BTreeMap<String, String>,
    sources: &[DiskSource],
    findings: &[Findings],
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (s, f) in sources.iter().zip(findings) {
        let at = s.slot.path(attr::SOURCE_FILE);
        let (Some(was), Some(is)) = (then.get(&at.to_string()), &f.sha256) else {
            continue;
        };
        if !was.eq_ignore_ascii_case(is) {
            diags.push(
                Diagnostic::error(
                    "source_file changed since the plan",
                    format!(
                        "The plan being applied was made for content with SHA-256 {was}; the file now has {is}. \
                         Nothing was uploaded or imported; plan again."
                    ),
                )
                .at(at),
            );
        }
    }
    diags
}

/// What the findings fill in for one disk where the configuration leaves it unset: (format, boot mode).
pub(super) fn fills(
    cloud: Cloud,
    slot: Slot,
    findings: &Findings,
) -> (Option<String>, Option<String>) {
    let rules = cloud.backend().rules();
    let Some(i) = &findings.inspection else {
        return (None, None);
    };
    let format = match slot {
        Slot::System => cloud_format(cloud, rules, i.format).ok(),
        // The clouds that take a data disk's format detect it when it is unset; nothing to fill.
        Slot::Data(_) => None,
    };
    let boot = match slot {
        Slot::System => cloud_boot_mode(cloud, rules, i.boot_mode).map(str::to_string),
        Slot::Data(_) => None,
    };
    (format, boot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::{Detail, GuestAccess, PartitionTable};
    use crate::resource::model::DataDiskModel;

    fn inspection(format: Format, boot: BootMode) -> Inspection {
        Inspection {
            format,
            detail: Detail::None,
            virtual_size: None,
            guest: GuestAccess::Read,
            partition_table: PartitionTable::None,
            boot_mode: boot,
            boot_reason: "GPT with an EFI system partition (1) and no BIOS boot path".into(),
            incomplete: None,
        }
    }

    fn file_config(format: Option<&str>, boot: Option<&str>) -> ImageModel {
        ImageModel {
            cloud: Field::Known("alicloud".into()),
            source_file: Field::Known("/tmp/disk.img".into()),
            upload_to: Field::Known("oss://b/disk.img".into()),
            format: Field::from_option(format.map(str::to_string)),
            boot_mode: Field::from_option(boot.map(str::to_string)),
            ..ImageModel::default()
        }
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.attribute_paths()
    }

    fn found(format: Format, boot: BootMode) -> Vec<Findings> {
        vec![Findings {
            sha256: Some("ab".repeat(32)),
            inspection: Some(inspection(format, boot)),
        }]
    }

    #[test]
    fn sources_read_both_forms_and_data_disks() {
        let mut m = file_config(None, None);
        m.data_disks = Field::Known(vec![
            DataDiskModel {
                source_url: Field::Known("oss://b/d1.raw".into()),
                ..Default::default()
            },
            DataDiskModel {
                source_file: Field::Known("/tmp/d2.raw".into()),
                upload_to: Field::unknown(),
                ..Default::default()
            },
        ]);
        let s = sources(&m);
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[0].origin,
            Origin::File {
                path: "/tmp/disk.img".into(),
                upload_to: "oss://b/disk.img".into()
            }
        );
        assert_eq!(s[1].origin, Origin::Url("oss://b/d1.raw".into()));
        assert_eq!((s[2].slot, &s[2].origin), (Slot::Data(1), &Origin::Unknown));
        assert_eq!(
            Slot::Data(1).path(attr::SOURCE_FILE).to_string(),
            "data_disks[1].source_file"
        );
    }

    #[test]
    fn wrong_format_and_boot_mode_are_errors_at_their_attribute() {
        let c = Cloud::AliCloud;
        let cfg = file_config(Some("raw"), Some("BIOS"));
        let d = check(
            c,
            &cfg,
            &sources(&cfg),
            &found(Format::Qcow2, BootMode::Uefi),
        );
        assert_eq!(paths(&d), ["format", "boot_mode"], "{d:?}");
        // The reverse: a BIOS-only disk and UEFI.
        let cfg = file_config(Some("QCOW2"), Some("uefi"));
        let d = check(
            c,
            &cfg,
            &sources(&cfg),
            &found(Format::Qcow2, BootMode::Bios),
        );
        assert_eq!(paths(&d), ["boot_mode"]);
        // Agreeing values, and a disk either firmware boots, pass.
        let cfg = file_config(Some("qcow2"), Some("BIOS"));
        assert!(check(
            c,
            &cfg,
            &sources(&cfg),
            &found(Format::Qcow2, BootMode::Hybrid)
        )
        .is_empty());
    }

    #[test]
    fn formats_the_cloud_does_not_take() {
        let cfg = file_config(None, None);
        let d = check(
            Cloud::AliCloud,
            &cfg,
            &sources(&cfg),
            &found(Format::Vmdk, BootMode::Unknown),
        );
        assert_eq!(paths(&d), ["source_file"]);
        assert!(d.0[0].detail.contains("raw, vhd, qcow2"), "{:?}", d.0[0]);
        let d = check(
            Cloud::AliCloudEns,
            &cfg,
            &sources(&cfg),
            &found(Format::Raw, BootMode::Unknown),
        );
        assert_eq!(paths(&d), ["source_file"]);
        let d = check(
            Cloud::UCloud,
            &cfg,
            &sources(&cfg),
            &found(Format::Vhdx, BootMode::Unknown),
        );
        assert_eq!(paths(&d), ["source_file"]);
        // ISO: Tencent Cloud with force only.
        let mut tc = file_config(None, None);
        tc.cloud = Field::Known("tencentcloud".into());
        let iso = found(Format::Iso, BootMode::Unknown);
        assert_eq!(
            paths(&check(Cloud::TencentCloud, &tc, &sources(&tc), &iso)),
            ["force"]
        );
        tc.force = Field::Known(true);
        assert!(check(Cloud::TencentCloud, &tc, &sources(&tc), &iso).is_empty());
        assert_eq!(
            paths(&check(Cloud::UCloud, &tc, &sources(&tc), &iso)),
            ["source_file"]
        );
    }

    /// What Terraform 1.16 hands back at apply (the plan's `planned_files`) against the file now: a change is the
    /// provider's own error at the disk's `source_file`; the same content, or no record (older Terraform, a plan
    /// made before this), says nothing.
    #[test]
    fn a_file_changed_since_the_saved_plan_is_named() {
        let mut cfg = file_config(None, None);
        cfg.data_disks = Field::Known(vec![DataDiskModel {
            source_file: Field::Known("/tmp/d.raw".into()),
            upload_to: Field::Known("oss://b/d.raw".into()),
            ..Default::default()
        }]);
        let sources = sources(&cfg);
        let now = vec![
            found(Format::Raw, BootMode::Bios).remove(0),
            Findings {
                sha256: Some("cd".repeat(32)),
                inspection: None,
            },
        ];
        let planned = planned_files(&sources, &now);
        assert_eq!(planned.len(), 2);
        assert_eq!(planned["data_disks[0].source_file"], "cd".repeat(32));
        assert!(changed_since_plan(&planned, &sources, &now).is_empty());
        assert!(changed_since_plan(&Default::default(), &sources, &now).is_empty());
        let mut then = planned.clone();
        then.insert("data_disks[0].source_file".into(), "ef".repeat(32));
        let d = changed_since_plan(&then, &sources, &now);
        assert_eq!(paths(&d), ["data_disks[0].source_file"]);
        assert!(d.0[0].summary.contains("changed since the plan"), "{d:?}");
    }

    #[test]
    fn a_configured_hash_must_be_the_files() {
        let mut cfg = file_config(None, None);
        cfg.source_sha256 = Field::Known("cd".repeat(32));
        let d = check(
            Cloud::AliCloud,
            &cfg,
            &sources(&cfg),
            &found(Format::Raw, BootMode::Bios),
        );
        assert_eq!(paths(&d), ["source_sha256"]);
        cfg.source_sha256 = Field::Known("AB".repeat(32));
        assert!(check(
            Cloud::AliCloud,
            &cfg,
            &sources(&cfg),
            &found(Format::Raw, BootMode::Bios)
        )
        .is_empty());
    }

    #[test]
    fn fills_use_the_clouds_words() {
        let f = &found(Format::Qcow2, BootMode::Bios)[0];
        assert_eq!(
            fills(Cloud::TencentCloud, Slot::System, f),
            (Some("qcow2".into()), Some("Legacy BIOS".into()))
        );
        assert_eq!(
            fills(Cloud::AliCloud, Slot::System, f),
            (Some("qcow2".into()), Some("BIOS".into()))
        );
        // No boot mode parameter on UCloud; data disks get nothing filled.
        assert_eq!(
            fills(Cloud::UCloud, Slot::System, f),
            (Some("qcow2".into()), None)
        );
        assert_eq!(fills(Cloud::AliCloud, Slot::Data(0), f), (None, None));
        let hybrid = &found(Format::Raw, BootMode::Hybrid)[0];
        assert_eq!(
            fills(Cloud::AliCloud, Slot::System, hybrid),
            (Some("raw".into()), None)
        );
    }
}
