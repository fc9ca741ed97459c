//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for client tests.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(super) struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub(super) fn form(&self) -> std::collections::BTreeMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

pub(super) type Handler = dyn Fn(usize, &Recorded) -> (u16, String) + Send + Sync;

/// Starts the server; `handler(n, req)` answers the n-th (0-based) request. A 3xx answer's text is sent as its
/// `Location`.
pub(super) async fn serve(handler: Arc<Handler>) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let first = lines.next().unwrap_or_default().to_string();
                let mut parts = first.split(' ');
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end + 4..].to_vec();
                while body.len() < len {
                    let n = sock.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&tmp[..n]);
                }
                let rec = Recorded {
                    method,
                    path,
                    headers,
                    body: String::from_utf8_lossy(&body).to_string(),
                };
                let n = {
                    let mut l = log.lock().unwrap();
                    l.push(rec.clone());
                    l.len() - 1
                };
                let (status, text) = handler(n, &rec);
                let resp = if (300..400).contains(&status) {
                    format!("HTTP/1.1 {status} X\r\nLocation: {text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                } else {
                    format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                )
                };
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), log)
}

/// Options with tiny retry delays for tests.
pub(super) fn fast_options() -> crate::cloud::http::ClientOptions {
    crate::cloud::http::ClientOptions {
        retry: crate::cloud::http::RetryPolicy {
            base: std::time::Duration::from_millis(1),
            cap: std::time::Duration::from_millis(5),
            max_attempts: 4,
        },
        rate_limits: Default::default(),
        default_rate: None,
        ..Default::default()
    }
}

/// A home directory holding `files` (paths relative to it), for CLI profile tests.
pub(super) fn home_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = home.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    home
}

/// An environment with these variables and, optionally, a home directory.
pub(super) fn env_with(vars: &[(&str, &str)], home: Option<&std::path::Path>) -> super::MapEnv {
    super::MapEnv {
        home: home.map(std::path::Path::to_path_buf),
        ..super::MapEnv::from_pairs(vars)
    }
}
