//! `--object-store URL`: the simulator's clouds read their object storage from an S3-compatible server (moto in the
//! tests), so an import of an object that is not there fails the way each cloud fails it.
//!
//! Every import names its objects in the cloud's own words (ECS `DiskDeviceMapping.N.OSSBucket`/`OSSObject`, ENS
//! `OSSBucket`/`OSSObject` and its `DiskDeviceMapping` list, Tencent `ImageUrl`, UCloud `UFileUrl`); each family reads
//! them into (bucket, key) pairs and asks [`ObjectStore::lookup`] before handling the import. URLs are read with the
//! provider's own reading of each cloud's object URLs (`cloudimage::cloud::objects::stored_object`); the buckets and
//! keys are then looked up path style in the one server, as if it held every cloud's buckets.
//!
//! How a cloud answers a missing object (docs/simulator.md): ECS and Apsara Stack refuse the import with 400
//! `InvalidOSSObject.NotFound` (or `InvalidOSSBucket.NotFound`), ENS with 400 `InvalidParameter.OSSObject`; Tencent
//! Cloud and UCloud take the import and the image ends in their failed state.

use cloudimage::cloud::http::RetryPolicy;
use cloudimage::cloud::objects::stored_object;
use cloudimage::cloud::storage::{
    Addressing, S3Client, StorageConfig, StorageCredentials, StorageOptions,
};
use cloudimage::cloud::Cloud;

use crate::cloud::SimCloud;

/// The S3-compatible server the simulated clouds read their objects from.
#[derive(Debug, Clone)]
pub(crate) struct ObjectStore {
    client: S3Client,
}

/// What a lookup of an import's objects found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Every object is there.
    Found,
    /// This object (`bucket/key`) is not.
    NoObject(String),
    /// This bucket is not.
    NoBucket(String),
    /// The server could not answer (the cloud's internal error).
    Unreachable(String),
    /// This object is in an archive storage class (it must be restored before it can be read).
    Archived(String),
    /// This object is encrypted at rest.
    Encrypted(String),
}

impl ObjectStore {
    /// A path-style client of `url` (`http://127.0.0.1:PORT` or an https endpoint) with these keys.
    pub(crate) fn new(
        url: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, String> {
        let config = StorageConfig::new(
            url,
            region,
            Addressing::Path,
            StorageCredentials {
                access_key_id: access_key_id.to_string(),
                secret_access_key: secret_access_key.into(),
                session_token: None,
            },
        )
        .map_err(|e| e.to_string())?;
        let client = S3Client::with_options(
            config,
            StorageOptions {
                retry: RetryPolicy {
                    max_attempts: 2,
                    ..StorageOptions::default().retry
                },
                ..StorageOptions::default()
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(Self { client })
    }

    /// Whether every `(bucket, key)` exists.
    pub(crate) async fn lookup(&self, objects: &[(String, String)]) -> Lookup {
        for (bucket, key) in objects {
            match self.client.head_object(bucket, key).await {
                Ok(Some(info)) => {
                    let archived = info
                        .storage_class
                        .as_deref()
                        .is_some_and(cloudimage::cloud::alibaba::oss::is_archive_class);
                    if archived {
                        return Lookup::Archived(format!("{bucket}/{key}"));
                    }
                    if info.server_side_encryption.is_some() {
                        return Lookup::Encrypted(format!("{bucket}/{key}"));
                    }
                }
                // A HEAD answer has no body to tell a missing bucket from a missing key; a ranged GET does.
                Ok(None) => {
                    return match self.client.get_range(bucket, key, 0, 1).await {
                        Err(e) if e.code() == Some("NoSuchBucket") => {
                            Lookup::NoBucket(bucket.clone())
                        }
                        _ => Lookup::NoObject(format!("{bucket}/{key}")),
                    }
                }
                Err(e) if e.code() == Some("NoSuchBucket") => {
                    return Lookup::NoBucket(bucket.clone())
                }
                Err(e) => return Lookup::Unreachable(e.to_string()),
            }
        }
        Lookup::Found
    }
}

/// The (bucket, key) an object URL of `cloud` names (UCloud `UFileUrl`, Tencent `ImageUrl`); `None` for a URL that
/// names no object of the cloud's storage (the import's own checks refuse it).
pub(crate) fn object_of_url(cloud: SimCloud, url: &str) -> Option<(String, String)> {
    let cloud: Cloud = cloud.name().parse().ok()?;
    let o = stored_object(cloud, url).ok()?;
    Some((o.bucket, o.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_each_cloud_name_buckets_and_keys() {
        assert_eq!(
            object_of_url(
                SimCloud::Ucloud,
                "https://images.cn-bj.ufileos.com/a/b.qcow2"
            ),
            Some(("images".into(), "a/b.qcow2".into()))
        );
        assert_eq!(
            object_of_url(
                SimCloud::Tencentcloud,
                "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/x.raw"
            ),
            Some(("images-1250000000".into(), "x.raw".into()))
        );
        assert_eq!(
            object_of_url(SimCloud::Surfercloud, "http://127.0.0.1:9000/bkt/k.vhd"),
            Some(("bkt".into(), "k.vhd".into()))
        );
        assert_eq!(
            object_of_url(SimCloud::Ucloud, "https://example.com/x"),
            None
        );
        assert!(ObjectStore::new("http://example.com:9000", "us-east-1", "a", "b").is_err());
        assert!(ObjectStore::new("http://127.0.0.1:9000", "us-east-1", "a", "b").is_ok());
    }
}
