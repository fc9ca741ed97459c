//! Schemas in protocol-neutral form: what a provider or resource accepts, and the cty type that implies.
//!
//! The same structures are rendered into protocol 5 and 6 schema messages by the adapters, decoded values are checked
//! against them, and the documentation generator reads their descriptions: one source of truth.

use std::collections::BTreeMap;

use crate::cty::Type;

/// A versioned schema of a provider configuration, a resource, or a resource identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Bumped when stored state needs upgrading.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A configuration block: attributes and nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// The block's attributes, in display order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks, in display order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description shown in docs.
    pub description: String,
    /// Whether Terraform should warn when the block is used.
    pub deprecated: bool,
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The name in configuration.
    pub name: String,
    /// Its cty type.
    pub ty: Type,
    /// Markdown description shown in docs and by editors.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (when also optional: when not configured).
    pub computed: bool,
    /// Hidden in plan output and logs.
    pub sensitive: bool,
    /// Warn on use.
    pub deprecated: bool,
    /// How a change of it is planned for an object that exists; the core enforces it (see `super::plan`).
    pub plan: PlanBehaviour,
}

/// Whether a change of an attribute needs a new object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequiresReplace {
    /// Changes in place.
    #[default]
    Never,
    /// A configured value that differs from the prior one means a new object, unless the resource says the two
    /// mean the same ([`crate::provider::Resource::same_value`]) or that this object can change it in place
    /// ([`crate::provider::Resource::changes_in_place`]).
    Always,
    /// As `Always`, but only when configured: a computed value the configuration leaves null stays as it is.
    WhenConfigured,
}

/// How the core plans an attribute of an object that already exists, declared on the attribute (in the spirit of
/// terraform-plugin-framework's plan modifiers): no parallel lists of names in the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanBehaviour {
    /// Whether a change needs a new object.
    pub requires_replace: RequiresReplace,
    /// A computed value the configuration leaves null keeps its prior value through an in-place update instead of
    /// becoming unknown (the framework's `UseStateForUnknown`).
    pub keeps_prior_on_update: bool,
    /// The remote API cannot report it: only configuration gives it, so an imported object has it null until
    /// configuration fills it in (the resource tells such a null from a real one, see `same_value`).
    pub not_reported: bool,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            plan: PlanBehaviour::default(),
        }
    }

    /// An attribute the configuration must set.
    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Self {
            required: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set.
    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// An attribute the configuration may set and the provider fills in otherwise.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Self {
            optional: true,
            computed: true,
            ..Self::new(name, ty, description)
        }
    }

    /// Marks the attribute sensitive (secrets).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// A change needs a new object ([`RequiresReplace::WhenConfigured`] for a computed attribute).
    pub fn requires_replace(mut self) -> Self {
        self.plan.requires_replace = if self.computed {
            RequiresReplace::WhenConfigured
        } else {
            RequiresReplace::Always
        };
        self
    }

    /// An in-place update keeps the prior value when configuration leaves it null.
    pub fn keeps_prior_on_update(mut self) -> Self {
        self.plan.keeps_prior_on_update = true;
        self
    }

    /// The remote API cannot report it back.
    pub fn not_reported(mut self) -> Self {
        self.plan.not_reported = true;
        self
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; null when absent.
    Single,
    /// Exactly one object; absent means all attributes null.
    Group,
    /// An ordered list.
    List,
    /// An unordered set.
    Set,
    /// A map keyed by the block label.
    Map,
}

/// A block nested in another.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// The block type name in configuration.
    pub type_name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Fewest allowed (List/Set).
    pub min_items: i64,
    /// Most allowed (List/Set); 0 means no limit.
    pub max_items: i64,
    /// How a change of the whole block is planned (see [`PlanBehaviour`]).
    pub plan: PlanBehaviour,
}

impl NestedBlock {
    /// A block that appears at most once.
    pub fn single(type_name: &str, block: Block) -> Self {
        Self {
            type_name: type_name.to_string(),
            block,
            nesting: Nesting::Single,
            min_items: 0,
            max_items: 0,
            plan: PlanBehaviour::default(),
        }
    }

