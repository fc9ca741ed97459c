//! Shared HTTP plumbing: endpoint checks, the reqwest client, retry with backoff and jitter,
//! and a per-action sliding-window rate limiter.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::{Cloud, CloudError, ErrorKind};

/// Connect timeout for every cloud API call.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout for every cloud API call.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How often and how patiently calls are retried (capped exponential backoff with jitter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the first retry (doubled each time).
    pub base: Duration,
    /// Upper bound on one delay.
    pub cap: Duration,
    /// Total attempts including the first.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
            max_attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// Delay after failed attempt number `attempt` (1-based): half fixed, half random.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let full = self
            .base
            .saturating_mul(1u32 << exp)
            .min(self.cap)
            .as_millis() as u64;
        let half = full / 2;
        let jitter = if half > 0 {
            rand::rng().random_range(0..=half)
        } else {
            0
        };
        Duration::from_millis(half + jitter)
    }
}

/// Tunables for a client; tests shrink the retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Requests per second per API action (overrides the built-in per-cloud limits,
    /// e.g. Tencent `ImportImage` 10/s).
    pub rate_limits: BTreeMap<String, f64>,
    /// Requests per second for actions without an entry (`None` = unlimited).
    pub default_rate: Option<f64>,
    /// How long one request may take, answer included.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryPolicy::default(),
            rate_limits: BTreeMap::new(),
            default_rate: Some(20.0),
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

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

/// Parses an endpoint URL and refuses plain `http://` unless the host is loopback.
pub fn check_endpoint(cloud: Cloud, raw: &str) -> Result<Url, CloudError> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        CloudError::config(cloud, format!("endpoint {raw:?} is not a valid URL: {e}"))
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_url(&url) => Ok(url),
        "http" => Err(CloudError::config(
            cloud,
            format!(
                "endpoint {raw:?} uses plain http; only https is allowed except for loopback hosts (127.0.0.0/8, ::1, localhost)"
            ),
        )),
        other => Err(CloudError::config(
            cloud,
            format!("endpoint {raw:?} has unsupported scheme {other:?}; use https"),
        )),
    }
}

/// True when the URL's host is 127.0.0.0/8, ::1 or localhost.
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The `Host` header value reqwest will send for `url` (port only when not the default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Builds the shared reqwest client (rustls, timeouts).
pub fn build_http_client(cloud: Cloud, timeout: Duration) -> Result<reqwest::Client, CloudError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        // A signed call is never re-sent elsewhere: following a redirect would hand the security token (and, for
        // a 307, the whole signed request) to the Location host, and could leave https or loopback.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "terraform-provider-cloudimage/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| CloudError::config(cloud, format!("cannot build HTTP client: {e}")))
}

/// A successfully parsed API answer.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The response object (for Tencent, the inner `Response`).
    pub body: Value,
    /// The cloud's request id, when present.
    pub request_id: Option<String>,
}

/// Why a call failed, distinguishing failures after which a non-idempotent request may
/// nevertheless have been executed by the cloud.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The cloud answered with an error, or the request never left.
    Definite(CloudError),
    /// The request may have reached the cloud (timeout, 5xx, broken answer) and was not retried.
    Ambiguous(CloudError),
}

impl Failure {
    /// The underlying error.
    pub fn into_error(self) -> CloudError {
        match self {
            Failure::Definite(e) | Failure::Ambiguous(e) => e,
        }
    }
}

impl From<Failure> for CloudError {
    fn from(f: Failure) -> Self {
        f.into_error()
    }
}

/// Builds one attempt's request (fresh signature, nonce and timestamp each time).
pub type BuildFn<'a> = dyn Fn() -> Result<reqwest::RequestBuilder, CloudError> + Send + Sync + 'a;
/// Turns an HTTP answer into JSON or a classified error.
pub type ParseFn<'a> =
    dyn Fn(u16, &HeaderMap, &[u8]) -> Result<Parsed, CloudError> + Send + Sync + 'a;

/// The HTTP client, retry policy and rate limiter one cloud client uses.
#[derive(Debug)]
pub struct HttpCore {
    /// Which cloud (for errors and logs).
    pub cloud: Cloud,
    /// Shared reqwest client.
    pub client: reqwest::Client,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Per-action limiter.
    pub limiter: RateLimiter,
}

impl HttpCore {
    /// Builds the core; `builtin_limits` are the cloud's documented limits, which
    /// `options.rate_limits` may override.
    pub fn new(
        cloud: Cloud,
        options: &ClientOptions,
        builtin_limits: &[(&str, f64)],
    ) -> Result<Self, CloudError> {
        let mut limits: BTreeMap<String, f64> = builtin_limits
            .iter()
            .map(|(a, r)| (a.to_string(), *r))
            .collect();
        limits.extend(options.rate_limits.clone());
        Ok(HttpCore {
            cloud,
            client: build_http_client(cloud, options.request_timeout)?,
            retry: options.retry,
            limiter: RateLimiter::new(limits, options.default_rate),
        })
    }

