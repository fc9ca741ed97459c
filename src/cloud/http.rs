//! Shared HTTP plumbing: endpoint checks, the reqwest client, retry with backoff and jitter around the
//! per-action rate limiter (`limiter`), and the shape of an answer that is not the API's.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use super::limiter::{wait_after, Outcome, RateLimiter};
use super::{Cloud, CloudError, ConfigError, ErrorKind};

/// Connect timeout for every cloud API call.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout for every cloud API call.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one call keeps retrying throttled answers. They do not count against the retry policy's attempts (a
/// throttled call was not executed, and the limiter has slowed down), so this bounds them instead: well under a
/// create's default timeout of an hour, long enough for several runs on one account to take their turns.
pub const THROTTLE_PATIENCE: Duration = Duration::from_secs(15 * 60);

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
    /// How long one call retries throttled answers ([`THROTTLE_PATIENCE`]).
    pub throttle_patience: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            retry: RetryPolicy::default(),
            rate_limits: BTreeMap::new(),
            default_rate: Some(20.0),
            request_timeout: REQUEST_TIMEOUT,
            throttle_patience: THROTTLE_PATIENCE,
        }
    }
}

/// Parses an endpoint URL and refuses plain `http://` unless the host is loopback; the error says why.
pub fn check_endpoint(raw: &str) -> Result<Url, String> {
    let url =
        Url::parse(raw.trim()).map_err(|e| format!("endpoint {raw:?} is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_url(&url) => Ok(url),
        "http" => Err(format!(
            "endpoint {raw:?} uses plain http; only https is allowed except for loopback hosts (127.0.0.0/8, ::1, localhost)"
        )),
        other => Err(format!(
            "endpoint {raw:?} has unsupported scheme {other:?}; use https"
        )),
    }
}

/// [`check_endpoint`] for an endpoint that must be an origin, `scheme://host[:port]` with no path, query or user
/// info: object storage puts the bucket in the host name or the path itself, so anything after the port would be
/// signed and sent as part of every object's address.
pub fn check_origin(raw: &str) -> Result<Url, String> {
    let url = check_endpoint(raw)?;
    if url.host_str().is_none_or(str::is_empty)
        || !matches!(url.path(), "" | "/")
        || url.query().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "endpoint {raw:?} must be scheme://host[:port] only"
        ));
    }
    Ok(url)
}

