//! The cloud layer's two error types: [`ConfigError`] when a client cannot be made as configured, and
//! [`CloudError`] when an API call fails.

use std::fmt;

use super::Cloud;

/// What kind of failure an API call had, so callers can decide (retry, treat as gone, explain). Backend-specific
/// explanations are not kinds: a backend gives a hint for its own codes (see `Backend::hint`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad / expired credentials or signature.
    Auth,
    /// The image (or region) does not exist.
    NotFound,
    /// Rate-limited by the cloud.
    Throttled,
    /// The cloud rejected a parameter.
    InvalidParameter,
    /// An image with that name already exists (id filled in when a lookup found it).
    Duplicate {
        /// Id of the existing image, when known.
        existing_id: Option<String>,
    },
    /// The image is in a state that does not allow the call yet, typically still importing (ECS
    /// `ImageIsImporting`, Tencent `InvalidImageId.IncorrectState`): waiting, or cancelling the import, helps.
    Busy,
    /// The cloud failed internally (5xx / InternalError).
    Server,
    /// Could not reach the cloud or read its answer.
    Transport,
    /// The call could not be made as the provider is configured (an endpoint that redirects, a region that
    /// cannot name a host, a client that could not be made).
    Config,
    /// Anything else the cloud reported.
    Other,
}

/// A client that cannot be made: missing credentials, a bad endpoint. The message says what to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cloud} configure: Config: {message}")]
pub struct ConfigError {
    /// Which cloud.
    pub cloud: Cloud,
    /// What is wrong and what to set (never contains secrets).
    pub message: String,
}

impl ConfigError {
    /// A configuration error of `cloud`.
    pub fn new(cloud: Cloud, message: impl Into<String>) -> Self {
        Self {
            cloud,
            message: message.into(),
        }
    }
}

/// An error from a cloud API call, with the cloud's code, message and request id.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct CloudError {
    /// Which cloud.
    pub cloud: Cloud,
    /// Classification.
    pub kind: ErrorKind,
    /// The cloud's error code (or a local one such as `Transport`).
    pub code: String,
    /// Human-readable message (never contains secrets).
    pub message: String,
    /// The cloud's request id, for support tickets.
    pub request_id: Option<String>,
    /// API action that failed.
    pub action: String,
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}: {}",
            self.cloud, self.action, self.code, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for CloudError {
    /// A call that could not be made because of the configuration (action `configure`, code `Config`).
    fn from(e: ConfigError) -> Self {
        CloudError::new(
            e.cloud,
            ErrorKind::Config,
            "configure",
            "Config",
            e.message,
            None,
        )
    }
}

impl CloudError {
    /// Builds an error with every field given.
    pub fn new(
        cloud: Cloud,
        kind: ErrorKind,
        action: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        CloudError {
            cloud,
            kind,
            code: code.into(),
            message: message.into(),
            request_id,
            action: action.into(),
        }
    }

    /// A transport error (request not answered).
    pub fn transport(cloud: Cloud, action: &str, message: impl Into<String>) -> Self {
        Self::new(
            cloud,
            ErrorKind::Transport,
            action,
            "Transport",
            message,
            None,
        )
    }

    /// A call this provider refuses to make because the cloud has no way to do what was asked.
    pub fn unsupported(cloud: Cloud, action: &str, message: impl Into<String>) -> Self {
        Self::new(
            cloud,
            ErrorKind::InvalidParameter,
            action,
            "Unsupported",
            message,
            None,
        )
    }

    /// True for failures worth retrying for idempotent calls (throttling, server, transport).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Transport
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_format() {
        let e = CloudError::new(
            Cloud::TencentCloud,
            ErrorKind::Throttled,
            "ImportImage",
            "RequestLimitExceeded",
            "slow down",
            Some("abc".into()),
        );
        assert_eq!(
            e.to_string(),
            "tencentcloud ImportImage: RequestLimitExceeded: slow down (request id abc)"
        );
        let e = ConfigError::new(Cloud::UCloud, "set UCLOUD_PUBLIC_KEY");
        assert_eq!(
            e.to_string(),
            "ucloud configure: Config: set UCLOUD_PUBLIC_KEY"
        );
        assert_eq!(
            CloudError::from(e).to_string(),
            "ucloud configure: Config: set UCLOUD_PUBLIC_KEY"
        );
    }
}
