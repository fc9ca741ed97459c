//! The client-side rate limiter: every API action held to its per-second limit in every rolling second, the way
//! the clouds count, and below that ceiling an adaptive rate that slows down when the cloud throttles and grows back
//! when it stops (`window`), shared by the provider processes of one user (`shared`), honouring the cloud's own
//! hints (`hints`).

mod hints;
mod shared;
mod window;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

pub(crate) use hints::wait_after;
use shared::SharedDir;
use window::{Take, Window};

/// While every turn of a shared key is held by a request still waiting for its answer (possibly in another
/// process, which cannot wake this one), look again this often.
const SHARED_POLL: Duration = Duration::from_millis(20);

/// The state one key's turns come from: this process's memory, or the file every process of the user shares.
#[derive(Debug)]
struct Shared {
    dir: SharedDir,
    /// Names the account (cloud, endpoint, key id) in every shared key: one quota, one budget.
    account: String,
}

/// One key (region and action) of one limiter.
#[derive(Debug)]
struct Key {
    /// `region action`, the rest of the shared file's key.
    name: String,
    /// Waiters queue here, first come first served; the one holding it waits for a turn.
    queue: tokio::sync::Mutex<()>,
    /// The state when it is not shared (or the shared file cannot be used).
    local: Mutex<Window>,
    /// Start of the local clock.
    base: tokio::time::Instant,
    /// An answer came in: a turn may be coming back.
    answered: Notify,
}

impl Key {
    fn local_now(&self) -> u64 {
        nanos(tokio::time::Instant::now().saturating_duration_since(self.base))
    }

    fn with_local<R>(&self, f: impl FnOnce(&mut Window, u64) -> R) -> R {
        let now = self.local_now();
        let mut w = self.local.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut w, now)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Holds every API action to its limit in every rolling second, the way clouds count, and adapts below it.
///
/// Per key (region and action; with shared state also cloud and account), at most `floor(rate)` requests hold a
/// turn, and a turn is given back one window (a second, 2% margin) after its request was answered. A request
/// reaches the cloud between taking its turn and its answer, so any two requests `rate` turns apart reach the cloud
/// more than a second apart, whatever the network and scheduling delays: no rolling second sees more than the rate.
/// Up to the rate may leave at once, which matters: a token bucket that refills at the limit after a burst lets
/// twice the limit through in some seconds (throttled answers), and one that allows no burst spreads requests asked
/// for together over a second, which kept the image waits of one Terraform round from sharing their describe calls
/// (six describe calls per image instead of one, issue 13). Turns are handed out first come, first served.
///
/// The rate is the configured limit (the ceiling) until the cloud throttles: then it follows a CUBIC rule after
/// botocore's (`retries/adaptive.py`), set from the goodput: 0.9x the rate the cloud took from this client lately
/// at each throttle, CUBIC growth back to that plateau, a hold there before growing past it (longer for a larger
/// share), at most twice the measured rate, and back at the ceiling once the curve reaches it. A cloud's quota is
/// per account, so parallel provider processes of one user (several workspaces in one CI job) share one state
/// file per key ([`shared`]); without it (machines that share an account but no disk) each process converges to
/// its share by the adaptive rule alone: the goodput is that share as the cloud counted it (see
/// `window::Window::throttled`).
pub struct RateLimiter {
    limits: BTreeMap<String, f64>,
    default_rate: Option<f64>,
    keys: Mutex<HashMap<(String, String), Arc<Key>>>,
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("default_rate", &self.default_rate)
            .field("shared", &self.shared.as_ref().map(|s| &s.dir))
            .finish()
    }
}

/// How a request that held a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, not with throttling; the cloud may still ask for a pause (`wait`, from its headers).
    Answered {
        /// Send nothing more on this key for this long.
        wait: Option<Duration>,
    },
    /// Answered with the cloud's throttling error.
    Throttled {
        /// The cloud's own hint, if it gave one.
        wait: Option<Duration>,
    },
}

/// A turn to send one request; hold it until the answer is in (or the request is abandoned), then
/// [`Turn::finish`] it. Dropping it gives the turn back as answered at that moment, adapting nothing.
#[derive(Debug)]
pub struct Turn {
    inner: Option<Held>,
}

