//! Coalesced describes: concurrent reads and waits for images of one cloud and region share one
//! `describe_images` call.
//!
//! Why: Terraform refreshes ten resources at a time and each ReadResource used to cost one describe call, while the
//! clouds rate-limit describes per account (the clients hold themselves to 20 calls a second). A refresh of 500
//! images therefore spent 25 s of API budget alone. The describe APIs take up to 100 ids per call, so requests that
//! arrive together are sent together: a refresh of N images at parallelism P costs about N/P calls.
//!
//! How: the first request for a (cloud, region) opens a batch and later ones join it. A batch is sent when
//! - it holds as many ids as one API call takes ([`ImageApi::describe_limit`]), or
//! - it holds as many ids as the largest recent batch of its key (everyone from the last round is back), or
//! - its window has passed: [`BatchConfig::window`] normally, [`BatchConfig::patience`] while the recent batches
//!   of the key were larger than this one (so a round that got split in two merges again instead of staying split).
//!
//! The call runs in a task of its own, so a caller that goes away (a cancelled ReadResource, a stopped wait) cannot
//! break it: that caller's answer is dropped, and ids nobody waits for any more are left out before sending.
//!
//! Every waiter receives the image whose id equals its own, or `None` when the cloud did not list it; never
//! another id's data. An error of the whole call reaches every waiter of that batch, except errors a single id can
//! cause (a malformed or unknown id: InvalidParameter, NotFound): then each id is asked alone, so only the culprit
//! sees its error and the others get their images, exactly as without batching.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Cloud, CloudError, Env, ErrorKind, Image, ImageApi};

/// What one describe of one id yields: the image, `None` when the cloud does not list it, or the error.
pub type Outcome = Result<Option<Image>, CloudError>;

/// Environment variable that turns batching off (`0`, `false`, `off`, `no`), so benchmarks can compare.
pub const ENV_ENABLED: &str = "CLOUDIMAGE_BATCH_DESCRIBE";
/// Environment variable overriding the collection window in milliseconds.
pub const ENV_WINDOW_MS: &str = "CLOUDIMAGE_BATCH_WINDOW_MS";

/// How long the last batches of a key count as "recent" when deciding how many callers to expect.
const HISTORY: Duration = Duration::from_secs(2);
/// How many recent batch sizes are remembered per key.
const HISTORY_LEN: usize = 2;

/// Tunables of the batcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Off: every describe is its own call, as before batching existed.
    pub enabled: bool,
    /// How long a batch collects when nothing suggests more callers are coming.
    pub window: Duration,
    /// How long a batch may wait for the callers the recent batches suggest are coming.
    pub patience: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_millis(25),
            patience: Duration::from_millis(100),
        }
    }
}

impl BatchConfig {
    /// The defaults, adjusted by [`ENV_ENABLED`] and [`ENV_WINDOW_MS`]; unreadable values keep the defaults.
    pub fn from_env(env: &dyn Env) -> Self {
        let mut config = Self::default();
        if let Some(v) = env.var(ENV_ENABLED) {
            if matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "off" | "no"
            ) {
                config.enabled = false;
            }
        }
        if let Some(ms) = env
            .var(ENV_WINDOW_MS)
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            // Keep it sane: a window above a second would make every read slow.
            let ms = ms.min(1000);
            config.window = Duration::from_millis(ms);
            config.patience = Duration::from_millis(ms.saturating_mul(4));
        }
        config
    }
}

/// Describes one id with its own call (the unbatched path, and the fallback when one id spoils a batch).
pub async fn describe_one(client: &dyn ImageApi, region: &str, id: &str) -> Outcome {
    let found = client.describe_images(region, &[id.to_string()]).await?;
    Ok(found.into_iter().find(|i| i.id == id))
}

type Key = (Cloud, String);

/// A batch still collecting.
struct Open {
    serial: u64,
    client: Arc<dyn ImageApi>,
    /// Waiters by id; one id may be waited for more than once (a read and a wait of the same image).
    waiters: BTreeMap<String, Vec<oneshot::Sender<Outcome>>>,
    /// The largest recent concurrency of the key when this batch opened (0: no history, rely on the window).
    expected: usize,
    /// The most ids of this key seen outstanding at once while this batch collected (its own plus those in
    /// batches still in flight): callers in flight now will usually be back for the next round.
    peak: usize,
}

