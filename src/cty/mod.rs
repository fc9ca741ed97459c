//! The cty value model: the types and values Terraform exchanges with providers, and their wire codecs.
//!
//! Terraform encodes every configuration, plan and state value as a `DynamicValue` whose bytes only make
//! sense against a type taken from the provider's schema. This module holds that type system ([`Type`]),
//! the values ([`Value`], [`Number`], [`Refinements`]), attribute paths for diagnostics ([`Path`]) and the
//! two encodings Terraform uses: [`msgpack`] (the normal one, able to carry unknown values) and [`json`]
//! (the fallback, and the format of stored raw state).
//!
//! The wire rules follow `docs/plugin-protocol/object-wire-format.md` in hashicorp/terraform and the
//! reference implementation in zclconf/go-cty (`cty/msgpack`, `cty/json`).

mod encode;
mod error;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod types;
mod value;

pub use error::CtyError;
pub use number::Number;
pub use path::{Path, PathStep};
pub use types::Type;
pub use value::{Refinements, Value};

/// Deepest nesting of containers the codecs accept, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 512;
