//! `cloudimage_custom_image`: the resource type, dispatching each Terraform operation to its module (`plan`,
//! `create`, `read`, `update`, `delete`).

use std::sync::Arc;

use crate::cloud::{Cloud, CloudError, ConfigError, Image, ImageApi};
use crate::cty::Value;
use crate::provider::framework::{
    ApplyOutcome, ApplyRequest, GeneratedConfig, ImportOutcome, ImportRequest, PlanRequest,
    PlannedChange, ReadOutcome, ReadRequest, Resource,
};
use crate::provider::schema::{IdentitySchema, Schema};
use crate::provider::Diagnostics;

use super::context::Clouds;
use super::journal::Journal;
use super::model::{attr, ImageModel};
use super::wait::PollSchedule;
use super::{schema, validate};

/// The resource type.
pub(super) struct CustomImage {
    pub(super) clouds: Arc<Clouds>,
    pub(super) schedule: PollSchedule,
    pub(super) journal: Journal,
}

impl CustomImage {
    /// The resource over the provider's cloud clients.
    pub(super) fn new(clouds: Arc<Clouds>) -> Self {
        Self {
            journal: clouds.journal(),
            clouds,
            schedule: PollSchedule::default(),
        }
    }

    /// The client of `cloud`; a configuration error when it cannot be made.
    pub(super) fn client(&self, cloud: Cloud) -> Result<Arc<dyn ImageApi>, ConfigError> {
        self.clouds.client(cloud)
    }

    /// One image as the cloud describes it now, `None` when it is not listed.
    pub(super) async fn look(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
    ) -> Result<Option<Image>, CloudError> {
        self.clouds.describe(cloud, region, id).await
    }
}

/// The cloud, region and ID a state names.
pub(super) fn locate(state: &ImageModel) -> Option<(Cloud, String, String)> {
    Some((state.cloud()?, state.region.string()?, state.id.string()?))
}

#[async_trait::async_trait]
impl Resource for CustomImage {
    fn type_name(&self) -> &'static str {
        schema::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::resource_schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(schema::identity_schema())
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        let (cloud, region, id) = locate(&ImageModel::from_value(state))?;
        Some(Value::object([
            (attr::CLOUD, Value::string(cloud.as_str())),
            (attr::REGION, Value::string(region)),
            (attr::ID, Value::string(id)),
        ]))
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        validate::configuration(config)
    }

    fn generate_config(&self, default: Value, state: &Value) -> GeneratedConfig {
        super::query::generated_config(default, state)
    }

    fn same_value(
        &self,
        request: &PlanRequest<'_>,
        attribute: &str,
        configured: &Value,
        prior: &Value,
    ) -> bool {
        super::change::same_value(request, attribute, configured, prior)
    }

    fn changes_in_place(&self, request: &PlanRequest<'_>, attribute: &str) -> bool {
        super::change::changes_in_place(request, attribute)
    }

    async fn plan(&self, request: PlanRequest<'_>, plan: &mut PlannedChange) -> Diagnostics {
        self.plan_change(request, plan).await
    }

    async fn create(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        self.apply_create(request).await
    }

    async fn update(&self, request: ApplyRequest<'_>) -> ApplyOutcome {
        self.apply_update(request).await
    }

    async fn delete(&self, request: ApplyRequest<'_>) -> Diagnostics {
        self.apply_delete(request).await
    }

    async fn read(&self, request: ReadRequest<'_>) -> ReadOutcome {
        self.refresh(request).await
    }

    async fn import(&self, request: ImportRequest) -> ImportOutcome {
        self.import_existing(request).await
    }
}
