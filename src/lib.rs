//! cloudimage: a Terraform provider that turns a disk image in object storage into a bootable cloud image.
//!
//! Data flows one way through the modules:
//! `plugin` (go-plugin transport) -> `tfplugin` (protocol v5/v6 adapters) -> `cty` (values) ->
//! `provider` / `resource` (resource logic and state mapping) -> `cloud` (one client per API family) -> HTTP.
pub mod cloud;