impl Open {
    /// Whether the batch has everyone it is waiting for.
    fn complete(&self, limit: usize) -> bool {
        let n = self.waiters.len();
        n >= limit || (self.expected >= 2 && n >= self.expected.max(self.peak))
    }
}

#[derive(Default)]
struct Lane {
    open: Option<Open>,
    /// Ids in batches sent and not yet answered.
    in_flight: usize,
    /// When the last batches were sent and the peak concurrency each saw.
    recent: VecDeque<(Instant, usize)>,
}

impl Lane {
    /// The largest recent concurrency (0 without history).
    fn expected(&mut self, now: Instant) -> usize {
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > HISTORY)
        {
            self.recent.pop_front();
        }
        self.recent.iter().map(|(_, n)| *n).max().unwrap_or(0)
    }

    /// Closes the open batch, remembers its peak and counts its ids as in flight.
    fn take(&mut self, now: Instant) -> Option<Open> {
        let open = self.open.take()?;
        self.recent
            .push_back((now, open.peak.max(open.waiters.len())));
        while self.recent.len() > HISTORY_LEN {
            self.recent.pop_front();
        }
        self.in_flight += open.waiters.len();
        Some(open)
    }
}

struct Inner {
    config: BatchConfig,
    lanes: Mutex<HashMap<Key, Lane>>,
}

impl Inner {
    /// The lanes; a panic elsewhere while holding the lock leaves them usable (they hold no invariant a panic can
    /// break halfway).
    fn lanes(&self) -> MutexGuard<'_, HashMap<Key, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes a sent batch's ids off its lane's in-flight count when the send ends, however it ends.
struct InFlight {
    inner: Arc<Inner>,
    key: Key,
    ids: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(lane) = self.inner.lanes().get_mut(&self.key) {
            lane.in_flight = lane.in_flight.saturating_sub(self.ids);
        }
    }
}

/// The per-provider-process batcher (one per configured provider, shared by all its clients).
#[derive(Clone)]
pub struct DescribeBatcher {
    inner: Arc<Inner>,
}

impl DescribeBatcher {
    /// A batcher with the given tunables.
    pub fn new(config: BatchConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                lanes: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// One image of `region`, described together with whatever else is being described there right now.
    pub async fn describe(&self, client: Arc<dyn ImageApi>, region: &str, id: &str) -> Outcome {
        let cloud = client.cloud();
        if !self.inner.config.enabled || client.describe_limit() <= 1 {
            return describe_one(client.as_ref(), region, id).await;
        }
        let (tx, rx) = oneshot::channel();
        self.enqueue(client, region, id, tx);
        match rx.await {
            Ok(outcome) => outcome,
            // Only when the runtime shuts down under the batch; say so rather than claim the image is gone.
            Err(_) => Err(CloudError::new(
                cloud,
                ErrorKind::Transport,
                "DescribeImages",
                "BatchAbandoned",
                "the batched describe call was abandoned before it answered",
                None,
            )),
        }
    }

    fn enqueue(
        &self,
        client: Arc<dyn ImageApi>,
        region: &str,
        id: &str,
        tx: oneshot::Sender<Outcome>,
    ) {
        let config = self.inner.config;
        let limit = client.describe_limit();
        let key: Key = (client.cloud(), region.to_string());
        let now = Instant::now();
        let mut lanes = self.inner.lanes();
        let lane = lanes.entry(key.clone()).or_default();
        let mut timer = None;
        if lane.open.is_none() {
            // Only a history of real batches (2+) predicts more callers; singles say nothing.
            let expected = Some(lane.expected(now)).filter(|n| *n >= 2).unwrap_or(0);
            let wait = if expected >= 2 {
                config.patience.max(config.window)
            } else {
                config.window
            };
            let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            lane.open = Some(Open {
                serial,
                client,
                waiters: BTreeMap::new(),
                expected,
                peak: 0,
            });
            timer = Some((serial, now + wait));
        }
        let in_flight = lane.in_flight;
        let ready = match lane.open.as_mut() {
            Some(open) => {
                open.waiters.entry(id.to_string()).or_default().push(tx);
                open.peak = open.peak.max(in_flight + open.waiters.len());
                open.complete(limit)
            }
            None => false,
        };
        let batch = if ready { lane.take(now) } else { None };
        drop(lanes);
        if let Some(batch) = batch {
            tokio::spawn(send(self.inner.clone(), key.clone(), batch));
        }
        if let Some((serial, at)) = timer {
            let inner = self.inner.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                let batch = {
                    let mut lanes = inner.lanes();
                    match lanes.get_mut(&key) {
                        Some(lane) if lane.open.as_ref().is_some_and(|o| o.serial == serial) => {
                            lane.take(Instant::now())
                        }
                        _ => None,
                    }
                };
                if let Some(batch) = batch {
                    send(inner, key, batch).await;
                }
            });
        }
    }
}

