//! The simulated images and ECS client tokens, keyed by (cloud, region, id). Import progress is
//! derived from the creation time, so no background task is needed and a restart resumes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cloud::SimCloud;

/// One imported image, in a cloud-neutral form; each cloud's handler renders its own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Image {
    /// Owning backend.
    pub cloud: SimCloud,
    /// Region the image lives in.
    pub region: String,
    /// Cloud-shaped image id.
    pub id: String,
    /// Current name.
    pub name: String,
    /// Current description.
    #[serde(default)]
    pub description: String,
    /// Where it was imported from (URL or `bucket/object`).
    pub source: String,
    /// Image format as given (or inferred).
    #[serde(default)]
    pub format: String,
    /// OS type as given (`linux`, `CentOS`, ...).
    #[serde(default)]
    pub os_type: String,
    /// OS version / distribution (UCloud OsName, Tencent OsVersion, Alibaba Platform).
    #[serde(default)]
    pub os_name: String,
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Project or resource group the image was created in, if any.
    #[serde(default)]
    pub project: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// How long the import takes, milliseconds (fixed at import time).
    pub import_ms: i64,
    /// Whether the import ends in the cloud's failed state.
    pub fails: bool,
    /// Tags (ECS, Tencent).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Data disks imported with the system disk (ECS `DiskDeviceMapping.2..17`).
    #[serde(default)]
    pub data_disks: Vec<DataDiskRecord>,
    /// The import task (ECS `TaskId`), which CancelTask names.
    #[serde(default)]
    pub task_id: String,
    /// Cloud-specific import parameters echoed by describe calls (`ImageFamily`, `NvmeSupport`, `LicenseType`).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// The accounts the image is shared with (ModifyImageSharePermission).
    #[serde(default)]
    pub shares: std::collections::BTreeSet<String>,
    /// The image this one is a copy of (ECS CopyImage, Tencent SyncImages, UCloud CopyCustomImage): a copy is an
    /// image of its own in the destination region, copying (the import phase, in the cloud's copy words) until
    /// its duration is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<CopyOf>,
}

/// Where a copy was copied from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CopyOf {
    /// The source image's region.
    pub region: String,
    /// The source image.
    pub id: String,
}

/// One imported data disk, as DescribeImages reports it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataDiskRecord {
    /// `bucket/object`.
    pub source: String,
    /// Format as given.
    #[serde(default)]
    pub format: String,
    /// Size in GiB as given (0: not given).
    #[serde(default)]
    pub size_gib: u64,
}

impl Image {
    /// ECS `Features.NvmeSupport` as imported (`unsupported` when not given, the cloud's default).
    pub(crate) fn nvme_support(&self) -> &str {
        self.extra
            .get("NvmeSupport")
            .map(String::as_str)
            .unwrap_or("unsupported")
    }

    /// ECS `Features.ImdsSupport` as imported (`v1` when not given, the cloud's default).
    pub(crate) fn imds_support(&self) -> &str {
        self.extra
            .get("ImdsSupport")
            .map(String::as_str)
            .unwrap_or("v1")
    }

    /// Whose image it is, as seen from the simulator's account: `self` (every image an import makes), `public`
    /// (the cloud's own base images) or `shared` (another account's, shared with this one). Only seeded images
    /// (`POST /_sim/images`) are anything but `self`; they show that listings ask for the account's own images.
    pub(crate) fn owner(&self) -> &str {
        self.extra
            .get("owner")
            .map(String::as_str)
            .unwrap_or("self")
    }

    /// A cloud-specific value, empty when not given.
    pub(crate) fn extra(&self, key: &str) -> &str {
        self.extra.get(key).map(String::as_str).unwrap_or("")
    }
}

/// Where an image is in its lifecycle at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Still importing; `percent` rises linearly from 0 to 99.
    Importing {
        /// Progress, 0-99.
        percent: u8,
    },
    /// Usable.
    Available,
    /// The import failed.
    Failed,
}

impl Image {
    /// The lifecycle phase at `now_ms`.
    pub(crate) fn phase(&self, now_ms: i64) -> Phase {
        let elapsed = now_ms.saturating_sub(self.created_ms).max(0);
        if elapsed >= self.import_ms {
            return if self.fails {
                Phase::Failed
            } else {
                Phase::Available
            };
        }
        let pct = elapsed.saturating_mul(100) / self.import_ms.max(1);
        Phase::Importing {
            percent: u8::try_from(pct.clamp(0, 99)).unwrap_or(99),
        }
    }

