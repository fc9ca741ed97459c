//! Plan-time checks of object-storage URLs: what every backend accepts (loopback URLs, for the simulator), then
//! each backend's own storage (see `Backend::check_source_url`).

use super::object_url::ObjectUrl;
use super::Cloud;

/// Reads an http(s) URL that names an object: its key is checked ([`ObjectUrl::key`]); a query is kept (clouds
/// that download the URL as written send it), a fragment refused.
pub fn http_object_url(raw: &str) -> Result<ObjectUrl, String> {
    let url = ObjectUrl::parse(raw)?;
    if !url.is_http() {
        return Err(format!("{raw:?}: expected an http(s) URL"));
    }
    if url.raw_path.is_empty() {
        return Err(format!("{raw:?}: the URL has no object key"));
    }
    url.key().map_err(|e| format!("{raw:?}: {e}"))?;
    Ok(url)
}

/// The lower-case host of an http(s) object URL, or why `raw` is not one.
pub fn http_object_host(raw: &str) -> Result<String, String> {
    Ok(http_object_url(raw)?.host)
}

/// Plan-time check that `raw` is an object URL the chosen cloud can import from. Loopback http URLs are accepted
/// for every cloud (the simulator), path style and without a query.
pub fn check_source_url(cloud: Cloud, raw: &str) -> Result<(), String> {
    let url = ObjectUrl::parse(raw)?;
    if url.is_loopback_http() {
        let (bucket, _) = url.without_query(raw)?.path_style()?;
        if bucket.is_empty() {
            return Err(format!("{raw:?}: the URL has no bucket"));
        }
        return Ok(());
    }
    cloud.backend().check_source_url(raw)
}

/// The object `url` names, for comparing two spellings: the backend's reading where it has one (`oss://b/k`),
/// else the host (case-insensitive) and the decoded key; a URL that names no object compares as written.
pub fn object_of(cloud: Cloud, url: &str) -> String {
    if let Some(o) = cloud.backend().source_object(url) {
        return o;
    }
    match ObjectUrl::parse(url).and_then(|u| Ok((u.key()?, u))) {
        Ok((key, u)) => format!("{}/{key}", u.host),
        Err(_) => url.to_string(),
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
            for bad in [
                "http://127.0.0.1:8080/b/k#v2",
                "http://127.0.0.1:8080/b/k?x=y",
                "http://127.0.0.1:8080/b/%2e%2e/k",
            ] {
                assert!(check_source_url(c, bad).is_err(), "{c} {bad}");
            }
        }
    }
}
