//! Uploading a local disk image: multipart with bounded parallelism and memory, per-part retries and checksums,
//! resume of an interrupted upload, abort on failure, progress lines, and a final size check.
//!
//! Identity of the content: the caller passes the file's SHA-256 (from [`crate::disk::hash_cache`]). It is stored
//! as the object's `x-amz-meta-cloudimage-sha256`, so an object that already holds this content is not sent again.
//!
//! Resume: S3 has no call that shows an unfinished upload's metadata, so an unfinished upload of the same key is
//! adopted only when every part it holds has this run's part size at its position and an ETag equal to the MD5 of
//! the same byte range of the local file (each such range is read and hashed locally, which is much cheaper than
//! sending it). An upload holding any other bytes is left alone. Parts whose ETag is not an MD5 are sent again.
//!
//! Parts in flight: the upload starts with [`UploadOptions::concurrency`] parts in flight and adds more, up to
//! [`UploadOptions::max_concurrency`] and the memory budget, while each added part raises the measured throughput
//! (see `ramp`): what saturates a nearby server leaves a long link idle between parts.
//!
//! Abort: a failed upload (a part that still fails after its retries, a file that changed underneath) is aborted so
//! no parts linger and cost storage. A cancelled or killed run aborts nothing; the next run resumes it.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::Digest as _;

use super::client::{etag_md5, CompletedPart, PartBody, S3Client};
use super::config::{check_bucket, check_key};
use super::error::StorageError;
use super::ramp::Ramp;
use crate::cloud::http::RetryPolicy;

/// Smallest part S3 and the three clouds accept (all but the last part).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// Largest part S3 and the three clouds accept.
pub const MAX_PART_SIZE: u64 = 5 << 30;
/// Most parts in one upload.
pub const MAX_PARTS: u64 = 10_000;
/// Part size when the caller does not choose one and the file needs no larger parts.
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;
/// User metadata name holding the content's SHA-256.
pub const META_SHA256: &str = "cloudimage-sha256";
/// Unfinished uploads examined for resumption, newest first.
const MAX_RESUME_CANDIDATES: usize = 5;
/// Read size while hashing local ranges for resume checks.
const VERIFY_CHUNK: usize = 1 << 20;
/// Memory of the budget that added parts in flight leave to the rest of the process (runtime, HTTP client, hash
/// state: about 7.5 MiB of peak RSS besides the part buffers in `scripts/bench --upload`), so that the whole upload
/// stays within the budget: six parts of 8 MiB at most instead of eight. The starting level is not reduced by it.
const GROWTH_RESERVE: u64 = 16 << 20;

/// What to upload where.
#[derive(Debug, Clone, Copy)]
pub struct UploadRequest<'a> {
    /// The local file.
    pub path: &'a Path,
    /// Target bucket.
    pub bucket: &'a str,
    /// Target key.
    pub key: &'a str,
    /// Lower-case hex SHA-256 of the file's content.
    pub sha256: &'a str,
}

/// A part finished (sent or found already there); given to [`UploadOptions::on_part`].
#[derive(Debug, Clone)]
pub struct PartEvent {
    /// Part number.
    pub number: u32,
    /// Part size in bytes.
    pub size: u64,
    /// Tries it took.
    pub attempts: u32,
    /// Parts complete so far (including those found from an earlier run).
    pub done: u32,
    /// Parts in the upload.
    pub total: u32,
}

/// Observer of finished parts (progress display, tests).
pub type PartObserver = Arc<dyn Fn(&PartEvent) + Send + Sync>;

