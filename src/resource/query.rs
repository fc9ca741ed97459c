//! The list resource of `cloudimage_custom_image`: `terraform query` (1.14+) finds the custom images an account
//! already has, in one cloud and one or more regions, so that they can be adopted with generated configuration.
//!
//! Each cloud is asked for its account's own custom images only, page by page at its documented page size, with
//! whatever it filters natively (name parts, tags); the exact match (name prefix, every tag, status) is made here.
//! Listing stops at Terraform's limit, when Terraform stops reading, or on Ctrl-C.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc::Sender;

use crate::cloud::{Cloud, Image, ImageApi, ImageFilter, Param};
use crate::cty::{Path, Type, Value};
use crate::provider::framework::{GeneratedConfig, ListRequest, ListResource, ListResult};
use crate::provider::schema::{Attribute, Block, Schema};
use crate::provider::{Diagnostic, Diagnostics};

use super::context::Clouds;
use super::diagnostics::cloud_diagnostic;
use super::limits;
use super::model::ImageModel;
use super::schema::TYPE_NAME;
use super::state;

/// The list block's `config` attributes.
mod attr {
    pub(super) const CLOUD: &str = "cloud";
    pub(super) const REGIONS: &str = "regions";
    pub(super) const NAME_PREFIX: &str = "name_prefix";
    pub(super) const TAGS: &str = "tags";
    pub(super) const STATUS: &str = "status";
}

/// The statuses a listing can ask for (the resource's `status` words).
const STATUSES: [&str; 3] = ["available", "importing", "failed"];

/// More pages than this in one region is not a listing but a loop (a cloud that never says "last").
const MAX_PAGES: usize = 10_000;

/// The list resource.
pub(super) struct CustomImages {
    clouds: Arc<Clouds>,
}

impl CustomImages {
    pub(super) fn new(clouds: Arc<Clouds>) -> Self {
        CustomImages { clouds }
    }
}

/// A listing's configuration, read once.
#[derive(Debug, Default)]
struct Query {
    cloud: Option<Cloud>,
    regions: Vec<String>,
    name_prefix: Option<String>,
    tags: BTreeMap<String, String>,
    status: Option<String>,
}

impl Query {
    fn from_value(v: &Value) -> Self {
        let text = |name: &str| v.get_attr(name).and_then(Value::as_str).map(str::to_string);
        Query {
            cloud: text(attr::CLOUD).and_then(|c| c.parse().ok()),
            regions: v
                .get_attr(attr::REGIONS)
                .and_then(Value::as_list)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            name_prefix: text(attr::NAME_PREFIX).filter(|p| !p.is_empty()),
            tags: v
                .get_attr(attr::TAGS)
                .and_then(Value::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            status: text(attr::STATUS),
        }
    }

    /// What the cloud can narrow natively: its name filters match parts of names, so the prefix is asked for as a
    /// part and matched exactly here.
    fn filter(&self) -> ImageFilter {
        ImageFilter {
            name_contains: self.name_prefix.clone(),
            tags: self.tags.clone(),
        }
    }

    /// Whether `image` is one the listing asks for.
    fn matches(&self, image: &Image) -> bool {
        self.name_prefix
            .as_deref()
            .is_none_or(|p| image.name.starts_with(p))
            && self.tags.iter().all(|(k, v)| image.tags.get(k) == Some(v))
            && self
                .status
                .as_deref()
                .is_none_or(|s| state::status_word(image.state) == s)
            && !image.id.is_empty()
    }
}

/// The schema of the `config` block.
fn config_schema() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "Which custom images of the account to list: one cloud, its regions, and filters. Only \
                          the account's own custom images are listed, never public, marketplace or shared ones."
                .to_string(),
            attributes: vec![
                Attribute::required(
                    attr::CLOUD,
                    s.clone(),
                    "The cloud, as the resource's `cloud` attribute.",
                ),
                Attribute::optional(
                    attr::REGIONS,
                    Type::list(s.clone()),
                    "The regions to list. Default: the region of the cloud's provider block (or its environment \
                     variable).",
                ),
                Attribute::optional(
                    attr::NAME_PREFIX,
                    s.clone(),
                    "Only images whose name starts with this text (case-sensitive). Sent to the cloud's own name \
                     filter where it has one, which matches parts of names, and matched exactly here.",
                ),
                Attribute::optional(
                    attr::TAGS,
                    Type::map(s.clone()),
                    "Only images with every one of these tags and values; on the clouds that have tags (Tencent \
                     Cloud, Alibaba ECS).",
                ),
                Attribute::optional(
                    attr::STATUS,
                    s,
                    "Only images in this status: `available`, `importing` or `failed`.",
                ),
            ],
            ..Block::default()
        },
    }
}