/// Batch serial numbers, so a window timer only ever sends the batch it was started for.
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Errors one bad id can cause for a whole list, so the list is worth asking id by id.
fn may_be_one_ids_fault(e: &CloudError) -> bool {
    matches!(e.kind, ErrorKind::InvalidParameter | ErrorKind::NotFound)
}

/// Sends one batch and hands every waiter its answer.
async fn send(inner: Arc<Inner>, key: Key, batch: Open) {
    let in_flight = InFlight {
        ids: batch.waiters.len(),
        inner,
        key,
    };
    let region = in_flight.key.1.clone();
    let mut waiters = batch.waiters;
    // Callers that went away need no answer; do not ask the cloud for them.
    waiters.retain(|_, senders| {
        senders.retain(|s| !s.is_closed());
        !senders.is_empty()
    });
    if waiters.is_empty() {
        return;
    }
    let ids: Vec<String> = waiters.keys().cloned().collect();
    let client = batch.client;
    let result = client.describe_images(&region, &ids).await;
    match result {
        Ok(images) => {
            drop(in_flight);
            let mut by_id: HashMap<String, Image> = HashMap::with_capacity(images.len());
            for image in images {
                // Only ids asked for, first answer wins: a waiter never sees another id's data.
                if waiters.contains_key(&image.id) && !by_id.contains_key(&image.id) {
                    by_id.insert(image.id.clone(), image);
                }
            }
            for (id, senders) in waiters {
                let found = by_id.remove(&id);
                answer(senders, Ok(found));
            }
        }
        Err(e) if ids.len() > 1 && may_be_one_ids_fault(&e) => {
            tracing::debug!(error = %e, ids = ids.len(), "batched describe failed; asking id by id");
            let client = client.as_ref();
            let region = region.as_str();
            let outcomes = futures_util::future::join_all(
                ids.iter().map(|id| describe_one(client, region, id)),
            )
            .await;
            drop(in_flight);
            for ((_, senders), outcome) in waiters.into_iter().zip(outcomes) {
                answer(senders, outcome);
            }
        }
        Err(e) => {
            drop(in_flight);
            for (_, senders) in waiters {
                answer(senders, Err(e.clone()));
            }
        }
    }
}

