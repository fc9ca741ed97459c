//! What the resource keeps in Terraform's private state: facts about an image that are not attributes but change
//! what a later plan or delete must do.
//!
//! Terraform stores these bytes next to the state and hands them back on every read, plan and apply, and
//! `terraform show` never prints them. They are JSON so that a newer provider can read what an older one wrote;
//! anything unreadable counts as empty, which is the behaviour of an image this provider created.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The private record of one image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Private {
    /// Attributes that are null in state only because the image was imported (`terraform import`, an import
    /// block) and its cloud cannot report them. Configuring one of them records the configured value in place;
    /// for an image this provider created, a null means "not set at import" and a change replaces the image.
    /// Entries are top-level attribute names, or `data_disks.<attribute>` for the nested ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreported: Vec<String>,
    /// The cloud's task of the running import (ECS `TaskId`), so a delete can cancel an import that is still
    /// running instead of failing on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_task: Option<String>,
    /// Attributes (`format`, `boot_mode`) whose value the provider read from the disk image itself because the
    /// configuration left them unset: a configuration that still leaves them unset keeps them. (A value the user
    /// configured and then removed replaces the image, as it always did: the import would differ.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<String>,
    /// In a plan only (never in state): the SHA-256 each local file had when the plan was made, by the path of its
    /// `source_file` attribute. Terraform 1.16 hands a plan's private data back when it plans again at apply, and a
    /// file that changed since is then the provider's own error instead of an "inconsistent final plan".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_files: BTreeMap<String, String>,
}

impl Private {
    /// Reads the bytes Terraform stored; empty or unreadable bytes are an empty record.
    pub(super) fn decode(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::default();
        }
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// The bytes to hand Terraform; an empty record is no bytes at all.
    pub(super) fn encode(&self) -> Vec<u8> {
        if *self == Self::default() {
            return Vec::new();
        }
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The record to keep with the state: without what only a plan carries.
    pub(super) fn for_state(self) -> Self {
        Self {
            planned_files: BTreeMap::new(),
            ..self
        }
    }

    /// Whether `attribute` (as in [`Private::unreported`]) is null only because its cloud cannot report it.
    pub(super) fn is_unreported(&self, attribute: &str) -> bool {
        self.unreported.iter().any(|a| a == attribute)
    }

    /// Whether the provider filled `attribute` in from the disk image.
    pub(super) fn is_filled(&self, attribute: &str) -> bool {
        self.filled.iter().any(|a| a == attribute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let p = Private {
            unreported: vec!["format".into(), "data_disks.size_gb".into()],
            import_task: Some("t-1".into()),
            filled: vec!["format".into()],
            planned_files: [("source_file".to_string(), "ab".repeat(32))].into(),
        };
        assert_eq!(Private::decode(&p.encode()), p);
        assert!(Private::default().encode().is_empty());
        assert_eq!(Private::decode(b"not json"), Private::default());
        assert_eq!(Private::decode(br#"{"future":1}"#), Private::default());
        assert!(p.is_unreported("format"));
        assert!(!p.is_unreported("platform"));
        assert!(p.is_filled("format") && !p.is_filled("boot_mode"));
        assert!(p.for_state().planned_files.is_empty());
    }
}
