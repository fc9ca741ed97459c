//! Errors of the object-storage client.

use std::io;
use std::path::PathBuf;

/// Why an object-storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The endpoint, bucket, key or options are not usable.
    #[error("object storage configuration: {0}")]
    Config(String),
    /// The request did not get an HTTP answer (connect, TLS, timeout, broken connection).
    #[error("{op} {target}: {}", chain(source))]
    Transport {
        /// The S3 operation (`UploadPart`, `HeadObject`, ...).
        op: &'static str,
        /// `bucket/key`.
        target: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with an error status (and usually an S3 `<Error>` body).
    #[error("{op} {target}: HTTP {status} {code}{}: {message}{}", ec.as_deref().map(|e| format!(" (EC {e})")).unwrap_or_default(), request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Service {
        /// The S3 operation.
        op: &'static str,
        /// `bucket/key`.
        target: String,
        /// HTTP status.
        status: u16,
        /// S3 error code (`NoSuchKey`, `AccessDenied`, ...), or the status text when the body had none.
        code: String,
        /// The service's message.
        message: String,
        /// The service's request id, for support tickets.
        request_id: Option<String>,
        /// OSS's finer error code (`x-oss-ec` header, `<EC>` element), the only code of an answer without a body
        /// (HEAD).
        ec: Option<String>,
    },
    /// A success answer that could not be understood (bad XML, missing header).
    #[error("{op} {target}: unexpected response: {message}")]
    Protocol {
        /// The S3 operation.
        op: &'static str,
        /// `bucket/key`.
        target: String,
        /// What was wrong.
        message: String,
    },
    /// The request could not be built or signed.
    #[error("{op}: cannot sign the request: {message}")]
    Sign {
        /// The S3 operation.
        op: &'static str,
        /// Why.
        message: String,
    },
    /// The local file cannot be read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The local file changed while it was being uploaded.
    #[error("{0} changed during the upload; the partial upload was aborted")]
    FileChanged(PathBuf),
    /// What the service stored is not what was sent (ETag or size mismatch).
    #[error("{target}: integrity check failed: {message}")]
    Integrity {
        /// `bucket/key`.
        target: String,
        /// What differed.
        message: String,
    },
}

impl StorageError {
    /// True when trying the same request again may succeed: transport errors, 5xx (but 501: the service does not
    /// implement the request, and never will on a retry), throttling, request timeouts, and data corrupted in
    /// transit (`BadDigest`, payload hash mismatch, an ETag that is not the part's MD5).
    pub fn is_retryable(&self) -> bool {
        match self {
            StorageError::Transport { .. } | StorageError::Integrity { .. } => true,
            StorageError::Service { status, code, .. } => {
                (*status >= 500 && *status != 501 && code != "NotImplemented")
                    || *status == 429
                    || matches!(
                        code.as_str(),
                        "RequestTimeout"
                            | "SlowDown"
                            | "Throttling"
                            | "RequestTimeTooSkewed"
                            | "BadDigest"
                            | "XAmzContentSHA256Mismatch"
                            | "InternalError"
                            | "ServiceUnavailable"
                    )
            }
            _ => false,
        }
    }

    /// Whether the request timed out (no connection, or no answer in time).
    pub fn is_timeout(&self) -> bool {
        matches!(self, StorageError::Transport { source, .. } if source.is_timeout())
    }

    /// The codes an error answer carries: the S3 code and, from OSS, its finer `EC`.
    pub fn service_codes(&self) -> Vec<&str> {
        match self {
            StorageError::Service { code, ec, .. } => std::iter::once(code.as_str())
                .chain(ec.as_deref())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The S3 error code, when the service gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            StorageError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            StorageError::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for "no such object / upload / bucket" answers.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
            || matches!(
                self.code(),
                Some("NoSuchKey" | "NoSuchUpload" | "NoSuchBucket")
            )
    }
}

/// An error and its causes in one line: reqwest's own message ("error sending request for url ...") says nothing
/// of why; its sources do ("operation timed out", "Connection refused").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: &str) -> StorageError {
        StorageError::Service {
            op: "ListMultipartUploads",
            target: "b".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            ec: None,
        }
    }

    #[test]
    fn server_trouble_is_retried_but_not_what_is_not_implemented() {
        assert!(answer(500, "InternalError").is_retryable());
        assert!(answer(503, "SlowDown").is_retryable());
        assert!(answer(429, "Too Many Requests").is_retryable());
        assert!(answer(400, "RequestTimeout").is_retryable());
        // A service without ListMultipartUploads (some S3-compatible servers) says so at once.
        assert!(!answer(501, "NotImplemented").is_retryable());
        assert!(!answer(403, "AccessDenied").is_retryable());
        assert!(!answer(404, "NoSuchKey").is_retryable());
    }
}
