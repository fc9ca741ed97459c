//! Planning `cloudimage_custom_image`. What replaces and what is kept on update is declared on the schema and
//! enforced by the provider core; this module answers the core's per-object questions (do two values mean the
//! same on this cloud, can this cloud change it in place) and adds what only the resource knows: the region a new
//! image gets, the optional dry run of its import, and the replacement of a failed image.

use crate::cloud::Cloud;
use crate::cty::{Path, Value};
use crate::provider::framework::{PlanRequest, PlannedChange};
use crate::provider::Diagnostics;

use super::diagnostics::{cloud_diagnostic, error_at, not_configured};
use super::equivalence;
use super::image::CustomImage;
use super::model::{attr, Field, ImageModel};
use super::private::Private;
use super::state;

/// The cloud a configuration names, when known and valid.
fn cloud_of(config: &Value) -> Option<Cloud> {
    config.get_attr(attr::CLOUD)?.as_str()?.parse().ok()
}

/// A configured value that means what the prior one means (another spelling of it, or a value the cloud could
/// not report for an imported image) is recorded in place; only a real difference needs a new image.
pub(super) fn same_value(
    request: &PlanRequest<'_>,
    attribute: &str,
    configured: &Value,
    prior: &Value,
) -> bool {
    let Some(cloud) = cloud_of(request.config) else {
        return false;
    };
    let private = Private::decode(request.prior_private);
    if state::is_absent(prior) && private.is_unreported(attribute) {
        return true;
    }
    // An unknown value may turn out different: only a known one can be compared.
    configured.is_wholly_known()
        && equivalence::same_value(cloud, attribute, configured, prior, &private)
}

/// Name, description and tags change in place on the clouds whose rules say so.
pub(super) fn changes_in_place(request: &PlanRequest<'_>, attribute: &str) -> bool {
    cloud_of(request.config).is_some_and(|c| c.backend().rules().changes_in_place(attribute))
}

impl CustomImage {
    /// The resource's part of a plan.
    pub(super) async fn plan_change(
        &self,
        request: PlanRequest<'_>,
        plan: &mut PlannedChange,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !matches!(plan.planned, Value::Object(_)) {
            return diags;
        }
        let config = ImageModel::from_value(request.config);
        let Some(cloud) = config.cloud() else {
            return diags;
        };
        // Credentials and region must be resolvable before anything is applied.
        if let Err(e) = self.client(cloud) {
            diags.push(not_configured(&e));
            return diags;
        }
        let prior = request.prior.map(ImageModel::from_value);
        let region = match config.region.string() {
            Some(r) => Some(r),
            None if !config.region.is_known() => None,
            None => match prior.as_ref().and_then(|p| p.region.string()) {
                Some(r) => Some(r),
                None => match self.clouds.default_region(cloud) {
                    Some(r) => Some(r),
                    None => {
                        diags.push(error_at(
                            format!("No region for {cloud}"),
                            format!(
                                "Set region on this resource, or in the provider's `{}` block, or in the cloud's \
                                 region environment variable.",
                                cloud.backend().block().name
                            ),
                            attr::REGION,
                        ));
                        return diags;
                    }
                },
            },
        };
        let mut planned = ImageModel::from_value(&plan.planned);
        match prior {
            None => {
                let Some(region) = region else {
                    return diags;
                };
                // Opt-in plan-time check of a new image's import parameters by the cloud (Tencent `DryRun`
                // behind the provider's `plan_dry_run`); only once every value is known.
                if request.config.is_wholly_known() {
                    let import = state::import_request(cloud, &config, &region, String::new());
                    if let Ok(client) = self.client(cloud) {
                        if let Err(e) = client.check_import(&import).await {
                            diags.push(cloud_diagnostic(&e, "import check (plan_dry_run)"));
                        }
                    }
                }
                planned.region = Field::Known(region);
            }
            // A failed image cannot be fixed in place: plan its replacement.
            Some(prior) if prior.status.text() == Some("failed") => {
                planned.status = Field::unknown();
                plan.requires_replace.push(Path::root().attr(attr::STATUS));
            }
            Some(_) => return diags,
        }
        plan.planned = planned.to_value();
        diags
    }
}
