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
