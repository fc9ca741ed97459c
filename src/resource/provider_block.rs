//! The `provider "cloudimage"` block, made from the registry: one optional nested block per provider block the
//! backends declare, every attribute optional so that environment variables and the clouds' CLI profiles can fill
//! in. The backends describe their settings as plain data (`crate::cloud::settings`); this module turns that into
//! schema, validation and the settings the clouds are configured with.

use crate::cloud::registry;
use crate::cloud::settings::{BlockSpec, Kind, SettingValue, Settings};
use crate::cty::{Path, Type, Value};
use crate::provider::schema::{Attribute, Block, NestedBlock, Schema};
use crate::provider::{Diagnostic, Diagnostics};

use super::limits;

/// The nested block of one provider block.
fn nested(spec: &BlockSpec) -> NestedBlock {
    let attributes = spec
        .settings
        .iter()
        .map(|s| {
            let ty = match s.kind {
                Kind::Flag => Type::Bool,
                _ => Type::String,
            };
            let a = Attribute::optional(s.name, ty, &s.description());
            if s.kind == Kind::Secret {
                a.sensitive()
            } else {
                a
            }
        })
        .collect();
    NestedBlock::single(
        spec.name,
        Block {
            attributes,
            description: spec.description.to_string(),
            ..Block::default()
        },
    )
}

/// The provider block's schema.
pub(super) fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Imports disk images from object storage into UCloud, SurferCloud, Tencent Cloud, \
                          Alibaba Cloud ECS and ENS, and Apsara Stack. Configure a block for each cloud you use; \
                          every attribute may instead come from that cloud's environment variables or CLI profile."
                .to_string(),
            blocks: registry::blocks().iter().map(nested).collect(),
            ..Block::default()
        },
    }
}

/// A known, non-empty string attribute of a block.
fn text(block: &Value, name: &str) -> Option<String> {
    block
        .get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A block that is present and known.
fn block<'a>(config: &'a Value, name: &str) -> Option<&'a Value> {
    config
        .get_attr(name)
        .filter(|v| !v.is_null() && v.is_known())
}

/// Checks what can be checked before configuration: literal endpoints and regions (here, where the error can
/// point at the provider block's own attribute; a resource's plan can only point at its `cloud` line), then the
/// words of choice settings.
pub(super) fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let specs = registry::blocks();
    let present = || {
        specs
            .iter()
            .filter_map(|spec| block(config, spec.name).map(|b| (spec, b)))
    };
    for (spec, b) in present() {
        for kind in [Kind::Endpoint, Kind::Region] {
            for s in spec.settings.iter().filter(|s| s.kind == kind) {
                let Some(v) = text(b, s.name) else {
                    continue;
                };
                let at = Path::root().attr(spec.name).attr(s.name);
                let problem = match kind {
                    Kind::Endpoint => crate::cloud::http::check_endpoint(&v)
                        .err()
                        .map(|m| Diagnostic::error("Invalid endpoint", m)),
                    _ => limits::region_problem(&v).map(|m| Diagnostic::error("Invalid region", m)),
                };
                if let Some(d) = problem {
                    diags.push(d.at(at));
                }
            }
        }
    }
    for (spec, b) in present() {
        for s in &spec.settings {
            let (Kind::Choice(words), Some(v)) = (s.kind, text(b, s.name)) else {
                continue;
            };
            if !words.contains(&v.as_str()) {
                let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
                diags.push(
                    Diagnostic::error(
                        format!("Invalid {}", s.name),
                        format!("Use {}; got {v:?}.", quoted.join(" or ")),
                    )
                    .at(Path::root().attr(spec.name).attr(s.name)),
                );
            }
        }
    }
    diags
}

/// The cloud layer's settings from the provider block. Unknown values count as unset: environment variables and
/// profiles fill in. Secret attributes become secrets here, and stay so up to the signer.
pub(super) fn settings(config: &Value) -> Settings {
    let mut out = Settings::default();
    for spec in registry::blocks() {
        let Some(b) = block(config, spec.name) else {
            continue;
        };
        out.add_block(spec.name);
        for s in &spec.settings {
            let value = match s.kind {
                Kind::Flag => b
                    .get_attr(s.name)
                    .filter(|v| v.is_known())
                    .and_then(Value::as_bool)
                    .map(SettingValue::Flag),
                kind => text(b, s.name).map(|t| SettingValue::of_kind(kind, t)),
            };
            if let Some(v) = value {
                out.insert(spec.name, s.name, v);
            }
        }
    }
    out
}

/// The provider blocks with a value Terraform does not know yet (it depends on something not yet applied). A cloud
/// whose block has one cannot be called: guessing "unset" would send requests to the default public endpoint.
pub(super) fn blocks_with_unknowns(config: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for spec in registry::blocks() {
        let name = spec.name;
        match config.get_attr(name) {
            Some(v) if !v.is_known() => {
                out.push((name.to_string(), "(the whole block)".to_string()))
            }
            Some(Value::Object(attrs)) => {
                for (attr, v) in attrs {
                    if !v.is_known() {
                        out.push((name.to_string(), attr.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_settings_are_reported_per_block() {
        let config = Value::object([
            (
                "tencentcloud",
                Value::object([
                    ("endpoint", Value::unknown()),
                    ("secret_id", Value::string("AKID")),
                ]),
            ),
            ("alicloud", Value::unknown()),
            ("ucloud", Value::Null),
        ]);
        assert_eq!(
            blocks_with_unknowns(&config),
            vec![
                ("tencentcloud".to_string(), "endpoint".to_string()),
                ("alicloud".to_string(), "(the whole block)".to_string()),
            ]
        );
        let s = settings(&config);
        assert_eq!(
            s.block("tencentcloud").and_then(|t| t.get("endpoint")),
            None
        );
    }

    #[test]
    fn secrets_are_secrets_from_the_block_on() {
        let config = Value::object([(
            "ucloud",
            Value::object([
                ("public_key", Value::string("pub")),
                ("private_key", Value::string("SECRETX")),
            ]),
        )]);
        let s = settings(&config);
        assert!(!format!("{s:?}").contains("SECRETX"));
        assert!(matches!(
            s.block("ucloud").and_then(|b| b.get("private_key")),
            Some(SettingValue::Secret(_))
        ));
    }
}
