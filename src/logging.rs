//! Logs as go-hclog JSON lines on stderr, the format Terraform's plugin client understands.
//!
//! Terraform reads each stderr line of a provider; a line that parses as an hclog JSON entry is re-logged at its own
//! level under the provider's name, so `TF_LOG=debug terraform plan` shows our lines among Terraform's. Anything else
//! would be logged as an opaque debug line. The level comes from `TF_LOG_PROVIDER`, then `TF_LOG`.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The `@module` of every line: Terraform shows it, and it tells our lines from Terraform's own.
const MODULE: &str = "provider.terraform-provider-cloudimage";

/// Installs the stderr JSON logger for the process. Safe to call more than once.
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    // Our own lines at the requested level; the libraries under us (h2, hyper, tonic) at most at INFO, or a trace
    // log would be one line per HTTP/2 frame.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("cloudimage", level)
        .with_target("terraform_provider_cloudimage", level)
        .with_default(level.min(LevelFilter::INFO));
    let _ = tracing_subscriber::registry()
        .with(HclogJson.with_filter(filter))
        .try_init();
}

/// Maps Terraform's log settings to a filter. `JSON` is Terraform's spelling of trace-level JSON output; unknown
/// words behave as Terraform treats them, as trace. With nothing set, only warnings and errors are written.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let setting = provider
        .filter(|v| !v.is_empty())
        .or(global.filter(|v| !v.is_empty()));
    match setting.map(str::to_ascii_uppercase).as_deref() {
        None => LevelFilter::WARN,
        Some("OFF") => LevelFilter::OFF,
        Some("ERROR") => LevelFilter::ERROR,
        Some("WARN") => LevelFilter::WARN,
        Some("INFO") => LevelFilter::INFO,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some(_) => LevelFilter::TRACE,
    }
}

/// A `tracing` layer that writes each event as one go-hclog JSON object.
struct HclogJson;

impl<S: Subscriber> Layer<S> for HclogJson {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = render(event.metadata().level(), event.metadata().target(), |v| {
            event.record(v)
        });
        // A closed stderr leaves nowhere to report to; dropping the line is the only option.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Builds one JSON line; separated from the layer so tests can check the exact shape.
fn render(level: &Level, target: &str, record: impl FnOnce(&mut FieldCollector)) -> String {
    let mut fields = FieldCollector::default();
    record(&mut fields);
    let mut entry = serde_json::Map::new();
    entry.insert("@level".into(), hclog_level(level).into());
    entry.insert("@message".into(), fields.message.into());
    entry.insert("@module".into(), MODULE.into());
    entry.insert(
        "@timestamp".into(),
        timestamp(time::OffsetDateTime::now_utc()).into(),
    );
    entry.insert("@caller".into(), target.into());
    for (k, v) in fields.fields {
        entry.entry(k).or_insert(v);
    }
    let mut line = serde_json::Value::Object(entry).to_string();
    line.push('\n');
    line
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// hclog's time format: RFC 3339 with exactly six fractional digits.
fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name().to_string(), text.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_follows_terraform_settings() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(
            level_from_env(Some("INFO"), Some("TRACE")),
            LevelFilter::INFO
        );
        assert_eq!(level_from_env(Some(""), Some("json")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some("off"), None), LevelFilter::OFF);
    }

    #[test]
    fn timestamp_has_six_fractional_digits() {
        let t = time::macros::datetime!(2026-01-02 03:04:05.000007 UTC);
        assert_eq!(timestamp(t), "2026-01-02T03:04:05.000007Z");
    }

    #[test]
    fn line_is_one_hclog_json_object() {
        let line = render(&Level::INFO, "cloudimage::resource", |c| {
            c.message = "image is importing".into();
            c.fields.push(("progress".into(), 40.into()));
        });
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "image is importing");
        assert_eq!(v["@module"], MODULE);
        assert_eq!(v["progress"], 40);
        let ts = v["@timestamp"].as_str().unwrap();
        let frac = ts.split('.').nth(1).unwrap();
        assert_eq!(frac.len(), "000000Z".len());
    }
}
