//! Where and as whom the storage client talks: endpoint, signing region, addressing style, credentials.
//!
//! The three clouds' S3-compatible endpoints (AWS Signature V4):
//! - Alibaba Cloud OSS: `https://s3.oss-<region>.aliyuncs.com`, virtual-hosted style only, signing region is the
//!   region id without `oss-` (Alibaba Cloud help center, OSS "Access OSS using an AWS SDK" and "Request style":
//!   "OSS accepts only virtual hosted-style URLs").
//! - Tencent Cloud COS: `https://cos.<region>.myqcloud.com` (COS use cases, "Accessing COS with AWS S3 SDK").
//! - UCloud / SurferCloud US3: `https://s3-<region>.ufileos.com` (UCloud docs, ufile "AWS S3 Protocol Support";
//!   HTTPS only in some regions there). The signing region US3 expects is not stated; the region id is used
//!   (a known guess, see docs/simulator.md).
//!
//! A local S3-compatible server (the tests' moto) is reached path style over loopback http.

use url::Url;

use super::error::StorageError;
use crate::cloud::http::check_origin;
use crate::cloud::Secret;

/// How the bucket appears in request URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `https://<bucket>.<endpoint host>/<key>`: what OSS requires and COS and US3 accept.
    VirtualHosted,
    /// `https://<endpoint host>/<bucket>/<key>`: for local servers that have no per-bucket host names, and US3
    /// regions without virtual-hosted HTTPS.
    Path,
    /// `https://<custom domain>/<key>`: a domain bound to one bucket (OSS CNAME), which names the bucket itself.
    CustomDomain,
}

/// What one service's S3-compatible API requires beyond S3, declared by each cloud's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageProfile {
    /// How the bucket appears in request URLs.
    pub addressing: Addressing,
    /// The one part size the service takes for multipart uploads (all parts but the last), where it takes only
    /// one.
    pub fixed_part_size: Option<u64>,
    /// Whether the service verifies `Content-MD5` and its part ETags are the parts' MD5s. Where not, parts are
    /// checked by their signed payload SHA-256 and the final size only.
    pub md5_checks: bool,
}

impl Default for StorageProfile {
    fn default() -> Self {
        Self {
            addressing: Addressing::VirtualHosted,
            fixed_part_size: None,
            md5_checks: true,
        }
    }
}

/// Access keys for Signature V4. The secret and the token are [`Secret`]s, so the derived `Debug` never shows
/// them; only the signer reads their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary (STS) credentials.
    pub session_token: Option<Secret>,
}

/// Everything the client needs to reach one S3-compatible service.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Scheme, host and port of the service (no bucket, no path).
    pub endpoint: Url,
    /// The region the signature is scoped to.
    pub region: String,
    /// Virtual-hosted or path style.
    pub addressing: Addressing,
    /// Access keys.
    pub credentials: StorageCredentials,
    /// Also send S3's flexible checksum `x-amz-checksum-sha256` with every part and object (the upload is created
    /// with `x-amz-checksum-algorithm: SHA256`), which S3 verifies besides `Content-MD5`. Off by default: the OSS,
    /// COS and US3 S3-compatible APIs do not document these headers.
    pub sha256_checksums: bool,
    /// The one part size the service takes (see [`StorageProfile::fixed_part_size`]).
    pub fixed_part_size: Option<u64>,
    /// See [`StorageProfile::md5_checks`].
    pub md5_checks: bool,
}

impl StorageConfig {
    /// Checks and builds a configuration: `endpoint` must be `https://host[:port]` (or plain `http` to a loopback
    /// host), without path, query or user info (the API clients' endpoint check, [`check_origin`]).
    pub fn new(
        endpoint: &str,
        region: &str,
        addressing: Addressing,
        credentials: StorageCredentials,
    ) -> Result<Self, StorageError> {
        let url = check_origin(endpoint).map_err(StorageError::Config)?;
        if region.trim().is_empty() {
            return Err(StorageError::Config("the signing region is empty".into()));
        }
        if credentials.access_key_id.is_empty() || credentials.secret_access_key.expose().is_empty()
        {
            return Err(StorageError::Config(
                "object storage credentials are empty".into(),
            ));
        }
        Ok(Self {
            endpoint: url,
            region: region.trim().to_string(),
            addressing,
            credentials,
            sha256_checksums: false,
            fixed_part_size: None,
            md5_checks: true,
        })
    }

    /// The same configuration under a service's [`StorageProfile`] (its addressing, part size and checks).
    pub fn with_profile(mut self, profile: StorageProfile) -> Self {
        self.addressing = profile.addressing;
        self.fixed_part_size = profile.fixed_part_size;
        self.md5_checks = profile.md5_checks;
        self
    }

