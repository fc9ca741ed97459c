//! Wall-clock helpers and the timestamp formats the clouds exchange.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `YYYY-MM-DDThh:mm:ssZ`, the ISO 8601 form Alibaba and Tencent use in requests and responses.
const ISO_Z: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// Formats Unix milliseconds as `YYYY-MM-DDThh:mm:ssZ` (UTC).
pub(crate) fn iso_z(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(ISO_Z).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// Parses `YYYY-MM-DDThh:mm:ssZ` into Unix seconds; `None` when malformed.
pub(crate) fn parse_iso_z(s: &str) -> Option<i64> {
    PrimitiveDateTime::parse(s, ISO_Z)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        assert_eq!(iso_z(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_z(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(parse_iso_z("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_iso_z("2023-11-14 22:13:20"), None);
        assert_eq!(parse_iso_z("garbage"), None);
    }

    #[test]
    fn now_is_recent() {
        assert!(now_ms() > 1_700_000_000_000);
    }
}
