//! Cloud-neutral value types shared by every backend and by the resource logic.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The six supported backends; the resource's `cloud` attribute takes [`Cloud::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    /// UCloud (api.ucloud.cn).
    UCloud,
    /// SurferCloud: UCloud's API under another brand (api.surfercloud.com).
    SurferCloud,
    /// Tencent Cloud CVM (TC3 signature).
    TencentCloud,
    /// Alibaba Cloud ECS (RPC signature).
    AliCloud,
    /// Alibaba Cloud ENS, Edge Node Service.
    AliCloudEns,
    /// Apsara Stack ECS via the `/apsara/route` gateway.
    ApsaraStack,
}

impl Cloud {
    /// Every cloud, in a stable order (for docs, validation messages and tests).
    pub const ALL: [Cloud; 6] = [
        Cloud::UCloud,
        Cloud::SurferCloud,
        Cloud::TencentCloud,
        Cloud::AliCloud,
        Cloud::AliCloudEns,
        Cloud::ApsaraStack,
    ];

    /// The identifier users write in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::UCloud => "ucloud",
            Cloud::SurferCloud => "surfercloud",
            Cloud::TencentCloud => "tencentcloud",
            Cloud::AliCloud => "alicloud",
            Cloud::AliCloudEns => "alicloud_ens",
            Cloud::ApsaraStack => "apsarastack",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cloud::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Cloud::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown cloud {s:?}; expected one of {}", all.join(", "))
            })
    }
}

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
    /// File format.
    pub format: Option<String>,
    /// OS type (`linux` / `windows`).
    pub os_type: Option<String>,
    /// OS platform / distribution.
    pub platform: Option<String>,
    /// OS version.
    pub os_version: Option<String>,
    /// CPU architecture.
    pub architecture: Option<String>,
    /// Boot mode (`BIOS` / `UEFI`).
    pub boot_mode: Option<String>,
    /// License type (ECS `Auto`/`Aliyun`/`BYOL`, Tencent `TCLicense`/`BYOL`).
    pub license_type: Option<String>,
    /// Tags to put on the image.
    pub tags: BTreeMap<String, String>,
    /// Additional data disks.
    pub data_disks: Vec<DataDisk>,
    /// Stable per resource create (a UUID); sent as ECS `ClientToken`.
    pub idempotency_token: String,
    /// Tencent `Force`: import even what the cloud would refuse without it (ISO files).
    pub force: bool,
    /// Tencent `ImageFamily`.
    pub image_family: Option<String>,
    /// ECS / Apsara Stack `RoleName`: the RAM role the import reads OSS with.
    pub role_name: Option<String>,
    /// ECS `DetectionStrategy` (`Standard`).
    pub detection_strategy: Option<String>,
    /// ECS `Features.NvmeSupport` (`supported` / `unsupported`).
    pub nvme_support: Option<String>,
    /// ECS / Apsara Stack `DiskDeviceMapping.1.DiskImageSize`: the system disk size in GiB.
    pub system_disk_size_gb: Option<u64>,
    /// ENS `TargetOSSRegionId`: the region the imported image is stored in.
    pub target_oss_region_id: Option<String>,
}

/// What an import call returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportStarted {
    /// The new image.
    pub image_id: String,
    /// The cloud's import task, where it has one (ECS `TaskId`).
    pub task_id: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_round_trips() {
        for c in Cloud::ALL {
            assert_eq!(c.as_str().parse::<Cloud>().unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
        }
        assert!("aws".parse::<Cloud>().unwrap_err().contains("alicloud_ens"));
    }
}
