//! Errors of the simulator process itself (start-up, state file, credentials). Request-level
//! failures are answered in each cloud's own error format instead.

use std::path::PathBuf;

/// A failure that stops the simulator from starting or from persisting state.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SimError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file (state or credentials) did not parse.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file involved.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// Serialising the state failed (should not happen for plain data).
    #[error("serialising state: {0}")]
    Serialize(serde_json::Error),
    /// A flag's value cannot be used.
    #[error("{0}")]
    Config(String),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from `--listen`.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
}
