//! OSS object locations: the Alibaba family imports from a bucket and an object key, which users write as
//! `oss://bucket/key` or as the object's https URL.

use crate::cloud::object_url::ObjectUrl;

/// Storage classes whose objects must be restored before they can be read: S3's words (`GLACIER`,
/// `DEEP_ARCHIVE`) and OSS's own (`Archive`, `ColdArchive`, `DeepColdArchive`), since which words OSS's
/// S3-compatible API gives its archive classes is not documented where we looked (docs/simulator.md).
const ARCHIVE_STORAGE_CLASSES: [&str; 5] = [
    "GLACIER",
    "DEEP_ARCHIVE",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];

/// Whether `class` (HeadObject's `x-amz-storage-class`) is an archive class.
pub fn is_archive_class(class: &str) -> bool {
    ARCHIVE_STORAGE_CLASSES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(class))
}

/// An OSS object location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssLocation {
    /// Bucket name.
    pub bucket: String,
    /// Object key (decoded, exactly as the URL spells it).
    pub object: String,
    /// Region from the endpoint host (`oss-<region>[-internal]`), when present.
    pub region: Option<String>,
}

/// Parses `oss://bucket/key`, `https://bucket.oss-<region>[-internal].<domain>/key`, or a
/// loopback path-style `http://127.0.0.1:port/bucket/key` (the simulator). The family's imports take a bucket and
/// a key (`OSSBucket`, `OSSObject`), so a query would be dropped: refused, as is anything
/// [`ObjectUrl`] refuses.
pub fn parse_oss(raw: &str) -> Result<OssLocation, String> {
    let url = ObjectUrl::parse(raw)?.without_query(raw)?;
    let loc = match url.scheme.as_str() {
        "oss" => OssLocation {
            bucket: url.host.clone(),
            object: url.key().map_err(|e| format!("{raw:?}: {e}"))?,
            region: None,
        },
        "http" | "https" if url.is_loopback_http() => {
            let (bucket, object) = url.path_style().map_err(|e| format!("{raw:?}: {e}"))?;
            OssLocation {
                bucket,
                object,
                region: None,
            }
        }
        "http" | "https" => {
            let (bucket, rest) = url
                .host
                .split_once('.')
                .ok_or_else(|| format!("{raw:?}: host is not <bucket>.oss-<region>.<domain>"))?;
            let ep = rest.split('.').next().unwrap_or_default();
            let region = ep
                .strip_prefix("oss-")
                .ok_or_else(|| format!("{raw:?}: host is not <bucket>.oss-<region>.<domain>"))?;
            let region = region.strip_suffix("-internal").unwrap_or(region);
            OssLocation {
                bucket: bucket.to_string(),
                object: url.key().map_err(|e| format!("{raw:?}: {e}"))?,
                region: Some(region.to_string()).filter(|r| !r.is_empty()),
            }
        }
        other => {
            return Err(format!(
                "{raw:?}: unsupported scheme {other:?}; use oss:// or https://"
            ))
        }
    };
    if loc.bucket.is_empty() || loc.object.is_empty() {
        return Err(format!("{raw:?}: expected a bucket and an object key"));
    }
    Ok(loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oss_forms() {
        let l = parse_oss("oss://bkt/dir/img%201.qcow2").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.object.as_str()),
            ("bkt", "dir/img 1.qcow2")
        );
        let l = parse_oss("https://bkt.oss-cn-hangzhou-internal.aliyuncs.com/a/b.raw").unwrap();
        assert_eq!(l.bucket, "bkt");
        assert_eq!(l.object, "a/b.raw");
        assert_eq!(l.region.as_deref(), Some("cn-hangzhou"));
        let l = parse_oss("http://127.0.0.1:9000/bkt/k.vhd").unwrap();
        assert_eq!((l.bucket.as_str(), l.object.as_str()), ("bkt", "k.vhd"));
        assert!(parse_oss("oss://bkt/").is_err());
        assert!(parse_oss("https://example.com/x").is_err());
        assert!(parse_oss("s3://b/k").is_err());
        for bad in [
            "oss://b/k?x=y",
            "oss://b/k2#frag",
            "oss://b/a/../../etc/passwd",
        ] {
            assert!(parse_oss(bad).is_err(), "{bad}");
        }
    }
}