/// How to upload.
#[derive(Clone)]
pub struct UploadOptions {
    /// Part size; `None` picks [`DEFAULT_PART_SIZE`] or the smallest whole MiB that keeps to [`MAX_PARTS`].
    pub part_size: Option<u64>,
    /// Parts in flight at the start: four saturate a server on the same machine or network (`scripts/bench
    /// --upload`), so a nearby server never pays for the search below.
    pub concurrency: usize,
    /// Parts in flight the upload may grow to while each added part raises the measured throughput (a long link
    /// needs more than a nearby server; see `ramp`). At most `concurrency` keeps the number fixed.
    pub max_concurrency: usize,
    /// Memory for part buffers: fewer parts fly at once when `concurrency` (or `max_concurrency`) parts would not
    /// fit (at least one).
    pub memory_budget: u64,
    /// Tries per part before the upload fails (`max_attempts`) and the delays between them, with the API clients'
    /// backoff. Separate from the client's request retries: a part is worth more patience than one request.
    pub part_retry: RetryPolicy,
    /// Time between INFO progress lines.
    pub progress_interval: Duration,
    /// Sign each part's SHA-256 (`x-amz-content-sha256`), a second check the service makes besides `Content-MD5`;
    /// off sends `UNSIGNED-PAYLOAD` and saves one hash per byte. On by default: OSS's S3-compatible API takes
    /// `UNSIGNED-PAYLOAD` only on requests without a body and wants the body's SHA-256 on PUT and POST (Alibaba
    /// Cloud help center, OSS error 0002-00000427).
    pub sign_payload: bool,
    /// Called after each part completes.
    pub on_part: Option<PartObserver>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            part_size: None,
            concurrency: 4,
            // The memory budget is the real bound: 6 parts of the default 8 MiB (see `GROWTH_RESERVE`).
            max_concurrency: 16,
            memory_budget: 64 << 20,
            // 5 tries, the first retry after 1 s, doubled each time (with jitter), at most 20 s apart.
            part_retry: RetryPolicy {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(20),
                max_attempts: 5,
            },
            progress_interval: Duration::from_secs(10),
            sign_payload: true,
            on_part: None,
        }
    }
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .field("max_concurrency", &self.max_concurrency)
            .field("memory_budget", &self.memory_budget)
            .field("part_retry", &self.part_retry)
            .field("progress_interval", &self.progress_interval)
            .field("sign_payload", &self.sign_payload)
            .finish_non_exhaustive()
    }
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// The multipart upload id (`None` for a single PutObject or an object already there).
    pub upload_id: Option<String>,
    /// True when an unfinished upload from an earlier run was continued.
    pub resumed: bool,
    /// True when the object already held this content and nothing was sent.
    pub already_present: bool,
    /// Object size in bytes.
    pub size: u64,
    /// Part size used.
    pub part_size: u64,
    /// Parts in the upload.
    pub parts_total: u32,
    /// Parts sent by this run.
    pub parts_sent: u32,
    /// Parts found already uploaded (verified) and not sent again.
    pub parts_reused: u32,
    /// Bytes sent by this run (successful part bodies).
    pub bytes_sent: u64,
    /// Part tries that failed and were retried.
    pub retries: u32,
}

impl UploadReport {
    /// The report of an upload of `layout` before anything is sent.
    fn planned(layout: Layout) -> Self {
        Self {
            upload_id: None,
            resumed: false,
            already_present: false,
            size: layout.size,
            part_size: layout.part_size,
            parts_total: layout.count,
            parts_sent: 0,
            parts_reused: 0,
            bytes_sent: 0,
            retries: 0,
        }
    }

    /// The INFO line of a finished multipart upload, with its rate since `started`.
    fn log_uploaded(&self, req: &UploadRequest<'_>, started: Instant) {
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        tracing::info!(
            bucket = req.bucket,
            key = req.key,
            "uploaded {} to {}/{}: {} parts sent, {} reused, {}/s",
            human_bytes(self.size),
            req.bucket,
            req.key,
            self.parts_sent,
            self.parts_reused,
            human_bytes((self.bytes_sent as f64 / secs) as u64)
        );
    }
}

/// The part size and count for a file of `size` bytes: `requested` if valid, else the default rule.
pub fn plan_parts(size: u64, requested: Option<u64>) -> Result<(u64, u32), StorageError> {
    let part_size = match requested {
        Some(p) => {
            if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&p) {
                return Err(StorageError::Config(format!(
                    "part size {p} is outside {MIN_PART_SIZE}..={MAX_PART_SIZE}"
                )));
            }
            p
        }
        None => DEFAULT_PART_SIZE.max(size.div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20),
    };
    let count = size.div_ceil(part_size).max(1);
    if count > MAX_PARTS {
        return Err(StorageError::Config(format!(
            "{size} bytes in parts of {part_size} would need {count} parts (at most {MAX_PARTS})"
        )));
    }
    Ok((part_size, count as u32))
}

/// Byte ranges of the parts.
#[derive(Debug, Clone, Copy)]
struct Layout {
    size: u64,
    part_size: u64,
    count: u32,
}

impl Layout {
    /// `(offset, length)` of part `n` (1-based).
    fn range(&self, n: u32) -> (u64, u64) {
        let offset = u64::from(n - 1) * self.part_size;
        (offset, self.part_size.min(self.size - offset))
    }
}

/// What identifies the local file's version during the upload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileState {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    inode: u64,
}

impl FileState {
    fn of(m: &std::fs::Metadata) -> Self {
        Self {
            size: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            inode: m.ino(),
        }
    }
}

/// Aborts a spawned task when dropped (the progress ticker must not outlive a cancelled upload).
struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `1.50 GiB`-style sizes for progress lines.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

