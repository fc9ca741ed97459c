//! Terraform's rules for plans and apply results, enforced on whatever a resource returns.
//!
//! Terraform rejects a provider whose plan changes a configured value, whose apply result contradicts a known
//! planned value, or which leaves unknowns in state ("Provider produced inconsistent result"). The helpers here
//! make those outcomes impossible, or turn them into clear diagnostics, by walking the schema.

use crate::cty::{Path, Value};

use super::diag::{Diagnostic, Diagnostics};
use super::schema::{Block, Nesting};

/// Marks computed attributes that the configuration leaves null as unknown: their value may change with the
/// planned change. Only called when something actually changes, so no-op plans stay no-op.
pub fn mark_computed_unknown(block: &Block, config: &Value, planned: &mut Value) {
    let Value::Object(planned_attrs) = planned else {
        return;
    };
    for attr in block.attributes.iter().filter(|a| a.computed) {
        let configured = config.get_attr(&attr.name).is_some_and(|v| !v.is_null());
        if !configured {
            planned_attrs.insert(attr.name.clone(), Value::unknown());
        }
    }
    for nested in &block.blocks {
        let (Some(cfg), Some(plan)) = (
            config.get_attr(&nested.type_name),
            planned_attrs.get_mut(&nested.type_name),
        ) else {
            continue;
        };
        match nested.nesting {
            Nesting::Single | Nesting::Group => mark_computed_unknown(&nested.block, cfg, plan),
            Nesting::List => {
                if let (Value::List(cfg_items), Value::List(plan_items)) = (cfg, plan) {
                    for (c, p) in cfg_items.iter().zip(plan_items.iter_mut()) {
                        mark_computed_unknown(&nested.block, c, p);
                    }
                }
            }
            // Set and map elements have no stable position to pair with; none of our schemas nests computed
            // attributes there.
            Nesting::Set | Nesting::Map => {}
        }
    }
}

/// Puts configured values back into a plan: a non-computed attribute, and a computed one the configuration sets,
/// must be planned exactly as configured. Returns the paths that had to be corrected.
pub fn enforce_configured_values(block: &Block, config: &Value, planned: &mut Value) -> Vec<Path> {
    let mut corrected = Vec::new();
    enforce_at(block, config, planned, &Path::root(), &mut corrected);
    corrected
}

fn enforce_at(
    block: &Block,
    config: &Value,
    planned: &mut Value,
    at: &Path,
    corrected: &mut Vec<Path>,
) {
    if config.is_null() || !config.is_known() {
        return;
    }
    let Value::Object(planned_attrs) = planned else {
        return;
    };
    for attr in &block.attributes {
        let cfg = config.get_attr(&attr.name).cloned().unwrap_or(Value::Null);
        if attr.computed && cfg.is_null() {
            continue;
        }
        let slot = planned_attrs
            .entry(attr.name.clone())
            .or_insert(Value::Null);
        if *slot != cfg {
            *slot = cfg;
            corrected.push(at.clone().attr(&attr.name));
        }
    }
    for nested in &block.blocks {
        let cfg = config
            .get_attr(&nested.type_name)
            .cloned()
            .unwrap_or(Value::Null);
        let slot = planned_attrs
            .entry(nested.type_name.clone())
            .or_insert(Value::Null);
        let path = at.clone().attr(&nested.type_name);
        match (nested.nesting, &cfg, &mut *slot) {
            (Nesting::Single | Nesting::Group, Value::Object(_), Value::Object(_)) => {
                enforce_at(&nested.block, &cfg, slot, &path, corrected)
            }
            (Nesting::List, Value::List(cs), Value::List(ps)) if cs.len() == ps.len() => {
                for (i, (c, p)) in cs.iter().zip(ps.iter_mut()).enumerate() {
                    enforce_at(
                        &nested.block,
                        c,
                        p,
                        &path.clone().index(i as u64),
                        corrected,
                    );
                }
            }
            _ => {
                if *slot != cfg {
                    *slot = cfg;
                    corrected.push(path);
                }
            }
        }
    }
}

/// Makes an apply result consistent with its plan: configured values are taken from the plan, a computed value
/// that was known at plan time must not change (an error diagnostic if it did), and nothing may stay unknown.
pub fn settle_apply_result(
    block: &Block,
    planned: &Value,
    new_state: &mut Value,
    diags: &mut Diagnostics,
) {
    settle_at(block, planned, new_state, &Path::root(), diags);
    if replace_unknowns_with_null(new_state) && !diags.has_errors() {
        diags.push(Diagnostic::error(
            "Provider returned unknown values after apply",
            "This is a bug in terraform-provider-cloudimage: some attributes were still unknown after the \
             change was applied. They were stored as null.",
        ));
    }
}

