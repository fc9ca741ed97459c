//! The plugin protocol without a version number: the requests and responses both the v5 and v6 adapters translate
//! to and from, and the one trait they call.
//!
//! Values are still in their wire form here ([`DynamicValue`]); decoding them needs the schemas, which live behind
//! the trait. That keeps the adapters free of cty and the core free of protobuf.

use std::collections::BTreeMap;

use super::diag::Diagnostic;
use super::schema::{IdentitySchema, Schema};

/// A value as Terraform sends it: msgpack normally, JSON from some callers. Exactly one is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DynamicValue {
    /// The msgpack encoding.
    pub msgpack: Vec<u8>,
    /// The JSON encoding.
    pub json: Vec<u8>,
}

/// Stored state in whatever shape an older schema gave it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawState {
    /// JSON, as Terraform 0.12+ stores it.
    pub json: Vec<u8>,
    /// The pre-0.12 flat map form; we never wrote it, so it only appears in foreign state.
    pub flatmap: BTreeMap<String, String>,
}

/// What this provider tells Terraform it can do.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerCapabilities {
    /// PlanResourceChange is called for destroys too.
    pub plan_destroy: bool,
    /// Terraform may skip GetProviderSchema when it has the schema cached.
    pub get_provider_schema_optional: bool,
    /// MoveResourceState is implemented.
    pub move_resource_state: bool,
    /// GenerateResourceConfig is implemented (Terraform 1.14+ asks it when writing configuration for found
    /// objects).
    pub generate_resource_config: bool,
}

/// GetProviderSchema's answer.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchemaResponse {
    /// The provider block's schema.
    pub provider: Option<Schema>,
    /// Each resource type's schema.
    pub resources: BTreeMap<String, Schema>,
    /// Each list resource's configuration schema (the `config` block of a `list` block), keyed by the managed
    /// resource type it lists.
    pub list_resources: BTreeMap<String, Schema>,
    /// The provider's functions by name.
    pub functions: BTreeMap<String, FunctionSchema>,
    /// Capabilities.
    pub capabilities: ServerCapabilities,
    /// Problems building the schema.
    pub diagnostics: Vec<Diagnostic>,
}

/// One parameter of a provider function.
#[derive(Debug, Clone)]
pub struct FunctionParameter {
    /// Its name, as error messages show it.
    pub name: String,
    /// Its type.
    pub ty: crate::cty::Type,
    /// What it is (Markdown).
    pub description: String,
}

/// A provider function's signature and docs.
#[derive(Debug, Clone)]
pub struct FunctionSchema {
    /// The parameters, in order.
    pub parameters: Vec<FunctionParameter>,
    /// The result's type.
    pub returns: crate::cty::Type,
    /// One line.
    pub summary: String,
    /// The full description (Markdown).
    pub description: String,
}

/// CallFunction's answer: a result, or the error and the argument it is about.
#[derive(Debug, Clone, Default)]
pub struct CallFunctionResponse {
    /// The result.
    pub result: Option<DynamicValue>,
    /// What went wrong.
    pub error: Option<FunctionError>,
}

/// A function call's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// What went wrong, as a sentence.
    pub text: String,
    /// The argument at fault (from 0), if one is.
    pub argument: Option<usize>,
}

/// ListResource's request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// The resource type listed.
    pub type_name: String,
    /// The `config` block of the `list` block.
    pub config: DynamicValue,
    /// Whether each result carries the full resource object (`include_resource`, or `-generate-config-out`).
    pub include_resource_object: bool,
    /// How many results Terraform wants at most.
    pub limit: i64,
}

/// One event of ListResource's stream: a found object, or diagnostics alone.
#[derive(Debug, Clone, Default)]
pub struct ListEvent {
    /// The object's identity.
    pub identity: Option<IdentityData>,
    /// What Terraform prints beside it.
    pub display_name: String,
    /// The object as a read would return it, when asked for.
    pub resource_object: Option<DynamicValue>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// GenerateResourceConfig's answer.
#[derive(Debug, Clone, Default)]
pub struct GenerateConfigResponse {
    /// The configuration value.
    pub config: Option<DynamicValue>,
    /// Problems, and warnings about what the user should fill in.
    pub diagnostics: Vec<Diagnostic>,
}

/// GetResourceIdentitySchemas' answer.
#[derive(Debug, Clone, Default)]
pub struct IdentitySchemasResponse {
    /// Identity schemas of the resource types that have one.
    pub identities: BTreeMap<String, IdentitySchema>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// A resource identity as it travels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityData {
    /// The identity object.
    pub value: DynamicValue,
}

/// ReadResource's request.
#[derive(Debug, Clone, Default)]
pub struct ReadRequest {
    /// The resource type.
    pub type_name: String,
    /// State as last stored.
    pub current_state: DynamicValue,
    /// Opaque provider data stored alongside.
    pub private: Vec<u8>,
    /// The stored identity (Terraform 1.12+).
    pub current_identity: Option<IdentityData>,
}

/// ReadResource's answer.
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// Refreshed state; a null value means the object is gone.
    pub new_state: Option<DynamicValue>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Opaque provider data to store.
    pub private: Vec<u8>,
    /// Refreshed identity.
    pub new_identity: Option<IdentityData>,
}

