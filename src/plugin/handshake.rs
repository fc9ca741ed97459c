//! The go-plugin handshake: the contract between Terraform (the host) and this process before any gRPC is spoken.
//!
//! Terraform starts the plugin with a magic cookie and the list of plugin protocol versions it speaks, then reads
//! exactly one line from the plugin's stdout that says which version was chosen, where to connect and which
//! certificate the server will present.

/// The environment variable Terraform sets so that a plugin can tell it was launched by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform puts in [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own wire protocol version; only 1 exists.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// True when the process was started by Terraform (or something that speaks for it).
pub fn cookie_matches(value: Option<&str>) -> bool {
    value == Some(MAGIC_COOKIE_VALUE)
}

/// Chooses the plugin protocol version to serve from the host's `PLUGIN_PROTOCOL_VERSIONS` list.
///
/// Follows go-plugin: the highest version both sides support; when there is none (or the host sent no list, as very
/// old hosts do), the lowest version this plugin serves, so the host can report the mismatch itself.
pub fn negotiate(host_versions: Option<&str>, ours: &[u32]) -> Option<u32> {
    let offered: Vec<u32> = host_versions
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.trim().parse::<u32>().ok())
        .collect();
    ours.iter()
        .copied()
        .filter(|v| offered.contains(v))
        .max()
        .or_else(|| ours.iter().copied().min())
}

/// The one line the plugin prints on stdout once it is ready to accept connections.
///
/// `server_cert_der` is the server certificate when AutoMTLS is on; go-plugin expects it base64-encoded
/// without padding. Without TLS the last field stays empty.
pub fn handshake_line(
    protocol_version: u32,
    socket_path: &str,
    server_cert_der: Option<&[u8]>,
) -> String {
    use base64::Engine as _;
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{protocol_version}|unix|{socket_path}|grpc|{cert}")
}

/// What a person who runs the binary by hand sees: it is not a command-line tool.
pub const NOT_LAUNCHED_BY_TERRAFORM: &str =
    "This binary is a plugin. These are not meant to be executed directly.\n\
This is a Terraform plugin (terraform-provider-cloudimage); use it from terraform.\n\
Declare it in a terraform configuration and run terraform init/plan/apply.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(cookie_matches(Some(MAGIC_COOKIE_VALUE)));
        assert!(!cookie_matches(None));
        assert!(!cookie_matches(Some("")));
        assert!(!cookie_matches(Some(&MAGIC_COOKIE_VALUE[1..])));
    }

    #[test]
    fn negotiates_highest_common_version() {
        assert_eq!(negotiate(Some("5,6"), &[5, 6]), Some(6));
        assert_eq!(negotiate(Some("6,5"), &[5, 6]), Some(6));
        assert_eq!(negotiate(Some("5"), &[5, 6]), Some(5));
        assert_eq!(negotiate(Some("4, 5"), &[5, 6]), Some(5));
        assert_eq!(negotiate(Some("6,7"), &[5, 6]), Some(6));
    }

    #[test]
    fn falls_back_to_lowest_when_nothing_in_common() {
        assert_eq!(negotiate(None, &[5, 6]), Some(5));
        assert_eq!(negotiate(Some("7,x"), &[5, 6]), Some(5));
        assert_eq!(negotiate(Some("5"), &[]), None);
    }

    #[test]
    fn handshake_line_has_six_fields_and_unpadded_cert() {
        let line = handshake_line(6, "/tmp/plugin1/p.sock", Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/tmp/plugin1/p.sock|grpc|AQIDBA");
        let plain = handshake_line(5, "/tmp/x", None);
        assert_eq!(plain, "1|5|unix|/tmp/x|grpc|");
        assert_eq!(plain.split('|').count(), 6);
    }
}
