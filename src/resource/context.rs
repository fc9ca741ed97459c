//! The provider's view of the clouds after ConfigureProvider: settings, one client per cloud made on first use,
//! and the describe path every read and wait goes through (batched per cloud and region, see
//! `crate::cloud::batch`).
//!
//! Nothing here touches the network or the file system before the first resource call: `new` only reads two
//! environment variables, and credentials (which may come from CLI profile files) are resolved when a client is
//! first needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::cloud::batch::{BatchConfig, DescribeBatcher};
use crate::cloud::http::ClientOptions;
use crate::cloud::{self, Cloud, CloudError, ConfigError, Env, Image, ImageApi, Settings};

/// The configured clouds of one provider process.
pub struct Clouds {
    settings: RwLock<Option<Settings>>,
    /// Provider-block attributes Terraform could not give yet (they depend on resources not yet applied), as
    /// (block, attribute).
    pending: RwLock<Vec<(String, String)>>,
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
            pending: RwLock::new(Vec::new()),
            clients: Mutex::new(HashMap::new()),
            env,
            batcher,
        }
    }

    /// Stores the provider block's settings, and what it could not give yet; clients are made on first use.
    pub fn configure(&self, settings: Settings, pending: Vec<(String, String)>) {
        if let Ok(mut slot) = self.settings.write() {
            *slot = Some(settings);
        }
        if let Ok(mut slot) = self.pending.write() {
            *slot = pending;
        }
        if let Ok(mut clients) = self.clients.lock() {
            clients.clear();
        }
    }

    fn settings(&self) -> Settings {
        self.settings
            .read()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default()
    }

    /// Refuses to call a cloud whose provider block still has unknown values: treating them as unset would send
    /// requests (with credentials) to the cloud's default public endpoint.
    fn settings_known(&self, cloud: Cloud) -> Result<(), ConfigError> {
        let block = cloud.backend().block().name;
        let pending: Vec<String> = self
            .pending
            .read()
            .map(|v| {
                v.iter()
                    .filter(|(b, _)| b == block)
                    .map(|(_, a)| a.clone())
                    .collect()
            })
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(());
        }
        Err(ConfigError::new(
            cloud,
            format!(
                "the provider's `{block}` block has values that are not known yet ({}); they depend on resources \
                 that are not applied. Apply those first (e.g. with -target), or set the values directly.",
                pending.join(", ")
            ),
        ))
    }

    /// The client for `cloud`, made once. A configuration error says which attributes or variables to set.
    ///
    /// Made under the lock: the first calls of a refresh arrive together, and each client has its own rate limiter,
    /// so clients made side by side would each spend the cloud's whole per-second budget (throttled answers).
    pub fn client(&self, cloud: Cloud) -> Result<Arc<dyn ImageApi>, ConfigError> {
        self.settings_known(cloud)?;
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&cloud) {
            return Ok(c.clone());
        }
        let client = cloud::connect(
            cloud,
            &self.settings(),
            self.env.as_ref(),
            &ClientOptions::default(),
        )?;
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
        self.batcher.describe(client, region, id).await
    }
}
