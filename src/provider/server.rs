//! The provider core: decodes what Terraform sends against the schemas, calls the typed [`Provider`] and
//! [`Resource`] methods, and enforces Terraform's plan and apply rules on what they return.
//!
//! Both protocol adapters call this one implementation of [`ProtocolServer`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cty::{self, Type, Value};
use crate::signal::Signal;

use super::diag::Diagnostic;
use super::framework::{self, Provider, Resource};
use super::functions::Functions;
use super::invariants;
use super::list::{self, ListType};
use super::plan;
use super::protocol::{self as p, DynamicValue, ProtocolServer};
use super::schema::{IdentitySchema, Schema};

/// One resource type with everything derived from its schema, computed once.
struct ResourceType {
    resource: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
    identity: Option<(IdentitySchema, Type)>,
}

/// The provider core serving one provider.
pub struct Server {
    provider: Arc<dyn Provider>,
    /// Built at the first request, not at start-up: Terraform starts a provider process several times per run and
    /// caches the schema between them (`get_provider_schema_optional`), so many processes never need it, and none
    /// needs it before the go-plugin handshake line (start-up time and memory, issue 21).
    catalog: std::sync::OnceLock<Catalog>,
    stop: Signal,
}

/// Everything derived from the provider's schemas, computed once per process.
struct Catalog {
    provider_ty: Type,
    resources: BTreeMap<String, ResourceType>,
    lists: BTreeMap<String, ListType>,
    functions: Functions,
    schema_response: p::ProviderSchemaResponse,
    identity_response: p::IdentitySchemasResponse,
}

impl Server {
    /// Serves `provider`; its schemas are built when Terraform first asks for anything.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self {
            provider,
            catalog: std::sync::OnceLock::new(),
            stop: Signal::new(),
        }
    }

    /// The schemas and what is derived from them; every later GetProviderSchema call returns the same response.
    fn catalog(&self) -> &Catalog {
        self.catalog
            .get_or_init(|| Catalog::build(self.provider.as_ref()))
    }
}

impl Catalog {
    fn build(provider: &dyn Provider) -> Self {
        let provider_schema = provider.schema();
        let provider_schema_problems = provider_schema.problems();
        let provider_ty = provider_schema.block.implied_type();
        let mut resources = BTreeMap::new();
        let mut schema_response = p::ProviderSchemaResponse {
            provider: Some(provider_schema),
            capabilities: p::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                move_resource_state: false,
                generate_resource_config: true,
            },
            ..Default::default()
        };
        let mut identity_response = p::IdentitySchemasResponse::default();
        let mut schema_problems: Vec<String> = provider_schema_problems;
        for resource in provider.resources() {
            let schema = resource.schema();
            schema_problems.extend(
                schema
                    .problems()
                    .into_iter()
                    .map(|p| format!("{}: {p}", resource.type_name())),
            );
            let identity = resource.identity_schema().map(|s| {
                let ty = s.implied_type();
                identity_response
                    .identities
                    .insert(resource.type_name().to_string(), s.clone());
                (s, ty)
            });
            schema_response
                .resources
                .insert(resource.type_name().to_string(), schema.clone());
            resources.insert(
                resource.type_name().to_string(),
                ResourceType {
                    ty: schema.block.implied_type(),
                    schema,
                    identity,
                    resource,
                },
            );
        }
        let mut lists = BTreeMap::new();
        for list in provider.list_resources() {
            let lt = ListType::new(list);
            let name = lt.list.type_name();
            schema_problems.extend(
                lt.schema
                    .problems()
                    .into_iter()
                    .map(|p| format!("list {name}: {p}")),
            );
            if resources.get(name).is_none_or(|rt| rt.identity.is_none()) {
                // Terraform lists only managed resource types with an identity.
                schema_problems.push(format!(
                    "list {name}: no managed resource type of that name with an identity schema"
                ));
            }
            schema_response
                .list_resources
                .insert(name.to_string(), lt.schema.clone());
            lists.insert(name.to_string(), lt);
        }
        let functions = Functions::new(provider.functions());
        schema_response.functions = functions.schemas();
        // Terraform would refuse these with a less helpful message; say exactly what is wrong.
        schema_response
            .diagnostics
            .extend(schema_problems.into_iter().map(|p| {
                Diagnostic::error(
                    "Invalid provider schema",
                    format!("{p} (a bug in this provider)"),
                )
            }));
        Catalog {
            provider_ty,
            resources,
            lists,
            functions,
            schema_response,
            identity_response,
        }
    }
}

