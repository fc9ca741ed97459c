//! The object-storage client against a real S3-compatible server (moto, with signature checking on): multipart
//! uploads verified end to end, an upload killed half way (SIGKILL of `cloudimage-upload`) and resumed sending only
//! the missing parts, an unfinished upload of other content left alone, retries and abort on failure (through a
//! fault-injecting proxy in front of moto), a file changing during the upload, and disk inspection of uploaded
//! images through ranged reads.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod disk_support;
mod s3_support;
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudimage::cloud::http::RetryPolicy;
use cloudimage::cloud::storage::{
    ObjectReader, PartBody, S3Client, StorageCredentials, StorageError, UploadOptions,
    UploadRequest, META_SHA256,
};
use cloudimage::disk::hash_cache::HashCache;
use cloudimage::disk::{self, BootMode, CachedReader, Format, ReadAt, MAX_READ_LEN};
use s3_support::{forward, proxy_client, pseudo_random, serve_proxy, upload_part_number, Moto};
use sha2::Digest;

const MIB: usize = 1 << 20;

fn sha_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write file");
    p
}

/// Downloads a whole object through ranged reads.
async fn download(client: &S3Client, bucket: &str, key: &str, size: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while (out.len() as u64) < size {
        let chunk = client
            .get_range(bucket, key, out.len() as u64, MAX_READ_LEN)
            .await
            .expect("ranged get");
        assert!(!chunk.is_empty(), "object ended early at {}", out.len());
        out.extend_from_slice(&chunk);
    }
    out
}

fn options(part_mib: u64) -> UploadOptions {
    UploadOptions {
        part_size: Some(part_mib << 20),
        part_retry: RetryPolicy {
            base: Duration::from_millis(10),
            ..UploadOptions::default().part_retry
        },
        progress_interval: Duration::from_millis(200),
        ..UploadOptions::default()
    }
}

async fn uploads_of(client: &S3Client, bucket: &str, key: &str) -> usize {
    client
        .list_multipart_uploads(bucket, key)
        .await
        .expect("list uploads")
        .iter()
        .filter(|u| u.key == key)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_is_verified_end_to_end() {
    let moto = Moto::start();
    // With S3 flexible checksums too (x-amz-checksum-sha256 per part, SHA256 on the upload).
    let client = moto.client_sha256();
    client.create_bucket("images").await.expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(23 * MIB + 12_345, 1);
    let path = write_file(dir.path(), "disk.raw", &data);
    let sha = sha_hex(&data);
    let req = UploadRequest {
        path: &path,
        bucket: "images",
        key: "nested/dir/disk image+1.raw",
        sha256: &sha,
    };
    let parts_seen = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&parts_seen);
    let opts = UploadOptions {
        concurrency: 3,
        on_part: Some(Arc::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })),
        ..options(5)
    };
    let report = client.upload_file(&req, &opts).await.expect("upload");
    assert_eq!(
        (report.parts_total, report.parts_sent, report.parts_reused),
        (5, 5, 0)
    );
    assert!(!report.resumed && !report.already_present);
    assert_eq!(report.bytes_sent, data.len() as u64);
    assert_eq!(parts_seen.load(Ordering::SeqCst), 5);

    let info = client
        .head_object("images", req.key)
        .await
        .expect("head")
        .expect("object exists");
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(info.metadata.get(META_SHA256), Some(&sha));
    assert!(
        info.etag.as_deref().is_some_and(|e| e.ends_with("-5\"")),
        "{:?}",
        info.etag
    );
    let back = download(&client, "images", req.key, info.size).await;
    assert_eq!(sha_hex(&back), sha, "downloaded content differs");
    assert_eq!(uploads_of(&client, "images", req.key).await, 0);

    // The same content again: nothing is sent.
    let again = client
        .upload_file(&req, &opts)
        .await
        .expect("second upload");
    assert!(again.already_present);
    assert_eq!(again.parts_sent, 0);

    // A small file goes in one PutObject, with the same checks.
    let small = pseudo_random(MIB, 2);
    let small_path = write_file(dir.path(), "small.raw", &small);
    let small_sha = sha_hex(&small);
    let r = client
        .upload_file(
            &UploadRequest {
                path: &small_path,
                bucket: "images",
                key: "small.raw",
                sha256: &small_sha,
            },
            &opts,
        )
        .await
        .expect("small upload");
    assert_eq!((r.upload_id, r.parts_total, r.parts_sent), (None, 1, 1));
    assert_eq!(
        download(&client, "images", "small.raw", MIB as u64).await,
        small
    );

    // Delete: gone, and deleting again is fine.
    client
        .delete_object("images", "small.raw")
        .await
        .expect("delete");
    assert!(client
        .head_object("images", "small.raw")
        .await
        .expect("head")
        .is_none());
    client
        .delete_object("images", "small.raw")
        .await
        .expect("delete again");
}

