//! The client-side rate limiter: every API action held to its per-second limit in every rolling second, the way
//! the clouds count.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A turn comes back this much later than one window after its request was answered: clocks of client and
/// cloud tick at slightly different rates, and clouds count in whole milliseconds.
const WINDOW_MARGIN: f64 = 1.02;

/// The turns of one API action: `per_window` requests at a time, each turn reusable one window after the request
/// that held it was answered.
struct Turns {
    semaphore: Arc<Semaphore>,
    window: Duration,
}

impl Turns {
    /// Turns for `rate` requests a second: `floor(rate)` turns (at least one), each reusable after
    /// `max(1 s, turns / rate)` (plus [`WINDOW_MARGIN`]).
    fn new(rate: f64) -> Self {
        let per_window = rate.floor().clamp(1.0, 1_000_000.0);
        let seconds = (per_window / rate).max(1.0) * WINDOW_MARGIN;
        Turns {
            // A whole number in 1..=1e6, so the cast is exact.
            semaphore: Arc::new(Semaphore::new(per_window as usize)),
            window: Duration::from_secs_f64(seconds),
        }
    }
}

/// Holds every API action to its limit in every rolling second, the way clouds count.
///
/// Per action, at most `floor(limit)` requests hold a turn, and a turn is given back one window (a second, 2%
/// margin) after its request was answered. A request reaches the cloud between taking its turn and its answer, so
/// any two requests `limit` turns apart reach the cloud more than a second apart, whatever the network and
/// scheduling delays: no rolling second sees more than the limit. Up to the limit may leave at once, which matters:
/// a token bucket that refills at the limit after a burst lets twice the limit through in some seconds (throttled
/// answers), and one that allows no burst spreads requests asked for together over a second, which kept the image
/// waits of one Terraform round from sharing their describe calls (six describe calls per image instead of one,
/// issue 13). Turns are handed out first come, first served.
pub struct RateLimiter {
    limits: BTreeMap<String, f64>,
    default_rate: Option<f64>,
    turns: Mutex<HashMap<String, Arc<Turns>>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("default_rate", &self.default_rate)
            .finish()
    }
}

/// A turn to send one request; hold it until the answer is in (or the request is abandoned). Dropping it gives
/// the turn back one window later.
#[derive(Debug)]
pub struct Turn {
    permit: Option<(OwnedSemaphorePermit, Duration)>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some((permit, window)) = self.permit.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(window).await;
                    drop(permit);
                });
            }
            // No runtime left (shutting down): nobody will ask for another turn.
            Err(_) => drop(permit),
        }
    }
}

impl RateLimiter {
    /// A limiter with the given per-action rates and default rate.
    pub fn new(limits: BTreeMap<String, f64>, default_rate: Option<f64>) -> Self {
        RateLimiter {
            limits,
            default_rate,
            turns: Mutex::new(HashMap::new()),
        }
    }

    fn rate_for(&self, action: &str) -> Option<f64> {
        self.limits
            .get(action)
            .copied()
            .or(self.default_rate)
            .filter(|r| r.is_finite() && *r > 0.0)
    }

    /// Waits until `action` may be sent; keep the turn until its answer is in.
    pub async fn acquire(&self, action: &str) -> Turn {
        let Some(rate) = self.rate_for(action) else {
            return Turn { permit: None };
        };
        let turns = {
            let mut all = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            all.entry(action.to_string())
                .or_insert_with(|| Arc::new(Turns::new(rate)))
                .clone()
        };
        // The semaphore is never closed, so this only fails if that changes; then go without a limit.
        let permit = turns.semaphore.clone().acquire_owned().await.ok();
        Turn {
            permit: permit.map(|p| (p, turns.window)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

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
        let turn = rl.acquire(action).await;
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
            let _turn = rl.acquire("DescribeImages").await;
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
        let first = rl.acquire("ImportImage").await;
        let gone = tokio::time::timeout(Duration::from_millis(10), rl.acquire("ImportImage")).await;
        assert!(gone.is_err(), "only one turn a second");
        let start = Instant::now();
        drop(first);
        let _next = rl.acquire("ImportImage").await;
        assert_eq!(start.elapsed(), Duration::from_secs_f64(WINDOW_MARGIN));
    }
}