/// PlanResourceChange's request.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// The resource type.
    pub type_name: String,
    /// State before the change (null for a create).
    pub prior_state: DynamicValue,
    /// Terraform's merge of configuration and prior state (null for a destroy).
    pub proposed_new_state: DynamicValue,
    /// The configuration as written.
    pub config: DynamicValue,
    /// Opaque provider data from the prior state.
    pub prior_private: Vec<u8>,
    /// At apply, the opaque data this provider returned with the plan being applied (protocol 6.11; empty at
    /// plan time, on protocol 5 and from Terraform before 1.16).
    pub planned_private: Vec<u8>,
    /// The prior identity, if any.
    pub prior_identity: Option<IdentityData>,
}

/// PlanResourceChange's answer.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The planned state.
    pub planned_state: Option<DynamicValue>,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<crate::cty::Path>,
    /// Opaque provider data handed to apply.
    pub planned_private: Vec<u8>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Planned identity.
    pub planned_identity: Option<IdentityData>,
}

/// ApplyResourceChange's request.
#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    /// The resource type.
    pub type_name: String,
    /// State before the change (null for a create).
    pub prior_state: DynamicValue,
    /// The planned state (null for a destroy).
    pub planned_state: DynamicValue,
    /// The configuration.
    pub config: DynamicValue,
    /// Opaque data from plan.
    pub planned_private: Vec<u8>,
    /// Planned identity.
    pub planned_identity: Option<IdentityData>,
}

/// ApplyResourceChange's answer.
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// New state; may be partial (with errors) when a create got far enough to have an ID.
    pub new_state: Option<DynamicValue>,
    /// Opaque provider data to store.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
    /// New identity.
    pub new_identity: Option<IdentityData>,
}

/// ImportResourceState's request: by ID string or by identity.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The resource type.
    pub type_name: String,
    /// The ID the person gave (`terraform import` or an `import` block).
    pub id: String,
    /// The identity given in an `import { identity = ... }` block.
    pub identity: Option<IdentityData>,
}

/// One object found by an import.
#[derive(Debug, Clone, Default)]
pub struct ImportedResource {
    /// Its resource type.
    pub type_name: String,
    /// The state to read from.
    pub state: DynamicValue,
    /// Opaque provider data.
    pub private: Vec<u8>,
    /// Its identity.
    pub identity: Option<IdentityData>,
}

/// ImportResourceState's answer.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// What was found.
    pub imported: Vec<ImportedResource>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// UpgradeResourceState's answer.
#[derive(Debug, Clone, Default)]
pub struct UpgradeStateResponse {
    /// The state in the current schema's shape.
    pub upgraded_state: Option<DynamicValue>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// UpgradeResourceIdentity's answer.
#[derive(Debug, Clone, Default)]
pub struct UpgradeIdentityResponse {
    /// The identity in the current schema's shape.
    pub upgraded_identity: Option<IdentityData>,
    /// Problems.
    pub diagnostics: Vec<Diagnostic>,
}

/// The one interface both protocol adapters serve. Domain problems come back as diagnostics; this trait has no
/// error type on purpose.
#[async_trait::async_trait]
pub trait ProtocolServer: Send + Sync + 'static {
    /// The provider's and its resources' schemas, built once.
    fn provider_schema(&self) -> &ProviderSchemaResponse;
    /// Identity schemas, built once.
    fn identity_schemas(&self) -> &IdentitySchemasResponse;
    /// Validates the provider block (values may be unknown).
    async fn validate_provider_config(&self, config: DynamicValue) -> Vec<Diagnostic>;
    /// Validates one resource block (values may be unknown).
    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic>;
    /// Configures the provider with the final provider block.
    async fn configure_provider(
        &self,
        terraform_version: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic>;
    /// Rewrites stored state into the current schema's shape.
    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: RawState,
    ) -> UpgradeStateResponse;
    /// Rewrites a stored identity into the current identity schema's shape.
    async fn upgrade_resource_identity(
        &self,
        type_name: &str,
        version: i64,
        raw_json: Vec<u8>,
    ) -> UpgradeIdentityResponse;
    /// Refreshes one object.
    async fn read_resource(&self, req: ReadRequest) -> ReadResponse;
    /// Plans one change.
    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse;
    /// Applies one planned change.
    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse;
    /// Finds an existing object to bring under management.
    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse;
    /// Validates a `list` block's `config` (values may be unknown).
    async fn validate_list_resource_config(
        &self,
        type_name: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic>;
    /// Finds objects; the events arrive on the receiver as they are found, and the stream ends when the sender
    /// is dropped. Dropping the receiver (Terraform has enough, or gave up) stops the search.
    async fn list_resource(&self, req: ListRequest) -> tokio::sync::mpsc::Receiver<ListEvent>;
    /// The configuration that manages a found object, from its state.
    async fn generate_resource_config(
        &self,
        type_name: &str,
        state: DynamicValue,
    ) -> GenerateConfigResponse;
    /// Calls a provider function (on a provider that may not be configured).
    async fn call_function(&self, name: &str, arguments: Vec<DynamicValue>)
        -> CallFunctionResponse;
    /// Cancels in-flight work; Terraform sends it on Ctrl-C.
    async fn stop_provider(&self) -> Option<String>;
}