fn file_err(path: &Path) -> impl Fn(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// A part's bytes, and (when asked for) its MD5 and SHA-256.
type ReadPart = (Vec<u8>, Option<[u8; 16]>, Option<[u8; 32]>);

/// Which digests a part needs: the SHA-256 to sign the payload or send S3's checksum header; the MD5 for
/// `Content-MD5`, unless that checksum header is sent (the service verifies it instead).
#[derive(Debug, Clone, Copy)]
struct Digests {
    md5: bool,
    sha256: bool,
}

impl Digests {
    fn of(client: &S3Client, options: &UploadOptions) -> Self {
        let config = client.config();
        let checksums = config.sha256_checksums;
        Self {
            md5: !checksums && config.md5_checks,
            // Without MD5 checks, the signed payload hash is what the service verifies.
            sha256: options.sign_payload || checksums || !config.md5_checks,
        }
    }
}

/// Reads part bytes into `buf` (reusing its allocation) and hashes them.
fn read_part(
    file: &std::fs::File,
    path: &Path,
    mut buf: Vec<u8>,
    offset: u64,
    len: u64,
    digests: Digests,
) -> Result<ReadPart, StorageError> {
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(len)
        .map_err(|_| StorageError::Config("part too large for memory".into()))?;
    buf.clear();
    buf.resize(len, 0);
    let mut done = 0;
    while done < len {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => return Err(StorageError::FileChanged(path.to_path_buf())),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(file_err(path)(e)),
        }
    }
    let md5 = digests.md5.then(|| md5::Md5::digest(&buf).into());
    let sha = digests.sha256.then(|| sha2::Sha256::digest(&buf).into());
    Ok((buf, md5, sha))
}

