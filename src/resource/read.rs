//! Reading an image back: a refresh of a managed image, and the import of an existing one (by ID or identity).

use crate::cloud::Cloud;
use crate::cty::Value;
use crate::provider::framework::{ImportOutcome, ImportRequest, ReadOutcome, ReadRequest};
use crate::provider::Diagnostic;

use super::diagnostics::cloud_diagnostic;
use super::image::{locate, CustomImage};
use super::model::{attr, Field, ImageModel};
use super::shares;
use super::state;

/// An ID of the form `<cloud>/<region>/<image-id>`.
pub(super) fn parse_import_id(id: &str) -> Result<(Cloud, String, String), String> {
    let parts: Vec<&str> = id.splitn(3, '/').collect();
    match parts.as_slice() {
        [cloud, region, image] if !region.is_empty() && !image.is_empty() => {
            Ok((cloud.parse()?, region.to_string(), image.to_string()))
        }
        _ => Err(format!(
            "{id:?} is not an import ID. Use <cloud>/<region>/<image-id>, e.g. tencentcloud/ap-guangzhou/img-0a1b2c3d."
        )),
    }
}

/// The cloud, region and ID an import identity names.
fn parse_identity(identity: &Value) -> Result<(Cloud, String, String), String> {
    let text = |name: &str| {
        identity
            .get_attr(name)
            .filter(|v| v.is_known())
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (
        text(attr::CLOUD).map(|c| c.parse::<Cloud>()),
        text(attr::REGION),
        text(attr::ID),
    ) {
        (Some(Ok(cloud)), Some(region), Some(id)) => Ok((cloud, region, id)),
        (Some(Err(e)), _, _) => Err(e),
        _ => Err("the identity needs cloud, region and id".to_string()),
    }
}

impl CustomImage {
    /// ReadResource: what the cloud reports now, or `None` when the image is gone.
    pub(super) async fn refresh(&self, request: ReadRequest<'_>) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let stored = ImageModel::from_value(request.state);
        let Some((cloud, region, id)) = locate(&stored) else {
            out.state = Some(request.state.clone());
            return out;
        };
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                let mut merged = state::merge_image(cloud, &stored, &region, &image);
                if stored.share_with_accounts.known().is_some() {
                    let client = match self.client(cloud) {
                        Ok(c) => c,
                        Err(e) => {
                            out.diagnostics.push(super::diagnostics::not_configured(&e));
                            return out;
                        }
                    };
                    match shares::refreshed(
                        client.as_ref(),
                        &region,
                        &id,
                        &stored.share_with_accounts,
                    )
                    .await
                    {
                        Ok(s) => merged.share_with_accounts = s,
                        Err(e) => {
                            out.diagnostics
                                .push(cloud_diagnostic(&e, "image share read"));
                            return out;
                        }
                    }
                }
                if let Err(e) = self.refresh_copies(cloud, &mut merged).await {
                    out.diagnostics
                        .push(cloud_diagnostic(&e, "image copy read"));
                    return out;
                }
                if shares::shares_images(cloud) && !merged.known_copies().is_empty() {
                    let shared = match self.client(cloud) {
                        Ok(client) => self.refresh_copy_shares(client.as_ref(), &mut merged).await,
                        Err(e) => {
                            out.diagnostics.push(super::diagnostics::not_configured(&e));
                            return out;
                        }
                    };
                    if let Err(e) = shared {
                        out.diagnostics
                            .push(cloud_diagnostic(&e, "copy share read"));
                        return out;
                    }
                }
                out.state = Some(merged.to_value())
            }
            Ok(None) => {
                tracing::info!(cloud = %cloud, region = %region, image = %id, "image is gone; it will be planned for creation");
                out.state = None;
            }
            Err(e) => {
                out.diagnostics.push(cloud_diagnostic(&e, "image read"));
            }
        }
        out
    }

    /// ImportResourceState: looks the image up now, so a wrong ID fails at import, not at the next plan.
    pub(super) async fn import_existing(&self, request: ImportRequest) -> ImportOutcome {
        let mut out = ImportOutcome::default();
        let located = match &request.identity {
            Some(identity) => parse_identity(identity),
            None => parse_import_id(&request.id),
        };
        let (cloud, region, id) = match located {
            Ok(l) => l,
            Err(message) => {
                out.diagnostics
                    .push(Diagnostic::error("Invalid import ID", message));
                return out;
            }
        };
        match self.look(cloud, &region, &id).await {
            Ok(Some(image)) => {
                let (mut state, private) = state::imported_state(cloud, &region, &image);
                if shares::shares_images(cloud) {
                    let shared = match self.client(cloud) {
                        Ok(client) => client.image_shares(&region, &id).await,
                        Err(e) => {
                            out.diagnostics.push(super::diagnostics::not_configured(&e));
                            return out;
                        }
                    };
                    match shared {
                        Ok(accounts) if !accounts.is_empty() => {
                            state.share_with_accounts = Field::Known(accounts.into())
                        }
                        Ok(_) => {}
                        Err(e) => {
                            out.diagnostics
                                .push(cloud_diagnostic(&e, "image share read"));
                            return out;
                        }
                    }
                }
                out.state = Some(state.to_value());
                out.private = private.encode();
            }
            Ok(None) => out.diagnostics.push(Diagnostic::error(
                "Cannot import a missing image",
                format!("{cloud} has no image {id} in region {region}."),
            )),
            Err(e) => out.diagnostics.push(cloud_diagnostic(&e, "image read")),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("tencentcloud/ap-guangzhou/img-1").unwrap(),
            (
                Cloud::TencentCloud,
                "ap-guangzhou".to_string(),
                "img-1".to_string()
            )
        );
        assert!(parse_import_id("img-1").is_err());
        assert!(parse_import_id("aws/us-east-1/ami-1")
            .unwrap_err()
            .contains("unknown cloud"));
        assert!(parse_import_id("ucloud//x").is_err());
    }
}
