//! Apply's part of a `source_file`: before the import, each local file is checked to still be the content the plan
//! saw and uploaded to its `upload_to` object (multipart, resumed when an earlier apply was interrupted, verified
//! part by part and by the final size; see `crate::cloud::storage`); once the image is available the uploaded
//! objects are deleted, unless `keep_uploaded_object`. Never earlier: the import reads them until then, and a
//! failed or interrupted import keeps them for the next apply, which then finds them in place and sends nothing.

use std::path::PathBuf;

use crate::cloud::objects::upload_object;
use crate::cloud::storage::{human_bytes, S3Client, UploadOptions, UploadRequest};
use crate::cloud::{Cloud, StoredObject};
use crate::provider::Diagnostic;
use crate::signal::Signal;

use super::context::StorageUse;
use super::image::CustomImage;
use super::model::{attr, Field, ImageModel};
use super::shared_uploads::{Lease, ObjectId};
use super::source::Slot;

/// One local file to upload.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    cloud: Cloud,
    slot: Slot,
    path: PathBuf,
    url: String,
    object: StoredObject,
    /// The content's SHA-256, as planned (and checked again).
    pub(super) sha256: String,
    client: S3Client,
}

/// The upload settings: the storage client's defaults (four parts in flight at the start, up to six while the
/// measured throughput grows, within 64 MiB of part buffers,
/// `Content-MD5` and the signed payload SHA-256 per part, INFO progress every 10 seconds), which
/// `scripts/bench --upload` measures through the `cloudimage-upload` example.
fn options() -> UploadOptions {
    UploadOptions::default()
}

impl Upload {
    /// The object this upload writes, as the run's shared uploads know it.
    pub(super) fn object_id(&self) -> ObjectId {
        (
            self.client.config().endpoint.to_string(),
            self.object.bucket.clone(),
            self.object.key.clone(),
        )
    }
}

impl CustomImage {
    /// Holds `uploads`' objects for one create (see `shared_uploads`): no other image of this run deletes them
    /// while this create needs them.
    pub(super) fn lease_uploads(&self, uploads: &[Upload], keep: bool) -> Lease {
        let ids: Vec<ObjectId> = uploads.iter().map(Upload::object_id).collect();
        self.clouds.shared_uploads().lease(&ids, keep)
    }