/// MD5 (hex) and SHA-256 (base64) of `len` bytes at `offset`, read in small chunks.
fn digests_of_range(
    file: &std::fs::File,
    path: &Path,
    offset: u64,
    len: u64,
) -> Result<(String, String), StorageError> {
    use base64::Engine as _;
    use std::os::unix::fs::FileExt;
    let mut hasher = md5::Md5::new();
    let mut sha = sha2::Sha256::new();
    let mut buf = vec![0u8; VERIFY_CHUNK];
    let mut pos = 0u64;
    while pos < len {
        let want = (len - pos).min(VERIFY_CHUNK as u64) as usize;
        match file.read_at(&mut buf[..want], offset + pos) {
            Ok(0) => return Err(StorageError::FileChanged(path.to_path_buf())),
            Ok(n) => {
                hasher.update(&buf[..n]);
                sha.update(&buf[..n]);
                pos += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(file_err(path)(e)),
        }
    }
    Ok((
        hex::encode(hasher.finalize()),
        base64::engine::general_purpose::STANDARD.encode(sha.finalize()),
    ))
}

/// State shared by the part workers.
struct Shared {
    client: S3Client,
    bucket: String,
    key: String,
    upload_id: String,
    path: PathBuf,
    file: Arc<std::fs::File>,
    layout: Layout,
    options: UploadOptions,
    queue: Mutex<VecDeque<u32>>,
    failed: AtomicBool,
    /// The search for the number of parts in flight.
    ramp: Mutex<Ramp>,
    /// Parts allowed in flight now, and whether the workers are done (no part left, or the upload failed): worker
    /// `i` sends parts while `i` is below the number and waits, without a buffer, otherwise.
    slots: tokio::sync::watch::Sender<Slots>,
    bytes_done: AtomicU64,
    bytes_sent: AtomicU64,
    parts_done: AtomicU32,
    parts_sent: AtomicU32,
    retries: AtomicU32,
}

impl Shared {
    /// Tries a part gets when its last try failed with `e`: fewer after a time-out (a service that does not
    /// answer is not waited for five times over).
    fn part_attempts_after(&self, e: &StorageError) -> u32 {
        let all = self.options.part_retry.max_attempts.max(1);
        if e.is_timeout() {
            all.min(self.client.options().attempts_after_timeout.max(1))
        } else {
            all
        }
    }

    fn next_part(&self) -> Option<u32> {
        if self.failed.load(Ordering::SeqCst) {
            return None;
        }
        self.queue.lock().ok()?.pop_front()
    }

    /// Wakes the waiting workers to end: no part is left to send, or the upload failed.
    fn finish_workers(&self) {
        self.slots.send_modify(|s| s.finished = true);
    }

    /// Waits until worker `index` may send a part; false when the workers are done.
    async fn take_slot(&self, index: usize) -> bool {
        let mut slots = self.slots.subscribe();
        let ready = slots
            .wait_for(|s| s.finished || index < s.allowed)
            .await
            .map(|s| !s.finished);
        ready.unwrap_or(false)
    }

    /// Feeds a finished part to the search for parts in flight, and applies a new number.
    fn measure_part(&self, started_at: usize, bytes: u64, took: Duration) {
        let Ok(mut ramp) = self.ramp.lock() else {
            return;
        };
        if let Some(level) = ramp.part_finished(started_at, bytes, took.as_secs_f64()) {
            if let Some((measured, rate)) = ramp.measured() {
                tracing::debug!(bucket = %self.bucket, key = %self.key,
                    "parts in flight: {level} ({}/s measured at {measured}; at most {})",
                    human_bytes(rate as u64), ramp.ceiling());
            }
            self.slots.send_modify(|s| s.allowed = level);
        }
    }

    async fn worker(self: Arc<Self>, index: usize) -> Result<Vec<CompletedPart>, StorageError> {
        let result = self.run_worker(index).await;
        if result.is_err() {
            self.failed.store(true, Ordering::SeqCst);
            self.finish_workers();
        }
        result
    }

    async fn run_worker(&self, index: usize) -> Result<Vec<CompletedPart>, StorageError> {
        let mut done = Vec::new();
        let mut buf = Vec::new();
        loop {
            if index >= self.slots.borrow().allowed {
                // Waiting for a slot: the buffer goes back to the allocator, within the budget for the others.
                buf = Vec::new();
            }
            if !self.take_slot(index).await {
                break;
            }
            let Some(number) = self.next_part() else {
                self.finish_workers();
                break;
            };
            let level = self.slots.borrow().allowed;
            let started = Instant::now();
            let (offset, len) = self.layout.range(number);
            let file = Arc::clone(&self.file);
            let path = self.path.clone();
            let digests = Digests::of(&self.client, &self.options);
            let (data, md5, sha256) = tokio::task::spawn_blocking(move || {
                read_part(&file, &path, buf, offset, len, digests)
            })
            .await
            .map_err(|e| StorageError::File {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })??;
            let body = PartBody {
                data: Bytes::from(data),
                md5,
                sha256,
            };
            let mut attempts = 0;
            let etag = loop {
                attempts += 1;
                match self
                    .client
                    .upload_part(&self.bucket, &self.key, &self.upload_id, number, &body)
                    .await
                {
                    Ok(etag) => break etag,
                    Err(e) if attempts < self.part_attempts_after(&e) && e.is_retryable() => {
                        self.retries.fetch_add(1, Ordering::SeqCst);
                        let delay = self.options.part_retry.delay(attempts);
                        tracing::warn!(bucket = %self.bucket, key = %self.key, part = number, attempt = attempts,
                            error = %e, "part upload failed; retrying in {:.1} s", delay.as_secs_f64());
                        tokio::time::sleep(delay).await;
                        if self.failed.load(Ordering::SeqCst) {
                            return Ok(done);
                        }
                    }
                    Err(e) => return Err(e),
                }
            };
            let checksum_sha256 = self
                .client
                .config()
                .sha256_checksums
                .then(|| body.sha256_base64());
            // Take the buffer back for the next part when no one else holds it.
            buf = body.data.try_into_mut().map(Vec::from).unwrap_or_default();
            self.measure_part(level, len, started.elapsed());
            self.bytes_done.fetch_add(len, Ordering::SeqCst);
            self.bytes_sent.fetch_add(len, Ordering::SeqCst);
            self.parts_sent.fetch_add(1, Ordering::SeqCst);
            let finished = self.parts_done.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(observer) = &self.options.on_part {
                observer(&PartEvent {
                    number,
                    size: len,
                    attempts,
                    done: finished,
                    total: self.layout.count,
                });
            }
            done.push(CompletedPart {
                number,
                etag,
                checksum_sha256,
            });
        }
        Ok(done)
    }
}

/// Parts allowed in flight, and whether the part workers are done.
#[derive(Debug, Clone, Copy)]
struct Slots {
    allowed: usize,
    finished: bool,
}

/// Checks the request (bucket, key, content SHA-256) and opens its file, which must be a regular file.
fn open_local<'a>(req: &UploadRequest<'a>) -> Result<LocalFile<'a>, StorageError> {
    check_bucket(req.bucket)?;
    check_key(req.key)?;
    let sha256 = check_sha256(req.sha256)?;
    let path = req.path;
    let file = Arc::new(std::fs::File::open(path).map_err(file_err(path))?);
    let meta = file.metadata().map_err(file_err(path))?;
    if !meta.is_file() {
        return Err(StorageError::Config(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(LocalFile {
        path,
        file,
        state: FileState::of(&meta),
        sha256,
    })
}

/// Checks that `sha256` is 64 hex digits; returns it lower-case.
fn check_sha256(sha256: &str) -> Result<String, StorageError> {
    if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha256.to_ascii_lowercase())
    } else {
        Err(StorageError::Config(format!(
            "content SHA-256 {sha256:?} is not 64 hex digits"
        )))
    }
}

