//! The product: the `cloudimage` provider and its `cloudimage_custom_image` resource.
//!
//! This layer sees decoded values and typed requests only; the protocol lives below in `provider`, and the clouds
//! behind `crate::cloud`. It reads values into its typed model (`model`) once, and turns the backends' plain-data
//! descriptions (settings, rules) into schema and validation.

// Cloud errors carry code, message, request ID and action for diagnostics; they are built once per failed call,
// so their size is no concern (as in `cloud`).
#![allow(clippy::result_large_err)]

mod change;
mod context;
mod copies;
mod create;
mod delete;
mod diagnostics;
mod equivalence;
mod functions;
mod image;
mod journal;
mod limits;
mod marker;
pub mod model;
mod plan;
mod private;
mod prose;
mod provider_block;
mod query;
mod read;
pub mod schema;
mod shared_uploads;
mod shares;
mod source;
mod state;
mod update;
mod upload;
mod validate;
mod wait;

use std::sync::Arc;

use crate::cloud::{Env, ProcessEnv};
use crate::provider::framework::{ConfigureRequest, Provider, Resource};
use crate::provider::schema::Schema;
use crate::provider::Diagnostics;

pub use context::Clouds;

/// The provider Terraform talks to.
pub struct CloudImageProvider {
    clouds: Arc<Clouds>,
}

/// Builds the product provider, resolving credentials against the process environment.
pub fn provider() -> Arc<dyn Provider> {
    provider_with_env(Arc::new(ProcessEnv))
}

/// Builds the provider against a given environment (tests use a fixed one).
pub fn provider_with_env(env: Arc<dyn Env>) -> Arc<dyn Provider> {
    Arc::new(CloudImageProvider {
        clouds: Arc::new(Clouds::new(env)),
    })
}

#[async_trait::async_trait]
impl Provider for CloudImageProvider {
    fn schema(&self) -> Schema {
        provider_block::schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(image::CustomImage::new(self.clouds.clone()))]
    }

    fn list_resources(&self) -> Vec<Arc<dyn crate::provider::ListResource>> {
        vec![Arc::new(query::CustomImages::new(self.clouds.clone()))]
    }

    fn functions(&self) -> Vec<Arc<dyn crate::provider::Function>> {
        functions::all()
    }

    async fn validate_config(&self, config: &crate::cty::Value) -> Diagnostics {
        provider_block::validate(config)
    }

    async fn configure(&self, request: ConfigureRequest) -> Diagnostics {
        self.clouds.configure(
            provider_block::settings(&request.config),
            provider_block::blocks_with_unknowns(&request.config),
        );
        Diagnostics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_valid_for_terraform() {
        let p = provider();
        assert_eq!(p.schema().problems(), Vec::<String>::new());
        for r in p.resources() {
            assert_eq!(
                r.schema().problems(),
                Vec::<String>::new(),
                "{}",
                r.type_name()
            );
        }
    }
}