    /// An ordered list of up to `max_items` blocks (0: no limit).
    pub fn list(type_name: &str, block: Block, max_items: i64) -> Self {
        Self {
            nesting: Nesting::List,
            max_items,
            ..Self::single(type_name, block)
        }
    }

    /// An unordered set of up to `max_items` blocks (0: no limit): a block's place means nothing, two equal blocks
    /// are one.
    pub fn set(type_name: &str, block: Block, max_items: i64) -> Self {
        Self {
            nesting: Nesting::Set,
            max_items,
            ..Self::single(type_name, block)
        }
    }

    /// Any change of the blocks needs a new object.
    pub fn requires_replace(mut self) -> Self {
        self.plan.requires_replace = RequiresReplace::Always;
        self
    }

    /// The remote API cannot report the blocks back.
    pub fn not_reported(mut self) -> Self {
        self.plan.not_reported = true;
        self
    }
}

impl Block {
    /// The cty object type that values of this block have.
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.implied_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
                Nesting::Map => Type::Map(Box::new(inner)),
            };
            attrs.insert(b.type_name.clone(), ty);
        }
        Type::Object {
            attrs,
            optional: Default::default(),
        }
    }

    /// The attribute called `name`, if any.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block called `name`, if any.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }
}

/// The schema of a resource's identity: the few attributes that name one remote object (Terraform 1.12+).
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySchema {
    /// Bumped when stored identities need upgrading.
    pub version: i64,
    /// The identity attributes.
    pub attributes: Vec<IdentityAttribute>,
}

/// One identity attribute; identities hold only primitive values.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityAttribute {
    /// The name.
    pub name: String,
    /// Its cty type.
    pub ty: Type,
    /// Whether an `import { identity = {...} }` must give it.
    pub required_for_import: bool,
    /// Whether it may be left out of an import.
    pub optional_for_import: bool,
    /// Description for docs.
    pub description: String,
}

impl IdentitySchema {
    /// The cty object type of identity values.
    pub fn implied_type(&self) -> Type {
        Type::object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        )
    }
}

impl Schema {
    /// Problems Terraform would reject the schema for ("invalid schema ... which is a bug in the provider"),
    /// found before Terraform does: attribute flags, names and nesting limits.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.block.problems_at("", &mut out);
        out
    }
}

impl Block {
    fn problems_at(&self, at: &str, out: &mut Vec<String>) {
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
        };
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.attributes {
            let path = format!("{at}{}", a.name);
            if !valid_name(&a.name) {
                out.push(format!("{path}: invalid attribute name"));
            }
            if !seen.insert(a.name.as_str()) {
                out.push(format!("{path}: defined twice"));
            }
            match (a.required, a.optional, a.computed) {
                (true, false, false) | (false, true, _) | (false, false, true) => {}
                _ => out.push(format!("{path}: must be exactly one of required, optional, computed (or optional+computed)")),
            }
        }
        for b in &self.blocks {
            let path = format!("{at}{}", b.type_name);
            if !valid_name(&b.type_name) {
                out.push(format!("{path}: invalid block name"));
            }
            if !seen.insert(b.type_name.as_str()) {
                out.push(format!("{path}: defined twice"));
            }
            match b.nesting {
                Nesting::Single | Nesting::Group if b.min_items != 0 || b.max_items != 0 => out
                    .push(format!(
                        "{path}: single and group blocks take no min_items/max_items"
                    )),
                Nesting::List | Nesting::Set if b.max_items != 0 && b.min_items > b.max_items => {
                    out.push(format!("{path}: min_items exceeds max_items"))
                }
                _ => {}
            }
            b.block.problems_at(&format!("{path}."), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_terraform_rejects() {
        let schema = Schema {
            version: 0,
            block: Block {
                attributes: vec![
                    Attribute::required("Bad-Name", Type::String, ""),
                    Attribute {
                        required: true,
                        optional: true,
                        ..Attribute::optional("both", Type::String, "")
                    },
                ],
                blocks: vec![NestedBlock {
                    max_items: 1,
                    ..NestedBlock::single("timeouts", Block::default())
                }],
                ..Block::default()
            },
        };
        let problems = schema.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].starts_with("timeouts"));
    }
}