#[derive(Debug)]
struct Held {
    key: Arc<Key>,
    id: u64,
    ceiling: f64,
    /// When it was taken, on the clock of the state it came from.
    sent: u64,
    /// From the shared file (else local memory).
    shared: Option<Arc<Shared>>,
}

impl Held {
    /// Records the end of the turn in the state it came from, and wakes the key's next waiter.
    fn settle(self, outcome: Option<Outcome>) -> Option<tokio::task::JoinHandle<()>> {
        let Held {
            key,
            id,
            ceiling,
            sent,
            shared,
        } = self;
        let apply = move |w: &mut Window, now: u64| {
            w.release(id, now);
            let wait = match outcome {
                None => None,
                Some(Outcome::Answered { wait }) => {
                    w.answered(now, ceiling);
                    wait
                }
                Some(Outcome::Throttled { wait }) => {
                    let before = w.rate(ceiling);
                    w.throttled(now, id, sent, ceiling);
                    let after = w.rate(ceiling);
                    if after < before {
                        tracing::debug!(
                            from = before,
                            to = after,
                            "throttled: sending slower on this action"
                        );
                    }
                    wait
                }
            };
            if let Some(wait) = wait {
                w.hold(now.saturating_add(nanos(wait)));
            }
        };
        match shared {
            None => {
                key.with_local(apply);
                key.answered.notify_one();
                None
            }
            Some(shared) => {
                let name = format!("{} {}", shared.account, key.name);
                let work = move || {
                    if let Err(e) = shared.dir.with(&name, ceiling, apply) {
                        tracing::debug!(error = %e, "pacing state not written");
                    }
                    key.answered.notify_one();
                };
                match tokio::runtime::Handle::try_current() {
                    Ok(rt) => Some(rt.spawn_blocking(work)),
                    Err(_) => {
                        work();
                        None
                    }
                }
            }
        }
    }
}

impl Turn {
    /// Records how the request ended: a throttled answer slows this key down, others let it grow back, and the
    /// cloud's hints hold every turn of the key until they pass.
    pub async fn finish(mut self, outcome: Outcome) {
        if let Some(held) = self.inner.take() {
            if let Some(done) = held.settle(Some(outcome)) {
                let _ = done.await;
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(held) = self.inner.take() {
            let _ = held.settle(None);
        }
    }
}

/// A try for a shared turn on its way. The file work runs on a blocking thread and finishes even if the caller
/// stops waiting (a timeout around the call, Terraform's stop): then the turn it may have taken is forgotten as
/// soon as the try is done (no request was sent with it), instead of staying held until it is taken as lost.
struct Pending {
    handle: Option<tokio::task::JoinHandle<Result<(Take, u64), shared::SharedError>>>,
    id: u64,
    ceiling: f64,
    release: (Arc<Shared>, String),
}

type Tried = Result<Result<(Take, u64), shared::SharedError>, tokio::task::JoinError>;

impl Pending {
    async fn wait(&mut self) -> Tried {
        let Some(handle) = self.handle.as_mut() else {
            return Ok(Ok((Take::WaitForAnswer, 0)));
        };
        let out = handle.await;
        self.handle = None;
        out
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        let (id, ceiling) = (self.id, self.ceiling);
        let (shared, name) = self.release.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Ok(Ok((Take::Taken, _))) = handle.await {
                    let _ = tokio::task::spawn_blocking(move || {
                        shared.dir.with(&name, ceiling, |w, _| w.forget(id))
                    })
                    .await;
                }
            });
        }
    }
}