/// The multipart upload parts go to: its id and the parts it already holds (verified to be this file's bytes).
struct MultipartUpload {
    id: String,
    existing: BTreeMap<u32, CompletedPart>,
    /// How long the requests before it took (the object check and the look for an unfinished upload, made
    /// together): how far the server is, which sets the parts in flight to start with.
    first_requests: Duration,
}

/// The local file being uploaded: open, checked to be a regular file, with the version it had when opened and
/// the content SHA-256 the caller gave.
struct LocalFile<'a> {
    path: &'a Path,
    file: Arc<std::fs::File>,
    state: FileState,
    sha256: String,
}

impl LocalFile<'_> {
    /// Why the sent `parts` cannot be completed: the file changed underneath, or parts are missing. `Err` only when
    /// the file cannot be looked at any more (returned as is: no abort).
    fn cannot_complete(
        &self,
        req: &UploadRequest<'_>,
        count: u32,
        parts: &[CompletedPart],
    ) -> Result<Option<StorageError>, StorageError> {
        let now = self.file.metadata().map_err(file_err(self.path))?;
        Ok(if FileState::of(&now) != self.state {
            Some(StorageError::FileChanged(self.path.to_path_buf()))
        } else if parts.len() != count as usize {
            Some(StorageError::Protocol {
                op: "UploadPart",
                target: format!("{}/{}", req.bucket, req.key),
                message: format!("{} of {count} parts uploaded", parts.len()),
            })
        } else {
            None
        })
    }
}

impl S3Client {
    /// Uploads a local file to `bucket/key` (see the module documentation for the rules).
    ///
    /// The phases: check the request and the file, plan the parts, skip an object that already holds this
    /// content, send a small file in one request, else find an unfinished upload to resume or start one, send the
    /// missing parts, then complete the upload and verify the object (aborting the upload when a phase fails).
    pub async fn upload_file(
        &self,
        req: &UploadRequest<'_>,
        options: &UploadOptions,
    ) -> Result<UploadReport, StorageError> {
        let local = open_local(req)?;
        let layout = self.plan_layout(local.state.size, options)?;
        let mut report = UploadReport::planned(layout);
        if layout.size <= layout.part_size {
            if self.holds_content(req, &local, layout.size).await? {
                report.already_present = true;
                return Ok(report);
            }
            self.put_whole(req, &local, layout.size, options).await?;
            report.parts_sent = 1;
            report.bytes_sent = layout.size;
            return Ok(report);
        }
        // The object check and the look for an unfinished upload are independent reads: made together, a long
        // link pays one round trip for both.
        let asked = Instant::now();
        let (holds, found) = tokio::join!(
            self.holds_content(req, &local, layout.size),
            self.find_resumable(req, layout, &local.file)
        );
        let first_requests = asked.elapsed();
        if holds? {
            report.already_present = true;
            return Ok(report);
        }
        let upload = MultipartUpload {
            first_requests,
            ..self
                .find_or_start_upload(req, &local, layout, found, &mut report)
                .await?
        };
        let started = Instant::now();
        let sent = self
            .send_parts(req, &local, layout, options, &upload, &mut report)
            .await;
        let failure = match &sent {
            Ok(parts) => local.cannot_complete(req, layout.count, parts)?,
            Err(_) => None,
        };
        let parts = match (sent, failure) {
            (Ok(parts), None) => parts,
            (Err(e), _) | (Ok(_), Some(e)) => {
                self.abort_after_failure(req, &upload.id, &e).await;
                return Err(e);
            }
        };
        self.complete_and_verify(req, &local, layout.size, &upload.id, &parts)
            .await?;
        report.log_uploaded(req, started);
        Ok(report)
    }

    /// The part size and count for a file of `size` bytes: the caller's part size, else the service's one part
    /// size, else the default rule.
    fn plan_layout(&self, size: u64, options: &UploadOptions) -> Result<Layout, StorageError> {
        let (part_size, count) =
            plan_parts(size, options.part_size.or(self.config().fixed_part_size))?;
        Ok(Layout {
            size,
            part_size,
            count,
        })
    }

    /// Whether the object already has this file's size and content tag, so nothing needs sending.
    async fn holds_content(
        &self,
        req: &UploadRequest<'_>,
        local: &LocalFile<'_>,
        size: u64,
    ) -> Result<bool, StorageError> {
        let Some(info) = self.head_object(req.bucket, req.key).await? else {
            return Ok(false);
        };
        let same = info.size == size
            && info
                .metadata
                .get(META_SHA256)
                .is_some_and(|s| s.eq_ignore_ascii_case(&local.sha256));
        if same {
            tracing::info!(
                bucket = req.bucket,
                key = req.key,
                "object already holds this content ({}); not uploading",
                human_bytes(size)
            );
        }
        Ok(same)
    }

