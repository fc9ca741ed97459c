//! Object-storage URLs: parse OSS locations into (bucket, object) for the Alibaba APIs, and
//! validate URL shapes per cloud at plan time.

use url::Url;

use super::http::is_loopback_url;
use super::Cloud;

/// An OSS object location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssLocation {
    /// Bucket name.
    pub bucket: String,
    /// Object key (decoded).
    pub object: String,
    /// Region from the endpoint host (`oss-<region>[-internal]`), when present.
    pub region: Option<String>,
}

fn decoded_key(path: &str) -> String {
    percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .to_string()
}

/// Parses `oss://bucket/key`, `https://bucket.oss-<region>[-internal].<domain>/key`, or a
/// loopback path-style `http://127.0.0.1:port/bucket/key` (the simulator).
pub fn parse_oss(raw: &str) -> Result<OssLocation, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a valid URL: {e}"))?;
    let loc = match url.scheme() {
        "oss" => {
            let bucket = url.host_str().unwrap_or_default().to_string();
            OssLocation {
                bucket,
                object: decoded_key(url.path()),
                region: None,
            }
        }
        "http" | "https" if is_loopback_url(&url) => {
            let path = url.path().trim_start_matches('/');
            let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
            OssLocation {
                bucket: bucket.to_string(),
                object: decoded_key(key),
                region: None,
            }
        }
        "http" | "https" => {
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            let (bucket, rest) = host
                .split_once('.')
                .ok_or_else(|| format!("{raw:?}: host is not <bucket>.oss-<region>.<domain>"))?;
            let ep = rest.split('.').next().unwrap_or_default();
            let region = ep
                .strip_prefix("oss-")
                .ok_or_else(|| format!("{raw:?}: host is not <bucket>.oss-<region>.<domain>"))?;
            let region = region.strip_suffix("-internal").unwrap_or(region);
            OssLocation {
                bucket: bucket.to_string(),
                object: decoded_key(url.path()),
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

fn http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?}: expected an http(s) URL"));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(format!("{raw:?}: the URL has no object key"));
    }
    Ok(url)
}

/// Is `host` `<bucket>-<appid>.cos[d].<region>.myqcloud.com` (or `.tencentcos.cn`)?
fn is_cos_host(host: &str) -> bool {
    let Some((label, rest)) = host.split_once('.') else {
        return false;
    };
    let appid_ok = label.rsplit_once('-').is_some_and(|(b, id)| {
        !b.is_empty() && !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())
    });
    let domain_ok = rest.ends_with(".myqcloud.com") || rest.ends_with(".tencentcos.cn");
    let service_ok = rest.starts_with("cos.") || rest.starts_with("cosd.");
    appid_ok && domain_ok && service_ok
}

/// Is `host` a UFile (US3) host, e.g. `<bucket>.cn-bj.ufileos.com`?
fn is_ufile_host(host: &str) -> bool {
    host.ends_with(".ufileos.com")
        || host.ends_with(".ufile.ucloud.cn")
        || host.ends_with(".ufile.ucloud.com.cn")
        || host.ends_with(".ufile.surfercloud.com")
}

/// Plan-time check that `raw` is an object URL the chosen cloud can import from.
/// Loopback http URLs are accepted for every cloud (the simulator).
pub fn validate_source_url(cloud: Cloud, raw: &str) -> Result<(), String> {
    if let Ok(u) = Url::parse(raw.trim()) {
        if matches!(u.scheme(), "http" | "https") && is_loopback_url(&u) {
            return http_url(raw).map(|_| ());
        }
    }
    match cloud {
        Cloud::UCloud | Cloud::SurferCloud => {
            let u = http_url(raw)?;
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            if is_ufile_host(&host) {
                Ok(())
            } else {
                Err(format!(
                    "{raw:?}: expected a UFile URL such as https://<bucket>.<region>.ufileos.com/<key>"
                ))
            }
        }
        Cloud::TencentCloud => {
            let u = http_url(raw)?;
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            if is_cos_host(&host) {
                Ok(())
            } else {
                Err(format!(
                    "{raw:?}: expected a COS URL such as https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>"
                ))
            }
        }
        Cloud::AliCloud | Cloud::AliCloudEns => {
            parse_oss(raw)?;
            let u = Url::parse(raw.trim()).map_err(|e| e.to_string())?;
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            if u.scheme() == "oss" || host.ends_with(".aliyuncs.com") {
                Ok(())
            } else {
                Err(format!(
                    "{raw:?}: expected oss://<bucket>/<key> or https://<bucket>.oss-<region>.aliyuncs.com/<key>"
                ))
            }
        }
        Cloud::ApsaraStack => parse_oss(raw).map(|_| ()),
    }
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
    }

    #[test]
    fn per_cloud_validation() {
        use Cloud::*;
        assert!(validate_source_url(UCloud, "https://b.cn-bj.ufileos.com/img.qcow2").is_ok());
        assert!(validate_source_url(UCloud, "https://example.com/img.qcow2").is_err());
        assert!(validate_source_url(
            TencentCloud,
            "https://b-1250000000.cos.ap-guangzhou.myqcloud.com/i.qcow2"
        )
        .is_ok());
        assert!(validate_source_url(
            TencentCloud,
            "https://b.cos.ap-guangzhou.myqcloud.com/i.qcow2"
        )
        .is_err());
        assert!(validate_source_url(AliCloud, "oss://b/k").is_ok());
        assert!(
            validate_source_url(AliCloudEns, "https://b.oss-cn-beijing.aliyuncs.com/k").is_ok()
        );
        assert!(validate_source_url(AliCloud, "https://b.oss-cn-beijing.example.com/k").is_err());
        assert!(
            validate_source_url(ApsaraStack, "https://b.oss-cn-qd-env17-d01.intra.example/k")
                .is_ok()
        );
        for c in Cloud::ALL {
            assert!(
                validate_source_url(c, "http://127.0.0.1:8080/b/k.qcow2").is_ok(),
                "{c}"
            );
            assert!(
                validate_source_url(c, "http://127.0.0.1:8080/").is_err(),
                "{c}"
            );
        }
    }
}