impl Server {
    /// A resource type and several values Terraform sent for it, decoded against its schema.
    fn resource_values<const N: usize>(
        &self,
        type_name: &str,
        values: [(&DynamicValue, &str); N],
    ) -> Result<(&ResourceType, [Value; N]), Diagnostic> {
        let rt = self.resource(type_name)?;
        let mut out: [Value; N] = std::array::from_fn(|_| Value::Null);
        for (slot, (dv, what)) in out.iter_mut().zip(values) {
            *slot = decode(dv, &rt.ty, what)?;
        }
        Ok((rt, out))
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceType, Diagnostic> {
        self.catalog().resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource type named {type_name:?}."),
            )
        })
    }
}

/// Decodes a value Terraform sent. An empty value (neither encoding set) is null.
pub(super) fn decode(dv: &DynamicValue, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let decoded = if !dv.msgpack.is_empty() {
        cty::msgpack::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        cty::json::decode(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        let path = e.path().clone();
        Diagnostic::error(
            format!("Invalid {what} received from Terraform"),
            format!("The {what} could not be decoded: {e}"),
        )
        .at(path)
    })
}

/// Encodes a value for Terraform.
pub(super) fn encode(value: &Value, ty: &Type, what: &str) -> Result<DynamicValue, Diagnostic> {
    cty::msgpack::encode(value, ty)
        .map(|msgpack| DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            let path = e.path().clone();
            Diagnostic::error(
                format!("Cannot encode the {what}"),
                format!("This is a bug in terraform-provider-cloudimage: {e}"),
            )
            .at(path)
        })
}

/// The error for a list of a type this provider cannot list.
fn unknown_list(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        "Unknown list resource type",
        format!("This provider cannot list resources of type {type_name:?}."),
    )
}

fn null_if_absent(v: Value) -> Option<Value> {
    (!v.is_null()).then_some(v)
}

impl ResourceType {
    fn identity_data(&self, state: &Value) -> Option<p::IdentityData> {
        let (_, ty) = self.identity.as_ref()?;
        let value = self.resource.identity_of(state)?;
        encode(&value, ty, "identity")
            .ok()
            .map(|value| p::IdentityData { value })
    }
}

#[async_trait::async_trait]
impl ProtocolServer for Server {
    fn provider_schema(&self) -> &p::ProviderSchemaResponse {
        &self.catalog().schema_response
    }

    fn identity_schemas(&self) -> &p::IdentitySchemasResponse {
        &self.catalog().identity_response
    }

    async fn validate_provider_config(&self, config: DynamicValue) -> Vec<Diagnostic> {
        match decode(
            &config,
            &self.catalog().provider_ty,
            "provider configuration",
        ) {
            Ok(v) => self.provider.validate_config(&v).await.0,
            Err(d) => vec![d],
        }
    }

