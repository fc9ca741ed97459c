//! Errors raised while encoding, decoding or interpreting cty values.

use super::path::Path;

/// Why a cty operation failed, and at which attribute path.
///
/// Every variant carries the [`Path`] of the value being processed (empty for the top level) so that
/// the provider can turn it into an attribute-level diagnostic for Terraform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CtyError {
    /// Bytes (msgpack or JSON) that do not form a valid value of the expected type.
    #[error("cannot decode value{}: {message}", at(.path))]
    Decode {
        /// Where in the value the problem was found.
        path: Path,
        /// What was wrong.
        message: String,
    },
    /// A value that cannot be written as the requested type.
    #[error("cannot encode value{}: {message}", at(.path))]
    Encode {
        /// Where in the value the problem was found.
        path: Path,
        /// What was wrong.
        message: String,
    },
    /// A malformed cty type description (type JSON).
    #[error("invalid type description{}: {message}", at(.path))]
    Type {
        /// Where in the value the type description was found.
        path: Path,
        /// What was wrong.
        message: String,
    },
    /// Text that is not a decimal number, or a number cty cannot represent (such as infinity).
    #[error("invalid number{}: {message}", at(.path))]
    Number {
        /// Where in the value the number was found.
        path: Path,
        /// What was wrong.
        message: String,
    },
}

fn at(path: &Path) -> String {
    if path.is_root() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

impl CtyError {
    /// The attribute path at which the error happened (empty for the top-level value).
    pub fn path(&self) -> &Path {
        match self {
            CtyError::Decode { path, .. }
            | CtyError::Encode { path, .. }
            | CtyError::Type { path, .. }
            | CtyError::Number { path, .. } => path,
        }
    }

    /// The bare message, without the path.
    pub fn message(&self) -> &str {
        match self {
            CtyError::Decode { message, .. }
            | CtyError::Encode { message, .. }
            | CtyError::Type { message, .. }
            | CtyError::Number { message, .. } => message,
        }
    }

    /// The same error reported at `path` instead, used when a helper that knows no path fails.
    pub fn at_path(self, path: Path) -> CtyError {
        match self {
            CtyError::Decode { message, .. } => CtyError::Decode { path, message },
            CtyError::Encode { message, .. } => CtyError::Encode { path, message },
            CtyError::Type { message, .. } => CtyError::Type { path, message },
            CtyError::Number { message, .. } => CtyError::Number { path, message },
        }
    }

    pub(crate) fn decode(path: Path, message: impl Into<String>) -> CtyError {
        CtyError::Decode {
            path,
            message: message.into(),
        }
    }

    pub(crate) fn encode(path: Path, message: impl Into<String>) -> CtyError {
        CtyError::Encode {
            path,
            message: message.into(),
        }
    }

    pub(crate) fn bad_type(message: impl Into<String>) -> CtyError {
        CtyError::Type {
            path: Path::root(),
            message: message.into(),
        }
    }

    pub(crate) fn bad_number(message: impl Into<String>) -> CtyError {
        CtyError::Number {
            path: Path::root(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_path_when_not_root() {
        let e = CtyError::decode(Path::root().attr("tags").key("a"), "string is required");
        assert_eq!(
            e.to_string(),
            "cannot decode value at tags[\"a\"]: string is required"
        );
        let e = CtyError::decode(Path::root(), "truncated");
        assert_eq!(e.to_string(), "cannot decode value: truncated");
        assert_eq!(e.message(), "truncated");
    }

    #[test]
    fn at_path_moves_error() {
        let e = CtyError::bad_number("nope").at_path(Path::root().attr("size"));
        assert_eq!(e.path(), &Path::root().attr("size"));
    }
}
