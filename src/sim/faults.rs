//! Injected faults: extra latency, per-cloud/per-action rate limits counted per account key (the clouds count
//! their API quotas per account, not per client), and "the next N matching requests" throttled, answered with a
//! 5xx, or dropped without a response.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::cloud::SimCloud;

/// Which requests a fault applies to; an absent field matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scope {
    /// Only this backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<SimCloud>,
    /// Only this API action (e.g. `DescribeImages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl Scope {
    fn matches(&self, cloud: SimCloud, action: &str) -> bool {
        self.cloud.is_none_or(|c| c == cloud) && self.action.as_deref().is_none_or(|a| a == action)
    }
}

/// At most `per_second` matching requests per rolling second and account key (the key id a request is signed
/// with: every client of one account shares the quota, as the clouds count it); the rest are throttled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RateLimit {
    /// Requests it applies to.
    #[serde(flatten)]
    pub scope: Scope,
    /// Allowed requests per second.
    pub per_second: u32,
}

/// A fault applied to the next `count` matching requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counted {
    /// Requests it applies to.
    #[serde(flatten)]
    pub scope: Scope,
    /// How many more requests it affects.
    pub count: u32,
}

/// Answer the next `count` matching requests with HTTP `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ServerError {
    /// Requests it applies to.
    #[serde(flatten)]
    pub scope: Scope,
    /// How many more requests it affects.
    pub count: u32,
    /// HTTP status (500-599; default 503).
    #[serde(default = "default_status")]
    pub status: u16,
}

fn default_status() -> u16 {
    503
}

/// Extra delay before matching requests are answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Latency {
    /// Requests it applies to.
    #[serde(flatten)]
    pub scope: Scope,
    /// Delay in milliseconds.
    pub ms: u64,
}

/// The body of `POST /_sim/faults`; it replaces the whole fault set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// Extra latency rules.
    #[serde(default)]
    pub latency: Vec<Latency>,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Throttle the next N matching requests.
    #[serde(default)]
    pub throttle: Vec<Counted>,
    /// Answer the next N matching requests with a 5xx.
    #[serde(default)]
    pub errors: Vec<ServerError>,
    /// Close the connection of the next N matching requests without answering.
    #[serde(default)]
    pub drops: Vec<Counted>,
    /// Extra delay after matching requests were handled, before the answer goes out: the cloud has acted, the
    /// client is still waiting (a late answer).
    #[serde(default)]
    pub answer_delay: Vec<Latency>,
    /// The images the next N matching image-making requests make (ImportImage, ImportCustomImage, and the copies:
    /// CopyImage, SyncImages, CopyCustomImage) end in the cloud's failed state instead of becoming available: the
    /// request itself succeeds, as a real import or copy that fails later does.
    #[serde(default)]
    pub failed_images: Vec<Counted>,
}

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Handle it normally.
    Pass,
    /// Answer with the cloud's throttling error.
    Throttle,
    /// Answer with this HTTP status and no API body.
    ServerError(u16),
    /// Close the connection without a response.
    Drop,
}

/// Where a request stands against the tightest rate limit that matched it, for the answer's rate-limit headers
/// (Alibaba's `x-ratelimit-user-api` / `x-ratelimit-user`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    /// Calls allowed per second.
    pub limit: u32,
    /// Calls left in the current rolling second after this one.
    pub remain: u32,
    /// Milliseconds until a call is free again (0 when one is free now).
    pub time_left_ms: i64,
    /// The rule names an action (a per-API quota) rather than every action of the cloud (a per-user one).
    pub per_api: bool,
}

impl Quota {
    /// The header name and value the Alibaba SDKs read (darabonba-openapi `GetThrottlingTimeLeft`).
    pub(crate) fn alibaba_header(&self) -> (&'static str, String) {
        let name = if self.per_api {
            "x-ratelimit-user-api"
        } else {
            "x-ratelimit-user"
        };
        (
            name,
            format!(
                "Limit:{},Remain:{},TimeLeft:{}",
                self.limit, self.remain, self.time_left_ms
            ),
        )
    }
}

/// The live fault set plus the rate-limit windows (per rule and account key).
#[derive(Debug, Default)]
pub(crate) struct Faults {
    spec: FaultSpec,
    windows: BTreeMap<(usize, String), VecDeque<i64>>,
}

