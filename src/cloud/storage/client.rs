//! The signed S3 operations: one method per S3 call the provider needs, each retried where that is safe.
//!
//! Request shapes follow the S3 API reference (botocore's `s3/2006-03-01` model): HeadObject, GetObject with
//! `Range`, PutObject, DeleteObject, CreateBucket, CreateMultipartUpload (`POST ?uploads`), UploadPart
//! (`PUT ?partNumber&uploadId`), ListParts (`GET ?uploadId`), ListMultipartUploads (`GET /?uploads&prefix`),
//! CompleteMultipartUpload (`POST ?uploadId`), AbortMultipartUpload (`DELETE ?uploadId`). Signatures are AWS
//! Signature V4 computed by Apache OpenDAL's `reqsign`; the client adds `x-amz-content-sha256` (the payload hash,
//! or `UNSIGNED-PAYLOAD` where the caller chooses) and `Content-MD5` on every body it sends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use md5::Digest as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqsign_aws_v4::{Credential, RequestSigner, StaticCredentialProvider};
use reqsign_core::{Context, Signer};

use super::config::{check_bucket, check_key, Addressing, StorageConfig};
use super::error::StorageError;
use super::xml;
pub use super::xml::CompletedPart;
use crate::cloud::http::RetryPolicy;

/// Unreserved characters (RFC 3986), which SigV4 leaves unencoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Object keys keep their `/` separators.
const KEY_SET: &AsciiSet = &UNRESERVED.remove(b'/');
/// Largest XML or error body read.
const MAX_XML_BODY: usize = 16 << 20;
/// Metadata prefix on the wire.
const META_PREFIX: &str = "x-amz-meta-";
/// The payload hash header value that leaves the body out of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Retry and timeout settings of the storage client (the API clients' counterpart is
/// [`crate::cloud::http::StorageOptions`]).
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Retries of requests that are safe to repeat, with the API clients' backoff (`max_attempts` 1 = no retry).
    pub retry: RetryPolicy,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Time allowed for the service to start answering, beyond the time the bodies take at `min_rate`. A server
    /// that accepts connections and never answers fails a request after this long.
    pub request_timeout: Duration,
    /// Slowest transfer rate tolerated for request and response bodies, in bytes per second: a body of `n`
    /// bytes gets `request_timeout + n / min_rate`.
    pub min_rate: u64,
    /// Tries per request after a time-out (at most `retry.max_attempts`): a service that let one request time out
    /// is not waited for over and over.
    pub attempts_after_timeout: u32,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            // 4 tries, the first retry after 500 ms, doubled each time (with jitter), at most 20 s apart.
            retry: RetryPolicy {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(20),
                max_attempts: 4,
            },
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
            min_rate: 128 << 10,
            attempts_after_timeout: 2,
        }
    }
}

/// What HeadObject tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
    /// ETag as the service returns it (quotes included).
    pub etag: Option<String>,
    /// User metadata (`x-amz-meta-*`), names lower-case without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// `x-amz-storage-class`, where the service names one (absent means standard).
    pub storage_class: Option<String>,
    /// `x-amz-server-side-encryption` (`AES256`, `aws:kms`, OSS `KMS`/`SM4`), where the object is encrypted at rest.
    pub server_side_encryption: Option<String>,
}

/// One part of an unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1-based part number.
    pub number: u32,
    /// ETag (quotes included).
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Base64 SHA-256 the service keeps for the part (uploads with the SHA256 checksum algorithm).
    pub checksum_sha256: Option<String>,
}

/// One unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// Object key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// When it was started (ISO 8601, as the service wrote it).
    pub initiated: Option<String>,
    /// The checksum algorithm it was created with (`SHA256`, ...), if any.
    pub checksum_algorithm: Option<String>,
}

