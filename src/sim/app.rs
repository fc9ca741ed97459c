//! The simulator's shared state: resources, runtime settings, faults, request log, credentials
//! and the signature-nonce cache, behind short-lived locks (never held across an await).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::cloud::SimCloud;
use crate::creds::Credentials;
use crate::faults::Faults;
use crate::journal::Journal;
use crate::objects::ObjectStore;
use crate::persist;
use crate::state::Store;

/// Settings that `POST /_sim/config` may change at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RuntimeConfig {
    /// How long an import takes before the image is usable (or failed).
    pub import_seconds: f64,
    /// Delay added to every cloud API response.
    pub latency_ms: u64,
}

/// A partial update of [`RuntimeConfig`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigPatch {
    /// New import duration.
    pub import_seconds: Option<f64>,
    /// New base latency.
    pub latency_ms: Option<u64>,
}

/// Alibaba signature nonces seen recently, to reject replays (`SignatureNonceUsed`).
#[derive(Debug, Default)]
pub(crate) struct NonceCache {
    seen: HashMap<(String, String), i64>,
}

/// How long a nonce is remembered: the timestamp window on either side.
const NONCE_TTL_MS: i64 = 30 * 60 * 1000;

impl NonceCache {
    /// Records `(key_id, nonce)`; false when it was already used.
    pub(crate) fn check_and_insert(&mut self, key_id: &str, nonce: &str, now_ms: i64) -> bool {
        if self.seen.len() > 10_000 {
            self.seen.retain(|_, t| now_ms - *t < NONCE_TTL_MS);
        }
        let k = (key_id.to_string(), nonce.to_string());
        match self.seen.get(&k) {
            Some(t) if now_ms - *t < NONCE_TTL_MS => false,
            _ => {
                self.seen.insert(k, now_ms);
                true
            }
        }
    }

    /// Forgets every nonce.
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Sim {
    store: Mutex<Store>,
    config: Mutex<RuntimeConfig>,
    faults: Mutex<Faults>,
    journal: Mutex<Journal>,
    nonces: Mutex<NonceCache>,
    persist_lock: Mutex<()>,
    /// Accepted key pairs.
    pub creds: Credentials,
    /// The S3-compatible server imports read their objects from (`--object-store`), if any.
    pub objects: Option<ObjectStore>,
    state_file: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave these plain-data structures inconsistent in a
    // way that matters for a simulator, so recover rather than propagate the poison.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    /// A simulator with the given initial store, settings and credentials.
    pub(crate) fn new(
        store: Store,
        config: RuntimeConfig,
        creds: Credentials,
        state_file: Option<PathBuf>,
    ) -> Sim {
        Sim {
            store: Mutex::new(store),
            config: Mutex::new(config),
            faults: Mutex::new(Faults::default()),
            journal: Mutex::new(Journal::default()),
            nonces: Mutex::new(NonceCache::default()),
            persist_lock: Mutex::new(()),
            creds,
            objects: None,
            state_file,
        }
    }

    /// The same simulator reading imports' objects from `store`.
    pub(crate) fn with_object_store(mut self, store: Option<ObjectStore>) -> Sim {
        self.objects = store;
        self
    }

    /// Marks an image just imported from a missing object as failing (the clouds that take such an import and
    /// fail it later).
    pub(crate) fn fail_import(&self, cloud: SimCloud, region: &str, id: &str) {
        if let Some(image) = self.store().get_mut(cloud, region, id) {
            image.fails = true;
        }
        self.persist();
    }

    /// The resource store (lock briefly; call [`Sim::persist`] after changing it).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// The fault set.
    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// The request log.
    pub(crate) fn journal(&self) -> MutexGuard<'_, Journal> {
        lock(&self.journal)
    }

    /// The nonce cache.
    pub(crate) fn nonces(&self) -> MutexGuard<'_, NonceCache> {
        lock(&self.nonces)
    }

    /// Current runtime settings.
    pub(crate) fn config(&self) -> RuntimeConfig {
        lock(&self.config).clone()
    }

    /// Applies a settings patch and returns the result.
    pub(crate) fn patch_config(&self, p: ConfigPatch) -> RuntimeConfig {
        let mut c = lock(&self.config);
        if let Some(s) = p.import_seconds {
            c.import_seconds = if s.is_finite() { s.max(0.0) } else { 0.0 };
        }
        if let Some(l) = p.latency_ms {
            c.latency_ms = l;
        }
        c.clone()
    }

    /// Import duration for an import starting now, in milliseconds.
    pub(crate) fn import_ms(&self) -> i64 {
        let secs = self.config().import_seconds;
        // Bounded to a day so the conversion cannot overflow.
        (secs.clamp(0.0, 86_400.0) * 1000.0).round() as i64
    }

    /// Writes the store to `--state-file`, if configured; failures are logged, not fatal.
    pub(crate) fn persist(&self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let _guard = lock(&self.persist_lock);
        let snap = self.store().snapshot();
        if let Err(e) = persist::save(path, &snap) {
            tracing::error!("saving state: {e}");
        }
    }

    /// Logs one request to the journal and the tracing output.
    pub(crate) fn record(
        &self,
        cloud: SimCloud,
        action: &str,
        region: &str,
        outcome: &str,
        status: u16,
    ) {
        tracing::info!(%cloud, action, region, outcome, status, "request");
        self.journal().record(
            clock::iso_z(clock::now_ms()),
            cloud,
            action,
            region,
            outcome.to_string(),
            status,
        );
    }

    /// Clears images, tokens, faults, nonces and the request log (settings are kept).
    pub(crate) fn reset(&self) {
        self.store().clear();
        self.faults().set(Default::default());
        self.journal().clear();
        self.nonces().clear();
        self.persist();
    }
}

/// Constructors for unit tests of the handler modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A simulator with default credentials, instant imports and no state file.
    pub(crate) fn sim() -> Sim {
        Sim::new(
            Store::default(),
            RuntimeConfig {
                import_seconds: 0.0,
                latency_ms: 0,
            },
            Credentials::default(),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Sim {
        Sim::new(
            Store::default(),
            RuntimeConfig {
                import_seconds: 1.5,
                latency_ms: 0,
            },
            Credentials::default(),
            None,
        )
    }

    #[test]
    fn nonces_are_single_use() {
        let mut n = NonceCache::default();
        assert!(n.check_and_insert("ak", "n1", 0));
        assert!(!n.check_and_insert("ak", "n1", 1000));
        assert!(n.check_and_insert("ak2", "n1", 1000));
        assert!(n.check_and_insert("ak", "n1", NONCE_TTL_MS + 1));
    }

    #[test]
    fn config_patches() {
        let s = sim();
        assert_eq!(s.import_ms(), 1500);
        let c = s.patch_config(ConfigPatch {
            import_seconds: Some(-3.0),
            latency_ms: Some(7),
        });
        assert_eq!(c.import_seconds, 0.0);
        assert_eq!(c.latency_ms, 7);
        assert!(serde_json::from_str::<ConfigPatch>(r#"{"import_secs":1}"#).is_err());
    }

    #[test]
    fn reset_clears_log() {
        let s = sim();
        s.record(SimCloud::Ucloud, "A", "r", "ok", 200);
        assert_eq!(s.journal().view().entries.len(), 1);
        s.reset();
        assert!(s.journal().view().entries.is_empty());
    }
}