    /// Image size in GiB reported by describe calls (the simulator has no real disk).
    pub(crate) fn size_gib(&self) -> u32 {
        20
    }
}

/// An ECS `ClientToken` remembered so a retried ImportImage returns the same image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClientToken {
    /// Backend (ECS or Apsara Stack).
    pub cloud: SimCloud,
    /// Region of the request.
    pub region: String,
    /// The token.
    pub token: String,
    /// Digest of the request's business parameters; a different request with the same token
    /// is an idempotence violation.
    pub fingerprint: String,
    /// The image the first request created.
    pub image_id: String,
}

type Key = (SimCloud, String, String);

/// All simulated resources.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    images: BTreeMap<Key, Image>,
    tokens: Vec<ClientToken>,
}

/// The on-disk form of [`Store`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// Format version (1).
    pub version: u32,
    /// Every image.
    pub images: Vec<Image>,
    /// Remembered client tokens.
    #[serde(default)]
    pub client_tokens: Vec<ClientToken>,
}

impl Store {
    /// Rebuilds a store from its on-disk form.
    pub(crate) fn from_snapshot(s: Snapshot) -> Store {
        let images = s
            .images
            .into_iter()
            .map(|i| ((i.cloud, i.region.clone(), i.id.clone()), i))
            .collect();
        Store {
            images,
            tokens: s.client_tokens,
        }
    }

    /// The on-disk form of this store.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: 1,
            images: self.images.values().cloned().collect(),
            client_tokens: self.tokens.clone(),
        }
    }

    /// Adds (or replaces) an image.
    pub(crate) fn insert(&mut self, image: Image) {
        self.images
            .insert((image.cloud, image.region.clone(), image.id.clone()), image);
    }

    /// The image with this id in this region.
    pub(crate) fn get(&self, cloud: SimCloud, region: &str, id: &str) -> Option<&Image> {
        self.images
            .get(&(cloud, region.to_string(), id.to_string()))
    }

    /// Mutable access to the image with this id in this region.
    pub(crate) fn get_mut(
        &mut self,
        cloud: SimCloud,
        region: &str,
        id: &str,
    ) -> Option<&mut Image> {
        self.images
            .get_mut(&(cloud, region.to_string(), id.to_string()))
    }

    /// The region holding image `id`, for services (ENS) whose APIs are not regional.
    pub(crate) fn region_of(&self, cloud: SimCloud, id: &str) -> Option<String> {
        self.images
            .values()
            .find(|i| i.cloud == cloud && i.id == id)
            .map(|i| i.region.clone())
    }

    /// Removes an image; true when it existed.
    pub(crate) fn remove(&mut self, cloud: SimCloud, region: &str, id: &str) -> bool {
        self.images
            .remove(&(cloud, region.to_string(), id.to_string()))
            .is_some()
    }

    /// Images of one cloud, in one region or (with `None`) in all regions, oldest first.
    pub(crate) fn list(&self, cloud: SimCloud, region: Option<&str>) -> Vec<&Image> {
        let mut v: Vec<&Image> = self
            .images
            .values()
            .filter(|i| i.cloud == cloud && region.is_none_or(|r| i.region == r))
            .collect();
        v.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
        v
    }

    /// Every image of every cloud.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Image> {
        self.images.values()
    }

    /// True when another image in the region already has `name`.
    pub(crate) fn name_taken(
        &self,
        cloud: SimCloud,
        region: &str,
        name: &str,
        except_id: &str,
    ) -> bool {
        self.images
            .values()
            .any(|i| i.cloud == cloud && i.region == region && i.name == name && i.id != except_id)
    }

    /// True when a copy of image `id` in `region` is still being made (the clouds refuse to delete such a source:
    /// ECS DeleteImage 403 `OperationDenied.ImageCopying`).
    pub(crate) fn copy_running_from(
        &self,
        cloud: SimCloud,
        region: &str,
        id: &str,
        now_ms: i64,
    ) -> bool {
        self.images.values().any(|i| {
            i.cloud == cloud
                && i.copy_of
                    .as_ref()
                    .is_some_and(|c| c.region == region && c.id == id)
                && matches!(i.phase(now_ms), Phase::Importing { .. })
        })
    }

    /// The remembered client token, if any.
    pub(crate) fn token(&self, cloud: SimCloud, region: &str, token: &str) -> Option<&ClientToken> {
        self.tokens
            .iter()
            .find(|t| t.cloud == cloud && t.region == region && t.token == token)
    }

    /// Remembers a client token.
    pub(crate) fn remember_token(&mut self, t: ClientToken) {
        self.tokens.push(t);
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.images.clear();
        self.tokens.clear();
    }
}