/// Problems in a `config` block; unknown values are skipped.
fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let at = |name: &str| Path::root().attr(name);
    let known_text = |name: &str| {
        config
            .get_attr(name)
            .filter(|v| v.is_known())
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let cloud = match known_text(attr::CLOUD).map(|c| c.parse::<Cloud>()) {
        Some(Ok(c)) => Some(c),
        Some(Err(message)) => {
            diags.push(Diagnostic::error("Unknown cloud", message).at(at(attr::CLOUD)));
            None
        }
        None => None,
    };
    if let Some(regions) = config.get_attr(attr::REGIONS).and_then(Value::as_list) {
        for (i, r) in regions.iter().enumerate() {
            if let Some(problem) = r.as_str().and_then(limits::region_problem) {
                diags.push(
                    Diagnostic::error("Invalid region", problem)
                        .at(at(attr::REGIONS).index(i as u64)),
                );
            }
        }
    }
    let has_tags = config
        .get_attr(attr::TAGS)
        .and_then(Value::as_map)
        .is_some_and(|m| !m.is_empty());
    if let (Some(cloud), true) = (cloud, has_tags) {
        if !cloud.backend().rules().supports(Param::Tags) {
            diags.push(
                Diagnostic::error(
                    format!("tags are not a filter on {cloud}"),
                    format!("{cloud} images have no tags; remove the tags filter."),
                )
                .at(at(attr::TAGS)),
            );
        }
    }
    if let Some(status) = known_text(attr::STATUS) {
        if !STATUSES.contains(&status.as_str()) {
            diags.push(
                Diagnostic::error(
                    "Invalid status",
                    format!("status is one of {}; got {status:?}.", STATUSES.join(", ")),
                )
                .at(at(attr::STATUS)),
            );
        }
    }
    diags
}

/// Sends `result`; false when Terraform has stopped reading.
async fn send(found: &Sender<ListResult>, result: ListResult) -> bool {
    found.send(result).await.is_ok()
}

/// An event that carries only an error.
fn failure(diagnostic: Diagnostic) -> ListResult {
    let mut diagnostics = Diagnostics::new();
    diagnostics.push(diagnostic);
    ListResult {
        diagnostics,
        ..ListResult::default()
    }
}

impl CustomImages {
    /// The regions a listing covers.
    fn regions(&self, cloud: Cloud, query: &Query) -> Result<Vec<String>, Diagnostic> {
        if !query.regions.is_empty() {
            return Ok(query.regions.clone());
        }
        self.clouds
            .default_region(cloud)
            .map(|r| vec![r])
            .ok_or_else(|| {
                Diagnostic::error(
                    format!("No region for {cloud}"),
                    format!(
                        "Set regions in the list block's config, or the region in the provider's `{}` block or \
                         the cloud's region environment variable.",
                        cloud.backend().block().name
                    ),
                )
                .at(Path::root().attr(attr::REGIONS))
            })
    }

