//! List resources and generated configuration in the core (`terraform query`, Terraform 1.14+).
//!
//! A list resource sends what it finds into a channel; the core encodes each result (identity against the
//! resource's identity type, the object against its schema) and forwards it to the stream Terraform reads. When
//! Terraform has the results it asked for it drops the stream, which closes both channels, and the list resource
//! stops at its next send.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cty::{Type, Value};
use crate::signal::Signal;

use super::diag::Diagnostic;
use super::framework::{ListRequest, ListResource, ListResult};
use super::invariants;
use super::protocol::{self as p, DynamicValue};
use super::schema::{Block, Schema};
use super::server::{decode, encode};

/// How many found objects may wait between the list resource and Terraform.
const IN_FLIGHT: usize = 64;

/// A list resource with its config type, built once.
pub(super) struct ListType {
    /// The list resource.
    pub(super) list: Arc<dyn ListResource>,
    /// Its config block's schema.
    pub(super) schema: Schema,
    /// The config block's type.
    pub(super) config_ty: Type,
}

impl ListType {
    /// A list resource's registry entry.
    pub(super) fn new(list: Arc<dyn ListResource>) -> Self {
        let schema = list.config_schema();
        ListType {
            config_ty: schema.block.implied_type(),
            schema,
            list,
        }
    }
}

/// What the core needs of the managed resource type a list finds: its object type and identity type.
pub(super) struct Found {
    /// The resource's object type.
    pub(super) ty: Type,
    /// The identity type.
    pub(super) identity_ty: Type,
}

/// A stream that says only what went wrong.
pub(super) fn failed(diagnostic: Diagnostic) -> mpsc::Receiver<p::ListEvent> {
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(p::ListEvent {
        diagnostics: vec![diagnostic],
        ..Default::default()
    });
    rx
}

/// Starts listing: the list resource runs in its own task and the returned receiver yields encoded events.
pub(super) fn start(
    lt: &ListType,
    found: Found,
    req: p::ListRequest,
    stop: Signal,
) -> mpsc::Receiver<p::ListEvent> {
    let config = match decode(&req.config, &lt.config_ty, "list configuration") {
        Ok(v) => v,
        Err(d) => return failed(d),
    };
    if !config.is_wholly_known() {
        return failed(Diagnostic::error(
            "Unknown list configuration",
            "The list block's config must be known before the list runs.",
        ));
    }
    let limit = usize::try_from(req.limit.max(0)).unwrap_or(usize::MAX);
    let (events_tx, events_rx) = mpsc::channel(IN_FLIGHT);
    let (results_tx, mut results_rx) = mpsc::channel::<ListResult>(IN_FLIGHT);
    let list = lt.list.clone();
    let include = req.include_resource_object;
    tokio::spawn(async move {
        let request = ListRequest {
            config: &config,
            include_resource_object: include,
            limit,
            stop,
        };
        list.list(request, results_tx).await;
    });
    tokio::spawn(async move {
        while let Some(result) = results_rx.recv().await {
            let event = encode_result(result, &found, include);
            if events_tx.send(event).await.is_err() {
                // Terraform stopped reading: dropping `results_rx` tells the list resource.
                break;
            }
        }
    });
    events_rx
}

/// One result as Terraform reads it.
fn encode_result(result: ListResult, found: &Found, include: bool) -> p::ListEvent {
    let mut event = p::ListEvent {
        display_name: result.display_name,
        diagnostics: result.diagnostics.0,
        ..Default::default()
    };
    if let Some(identity) = result.identity {
        match encode(&identity, &found.identity_ty, "identity") {
            Ok(value) => event.identity = Some(p::IdentityData { value }),
            Err(d) => event.diagnostics.push(d),
        }
    }
    if let (true, Some(mut object)) = (include, result.resource_object) {
        invariants::replace_unknowns_with_null(&mut object);
        match encode(&object, &found.ty, "resource object") {
            Ok(dv) => event.resource_object = Some(dv),
            Err(d) => event.diagnostics.push(d),
        }
    }
    event
}

