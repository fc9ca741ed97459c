//! The provider core, in the spirit of terraform-plugin-framework's server: protocol-neutral requests in,
//! typed calls to resources, Terraform's invariants enforced on the way out.

pub mod diag;
pub mod framework;
mod functions;
pub mod invariants;
pub mod list;
pub mod plan;
pub mod protocol;
pub mod schema;
pub mod server;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use framework::{Function, ListResource, Provider, Resource};
pub use server::Server;
