//! The product: the `cloudimage` provider and its `cloudimage_custom_image` resource.
//!
//! This layer sees decoded values and typed requests only; the protocol lives below in `provider`, and the clouds
//! behind `crate::cloud`.

mod provider_config;

use std::sync::Arc;

use crate::provider::framework::{ConfigureRequest, Provider, Resource};
use crate::provider::schema::Schema;
use crate::provider::Diagnostics;

/// The provider Terraform talks to.
pub struct CloudImageProvider {
    configured: std::sync::RwLock<Option<crate::cty::Value>>,
}

/// Builds the product provider.
pub fn provider() -> Arc<dyn Provider> {
    Arc::new(CloudImageProvider {
        configured: std::sync::RwLock::new(None),
    })
}

#[async_trait::async_trait]
impl Provider for CloudImageProvider {
    fn schema(&self) -> Schema {
        provider_config::schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        Vec::new()
    }

    async fn configure(&self, request: ConfigureRequest) -> Diagnostics {
        if let Ok(mut slot) = self.configured.write() {
            *slot = Some(request.config);
        }
        Diagnostics::new()
    }
}
