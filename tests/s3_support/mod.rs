//! A real S3-compatible server for tests: moto's server mode (`.venv/bin/moto_server`, installed by
//! `scripts/install-test-tools`) on 127.0.0.1 with a free port, stopped when the handle drops.
//!
//! Signature checking is switched on: the helper creates an IAM user with an access key while moto still accepts
//! anything, then turns authentication on (`POST /moto-api/reset-auth` with 0), so from then on every request is
//! verified by moto with botocore's own SigV4 code. A missing tool fails the test; nothing skips.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use cloudimage::cloud::http::RetryPolicy;
use cloudimage::cloud::storage::{
    Addressing, S3Client, StorageConfig, StorageCredentials, StorageOptions,
};

/// The signing region the tests use.
pub(crate) const REGION: &str = "us-east-1";

/// The project venv, installing the test tools once per test binary if moto is not there yet.
pub(crate) fn venv_bin(name: &str) -> PathBuf {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join(".venv/bin");
    INSTALLED.get_or_init(|| {
        if !(bin.join("moto_server").exists() && bin.join("aws").exists()) {
            crate::support::tools_dir();
        }
    });
    let p = bin.join(name);
    assert!(
        p.exists(),
        "{} is missing after scripts/install-test-tools",
        p.display()
    );
    p
}

/// A running moto server.
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) endpoint: String,
    /// The IAM user's access key, which moto verifies signatures against.
    pub(crate) credentials: StorageCredentials,
    log: Arc<Mutex<Vec<String>>>,
}

impl Moto {
    /// Starts moto, creates an IAM user with full access, and turns signature checking on.
    pub(crate) fn start() -> Moto {
        let mut child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let stderr = child.stderr.take().expect("moto stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = Arc::clone(&log);
        // Keep draining stderr (moto logs every request there; a full pipe would stall it).
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        let _ = tx.send(port);
                        sent = true;
                    }
                }
                if let Ok(mut l) = log2.lock() {
                    l.push(line);
                    let n = l.len();
                    if n > 2000 {
                        l.drain(..n - 1000);
                    }
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "moto_server did not report its port: {:?}",
                    log.lock().map(|l| l.clone())
                );
            }
        };
        let endpoint = format!("http://127.0.0.1:{port}");
        let credentials = create_user(&endpoint);
        reset_auth(&endpoint);
        Moto {
            child,
            endpoint,
            credentials,
            log,
        }
    }

    /// A path-style client with the IAM user's key and short retry delays.
    pub(crate) fn client(&self) -> S3Client {
        self.client_with(self.credentials.clone(), &self.endpoint)
    }

    /// A client that also sends S3 flexible checksums (`x-amz-checksum-sha256`).
    pub(crate) fn client_sha256(&self) -> S3Client {
        self.build(self.credentials.clone(), &self.endpoint, true)
    }

    /// A client with other credentials or another endpoint (a proxy in front of moto).
    pub(crate) fn client_with(&self, credentials: StorageCredentials, endpoint: &str) -> S3Client {
        self.build(credentials, endpoint, false)
    }

    fn build(&self, credentials: StorageCredentials, endpoint: &str, sha256: bool) -> S3Client {
        let config = StorageConfig::new(endpoint, REGION, Addressing::Path, credentials)
            .expect("storage config")
            .with_sha256_checksums(sha256);
        S3Client::with_options(
            config,
            StorageOptions {
                retry: RetryPolicy {
                    base: Duration::from_millis(20),
                    ..StorageOptions::default().retry
                },
                ..StorageOptions::default()
            },
        )
        .expect("storage client")
    }

    /// Environment for a child process using the same credentials (`cloudimage-upload`, `aws`).
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.credentials.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key.expose().to_string(),
            ),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
        ]
    }

    /// The last lines moto logged (for failure messages).
    pub(crate) fn log_tail(&self, n: usize) -> String {
        self.log
            .lock()
            .map(|l| l[l.len().saturating_sub(n)..].join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates an IAM user with an allow-all policy and an access key, through boto3 from the venv.
fn create_user(endpoint: &str) -> StorageCredentials {
    let script = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="cloudimage-test")
iam.put_user_policy(UserName="cloudimage-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="cloudimage-test")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;
    let started = Instant::now();
    let out = Command::new(venv_bin("python"))
        .args(["-c", script, endpoint])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "creating the moto IAM user failed after {:?}:\n{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let (Some(id), Some(secret)) = (it.next(), it.next()) else {
        panic!("unexpected IAM output {text:?}");
    };
    StorageCredentials {
        access_key_id: id.to_string(),
        secret_access_key: secret.into(),
        session_token: None,
    }
}

/// Turns moto's request authentication on from now (`POST /moto-api/reset-auth` with 0 unauthenticated calls left).
fn reset_auth(endpoint: &str) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to moto");
    write!(
        s,
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0"
    )
    .expect("write");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(
        resp.starts_with("HTTP/1.1 200"),
        "reset-auth failed: {resp}"
    );
}