#[tokio::test]
async fn the_server_checks_our_signatures() {
    let moto = Moto::start();
    let client = moto.client();
    client
        .create_bucket("sig-check")
        .await
        .expect("create bucket");
    // Keys that need percent-encoding must sign the same way botocore verifies them.
    for key in ["a b/c+d=e&f.raw", "ünïcödé/ключ.qcow2", "x~y_z-(1)!*'.img"] {
        let body = PartBody::new(bytes::Bytes::from_static(b"hello"));
        client
            .put_object("sig-check", key, &body, &[("k", "v")])
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}\n{}", moto.log_tail(5)));
        assert_eq!(
            client.get_range("sig-check", key, 1, 3).await.expect("get"),
            b"ell"
        );
        // Ranges past the end: fewer bytes, then none.
        assert_eq!(
            client
                .get_range("sig-check", key, 3, 100)
                .await
                .expect("get"),
            b"lo"
        );
        assert!(client
            .get_range("sig-check", key, 5, 10)
            .await
            .expect("get")
            .is_empty());
    }
    let wrong = moto.client_with(
        StorageCredentials {
            secret_access_key: "not-the-secret".into(),
            ..moto.credentials.clone()
        },
        &moto.endpoint,
    );
    let e = wrong
        .head_object("sig-check", "a b/c+d=e&f.raw")
        .await
        .expect_err("bad signature accepted");
    assert_eq!(e.status(), Some(403), "{e}");
    let e = wrong
        .put_object(
            "sig-check",
            "x.raw",
            &PartBody::new(bytes::Bytes::from_static(b"x")),
            &[],
        )
        .await
        .expect_err("bad signature accepted");
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e}");
}

fn upload_tool() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cloudimage"))
        .parent()
        .expect("binary directory")
        .join("examples/cloudimage-upload");
    assert!(
        p.exists(),
        "{} not built; run through `cargo test`",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_half_way_resumes_with_the_missing_parts_only() {
    let moto = Moto::start();
    // Both runs send S3 flexible checksums: the resumed parts' ChecksumSHA256 must be carried into Complete.
    let client = moto.client_sha256();
    client.create_bucket("resume").await.expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(12 * 5 * MIB - 777, 3);
    let path = write_file(dir.path(), "big.qcow2", &data);
    let cache_dir = dir.path().join("cache");

    let mut child = Command::new(upload_tool())
        .args([
            "--endpoint",
            &moto.endpoint,
            "--path-style",
            "--bucket",
            "resume",
            "--key",
            "img/big.qcow2",
        ])
        .arg("--file")
        .arg(&path)
        .arg("--cache-dir")
        .arg(&cache_dir)
        .args([
            "--part-size-mib",
            "5",
            "--concurrency",
            "1",
            "--part-delay-ms",
            "400",
            "--progress-secs",
            "0.2",
            "--sha256-checksums",
        ])
        .envs(moto.env())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file"))
        .spawn()
        .expect("start cloudimage-upload");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut parts_reported = 0;
    while parts_reported < 3 {
        let Some(Ok(line)) = lines.next() else {
            panic!(
                "the upload tool ended early:\n{}",
                std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default()
            );
        };
        if line.starts_with("part ") {
            parts_reported += 1;
        }
    }
    child.kill().expect("SIGKILL the upload");
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the upload finished before it was killed"
    );
    // It logged INFO progress lines (bytes, percent, rate) while it ran.
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).expect("stderr log");
    let progress = log
        .lines()
        .find(|l| {
            l.contains(" INFO ") && l.contains("uploading ") && l.contains("MiB of 60.00 MiB (")
        })
        .unwrap_or_else(|| panic!("no progress line in:\n{log}"));
    assert!(
        progress.contains("%), ") && progress.contains(" MiB/s"),
        "{progress}"
    );

    // The server holds one unfinished upload with the parts sent before the kill.
    let uploads = client
        .list_multipart_uploads("resume", "img/big.qcow2")
        .await
        .expect("list uploads");
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let before = client
        .list_parts("resume", "img/big.qcow2", &uploads[0].upload_id)
        .await
        .expect("list parts");
    let k = before.len() as u32;
    assert!((3..12).contains(&k), "{k} parts before the resume");

    // Resume in this process; the hash comes from the killed run's cache when its entry is trustworthy.
    let digest = HashCache::new(cache_dir).sha256(&path).await.expect("hash");
    assert_eq!(digest.sha256, sha_hex(&data));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&sent);
    let opts = UploadOptions {
        concurrency: 2,
        on_part: Some(Arc::new(move |e| s2.lock().expect("lock").push(e.number))),
        ..options(5)
    };
    let report = client
        .upload_file(
            &UploadRequest {
                path: &path,
                bucket: "resume",
                key: "img/big.qcow2",
                sha256: &digest.sha256,
            },
            &opts,
        )
        .await
        .expect("resumed upload");
    assert!(report.resumed);
    assert_eq!(
        report.upload_id.as_deref(),
        Some(uploads[0].upload_id.as_str())
    );
    assert_eq!(
        (report.parts_total, report.parts_reused, report.parts_sent),
        (12, k, 12 - k)
    );
    let mut numbers = sent.lock().expect("lock").clone();
    numbers.sort_unstable();
    let already: Vec<u32> = before.iter().map(|p| p.number).collect();
    assert!(
        numbers.iter().all(|n| !already.contains(n)),
        "re-sent a part: {numbers:?} vs {already:?}"
    );
    assert_eq!(numbers.len() as u32, 12 - k);
    let info = client
        .head_object("resume", "img/big.qcow2")
        .await
        .expect("head")
        .expect("exists");
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(
        sha_hex(&download(&client, "resume", "img/big.qcow2", info.size).await),
        digest.sha256
    );
    assert_eq!(uploads_of(&client, "resume", "img/big.qcow2").await, 0);
}