    /// One request: a file small enough for a single PutObject, then the object verified.
    async fn put_whole(
        &self,
        req: &UploadRequest<'_>,
        local: &LocalFile<'_>,
        size: u64,
        options: &UploadOptions,
    ) -> Result<(), StorageError> {
        let metadata = [(META_SHA256, local.sha256.as_str())];
        let digests = Digests::of(self, options);
        let (f, p) = (Arc::clone(&local.file), local.path.to_path_buf());
        let (data, md5, sha) =
            tokio::task::spawn_blocking(move || read_part(&f, &p, Vec::new(), 0, size, digests))
                .await
                .map_err(|e| file_err(local.path)(std::io::Error::other(e)))??;
        let body = PartBody {
            data: Bytes::from(data),
            md5,
            sha256: sha,
        };
        self.put_object(req.bucket, req.key, &body, &metadata)
            .await?;
        self.verify_object(req, size, &local.sha256).await
    }

    /// The multipart upload to send parts to: the unfinished one `found` holding this file's bytes (with its
    /// verified parts), else a new one. Records the upload in `report`.
    async fn find_or_start_upload(
        &self,
        req: &UploadRequest<'_>,
        local: &LocalFile<'_>,
        layout: Layout,
        found: Result<Option<Resumable>, StorageError>,
        report: &mut UploadReport,
    ) -> Result<MultipartUpload, StorageError> {
        // Resuming is an optimisation: a service that cannot list unfinished uploads gets a fresh one.
        let found = match found {
            Ok(found) => found,
            Err(e @ (StorageError::File { .. } | StorageError::FileChanged(_))) => return Err(e),
            Err(e) => {
                tracing::warn!(bucket = req.bucket, key = req.key, error = %e,
                    "cannot look for an unfinished upload to resume; starting a new one");
                None
            }
        };
        let (id, existing) = match found {
            Some((id, parts)) => {
                report.resumed = true;
                (id, parts)
            }
            None => {
                let metadata = [(META_SHA256, local.sha256.as_str())];
                (
                    self.create_multipart_upload(req.bucket, req.key, &metadata)
                        .await?,
                    BTreeMap::new(),
                )
            }
        };
        report.upload_id = Some(id.clone());
        report.parts_reused = existing.len() as u32;
        if report.resumed {
            let reused_bytes: u64 = existing.keys().map(|&n| layout.range(n).1).sum();
            tracing::info!(
                bucket = req.bucket,
                key = req.key,
                "resuming an unfinished upload: {} of {} parts ({}) already there",
                existing.len(),
                layout.count,
                human_bytes(reused_bytes)
            );
        }
        Ok(MultipartUpload {
            id,
            existing,
            first_requests: Duration::ZERO,
        })
    }

