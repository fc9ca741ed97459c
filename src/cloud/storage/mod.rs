//! Object storage for uploads: an S3-compatible client for Alibaba Cloud OSS, Tencent Cloud COS and UCloud /
//! SurferCloud US3 (all three document S3-compatible endpoints with AWS Signature V4), used to put a local disk
//! image where the clouds' import APIs read it, and to read a few sectors of an existing object at plan time.
//!
//! - [`S3Client`]: the signed S3 calls (HeadObject, ranged GetObject, PutObject, DeleteObject, the multipart
//!   calls), each retried where repeating is safe. Signing is Apache OpenDAL's `reqsign` (AWS SigV4).
//! - [`S3Client::upload_file`]: multipart upload with bounded parallelism and memory, per-part `Content-MD5` (and
//!   signed payload SHA-256) the service verifies, ETag checks, retries per part, resume of an interrupted upload,
//!   abort on failure, INFO progress lines, final size check.
//! - [`ObjectReader`]: an object as a [`crate::disk::ReadAt`], for disk inspection through ranged GETs.
//!
//! This client over reqwest was chosen over the `object_store` and `opendal` crates because neither exposes ListParts for
//! resuming an unfinished upload by its existing parts; `reqsign` is the signing half of OpenDAL.

mod client;
mod config;
mod error;
mod ramp;
mod reader;
mod upload;
mod xml;

pub use client::{
    etag_md5, CompletedPart, ObjectInfo, PartBody, PartInfo, S3Client, StorageOptions, UploadInfo,
    UNSIGNED_PAYLOAD,
};
pub use config::{
    check_bucket, check_key, Addressing, StorageConfig, StorageCredentials, StorageProfile,
};
pub use error::StorageError;
pub use reader::ObjectReader;
pub use upload::{
    human_bytes, plan_parts, PartEvent, PartObserver, UploadOptions, UploadReport, UploadRequest,
    DEFAULT_PART_SIZE, MAX_PARTS, MAX_PART_SIZE, META_SHA256, MIN_PART_SIZE,
};
