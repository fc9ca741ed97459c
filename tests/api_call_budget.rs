//! CI guard for what an apply and a refresh cost in cloud API calls (issue 13), counted by the simulator
//! (`/_sim/requests`), not by the provider's own logs.
//!
//! A change once made the create-waits stop sharing their describe calls (the client's rate limiter spread the
//! imports of one Terraform round over a second, so their polls no longer met), which took an apply from about
//! one DescribeImages call per image to six, and nothing failed. Here a small apply and a small refresh run
//! through real Terraform against the simulator with the cloud's rate limits switched on, and the counts are
//! asserted as ratios per image, never as wall times:
//! - apply of 10 images at -parallelism=10 (one round, 2.5 s imports, so every wait polls about three times):
//!   one ImportImage per image, waits of the round sharing their polls (a round costs as many describe calls as
//!   one wait polls), nothing else called, no throttled answer;
//! - refresh (plan) of those images: the reads share one describe call per round of ten, and without batching
//!   each read is its own call (so the count measures what it claims to).
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod sim_support;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use sim_support::{SimProcess, TC_ID, TC_KEY};
use support::{product_binary, Tf, Workspace};

const CLOUD: &str = "tencentcloud";
const REGION: &str = "ap-guangzhou";
/// Images, and Terraform's parallelism: one full round.
const N: u64 = 10;
const PARALLELISM: u64 = 10;
const IMPORT_SECONDS: f64 = 2.5;
/// The cloud's documented limits the simulator enforces per rolling second (Tencent CVM: ImportImage 10/s; the
/// clients hold DescribeImages to 20/s).
const IMPORT_RATE: u64 = 10;
const DESCRIBE_RATE: u64 = 20;

/// Describe calls per image an apply of one round may cost. Waits that share their polls cost polls-per-wait / N
/// together (three looks each here: 0.3). Imports spread over a second (the rate limiter of 98970b8, which let one
/// ImportImage leave every 105 ms) start the waits in two or three poll cadences even though a wait's first look
/// joins the looks planned within its reach: 0.6-0.9, and 3 with no sharing at all.
const MAX_APPLY_DESCRIBES_PER_IMAGE: f64 = 0.5;

/// API calls the simulator saw for our cloud between two snapshots.
#[derive(Debug)]
struct Calls {
    by_action: BTreeMap<String, u64>,
    throttled: u64,
    /// Answers other than ok (throttled ones included), as `seq action outcome`.
    failures: Vec<String>,
}

impl Calls {
    fn of(&self, action: &str) -> u64 {
        self.by_action.get(action).copied().unwrap_or(0)
    }
}

/// Request counts per action and the last sequence number, so a later snapshot can be compared with it.
struct Mark {
    counts: BTreeMap<String, u64>,
    seq: u64,
}

struct Env {
    rt: tokio::runtime::Runtime,
    sim: SimProcess,
    ws: Workspace,
}