    /// Sends the parts `upload` lacks with bounded parallelism and memory, logging progress; all parts (the
    /// existing ones and those sent) or the first real cause of a failure. Records what was sent in `report`.
    async fn send_parts(
        &self,
        req: &UploadRequest<'_>,
        local: &LocalFile<'_>,
        layout: Layout,
        options: &UploadOptions,
        upload: &MultipartUpload,
        report: &mut UploadReport,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        // Parts whose buffers fit in the memory budget (at least one); those the growth may reach leave room for
        // the rest of the process.
        let fit = (options.memory_budget / layout.part_size).max(1) as usize;
        let grow_fit =
            (options.memory_budget.saturating_sub(GROWTH_RESERVE) / layout.part_size) as usize;
        let start = options.concurrency.clamp(1, 64).min(fit);
        let ramp = Ramp::after_first_requests(
            start,
            options.max_concurrency.clamp(1, 64).min(grow_fit),
            upload.first_requests,
        );
        let workers_needed = ramp.ceiling().min(layout.count as usize);
        let existing = &upload.existing;
        let missing: VecDeque<u32> = (1..=layout.count)
            .filter(|n| !existing.contains_key(n))
            .collect();
        let reused_bytes: u64 = existing.keys().map(|&n| layout.range(n).1).sum();
        let shared = Arc::new(Shared {
            client: self.clone(),
            bucket: req.bucket.to_string(),
            key: req.key.to_string(),
            upload_id: upload.id.clone(),
            path: local.path.to_path_buf(),
            file: Arc::clone(&local.file),
            layout,
            options: options.clone(),
            queue: Mutex::new(missing),
            failed: AtomicBool::new(false),
            slots: tokio::sync::watch::Sender::new(Slots {
                allowed: ramp.level(),
                finished: false,
            }),
            ramp: Mutex::new(ramp),
            bytes_done: AtomicU64::new(reused_bytes),
            bytes_sent: AtomicU64::new(0),
            parts_done: AtomicU32::new(existing.len() as u32),
            parts_sent: AtomicU32::new(0),
            retries: AtomicU32::new(0),
        });

        let _ticker = AbortOnDrop(tokio::spawn(progress(Arc::clone(&shared), Instant::now())));
        let mut workers = tokio::task::JoinSet::new();
        for index in 0..workers_needed {
            workers.spawn(Arc::clone(&shared).worker(index));
        }
        let mut parts: Vec<CompletedPart> = existing.values().cloned().collect();
        let mut failure: Option<StorageError> = None;
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(Ok(done)) => parts.extend(done),
                Ok(Err(e)) => {
                    // Keep the first real cause.
                    failure.get_or_insert(e);
                }
                Err(e) => {
                    failure.get_or_insert(StorageError::File {
                        path: local.path.to_path_buf(),
                        source: std::io::Error::other(e),
                    });
                }
            }
        }
        report.parts_sent = shared.parts_sent.load(Ordering::SeqCst);
        report.bytes_sent = shared.bytes_sent.load(Ordering::SeqCst);
        report.retries = shared.retries.load(Ordering::SeqCst);
        if let Ok(ramp) = shared.ramp.lock() {
            if ramp.level() != start {
                tracing::info!(
                    bucket = req.bucket,
                    key = req.key,
                    "sent with {} parts in flight (measured: started with {start}, at most {})",
                    ramp.level(),
                    ramp.ceiling()
                );
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(parts),
        }
    }

    /// CompleteMultipartUpload (aborting the upload when it fails), then the object verified.
    async fn complete_and_verify(
        &self,
        req: &UploadRequest<'_>,
        local: &LocalFile<'_>,
        size: u64,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), StorageError> {
        if let Err(e) = self
            .complete_multipart_upload(req.bucket, req.key, upload_id, parts)
            .await
        {
            // A retried Complete whose first try succeeded answers NoSuchUpload: the object tells.
            let done = e.is_not_found()
                && self
                    .head_object(req.bucket, req.key)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|i| {
                        i.size == size && i.metadata.get(META_SHA256) == Some(&local.sha256)
                    });
            if !done {
                self.abort_after_failure(req, upload_id, &e).await;
                return Err(e);
            }
        }
        self.verify_object(req, size, &local.sha256).await
    }

    /// HeadObject after the upload: the object must have the file's size (and our content tag when it kept one).
    async fn verify_object(
        &self,
        req: &UploadRequest<'_>,
        size: u64,
        sha256: &str,
    ) -> Result<(), StorageError> {
        let target = format!("{}/{}", req.bucket, req.key);
        let info = self
            .head_object(req.bucket, req.key)
            .await?
            .ok_or_else(|| StorageError::Integrity {
                target: target.clone(),
                message: "the object does not exist after the upload".into(),
            })?;
        if info.size != size {
            return Err(StorageError::Integrity {
                target,
                message: format!("the object has {} bytes, the file {size}", info.size),
            });
        }
        match info.metadata.get(META_SHA256) {
            Some(s) if !s.eq_ignore_ascii_case(sha256) => Err(StorageError::Integrity {
                target,
                message: format!("the object's {META_SHA256} is {s}, the file's {sha256}"),
            }),
            Some(_) => Ok(()),
            None => {
                tracing::warn!(bucket = req.bucket, key = req.key,
                    "the uploaded object has no {META_SHA256} metadata (resumed from an upload started elsewhere?)");
                Ok(())
            }
        }
    }

    async fn abort_after_failure(
        &self,
        req: &UploadRequest<'_>,
        upload_id: &str,
        cause: &StorageError,
    ) {
        tracing::warn!(bucket = req.bucket, key = req.key, error = %cause, "upload failed; aborting the multipart upload");
        if let Err(e) = self
            .abort_multipart_upload(req.bucket, req.key, upload_id)
            .await
        {
            tracing::warn!(bucket = req.bucket, key = req.key, error = %e,
                "could not abort the multipart upload; its parts stay until a lifecycle rule or a later run removes them");
        }
    }

    /// An unfinished upload of `req.key` whose parts are all this file's bytes at this layout, with its verified
    /// parts.
    async fn find_resumable(
        &self,
        req: &UploadRequest<'_>,
        layout: Layout,
        file: &Arc<std::fs::File>,
    ) -> Result<Option<Resumable>, StorageError> {
        let mut uploads: Vec<_> = self
            .list_multipart_uploads(req.bucket, req.key)
            .await?
            .into_iter()
            .filter(|u| u.key == req.key)
            .collect();
        uploads.sort_by(|a, b| b.initiated.cmp(&a.initiated));
        let sha256_mode = self.config().sha256_checksums;
        for upload in uploads.into_iter().take(MAX_RESUME_CANDIDATES) {
            // Parts of an upload created with another checksum setting could not be completed together.
            let upload_sha256 = upload
                .checksum_algorithm
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("SHA256"));
            if upload_sha256 != sha256_mode
                || (upload.checksum_algorithm.is_some() && !upload_sha256)
            {
                tracing::info!(bucket = req.bucket, key = req.key, upload_id = %upload.upload_id,
                    "not resuming an unfinished upload with another checksum algorithm");
                continue;
            }
            let parts = match self
                .list_parts(req.bucket, req.key, &upload.upload_id)
                .await
            {
                Ok(p) => p,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let mut verified = BTreeMap::new();
            let mut foreign = None;
            for part in &parts {
                if part.number == 0
                    || part.number > layout.count
                    || part.size != layout.range(part.number).1
                {
                    foreign = Some(format!("part {} has {} bytes", part.number, part.size));
                    break;
                }
                let Some(remote) = etag_md5(&part.etag).filter(|_| self.config().md5_checks) else {
                    continue; // not verifiable: sent again
                };
                let (offset, len) = layout.range(part.number);
                let (f, p) = (Arc::clone(file), req.path.to_path_buf());
                let (local_md5, local_sha256) =
                    tokio::task::spawn_blocking(move || digests_of_range(&f, &p, offset, len))
                        .await
                        .map_err(|e| file_err(req.path)(std::io::Error::other(e)))??;
                let sha_differs = part
                    .checksum_sha256
                    .as_deref()
                    .is_some_and(|c| c.trim() != local_sha256);
                if local_md5 != remote || sha_differs {
                    foreign = Some(format!("part {} holds other bytes", part.number));
                    break;
                }
                verified.insert(
                    part.number,
                    CompletedPart {
                        number: part.number,
                        etag: part.etag.clone(),
                        checksum_sha256: sha256_mode.then_some(local_sha256),
                    },
                );
            }
            match foreign {
                None => return Ok(Some((upload.upload_id, verified))),
                Some(why) => {
                    tracing::info!(bucket = req.bucket, key = req.key, upload_id = %upload.upload_id,
                    "not resuming an unfinished upload of another content: {why}")
                }
            }
        }
        Ok(None)
    }
}

