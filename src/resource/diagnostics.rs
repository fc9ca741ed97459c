//! Errors as the person running Terraform should read them: which attribute, what the cloud said, and what to do
//! about it (generic advice by error kind, then the backend's own hint for its codes).

use crate::cloud::{CloudError, ConfigError, ErrorKind};
use crate::cty::Path;
use crate::provider::Diagnostic;

/// An error pointing at a top-level attribute.
pub(super) fn error_at(
    summary: impl Into<String>,
    detail: impl Into<String>,
    attribute: &str,
) -> Diagnostic {
    Diagnostic::error(summary, detail).at(Path::root().attr(attribute))
}

/// A cloud the configuration names but whose client cannot be made (credentials, endpoint, pending values).
pub(super) fn not_configured(e: &ConfigError) -> Diagnostic {
    error_at(
        format!("{} is not configured", e.cloud),
        e.message.clone(),
        super::model::attr::CLOUD,
    )
}

/// A failed cloud call while `doing` something.
pub(super) fn cloud_diagnostic(e: &CloudError, doing: &str) -> Diagnostic {
    let mut detail = e.to_string();
    match &e.kind {
        ErrorKind::Auth => detail.push_str(&format!(
            "\n\nThe {} credentials were rejected. Check the provider's `{}` block or its environment variables.",
            e.cloud,
            e.cloud.backend().block().name
        )),
        ErrorKind::Throttled => {
            detail.push_str("\n\nThe cloud kept throttling requests after several retries.")
        }
        _ => {}
    }
    if let Some(hint) = e.cloud.backend().hint(e) {
        detail.push_str("\n\n");
        detail.push_str(hint);
    }
    Diagnostic::error(format!("{} {doing} failed", e.cloud), detail)
}
