//! What a provider and its resources implement: typed requests and responses with decoded values.
//!
//! Nothing here mentions msgpack, gRPC or a protocol version. The core ([`super::server`]) decodes values, calls
//! these methods and then enforces Terraform's plan and apply rules, so a resource cannot produce an invalid plan
//! or an inconsistent result even when it gets something wrong.

use std::sync::Arc;

use crate::cty::{Path, Value};
use crate::signal::Signal;

use super::diag::Diagnostics;
use super::schema::{IdentitySchema, Schema};

/// The provider as a whole: its configuration block and its resource types.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Schema of the `provider` block.
    fn schema(&self) -> Schema;
    /// Every resource type; asked once at start.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    /// Checks the provider block; values may be unknown.
    async fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Receives the final provider block before any resource operation.
    async fn configure(&self, request: ConfigureRequest) -> Diagnostics;
    /// The list resources (`terraform query`), each named after the managed resource type it finds.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }
    /// The provider functions (`provider::<name>::<function>`, Terraform 1.8+).
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}

/// A provider function. Terraform calls it on a provider it has not configured, during validation and planning as
/// well as apply, and checks that two calls with the same arguments give the same result: it must be pure.
pub trait Function: Send + Sync + 'static {
    /// The name after `provider::<name>::`.
    fn name(&self) -> &'static str;
    /// The signature and docs.
    fn schema(&self) -> crate::provider::protocol::FunctionSchema;
    /// Calls it with arguments already decoded against the parameter types (never unknown).
    fn call(&self, arguments: &[Value]) -> Result<Value, crate::provider::protocol::FunctionError>;
}

/// A list resource: finds the existing objects of one managed resource type, for `terraform query` (1.14+).
#[async_trait::async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The managed resource type it finds (which must have an identity schema).
    fn type_name(&self) -> &'static str;
    /// The schema of the `config` block in a `list` block.
    fn config_schema(&self) -> Schema;
    /// Checks the `config` block; values may be unknown and must then be skipped.
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Finds objects and sends each as it is found, stopping at `request.limit`, when a send fails (Terraform has
    /// stopped reading) or when `request.stop` fires.
    async fn list(&self, request: ListRequest<'_>, found: tokio::sync::mpsc::Sender<ListResult>);
}

/// A list request.
#[derive(Debug)]
pub struct ListRequest<'a> {
    /// The `config` block, wholly known.
    pub config: &'a Value,
    /// Whether each result must carry the whole object, as a read returns it.
    pub include_resource_object: bool,
    /// How many results Terraform wants at most.
    pub limit: usize,
    /// Fires when Terraform asks the provider to stop (Ctrl-C), which does not end the stream by itself.
    pub stop: Signal,
}

/// One object found, or diagnostics alone.
#[derive(Debug, Default)]
pub struct ListResult {
    /// The object's identity (as [`Resource::identity_of`] gives it).
    pub identity: Option<Value>,
    /// What Terraform prints beside it.
    pub display_name: String,
    /// The object as a read returns it, when asked for.
    pub resource_object: Option<Value>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// What configuration for an existing object should say, and what the user should know about it.
#[derive(Debug)]
pub struct GeneratedConfig {
    /// The configuration value, in the resource's type.
    pub config: Value,
    /// Warnings: what the configuration cannot say and the user should fill in.
    pub diagnostics: Diagnostics,
}

/// ConfigureProvider's content.
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// The Terraform CLI version, for diagnostics and user agents.
    pub terraform_version: String,
    /// The provider block.
    pub config: Value,
}