#[tokio::test]
async fn an_unfinished_upload_of_other_content_is_left_alone() {
    let moto = Moto::start();
    let client = moto.client();
    client
        .create_bucket("foreign")
        .await
        .expect("create bucket");
    let other = client
        .create_multipart_upload("foreign", "disk.raw", &[])
        .await
        .expect("create upload");
    client
        .upload_part(
            "foreign",
            "disk.raw",
            &other,
            1,
            &PartBody::new(pseudo_random(5 * MIB, 99).into()),
        )
        .await
        .expect("foreign part");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(12 * MIB, 4);
    let path = write_file(dir.path(), "disk.raw", &data);
    let sha = sha_hex(&data);
    let report = client
        .upload_file(
            &UploadRequest {
                path: &path,
                bucket: "foreign",
                key: "disk.raw",
                sha256: &sha,
            },
            &options(5),
        )
        .await
        .expect("upload");
    assert!(!report.resumed);
    assert_eq!((report.parts_sent, report.parts_reused), (3, 0));
    let left = client
        .list_multipart_uploads("foreign", "disk.raw")
        .await
        .expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].upload_id, other, "the other upload was touched");
    assert_eq!(
        sha_hex(&download(&client, "foreign", "disk.raw", data.len() as u64).await),
        sha
    );
}

/// A proxy in front of moto that answers chosen UploadPart attempts with an error instead of forwarding them.
struct FaultProxy {
    endpoint: String,
    attempts: Arc<Mutex<HashMap<u32, u32>>>,
    _task: tokio::task::JoinHandle<()>,
}

/// Which attempts of which part fail: `(part, failing attempts)`; `u32::MAX` attempts means always.
type Faults = Vec<(u32, u32)>;

