//! Parameter rules UCloud enforces (formats, UFile URLs).

use crate::rules::split_url;

/// UCloud `Format` values (RAW, VHD, VMDK, qcow2; compared case-insensitively).
pub(super) fn ucloud_format_ok(format: &str) -> bool {
    ["raw", "vhd", "vmdk", "qcow2"].contains(&format.to_ascii_lowercase().as_str())
}

/// An object URL as UCloud's `UFileUrl` requires: http(s), a host and an object path.
pub(super) fn ufile_url_ok(url: &str) -> bool {
    split_url(url).is_some_and(|(host, path)| !host.is_empty() && path.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(ucloud_format_ok("qcow2") && ucloud_format_ok("VMDK") && !ucloud_format_ok("iso"));
    }

    #[test]
    fn urls() {
        assert!(ufile_url_ok("https://b.cn-bj.ufileos.com/x.raw"));
        assert!(!ufile_url_ok("b.cn-bj.ufileos.com/x.raw"));
        assert!(!ufile_url_ok("https:///x"));
    }
}