#[cfg(test)]
pub(crate) fn test_image(cloud: SimCloud, region: &str, id: &str, name: &str) -> Image {
    Image {
        cloud,
        region: region.to_string(),
        id: id.to_string(),
        name: name.to_string(),
        description: String::new(),
        source: "bucket/obj.qcow2".to_string(),
        format: "qcow2".to_string(),
        os_type: "linux".to_string(),
        os_name: "CentOS".to_string(),
        architecture: "x86_64".to_string(),
        project: String::new(),
        created_ms: 1_000,
        import_ms: 1_000,
        fails: false,
        tags: BTreeMap::new(),
        data_disks: Vec::new(),
        task_id: String::new(),
        extra: BTreeMap::new(),
        shares: Default::default(),
        copy_of: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rises_then_settles() {
        let mut img = test_image(SimCloud::Ucloud, "cn-bj2", "uimage-1", "a");
        assert_eq!(img.phase(1_000), Phase::Importing { percent: 0 });
        assert_eq!(img.phase(1_500), Phase::Importing { percent: 50 });
        assert_eq!(img.phase(1_999), Phase::Importing { percent: 99 });
        assert_eq!(img.phase(2_000), Phase::Available);
        assert_eq!(img.phase(500), Phase::Importing { percent: 0 });
        img.fails = true;
        assert_eq!(img.phase(5_000), Phase::Failed);
        img.import_ms = 0;
        img.fails = false;
        assert_eq!(img.phase(1_000), Phase::Available);
    }

    #[test]
    fn keyed_by_cloud_region_id() {
        let mut s = Store::default();
        s.insert(test_image(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1", "a"));
        s.insert(test_image(SimCloud::AlicloudEcs, "cn-beijing", "m-1", "a"));
        s.insert(test_image(SimCloud::Apsarastack, "cn-hangzhou", "m-2", "a"));
        assert_eq!(s.list(SimCloud::AlicloudEcs, None).len(), 2);
        assert_eq!(s.list(SimCloud::AlicloudEcs, Some("cn-beijing")).len(), 1);
        assert!(s.name_taken(SimCloud::AlicloudEcs, "cn-hangzhou", "a", "m-9"));
        assert!(!s.name_taken(SimCloud::AlicloudEcs, "cn-hangzhou", "a", "m-1"));
        assert!(!s.name_taken(SimCloud::AlicloudEcs, "cn-shanghai", "a", "m-9"));
        assert_eq!(
            s.region_of(SimCloud::Apsarastack, "m-2").as_deref(),
            Some("cn-hangzhou")
        );
        assert!(s.remove(SimCloud::AlicloudEcs, "cn-beijing", "m-1"));
        assert!(!s.remove(SimCloud::AlicloudEcs, "cn-beijing", "m-1"));
        assert!(s.get(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1").is_some());
    }

    #[test]
    fn a_running_copy_is_found_from_its_source() {
        let mut s = Store::default();
        let mut copy = test_image(SimCloud::AlicloudEcs, "cn-beijing", "m-2", "c");
        copy.copy_of = Some(CopyOf {
            region: "cn-hangzhou".into(),
            id: "m-1".into(),
        });
        s.insert(copy);
        assert!(s.copy_running_from(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1", 1_500));
        assert!(!s.copy_running_from(SimCloud::AlicloudEcs, "cn-hangzhou", "m-1", 2_000));
        assert!(!s.copy_running_from(SimCloud::AlicloudEcs, "cn-beijing", "m-1", 1_500));
    }

    #[test]
    fn snapshot_round_trip() {
        let mut s = Store::default();
        s.insert(test_image(
            SimCloud::Tencentcloud,
            "ap-guangzhou",
            "img-1",
            "a",
        ));
        s.remember_token(ClientToken {
            cloud: SimCloud::AlicloudEcs,
            region: "cn-hangzhou".into(),
            token: "t".into(),
            fingerprint: "f".into(),
            image_id: "m-1".into(),
        });
        let json = serde_json::to_string(&s.snapshot()).unwrap();
        let back = Store::from_snapshot(serde_json::from_str(&json).unwrap());
        assert_eq!(back.snapshot().images, s.snapshot().images);
        assert!(back
            .token(SimCloud::AlicloudEcs, "cn-hangzhou", "t")
            .is_some());
        let mut back = back;
        back.clear();
        assert_eq!(back.all().count(), 0);
    }
}
