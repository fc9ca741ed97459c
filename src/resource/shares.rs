//! Sharing an image with other accounts (`share_with_accounts`): shared once the image is available, changed in
//! place, read back where configured (a share removed outside Terraform is drift), and undone before the image is
//! deleted (Tencent and ECS refuse to delete a shared image).
//!
//! A configuration that never sets `share_with_accounts` costs no call: reads ask the cloud for shares only when
//! the state holds them, and a delete unshares only what the state says or what the cloud's refusal reveals.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::cloud::{Cloud, CloudError, ImageApi, Param};
use crate::provider::Diagnostic;

use super::diagnostics::cloud_diagnostic;
use super::model::{attr, Field, StringSet};

/// What to add and what to remove to go from `have` to `want`.
pub(super) fn changes(
    have: &BTreeSet<String>,
    want: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    (
        want.difference(have).cloned().collect(),
        have.difference(want).cloned().collect(),
    )
}

/// Whether `cloud` shares images at all.
pub(super) fn shares_images(cloud: Cloud) -> bool {
    cloud.backend().rules().supports(Param::ShareWithAccounts)
}

/// The known accounts of a field (empty when null or unknown).
pub(super) fn accounts(field: &Field<StringSet>) -> BTreeSet<String> {
    field.known().map(StringSet::known).unwrap_or_default()
}

/// Makes the shares of `id` go from `have` to `want` within `timeout`.
pub(super) async fn apply(
    client: &dyn ImageApi,
    region: &str,
    id: &str,
    have: &BTreeSet<String>,
    want: &BTreeSet<String>,
    timeout: Duration,
) -> Result<(), Diagnostic> {
    let (add, remove) = changes(have, want);
    if add.is_empty() && remove.is_empty() {
        return Ok(());
    }
    tracing::info!(cloud = %client.cloud(), region, image = id, add = add.len(), remove = remove.len(), "changing the image's shares");
    match tokio::time::timeout(timeout, client.share_image(region, id, &add, &remove)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(share_diagnostic(&e)),
        Err(_) => Err(Diagnostic::error(
            format!("Timed out sharing {} image {id}", client.cloud()),
            "The cloud did not answer the share call in time; the next plan shows what is shared.",
        )
        .at(crate::cty::Path::root().attr(attr::SHARE_WITH_ACCOUNTS))),
    }
}

/// A failed share call, at the attribute.
pub(super) fn share_diagnostic(e: &CloudError) -> Diagnostic {
    cloud_diagnostic(e, "image sharing")
        .at(crate::cty::Path::root().attr(attr::SHARE_WITH_ACCOUNTS))
}

/// The shares to record after a read: what the cloud reports where the state tracks shares (non-null), the stored
/// value otherwise.
pub(super) async fn refreshed(
    client: &dyn ImageApi,
    region: &str,
    id: &str,
    stored: &Field<StringSet>,
) -> Result<Field<StringSet>, CloudError> {
    if stored.known().is_none() || !shares_images(client.cloud()) {
        return Ok(stored.clone());
    }
    Ok(Field::Known(client.image_shares(region, id).await?.into()))
}

/// Unshares `id` from every account the cloud lists for it (before a delete the cloud refuses while shared).
pub(super) async fn unshare_all(
    client: &dyn ImageApi,
    region: &str,
    id: &str,
) -> Result<(), CloudError> {
    let have = client.image_shares(region, id).await?;
    if have.is_empty() {
        return Ok(());
    }
    tracing::info!(cloud = %client.cloud(), region, image = id, accounts = have.len(), "unsharing the image before deleting it");
    let remove: Vec<String> = have.into_iter().collect();
    client.share_image(region, id, &[], &remove).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_the_differences() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let (add, remove) = changes(&set(&["1", "2"]), &set(&["2", "3"]));
        assert_eq!(add, ["3"]);
        assert_eq!(remove, ["1"]);
        assert_eq!(changes(&set(&["1"]), &set(&["1"])), (vec![], vec![]));
    }
}
