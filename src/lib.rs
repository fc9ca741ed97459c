//! cloudimage: a Terraform provider that turns a disk image in object storage into a bootable cloud image.
//!
//! Data flows one way through the modules:
//! `plugin` (go-plugin transport) -> `tfplugin` (protocol v5/v6 adapters) -> `provider` (protocol-neutral core)
//! -> `cty` (values) -> `resource` (resource logic and state mapping) -> `cloud` (one client per API family) -> HTTP.

pub mod cloud;
pub mod cty;
pub mod disk;
pub mod logging;
pub mod plugin;
pub mod provider;
pub mod resource;
pub mod signal;
pub mod tfplugin;

/// The provider this binary ships.
pub fn product_provider() -> std::sync::Arc<dyn provider::Provider> {
    resource::provider()
}