    /// The uploads a create makes, one per `source_file` disk: each file's content must still be what the plan
    /// hashed (a file changed since would be imported under the plan's identity), and its storage must be
    /// reachable with the provider block's settings. Nothing is sent yet.
    pub(super) async fn prepare_uploads(
        &self,
        cloud: Cloud,
        region: &str,
        config: &ImageModel,
        planned: &ImageModel,
    ) -> Result<Vec<Upload>, Diagnostic> {
        // (disk, source_file, upload_to, planned source_sha256)
        type Wanted<'a> = (
            Slot,
            &'a Field<String>,
            &'a Field<String>,
            &'a Field<String>,
        );
        let mut wanted: Vec<Wanted<'_>> = Vec::new();
        wanted.push((
            Slot::System,
            &config.source_file,
            &config.upload_to,
            &planned.source_sha256,
        ));
        let planned_disks = planned.disks();
        for (i, d) in config.disks().iter().enumerate() {
            let sha = planned_disks
                .get(i)
                .map(|p| &p.source_sha256)
                .unwrap_or(&d.source_sha256);
            wanted.push((Slot::Data(i), &d.source_file, &d.upload_to, sha));
        }
        let mut out = Vec::new();
        for (slot, file, to, planned_sha) in wanted {
            let (Some(path), Some(url)) = (file.text(), to.text()) else {
                continue;
            };
            let path = PathBuf::from(path);
            let digest = self.clouds.hash_cache().sha256(&path).await.map_err(|e| {
                Diagnostic::error("Cannot read source_file", e.to_string())
                    .at(slot.path(attr::SOURCE_FILE))
            })?;
            if let Some(want) = planned_sha.text() {
                if !want.eq_ignore_ascii_case(&digest.sha256) {
                    return Err(Diagnostic::error(
                        "source_file changed since the plan",
                        format!(
                            "{} now has SHA-256 {}, the plan was made for {want}. Nothing was uploaded or \
                             imported; plan again.",
                            path.display(),
                            digest.sha256
                        ),
                    )
                    .at(slot.path(attr::SOURCE_FILE)));
                }
            }
            let object = upload_object(cloud, url).map_err(|e| {
                Diagnostic::error("Invalid upload_to", e).at(slot.path(attr::UPLOAD_TO))
            })?;
            let client = self
                .clouds
                .storage(cloud, &object, region, StorageUse::Apply)
                .map_err(|e| {
                    Diagnostic::error(
                        format!("Cannot upload to {cloud}'s object storage"),
                        e.message,
                    )
                    .at(slot.path(attr::UPLOAD_TO))
                })?;
            out.push(Upload {
                cloud,
                slot,
                path,
                url: url.to_string(),
                object,
                sha256: digest.sha256,
                client,
            });
        }
        Ok(out)
    }

    /// Uploads every file, one after the other (each upload has its own parallel parts). Stops when Terraform asks
    /// to: an upload interrupted that way (or by a crash) is resumed by the next apply, and no image exists yet.
    pub(super) async fn upload_all(
        &self,
        uploads: &[Upload],
        lease: &Lease,
        stop: &Signal,
    ) -> Result<(), Diagnostic> {
        for u in uploads {
            let interrupted = || {
                Diagnostic::error(
                    "Interrupted while uploading source_file",
                    "Terraform was asked to stop. No image was imported; the next apply resumes the upload \
                     where it stopped.",
                )
                .at(u.slot.path(attr::SOURCE_FILE))
            };
            // Another image of this run may be uploading the same file to the same object: wait for it, then
            // find the content in place.
            let id = u.object_id();
            let _turn = tokio::select! {
                t = lease.upload_turn(&id) => t,
                () = stop.wait() => return Err(interrupted()),
            };
            let request = UploadRequest {
                path: &u.path,
                bucket: &u.object.bucket,
                key: &u.object.key,
                sha256: &u.sha256,
            };
            tracing::info!(file = %u.path.display(), to = %u.url, "uploading the disk image");
            let options = options();
            let run = u.client.upload_file(&request, &options);
            let result = tokio::select! {
                r = run => r,
                () = stop.wait() => return Err(interrupted()),
            };
            match result {
                Ok(report) if report.already_present => {
                    tracing::info!(to = %u.url, "the object already holds this content; nothing sent");
                }
                Ok(report) => tracing::info!(
                    to = %u.url,
                    "uploaded {}: {} of {} parts sent, {} resumed, {} retries",
                    human_bytes(report.size),
                    report.parts_sent,
                    report.parts_total,
                    report.parts_reused,
                    report.retries
                ),
                Err(e) => {
                    let again = if e.is_retryable() {
                        " Apply again: the parts already sent are kept and only the missing ones are sent."
                    } else {
                        ""
                    };
                    let hint = e
                        .service_codes()
                        .into_iter()
                        .find_map(|c| u.cloud.backend().storage_hint(c))
                        .map(|h| format!(" {h}"))
                        .unwrap_or_default();
                    return Err(Diagnostic::error(
                        format!("Uploading source_file to {} failed", u.url),
                        format!("{e}. No image was imported.{again}{hint}"),
                    )
                    .at(u.slot.path(attr::SOURCE_FILE)));
                }
            }
        }
        Ok(())
    }

    /// Deletes the uploaded objects of an image that is available now, of those `deletable` names (no other image
    /// of this run still needs them). A delete that fails is a warning: the image is fine, only the object is
    /// left to remove.
    pub(super) async fn remove_uploads(
        &self,
        uploads: &[Upload],
        deletable: &[ObjectId],
    ) -> Vec<Diagnostic> {
        let mut warnings = Vec::new();
        for u in uploads {
            if !deletable.contains(&u.object_id()) {
                tracing::info!(object = %u.url, "keeping the uploaded object: another image of this run uses it");
                continue;
            }
            match u
                .client
                .delete_object(&u.object.bucket, &u.object.key)
                .await
            {
                Ok(()) => tracing::info!(object = %u.url, "deleted the uploaded object; the image is available"),
                Err(e) => warnings.push(
                    Diagnostic::warning(
                        "Could not delete the uploaded object",
                        format!(
                            "The image is available, but deleting {} failed: {e}. Delete it yourself, or set \
                             keep_uploaded_object = true to keep such objects.",
                            u.url
                        ),
                    )
                    .at(u.slot.path(attr::UPLOAD_TO)),
                ),
            }
        }
        warnings
    }
}