/// [`check_endpoint`] for a client of `cloud`.
pub fn endpoint(cloud: Cloud, raw: &str) -> Result<Url, ConfigError> {
    check_endpoint(raw).map_err(|m| ConfigError::new(cloud, m))
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
pub fn build_http_client(cloud: Cloud, timeout: Duration) -> Result<reqwest::Client, ConfigError> {
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
        .map_err(|e| ConfigError::new(cloud, format!("cannot build HTTP client: {e}")))
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
    /// How long one call retries throttled answers.
    pub throttle_patience: Duration,
}

impl HttpCore {
    /// Builds the core; `builtin_limits` are the cloud's documented limits, which
    /// `options.rate_limits` may override.
    pub fn new(
        cloud: Cloud,
        options: &ClientOptions,
        builtin_limits: &[(&str, f64)],
    ) -> Result<Self, ConfigError> {
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
            throttle_patience: options.throttle_patience,
        })
    }

    /// Paces this client's calls together with every other provider process of this user that calls the same
    /// account (`account`: the endpoint and the key id, what the cloud's quota counts), through the shared pacing
    /// state (see [`RateLimiter`]).
    pub fn with_account(mut self, account: &str) -> Self {
        self.limiter = self
            .limiter
            .shared_for(&format!("{} {account}", self.cloud));
        self
    }

    /// Sends one API call with rate limiting and retries.
    ///
    /// Throttling and never-sent (connect) failures are always retried. Server errors and
    /// failures after sending are retried only when `idempotent`; otherwise they come back as
    /// [`Failure::Ambiguous`] so the caller can look for the effect before trying again.
    /// Throttled answers slow the limiter down and are retried without using up the retry policy's attempts, for
    /// up to the throttle patience; the cloud's hints (`Retry-After`, Alibaba's rate-limit headers) hold the
    /// action's turns until they pass.
    pub async fn execute(
        &self,
        action: &str,
        region: &str,
        idempotent: bool,
        build: &BuildFn<'_>,
        parse: &ParseFn<'_>,
    ) -> Result<Parsed, Failure> {
        let max = self.retry.max_attempts.max(1);
        let started = tokio::time::Instant::now();
        let mut attempt = 0;
        let mut throttled = 0u32;
        loop {
            attempt += 1;
            // Held until the answer is read: the request reached the cloud by then.
            let turn = self.limiter.acquire(region, action).await;
            let rb = build().map_err(Failure::Definite)?;
            tracing::debug!(cloud = %self.cloud, action, region, attempt, "sending cloud API request");
            let mut hint_headers = None;
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
                    let parsed = match resp.bytes().await {
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
                    };
                    hint_headers = Some(headers);
                    parsed
                }
            };
            let was_throttled = matches!(&outcome, Err((e, _)) if e.kind == ErrorKind::Throttled);
            let wait = hint_headers
                .as_ref()
                .and_then(|h| wait_after(h, was_throttled));
            turn.finish(if was_throttled {
                Outcome::Throttled { wait }
            } else {
                Outcome::Answered { wait }
            })
            .await;
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
            if was_throttled {
                // Not executed, and the limiter now sends slower (or waits out the cloud's hint): try again
                // without using up an attempt, after a short jittered pause that keeps the retries of one burst
                // from arriving together.
                throttled += 1;
                attempt -= 1;
                let pause = self.retry.delay(throttled.min(3));
                if started.elapsed() + pause < self.throttle_patience {
                    tokio::time::sleep(pause).await;
                    continue;
                }
                return Err(Failure::Definite(err));
            }
            let retry_safe = match err.kind {
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

/// The error for an answer that is not the API's (not JSON, or without the API's envelope), e.g. a proxy's HTML
/// page: classified by `kind` (from the HTTP status), with the status as its code.
pub fn unreadable_answer(
    cloud: Cloud,
    kind: ErrorKind,
    action: &str,
    status: u16,
    what: &str,
    request_id: Option<String>,
) -> CloudError {
    CloudError::new(
        cloud,
        kind,
        action,
        format!("HTTP{status}"),
        what.replace("{status}", &status.to_string()),
        request_id,
    )
}

/// The JSON of an answer, or the error for one that is not JSON (a 5xx is the cloud's failure).
pub fn json_answer(
    cloud: Cloud,
    action: &str,
    status: u16,
    body: &[u8],
) -> Result<Value, CloudError> {
    serde_json::from_slice(body).map_err(|_| {
        unreadable_answer(
            cloud,
            status_kind(status),
            action,
            status,
            "unexpected non-JSON response (HTTP {status})",
            None,
        )
    })
}

/// The kind of failure an HTTP status alone says: 5xx is the cloud's, anything else unexplained.
pub fn status_kind(status: u16) -> ErrorKind {
    if status >= 500 {
        ErrorKind::Server
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "https://api.ucloud.cn",
            "http://127.0.0.1:8080/tencentcloud",
            "http://127.9.9.9/",
            "http://[::1]:9000/x",
            "http://localhost:1/",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.ucloud.cn",
            "http://10.0.0.1/",
            "ftp://x/",
            "not a url",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
        let e = check_endpoint("http://ecs.aliyuncs.com").unwrap_err();
        assert!(e.contains("plain http"));
    }

    #[test]
    fn origins_have_nothing_after_the_port() {
        for ok in [
            "https://s3.example.com",
            "http://127.0.0.1:9000",
            "https://h/",
        ] {
            assert!(check_origin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://s3.example.com",
            "https://s3.example.com/bucket",
            "https://s3.example.com/?x=1",
            "https://u:p@s3.example.com",
            "https://u@s3.example.com",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
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
        let mut settings = crate::cloud::Settings::default();
        settings
            .set("tencentcloud", "secret_id", "id")
            .set("tencentcloud", "secret_key", "key")
            .set("tencentcloud", "security_token", "sts-token")
            .set("tencentcloud", "endpoint", format!("{url}/tencentcloud"));
        let client = crate::cloud::connect(
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
}
