//! The part of the protocol adapters that protocol 5 and 6 share.
//!
//! The two protocol versions differ in a few RPC names and schema fields, but their messages have the same field
//! names for everything this provider uses. One macro therefore writes the translation for both, expanded inside
//! `v5` and `v6` against that version's generated module `pb`; each version then adds only its own RPCs.

/// Expands to the gRPC service implementation for one protocol version.
///
/// `$service` is the generated server trait; the braces hold the version-specific RPCs (schema, provider
/// validation and configuration, resource validation), which call the same [`ProtocolServer`] methods.
macro_rules! provider_service {
    ($service:path { $($version_specific:tt)* }) => {
        use std::sync::Arc;

        use tokio_stream::StreamExt as _;
        use tonic::{Request, Response, Status};

        use crate::cty::{Path, PathStep};
        use crate::provider::protocol::{self as p, ProtocolServer};
        use crate::provider::schema::{Block, IdentitySchema, Nesting, Schema};
        use crate::provider::{Diagnostic, Severity};

        /// Serves one protocol version on top of the shared provider core.
        pub struct Adapter {
            server: Arc<dyn ProtocolServer>,
        }

        impl Adapter {
            /// An adapter over `server`.
            pub fn new(server: Arc<dyn ProtocolServer>) -> Self {
                Self { server }
            }
        }

        fn dynamic_in(v: Option<pb::DynamicValue>) -> p::DynamicValue {
            v.map(|v| p::DynamicValue { msgpack: v.msgpack, json: v.json }).unwrap_or_default()
        }

        fn dynamic_out(v: p::DynamicValue) -> pb::DynamicValue {
            pb::DynamicValue { msgpack: v.msgpack, json: v.json }
        }

        fn identity_in(v: Option<pb::ResourceIdentityData>) -> Option<p::IdentityData> {
            v.and_then(|d| d.identity_data)
                .map(|dv| p::IdentityData { value: dynamic_in(Some(dv)) })
        }

        fn identity_out(v: Option<p::IdentityData>) -> Option<pb::ResourceIdentityData> {
            v.map(|d| pb::ResourceIdentityData { identity_data: Some(dynamic_out(d.value)) })
        }

        fn path_out(path: &Path) -> pb::AttributePath {
            use pb::attribute_path::step::Selector;
            let steps = path
                .0
                .iter()
                .map(|step| pb::attribute_path::Step {
                    selector: Some(match step {
                        PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                        PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                        PathStep::Index(i) => Selector::ElementKeyInt(i64::try_from(*i).unwrap_or(i64::MAX)),
                    }),
                })
                .collect();
            pb::AttributePath { steps }
        }

        fn diagnostics_out(diags: Vec<Diagnostic>) -> Vec<pb::Diagnostic> {
            diags
                .into_iter()
                .map(|d| pb::Diagnostic {
                    severity: match d.severity {
                        Severity::Error => pb::diagnostic::Severity::Error as i32,
                        Severity::Warning => pb::diagnostic::Severity::Warning as i32,
                    },
                    summary: d.summary,
                    detail: d.detail,
                    attribute: d.attribute.as_ref().filter(|p| !p.0.is_empty()).map(path_out),
                })
                .collect()
        }

        fn block_out(block: &Block, version: i64) -> pb::schema::Block {
            use pb::schema::nested_block::NestingMode;
            pb::schema::Block {
                version,
                attributes: block
                    .attributes
                    .iter()
                    .map(|a| pb::schema::Attribute {
                        name: a.name.clone(),
                        r#type: a.ty.to_json_bytes(),
                        description: a.description.clone(),
                        description_kind: pb::StringKind::Markdown as i32,
                        required: a.required,
                        optional: a.optional,
                        computed: a.computed,
                        sensitive: a.sensitive,
                        deprecated: a.deprecated,
                        ..Default::default()
                    })
                    .collect(),
                block_types: block
                    .blocks
                    .iter()
                    .map(|b| pb::schema::NestedBlock {
                        type_name: b.type_name.clone(),
                        block: Some(block_out(&b.block, 0)),
                        nesting: match b.nesting {
                            Nesting::Single => NestingMode::Single,
                            Nesting::Group => NestingMode::Group,
                            Nesting::List => NestingMode::List,
                            Nesting::Set => NestingMode::Set,
                            Nesting::Map => NestingMode::Map,
                        } as i32,
                        min_items: b.min_items,
                        max_items: b.max_items,
                    })
                    .collect(),
                description: block.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: block.deprecated,
                ..Default::default()
            }
        }

        fn schema_out(schema: &Schema) -> pb::Schema {
            pb::Schema { version: schema.version, block: Some(block_out(&schema.block, schema.version)) }
        }

        fn identity_schema_out(schema: &IdentitySchema) -> pb::ResourceIdentitySchema {
            pb::ResourceIdentitySchema {
                version: schema.version,
                identity_attributes: schema
                    .attributes
                    .iter()
                    .map(|a| pb::resource_identity_schema::IdentityAttribute {
                        name: a.name.clone(),
                        r#type: a.ty.to_json_bytes(),
                        required_for_import: a.required_for_import,
                        optional_for_import: a.optional_for_import,
                        description: a.description.clone(),
                    })
                    .collect(),
            }
        }

        fn capabilities_out(c: p::ServerCapabilities) -> pb::ServerCapabilities {
            pb::ServerCapabilities {
                plan_destroy: c.plan_destroy,
                get_provider_schema_optional: c.get_provider_schema_optional,
                move_resource_state: c.move_resource_state,
                generate_resource_config: c.generate_resource_config,
            }
        }

        fn function_out(f: &p::FunctionSchema) -> pb::Function {
            pb::Function {
                parameters: f
                    .parameters
                    .iter()
                    .map(|a| pb::function::Parameter {
                        name: a.name.clone(),
                        r#type: a.ty.to_json_bytes(),
                        allow_null_value: false,
                        allow_unknown_values: false,
                        description: a.description.clone(),
                        description_kind: pb::StringKind::Markdown as i32,
                    })
                    .collect(),
                variadic_parameter: None,
                r#return: Some(pb::function::Return { r#type: f.returns.to_json_bytes() }),
                summary: f.summary.clone(),
                description: f.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecation_message: String::new(),
            }
        }

        fn functions_out(s: &p::ProviderSchemaResponse) -> std::collections::HashMap<String, pb::Function> {
            s.functions.iter().map(|(k, v)| (k.clone(), function_out(v))).collect()
        }

        fn provider_schema_out(s: &p::ProviderSchemaResponse) -> pb::get_provider_schema::Response {
            pb::get_provider_schema::Response {
                provider: s.provider.as_ref().map(schema_out),
                resource_schemas: s.resources.iter().map(|(k, v)| (k.clone(), schema_out(v))).collect(),
                diagnostics: diagnostics_out(s.diagnostics.clone()),
                server_capabilities: Some(capabilities_out(s.capabilities)),
                functions: functions_out(s),
                list_resource_schemas: s
                    .list_resources
                    .iter()
                    .map(|(k, v)| (k.clone(), schema_out(v)))
                    .collect(),
                ..Default::default()
            }
        }

        #[tonic::async_trait]
        impl $service for Adapter {
            $($version_specific)*

            async fn get_metadata(
                &self,
                _request: Request<pb::get_metadata::Request>,
            ) -> Result<Response<pb::get_metadata::Response>, Status> {
                let s = self.server.provider_schema();
                Ok(Response::new(pb::get_metadata::Response {
                    server_capabilities: Some(capabilities_out(s.capabilities)),
                    resources: s
                        .resources
                        .keys()
                        .map(|name| pb::get_metadata::ResourceMetadata { type_name: name.clone() })
                        .collect(),
                    functions: s
                        .functions
                        .keys()
                        .map(|name| pb::get_metadata::FunctionMetadata { name: name.clone() })
                        .collect(),
                    list_resources: s
                        .list_resources
                        .keys()
                        .map(|name| pb::get_metadata::ListResourceMetadata { type_name: name.clone() })
                        .collect(),
                    ..Default::default()
                }))
            }

            async fn get_functions(
                &self,
                _request: Request<pb::get_functions::Request>,
            ) -> Result<Response<pb::get_functions::Response>, Status> {
                Ok(Response::new(pb::get_functions::Response {
                    functions: functions_out(self.server.provider_schema()),
                    diagnostics: Vec::new(),
                }))
            }

            async fn call_function(
                &self,
                request: Request<pb::call_function::Request>,
            ) -> Result<Response<pb::call_function::Response>, Status> {
                let r = request.into_inner();
                let arguments = r.arguments.into_iter().map(|a| dynamic_in(Some(a))).collect();
                let out = self.server.call_function(&r.name, arguments).await;
                Ok(Response::new(pb::call_function::Response {
                    result: out.result.map(dynamic_out),
                    error: out.error.map(|e| pb::FunctionError {
                        text: e.text,
                        function_argument: e.argument.and_then(|i| i64::try_from(i).ok()),
                    }),
                }))
            }

            async fn validate_list_resource_config(
                &self,
                request: Request<pb::validate_list_resource_config::Request>,
            ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
                let r = request.into_inner();
                let diags = self.server.validate_list_resource_config(&r.type_name, dynamic_in(r.config)).await;
                Ok(Response::new(pb::validate_list_resource_config::Response {
                    diagnostics: diagnostics_out(diags),
                }))
            }

            async fn list_resource(
                &self,
                request: Request<pb::list_resource::Request>,
            ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
                let r = request.into_inner();
                let events = self
                    .server
                    .list_resource(p::ListRequest {
                        type_name: r.type_name,
                        config: dynamic_in(r.config),
                        include_resource_object: r.include_resource_object,
                        limit: r.limit,
                    })
                    .await;
                let stream = tokio_stream::wrappers::ReceiverStream::new(events).map(|e| {
                    Ok(pb::list_resource::Event {
                        identity: identity_out(e.identity),
                        display_name: e.display_name,
                        resource_object: e.resource_object.map(dynamic_out),
                        diagnostic: diagnostics_out(e.diagnostics),
                    })
                });
                Ok(Response::new(Box::pin(stream)))
            }

            async fn generate_resource_config(
                &self,
                request: Request<pb::generate_resource_config::Request>,
            ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
                let r = request.into_inner();
                let out = self.server.generate_resource_config(&r.type_name, dynamic_in(r.state)).await;
                Ok(Response::new(pb::generate_resource_config::Response {
                    config: out.config.map(dynamic_out),
                    diagnostics: diagnostics_out(out.diagnostics),
                }))
            }

            async fn get_resource_identity_schemas(
                &self,
                _request: Request<pb::get_resource_identity_schemas::Request>,
            ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
                let s = self.server.identity_schemas();
                Ok(Response::new(pb::get_resource_identity_schemas::Response {
                    identity_schemas: s
                        .identities
                        .iter()
                        .map(|(k, v)| (k.clone(), identity_schema_out(v)))
                        .collect(),
                    diagnostics: diagnostics_out(s.diagnostics.clone()),
                }))
            }

            async fn upgrade_resource_state(
                &self,
                request: Request<pb::upgrade_resource_state::Request>,
            ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
                let r = request.into_inner();
                let raw = r
                    .raw_state
                    .map(|s| p::RawState { json: s.json, flatmap: s.flatmap.into_iter().collect() })
                    .unwrap_or_default();
                let out = self.server.upgrade_resource_state(&r.type_name, r.version, raw).await;
                Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: out.upgraded_state.map(dynamic_out),
                    diagnostics: diagnostics_out(out.diagnostics),
                }))
            }

            async fn upgrade_resource_identity(
                &self,
                request: Request<pb::upgrade_resource_identity::Request>,
            ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
                let r = request.into_inner();
                let raw = r.raw_identity.map(|s| s.json).unwrap_or_default();
                let out = self.server.upgrade_resource_identity(&r.type_name, r.version, raw).await;
                Ok(Response::new(pb::upgrade_resource_identity::Response {
                    upgraded_identity: identity_out(out.upgraded_identity),
                    diagnostics: diagnostics_out(out.diagnostics),
                }))
            }

            async fn read_resource(
                &self,
                request: Request<pb::read_resource::Request>,
            ) -> Result<Response<pb::read_resource::Response>, Status> {
                let r = request.into_inner();
                let out = self
                    .server
                    .read_resource(p::ReadRequest {
                        type_name: r.type_name,
                        current_state: dynamic_in(r.current_state),
                        private: r.private,
                        current_identity: identity_in(r.current_identity),
                    })
                    .await;
                Ok(Response::new(pb::read_resource::Response {
                    new_state: out.new_state.map(dynamic_out),
                    diagnostics: diagnostics_out(out.diagnostics),
                    private: out.private,
                    new_identity: identity_out(out.new_identity),
                    ..Default::default()
                }))
            }

            async fn plan_resource_change(
                &self,
                request: Request<pb::plan_resource_change::Request>,
            ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
                let mut r = request.into_inner();
                let planned_private = planned_private_in(&mut r);
                let out = self
                    .server
                    .plan_resource_change(p::PlanRequest {
                        type_name: r.type_name,
                        prior_state: dynamic_in(r.prior_state),
                        proposed_new_state: dynamic_in(r.proposed_new_state),
                        config: dynamic_in(r.config),
                        prior_private: r.prior_private,
                        planned_private,
                        prior_identity: identity_in(r.prior_identity),
                    })
                    .await;
                Ok(Response::new(pb::plan_resource_change::Response {
                    planned_state: out.planned_state.map(dynamic_out),
                    requires_replace: out.requires_replace.iter().map(path_out).collect(),
                    planned_private: out.planned_private,
                    diagnostics: diagnostics_out(out.diagnostics),
                    planned_identity: identity_out(out.planned_identity),
                    ..Default::default()
                }))
            }

            async fn apply_resource_change(
                &self,
                request: Request<pb::apply_resource_change::Request>,
            ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
                let r = request.into_inner();
                let out = self
                    .server
                    .apply_resource_change(p::ApplyRequest {
                        type_name: r.type_name,
                        prior_state: dynamic_in(r.prior_state),
                        planned_state: dynamic_in(r.planned_state),
                        config: dynamic_in(r.config),
                        planned_private: r.planned_private,
                        planned_identity: identity_in(r.planned_identity),
                    })
                    .await;
                Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: out.new_state.map(dynamic_out),
                    private: out.private,
                    diagnostics: diagnostics_out(out.diagnostics),
                    new_identity: identity_out(out.new_identity),
                    ..Default::default()
                }))
            }

            async fn import_resource_state(
                &self,
                request: Request<pb::import_resource_state::Request>,
            ) -> Result<Response<pb::import_resource_state::Response>, Status> {
                let r = request.into_inner();
                let out = self
                    .server
                    .import_resource_state(p::ImportRequest {
                        type_name: r.type_name,
                        id: r.id,
                        identity: identity_in(r.identity),
                    })
                    .await;
                Ok(Response::new(pb::import_resource_state::Response {
                    imported_resources: out
                        .imported
                        .into_iter()
                        .map(|i| pb::import_resource_state::ImportedResource {
                            type_name: i.type_name,
                            state: Some(dynamic_out(i.state)),
                            private: i.private,
                            identity: identity_out(i.identity),
                        })
                        .collect(),
                    diagnostics: diagnostics_out(out.diagnostics),
                    ..Default::default()
                }))
            }
        }
    };
}

pub(crate) use provider_service;