impl Env {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let sim = SimProcess::start(IMPORT_SECONDS, &["--latency-ms", "5"]);
        rt.block_on(sim.faults(json!({"rate_limits": [
            {"cloud": CLOUD, "action": "ImportImage", "per_second": IMPORT_RATE},
            {"cloud": CLOUD, "action": "DescribeImages", "per_second": DESCRIBE_RATE},
        ]})));
        let ws = Workspace::new(Tf::Path, &product_binary());
        ws.write_config(&format!(
            r#"variable "n" {{
  type = number
}}

provider "cloudimage" {{
  tencentcloud {{
    secret_id  = "{TC_ID}"
    secret_key = "{TC_KEY}"
    endpoint   = "{base}/tencentcloud"
  }}
}}

resource "cloudimage_custom_image" "img" {{
  count      = var.n
  cloud      = "{CLOUD}"
  region     = "{REGION}"
  name       = "budget-${{count.index}}"
  source_url = "https://images-1250000000.cos.{REGION}.myqcloud.com/budget-${{count.index}}.qcow2"
  format     = "qcow2"
  platform   = "CentOS"
  os_version = "7"
}}
"#,
            base = sim.base
        ));
        Env { rt, sim, ws }
    }

    fn requests(&self) -> Value {
        self.rt.block_on(self.sim.admin_get("/_sim/requests"))
    }

    fn mark(&self) -> Mark {
        let v = self.requests();
        let counts = v["counts"][CLOUD]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        let seq = v["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["seq"].as_u64())
            .max()
            .unwrap_or(0);
        Mark { counts, seq }
    }

    fn since(&self, mark: &Mark) -> Calls {
        let v = self.requests();
        let mut by_action = BTreeMap::new();
        if let Some(m) = v["counts"][CLOUD].as_object() {
            for (action, n) in m {
                let n = n
                    .as_u64()
                    .unwrap_or(0)
                    .saturating_sub(mark.counts.get(action).copied().unwrap_or(0));
                if n > 0 {
                    by_action.insert(action.clone(), n);
                }
            }
        }
        let mut throttled = 0;
        let mut failures = Vec::new();
        for e in v["entries"].as_array().into_iter().flatten() {
            if e["seq"].as_u64().unwrap_or(0) <= mark.seq || e["cloud"] != CLOUD {
                continue;
            }
            let outcome = e["outcome"].as_str().unwrap_or("?");
            if outcome == "ok" {
                continue;
            }
            if outcome == "throttled" {
                throttled += 1;
            }
            failures.push(format!("{} {} {outcome}", e["seq"], e["action"]));
        }
        Calls {
            by_action,
            throttled,
            failures,
        }
    }

    /// Runs Terraform and returns what it cost in API calls.
    fn counted(&self, args: &[&str]) -> (Calls, String) {
        let mark = self.mark();
        let run = self.ws.ok(args);
        (self.since(&mark), run.stdout)
    }

    /// Lets the rolling second of the previous Terraform run's requests pass: the rate limiter holds each provider
    /// process to the limits, not two processes together.
    fn settle(&self) {
        std::thread::sleep(Duration::from_millis(1100));
    }
}

#[test]
fn an_apply_and_a_refresh_stay_within_their_api_call_budget() {
    let env = Env::new();
    let n = format!("-var=n={N}");
    let p = format!("-parallelism={PARALLELISM}");

    let (apply, _) = env.counted(&["apply", "-auto-approve", "-no-color", &p, &n]);
    let describes_per_image = apply.of("DescribeImages") as f64 / N as f64;
    eprintln!(
        "apply of {N} images: {:?}, describe calls per image {describes_per_image:.2}",
        apply.by_action
    );
    assert_eq!(
        apply.of("ImportImage"),
        N,
        "one import per image: {apply:?}"
    );
    assert_eq!(
        apply.by_action.len(),
        2,
        "an apply calls ImportImage and DescribeImages only: {apply:?}"
    );
    assert!(
        describes_per_image <= MAX_APPLY_DESCRIBES_PER_IMAGE,
        "the create-waits of one round no longer share their describe calls: {describes_per_image:.2} describe \
         calls per image (at most {MAX_APPLY_DESCRIBES_PER_IMAGE}): {apply:?}"
    );
    assert!(
        apply.failures.is_empty(),
        "the apply got {} throttled and other failed answers: {:?}",
        apply.throttled,
        apply.failures
    );

    // The refresh: batched, then each read alone.
    env.settle();
    let (on, out) = env.counted(&["plan", "-no-color", "-lock=false", &p, &n]);
    assert!(out.contains("No changes."), "{out}");
    eprintln!("refresh of {N} images, batching on: {:?}", on.by_action);
    let bound = N.div_ceil(PARALLELISM);
    assert_eq!(on.by_action.len(), 1, "a refresh only describes: {on:?}");
    assert!(
        on.of("DescribeImages") <= bound,
        "a refresh of {N} images at -parallelism={PARALLELISM} took {} describe calls (at most {bound}): {on:?}",
        on.of("DescribeImages")
    );
    assert!(on.failures.is_empty(), "{:?}", on.failures);

    env.settle();
    let mut ws_off = env;
    ws_off.ws.set_env("CLOUDIMAGE_BATCH_DESCRIBE", "0");
    let (off, out) = ws_off.counted(&["plan", "-no-color", "-lock=false", &p, &n]);
    assert!(out.contains("No changes."), "{out}");
    eprintln!("refresh of {N} images, batching off: {:?}", off.by_action);
    assert_eq!(
        off.of("DescribeImages"),
        N,
        "without batching every read is one call: {off:?}"
    );
    assert!(off.failures.is_empty(), "{:?}", off.failures);
}