impl FaultProxy {
    async fn start(upstream: String, faults: Faults) -> FaultProxy {
        use axum::body::{to_bytes, Body};
        use axum::extract::Request;
        use axum::response::Response;
        let attempts: Arc<Mutex<HashMap<u32, u32>>> = Arc::default();
        let counts = Arc::clone(&attempts);
        let http = proxy_client();
        let handler = move |req: Request| {
            let (counts, faults, http, upstream) = (
                Arc::clone(&counts),
                faults.clone(),
                http.clone(),
                upstream.clone(),
            );
            async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
                if let Some(n) = upload_part_number(&parts) {
                    let attempt = {
                        let mut c = counts.lock().expect("lock");
                        let a = c.entry(n).or_insert(0);
                        *a += 1;
                        *a
                    };
                    if faults.iter().any(|&(p, fails)| p == n && attempt <= fails) {
                        return Response::builder()
                            .status(500)
                            .body(Body::from(
                                "<Error><Code>InternalError</Code><Message>injected</Message></Error>",
                            ))
                            .expect("response");
                    }
                }
                forward(&http, &upstream, &parts, body).await
            }
        };
        let (endpoint, task) = serve_proxy(axum::Router::new().fallback(handler)).await;
        FaultProxy {
            endpoint,
            attempts,
            _task: task,
        }
    }

    fn attempts_of(&self, part: u32) -> u32 {
        self.attempts
            .lock()
            .expect("lock")
            .get(&part)
            .copied()
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_parts_are_retried_and_a_failed_upload_is_aborted() {
    let moto = Moto::start();
    let direct = moto.client();
    direct.create_bucket("faults").await.expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(16 * MIB, 5);
    let path = write_file(dir.path(), "d.raw", &data);
    let sha = sha_hex(&data);
    let req = |key: &'static str| UploadRequest {
        path: &path,
        bucket: "faults",
        key,
        sha256: &sha,
    };

    // Parts 2 and 3 fail once each: retried, and the upload succeeds.
    let proxy = FaultProxy::start(moto.endpoint.clone(), vec![(2, 1), (3, 1)]).await;
    let client = moto.client_with(moto.credentials.clone(), &proxy.endpoint);
    let report = client
        .upload_file(&req("retried.raw"), &options(5))
        .await
        .expect("upload with retries");
    assert_eq!(report.retries, 2);
    assert_eq!(
        (
            report.parts_sent,
            proxy.attempts_of(2),
            proxy.attempts_of(3)
        ),
        (4, 2, 2)
    );
    assert_eq!(
        sha_hex(&download(&direct, "faults", "retried.raw", data.len() as u64).await),
        sha
    );

    // Part 3 always fails: the upload gives up after its tries and aborts the multipart upload.
    let proxy = FaultProxy::start(moto.endpoint.clone(), vec![(3, u32::MAX)]).await;
    let client = moto.client_with(moto.credentials.clone(), &proxy.endpoint);
    let base = options(5);
    let opts = UploadOptions {
        part_retry: RetryPolicy {
            max_attempts: 3,
            ..base.part_retry
        },
        ..base
    };
    let e = client
        .upload_file(&req("failed.raw"), &opts)
        .await
        .expect_err("upload should fail");
    assert_eq!(e.code(), Some("InternalError"), "{e}");
    assert_eq!(proxy.attempts_of(3), 3);
    assert_eq!(
        uploads_of(&direct, "faults", "failed.raw").await,
        0,
        "the failed upload was not aborted"
    );
    assert!(direct
        .head_object("faults", "failed.raw")
        .await
        .expect("head")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_during_the_upload_fails_it_and_aborts() {
    let moto = Moto::start();
    let client = moto.client();
    client
        .create_bucket("changing")
        .await
        .expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(16 * MIB, 6);
    let path = write_file(dir.path(), "d.raw", &data);
    let sha = sha_hex(&data);
    let target = path.clone();
    let truncated = Arc::new(AtomicUsize::new(0));
    let t2 = Arc::clone(&truncated);
    let opts = UploadOptions {
        concurrency: 1,
        on_part: Some(Arc::new(move |_| {
            if t2.fetch_add(1, Ordering::SeqCst) == 0 {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .expect("open");
                f.set_len(7 * MIB as u64).expect("truncate");
            }
        })),
        ..options(5)
    };
    let e = client
        .upload_file(
            &UploadRequest {
                path: &path,
                bucket: "changing",
                key: "d.raw",
                sha256: &sha,
            },
            &opts,
        )
        .await
        .expect_err("upload of a changing file should fail");
    assert!(matches!(e, StorageError::FileChanged(_)), "{e}");
    assert_eq!(uploads_of(&client, "changing", "d.raw").await, 0);
}

/// Counts the reads that reach the object.
struct Counting(ObjectReader, AtomicUsize);

#[async_trait::async_trait]
impl ReadAt for Counting {
    fn size(&self) -> u64 {
        self.0.size()
    }
    async fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.read_at(offset, len).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_images_are_inspected_through_ranged_reads() {
    let moto = Moto::start();
    let client = moto.client();
    client
        .create_bucket("inspect")
        .await
        .expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = disk_support::write(
        dir.path(),
        "uefi.raw",
        &disk_support::raw_disk(disk_support::Layout::UefiGpt, 64 * MIB),
    );
    let qcow2 = dir.path().join("uefi.qcow2");
    disk_support::convert(&raw, &qcow2, "qcow2", "");
    let bios = disk_support::write(
        dir.path(),
        "bios.raw",
        &disk_support::raw_disk(disk_support::Layout::BiosMbr, 8 * MIB),
    );
    for (path, key) in [(&qcow2, "uefi.qcow2"), (&bios, "bios.raw")] {
        let digest = HashCache::disabled().sha256(path).await.expect("hash");
        client
            .upload_file(
                &UploadRequest {
                    path,
                    bucket: "inspect",
                    key,
                    sha256: &digest.sha256,
                },
                &options(5),
            )
            .await
            .expect("upload");
    }

    let object = ObjectReader::open(&client, "inspect", "uefi.qcow2")
        .await
        .expect("head")
        .expect("exists");
    let counting = Arc::new(Counting(object, AtomicUsize::new(0)));
    let inspection = disk::inspect(Arc::new(CachedReader::new(counting.clone(), 16)))
        .await
        .expect("inspect the object");
    assert_eq!(inspection.format, Format::Qcow2);
    assert_eq!(inspection.virtual_size, Some(64 * MIB as u64));
    assert_eq!(
        inspection.boot_mode,
        BootMode::Uefi,
        "{}",
        inspection.boot_reason
    );
    let reads = counting.1.load(Ordering::SeqCst);
    assert!(reads <= 8, "{reads} ranged reads for an inspection");

    let object = ObjectReader::open(&client, "inspect", "bios.raw")
        .await
        .expect("head")
        .expect("exists");
    let inspection = disk::inspect(Arc::new(CachedReader::new(Arc::new(object), 16)))
        .await
        .expect("inspect");
    assert_eq!(
        (inspection.format, inspection.boot_mode),
        (Format::Raw, BootMode::Bios)
    );

    assert!(ObjectReader::open(&client, "inspect", "missing.qcow2")
        .await
        .expect("head")
        .is_none());
}

/// A proxy in front of moto that answers every UploadPart `delay` late (a long round trip, no bandwidth limit) and
/// records the most part requests it held at once.
struct SlowParts {
    endpoint: String,
    most_at_once: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl SlowParts {
    async fn start(upstream: String, delay: Duration) -> SlowParts {
        use axum::body::to_bytes;
        use axum::extract::Request;
        let now = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let most = Arc::clone(&most_at_once);
        let http = proxy_client();
        let handler = move |req: Request| {
            let (now, most, http, upstream) = (
                Arc::clone(&now),
                Arc::clone(&most),
                http.clone(),
                upstream.clone(),
            );
            async move {
                let (parts, body) = req.into_parts();
                let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
                if upload_part_number(&parts).is_none() {
                    return forward(&http, &upstream, &parts, body).await;
                }
                let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(at_once, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let answer = forward(&http, &upstream, &parts, body).await;
                now.fetch_sub(1, Ordering::SeqCst);
                answer
            }
        };
        let (endpoint, task) = serve_proxy(axum::Router::new().fallback(handler)).await;
        SlowParts {
            endpoint,
            most_at_once,
            _task: task,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_in_flight_grow_on_a_slow_link_up_to_the_ceiling() {
    let moto = Moto::start();
    let direct = moto.client();
    direct.create_bucket("slow").await.expect("create bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(80 * MIB, 9);
    let path = write_file(dir.path(), "d.raw", &data);
    let sha = sha_hex(&data);
    let req = |key: &'static str| UploadRequest {
        path: &path,
        bucket: "slow",
        key,
        sha256: &sha,
    };
    // Every part waits 400 ms: throughput grows with each part in flight, so the upload goes from 2 to its
    // ceiling of 4 (2 -> 3 -> 4) and never beyond.
    let proxy = SlowParts::start(moto.endpoint.clone(), Duration::from_millis(400)).await;
    let client = moto.client_with(moto.credentials.clone(), &proxy.endpoint);
    let opts = UploadOptions {
        concurrency: 2,
        max_concurrency: 4,
        ..options(5)
    };
    let report = client
        .upload_file(&req("grown.raw"), &opts)
        .await
        .expect("upload");
    assert_eq!((report.parts_total, report.parts_sent), (16, 16));
    assert_eq!(proxy.most_at_once.load(Ordering::SeqCst), 4);
    assert_eq!(
        sha_hex(&download(&direct, "slow", "grown.raw", data.len() as u64).await),
        sha
    );

    // A fixed number (the ceiling at the start) never grows.
    let proxy = SlowParts::start(moto.endpoint.clone(), Duration::from_millis(100)).await;
    let client = moto.client_with(moto.credentials.clone(), &proxy.endpoint);
    let opts = UploadOptions {
        concurrency: 2,
        max_concurrency: 2,
        ..options(5)
    };
    let report = client
        .upload_file(&req("fixed.raw"), &opts)
        .await
        .expect("upload");
    assert_eq!(report.parts_sent, 16);
    assert_eq!(proxy.most_at_once.load(Ordering::SeqCst), 2);
}
