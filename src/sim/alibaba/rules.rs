//! Parameter rules ECS, ENS and Apsara Stack enforce (name and description charsets and lengths, accepted
//! formats), kept in one place so every Alibaba handler applies the same checks.

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
pub(super) fn alibaba_image_name_ok(name: &str) -> bool {
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
pub(super) fn alibaba_description_ok(desc: &str) -> bool {
    let n = desc.chars().count();
    (2..=256).contains(&n) && !starts_with_url(desc)
}

/// ECS `DiskDeviceMapping.N.Format` values (RAW, VHD, QCOW2, VMDK; case-insensitive).
pub(super) fn ecs_format_ok(format: &str) -> bool {
    ["raw", "vhd", "qcow2", "vmdk"].contains(&format.to_ascii_lowercase().as_str())
}

/// Apsara Stack formats: RAW, VHD, qcow2 only (its ImportImage page lists no VMDK).
pub(super) fn apsara_format_ok(format: &str) -> bool {
    ["raw", "vhd", "qcow2"].contains(&format.to_ascii_lowercase().as_str())
}

/// ENS accepts qcow2 only.
pub(super) fn ens_format_ok(format: &str) -> bool {
    format.eq_ignore_ascii_case("qcow2")
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
    }

    #[test]
    fn formats() {
        assert!(ecs_format_ok("QCOW2") && ecs_format_ok("vmdk") && !ecs_format_ok("ova"));
        assert!(apsara_format_ok("RAW") && !apsara_format_ok("VMDK"));
        assert!(ens_format_ok("qcow2") && !ens_format_ok("raw"));
    }
}