    /// Sends one API call with rate limiting and retries.
    ///
    /// Throttling and never-sent (connect) failures are always retried. Server errors and
    /// failures after sending are retried only when `idempotent`; otherwise they come back as
    /// [`Failure::Ambiguous`] so the caller can look for the effect before trying again.
    pub async fn execute(
        &self,
        action: &str,
        region: &str,
        idempotent: bool,
        build: &BuildFn<'_>,
        parse: &ParseFn<'_>,
    ) -> Result<Parsed, Failure> {
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Held until the answer is read: the request reached the cloud by then.
            let turn = self.limiter.acquire(action).await;
            let rb = build().map_err(Failure::Definite)?;
            tracing::debug!(cloud = %self.cloud, action, region, attempt, "sending cloud API request");
            let outcome = match rb.send().await {
                Err(e) => {
                    let never_sent = e.is_connect();
                    let err = CloudError::transport(
                        self.cloud,
                        action,
                        format!("request failed: {}", e.without_url()),
                    );
                    Err((err, never_sent))
                }
                Ok(resp) if resp.status().is_redirection() => {
                    let to = resp
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .unwrap_or("(no Location)")
                        .to_string();
                    let err = CloudError::new(
                        self.cloud,
                        ErrorKind::Config,
                        action,
                        "Redirect",
                        format!(
                            "the endpoint {} answered HTTP {} redirecting to {to:?}; signed API calls are not \
                             followed elsewhere. Point the provider's endpoint setting at the API itself.",
                            endpoint_of(resp.url()),
                            resp.status().as_u16()
                        ),
                        None,
                    );
                    return Err(Failure::Definite(err));
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Err(e) => Err((
                            CloudError::transport(
                                self.cloud,
                                action,
                                format!("reading response failed: {}", e.without_url()),
                            ),
                            false,
                        )),
                        Ok(body) => match parse(status, &headers, &body) {
                            Ok(p) => Ok(p),
                            Err(e) => Err((e, false)),
                        },
                    }
                }
            };
            drop(turn);
            let (err, never_sent) = match outcome {
                Ok(p) => {
                    tracing::debug!(cloud = %self.cloud, action, region, attempt,
                        request_id = p.request_id.as_deref().unwrap_or("-"), "cloud API request succeeded");
                    return Ok(p);
                }
                Err(x) => x,
            };
            tracing::debug!(cloud = %self.cloud, action, region, attempt,
                code = %err.code, request_id = err.request_id.as_deref().unwrap_or("-"), "cloud API request failed");
            let retry_safe = match err.kind {
                ErrorKind::Throttled => true,
                ErrorKind::Transport if never_sent => true,
                ErrorKind::Transport | ErrorKind::Server => idempotent,
                _ => false,
            };
            if retry_safe && attempt < max {
                tokio::time::sleep(self.retry.delay(attempt)).await;
                continue;
            }
            let ambiguous = !idempotent
                && !never_sent
                && matches!(err.kind, ErrorKind::Transport | ErrorKind::Server);
            return Err(if ambiguous {
                Failure::Ambiguous(err)
            } else {
                Failure::Definite(err)
            });
        }
    }
}

/// The scheme, host and path of a URL, without its query (which may carry a signature).
fn endpoint_of(url: &Url) -> String {
    format!("{}://{}{}", url.scheme(), host_header(url), url.path())
}

/// Current UTC time as `YYYY-MM-DDThh:mm:ssZ` (Alibaba `Timestamp`).
pub fn iso8601_now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "https://api.ucloud.cn",
            "http://127.0.0.1:8080/tencentcloud",
            "http://127.9.9.9/",
            "http://[::1]:9000/x",
            "http://localhost:1/",
        ] {
            assert!(check_endpoint(Cloud::UCloud, ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.ucloud.cn",
            "http://10.0.0.1/",
            "ftp://x/",
            "not a url",
        ] {
            let e = check_endpoint(Cloud::UCloud, bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Config, "{bad}");
        }
        let e = check_endpoint(Cloud::AliCloud, "http://ecs.aliyuncs.com").unwrap_err();
        assert!(e.message.contains("plain http"));
    }

    #[test]
    fn host_header_includes_port() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = Url::parse("https://cvm.tencentcloudapi.com/").unwrap();
        assert_eq!(host_header(&u), "cvm.tencentcloudapi.com");
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for a in 1..30 {
            let d = p.delay(a);
            assert!(d <= p.cap, "{a}: {d:?}");
        }
        let d1 = p.delay(1);
        assert!(d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(200));
    }

    /// A redirect is an error naming the endpoint; the signed request (with its security token) never goes to the
    /// Location host, and nothing is retried.
    #[tokio::test]
    async fn redirects_are_refused_not_followed() {
        use crate::cloud::testutil::{fast_options, serve};
        use std::sync::Arc;
        let (elsewhere, elsewhere_log) = serve(Arc::new(|_, _| (200, "{}".into()))).await;
        let target = format!("{elsewhere}/steal");
        let (url, log) = serve(Arc::new(move |_, _| (307, target.clone()))).await;
        let settings = crate::cloud::CloudSettings {
            tencentcloud: Some(crate::cloud::TencentSettings {
                secret_id: Some("id".into()),
                secret_key: Some("key".into()),
                security_token: Some("sts-token".into()),
                endpoint: Some(format!("{url}/tencentcloud")),
                ..Default::default()
            }),
            ..Default::default()
        };
        let client = crate::cloud::client_for_with(
            Cloud::TencentCloud,
            &settings,
            &crate::cloud::MapEnv::default(),
            &fast_options(),
        )
        .unwrap();
        let e = client
            .describe_images("ap-guangzhou", &["img-1".into()])
            .await
            .unwrap_err();
        assert_eq!(e.code, "Redirect");
        assert!(e.message.contains("/tencentcloud"), "{}", e.message);
        assert!(e.message.contains("/steal"), "{}", e.message);
        assert!(!e.message.contains("sts-token"));
        assert_eq!(log.lock().unwrap().len(), 1, "not retried");
        assert!(
            elsewhere_log.lock().unwrap().is_empty(),
            "the redirect was followed"
        );
    }

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
