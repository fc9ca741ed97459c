//! Shared helpers for tests that run against `cloudimage-sim`: spawning the binary, the admin
//! API, the simulator's default credentials, and hand-signed raw requests (for cases a client
//! would never produce, such as stale timestamps).
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloudimage::cloud::alibaba::sign::{
    acs_canonical_query, acs_percent_encode, acs_rpc_signature,
};
use cloudimage::cloud::tencent::sign::{tc3_authorization, Tc3Request};
use cloudimage::cloud::ucloud::sign::ucloud_signature;
use cloudimage::cloud::Secret;
use serde_json::Value;

/// Default simulator credentials (docs/simulator.md).
pub(crate) const UCLOUD_PK: &str = "sim-ucloud-public-key";
pub(crate) const UCLOUD_SK: &str = "sim-ucloud-private-key";
pub(crate) const SURFER_PK: &str = "sim-surfercloud-public-key";
pub(crate) const SURFER_SK: &str = "sim-surfercloud-private-key";
pub(crate) const TC_ID: &str = "AKIDsimTencentSecretId000000000000";
pub(crate) const TC_KEY: &str = "simTencentSecretKey0000000000000";
pub(crate) const ALI_AK: &str = "LTAIsimAlicloudKey0000000";
pub(crate) const ALI_SK: &str = "simAlicloudSecret000000000000000";
pub(crate) const APSARA_AK: &str = "simApsaraStackKey0000000";
pub(crate) const APSARA_SK: &str = "simApsaraStackSecret00000000000";

/// A running simulator, killed on drop.
pub(crate) struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT` (the Host header clients send).
    pub host: String,
    http: reqwest::Client,
}

impl SimProcess {
    /// Starts the simulator with `--import-seconds` and extra arguments. `CLOUDIMAGE_SIM_BIN`
    /// overrides the binary (useful when several checkouts share one target directory).
    pub(crate) fn start(import_seconds: f64, extra: &[&str]) -> SimProcess {
        let bin = std::env::var("CLOUDIMAGE_SIM_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cloudimage-sim").to_string());
        let mut child = Command::new(&bin)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--import-seconds",
                &import_seconds.to_string(),
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cloudimage-sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read ready line");
        let base = line
            .trim()
            .strip_prefix("cloudimage-sim listening on ")
            .unwrap_or_else(|| panic!("{bin} printed {line:?} instead of its ready line"))
            .to_string();
        let host = base.trim_start_matches("http://").to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("http client");
        SimProcess {
            child,
            base,
            host,
            http,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for simulator")
    }

    /// A full URL under the simulator.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The shared HTTP client.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// GET an admin path, as JSON.
    pub(crate) async fn admin_get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POST JSON to an admin path; returns (status, body).
    pub(crate) async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// DELETE an admin path; returns the status.
    pub(crate) async fn admin_delete(&self, path: &str) -> u16 {
        self.http
            .delete(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Replaces the fault set.
    pub(crate) async fn faults(&self, spec: Value) {
        let (s, _) = self.admin_post("/_sim/faults", spec).await;
        assert_eq!(s, 200);
    }

    /// Request-log entries with this cloud and action.
    pub(crate) async fn count(&self, cloud: &str, action: &str) -> u64 {
        let v = self.admin_get("/_sim/requests").await;
        v["counts"][cloud][action].as_u64().unwrap_or(0)
    }

    /// How many calls that can change an image (anything but a describe) the simulator has answered, over all
    /// clouds.
    pub(crate) async fn writes(&self) -> u64 {
        let v = self.admin_get("/_sim/requests").await;
        v["counts"]
            .as_object()
            .into_iter()
            .flat_map(|clouds| clouds.values())
            .filter_map(|actions| actions.as_object())
            .flat_map(|actions| actions.iter())
            .filter(|(action, _)| !action.starts_with("Describe"))
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    }

    /// All images as the admin API lists them.
    pub(crate) async fn images(&self) -> Vec<Value> {
        self.admin_get("/_sim/images").await["images"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unix seconds now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDThh:mm:ssZ` for Unix seconds.
pub(crate) fn iso(secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
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

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A signed UCloud form POST to `prefix` (`/ucloud` or `/surfercloud`).
pub(crate) async fn ucloud_call(
    sim: &SimProcess,
    prefix: &str,
    pk: &str,
    sk: &str,
    params: &[(&str, &str)],
) -> Value {
    let mut p = map(params);
    p.insert("PublicKey".into(), pk.into());
    let sig = ucloud_signature(&p, &Secret::new(sk));
    p.insert("Signature".into(), sig);
    sim.http()
        .post(sim.url(prefix))
        .form(&p)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A TC3-signed Tencent call with an explicit timestamp and key.
pub(crate) async fn tc3_call(
    sim: &SimProcess,
    action: &str,
    region: &str,
    body: Value,
    id: &str,
    key: &str,
    ts: i64,
) -> Value {
    let payload = serde_json::to_vec(&body).unwrap();
    let auth = tc3_authorization(&Tc3Request {
        method: "POST",
        host: &sim.host,
        path: "/tencentcloud",
        query: "",
        content_type: "application/json",
        payload: &payload,
        service: "cvm",
        timestamp: ts,
        secret_id: id,
        secret_key: &Secret::new(key),
    });
    let r = sim
        .http()
        .post(sim.url("/tencentcloud"))
        .header("Content-Type", "application/json")
        .header("Authorization", auth)
        .header("X-TC-Action", action)
        .header("X-TC-Version", "2017-03-12")
        .header("X-TC-Region", region)
        .header("X-TC-Timestamp", ts.to_string())
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "Tencent always answers 200");
    r.json().await.unwrap()
}

/// An RPC-v1-signed Alibaba GET to `path` with an explicit timestamp and nonce; returns
/// (status, body).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rpc_call(
    sim: &SimProcess,
    path: &str,
    version: &str,
    params: &[(&str, &str)],
    ak: &str,
    sk: &str,
    ts: i64,
    nonce: &str,
) -> (u16, Value) {
    let mut p = map(params);
    for (k, v) in [
        ("Version", version),
        ("Format", "JSON"),
        ("AccessKeyId", ak),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
    ] {
        p.insert(k.into(), v.into());
    }
    p.insert("Timestamp".into(), iso(ts));
    let sig = acs_rpc_signature("GET", &p, &Secret::new(sk));
    let url = format!(
        "{}?{}&Signature={}",
        sim.url(path),
        acs_canonical_query(&p),
        acs_percent_encode(&sig)
    );
    let r = sim.http().get(url).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

/// A fresh nonce.
pub(crate) fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Polls `f` every 200 ms until it returns `Some`, for at most `secs` seconds.
pub(crate) async fn poll<T, F, Fut>(secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out polling");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A temp path for a state file.
pub(crate) fn state_path(dir: &Path) -> String {
    dir.join("sim-state.json").to_string_lossy().into_owned()
}
