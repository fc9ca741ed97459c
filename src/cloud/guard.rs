//! Import (or copy) without double-creating: a non-idempotent call that makes an image and may have reached the cloud
//! is never re-sent.
//!
//! When an import or copy call fails in a way that leaves open whether the cloud acted on it (a timeout after the request
//! was sent, a dropped connection, a 5xx), the image may exist or appear later: a slow gateway can answer after the
//! client gave up and still create the image. A name lookup that finds it settles the question; one that finds
//! nothing proves nothing, so the call is not sent again. The error goes back to the caller, whose create journal
//! (`crate::resource`) lets the next apply find the image if it does appear.

use std::future::Future;

use super::http::{Failure, RetryPolicy};
use super::{Cloud, CloudError, ErrorKind, Image};

/// Runs `send` (one import call, already retried internally where that is safe) and resolves ambiguous failures
/// by looking the image up by name a few times (the cloud may list a new image with a delay).
///
/// A `Duplicate` answer gets the existing image's id put into the error.
pub(super) async fn guarded_import<S, SF, L, LF>(
    retry: &RetryPolicy,
    send: S,
    lookup: L,
) -> Result<String, CloudError>
where
    S: FnOnce() -> SF,
    SF: Future<Output = Result<String, Failure>>,
    L: Fn() -> LF,
    LF: Future<Output = Result<Vec<Image>, CloudError>>,
{
    match send().await {
        Ok(id) => Ok(id),
        Err(Failure::Definite(mut e)) => {
            if let ErrorKind::Duplicate { existing_id } = &mut e.kind {
                if existing_id.is_none() {
                    if let Ok(found) = lookup().await {
                        *existing_id = found.first().map(|i| i.id.clone());
                    }
                }
            }
            Err(e)
        }
        Err(Failure::Ambiguous(mut e)) => {
            let max = retry.max_attempts.max(1);
            for attempt in 1..=max {
                tracing::debug!(cloud = %e.cloud, action = %e.action, attempt,
                    "import may have reached the cloud; looking the image up by name");
                match lookup().await {
                    Ok(found) => {
                        if let Some(img) = found.first() {
                            return Ok(img.id.clone());
                        }
                    }
                    Err(le) if !le.is_retryable() => break,
                    Err(_) => {}
                }
                if attempt < max {
                    tokio::time::sleep(retry.delay(attempt)).await;
                }
            }
            e.message = format!(
                "{} (the {} call may still have reached the cloud; it was not sent again, so that no second \
                 image is made)",
                e.message, e.action
            );
            Err(e)
        }
    }
}

/// The `ImageId` of an import answer; an answer without one is an error (the import may or may not have run, and
/// nothing names its image).
pub(super) fn image_id(
    cloud: Cloud,
    action: &str,
    answer: &serde_json::Value,
) -> Result<String, CloudError> {
    super::json::str_field(answer, "ImageId").ok_or_else(|| {
        CloudError::new(
            cloud,
            ErrorKind::Other,
            action,
            "NoImageId",
            "response has no ImageId",
            None,
        )
    })
}

/// The image an import (or copy) answer named, or, where the answer had no id (older API revisions answer with only a
/// request id), the one image of the call's name that `lookup` finds, looking a few times (new images are listed
/// with a delay). `action` names the call in the error.
pub(super) async fn answered_or_found<L, LF>(
    cloud: Cloud,
    action: &str,
    name: &str,
    retry: &RetryPolicy,
    answered: String,
    lookup: L,
) -> Result<String, CloudError>
where
    L: Fn() -> LF,
    LF: Future<Output = Result<Vec<Image>, CloudError>>,
{
    if !answered.is_empty() {
        return Ok(answered);
    }
    for attempt in 1..=retry.max_attempts.max(1) {
        if let Some(img) = lookup().await?.into_iter().next() {
            return Ok(img.id);
        }
        tokio::time::sleep(retry.delay(attempt)).await;
    }
    Err(CloudError::new(
        cloud,
        ErrorKind::Other,
        action,
        "NoImageId",
        format!("{action} succeeded without an ImageId and no image named {name:?} appeared"),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
            max_attempts: 3,
        }
    }

    fn err(kind: ErrorKind) -> CloudError {
        CloudError::new(Cloud::UCloud, kind, "Import", "c", "m", None)
    }

    #[tokio::test]
    async fn an_image_that_appears_after_an_ambiguous_failure_is_taken() {
        let sends = AtomicUsize::new(0);
        let lookups = AtomicUsize::new(0);
        let id = guarded_import(
            &policy(),
            || async {
                sends.fetch_add(1, Ordering::SeqCst);
                Err(Failure::Ambiguous(err(ErrorKind::Transport)))
            },
            || async {
                // Not visible yet on the first lookup, visible on the second.
                if lookups.fetch_add(1, Ordering::SeqCst) == 0 {
                    Ok(vec![])
                } else {
                    Ok(vec![Image {
                        id: "img-1".into(),
                        ..Default::default()
                    }])
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(id, "img-1");
        assert_eq!(sends.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_ambiguous_failure_is_never_sent_again() {
        let sends = AtomicUsize::new(0);
        let e = guarded_import(
            &policy(),
            || async {
                sends.fetch_add(1, Ordering::SeqCst);
                Err(Failure::Ambiguous(err(ErrorKind::Transport)))
            },
            || async { Ok(vec![]) },
        )
        .await
        .unwrap_err();
        assert_eq!(sends.load(Ordering::SeqCst), 1);
        assert_eq!(e.kind, ErrorKind::Transport);
        assert!(e.message.contains("not sent again"), "{}", e.message);
    }

    #[tokio::test]
    async fn plain_duplicate_is_an_error_with_the_id() {
        let e = guarded_import(
            &policy(),
            || async {
                Err(Failure::Definite(err(ErrorKind::Duplicate {
                    existing_id: None,
                })))
            },
            || async {
                Ok(vec![Image {
                    id: "img-old".into(),
                    ..Default::default()
                }])
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Duplicate {
                existing_id: Some("img-old".into())
            }
        );
    }
}
