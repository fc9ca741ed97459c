//! What a change of one attribute means for an image, as the provider core asks it while planning: the same value
//! in another spelling (recorded in place), or a change the cloud makes in place rather than by a new image.
//!
//! A leaf of the resource: `image.rs` answers the core's questions with these, and the plan itself
//! (`plan.rs`) needs none of them, so the two do not import each other.

use crate::cloud::params::Change;
use crate::cloud::{Cloud, Param};
use crate::cty::Value;
use crate::provider::framework::PlanRequest;

use super::equivalence::{self, same_word};
use super::model::attr;
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
    // A content hash given where the image had none records it: nothing says the image holds other content.
    if attribute == attr::SOURCE_SHA256 && prior.is_null() {
        return true;
    }
    // The same object, now uploaded from a local file: `upload_to` names what `source_url` named.
    if attribute == attr::SOURCE_URL && configured.is_null() {
        if let (Some(to), Some(was)) = (
            request
                .config
                .get_attr(attr::UPLOAD_TO)
                .and_then(Value::as_str),
            prior.as_str(),
        ) {
            return same_word(cloud, attr::SOURCE_URL, to, was);
        }
    }
    // An unknown value may turn out different: only a known one can be compared.
    configured.is_wholly_known()
        && equivalence::same_value(cloud, attribute, configured, prior, &private)
}

/// A change the parameter table declares in place where the cloud can ([`Change::InPlaceWhereTheCloudCan`]: name,
/// description, tags) is made in place on the clouds whose rules list it.
pub(super) fn changes_in_place(request: &PlanRequest<'_>, attribute: &str) -> bool {
    let Some(param) = Param::from_attribute(attribute) else {
        return false;
    };
    param.def().change == Change::InPlaceWhereTheCloudCan
        && cloud_of(request.config).is_some_and(|c| c.backend().rules().changes_in_place(param))
}
