//! The provider's view of the clouds after ConfigureProvider: settings, one client per cloud made on first use,
//! and the describe path every read and wait goes through (batched per cloud and region, see `batch`).
//!
//! Nothing here touches the network or the file system before the first resource call: `new` only reads two
//! environment variables, and credentials (which may come from CLI profile files) are resolved when a client is
//! first needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::batch::{BatchConfig, DescribeBatcher};
use crate::cloud::{self, Cloud, CloudError, CloudSettings, Env, Image, ImageApi};

/// The configured clouds of one provider process.
pub struct Clouds {
    settings: RwLock<Option<CloudSettings>>,
    clients: Mutex<HashMap<Cloud, Arc<dyn ImageApi>>>,
    env: Arc<dyn Env>,
    batcher: DescribeBatcher,
}

impl Clouds {
    /// Clouds resolved against `env` (the process environment in production).
    /// Describe batching follows `CLOUDIMAGE_BATCH_DESCRIBE` / `CLOUDIMAGE_BATCH_WINDOW_MS` in `env`.
    pub fn new(env: Arc<dyn Env>) -> Self {
        let batcher = DescribeBatcher::new(BatchConfig::from_env(env.as_ref()));
        Self {
            settings: RwLock::new(None),
            clients: Mutex::new(HashMap::new()),
            env,
            batcher,
        }
    }

    /// Stores the provider block's settings; clients are made on first use.
    pub fn configure(&self, settings: CloudSettings) {
        if let Ok(mut slot) = self.settings.write() {
            *slot = Some(settings);
        }
        if let Ok(mut clients) = self.clients.lock() {
            clients.clear();
        }
    }

    fn settings(&self) -> CloudSettings {
        self.settings
            .read()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default()
    }

    /// The client for `cloud`, made once. A Config error says which attributes or variables to set.
    ///
    /// Made under the lock: the first calls of a refresh arrive together, and each client has its own rate limiter,
    /// so clients made side by side would each spend the cloud's whole per-second budget (throttled answers).
    pub fn client(&self, cloud: Cloud) -> Result<Arc<dyn ImageApi>, CloudError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&cloud) {
            return Ok(c.clone());
        }
        let client = cloud::client_for(cloud, &self.settings(), self.env.as_ref())?;
        clients.insert(cloud, client.clone());
        Ok(client)
    }

    /// The create journal of the user this provider runs as (see `journal`).
    pub fn journal(&self) -> super::journal::Journal {
        super::journal::Journal::from_env(self.env.as_ref())
    }

    /// The region a resource gets when it sets none.
    pub fn default_region(&self, cloud: Cloud) -> Option<String> {
        cloud::default_region(cloud, &self.settings(), self.env.as_ref())
    }

    /// One image, or `None` when the cloud does not list it. Concurrent calls for the same cloud and region share
    /// one describe call (reads during a refresh, polls of images imported together).
    pub async fn describe(
        &self,
        cloud: Cloud,
        region: &str,
        id: &str,
    ) -> Result<Option<Image>, CloudError> {
        let client = self.client(cloud)?;
        self.batcher.describe(client, cloud, region, id).await
    }
}