    /// The same configuration with [`StorageConfig::sha256_checksums`] set.
    pub fn with_sha256_checksums(mut self, on: bool) -> Self {
        self.sha256_checksums = on;
        self
    }

    /// Alibaba Cloud OSS through its S3-compatible endpoint (`region` like `cn-hangzhou`; `internal` for the VPC
    /// endpoint).
    pub fn alibaba_oss(
        region: &str,
        internal: bool,
        credentials: StorageCredentials,
    ) -> Result<Self, StorageError> {
        let suffix = if internal { "-internal" } else { "" };
        Self::new(
            &format!("https://s3.oss-{region}{suffix}.aliyuncs.com"),
            region,
            Addressing::VirtualHosted,
            credentials,
        )
    }

    /// Tencent Cloud COS through its S3-compatible endpoint (`region` like `ap-guangzhou`).
    pub fn tencent_cos(
        region: &str,
        credentials: StorageCredentials,
    ) -> Result<Self, StorageError> {
        Self::new(
            &format!("https://cos.{region}.myqcloud.com"),
            region,
            Addressing::VirtualHosted,
            credentials,
        )
    }

    /// UCloud / SurferCloud US3 through its S3-compatible endpoint (`region` like `cn-bj`).
    pub fn ucloud_us3(region: &str, credentials: StorageCredentials) -> Result<Self, StorageError> {
        Self::new(
            &format!("https://s3-{region}.ufileos.com"),
            region,
            Addressing::VirtualHosted,
            credentials,
        )
    }
}

/// Checks a bucket name against the rules the three services share with S3 (3-63 characters of lower-case
/// letters, digits, `-` and `.`, starting and ending with a letter or digit), so it is a valid host label.
pub fn check_bucket(bucket: &str) -> Result<(), StorageError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && bucket
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(StorageError::Config(format!(
            "bucket name {bucket:?} is not 3-63 lower-case letters, digits, '-' or '.'"
        )))
    }
}

/// Checks an object key: 1-1023 bytes, no leading `/`, no `.`/`..` path segments (HTTP stacks normalise those
/// away, so the signed path would not be the path sent), no control characters.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let bad = |why: &str| StorageError::Config(format!("object key {key:?} {why}"));
    if key.is_empty() || key.len() > 1023 {
        return Err(bad("must be 1-1023 bytes"));
    }
    if key.starts_with('/') {
        return Err(bad("must not start with '/'"));
    }
    if key.split('/').any(|s| s == "." || s == "..") {
        return Err(bad("must not contain '.' or '..' segments"));
    }
    if key.chars().any(char::is_control) {
        return Err(bad("must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> StorageCredentials {
        StorageCredentials {
            access_key_id: "AK".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("tok".into()),
        }
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(StorageConfig::new(
            "https://s3.example.com",
            "r",
            Addressing::VirtualHosted,
            creds()
        )
        .is_ok());
        assert!(
            StorageConfig::new("http://127.0.0.1:9000", "r", Addressing::Path, creds()).is_ok()
        );
        for bad in [
            "http://s3.example.com",
            "ftp://x",
            "https://s3.example.com/bucket",
            "https://u:p@s3.example.com",
            "not a url",
        ] {
            assert!(
                StorageConfig::new(bad, "r", Addressing::Path, creds()).is_err(),
                "{bad}"
            );
        }
        assert!(
            StorageConfig::new("https://s3.example.com", " ", Addressing::Path, creds()).is_err()
        );
        let oss = StorageConfig::alibaba_oss("cn-hangzhou", true, creds()).unwrap();
        assert_eq!(
            oss.endpoint.as_str(),
            "https://s3.oss-cn-hangzhou-internal.aliyuncs.com/"
        );
        assert_eq!(oss.region, "cn-hangzhou");
        let cos = StorageConfig::tencent_cos("ap-guangzhou", creds()).unwrap();
        assert_eq!(
            cos.endpoint.host_str(),
            Some("cos.ap-guangzhou.myqcloud.com")
        );
        let us3 = StorageConfig::ucloud_us3("cn-bj", creds()).unwrap();
        assert_eq!(us3.endpoint.host_str(), Some("s3-cn-bj.ufileos.com"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let text = format!(
            "{:?}",
            StorageConfig::new("https://h", "r", Addressing::Path, creds()).unwrap()
        );
        assert!(
            !text.contains("very-secret") && !text.contains("tok\""),
            "{text}"
        );
    }

    #[test]
    fn bucket_and_key_rules() {
        assert!(check_bucket("images-1").is_ok());
        for b in ["ab", "Images", "-x-", "a_b", &"a".repeat(64)] {
            assert!(check_bucket(b).is_err(), "{b}");
        }
        assert!(check_key("dir/disk image (1).qcow2").is_ok());
        for k in ["", "/a", "a/../b", "./a", "a\nb"] {
            assert!(check_key(k).is_err(), "{k:?}");
        }
    }
}