    /// Lists one region; returns how many results were sent, or `None` when listing must end (limit, Terraform
    /// gone, stop, or an error already sent).
    async fn list_region(
        &self,
        client: &dyn ImageApi,
        query: &Query,
        region: &str,
        request: &ListRequest<'_>,
        found: &Sender<ListResult>,
        mut sent: usize,
    ) -> Option<usize> {
        let cloud = client.cloud();
        let filter = query.filter();
        for page in 0..MAX_PAGES {
            let listed = tokio::select! {
                listed = client.list_images(region, &filter, page) => listed,
                () = request.stop.wait() => {
                    send(found, failure(Diagnostic::error(
                        "Listing interrupted",
                        "Terraform was asked to stop; the list is incomplete.",
                    ))).await;
                    return None;
                }
            };
            let listed = match listed {
                Ok(l) => l,
                Err(e) => {
                    send(found, failure(cloud_diagnostic(&e, "image listing"))).await;
                    return None;
                }
            };
            for image in listed.images.iter().filter(|i| query.matches(i)) {
                if sent >= request.limit {
                    return None;
                }
                if !send(
                    found,
                    result(cloud, region, image, request.include_resource_object),
                )
                .await
                {
                    return None;
                }
                sent += 1;
            }
            if listed.last {
                return Some(sent);
            }
        }
        Some(sent)
    }
}

/// One found image as Terraform gets it: identity, a display name, and (when asked for) the state an import of it
/// would give.
fn result(cloud: Cloud, region: &str, image: &Image, include: bool) -> ListResult {
    let identity = Value::object([
        (super::model::attr::CLOUD, Value::string(cloud.as_str())),
        (super::model::attr::REGION, Value::string(region)),
        (super::model::attr::ID, Value::string(image.id.clone())),
    ]);
    let resource_object = include.then(|| state::imported_state(cloud, region, image).0.to_value());
    ListResult {
        identity: Some(identity),
        display_name: format!("{} ({})", image.name, state::status_word(image.state)),
        resource_object,
        diagnostics: Diagnostics::new(),
    }
}

/// The configuration generated for an existing image (`-generate-config-out`): Terraform's default (what the
/// state holds of the configurable attributes), with a warning for each thing a new image would need that the
/// cloud does not report. Left null, they plan nothing for the image as it is; the plan asks for them when a
/// change would replace it.
pub(super) fn generated_config(default: Value, _state: &Value) -> GeneratedConfig {
    let mut diagnostics = Diagnostics::new();
    let config = ImageModel::from_value(&default);
    if let Some(cloud) = config.cloud() {
        let mut missing: Vec<&str> = Vec::new();
        if config.source_url.is_null() && config.source_file.is_null() {
            missing.push(super::model::attr::SOURCE_URL);
        }
        for &param in cloud.backend().rules().required {
            if default
                .get_attr(param.attribute())
                .is_none_or(Value::is_null)
            {
                missing.push(param.attribute());
            }
        }
        if !missing.is_empty() {
            let name = config.name.text().unwrap_or_default();
            diagnostics.push(Diagnostic::warning(
                "Generated configuration to complete",
                format!(
                    "{cloud} does not report {} of image {name:?}: the generated configuration leaves {} null, \
                     which plans nothing for the image as it is. Fill {} in before a change that replaces the \
                     image (such a plan asks for {}).",
                    missing.join(", "),
                    if missing.len() == 1 { "it" } else { "them" },
                    if missing.len() == 1 { "it" } else { "them" },
                    if missing.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
    }
    GeneratedConfig {
        config: default,
        diagnostics,
    }
}

#[async_trait::async_trait]
impl ListResource for CustomImages {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        config_schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    async fn list(&self, request: ListRequest<'_>, found: Sender<ListResult>) {
        let problems = validate(request.config);
        if problems.has_errors() {
            for d in problems.0 {
                send(&found, failure(d)).await;
            }
            return;
        }
        let query = Query::from_value(request.config);
        let Some(cloud) = query.cloud else {
            return;
        };
        let client = match self.clouds.client(cloud) {
            Ok(c) => c,
            Err(e) => {
                send(&found, failure(super::diagnostics::not_configured(&e))).await;
                return;
            }
        };
        let regions = match self.regions(cloud, &query) {
            Ok(r) => r,
            Err(d) => {
                send(&found, failure(d)).await;
                return;
            }
        };
        let mut sent = 0;
        for region in &regions {
            match self
                .list_region(client.as_ref(), &query, region, &request, &found, sent)
                .await
            {
                Some(n) => sent = n,
                None => return,
            }
        }
        tracing::info!(cloud = %cloud, regions = regions.len(), images = sent, "listed custom images");
    }
}
