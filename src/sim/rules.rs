//! What every simulated family shares about parameters: URL splitting and the simulator's failure trigger. Each
//! family's own rules are in its folder (`<family>/rules.rs`).

/// Splits an http(s) URL into (host, path); `None` for other schemes or no host.
pub(crate) fn split_url(url: &str) -> Option<(String, String)> {
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
pub(crate) fn source_fails(source: &str) -> bool {
    source.to_ascii_lowercase().contains("fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_trigger() {
        assert!(source_fails("images/will-FAIL.qcow2"));
        assert!(!source_fails("images/ok.qcow2"));
    }
}