/// A part body with the digests the client sends along.
#[derive(Debug, Clone)]
pub struct PartBody {
    /// The bytes.
    pub data: Bytes,
    /// MD5 of `data` (sent as `Content-MD5`, which the service verifies, and compared with the returned ETag).
    /// `None` only with [`StorageConfig::sha256_checksums`], whose `x-amz-checksum-sha256` the service verifies
    /// instead (saving one hash per byte).
    pub md5: Option<[u8; 16]>,
    /// SHA-256 of `data`: the signed payload hash (`x-amz-content-sha256`) and, with
    /// [`StorageConfig::sha256_checksums`], `x-amz-checksum-sha256`. `None`: `UNSIGNED-PAYLOAD` (the checksum
    /// header, when configured, is then computed here).
    pub sha256: Option<[u8; 32]>,
}

impl PartBody {
    /// Computes the digests of `data` (both MD5 and SHA-256).
    pub fn new(data: Bytes) -> Self {
        let md5 = Some(md5::Md5::digest(&data).into());
        let sha256 = Some(sha2::Sha256::digest(&data).into());
        Self { data, md5, sha256 }
    }

    /// Base64 of the SHA-256, as `x-amz-checksum-sha256` and `ChecksumSHA256` carry it.
    pub fn sha256_base64(&self) -> String {
        let digest: [u8; 32] = self
            .sha256
            .unwrap_or_else(|| sha2::Sha256::digest(&self.data).into());
        b64(&digest)
    }

    fn payload_hash(&self) -> String {
        self.sha256
            .map_or_else(|| UNSIGNED_PAYLOAD.to_string(), hex::encode)
    }
}

/// An S3-compatible object-storage client (cheap to clone).
#[derive(Clone)]
pub struct S3Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    signer: Signer<Credential>,
    config: StorageConfig,
    options: StorageOptions,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One request to build, sign and send.
struct Call<'a> {
    op: &'static str,
    method: Method,
    bucket: &'a str,
    key: Option<&'a str>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(HeaderName, String)>,
    body: Bytes,
    /// Hex SHA-256 of the body, or [`UNSIGNED_PAYLOAD`].
    payload_hash: String,
    /// Expected response body size, for the timeout.
    response_bytes: u64,
}