impl RateLimiter {
    /// A limiter with the given per-action rates and default rate, its state in this process only.
    pub fn new(limits: BTreeMap<String, f64>, default_rate: Option<f64>) -> Self {
        RateLimiter {
            limits,
            default_rate,
            keys: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Shares the state with the other provider processes of this user that call `account` (cloud, endpoint
    /// and key id: what the cloud's quota counts), in the directory [`shared::default_dir`] names; unchanged when
    /// there is none or sharing is turned off.
    pub fn shared_for(self, account: &str) -> Self {
        match shared::default_dir() {
            Some(dir) => self.shared_in(dir, account),
            None => self,
        }
    }

    fn shared_in(mut self, dir: std::path::PathBuf, account: &str) -> Self {
        self.shared = Some(Arc::new(Shared {
            dir: SharedDir::new(dir),
            account: account.to_string(),
        }));
        self
    }

    fn rate_for(&self, action: &str) -> Option<f64> {
        self.limits
            .get(action)
            .copied()
            .or(self.default_rate)
            .filter(|r| r.is_finite() && *r > 0.0)
    }

    fn key(&self, region: &str, action: &str) -> Arc<Key> {
        let mut all = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        all.entry((region.to_string(), action.to_string()))
            .or_insert_with(|| {
                Arc::new(Key {
                    name: format!("{region} {action}"),
                    queue: tokio::sync::Mutex::new(()),
                    local: Mutex::new(Window::default()),
                    base: tokio::time::Instant::now(),
                    answered: Notify::new(),
                })
            })
            .clone()
    }

    /// One try for a turn: in the shared file if there is one (and it can be used), else in memory. Returns what
    /// it found, the time on that state's clock, and whether the shared file was used.
    async fn try_take(&self, key: &Arc<Key>, ceiling: f64, id: u64) -> (Take, u64, bool) {
        let pid = std::process::id();
        if let Some(shared) = &self.shared {
            let shared = shared.clone();
            let name = format!("{} {}", shared.account, key.name);
            let release = (shared.clone(), name.clone());
            let handle = tokio::task::spawn_blocking(move || {
                shared.dir.with(&name, ceiling, |w, now| {
                    (w.try_take(now, ceiling, id, pid), now)
                })
            });
            let mut pending = Pending {
                handle: Some(handle),
                id,
                ceiling,
                release,
            };
            let tried = pending.wait().await;
            match tried {
                Ok(Ok((take, now))) => return (take, now, true),
                Ok(Err(e)) => tracing::debug!(error = %e, "pacing alone: shared state unusable"),
                Err(e) => tracing::debug!(error = %e, "pacing alone: shared state unusable"),
            }
        }
        let (take, now) = key.with_local(|w, now| {
            w.tidy(now, ceiling, |_| true);
            (w.try_take(now, ceiling, id, pid), now)
        });
        (take, now, false)
    }

    /// Waits until `action` may be sent in `region`; keep the turn until its answer is in, then
    /// [`Turn::finish`] it.
    pub async fn acquire(&self, region: &str, action: &str) -> Turn {
        let Some(ceiling) = self.rate_for(action) else {
            return Turn { inner: None };
        };
        let key = self.key(region, action);
        // The head of the queue waits for the turn; the others wait for it. Dropped when this call is (a caller
        // that gives up waiting takes no turn).
        let _head = key.queue.lock().await;
        let id: u64 = rand::random();
        loop {
            let (take, now, in_file) = self.try_take(&key, ceiling, id).await;
            let sleep =
                |until: u64| tokio::time::sleep(Duration::from_nanos(until.saturating_sub(now)));
            match take {
                Take::Taken => {
                    return Turn {
                        inner: Some(Held {
                            key: key.clone(),
                            id,
                            ceiling,
                            sent: now,
                            shared: if in_file { self.shared.clone() } else { None },
                        }),
                    }
                }
                Take::WaitUntil(until) => {
                    tokio::select! {
                        _ = sleep(until) => {}
                        _ = key.answered.notified() => {}
                    }
                }
                Take::WaitForAnswer if in_file => {
                    tokio::select! {
                        _ = tokio::time::sleep(SHARED_POLL) => {}
                        _ = key.answered.notified() => {}
                    }
                }
                Take::WaitForAnswer => key.answered.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;
    use window::WINDOW_MARGIN;

    /// One caller: waits `offset`, takes a turn, and sends a request that reaches the cloud after `to_cloud` and
    /// is answered after `latency` (>= `to_cloud`). Returns (when the turn came, when the cloud saw it), from `start`.
    async fn call(
        rl: Arc<RateLimiter>,
        action: &'static str,
        start: Instant,
        offset: Duration,
        to_cloud: Duration,
        latency: Duration,
    ) -> (Duration, Duration) {
        tokio::time::sleep(offset).await;
        let turn = rl.acquire("r", action).await;
        let sent = start.elapsed();
        tokio::time::sleep(latency).await;
        drop(turn);
        (sent, sent + to_cloud)
    }

    fn limiter(action: &str, rate: f64) -> Arc<RateLimiter> {
        Arc::new(RateLimiter::new(
            [(action.to_string(), rate)].into_iter().collect(),
            None,
        ))
    }

    /// The most arrivals in any rolling second (counted from each arrival, the way the clouds count).
    fn most_in_a_second(times: &[Duration]) -> usize {
        let mut times = times.to_vec();
        times.sort();
        (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| **t - times[i] < Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn requests_asked_for_together_leave_together_up_to_the_limit() {
        // 25 imports asked for at once, answered in 30 ms: ten leave at once (one Terraform round at
        // -parallelism=10, whose waits then share their describe calls), the next ten a window after the first
        // ten were answered, and so on.
        let rl = limiter("ImportImage", 10.0);
        let start = Instant::now();
        let ms = Duration::from_millis;
        let calls = (0..25).map(|_| call(rl.clone(), "ImportImage", start, ms(0), ms(10), ms(30)));
        let mut sent: Vec<Duration> = futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|(sent, _)| sent)
            .collect();
        sent.sort();
        assert!(sent[..10].iter().all(|t| t.is_zero()), "{sent:?}");
        assert_eq!(sent[10], ms(30) + Duration::from_secs_f64(WINDOW_MARGIN));
        assert_eq!(
            sent[20],
            (ms(30) + Duration::from_secs_f64(WINDOW_MARGIN)) * 2
        );

        // No limit for the action: nothing waits.
        let rl = RateLimiter::new(BTreeMap::new(), None);
        let start = Instant::now();
        for _ in 0..100 {
            let _turn = rl.acquire("r", "DescribeImages").await;
        }
        assert!(start.elapsed() < ms(1));
    }

    #[tokio::test(start_paused = true)]
    async fn no_rolling_second_at_the_cloud_exceeds_the_limit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for rate in [20.0, 10.0, 2.5, 2.0, 1.0, 0.5] {
            // 300 callers over ~6 s, in clumps; each request takes 0-300 ms to answer and reaches the cloud at any
            // point of that (network and scheduling delays differ from request to request).
            let rl = limiter("DescribeImages", rate);
            let start = Instant::now();
            let calls: Vec<_> = (0..300)
                .map(|_| {
                    let offset = Duration::from_millis(rng.random_range(0..12u64) * 500);
                    let latency = Duration::from_millis(rng.random_range(0..=300u64));
                    let to_cloud = latency.mul_f64(rng.random_range(0.0..=1.0));
                    call(
                        rl.clone(),
                        "DescribeImages",
                        start,
                        offset,
                        to_cloud,
                        latency,
                    )
                })
                .collect();
            let got = futures_util::future::join_all(calls).await;
            let arrived: Vec<Duration> = got.iter().map(|(_, at)| *at).collect();
            let allowed = rate.floor().max(1.0) as usize;
            let most = most_in_a_second(&arrived);
            assert!(most <= allowed, "{rate}/s: {most} in one second");
            if rate < 1.0 {
                let mut sorted = arrived.clone();
                sorted.sort();
                let gap = sorted.windows(2).map(|w| w[1] - w[0]).min().unwrap();
                assert!(
                    gap >= Duration::from_secs_f64(1.0 / rate),
                    "{rate}/s: gap {gap:?}"
                );
            }
            // The limit is used, not wasted: all 300 are sent about as fast as the limit and the answer times
            // allow (each turn comes back a window after an answer of at most 300 ms).
            let last = got.iter().map(|(sent, _)| *sent).max().unwrap();
            let windows = (300 / allowed) as f64;
            let turn = (allowed as f64 / rate).max(1.0) * WINDOW_MARGIN + 0.3;
            assert!(
                last.as_secs_f64() <= windows * turn,
                "{rate}/s: the last of 300 left after {last:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_waiting_takes_no_turn() {
        let rl = limiter("ImportImage", 1.0);
        let first = rl.acquire("r", "ImportImage").await;
        let gone =
            tokio::time::timeout(Duration::from_millis(10), rl.acquire("r", "ImportImage")).await;
        assert!(gone.is_err(), "only one turn a second");
        let start = Instant::now();
        drop(first);
        let _next = rl.acquire("r", "ImportImage").await;
        assert_eq!(start.elapsed(), Duration::from_secs_f64(WINDOW_MARGIN));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_answer_slows_the_action_and_a_hint_holds_it() {
        let rl = limiter("ImportImage", 10.0);
        let ms = Duration::from_millis;
        let turns: Vec<Turn> =
            futures_util::future::join_all((0..10).map(|_| rl.acquire("r", "ImportImage"))).await;
        tokio::time::sleep(ms(30)).await;
        // One of the ten was throttled (the cloud took nine).
        let mut turns = turns.into_iter();
        if let Some(t) = turns.next() {
            t.finish(Outcome::Throttled { wait: None }).await;
        }
        for t in turns {
            t.finish(Outcome::Answered { wait: None }).await;
        }
        // Eight a second now (0.9 x the nine the cloud took = 8.1), not ten, one at a time spread over the second,
        // and nothing until the throttled burst's second is over.
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..12 {
            let t = rl.acquire("r", "ImportImage").await;
            sent.push(start.elapsed());
            drop(t);
        }
        let second = Duration::from_secs_f64(WINDOW_MARGIN);
        assert!(sent[0] + ms(30) >= second, "{sent:?}");
        assert!(most_in_a_second(&sent) <= 8, "{sent:?}");
        assert!(
            sent.windows(2).all(|w| w[1] > w[0]),
            "one at a time: {sent:?}"
        );
        assert!(sent[11] - sent[0] < Duration::from_secs(2), "{sent:?}");

        // The cloud asks for a pause: nothing leaves before it is over.
        let rl = limiter("DescribeImages", 20.0);
        let t = rl.acquire("r", "DescribeImages").await;
        t.finish(Outcome::Answered {
            wait: Some(ms(700)),
        })
        .await;
        let start = Instant::now();
        let _t = rl.acquire("r", "DescribeImages").await;
        assert_eq!(start.elapsed(), ms(700));
        // Another region is another key.
        let rl2 = limiter("DescribeImages", 20.0);
        let t = rl2.acquire("r", "DescribeImages").await;
        t.finish(Outcome::Answered {
            wait: Some(ms(700)),
        })
        .await;
        let start = Instant::now();
        let _t = rl2.acquire("elsewhere", "DescribeImages").await;
        assert!(start.elapsed() < ms(1));
    }

    /// Two limiters sharing a state directory, as two provider processes on one account do: together they keep to
    /// the one limit in every rolling second.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn limiters_sharing_state_keep_to_one_budget() {
        let dir = tempfile::tempdir().unwrap();
        let make = || {
            Arc::new(
                RateLimiter::new(
                    [("ImportImage".to_string(), 4.0)].into_iter().collect(),
                    None,
                )
                .shared_in(dir.path().join("pacing"), "tencentcloud acct"),
            )
        };
        let (a, b) = (make(), make());
        let start = std::time::Instant::now();
        let calls = (0..12).map(|i| {
            let rl = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                let t = rl.acquire("r", "ImportImage").await;
                let sent = start.elapsed();
                tokio::time::sleep(Duration::from_millis(10)).await;
                t.finish(Outcome::Answered { wait: None }).await;
                sent
            }
        });
        let sent = futures_util::future::join_all(calls).await;
        let most = most_in_a_second(&sent);
        assert!(most <= 4, "{most} in one second: {sent:?}");
        // And the budget was used: 12 turns at 4 a window leave within three windows.
        let last = sent.iter().max().unwrap();
        assert!(last.as_secs_f64() < 3.0 * 1.2, "{sent:?}");
    }

    /// A caller that stops waiting while its try for a shared turn is on a blocking thread leaves no turn behind.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shared_turn_given_up_mid_try_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let rl = RateLimiter::new(
            [("ImportImage".to_string(), 1.0)].into_iter().collect(),
            None,
        )
        .shared_in(dir.path().join("pacing"), "tencentcloud acct");
        let mut got = 0;
        for _ in 0..20 {
            if tokio::time::timeout(Duration::ZERO, rl.acquire("r", "ImportImage"))
                .await
                .is_ok()
            {
                got += 1;
            }
        }
        // A try that finished before the timeout looked holds its turn for a window, as it should.
        let settle = if got > 0 { 1300 } else { 200 };
        tokio::time::sleep(Duration::from_millis(settle)).await;
        let start = std::time::Instant::now();
        let _turn = rl.acquire("r", "ImportImage").await;
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "a given-up try held the only turn: {:?}",
            start.elapsed()
        );
    }
}
