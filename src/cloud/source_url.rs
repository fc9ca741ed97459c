//! Plan-time checks of object-storage URLs: what every backend accepts (loopback URLs, for the simulator), then
//! each backend's own storage (see `Backend::check_source_url`).

use url::Url;

use super::http::is_loopback_url;
use super::Cloud;

/// Parses an http(s) URL that names an object (a non-empty path).
pub fn http_object_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?}: expected an http(s) URL"));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(format!("{raw:?}: the URL has no object key"));
    }
    Ok(url)
}

/// The lower-case host of an http(s) object URL, or why `raw` is not one.
pub fn http_object_host(raw: &str) -> Result<String, String> {
    Ok(http_object_url(raw)?
        .host_str()
        .unwrap_or_default()
        .to_ascii_lowercase())
}

/// Plan-time check that `raw` is an object URL the chosen cloud can import from. Loopback http URLs are accepted
/// for every cloud (the simulator).
pub fn check_source_url(cloud: Cloud, raw: &str) -> Result<(), String> {
    if let Ok(u) = Url::parse(raw.trim()) {
        if matches!(u.scheme(), "http" | "https") && is_loopback_url(&u) {
            return http_object_url(raw).map(|_| ());
        }
    }
    cloud.backend().check_source_url(raw)
}

/// The object `url` names, for comparing two spellings: the backend's reading where it has one (`oss://b/k`),
/// else the host (case-insensitive) and the decoded path.
pub fn object_of(cloud: Cloud, url: &str) -> String {
    if let Some(o) = cloud.backend().source_object(url) {
        return o;
    }
    match Url::parse(url.trim()) {
        Ok(u) => format!(
            "{}/{}",
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            percent_encoding::percent_decode_str(u.path().trim_start_matches('/'))
                .decode_utf8_lossy()
        ),
        Err(_) => url.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_cloud_validation() {
        use Cloud::*;
        assert!(check_source_url(UCloud, "https://b.cn-bj.ufileos.com/img.qcow2").is_ok());
        assert!(check_source_url(UCloud, "https://example.com/img.qcow2").is_err());
        assert!(check_source_url(
            TencentCloud,
            "https://b-1250000000.cos.ap-guangzhou.myqcloud.com/i.qcow2"
        )
        .is_ok());
        assert!(check_source_url(
            TencentCloud,
            "https://b.cos.ap-guangzhou.myqcloud.com/i.qcow2"
        )
        .is_err());
        assert!(check_source_url(AliCloud, "oss://b/k").is_ok());
        assert!(check_source_url(AliCloudEns, "https://b.oss-cn-beijing.aliyuncs.com/k").is_ok());
        assert!(check_source_url(AliCloud, "https://b.oss-cn-beijing.example.com/k").is_err());
        assert!(
            check_source_url(ApsaraStack, "https://b.oss-cn-qd-env17-d01.intra.example/k").is_ok()
        );
        for c in Cloud::ALL {
            assert!(
                check_source_url(c, "http://127.0.0.1:8080/b/k.qcow2").is_ok(),
                "{c}"
            );
            assert!(
                check_source_url(c, "http://127.0.0.1:8080/").is_err(),
                "{c}"
            );
        }
    }
}