impl Call<'_> {
    fn target(&self) -> String {
        match self.key {
            Some(k) => format!("{}/{}", self.bucket, k),
            None => self.bucket.to_string(),
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Lower-case hex of an ETag's MD5, when the ETag is one (not a multipart or encrypted object's ETag).
pub fn etag_md5(etag: &str) -> Option<String> {
    let t = etag.trim().trim_matches('"');
    (t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase())
}

impl S3Client {
    /// A client for `config` with default retry and timeout settings.
    pub fn new(config: StorageConfig) -> Result<Self, StorageError> {
        Self::with_options(config, StorageOptions::default())
    }

    /// A client with explicit retry and timeout settings (tests shrink the delays).
    pub fn with_options(
        config: StorageConfig,
        options: StorageOptions,
    ) -> Result<Self, StorageError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            // Signed requests are never re-sent elsewhere (a redirect would carry the signature and token away).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "terraform-provider-cloudimage/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| StorageError::Config(format!("cannot build the HTTP client: {e}")))?;
        let c = &config.credentials;
        // The only place the secret and the token leave their `Secret`: the signer needs their text.
        let mut provider =
            StaticCredentialProvider::new(&c.access_key_id, c.secret_access_key.expose());
        if let Some(token) = &c.session_token {
            provider = provider.with_session_token(token.expose());
        }
        let signer = Signer::new(
            Context::new(),
            provider,
            RequestSigner::new("s3", &config.region).with_standard_session_token(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                signer,
                config,
                options,
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &StorageConfig {
        &self.inner.config
    }

    /// The retry settings this client was built with.
    pub fn options(&self) -> &StorageOptions {
        &self.inner.options
    }

    fn url(&self, bucket: &str, key: Option<&str>, query: &[(&'static str, String)]) -> String {
        let ep = &self.inner.config.endpoint;
        let host = ep.host_str().unwrap_or_default();
        let port = ep.port().map(|p| format!(":{p}")).unwrap_or_default();
        let key = key.map(|k| utf8_percent_encode(k, KEY_SET).to_string());
        let (authority, path) = match self.inner.config.addressing {
            Addressing::VirtualHosted => (
                format!("{bucket}.{host}{port}"),
                format!("/{}", key.unwrap_or_default()),
            ),
            Addressing::Path => (
                format!("{host}{port}"),
                match key {
                    Some(k) => format!("/{bucket}/{k}"),
                    None => format!("/{bucket}"),
                },
            ),
            // The domain is the bucket's: no bucket in host or path.
            Addressing::CustomDomain => (
                format!("{host}{port}"),
                format!("/{}", key.unwrap_or_default()),
            ),
        };
        let mut url = format!("{}://{authority}{path}", ep.scheme());
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            if !v.is_empty() {
                url.push('=');
                url.push_str(&utf8_percent_encode(v, UNRESERVED).to_string());
            }
        }
        url
    }

    fn timeout_for(&self, bytes: u64) -> Duration {
        let o = &self.inner.options;
        o.request_timeout + Duration::from_secs(bytes / o.min_rate.max(1))
    }

    /// Signs and sends one attempt of `call`; a non-2xx answer becomes [`StorageError::Service`].
    async fn send_once(&self, call: &Call<'_>) -> Result<reqwest::Response, StorageError> {
        let url = self.url(call.bucket, call.key, &call.query);
        let sign_err = |message: String| StorageError::Sign {
            op: call.op,
            message,
        };
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(&url)
            .header("x-amz-content-sha256", &call.payload_hash);
        for (name, value) in &call.headers {
            builder = builder.header(name, value);
        }
        let (mut parts, ()) = builder
            .body(())
            .map_err(|e| sign_err(e.to_string()))?
            .into_parts();
        self.inner
            .signer
            .sign(&mut parts, None)
            .await
            .map_err(|e| sign_err(e.to_string()))?;
        let request = http::Request::from_parts(parts, reqwest::Body::from(call.body.clone()));
        let mut request =
            reqwest::Request::try_from(request).map_err(|e| sign_err(e.to_string()))?;
        *request.timeout_mut() =
            Some(self.timeout_for(call.body.len() as u64 + call.response_bytes));
        let started = Instant::now();
        let response =
            self.inner
                .http
                .execute(request)
                .await
                .map_err(|source| StorageError::Transport {
                    op: call.op,
                    target: call.target(),
                    source,
                })?;
        let status = response.status();
        tracing::debug!(op = call.op, target = %call.target(), status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64, "object storage request");
        if status.is_success() {
            return Ok(response);
        }
        Err(self.service_error(call, response).await)
    }

    async fn service_error(&self, call: &Call<'_>, response: reqwest::Response) -> StorageError {
        let status = response.status();
        let header_id = request_id(response.headers());
        let response_ec = response
            .headers()
            .get("x-oss-ec")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_limited(response, 64 << 10).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let parsed = xml::error_in(&text).unwrap_or_default();
        StorageError::Service {
            op: call.op,
            target: call.target(),
            status: status.as_u16(),
            code: parsed.code.unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .replace(' ', "")
            }),
            message: parsed.message.unwrap_or_default(),
            request_id: parsed.request_id.or(header_id),
            ec: response_ec,
        }
    }

    /// Sends `call`, trying again after retryable failures when `retry` is set.
    async fn send(&self, call: &Call<'_>, retry: bool) -> Result<reqwest::Response, StorageError> {
        let attempts = if retry {
            self.inner.options.retry.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 1;
        let mut limit = attempts;
        loop {
            match self.send_once(call).await {
                Ok(r) => return Ok(r),
                Err(e) if attempt < limit && e.is_retryable() => {
                    if e.is_timeout() {
                        limit = limit.min(self.inner.options.attempts_after_timeout.max(1));
                        if attempt >= limit {
                            return Err(e);
                        }
                    }
                    let delay = self.inner.options.retry.delay(attempt);
                    tracing::debug!(op = call.op, target = %call.target(), attempt, error = %e,
                        delay_ms = delay.as_millis() as u64, "retrying object storage request");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `call` and reads its XML body.
    async fn send_xml(&self, call: &Call<'_>, retry: bool) -> Result<String, StorageError> {
        let response = self.send(call, retry).await?;
        let body = read_limited(response, MAX_XML_BODY)
            .await
            .map_err(|source| StorageError::Transport {
                op: call.op,
                target: call.target(),
                source,
            })?;
        String::from_utf8(body).map_err(|_| self.protocol(call, "the body is not UTF-8"))
    }

    /// Sends `call` and parses its XML body as `T` (an unreadable body is a protocol error naming the call).
    async fn send_parsed<T: for<'de> serde::Deserialize<'de>>(
        &self,
        call: &Call<'_>,
        retry: bool,
    ) -> Result<T, StorageError> {
        let text = self.send_xml(call, retry).await?;
        xml::parse(&text).map_err(|e| self.protocol(call, e))
    }

    fn protocol(&self, call: &Call<'_>, message: impl Into<String>) -> StorageError {
        StorageError::Protocol {
            op: call.op,
            target: call.target(),
            message: message.into(),
        }
    }

    fn call<'a>(
        &self,
        op: &'static str,
        method: Method,
        bucket: &'a str,
        key: Option<&'a str>,
    ) -> Call<'a> {
        Call {
            op,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            body: Bytes::new(),
            payload_hash: sha256_hex(b""),
            response_bytes: 0,
        }
    }

    /// HeadObject: the object's size, ETag and metadata, or `None` when it does not exist.
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<ObjectInfo>, StorageError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let call = self.call("HeadObject", Method::HEAD, bucket, Some(key));
        let response = match self.send(&call, true).await {
            Ok(r) => r,
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        let headers = response.headers();
        let size = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| self.protocol(&call, "no Content-Length"))?;
        let etag = headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let metadata = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix(META_PREFIX)?;
                Some((name.to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Some(ObjectInfo {
            size,
            etag,
            metadata,
            storage_class: header("x-amz-storage-class"),
            server_side_encryption: header("x-amz-server-side-encryption"),
        }))
    }

    /// GetObject of `len` bytes at `offset` (a `Range` request): fewer bytes only at the end of the object, none at
    /// or past it. Never reads more than `len` bytes of the answer, even from a server that ignores `Range`.
    pub async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        check_bucket(bucket)?;
        check_key(key)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        let last = offset.saturating_add(len as u64 - 1);
        let mut call = self.call("GetObject", Method::GET, bucket, Some(key));
        call.headers
            .push((http::header::RANGE, format!("bytes={offset}-{last}")));
        call.response_bytes = len as u64;
        let response = match self.send(&call, true).await {
            Ok(r) => r,
            Err(e) if e.status() == Some(416) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if response.status() == http::StatusCode::OK && offset != 0 {
            return Err(self.protocol(&call, "the server ignored the Range header"));
        }
        read_limited(response, len)
            .await
            .map_err(|source| StorageError::Transport {
                op: call.op,
                target: call.target(),
                source,
            })
    }

    /// DeleteObject; a missing object counts as deleted.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StorageError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let call = self.call("DeleteObject", Method::DELETE, bucket, Some(key));
        match self.send(&call, true).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// CreateBucket (tests and benchmarks make their buckets with it; the provider never creates buckets).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), StorageError> {
        check_bucket(bucket)?;
        let call = self.call("CreateBucket", Method::PUT, bucket, None);
        match self.send(&call, true).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// PutObject of a small body in one request, with `Content-MD5` and user metadata; returns the ETag.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &PartBody,
        metadata: &[(&str, &str)],
    ) -> Result<String, StorageError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let mut call = self.call("PutObject", Method::PUT, bucket, Some(key));
        call.body = body.data.clone();
        call.payload_hash = body.payload_hash();
        self.push_digests(&mut call, body)?;
        push_metadata(&mut call.headers, metadata)?;
        let response = self.send(&call, true).await?;
        let etag = etag_of(response.headers()).ok_or_else(|| self.protocol(&call, "no ETag"))?;
        self.check_etag(&call, &etag, body.md5.as_ref())?;
        Ok(etag)
    }

    /// CreateMultipartUpload with user metadata (kept on the final object); returns the upload id. Not retried: a
    /// lost answer would leave an upload nobody knows.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        metadata: &[(&str, &str)],
    ) -> Result<String, StorageError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let mut call = self.call("CreateMultipartUpload", Method::POST, bucket, Some(key));
        call.query.push(("uploads", String::new()));
        if self.inner.config.sha256_checksums {
            call.headers.push((
                HeaderName::from_static("x-amz-checksum-algorithm"),
                "SHA256".into(),
            ));
        }
        push_metadata(&mut call.headers, metadata)?;
        let r: xml::InitiateResult = self.send_parsed(&call, false).await?;
        if r.upload_id.is_empty() {
            return Err(self.protocol(&call, "empty UploadId"));
        }
        Ok(r.upload_id)
    }

    /// UploadPart, one attempt (the uploader retries whole parts): sends `Content-MD5`, checks that the returned
    /// ETag is the part's MD5 where the ETag is an MD5, and returns the ETag.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        body: &PartBody,
    ) -> Result<String, StorageError> {
        let mut call = self.call("UploadPart", Method::PUT, bucket, Some(key));
        call.query.push(("partNumber", number.to_string()));
        call.query.push(("uploadId", upload_id.to_string()));
        call.body = body.data.clone();
        call.payload_hash = body.payload_hash();
        self.push_digests(&mut call, body)?;
        let response = self.send(&call, false).await?;
        let etag = etag_of(response.headers()).ok_or_else(|| self.protocol(&call, "no ETag"))?;
        self.check_etag(&call, &etag, body.md5.as_ref())?;
        Ok(etag)
    }

    /// Adds the checksum the service verifies: `Content-MD5` (where it checks one), and `x-amz-checksum-sha256`
    /// when the configuration asks for S3 flexible checksums. A body must carry one of the two, or else a signed
    /// payload hash (what a service without MD5 checks verifies).
    fn push_digests(&self, call: &mut Call<'_>, body: &PartBody) -> Result<(), StorageError> {
        let md5 = body.md5.as_ref().filter(|_| self.inner.config.md5_checks);
        if let Some(md5) = md5 {
            call.headers
                .push((HeaderName::from_static("content-md5"), b64(md5)));
        }
        if self.inner.config.sha256_checksums {
            call.headers.push((
                HeaderName::from_static("x-amz-checksum-sha256"),
                body.sha256_base64(),
            ));
        } else if md5.is_none() && call.payload_hash == UNSIGNED_PAYLOAD {
            return Err(StorageError::Config(format!(
                "{}: a body without Content-MD5 needs SHA-256 checksums or a signed payload",
                call.op
            )));
        }
        Ok(())
    }

    /// The ETag must be the MD5 of what was sent, where the ETag is an MD5 and the MD5 was computed.
    fn check_etag(
        &self,
        call: &Call<'_>,
        etag: &str,
        md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        let Some(md5) = md5.filter(|_| self.inner.config.md5_checks) else {
            return Ok(());
        };
        match etag_md5(etag) {
            Some(got) if got != hex::encode(md5) => Err(StorageError::Integrity {
                target: call.target(),
                message: format!(
                    "{} returned ETag {etag}, not the MD5 of the bytes sent",
                    call.op
                ),
            }),
            _ => Ok(()),
        }
    }

    /// ListParts (every page): the parts an unfinished upload holds.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<PartInfo>, StorageError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        // 10,000 parts at most, 1,000 per page.
        for _ in 0..20 {
            let mut call = self.call("ListParts", Method::GET, bucket, Some(key));
            call.query.push(("uploadId", upload_id.to_string()));
            if let Some(m) = &marker {
                call.query.push(("part-number-marker", m.clone()));
            }
            let page: xml::ListPartsResult = self.send_parsed(&call, true).await?;
            parts.extend(page.parts.into_iter().map(|p| PartInfo {
                number: p.part_number,
                etag: p.etag,
                size: p.size,
                checksum_sha256: p.checksum_sha256,
            }));
            match page
                .next_part_number_marker
                .filter(|m| !m.trim().is_empty())
            {
                Some(m) if xml::truthy(&page.is_truncated) && Some(&m) != marker.as_ref() => {
                    marker = Some(m)
                }
                _ => return Ok(parts),
            }
        }
        Ok(parts)
    }

    /// ListMultipartUploads (every page) of keys starting with `prefix`.
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<UploadInfo>, StorageError> {
        check_bucket(bucket)?;
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        for _ in 0..100 {
            let mut call = self.call("ListMultipartUploads", Method::GET, bucket, None);
            call.query.push(("uploads", String::new()));
            call.query.push(("prefix", prefix.to_string()));
            if let Some((k, u)) = &markers {
                call.query.push(("key-marker", k.clone()));
                call.query.push(("upload-id-marker", u.clone()));
            }
            let page: xml::ListUploadsResult = self.send_parsed(&call, true).await?;
            uploads.extend(page.uploads.into_iter().map(|u| UploadInfo {
                key: u.key,
                upload_id: u.upload_id,
                initiated: u.initiated,
                checksum_algorithm: u.checksum_algorithm.filter(|a| !a.trim().is_empty()),
            }));
            let next = (
                page.next_key_marker.unwrap_or_default(),
                page.next_upload_id_marker.unwrap_or_default(),
            );
            if !xml::truthy(&page.is_truncated)
                || next.0.is_empty()
                || markers.as_ref() == Some(&next)
            {
                return Ok(uploads);
            }
            markers = Some(next);
        }
        Ok(uploads)
    }

    /// CompleteMultipartUpload with `(part number, ETag)` pairs. An `<Error>` in a 200 answer is an error.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), StorageError> {
        let mut call = self.call("CompleteMultipartUpload", Method::POST, bucket, Some(key));
        call.query.push(("uploadId", upload_id.to_string()));
        let body = Bytes::from(xml::complete_body(parts));
        call.payload_hash = sha256_hex(&body);
        call.headers.push((
            HeaderName::from_static("content-md5"),
            b64(&md5::Md5::digest(&body)),
        ));
        call.headers
            .push((http::header::CONTENT_TYPE, "application/xml".into()));
        call.body = body;
        // Completing can take long for large objects; the answer may come as whitespace until the end.
        call.response_bytes = parts.len() as u64 * (1 << 20);
        let text = self.send_xml(&call, true).await?;
        if let Some(e) = xml::error_in(&text) {
            return Err(StorageError::Service {
                op: call.op,
                target: call.target(),
                status: 200,
                code: e.code.unwrap_or_else(|| "Error".into()),
                message: e.message.unwrap_or_default(),
                request_id: e.request_id,
                ec: None,
            });
        }
        Ok(())
    }

    /// AbortMultipartUpload; an upload that is already gone counts as aborted.
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let mut call = self.call("AbortMultipartUpload", Method::DELETE, bucket, Some(key));
        call.query.push(("uploadId", upload_id.to_string()));
        match self.send(&call, true).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn push_metadata(
    headers: &mut Vec<(HeaderName, String)>,
    metadata: &[(&str, &str)],
) -> Result<(), StorageError> {
    for (name, value) in metadata {
        let header = HeaderName::try_from(format!("{META_PREFIX}{}", name.to_ascii_lowercase()))
            .map_err(|_| {
                StorageError::Config(format!("metadata name {name:?} is not a header name"))
            })?;
        if HeaderValue::from_str(value).is_err() || !value.is_ascii() {
            return Err(StorageError::Config(format!(
                "metadata value for {name:?} is not ASCII text"
            )));
        }
        headers.push((header, (*value).to_string()));
    }
    Ok(())
}