/// The configuration Terraform itself would write from a state (its `ExtractLegacyConfigFromState`): what only
/// the provider computes is left out, and so are empty optional strings and deprecated attributes. A resource
/// adjusts this default ([`super::framework::Resource::generate_config`]).
pub fn config_from_state(block: &Block, state: &Value) -> Value {
    let mut attributes: Vec<(String, Value)> = Vec::new();
    for a in &block.attributes {
        let v = state.get_attr(&a.name).cloned().unwrap_or(Value::Null);
        let keep = !a.deprecated
            && (a.required || a.optional)
            && !(a.name == "id" && a.computed)
            && v.as_str() != Some("");
        attributes.push((a.name.clone(), if keep { v } else { Value::Null }));
    }
    for b in &block.blocks {
        let v = state.get_attr(&b.type_name).cloned().unwrap_or(Value::Null);
        let v = if b.block.deprecated {
            Value::Null
        } else {
            match v {
                Value::List(items) => Value::List(
                    items
                        .iter()
                        .map(|i| config_from_state(&b.block, i))
                        .collect(),
                ),
                Value::Set(items) => Value::Set(
                    items
                        .iter()
                        .map(|i| config_from_state(&b.block, i))
                        .collect(),
                ),
                Value::Null => Value::Null,
                object => config_from_state(&b.block, &object),
            }
        };
        attributes.push((b.type_name.clone(), v));
    }
    Value::object(attributes)
}

/// GenerateResourceConfig for one resource type: the default from the state, adjusted by the resource.
pub(super) fn generate(
    resource: &dyn super::framework::Resource,
    schema: &Schema,
    ty: &Type,
    state: &DynamicValue,
) -> p::GenerateConfigResponse {
    let mut out = p::GenerateConfigResponse::default();
    let state = match decode(state, ty, "state") {
        Ok(v) => v,
        Err(d) => {
            out.diagnostics.push(d);
            return out;
        }
    };
    let default = config_from_state(&schema.block, &state);
    let generated = resource.generate_config(default, &state);
    out.diagnostics = generated.diagnostics.0;
    match encode(&generated.config, ty, "generated configuration") {
        Ok(dv) => out.config = Some(dv),
        Err(d) => out.diagnostics.push(d),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::schema::{Attribute, NestedBlock};

    #[test]
    fn the_default_configuration_keeps_what_configuration_sets() {
        let mut deprecated = Attribute::optional("old", Type::String, "");
        deprecated.deprecated = true;
        let block = Block {
            attributes: vec![
                Attribute::optional_computed("id", Type::String, ""),
                Attribute::required("name", Type::String, ""),
                Attribute::optional("note", Type::String, ""),
                Attribute::optional_computed("region", Type::String, ""),
                Attribute::computed("status", Type::String, ""),
                deprecated,
            ],
            blocks: vec![NestedBlock::list(
                "disks",
                Block {
                    attributes: vec![
                        Attribute::optional("url", Type::String, ""),
                        Attribute::computed("size", Type::Number, ""),
                    ],
                    ..Block::default()
                },
                4,
            )],
            ..Block::default()
        };
        let state = Value::object([
            ("id", Value::string("i-1")),
            ("name", Value::string("web")),
            ("note", Value::string("")),
            ("region", Value::string("r1")),
            ("status", Value::string("available")),
            ("old", Value::string("x")),
            (
                "disks",
                Value::List(vec![Value::object([
                    ("url", Value::string("u")),
                    ("size", Value::string("9")),
                ])]),
            ),
        ]);
        let config = config_from_state(&block, &state);
        assert_eq!(config.get_attr("id"), Some(&Value::Null));
        assert_eq!(config.get_attr("name"), Some(&Value::string("web")));
        assert_eq!(config.get_attr("note"), Some(&Value::Null));
        assert_eq!(config.get_attr("region"), Some(&Value::string("r1")));
        assert_eq!(config.get_attr("status"), Some(&Value::Null));
        assert_eq!(config.get_attr("old"), Some(&Value::Null));
        let disk = &config.get_attr("disks").and_then(Value::as_list).unwrap()[0];
        assert_eq!(disk.get_attr("url"), Some(&Value::string("u")));
        assert_eq!(disk.get_attr("size"), Some(&Value::Null));
    }
}
