//! Signature verification for the three API families. The algorithms themselves live in
//! `cloudimage::cloud::sign` (shared with the clients); these modules only rebuild the signed
//! material from the request as received, look up keys, and check clocks and tokens.

pub mod acs;
pub mod tc3;
pub mod ucloud;

/// True when two signature strings are equal, compared without early exit.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares() {
        assert!(same_signature("abc", "abc"));
        assert!(!same_signature("abc", "abd"));
        assert!(!same_signature("abc", "ab"));
    }
}