fn etag_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    [
        "x-amz-request-id",
        "x-oss-request-id",
        "x-cos-request-id",
        "x-sessionid",
    ]
    .iter()
    .find_map(|h| headers.get(*h)?.to_str().ok().map(str::to_string))
}

/// Reads at most `limit` bytes of a response body (the rest is dropped with the connection).
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::with_capacity(
        response
            .content_length()
            .map_or(0, |n| n.min(limit as u64) as usize)
            .min(1 << 20),
    );
    while out.len() < limit {
        match response.chunk().await? {
            Some(chunk) => {
                let take = chunk.len().min(limit - out.len());
                out.extend_from_slice(&chunk[..take]);
            }
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::storage::config::StorageCredentials;

    fn client(addressing: Addressing, endpoint: &str) -> S3Client {
        let config = StorageConfig::new(
            endpoint,
            "cn-hangzhou",
            addressing,
            StorageCredentials {
                access_key_id: "AKID".into(),
                secret_access_key: "secret".into(),
                session_token: None,
            },
        )
        .unwrap();
        S3Client::new(config).unwrap()
    }

    #[test]
    fn urls_for_both_addressing_styles() {
        let v = client(
            Addressing::VirtualHosted,
            "https://s3.oss-cn-hangzhou.aliyuncs.com",
        );
        assert_eq!(
            v.url("images", Some("dir/my disk+1.qcow2"), &[("partNumber", "3".into()), ("uploadId", "a/b=c".into())]),
            "https://images.s3.oss-cn-hangzhou.aliyuncs.com/dir/my%20disk%2B1.qcow2?partNumber=3&uploadId=a%2Fb%3Dc"
        );
        let p = client(Addressing::Path, "http://127.0.0.1:5000");
        assert_eq!(
            p.url(
                "images",
                None,
                &[("uploads", String::new()), ("prefix", "a b".into())]
            ),
            "http://127.0.0.1:5000/images?uploads&prefix=a%20b"
        );
        assert_eq!(
            p.url("images", Some("é.raw"), &[]),
            "http://127.0.0.1:5000/images/%C3%A9.raw"
        );
        // A custom domain names the bucket itself; keys keep every byte, `#`, `?` and `%` encoded.
        let c = client(Addressing::CustomDomain, "https://images.example.com");
        assert_eq!(
            c.url("images", Some("a#b?c%d/../e"), &[]),
            "https://images.example.com/a%23b%3Fc%25d/../e"
        );
    }

    #[test]
    fn etags_and_backoff() {
        assert_eq!(
            etag_md5("\"9E107D9D372BB6826BD81D3542A419D6\""),
            Some("9e107d9d372bb6826bd81d3542a419d6".into())
        );
        assert_eq!(etag_md5("\"9e107d9d372bb6826bd81d3542a419d6-3\""), None);
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            ..StorageOptions::default().retry
        };
        let d = policy.delay(3);
        assert!(
            d >= Duration::from_millis(200) && d <= Duration::from_millis(400),
            "{d:?}"
        );
        let policy = RetryPolicy {
            base: Duration::from_secs(10),
            ..StorageOptions::default().retry
        };
        assert!(policy.delay(30) <= Duration::from_secs(20));
    }

    #[test]
    fn metadata_must_be_header_safe() {
        let mut h = Vec::new();
        push_metadata(&mut h, &[("CloudImage-SHA256", "ab")]).unwrap();
        assert_eq!(h[0].0.as_str(), "x-amz-meta-cloudimage-sha256");
        assert!(push_metadata(&mut h, &[("bad name", "x")]).is_err());
        assert!(push_metadata(&mut h, &[("n", "é")]).is_err());
    }

    #[tokio::test]
    async fn requests_are_signed_with_sigv4() {
        let c = client(Addressing::Path, "http://127.0.0.1:5000");
        let (mut parts, ()) = http::Request::builder()
            .method(Method::GET)
            .uri(c.url("images", Some("a.raw"), &[]))
            .header("x-amz-content-sha256", UNSIGNED_PAYLOAD)
            .body(())
            .unwrap()
            .into_parts();
        c.inner.signer.sign(&mut parts, None).await.unwrap();
        let auth = parts
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/"),
            "{auth}"
        );
        assert!(auth.contains("/cn-hangzhou/s3/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date"),
            "{auth}"
        );
    }
}