/// A resource type.
#[async_trait::async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The resource type name, e.g. `cloudimage_custom_image`.
    fn type_name(&self) -> &'static str;
    /// The resource schema.
    fn schema(&self) -> Schema;
    /// The identity schema, for resource types that support identities.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }
    /// The identity of the object a state describes.
    fn identity_of(&self, _state: &Value) -> Option<Value> {
        None
    }
    /// Checks configuration; values may be unknown and must then be skipped.
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// The configuration that manages the object `state` describes (`terraform query -generate-config-out`, and
    /// `terraform plan -generate-config-out` for import blocks). `default` is what Terraform itself would write
    /// (the configurable attributes of the state); the default method returns it unchanged.
    fn generate_config(&self, default: Value, _state: &Value) -> GeneratedConfig {
        GeneratedConfig {
            config: default,
            diagnostics: Diagnostics::new(),
        }
    }
    /// Adapts state stored by an older schema version. The core has already decoded the stored JSON against the
    /// current schema, dropping attributes it no longer has and leaving new ones null.
    fn upgrade_state(&self, _from_version: i64, state: Value) -> Result<Value, Diagnostics> {
        Ok(state)
    }
    /// Whether the configured value of top-level `attribute` means what the prior state holds, although the two
    /// differ: another spelling of it, or a prior null the remote API could not report. Asked by the core for
    /// attributes whose schema says a change needs a new object; `configured` may be (or hold) unknown values.
    fn same_value(
        &self,
        _request: &PlanRequest<'_>,
        _attribute: &str,
        _configured: &Value,
        _prior: &Value,
    ) -> bool {
        false
    }
    /// Whether a change of `attribute`, which the schema says needs a new object, can be made in place for this
    /// object (it may depend on other attributes, e.g. which cloud the object lives in).
    fn changes_in_place(&self, _request: &PlanRequest<'_>, _attribute: &str) -> bool {
        false
    }
    /// Adjusts a plan. `plan.planned` holds the core's proposal (configuration, with computed attributes carried
    /// over from prior state when nothing changes, unknown otherwise) and `plan.requires_replace` what the schema's
    /// plan behaviours require; the resource may set computed values and add attributes that force replacement.
    /// After it, the core keeps prior values of the attributes that declare it if nothing is replaced.
    async fn plan(&self, request: PlanRequest<'_>, plan: &mut PlannedChange) -> Diagnostics;
    /// Creates the object.
    async fn create(&self, request: ApplyRequest<'_>) -> ApplyOutcome;
    /// Changes the object in place.
    async fn update(&self, request: ApplyRequest<'_>) -> ApplyOutcome;
    /// Deletes the object.
    async fn delete(&self, request: ApplyRequest<'_>) -> Diagnostics;
    /// Refreshes state from the remote object; `state: None` means it is gone.
    async fn read(&self, request: ReadRequest<'_>) -> ReadOutcome;
    /// Turns an import ID or identity into a state to read from.
    async fn import(&self, request: ImportRequest) -> ImportOutcome;
}

/// A plan request.
#[derive(Debug)]
pub struct PlanRequest<'a> {
    /// The configuration.
    pub config: &'a Value,
    /// The prior state, `None` for a create.
    pub prior: Option<&'a Value>,
    /// Private data stored with the prior state.
    pub prior_private: &'a [u8],
    /// At apply, the private data this provider returned when it made the plan being applied, where Terraform
    /// hands it back (protocol 6.11, Terraform 1.16+); empty at plan time and from older Terraform. A plan that
    /// computes values from the outside world (a file's hash) can tell from it that the world changed since.
    pub planned_private: &'a [u8],
    /// Fires when Terraform asks the provider to stop (Ctrl-C).
    pub stop: Signal,
}

/// A plan being built.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// The planned state.
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<Path>,
    /// Private data handed to apply.
    pub private: Vec<u8>,
}

/// An apply request: create, update or delete.
#[derive(Debug)]
pub struct ApplyRequest<'a> {
    /// The configuration (null for a delete).
    pub config: &'a Value,
    /// The prior state, `None` for a create.
    pub prior: Option<&'a Value>,
    /// The planned state (null for a delete).
    pub planned: &'a Value,
    /// Private data from the plan.
    pub private: &'a [u8],
    /// Fires when Terraform asks the provider to stop (Ctrl-C).
    pub stop: Signal,
}

/// The result of a create or update.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    /// The new state; with errors, a partial state if the object exists (so Terraform taints rather than loses it).
    pub state: Option<Value>,
    /// Private data to store.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// A read request.
#[derive(Debug)]
pub struct ReadRequest<'a> {
    /// The stored state.
    pub state: &'a Value,
    /// The stored private data.
    pub private: &'a [u8],
    /// Fires when Terraform asks the provider to stop.
    pub stop: Signal,
}

/// The result of a read.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// The refreshed state; `None` when the object is gone.
    pub state: Option<Value>,
    /// New private data; `None` keeps what was stored.
    pub private: Option<Vec<u8>>,
    /// Problems.
    pub diagnostics: Diagnostics,
}

/// An import request.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The ID string, empty when importing by identity.
    pub id: String,
    /// The identity, when importing by identity.
    pub identity: Option<Value>,
}

/// The result of an import.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    /// A state holding at least what `read` needs.
    pub state: Option<Value>,
    /// Private data to store with it.
    pub private: Vec<u8>,
    /// Problems.
    pub diagnostics: Diagnostics,
}
