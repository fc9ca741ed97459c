//! Parameter rules the real services enforce (name lengths and charsets, accepted formats),
//! kept in one place so every handler applies the same checks.

/// True for characters Alibaba counts as "Chinese" in its naming rules (CJK ideographs).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn starts_with_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Alibaba (ECS, ENS, Apsara Stack) image names: 2-128 characters, starting with a letter or a
/// Chinese character, not starting with `aliyun`/`acs:` and not containing `http(s)://`; only
/// letters, digits, Chinese characters, `.`, `:`, `_` and `-`.
pub fn alibaba_image_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    if !(2..=128).contains(&n) {
        return false;
    }
    let Some(first) = name.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || is_cjk(first)) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aliyun")
        || lower.starts_with("acs:")
        || lower.contains("http://")
        || lower.contains("https://")
    {
        return false;
    }
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || is_cjk(c) || matches!(c, '.' | ':' | '_' | '-'))
}

/// Alibaba descriptions: 2-256 characters, not starting with `http://` or `https://`.
pub fn alibaba_description_ok(desc: &str) -> bool {
    let n = desc.chars().count();
    (2..=256).contains(&n) && !starts_with_url(desc)
}

/// Tencent image names: 1-60 characters.
pub fn tencent_image_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=60).contains(&n)
}

/// Tencent image descriptions: at most 256 characters.
pub fn tencent_description_ok(desc: &str) -> bool {
    desc.chars().count() <= 256
}

/// UCloud `Format` values (RAW, VHD, VMDK, qcow2; compared case-insensitively).
pub fn ucloud_format_ok(format: &str) -> bool {
    ["raw", "vhd", "vmdk", "qcow2"].contains(&format.to_ascii_lowercase().as_str())
}

/// ECS `DiskDeviceMapping.N.Format` values (RAW, VHD, QCOW2, VMDK; case-insensitive).
pub fn ecs_format_ok(format: &str) -> bool {
    ["raw", "vhd", "qcow2", "vmdk"].contains(&format.to_ascii_lowercase().as_str())
}

/// Apsara Stack formats: RAW, VHD, qcow2 only (its ImportImage page lists no VMDK).
pub fn apsara_format_ok(format: &str) -> bool {
    ["raw", "vhd", "qcow2"].contains(&format.to_ascii_lowercase().as_str())
}

/// ENS accepts qcow2 only.
pub fn ens_format_ok(format: &str) -> bool {
    format.eq_ignore_ascii_case("qcow2")
}

/// Image formats Tencent CVM imports, inferred from the object's extension (RAW, VHD, QCOW2,
/// VMDK); `None` when the extension says nothing (Tencent then probes the file).
pub fn tencent_format_from_url(url: &str) -> Option<&'static str> {
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
pub fn tencent_cos_url_ok(url: &str) -> bool {
    match split_url(url) {
        Some((host, path)) => {
            (host.ends_with(".myqcloud.com") || host.ends_with(".tencentcos.cn"))
                && host.contains(".cos")
                && path.len() > 1
        }
        None => false,
    }
}

/// An object URL as UCloud's `UFileUrl` requires: http(s), a host and an object path.
pub fn ufile_url_ok(url: &str) -> bool {
    split_url(url).is_some_and(|(host, path)| !host.is_empty() && path.len() > 1)
}

/// Splits an http(s) URL into (host, path); `None` for other schemes or no host.
fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), path.to_string()))
}

/// The simulator's failure trigger: a source object whose name contains `fail`.
pub fn source_fails(source: &str) -> bool {
    source.to_ascii_lowercase().contains("fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibaba_names() {
        assert!(alibaba_image_name_ok("ImageTestName"));
        assert!(alibaba_image_name_ok("img-1.0:build_2"));
        assert!(alibaba_image_name_ok("镜像名称"));
        assert!(!alibaba_image_name_ok("a"));
        assert!(!alibaba_image_name_ok(&format!("a{}", "b".repeat(128))));
        assert!(alibaba_image_name_ok(&format!("a{}", "b".repeat(127))));
        assert!(!alibaba_image_name_ok("1image"));
        assert!(!alibaba_image_name_ok("-image"));
        assert!(!alibaba_image_name_ok("aliyun-image"));
        assert!(!alibaba_image_name_ok("acs:image"));
        assert!(!alibaba_image_name_ok("my image"));
        assert!(!alibaba_image_name_ok("x/http://y"));
    }

    #[test]
    fn descriptions() {
        assert!(alibaba_description_ok("TestDescription"));
        assert!(!alibaba_description_ok("x"));
        assert!(!alibaba_description_ok("https://example.com"));
        assert!(tencent_description_ok(""));
        assert!(!tencent_description_ok(&"x".repeat(257)));
    }

    #[test]
    fn tencent_names() {
        assert!(tencent_image_name_ok("sample"));
        assert!(tencent_image_name_ok(&"x".repeat(60)));
        assert!(!tencent_image_name_ok(&"x".repeat(61)));
        assert!(!tencent_image_name_ok(""));
    }

    #[test]
    fn formats() {
        assert!(ucloud_format_ok("qcow2") && ucloud_format_ok("VMDK") && !ucloud_format_ok("iso"));
        assert!(ecs_format_ok("QCOW2") && ecs_format_ok("vmdk") && !ecs_format_ok("ova"));
        assert!(apsara_format_ok("RAW") && !apsara_format_ok("VMDK"));
        assert!(ens_format_ok("qcow2") && !ens_format_ok("raw"));
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
        assert!(ufile_url_ok("https://b.cn-bj.ufileos.com/x.raw"));
        assert!(!ufile_url_ok("b.cn-bj.ufileos.com/x.raw"));
        assert!(!ufile_url_ok("https:///x"));
    }

    #[test]
    fn failure_trigger() {
        assert!(source_fails("images/will-FAIL.qcow2"));
        assert!(!source_fails("images/ok.qcow2"));
    }
}
