//! What every family's signature verification shares. The verifiers are in the family folders (`ucloud::auth`,
//! `tencent::auth`, `alibaba::auth`): they rebuild the signed material from the request as received, look up
//! keys, check clocks and tokens, and sign with the clients' own algorithms (`cloudimage::cloud::<family>::sign`).

/// True when two signature strings are equal, compared without early exit.
pub(crate) fn same_signature(a: &str, b: &str) -> bool {
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