fn take(list: &mut [Counted], cloud: SimCloud, action: &str) -> bool {
    match list
        .iter_mut()
        .find(|f| f.count > 0 && f.scope.matches(cloud, action))
    {
        Some(f) => {
            f.count -= 1;
            true
        }
        None => false,
    }
}

impl Faults {
    /// Replaces the fault set (and resets the rate-limit windows).
    pub(crate) fn set(&mut self, spec: FaultSpec) {
        self.spec = spec;
        self.windows.clear();
    }

    /// The current fault set, with remaining counts.
    pub(crate) fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// Total extra latency for a request.
    pub(crate) fn latency_ms(&self, cloud: SimCloud, action: &str) -> u64 {
        self.spec
            .latency
            .iter()
            .filter(|l| l.scope.matches(cloud, action))
            .map(|l| l.ms)
            .sum()
    }

    /// The delay between handling a request and answering it.
    pub(crate) fn answer_delay_ms(&self, cloud: SimCloud, action: &str) -> u64 {
        self.spec
            .answer_delay
            .iter()
            .filter(|l| l.scope.matches(cloud, action))
            .map(|l| l.ms)
            .sum()
    }

    /// Whether the image a `cloud` `action` request makes now should end failed (consumes one `failed_images`
    /// count).
    pub(crate) fn image_fails(&mut self, cloud: SimCloud, action: &str) -> bool {
        take(&mut self.spec.failed_images, cloud, action)
    }

