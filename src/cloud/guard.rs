//! Import without double-creating: a non-idempotent import that may have reached the cloud is
//! never blindly re-sent; the image is first looked up by name.

use std::future::Future;

use super::http::{Failure, RetryPolicy};
use super::{CloudError, ErrorKind, Image};

/// Runs `send` (one import call, already retried internally where that is safe) and handles
/// ambiguous failures by looking the image up by name before trying again.
///
/// A `Duplicate` answer is resolved by a name lookup: after an ambiguous attempt the existing
/// image is taken to be ours and returned; otherwise its id is put into the error.
pub async fn guarded_import<S, SF, L, LF>(
    retry: &RetryPolicy,
    send: S,
    lookup: L,
) -> Result<String, CloudError>
where
    S: Fn() -> SF,
    SF: Future<Output = Result<String, Failure>>,
    L: Fn() -> LF,
    LF: Future<Output = Result<Vec<Image>, CloudError>>,
{
    let max = retry.max_attempts.max(1);
    let mut maybe_created = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match send().await {
            Ok(id) => return Ok(id),
            Err(Failure::Definite(mut e)) => {
                if let ErrorKind::Duplicate { existing_id } = &mut e.kind {
                    if existing_id.is_none() {
                        if let Ok(found) = lookup().await {
                            *existing_id = found.first().map(|i| i.id.clone());
                        }
                    }
                    if maybe_created {
                        if let Some(id) = existing_id.clone() {
                            return Ok(id);
                        }
                    }
                }
                return Err(e);
            }
            Err(Failure::Ambiguous(e)) => {
                maybe_created = true;
                tracing::debug!(cloud = %e.cloud, action = %e.action, attempt,
                    "import may have reached the cloud; looking the image up by name before retrying");
                match lookup().await {
                    Ok(found) => {
                        if let Some(img) = found.first() {
                            return Ok(img.id.clone());
                        }
                    }
                    Err(le) if !le.is_retryable() => return Err(e),
                    Err(_) => {}
                }
                if attempt >= max {
                    return Err(e);
                }
                tokio::time::sleep(retry.delay(attempt)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Cloud;
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
    async fn ambiguous_then_duplicate_returns_existing_image() {
        let sends = AtomicUsize::new(0);
        let lookups = AtomicUsize::new(0);
        let id = guarded_import(
            &policy(),
            || async {
                match sends.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(Failure::Ambiguous(err(ErrorKind::Server))),
                    _ => Err(Failure::Definite(err(ErrorKind::Duplicate {
                        existing_id: None,
                    }))),
                }
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
        assert_eq!(sends.load(Ordering::SeqCst), 2);
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
