//! Tolerant readers for cloud JSON responses: fields may be missing, null, or a number where a
//! string was documented (and the other way round).

use serde_json::Value;

/// A non-empty string field; numbers and booleans are rendered as text.
pub(super) fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An unsigned integer field given as a number or numeric string (`"50%"` and `"20.0"` too).
pub(super) fn u64_field(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => {
            let t = s.trim().trim_end_matches('%').trim();
            t.parse::<u64>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().map(|f| f.max(0.0) as u64))
        }
        _ => None,
    }
}

/// An array field, or an empty slice.
pub(super) fn arr_field<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Progress as a percentage clamped to 0..=100.
pub(super) fn percent(v: &Value, key: &str) -> Option<u8> {
    u64_field(v, key).map(|p| p.min(100) as u8)
}

/// A UTC time as RFC 3339 / ISO 8601 in whole seconds (`2024-01-02T03:04:05Z`), the form the clouds report and
/// Alibaba's `Timestamp` parameter takes.
pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
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

/// The current UTC time as [`rfc3339`].
pub(super) fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// Unix seconds to [`rfc3339`].
pub(super) fn unix_to_rfc3339(secs: u64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    Some(rfc3339(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_fields() {
        let v = json!({"a": "x", "b": 5, "c": "", "d": null, "p": "50%", "f": 20.0, "s": "7"});
        assert_eq!(str_field(&v, "a").as_deref(), Some("x"));
        assert_eq!(str_field(&v, "b").as_deref(), Some("5"));
        assert_eq!(str_field(&v, "c"), None);
        assert_eq!(str_field(&v, "d"), None);
        assert_eq!(str_field(&v, "zz"), None);
        assert_eq!(percent(&v, "p"), Some(50));
        assert_eq!(u64_field(&v, "f"), Some(20));
        assert_eq!(u64_field(&v, "s"), Some(7));
        assert!(arr_field(&v, "a").is_empty());
        assert_eq!(unix_to_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
    }
}