fn answer(senders: Vec<oneshot::Sender<Outcome>>, outcome: Outcome) {
    for s in senders {
        // A closed receiver is a caller that went away; nothing to do.
        let _ = s.send(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{ImageState, ImageUpdate, ImportRequest, ImportStarted};
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A cloud that knows some images, counts describe calls, answers after `latency`, and can fail.
    #[derive(Default)]
    struct FakeApi {
        /// (region, id) pairs that exist.
        known: BTreeSet<(String, String)>,
        latency: Duration,
        calls: Mutex<Vec<(String, Vec<String>)>>,
        /// A list containing this id fails with InvalidParameter (as Tencent does for a malformed id).
        poison: Option<String>,
        /// Every call fails with this.
        fail_all: Option<CloudError>,
        /// Answer also images nobody asked for (a cloud that ignores the filter).
        extra: bool,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl FakeApi {
        fn with(images: &[(&str, &str)]) -> Self {
            Self {
                known: images
                    .iter()
                    .map(|(r, i)| (r.to_string(), i.to_string()))
                    .collect(),
                ..Self::default()
            }
        }
        fn calls(&self) -> Vec<(String, Vec<String>)> {
            self.calls.lock().unwrap().clone()
        }
    }

    fn err(kind: ErrorKind, code: &str) -> CloudError {
        CloudError::new(
            Cloud::TencentCloud,
            kind,
            "DescribeImages",
            code,
            "fake",
            None,
        )
    }

    fn image(region: &str, id: &str) -> Image {
        Image {
            id: id.to_string(),
            name: format!("{region}:{id}"),
            state: ImageState::Available,
            raw_state: "NORMAL".into(),
            ..Image::default()
        }
    }

    #[async_trait::async_trait]
    impl ImageApi for FakeApi {
        fn cloud(&self) -> Cloud {
            Cloud::TencentCloud
        }
        fn account(&self) -> String {
            String::new()
        }
        fn describe_limit(&self) -> usize {
            100
        }
        async fn import(&self, _req: &ImportRequest) -> Result<ImportStarted, CloudError> {
            unimplemented!()
        }
        async fn describe_images(
            &self,
            region: &str,
            ids: &[String],
        ) -> Result<Vec<Image>, CloudError> {
            self.calls
                .lock()
                .unwrap()
                .push((region.to_string(), ids.to_vec()));
            let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(self.latency).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if let Some(e) = &self.fail_all {
                return Err(e.clone());
            }
            if let Some(p) = &self.poison {
                if ids.contains(p) {
                    return Err(err(ErrorKind::InvalidParameter, "InvalidImageId.Malformed"));
                }
            }
            let mut out: Vec<Image> = self
                .known
                .iter()
                .filter(|(r, i)| r == region && (self.extra || ids.contains(i)))
                .map(|(r, i)| image(r, i))
                .collect();
            out.reverse();
            Ok(out)
        }
        async fn find_images_by_name(
            &self,
            _region: &str,
            _name: &str,
        ) -> Result<Vec<Image>, CloudError> {
            Ok(Vec::new())
        }
        async fn list_images(
            &self,
            _region: &str,
            _filter: &crate::cloud::ImageFilter,
            _page: usize,
        ) -> Result<crate::cloud::ListedPage, CloudError> {
            Ok(crate::cloud::ListedPage::default())
        }
        async fn update_image(
            &self,
            _region: &str,
            _id: &str,
            _update: &ImageUpdate,
        ) -> Result<(), CloudError> {
            Ok(())
        }
        async fn delete_image(&self, _region: &str, _id: &str) -> Result<(), CloudError> {
            Ok(())
        }
    }

    fn batcher() -> DescribeBatcher {
        DescribeBatcher::new(BatchConfig::default())
    }

    /// Describes every (region, id) at once and returns the outcomes in order.
    async fn all_at_once(
        b: &DescribeBatcher,
        api: &Arc<FakeApi>,
        items: &[(&str, &str)],
    ) -> Vec<Outcome> {
        let futures = items.iter().map(|(r, i)| {
            let client: Arc<dyn ImageApi> = api.clone();
            b.describe(client, r, i)
        });
        futures_util::future::join_all(futures).await
    }

    #[tokio::test(start_paused = true)]
    async fn mixed_regions_share_calls_per_region_only() {
        let api = Arc::new(FakeApi::with(&[
            ("r1", "a"),
            ("r1", "b"),
            ("r2", "a"),
            ("r2", "c"),
        ]));
        let b = batcher();
        let got = all_at_once(
            &b,
            &api,
            &[("r1", "a"), ("r2", "a"), ("r1", "b"), ("r2", "c")],
        )
        .await;
        for (outcome, (region, id)) in
            got.iter()
                .zip([("r1", "a"), ("r2", "a"), ("r1", "b"), ("r2", "c")])
        {
            let img = outcome.as_ref().unwrap().as_ref().unwrap();
            assert_eq!(img.id, id);
            assert_eq!(
                img.name,
                format!("{region}:{id}"),
                "data from the right region"
            );
        }
        let mut calls = api.calls();
        calls.sort();
        assert_eq!(
            calls,
            vec![
                ("r1".to_string(), vec!["a".to_string(), "b".to_string()]),
                ("r2".to_string(), vec!["a".to_string(), "c".to_string()]),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn missing_ids_are_not_found_only_for_themselves() {
        let api = Arc::new(FakeApi {
            extra: true,
            ..FakeApi::with(&[("r", "a"), ("r", "c"), ("r", "z")])
        });
        let b = batcher();
        let got = all_at_once(&b, &api, &[("r", "a"), ("r", "b"), ("r", "c")]).await;
        assert_eq!(got[0].as_ref().unwrap().as_ref().unwrap().id, "a");
        assert!(got[1].as_ref().unwrap().is_none(), "b is missing");
        assert_eq!(got[2].as_ref().unwrap().as_ref().unwrap().id, "c");
        assert_eq!(api.calls().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn one_bad_id_fails_only_itself() {
        let api = Arc::new(FakeApi {
            poison: Some("bad".into()),
            ..FakeApi::with(&[("r", "a"), ("r", "c")])
        });
        let b = batcher();
        let got = all_at_once(&b, &api, &[("r", "a"), ("r", "bad"), ("r", "c")]).await;
        assert_eq!(got[0].as_ref().unwrap().as_ref().unwrap().id, "a");
        assert_eq!(
            got[1].as_ref().unwrap_err().code,
            "InvalidImageId.Malformed"
        );
        assert_eq!(got[2].as_ref().unwrap().as_ref().unwrap().id, "c");
        // One batch, then one call per id.
        assert_eq!(api.calls().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_batch_error_reaches_every_waiter() {
        let api = Arc::new(FakeApi {
            fail_all: Some(err(ErrorKind::Throttled, "RequestLimitExceeded")),
            ..FakeApi::with(&[("r", "a")])
        });
        let b = batcher();
        let got = all_at_once(&b, &api, &[("r", "a"), ("r", "b"), ("r", "a")]).await;
        for outcome in &got {
            assert_eq!(outcome.as_ref().unwrap_err().code, "RequestLimitExceeded");
        }
        assert_eq!(
            api.calls().len(),
            1,
            "no per-id retry for a whole-batch error"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_that_go_away_do_not_break_the_batch() {
        let api = Arc::new(FakeApi {
            latency: Duration::from_millis(30),
            ..FakeApi::with(&[("r", "a"), ("r", "b")])
        });
        let b = batcher();
        // Gone before the batch is sent: it is left out of the call.
        let client: Arc<dyn ImageApi> = api.clone();
        let early = tokio::time::timeout(Duration::from_millis(1), b.describe(client, "r", "a"));
        let client: Arc<dyn ImageApi> = api.clone();
        let stays = b.describe(client, "r", "b");
        let (early, stays) = tokio::join!(early, stays);
        assert!(early.is_err(), "the first caller timed out");
        assert_eq!(stays.unwrap().unwrap().id, "b");
        assert_eq!(api.calls(), vec![("r".into(), vec!["b".into()])]);

        // Gone while the call is in flight: the others still get their answers.
        let client: Arc<dyn ImageApi> = api.clone();
        let task = tokio::spawn({
            let b = b.clone();
            async move { b.describe(client, "r", "a").await }
        });
        let client: Arc<dyn ImageApi> = api.clone();
        let other = tokio::spawn({
            let b = b.clone();
            async move { b.describe(client, "r", "b").await }
        });
        while api.in_flight.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        task.abort();
        assert_eq!(other.await.unwrap().unwrap().unwrap().id, "b");
        assert_eq!(api.calls().len(), 2);

        // Everyone gone: no call at all.
        let client: Arc<dyn ImageApi> = api.clone();
        let gone =
            tokio::time::timeout(Duration::from_millis(1), b.describe(client, "r", "a")).await;
        assert!(gone.is_err());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(api.calls().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn full_batches_go_at_once_and_respect_the_limit() {
        let ids: Vec<String> = (0..250).map(|i| format!("img-{i}")).collect();
        let known: Vec<(&str, &str)> = ids.iter().map(|i| ("r", i.as_str())).collect();
        let api = Arc::new(FakeApi::with(&known));
        let b = batcher();
        let started = Instant::now();
        let got = all_at_once(&b, &api, &known).await;
        assert!(got
            .iter()
            .zip(&ids)
            .all(|(o, id)| o.as_ref().unwrap().as_ref().unwrap().id == *id));
        let sizes: Vec<usize> = api.calls().iter().map(|(_, ids)| ids.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        // The two full batches did not wait; the rest waited at most the patience for more callers.
        assert!(started.elapsed() <= BatchConfig::default().patience + Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn off_means_one_call_per_describe() {
        let api = Arc::new(FakeApi::with(&[("r", "a"), ("r", "b")]));
        let b = DescribeBatcher::new(BatchConfig {
            enabled: false,
            ..BatchConfig::default()
        });
        let got = all_at_once(&b, &api, &[("r", "a"), ("r", "b"), ("r", "x")]).await;
        assert!(got[2].as_ref().unwrap().is_none());
        assert_eq!(api.calls().len(), 3);
    }

    #[test]
    fn config_from_env() {
        use crate::cloud::MapEnv;
        let env = MapEnv::from_pairs;
        assert_eq!(BatchConfig::from_env(&env(&[])), BatchConfig::default());
        assert!(!BatchConfig::from_env(&env(&[(ENV_ENABLED, "0")])).enabled);
        assert!(!BatchConfig::from_env(&env(&[(ENV_ENABLED, "off")])).enabled);
        assert!(BatchConfig::from_env(&env(&[(ENV_ENABLED, "1")])).enabled);
        let c = BatchConfig::from_env(&env(&[(ENV_WINDOW_MS, "40")]));
        assert_eq!(c.window, Duration::from_millis(40));
        assert_eq!(c.patience, Duration::from_millis(160));
        assert_eq!(
            BatchConfig::from_env(&env(&[(ENV_WINDOW_MS, "soon")])),
            BatchConfig::default()
        );
        let ens = crate::cloud::connect(
            Cloud::AliCloudEns,
            &crate::cloud::Settings::default(),
            &env(&[("ALICLOUD_ACCESS_KEY", "a"), ("ALICLOUD_SECRET_KEY", "s")]),
            &crate::cloud::http::ClientOptions::default(),
        )
        .unwrap();
        assert_eq!(ens.describe_limit(), 1);
    }

    /// Terraform's refresh: `parallelism` reads in flight, each starting when another finishes, arriving a few
    /// milliseconds apart; the cloud answers after 30 ms.
    async fn refresh(
        n: usize,
        parallelism: usize,
        config: BatchConfig,
        seed: u64,
    ) -> (usize, Vec<usize>) {
        use rand::{Rng, SeedableRng};
        let ids: Vec<String> = (0..n).map(|i| format!("img-{i:04}")).collect();
        let known: Vec<(&str, &str)> = ids.iter().map(|i| ("r", i.as_str())).collect();
        let api = Arc::new(FakeApi {
            latency: Duration::from_millis(30),
            ..FakeApi::with(&known)
        });
        let b = DescribeBatcher::new(config);
        let slots = Arc::new(tokio::sync::Semaphore::new(parallelism));
        let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)));
        let mut tasks = Vec::new();
        for id in ids {
            let (b, api, slots, rng) = (b.clone(), api.clone(), slots.clone(), rng.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.unwrap();
                // Terraform's own work between one read and the next: 0-8 ms.
                let pause = rng.lock().unwrap().random_range(0..=8u64);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                let client: Arc<dyn ImageApi> = api.clone();
                let got = b.describe(client, "r", &id).await;
                assert_eq!(got.unwrap().unwrap().id, id, "each read gets its own image");
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let sizes = api.calls().iter().map(|(_, ids)| ids.len()).collect();
        (api.calls().len(), sizes)
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_costs_at_most_one_call_per_ten_images() {
        for (n, seed) in [(10, 1), (95, 2), (200, 3), (500, 4), (500, 5)] {
            let (calls, sizes) = refresh(n, 10, BatchConfig::default(), seed).await;
            assert!(
                calls <= n.div_ceil(10),
                "{n} images took {calls} calls: {sizes:?}"
            );
        }
        let off = BatchConfig {
            enabled: false,
            ..BatchConfig::default()
        };
        assert_eq!(refresh(50, 10, off, 6).await.0, 50);
    }

    #[tokio::test(start_paused = true)]
    async fn a_split_round_merges_again() {
        // The window (5 ms) is shorter than the spread of arrivals (0-8 ms), so some rounds split; patience lets
        // the late part wait for the early part's return instead of staying out of step.
        let config = BatchConfig {
            enabled: true,
            window: Duration::from_millis(5),
            patience: Duration::from_millis(100),
        };
        let (calls, sizes) = refresh(500, 10, config, 7).await;
        assert!(calls <= 51, "{calls} calls: {sizes:?}");
    }
}
