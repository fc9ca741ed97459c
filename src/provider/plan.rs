//! The plan behaviour each attribute declares in its schema ([`PlanBehaviour`]), enforced by the core for every
//! resource: which changes need a new object, and which computed values an in-place update keeps.
//!
//! A resource answers two questions per object, because only it knows them: whether two values mean the same
//! ([`Resource::same_value`]: another spelling, or a null the remote API could not report) and whether a change
//! the schema says replaces can happen in place for this object ([`Resource::changes_in_place`]).

use crate::cty::{Path, Value};

use super::framework::{PlanRequest, Resource};
use super::schema::{Block, PlanBehaviour, RequiresReplace};

/// Every attribute and nested block of `block`, with its name and plan behaviour, in schema order.
fn members(block: &Block) -> impl Iterator<Item = (&str, PlanBehaviour)> {
    block
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a.plan))
        .chain(block.blocks.iter().map(|b| (b.type_name.as_str(), b.plan)))
}

/// The top-level members whose change needs a new object, for an update from `prior` to the configuration.
pub fn replacements(
    block: &Block,
    resource: &dyn Resource,
    request: &PlanRequest<'_>,
    prior: &Value,
) -> Vec<Path> {
    let mut out = Vec::new();
    for (name, plan) in members(block) {
        let configured = request
            .config
            .get_attr(name)
            .cloned()
            .unwrap_or(Value::Null);
        let stored = prior.get_attr(name).cloned().unwrap_or(Value::Null);
        let replaces = match plan.requires_replace {
            RequiresReplace::Never => false,
            // Computed and left out: the prior value stays.
            RequiresReplace::WhenConfigured if configured.is_null() => false,
            RequiresReplace::Always | RequiresReplace::WhenConfigured => {
                configured != stored
                    && !resource.same_value(request, name, &configured, &stored)
                    && !resource.changes_in_place(request, name)
            }
        };
        if replaces {
            out.push(Path::root().attr(name));
        }
    }
    out
}

/// For an in-place update: computed values the configuration leaves null keep their prior value, where the
/// schema says so, instead of becoming unknown.
pub fn keep_prior(block: &Block, config: &Value, prior: &Value, planned: &mut Value) {
    let Value::Object(attrs) = planned else {
        return;
    };
    for (name, plan) in members(block) {
        if !plan.keeps_prior_on_update || config.get_attr(name).is_some_and(|v| !v.is_null()) {
            continue;
        }
        if let Some(v) = prior.get_attr(name) {
            attrs.insert(name.to_string(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Type;
    use crate::provider::framework::{
        ApplyOutcome, ApplyRequest, ImportOutcome, ImportRequest, PlannedChange, ReadOutcome,
        ReadRequest,
    };
    use crate::provider::schema::{Attribute, Schema};
    use crate::provider::Diagnostics;

    /// `kind` replaces, `size` replaces when configured, `label` replaces unless `mode` is "soft", `id` is kept;
    /// "A" and "a" mean the same.
    struct Thing;

    #[async_trait::async_trait]
    impl Resource for Thing {
        fn type_name(&self) -> &'static str {
            "thing"
        }
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block {
                    attributes: vec![
                        Attribute::computed("id", Type::String, "").keeps_prior_on_update(),
                        Attribute::required("kind", Type::String, "").requires_replace(),
                        Attribute::optional_computed("size", Type::String, "").requires_replace(),
                        Attribute::optional("label", Type::String, "").requires_replace(),
                        Attribute::optional("mode", Type::String, ""),
                    ],
                    ..Block::default()
                },
            }
        }
        fn same_value(
            &self,
            _request: &PlanRequest<'_>,
            _attribute: &str,
            configured: &Value,
            prior: &Value,
        ) -> bool {
            match (configured.as_str(), prior.as_str()) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
        }
        fn changes_in_place(&self, request: &PlanRequest<'_>, attribute: &str) -> bool {
            attribute == "label"
                && request.config.get_attr("mode").and_then(Value::as_str) == Some("soft")
        }
        async fn plan(&self, _r: PlanRequest<'_>, _p: &mut PlannedChange) -> Diagnostics {
            Diagnostics::new()
        }
        async fn create(&self, _r: ApplyRequest<'_>) -> ApplyOutcome {
            ApplyOutcome::default()
        }
        async fn update(&self, _r: ApplyRequest<'_>) -> ApplyOutcome {
            ApplyOutcome::default()
        }
        async fn delete(&self, _r: ApplyRequest<'_>) -> Diagnostics {
            Diagnostics::new()
        }
        async fn read(&self, _r: ReadRequest<'_>) -> ReadOutcome {
            ReadOutcome::default()
        }
        async fn import(&self, _r: ImportRequest) -> ImportOutcome {
            ImportOutcome::default()
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    fn replaced(config: &Value, prior: &Value) -> Vec<String> {
        let request = PlanRequest {
            config,
            prior: Some(prior),
            prior_private: &[],
            planned_private: &[],
            stop: crate::signal::Signal::new(),
        };
        replacements(&Thing.schema().block, &Thing, &request, prior)
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn declared_behaviour_decides_replacement() {
        let s = Value::string;
        let prior = obj(&[
            ("id", s("x")),
            ("kind", s("A")),
            ("size", s("10")),
            ("label", s("l")),
            ("mode", Value::Null),
        ]);
        let same = obj(&[("kind", s("a")), ("size", Value::Null), ("label", s("l"))]);
        assert!(replaced(&same, &prior).is_empty());
        let changed = obj(&[("kind", s("b")), ("size", s("20")), ("label", s("m"))]);
        assert_eq!(replaced(&changed, &prior), ["kind", "size", "label"]);
        let soft = obj(&[("kind", s("A")), ("label", s("m")), ("mode", s("soft"))]);
        assert!(replaced(&soft, &prior).is_empty());
        let unknown = obj(&[("kind", Value::unknown()), ("label", s("l"))]);
        assert_eq!(replaced(&unknown, &prior), ["kind"]);
    }

    #[test]
    fn in_place_updates_keep_declared_computed_values() {
        let prior = obj(&[("id", Value::string("x")), ("size", Value::string("10"))]);
        let mut planned = obj(&[("id", Value::unknown()), ("size", Value::unknown())]);
        keep_prior(&Thing.schema().block, &Value::Null, &prior, &mut planned);
        assert_eq!(planned.get_attr("id"), Some(&Value::string("x")));
        assert_eq!(planned.get_attr("size"), Some(&Value::unknown()));
    }
}
