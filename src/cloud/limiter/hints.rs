//! What a cloud's answer says about when to send again: HTTP `Retry-After`, and Alibaba's rate-limit headers.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// The longest wait a hint may impose: a garbled or hostile header must not stall a run for hours.
const LONGEST_HINT: Duration = Duration::from_secs(60);

/// `Retry-After` (RFC 9110 section 10.2.3): delay-seconds, or an HTTP date (taken relative to `now_unix`, seconds).
fn retry_after(headers: &HeaderMap, now_unix: i64) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at =
        time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = at.unix_timestamp().saturating_sub(now_unix);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// One Alibaba rate-limit header, `Limit:<n>,Remain:<n>,TimeLeft:<ms>[,...]`, as the official SDKs read it
/// (aliyun/darabonba-openapi `golang/utils/client.go` `GetThrottlingTimeLeft` / `getTimeLeft`: pairs split at `,`
/// and `:`, `TimeLeft` in milliseconds, the Python utility's docstring "Remaining time in milliseconds before the
/// throttle is lifted").
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimitHeader {
    /// `Limit`: calls allowed in the cloud's window.
    pub limit: Option<u64>,
    /// `Remain`: calls left in it.
    pub remain: Option<u64>,
    /// `TimeLeft`: until the window resets.
    pub time_left: Option<Duration>,
}

impl RateLimitHeader {
    /// Parses a header value; unknown pairs are skipped, a value that is no number is absent.
    pub(crate) fn parse(value: &str) -> Self {
        let mut out = RateLimitHeader::default();
        for pair in value.split(',') {
            let Some((k, v)) = pair.split_once(':') else {
                continue;
            };
            let n = v.trim().parse::<u64>().ok();
            match k.trim() {
                "Limit" => out.limit = n,
                "Remain" => out.remain = n,
                "TimeLeft" => out.time_left = n.map(Duration::from_millis),
                _ => {}
            }
        }
        out
    }
}

/// Alibaba's two headers: `x-ratelimit-user-api` (this API for this user) and `x-ratelimit-user` (every API of
/// this user), the names darabonba-openapi reads.
fn alibaba(headers: &HeaderMap) -> impl Iterator<Item = RateLimitHeader> + '_ {
    ["x-ratelimit-user-api", "x-ratelimit-user"]
        .into_iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .map(RateLimitHeader::parse)
}

/// How long to send nothing more on this key after an answer with `headers`; `throttled` says the answer was a
/// throttling error. A throttled answer waits out `Retry-After` or the longer `TimeLeft` of the two Alibaba headers
/// (what the SDK puts in `ThrottlingError.RetryAfter`, darabonba-openapi `golang/client/throttling_error.go`); any
/// answer whose Alibaba header says nothing `Remain`s waits its `TimeLeft` too, since the next call would only be
/// throttled.
pub(crate) fn wait_after(headers: &HeaderMap, throttled: bool) -> Option<Duration> {
    let now_unix = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut wait: Option<Duration> = None;
    if throttled {
        wait = retry_after(headers, now_unix);
    }
    for h in alibaba(headers) {
        if throttled || h.remain == Some(0) {
            wait = wait.max(h.time_left);
        }
    }
    wait.map(|w| w.min(LONGEST_HINT)).filter(|w| !w.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn alibaba_headers_parse_as_the_sdk_reads_them() {
        let h = RateLimitHeader::parse("Limit:1,Remain:0,TimeLeft:2000,Reset:1234");
        assert_eq!(
            h,
            RateLimitHeader {
                limit: Some(1),
                remain: Some(0),
                time_left: Some(Duration::from_millis(2000)),
            }
        );
        assert_eq!(RateLimitHeader::parse(""), RateLimitHeader::default());
        assert_eq!(
            RateLimitHeader::parse("TimeLeft:x,Remain:3").remain,
            Some(3)
        );
    }

    #[test]
    fn waits_follow_the_hints() {
        let ms = Duration::from_millis;
        // Throttled: the longer TimeLeft of the two headers.
        let h = headers(&[
            ("x-ratelimit-user-api", "Limit:10,Remain:0,TimeLeft:400"),
            ("x-ratelimit-user", "Limit:100,Remain:50,TimeLeft:900"),
        ]);
        assert_eq!(wait_after(&h, true), Some(ms(900)));
        // Not throttled: only a header with nothing left counts.
        assert_eq!(wait_after(&h, false), Some(ms(400)));
        let h = headers(&[("x-ratelimit-user-api", "Limit:10,Remain:3,TimeLeft:400")]);
        assert_eq!(wait_after(&h, false), None);
        // Retry-After in seconds or as a date; capped.
        assert_eq!(
            wait_after(&headers(&[("retry-after", "2")]), true),
            Some(Duration::from_secs(2))
        );
        assert_eq!(wait_after(&headers(&[("retry-after", "2")]), false), None);
        assert_eq!(
            wait_after(&headers(&[("retry-after", "86400")]), true),
            Some(LONGEST_HINT)
        );
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
        let date = soon
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap();
        let got = wait_after(&headers(&[("retry-after", date.as_str())]), true).unwrap();
        assert!(
            got > Duration::from_secs(25) && got <= Duration::from_secs(30),
            "{got:?}"
        );
        assert_eq!(wait_after(&headers(&[("retry-after", "soon")]), true), None);
    }
}