    /// Decides the fate of one request signed with account `key` arriving at `now_ms`, consuming counted faults;
    /// with it, where the request stands against the tightest rate limit it matched.
    pub(crate) fn decide(
        &mut self,
        cloud: SimCloud,
        action: &str,
        key: &str,
        now_ms: i64,
    ) -> (Decision, Option<Quota>) {
        if take(&mut self.spec.drops, cloud, action) {
            return (Decision::Drop, None);
        }
        if let Some(e) = self
            .spec
            .errors
            .iter_mut()
            .find(|f| f.count > 0 && f.scope.matches(cloud, action))
        {
            e.count -= 1;
            return (Decision::ServerError(e.status.clamp(500, 599)), None);
        }
        if take(&mut self.spec.throttle, cloud, action) {
            return (Decision::Throttle, None);
        }
        let mut tightest: Option<Quota> = None;
        let mut decision = Decision::Pass;
        for (i, rl) in self.spec.rate_limits.iter().enumerate() {
            if !rl.scope.matches(cloud, action) {
                continue;
            }
            let w = self.windows.entry((i, key.to_string())).or_default();
            while w.front().is_some_and(|t| now_ms - *t >= 1000) {
                w.pop_front();
            }
            let limit = rl.per_second;
            let full = w.len() >= limit as usize;
            if full {
                decision = Decision::Throttle;
            }
            let used = w.len() + usize::from(!full && decision == Decision::Pass);
            let remain = (limit as usize).saturating_sub(used) as u32;
            let time_left_ms = if remain == 0 {
                w.front().map_or(1000, |t| (t + 1000 - now_ms).max(0))
            } else {
                0
            };
            let quota = Quota {
                limit,
                remain,
                time_left_ms,
                per_api: rl.scope.action.is_some(),
            };
            if tightest.is_none_or(|q| quota.remain < q.remain) {
                tightest = Some(quota);
            }
        }
        if decision == Decision::Pass {
            // Counted only when it passes every limit: a throttled request uses none of the quota.
            for (i, rl) in self.spec.rate_limits.iter().enumerate() {
                if rl.scope.matches(cloud, action) {
                    self.windows
                        .entry((i, key.to_string()))
                        .or_default()
                        .push_back(now_ms);
                }
            }
        }
        (decision, tightest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn counted_faults_run_out() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"throttle":[{"cloud":"tencentcloud","action":"DescribeImages","count":2}]}"#,
        ));
        let c = SimCloud::Tencentcloud;
        assert_eq!(f.decide(c, "ImportImage", "k", 0).0, Decision::Pass);
        assert_eq!(
            f.decide(SimCloud::Ucloud, "DescribeImages", "k", 0).0,
            Decision::Pass
        );
        assert_eq!(f.decide(c, "DescribeImages", "k", 0).0, Decision::Throttle);
        assert_eq!(f.decide(c, "DescribeImages", "k", 0).0, Decision::Throttle);
        assert_eq!(f.decide(c, "DescribeImages", "k", 0).0, Decision::Pass);
        assert_eq!(f.spec().throttle[0].count, 0);
    }

    #[test]
    fn failed_images_are_counted_per_action() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"failed_images":[{"cloud":"alicloud","action":"CopyImage","count":1}]}"#,
        ));
        let c = SimCloud::AlicloudEcs;
        assert!(!f.image_fails(c, "ImportImage"));
        assert!(f.image_fails(c, "CopyImage"));
        assert!(!f.image_fails(c, "CopyImage"));
    }

    #[test]
    fn drops_before_errors_before_throttles() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"drops":[{"count":1}],"errors":[{"count":1,"status":502}],"throttle":[{"count":1}]}"#,
        ));
        let c = SimCloud::AlicloudEcs;
        assert_eq!(f.decide(c, "X", "k", 0).0, Decision::Drop);
        assert_eq!(f.decide(c, "X", "k", 0).0, Decision::ServerError(502));
        assert_eq!(f.decide(c, "X", "k", 0).0, Decision::Throttle);
        assert_eq!(f.decide(c, "X", "k", 0).0, Decision::Pass);
    }

    #[test]
    fn error_status_defaults_and_clamps() {
        let mut f = Faults::default();
        f.set(spec(r#"{"errors":[{"count":1},{"count":1,"status":200}]}"#));
        assert_eq!(
            f.decide(SimCloud::Ucloud, "A", "k", 0).0,
            Decision::ServerError(503)
        );
        assert_eq!(
            f.decide(SimCloud::Ucloud, "A", "k", 0).0,
            Decision::ServerError(500)
        );
    }

    #[test]
    fn rate_limit_window_rolls() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"rate_limits":[{"cloud":"alicloud","per_second":2}]}"#,
        ));
        let c = SimCloud::AlicloudEcs;
        assert_eq!(f.decide(c, "A", "k", 0).0, Decision::Pass);
        assert_eq!(f.decide(c, "B", "k", 100).0, Decision::Pass);
        assert_eq!(f.decide(c, "A", "k", 200).0, Decision::Throttle);
        assert_eq!(f.decide(c, "A", "k", 1000).0, Decision::Pass);
        assert_eq!(
            f.decide(SimCloud::Apsarastack, "A", "k", 200).0,
            Decision::Pass
        );
    }

    #[test]
    fn latency_sums_matching_rules() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"latency":[{"ms":10},{"cloud":"ucloud","ms":5},{"action":"X","ms":100}]}"#,
        ));
        assert_eq!(f.latency_ms(SimCloud::Ucloud, "Y"), 15);
        assert_eq!(f.latency_ms(SimCloud::Tencentcloud, "X"), 110);
    }

    #[test]
    fn unknown_fields_rejected() {
        assert!(serde_json::from_str::<FaultSpec>(r#"{"trottle":[]}"#).is_err());
    }

    #[test]
    fn rate_limits_count_per_account_key_and_report_the_quota() {
        let mut f = Faults::default();
        f.set(spec(
            r#"{"rate_limits":[{"cloud":"alicloud","action":"DescribeImages","per_second":2}]}"#,
        ));
        let c = SimCloud::AlicloudEcs;
        let (d, q) = f.decide(c, "DescribeImages", "AK1", 0);
        assert_eq!(d, Decision::Pass);
        assert_eq!(
            q,
            Some(Quota {
                limit: 2,
                remain: 1,
                time_left_ms: 0,
                per_api: true
            })
        );
        let (d, q) = f.decide(c, "DescribeImages", "AK1", 300);
        assert_eq!(d, Decision::Pass);
        assert_eq!(q.map(|q| (q.remain, q.time_left_ms)), Some((0, 700)));
        let (d, q) = f.decide(c, "DescribeImages", "AK1", 400);
        assert_eq!(d, Decision::Throttle);
        assert_eq!(
            q.map(|q| q.alibaba_header()),
            Some((
                "x-ratelimit-user-api",
                "Limit:2,Remain:0,TimeLeft:600".to_string()
            ))
        );
        // Another account has its own quota; a throttled request used none.
        assert_eq!(f.decide(c, "DescribeImages", "AK2", 400).0, Decision::Pass);
        assert_eq!(f.decide(c, "DescribeImages", "AK1", 1000).0, Decision::Pass);
        assert_eq!(
            f.decide(c, "DescribeImages", "AK1", 1100).0,
            Decision::Throttle
        );
        // Requests no rule matches carry no quota.
        assert_eq!(f.decide(c, "ImportImage", "AK1", 0), (Decision::Pass, None));
    }
}