fn settle_at(
    block: &Block,
    planned: &Value,
    new_state: &mut Value,
    at: &Path,
    diags: &mut Diagnostics,
) {
    let Value::Object(new_attrs) = new_state else {
        return;
    };
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for attr in &block.attributes {
        let plan = planned.get_attr(&attr.name).cloned().unwrap_or(Value::Null);
        let slot = new_attrs.entry(attr.name.clone()).or_insert(Value::Null);
        if !attr.computed {
            *slot = plan;
        } else if plan.is_wholly_known() && *slot != plan {
            diags.push(
                Diagnostic::error(
                    "Provider produced an inconsistent result",
                    format!(
                        "The attribute {} was planned as a known value and changed during apply. This is a bug in \
                         terraform-provider-cloudimage; please report it.",
                        at.clone().attr(&attr.name)
                    ),
                )
                .at(at.clone().attr(&attr.name)),
            );
        }
    }
    for nested in &block.blocks {
        let plan = planned
            .get_attr(&nested.type_name)
            .cloned()
            .unwrap_or(Value::Null);
        let slot = new_attrs
            .entry(nested.type_name.clone())
            .or_insert(Value::Null);
        match (nested.nesting, &plan, &mut *slot) {
            (Nesting::Single | Nesting::Group, Value::Object(_), Value::Object(_)) => settle_at(
                &nested.block,
                &plan,
                slot,
                &at.clone().attr(&nested.type_name),
                diags,
            ),
            _ => *slot = plan,
        }
    }
}

/// Top-level repeated blocks (lists and sets) that a state holds as null become empty, as Terraform's own
/// configuration holds them: a block type the stored state predates (an upgrade) or that an import could not fill
/// would otherwise differ from the configuration's empty collection, which some Terraform versions (0.14) plan as a
/// change.
pub fn empty_absent_blocks(block: &Block, state: &mut Value) {
    let Value::Object(attrs) = state else {
        return;
    };
    for b in &block.blocks {
        let empty = match b.nesting {
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            _ => continue,
        };
        match attrs.get(&b.type_name) {
            None | Some(Value::Null) => {
                attrs.insert(b.type_name.clone(), empty);
            }
            Some(_) => {}
        }
    }
}

/// Replaces every unknown, however deep, with null. Returns whether there was any.
pub fn replace_unknowns_with_null(value: &mut Value) -> bool {
    match value {
        Value::Unknown(_) => {
            *value = Value::Null;
            true
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let mut any = false;
            for v in items {
                any |= replace_unknowns_with_null(v);
            }
            any
        }
        Value::Map(entries) | Value::Object(entries) => {
            let mut any = false;
            for v in entries.values_mut() {
                any |= replace_unknowns_with_null(v);
            }
            any
        }
        Value::Dynamic(_, inner) => replace_unknowns_with_null(inner),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Type;
    use crate::provider::schema::{Attribute, NestedBlock};
    use std::collections::BTreeMap;

    fn block() -> Block {
        Block {
            attributes: vec![
                Attribute::required("name", Type::String, ""),
                Attribute::optional_computed("region", Type::String, ""),
                Attribute::computed("id", Type::String, ""),
            ],
            blocks: vec![NestedBlock::single(
                "timeouts",
                Block {
                    attributes: vec![Attribute::optional("create", Type::String, "")],
                    ..Block::default()
                },
            )],
            ..Block::default()
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn computed_without_config_becomes_unknown() {
        let config = obj(&[
            ("name", Value::string("a")),
            ("region", Value::Null),
            ("id", Value::Null),
            ("timeouts", Value::Null),
        ]);
        let mut planned = obj(&[
            ("name", Value::string("a")),
            ("region", Value::string("r1")),
            ("id", Value::string("img-1")),
            ("timeouts", Value::Null),
        ]);
        mark_computed_unknown(&block(), &config, &mut planned);
        assert!(!planned.get_attr("region").unwrap().is_known());
        assert!(!planned.get_attr("id").unwrap().is_known());
        assert_eq!(planned.get_attr("name"), Some(&Value::string("a")));
    }

    #[test]
    fn configured_values_are_restored() {
        let config = obj(&[
            ("name", Value::string("a")),
            ("region", Value::string("r1")),
            ("id", Value::Null),
            ("timeouts", obj(&[("create", Value::string("5m"))])),
        ]);
        let mut planned = obj(&[
            ("name", Value::string("changed")),
            ("region", Value::string("r2")),
            ("id", Value::unknown()),
            ("timeouts", obj(&[("create", Value::Null)])),
        ]);
        let fixed = enforce_configured_values(&block(), &config, &mut planned);
        assert_eq!(fixed.len(), 3);
        assert_eq!(planned.get_attr("name"), Some(&Value::string("a")));
        assert_eq!(planned.get_attr("region"), Some(&Value::string("r1")));
        assert!(!planned.get_attr("id").unwrap().is_known());
    }

    #[test]
    fn apply_result_is_settled() {
        let planned = obj(&[
            ("name", Value::string("a")),
            ("region", Value::string("r1")),
            ("id", Value::unknown()),
            ("timeouts", Value::Null),
        ]);
        let mut new_state = obj(&[
            ("name", Value::Null),
            ("region", Value::string("r1")),
            ("id", Value::string("img-1")),
            ("timeouts", Value::Null),
        ]);
        let mut diags = Diagnostics::new();
        settle_apply_result(&block(), &planned, &mut new_state, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(new_state.get_attr("name"), Some(&Value::string("a")));

        let mut drifted = obj(&[
            ("name", Value::string("a")),
            ("region", Value::string("r2")),
            ("id", Value::unknown()),
            ("timeouts", Value::Null),
        ]);
        let mut diags = Diagnostics::new();
        settle_apply_result(&block(), &planned, &mut drifted, &mut diags);
        assert!(diags.has_errors());
        assert_eq!(drifted.get_attr("id"), Some(&Value::Null));
    }
}