/// Deterministic pseudo-random bytes (xorshift64*), so a file's content is known without storing it.
pub(crate) fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The part number of an UploadPart request (a PUT with `partNumber`), for proxies that act on parts.
pub(crate) fn upload_part_number(parts: &http::request::Parts) -> Option<u32> {
    parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("partNumber="))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|_| parts.method == http::Method::PUT)
}

/// Forwards a request to `upstream` as it came (its own `Host` header, so signatures stay valid) and returns the
/// answer as a response to give back.
pub(crate) async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    parts: &http::request::Parts,
    body: bytes::Bytes,
) -> axum::response::Response {
    let url = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = http.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        request = request.header(name, value);
    }
    let answer = request.send().await.expect("forward to moto");
    let mut response = axum::response::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "transfer-encoding" && name != "connection" {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response
        .body(axum::body::Body::from(bytes))
        .expect("response")
}

/// A client for proxies: never follows redirects (the answer goes back as it came).
pub(crate) fn proxy_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("proxy client")
}

/// Serves `app` on 127.0.0.1 with a free port on the current Tokio runtime: its endpoint and task.
pub(crate) async fn serve_proxy(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (endpoint, task)
}

/// A proxy in front of moto that lets one UploadPart through at a time, each after `delay`, and counts the parts
/// that reached moto and were answered: a test can slow an upload down enough to kill it half way, and count what
/// each run sent. Every other request passes straight through. Signatures stay valid: requests are forwarded with
/// their own `Host` header.
pub(crate) struct PartGate {
    /// `http://127.0.0.1:<port>`: the endpoint to give the uploader.
    pub(crate) endpoint: String,
    parts: Arc<Mutex<Vec<u32>>>,
    closed: Arc<std::sync::atomic::AtomicBool>,
    _task: tokio::task::JoinHandle<()>,
}

impl PartGate {
    /// Starts the proxy on the current Tokio runtime.
    pub(crate) async fn start(upstream: String, delay: Duration) -> PartGate {
        use axum::body::{to_bytes, Body};
        use axum::extract::Request;
        use axum::response::Response;
        let parts: Arc<Mutex<Vec<u32>>> = Arc::default();
        let seen = Arc::clone(&parts);
        let closed: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let shut = Arc::clone(&closed);
        let one_at_a_time = Arc::new(tokio::sync::Semaphore::new(1));
        let http = proxy_client();
        let handler = move |req: Request| {
            let (seen, gate, http, upstream, shut) = (
                Arc::clone(&seen),
                Arc::clone(&one_at_a_time),
                http.clone(),
                upstream.clone(),
                Arc::clone(&shut),
            );
            async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
                let part = upload_part_number(&parts);
                let _permit = match part {
                    Some(_) => {
                        let permit = gate.acquire_owned().await.expect("semaphore");
                        tokio::time::sleep(delay).await;
                        Some(permit)
                    }
                    None => None,
                };
                if shut.load(std::sync::atomic::Ordering::SeqCst) {
                    return Response::builder()
                        .status(503)
                        .body(Body::from("closed"))
                        .expect("response");
                }
                let response = forward(&http, &upstream, &parts, body).await;
                if let (Some(n), true) = (part, response.status().is_success()) {
                    seen.lock().expect("lock").push(n);
                }
                response
            }
        };
        let (endpoint, task) = serve_proxy(axum::Router::new().fallback(handler)).await;
        PartGate {
            endpoint,
            parts,
            closed,
            _task: task,
        }
    }

    /// From now on nothing reaches moto (every request gets a 503), so a client about to be killed sends nothing
    /// more; [`PartGate::open`] lets requests through again.
    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Lets requests through again.
    pub(crate) fn open(&self) {
        self.closed
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// The part numbers moto accepted through this proxy so far, in order, and forgets them.
    pub(crate) fn take_parts(&self) -> Vec<u32> {
        std::mem::take(&mut *self.parts.lock().expect("lock"))
    }

    /// How many parts moto accepted through this proxy so far.
    pub(crate) fn parts(&self) -> usize {
        self.parts.lock().expect("lock").len()
    }
}
