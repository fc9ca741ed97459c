//! Resource and request identifiers shaped like each cloud's real ones, so clients that
//! validate id formats behave as they would against the real service.

use rand::Rng;

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_lower(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())]))
        .collect()
}

/// UCloud custom image id: `uimage-` and 8 lower-case alphanumerics.
pub(crate) fn ucloud_image_id() -> String {
    format!("uimage-{}", random_lower(8))
}

/// Tencent CVM image id: `img-` and 8 lower-case alphanumerics.
pub(crate) fn tencent_image_id() -> String {
    format!("img-{}", random_lower(8))
}

/// Alibaba (ECS, ENS, Apsara Stack) image id: `m-` and 20 lower-case alphanumerics.
pub(crate) fn alibaba_image_id() -> String {
    format!("m-{}", random_lower(20))
}

/// Alibaba import task id: `t-` and 20 lower-case alphanumerics.
pub(crate) fn alibaba_task_id() -> String {
    format!("t-{}", random_lower(20))
}

/// Tencent request id: a lower-case UUID.
pub(crate) fn tencent_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Alibaba request id: an upper-case UUID.
pub(crate) fn alibaba_request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// True when `id` looks like a Tencent image id (`img-` and 8 lower-case alphanumerics).
pub(crate) fn is_tencent_image_id(id: &str) -> bool {
    id.strip_prefix("img-")
        .is_some_and(|rest| rest.len() == 8 && rest.bytes().all(|b| ALNUM.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let u = ucloud_image_id();
        assert!(u.starts_with("uimage-") && u.len() == 15);
        let t = tencent_image_id();
        assert!(is_tencent_image_id(&t));
        let m = alibaba_image_id();
        assert!(m.starts_with("m-") && m.len() == 22);
        assert!(alibaba_task_id().starts_with("t-"));
        assert_eq!(alibaba_request_id().len(), 36);
        assert_ne!(ucloud_image_id(), ucloud_image_id());
    }

    #[test]
    fn tencent_id_check() {
        assert!(is_tencent_image_id("img-gvbnzy6f"));
        assert!(!is_tencent_image_id("img-GVBNZY6F"));
        assert!(!is_tencent_image_id("img-short"));
        assert!(!is_tencent_image_id("m-abc"));
    }
}
