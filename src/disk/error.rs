//! Errors of disk image inspection.

use std::io;

/// Why a disk image could not be inspected, or why its guest disk could not be read.
///
/// Reading errors are separate from "this image is fine but we cannot look inside it" (that is
/// [`super::GuestAccess::Unreadable`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The underlying reader failed (local I/O, or the storage request behind a ranged read).
    #[error("reading {len} bytes at offset {offset}: {source}")]
    Read {
        /// Where the read started.
        offset: u64,
        /// How many bytes were asked for.
        len: usize,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
    /// A structure the headers point to lies past the end of the data.
    #[error("the image is truncated: {what} at offset {offset} needs {len} bytes but the data ends at {size}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where.
        offset: u64,
        /// How many bytes it needs.
        len: usize,
        /// Size of the data.
        size: u64,
    },
    /// A header field is out of its valid range (a corrupt or hostile image).
    #[error("invalid {format} header: {message}")]
    Corrupt {
        /// The container format.
        format: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Shorter than one sector: no disk image (an empty file, a download that stopped).
    #[error("the image has {size} bytes, less than one 512-byte sector: it holds no disk")]
    TooSmall {
        /// Size of the data.
        size: u64,
    },
    /// The guest disk uses a feature this reader does not follow (compressed clusters, backing files, ...).
    #[error("{0}")]
    Unsupported(String),
}

impl DiskError {
    pub(crate) fn corrupt(format: &'static str, message: impl Into<String>) -> Self {
        DiskError::Corrupt {
            format,
            message: message.into(),
        }
    }
}
