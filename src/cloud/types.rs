//! Cloud-neutral value types shared by every backend and by the resource logic.

use std::collections::BTreeMap;

use super::params::Options;

/// Cloud-neutral lifecycle state of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageState {
    /// Import (or copy/packing) still running.
    #[default]
    Importing,
    /// Usable.
    Available,
    /// The import failed; the image cannot be used.
    Failed,
    /// Being deleted.
    Deleting,
}

/// An image as described by a cloud, normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Image {
    /// Cloud image id.
    pub id: String,
    /// Image name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Normalised state.
    pub state: ImageState,
    /// The cloud's own state word, e.g. `IMPORTFAILED`.
    pub raw_state: String,
    /// Import progress in percent, when the cloud reports it.
    pub progress: Option<u8>,
    /// Image (system disk) size in GB.
    pub size_gb: Option<u64>,
    /// Creation time as the cloud reports it.
    pub created_at: Option<String>,
    /// OS type (`linux`, `windows`, ...).
    pub os_type: Option<String>,
    /// OS platform / distribution.
    pub platform: Option<String>,
    /// OS version / name.
    pub os_version: Option<String>,
    /// CPU architecture.
    pub architecture: Option<String>,
    /// Tags / labels.
    pub tags: BTreeMap<String, String>,
    /// Why an import failed, when the cloud says.
    pub failure_reason: Option<String>,
    /// The object the system disk was imported from, where the cloud reports it (ECS `DiskDeviceMappings`),
    /// as `oss://bucket/key`.
    pub source_url: Option<String>,
    /// The system disk file's format, where the cloud reports it.
    pub format: Option<String>,
    /// The data disks imported with the image, where the cloud reports them (`None`: the cloud does not say).
    pub data_disks: Option<Vec<DataDisk>>,
}

/// An extra data disk imported together with the system disk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataDisk {
    /// Object-storage URL of the disk file.
    pub source_url: String,
    /// Disk file format (`qcow2`, `raw`, `vhd`, ...).
    pub format: Option<String>,
    /// Disk size in GB.
    pub size_gb: Option<u64>,
}

/// What a listing of an account's custom images asks for. Clouds apply what they can natively (their name filters
/// match parts of names; tag filters where they have them) to read fewer pages; the caller matches exactly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageFilter {
    /// Names containing this text.
    pub name_contains: Option<String>,
    /// Tags the image must carry, with these values.
    pub tags: BTreeMap<String, String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListedPage {
    /// The account's custom images on this page (only those in the region asked for).
    pub images: Vec<Image>,
    /// Whether this is the last page.
    pub last: bool,
}

impl ListedPage {
    /// A page of `n` entries (before any filtering) of `page_size`, page `page` of a listing of `total`.
    pub(crate) fn new(
        images: Vec<Image>,
        n: usize,
        page: usize,
        page_size: usize,
        total: usize,
    ) -> Self {
        ListedPage {
            images,
            last: n < page_size || (page + 1) * page_size >= total,
        }
    }
}

/// Everything needed to start one image import.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportRequest {
    /// Region to import into.
    pub region: String,
    /// Image name.
    pub name: String,
    /// Image description.
    pub description: Option<String>,
    /// Object-storage URL of the system-disk file.
    pub source_url: String,
    /// The optional parameters ([`crate::cloud::params`]): format, OS, architecture, boot mode and the rest, as
    /// the configuration set them and in the cloud's spelling.
    pub options: Options,
    /// Tags to put on the image.
    pub tags: BTreeMap<String, String>,
    /// Additional data disks.
    pub data_disks: Vec<DataDisk>,
    /// Stable per resource create (a UUID); sent as ECS `ClientToken`.
    pub idempotency_token: String,
    /// How long the create waits for the import (its timeout): a signed source URL the client makes (UCloud's
    /// private `UFileUrl`) stays valid that long and an hour more. How the import is called, not what it makes:
    /// not part of the create's fingerprint.
    pub import_timeout: Option<std::time::Duration>,
}

/// A disk file format as UCloud's and ECS's import calls spell it: `RAW`, `VHD`, `VMDK`, `qcow2` (other words as
/// given).
pub(super) fn format_word(f: &str) -> String {
    match f.to_ascii_lowercase().as_str() {
        "raw" => "RAW".into(),
        "vhd" => "VHD".into(),
        "vmdk" => "VMDK".into(),
        "qcow2" => "qcow2".into(),
        _ => f.to_string(),
    }
}

/// What an import call returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportStarted {
    /// The new image.
    pub image_id: String,
    /// The cloud's import task, where it has one (ECS `TaskId`).
    pub task_id: Option<String>,
}

impl ImportStarted {
    /// An import known by its image only (the cloud has no import task to name).
    pub fn of(image_id: String) -> Self {
        Self {
            image_id,
            task_id: None,
        }
    }
}

/// A copy of an image into another region of the same account. The copy is an image of its own, with its own ID,
/// which the caller waits for like an import (it is listed as importing until the cloud has copied it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CopyRequest {
    /// The region of the image copied.
    pub source_region: String,
    /// The image copied.
    pub source_id: String,
    /// The region the copy is made in.
    pub region: String,
    /// The copy's name.
    pub name: String,
    /// The copy's description, where the copy call takes one.
    pub description: Option<String>,
    /// Encrypt the copy (with `kms_key_id`, else the cloud's default key), where the cloud can.
    pub encrypted: bool,
    /// The KMS key that encrypts the copy.
    pub kms_key_id: Option<String>,
    /// Tags put on the copy, where the copy call takes tags (the user's tags and the provider's marker).
    pub tags: BTreeMap<String, String>,
    /// Idempotency token (ECS `ClientToken`): a call repeated with it returns the copy the first call made.
    pub idempotency_token: String,
}

/// In-place changes to an image; `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Full desired tag set.
    pub tags: Option<BTreeMap<String, String>>,
}