/// Logs a progress line every `progress_interval` until aborted.
/// An unfinished upload to resume: its ID and the parts it holds that match the file.
type Resumable = (String, BTreeMap<u32, CompletedPart>);

async fn progress(shared: Arc<Shared>, started: Instant) {
    let every = shared
        .options
        .progress_interval
        .max(Duration::from_millis(100));
    let total = shared.layout.size;
    let start_bytes = shared.bytes_done.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(every).await;
        let done = shared.bytes_done.load(Ordering::SeqCst);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let rate = (done.saturating_sub(start_bytes) as f64 / secs) as u64;
        let pct = if total == 0 {
            100.0
        } else {
            done as f64 * 100.0 / total as f64
        };
        tracing::info!(bucket = %shared.bucket, key = %shared.key, bytes = done, total, "uploading {} to {}/{}: {} of {} ({pct:.0}%), {}/s",
            shared.path.display(), shared.bucket, shared.key, human_bytes(done), human_bytes(total), human_bytes(rate));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_plans() {
        assert_eq!(plan_parts(0, None).unwrap(), (DEFAULT_PART_SIZE, 1));
        assert_eq!(plan_parts(2 << 30, None).unwrap(), (8 << 20, 256));
        // 200 GiB needs parts over 8 MiB: the smallest whole MiB that keeps to 10,000 parts.
        let (p, n) = plan_parts(200 << 30, None).unwrap();
        assert_eq!(p, 21 << 20);
        assert!(u64::from(n) <= MAX_PARTS);
        assert_eq!(plan_parts(12 << 20, Some(5 << 20)).unwrap(), (5 << 20, 3));
        assert!(plan_parts(12 << 20, Some(1 << 20)).is_err());
        assert!(plan_parts(60 << 30, Some(5 << 20)).is_err());
        let l = Layout {
            size: 12 << 20,
            part_size: 5 << 20,
            count: 3,
        };
        assert_eq!(l.range(3), (10 << 20, 2 << 20));
    }

    #[test]
    fn sizes_and_hashes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 29), "1.50 GiB");
        assert!(check_sha256(&"A".repeat(64)).is_ok());
        assert!(check_sha256("abc").is_err());
    }
}
