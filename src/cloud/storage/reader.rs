//! An object in storage as a [`ReadAt`], so disk inspection reads a few sectors of an uploaded image through ranged
//! GETs instead of downloading it.

use std::io;

use super::client::{ObjectInfo, S3Client};
use super::error::StorageError;
use crate::disk::{ReadAt, MAX_READ_LEN};

/// Positional reads of one object by `Range` requests. Wrap it in [`crate::disk::CachedReader`] for inspection.
#[derive(Debug, Clone)]
pub struct ObjectReader {
    client: S3Client,
    bucket: String,
    key: String,
    size: u64,
    info: ObjectInfo,
}

impl ObjectReader {
    /// A reader of `bucket/key`, sized by a HeadObject; `None` when the object does not exist.
    pub async fn open(
        client: &S3Client,
        bucket: &str,
        key: &str,
    ) -> Result<Option<Self>, StorageError> {
        let Some(info) = client.head_object(bucket, key).await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            client: client.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: info.size,
            info,
        }))
    }

    /// What HeadObject told about the object (storage class, encryption, metadata).
    pub fn info(&self) -> &ObjectInfo {
        &self.info
    }
}

#[async_trait::async_trait]
impl ReadAt for ObjectReader {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        crate::disk::check_read_len(len)?;
        let len = self.size.saturating_sub(offset).min(len as u64) as usize;
        if len == 0 {
            return Ok(Vec::new());
        }
        debug_assert!(len <= MAX_READ_LEN);
        self.client
            .get_range(&self.bucket, &self.key, offset, len)
            .await
            .map_err(io::Error::other)
    }
}
