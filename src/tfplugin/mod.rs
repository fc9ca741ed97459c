//! Protocol adapters: Terraform plugin protocol 5 and 6 onto one protocol-neutral core.
//!
//! Each version has its own generated gRPC code and its own small adapter; both call the same
//! [`ProtocolServer`](crate::provider::protocol::ProtocolServer), so nothing below this layer knows which version
//! Terraform spoke.

mod adapter;
pub mod v5;
pub mod v6;

use std::sync::Arc;

use tonic::service::Routes;

use crate::provider::protocol::ProtocolServer;

/// Both protocol versions over one provider core, ready for the go-plugin transport.
pub struct Protocols {
    server: Arc<dyn ProtocolServer>,
}

impl Protocols {
    /// Serves `server` over whichever protocol version the host negotiates.
    pub fn new(server: Arc<dyn ProtocolServer>) -> Self {
        Self { server }
    }
}

impl crate::plugin::PluginProtocols for Protocols {
    fn versions(&self) -> Vec<u32> {
        vec![5, 6]
    }

    fn routes(&self, version: u32) -> Routes {
        if version == 5 {
            Routes::new(v5::service(self.server.clone()))
        } else {
            Routes::new(v6::service(self.server.clone()))
        }
    }
}