    async fn validate_resource_config(
        &self,
        type_name: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic> {
        let rt = match self.resource(type_name) {
            Ok(rt) => rt,
            Err(d) => return vec![d],
        };
        match decode(&config, &rt.ty, "resource configuration") {
            Ok(v) => rt.resource.validate(&v).await.0,
            Err(d) => vec![d],
        }
    }

    async fn configure_provider(
        &self,
        terraform_version: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic> {
        match decode(
            &config,
            &self.catalog().provider_ty,
            "provider configuration",
        ) {
            Ok(config) => {
                self.provider
                    .configure(framework::ConfigureRequest {
                        terraform_version: terraform_version.to_string(),
                        config,
                    })
                    .await
                    .0
            }
            Err(d) => vec![d],
        }
    }

    async fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: p::RawState,
    ) -> p::UpgradeStateResponse {
        let mut out = p::UpgradeStateResponse::default();
        let rt = match self.resource(type_name) {
            Ok(rt) => rt,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                out.diagnostics.push(Diagnostic::error(
                    "Unsupported state format",
                    "This state was written in the pre-0.12 flatmap format, which this provider never produced.",
                ));
            }
            return out;
        }
        let state = match cty::json::decode(&raw.json, &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                out.diagnostics.push(
                    Diagnostic::error(
                        "Cannot read stored state",
                        format!("The stored state of this {type_name} could not be decoded: {e}"),
                    )
                    .at(e.path().clone()),
                );
                return out;
            }
        };
        let upgraded = if version < rt.schema.version {
            match rt.resource.upgrade_state(version, state) {
                Ok(v) => v,
                Err(diags) => {
                    out.diagnostics = diags.0;
                    return out;
                }
            }
        } else {
            state
        };
        let mut upgraded = upgraded;
        invariants::empty_absent_blocks(&rt.schema.block, &mut upgraded);
        match encode(&upgraded, &rt.ty, "upgraded state") {
            Ok(dv) => out.upgraded_state = Some(dv),
            Err(d) => out.diagnostics.push(d),
        }
        out
    }

    async fn upgrade_resource_identity(
        &self,
        type_name: &str,
        _version: i64,
        raw_json: Vec<u8>,
    ) -> p::UpgradeIdentityResponse {
        let mut out = p::UpgradeIdentityResponse::default();
        let Some((_, ty)) = self
            .catalog()
            .resources
            .get(type_name)
            .and_then(|rt| rt.identity.as_ref())
        else {
            out.diagnostics.push(Diagnostic::error(
                "Resource type has no identity",
                format!("{type_name} does not support resource identity."),
            ));
            return out;
        };
        match cty::json::decode(&raw_json, ty) {
            Ok(v) => match encode(&v, ty, "identity") {
                Ok(value) => out.upgraded_identity = Some(p::IdentityData { value }),
                Err(d) => out.diagnostics.push(d),
            },
            Err(e) => out.diagnostics.push(Diagnostic::error(
                "Cannot read stored identity",
                format!("The stored identity could not be decoded: {e}"),
            )),
        }
        out
    }

    async fn read_resource(&self, req: p::ReadRequest) -> p::ReadResponse {
        let mut out = p::ReadResponse {
            private: req.private.clone(),
            ..Default::default()
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        let state = match decode(&req.current_state, &rt.ty, "state") {
            Ok(v) => v,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        if state.is_null() {
            out.new_state = Some(req.current_state);
            return out;
        }
        let outcome = rt
            .resource
            .read(framework::ReadRequest {
                state: &state,
                private: &req.private,
                stop: self.stop.clone(),
            })
            .await;
        out.diagnostics = outcome.diagnostics.0;
        if let Some(private) = outcome.private {
            out.private = private;
        }
        let new_state = match outcome.state {
            Some(mut s) => {
                invariants::replace_unknowns_with_null(&mut s);
                invariants::empty_absent_blocks(&rt.schema.block, &mut s);
                s
            }
            // On an error without a state, keep what was stored rather than telling Terraform the object is gone.
            None if out
                .diagnostics
                .iter()
                .any(|d| d.severity == super::Severity::Error) =>
            {
                state
            }
            None => Value::Null,
        };
        out.new_identity = rt.identity_data(&new_state);
        match encode(&new_state, &rt.ty, "state") {
            Ok(dv) => out.new_state = Some(dv),
            Err(d) => out.diagnostics.push(d),
        }
        out
    }

    async fn plan_resource_change(&self, req: p::PlanRequest) -> p::PlanResponse {
        let mut out = p::PlanResponse {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        let decoded = self.resource_values(
            &req.type_name,
            [
                (&req.prior_state, "prior state"),
                (&req.proposed_new_state, "proposed state"),
                (&req.config, "configuration"),
            ],
        );
        let (rt, [prior, proposed, config]) = match decoded {
            Ok(v) => v,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        // Destroy: nothing to decide; the plan is null.
        if proposed.is_null() {
            out.planned_state = Some(req.proposed_new_state);
            return out;
        }
        let prior = null_if_absent(prior);
        let mut planned = proposed;
        let changes = prior.as_ref().is_none_or(|prior| *prior != planned);
        if changes {
            invariants::mark_computed_unknown(&rt.schema.block, &config, &mut planned);
        }
        let request = framework::PlanRequest {
            config: &config,
            prior: prior.as_ref(),
            prior_private: &req.prior_private,
            planned_private: &req.planned_private,
            stop: self.stop.clone(),
        };
        let mut change = framework::PlannedChange {
            requires_replace: match &prior {
                Some(prior) => {
                    plan::replacements(&rt.schema.block, rt.resource.as_ref(), &request, prior)
                }
                None => Vec::new(),
            },
            planned,
            private: req.prior_private.clone(),
        };
        let diags = rt.resource.plan(request, &mut change).await;
        out.diagnostics = diags.0;
        if let Some(prior) = &prior {
            if change.requires_replace.is_empty() {
                plan::keep_prior(&rt.schema.block, &config, prior, &mut change.planned);
            }
        }
        let corrected =
            invariants::enforce_configured_values(&rt.schema.block, &config, &mut change.planned);
        for path in corrected {
            tracing::warn!(%path, "resource planned a value different from configuration; using the configuration");
        }
        // No-op stays no-op: if the resource's adjustments brought the plan back to the prior state, hand
        // Terraform the prior state itself.
        if let Some(prior) = &prior {
            if *prior == change.planned {
                change.planned = prior.clone();
                change.requires_replace.clear();
            }
        }
        out.planned_identity = prior.as_ref().and_then(|p| rt.identity_data(p));
        out.requires_replace = change.requires_replace;
        out.planned_private = change.private;
        match encode(&change.planned, &rt.ty, "planned state") {
            Ok(dv) => out.planned_state = Some(dv),
            Err(d) => out.diagnostics.push(d),
        }
        out
    }

    async fn apply_resource_change(&self, req: p::ApplyRequest) -> p::ApplyResponse {
        let mut out = p::ApplyResponse::default();
        let decoded = self.resource_values(
            &req.type_name,
            [
                (&req.prior_state, "prior state"),
                (&req.planned_state, "planned state"),
                (&req.config, "configuration"),
            ],
        );
        let (rt, [prior, planned, config]) = match decoded {
            Ok(v) => v,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        let prior = null_if_absent(prior);
        let request = framework::ApplyRequest {
            config: &config,
            prior: prior.as_ref(),
            planned: &planned,
            private: &req.planned_private,
            stop: self.stop.clone(),
        };
        if planned.is_null() {
            let diags = rt.resource.delete(request).await;
            // A failed delete keeps the prior state so the object stays managed.
            out.new_state = Some(if diags.has_errors() {
                req.prior_state
            } else {
                req.planned_state
            });
            out.diagnostics = diags.0;
            return out;
        }
        let outcome = if prior.is_none() {
            rt.resource.create(request).await
        } else {
            rt.resource.update(request).await
        };
        let mut diags = outcome.diagnostics;
        let new_state = match outcome.state {
            Some(mut state) => {
                if diags.has_errors() {
                    // A partial result: keep what is known, so Terraform stores (and taints) the object.
                    invariants::replace_unknowns_with_null(&mut state);
                } else {
                    invariants::settle_apply_result(
                        &rt.schema.block,
                        &planned,
                        &mut state,
                        &mut diags,
                    );
                }
                state
            }
            // An update that failed without a new state leaves the object as it was.
            None => prior.clone().unwrap_or(Value::Null),
        };
        out.new_identity = rt.identity_data(&new_state);
        out.private = outcome.private;
        out.diagnostics = diags.0;
        match encode(&new_state, &rt.ty, "new state") {
            Ok(dv) => out.new_state = Some(dv),
            Err(d) => out.diagnostics.push(d),
        }
        out
    }

    async fn import_resource_state(&self, req: p::ImportRequest) -> p::ImportResponse {
        let mut out = p::ImportResponse::default();
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                out.diagnostics.push(d);
                return out;
            }
        };
        let identity = match (&req.identity, &rt.identity) {
            (Some(data), Some((_, ty))) => match decode(&data.value, ty, "identity") {
                Ok(v) => null_if_absent(v),
                Err(d) => {
                    out.diagnostics.push(d);
                    return out;
                }
            },
            _ => None,
        };
        let outcome = rt
            .resource
            .import(framework::ImportRequest {
                id: req.id,
                identity,
            })
            .await;
        out.diagnostics = outcome.diagnostics.0;
        if let Some(mut state) = outcome.state {
            invariants::replace_unknowns_with_null(&mut state);
            invariants::empty_absent_blocks(&rt.schema.block, &mut state);
            match encode(&state, &rt.ty, "imported state") {
                Ok(dv) => out.imported.push(p::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: dv,
                    private: outcome.private.clone(),
                    identity: rt.identity_data(&state),
                }),
                Err(d) => out.diagnostics.push(d),
            }
        }
        out
    }

    async fn validate_list_resource_config(
        &self,
        type_name: &str,
        config: DynamicValue,
    ) -> Vec<Diagnostic> {
        let Some(lt) = self.catalog().lists.get(type_name) else {
            return vec![unknown_list(type_name)];
        };
        match decode(&config, &lt.config_ty, "list configuration") {
            Ok(v) => lt.list.validate(&v).await.0,
            Err(d) => vec![d],
        }
    }

    async fn list_resource(
        &self,
        req: p::ListRequest,
    ) -> tokio::sync::mpsc::Receiver<p::ListEvent> {
        let (Some(lt), Ok(rt)) = (
            self.catalog().lists.get(&req.type_name),
            self.resource(&req.type_name),
        ) else {
            return list::failed(unknown_list(&req.type_name));
        };
        let Some((_, identity_ty)) = &rt.identity else {
            return list::failed(unknown_list(&req.type_name));
        };
        let found = list::Found {
            ty: rt.ty.clone(),
            identity_ty: identity_ty.clone(),
        };
        list::start(lt, found, req, self.stop.clone())
    }

    async fn generate_resource_config(
        &self,
        type_name: &str,
        state: DynamicValue,
    ) -> p::GenerateConfigResponse {
        match self.resource(type_name) {
            Ok(rt) => list::generate(rt.resource.as_ref(), &rt.schema, &rt.ty, &state),
            Err(d) => p::GenerateConfigResponse {
                config: None,
                diagnostics: vec![d],
            },
        }
    }

    async fn call_function(
        &self,
        name: &str,
        arguments: Vec<DynamicValue>,
    ) -> p::CallFunctionResponse {
        self.catalog().functions.call(name, arguments)
    }

    async fn stop_provider(&self) -> Option<String> {
        tracing::info!("Terraform asked the provider to stop; cancelling in-flight operations");
        self.stop.trigger();
        None
    }
}
