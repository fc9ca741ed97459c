//! The provider's view of the clouds after ConfigureProvider: settings, one client per cloud made on first use,
//! and the describe path every read and wait goes through (batched per cloud and region, see
//! `crate::cloud::batch`).
//!
//! Nothing here touches the network or the file system before the first resource call: `new` only reads two
//! environment variables, and credentials (which may come from CLI profile files) are resolved when a client is
//! first needed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use crate::cloud::batch::{BatchConfig, DescribeBatcher};
use crate::cloud::http::{ClientOptions, RetryPolicy};
use crate::cloud::storage::{self, S3Client};
use crate::cloud::{
    self, Cloud, CloudError, ConfigError, Env, Image, ImageApi, Settings, StoredObject,
};
use crate::disk::hash_cache::{self, HashCache};

use super::shared_uploads::SharedUploads;

/// What a storage client is for: a plan reads a few sectors and gives up quickly (a plan never waits on storage
/// for long); an apply uploads and deletes, with the client's full retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageUse {
    /// Plan-time reads (`inspect_source_url`).
    Plan,
    /// Uploads and deletes during apply.
    Apply,
}

/// Storage clients by cloud, use, endpoint and signing region.
type StorageClients = HashMap<(Cloud, StorageUse, String, String), S3Client>;

/// The configured clouds of one provider process.
pub struct Clouds {
    settings: RwLock<Option<Settings>>,
    /// Provider-block attributes Terraform could not give yet (they depend on resources not yet applied), as
    /// (block, attribute).
    pending: RwLock<Vec<(String, String)>>,
    clients: Mutex<HashMap<Cloud, Arc<dyn ImageApi>>>,
    storage: Mutex<StorageClients>,
    /// Storage endpoints a plan-time read could not reach in this process: later reads skip them at once instead
    /// of waiting out the same timeout once per image.
    unreachable_storage: Mutex<HashSet<String>>,
    /// Objects several images of this run upload to (see [`SharedUploads`]).
    shared_uploads: Arc<SharedUploads>,
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
            storage: Mutex::new(HashMap::new()),
            unreachable_storage: Mutex::new(HashSet::new()),
            shared_uploads: Arc::default(),
            env,
            batcher,
        }
    }

    /// The uploads of this process's images, shared where they name one object.
    pub(super) fn shared_uploads(&self) -> &Arc<SharedUploads> {
        &self.shared_uploads
    }

    /// Whether a plan-time read found `endpoint` unreachable earlier in this process.
    pub fn storage_unreachable(&self, endpoint: &str) -> bool {
        self.unreachable_storage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(endpoint)
    }

    /// Remembers that a plan-time read could not reach `endpoint` (see [`Clouds::storage_unreachable`]).
    pub fn mark_storage_unreachable(&self, endpoint: String) {
        self.unreachable_storage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(endpoint);
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
        if let Ok(mut clients) = self.storage.lock() {
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

    /// The S3-compatible client for `object` (of a resource in `region`) in `cloud`'s own object storage, made
    /// once per endpoint and signing region. A configuration error says what to set.
    pub fn storage(
        &self,
        cloud: Cloud,
        object: &StoredObject,
        region: &str,
        purpose: StorageUse,
    ) -> Result<S3Client, ConfigError> {
        self.settings_known(cloud)?;
        let config =
            cloud::registry::storage(cloud, &self.settings(), self.env.as_ref(), object, region)?;
        let key = (
            cloud,
            purpose,
            config.endpoint.to_string(),
            config.region.clone(),
        );
        let mut clients = self.storage.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let options = match purpose {
            StorageUse::Apply => storage::StorageOptions::default(),
            StorageUse::Plan => storage::StorageOptions {
                retry: RetryPolicy {
                    max_attempts: 2,
                    ..storage::StorageOptions::default().retry
                },
                connect_timeout: std::time::Duration::from_secs(5),
                request_timeout: std::time::Duration::from_secs(15),
                ..storage::StorageOptions::default()
            },
        };
        let client = S3Client::with_options(config, options)
            .map_err(|e| ConfigError::new(cloud, e.to_string()))?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Whether `cloud`'s block asks plans to read `source_url` objects.
    pub fn inspects_source_url(&self, cloud: Cloud) -> bool {
        cloud::registry::inspects_source_url(cloud, &self.settings(), self.env.as_ref())
    }

    /// The content-hash cache of the user this provider runs as (`$XDG_CACHE_HOME`, else `~/.cache`).
    pub fn hash_cache(&self) -> HashCache {
        match hash_cache::default_dir(
            self.env.var("XDG_CACHE_HOME").map(Into::into),
            self.env.home_dir().map(Into::into),
        ) {
            Some(dir) => HashCache::new(dir),
            None => HashCache::disabled(),
        }
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
