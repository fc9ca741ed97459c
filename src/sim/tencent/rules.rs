//! Parameter rules Tencent CVM enforces (name and description lengths, COS URLs, formats by extension).

use crate::rules::split_url;

/// Tencent image names: 1-60 characters.
pub(super) fn tencent_image_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=60).contains(&n)
}

/// Tencent image descriptions: at most 256 characters.
pub(super) fn tencent_description_ok(desc: &str) -> bool {
    desc.chars().count() <= 256
}

/// Image formats Tencent CVM imports, inferred from the object's extension (RAW, VHD, QCOW2,
/// VMDK); `None` when the extension says nothing (Tencent then probes the file).
pub(super) fn tencent_format_from_url(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [
        (".raw", "RAW"),
        (".img", "RAW"),
        (".vhd", "VHD"),
        (".qcow2", "QCOW2"),
        (".vmdk", "VMDK"),
        (".iso", "ISO"),
    ]
    .into_iter()
    .find(|(ext, _)| path.ends_with(ext))
    .map(|(_, f)| f)
}

/// A COS object URL as Tencent's ImportImage requires (`http(s)://<bucket>.cos.<region>.myqcloud.com/<key>`
/// or the `tencentcos.cn` domain).
pub(super) fn tencent_cos_url_ok(url: &str) -> bool {
    match split_url(url) {
        Some((host, path)) => {
            (host.ends_with(".myqcloud.com") || host.ends_with(".tencentcos.cn"))
                && host.contains(".cos")
                && path.len() > 1
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tencent_names() {
        assert!(tencent_image_name_ok("sample"));
        assert!(tencent_image_name_ok(&"x".repeat(60)));
        assert!(!tencent_image_name_ok(&"x".repeat(61)));
        assert!(!tencent_image_name_ok(""));
    }

    #[test]
    fn descriptions() {
        assert!(tencent_description_ok(""));
        assert!(!tencent_description_ok(&"x".repeat(257)));
    }

    #[test]
    fn formats() {
        assert_eq!(
            tencent_format_from_url("https://b.cos.x.myqcloud.com/a.QCOW2?x=1"),
            Some("QCOW2")
        );
        assert_eq!(
            tencent_format_from_url("https://b.cos.x.myqcloud.com/a"),
            None
        );
    }

    #[test]
    fn urls() {
        assert!(tencent_cos_url_ok(
            "https://b-125.cos.ap-guangzhou.myqcloud.com/x.qcow2"
        ));
        assert!(!tencent_cos_url_ok("https://example.com/x.qcow2"));
        assert!(!tencent_cos_url_ok(
            "ftp://b.cos.ap-guangzhou.myqcloud.com/x"
        ));
        assert!(!tencent_cos_url_ok(
            "https://b.cos.ap-guangzhou.myqcloud.com/"
        ));
    }
}
