//! [`Secret`]: a credential that never shows itself.
//!
//! Private keys, secret keys and security tokens are held as a `Secret` from the moment the provider block (or an
//! environment variable, or a CLI profile file) gives them until a signer needs their bytes. Its `Debug` and
//! `Display` print `<redacted>`, so a struct holding one can derive `Debug` and a log line or diagnostic that
//! formats one cannot leak it.

use std::fmt;

/// A secret text value. Only [`Secret::expose`] gives the text back; call it where the bytes go on the wire or
/// into a signature, and nowhere else.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text, for a signer or a request that must carry it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_itself() {
        let s = Secret::new("SECRETX");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: Secret,
            token: Option<Secret>,
        }
        let h = Holder {
            key: s.clone(),
            token: Some(s.clone()),
        };
        let shown = format!("{s} {s:?} {h:?} {h:#?}");
        assert!(!shown.contains("SECRETX"), "{shown}");
        assert_eq!(s.expose(), "SECRETX");
    }
}
