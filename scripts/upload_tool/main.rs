//! `cloudimage-upload`: the provider's upload path as a command, for `scripts/bench --upload` (throughput and peak
//! RSS against `aws s3 cp`) and for the storage tests that kill an upload half way and resume it.
//!
//! Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`). Prints one line
//! `part <n> <done>/<total>` per finished part and, at the end, the report as one JSON line, on stdout; progress
//! lines go to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use cloudimage::cloud::storage::{
    Addressing, S3Client, StorageConfig, StorageCredentials, UploadOptions, UploadRequest,
};
use cloudimage::cloud::Secret;
use cloudimage::disk::hash_cache::HashCache;

#[derive(Parser, Debug)]
#[command(
    name = "cloudimage-upload",
    about = "Upload a file with cloudimage's object-storage client"
)]
struct Args {
    /// S3-compatible endpoint, e.g. http://127.0.0.1:5000.
    #[arg(long)]
    endpoint: Option<String>,
    /// Signing region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Path-style addressing (local servers); virtual-hosted otherwise.
    #[arg(long)]
    path_style: bool,
    #[arg(long)]
    bucket: Option<String>,
    #[arg(long)]
    key: Option<String>,
    /// The local file.
    #[arg(long)]
    file: PathBuf,
    /// Create the bucket first.
    #[arg(long)]
    create_bucket: bool,
    /// Part size in MiB (default: the client's rule).
    #[arg(long)]
    part_size_mib: Option<u64>,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 5.0)]
    progress_secs: f64,
    /// Sleep this long after each finished part (tests use it to kill the upload half way).
    #[arg(long, default_value_t = 0)]
    part_delay_ms: u64,
    /// Hash cache directory (default: the user's cache directory).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Send S3 flexible checksums (`x-amz-checksum-sha256`) with every part, as against S3 itself.
    #[arg(long)]
    sha256_checksums: bool,
    /// Send `UNSIGNED-PAYLOAD` instead of each part's SHA-256 (Content-MD5 is still sent).
    #[arg(long)]
    unsigned_payload: bool,
    /// Only compute (or look up) the file's SHA-256 and print it with the time taken.
    #[arg(long)]
    hash_only: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cloudimage-upload: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudimage-upload: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let cache = match &args.cache_dir {
        Some(d) => HashCache::new(d.clone()),
        None => HashCache::user_default(),
    };
    let started = Instant::now();
    let digest = cache.sha256(&args.file).await?;
    let hash_secs = started.elapsed().as_secs_f64();
    if args.hash_only {
        println!(
            "{}",
            serde_json::json!({"sha256": digest.sha256, "from_cache": digest.from_cache, "size": digest.size,
                               "seconds": hash_secs})
        );
        return Ok(());
    }
    let (Some(endpoint), Some(bucket), Some(key)) = (&args.endpoint, &args.bucket, &args.key)
    else {
        return Err("--endpoint, --bucket and --key are required for an upload".into());
    };
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let credentials = StorageCredentials {
        access_key_id: env("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?,
        secret_access_key: env("AWS_SECRET_ACCESS_KEY")
            .ok_or("AWS_SECRET_ACCESS_KEY is not set")?
            .into(),
        session_token: env("AWS_SESSION_TOKEN").map(Secret::from),
    };
    let addressing = if args.path_style {
        Addressing::Path
    } else {
        Addressing::VirtualHosted
    };
    let config = StorageConfig::new(endpoint, &args.region, addressing, credentials)?
        .with_sha256_checksums(args.sha256_checksums);
    let client = S3Client::new(config)?;
    if args.create_bucket {
        client.create_bucket(bucket).await?;
    }
    let delay = Duration::from_millis(args.part_delay_ms);
    let options = UploadOptions {
        part_size: args.part_size_mib.map(|m| m << 20),
        concurrency: args.concurrency,
        sign_payload: !args.unsigned_payload,
        progress_interval: Duration::from_secs_f64(args.progress_secs.max(0.1)),
        on_part: Some(Arc::new(move |e| {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "part {} {}/{}", e.number, e.done, e.total);
            let _ = out.flush();
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
        })),
        ..UploadOptions::default()
    };
    let started = Instant::now();
    let report = client
        .upload_file(
            &UploadRequest {
                path: &args.file,
                bucket,
                key,
                sha256: &digest.sha256,
            },
            &options,
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "sha256": digest.sha256, "hash_from_cache": digest.from_cache, "hash_seconds": hash_secs,
            "upload_seconds": secs, "size": report.size, "part_size": report.part_size,
            "parts_total": report.parts_total, "parts_sent": report.parts_sent, "parts_reused": report.parts_reused,
            "resumed": report.resumed, "already_present": report.already_present, "retries": report.retries,
            "bytes_sent": report.bytes_sent, "upload_id": report.upload_id,
        })
    );
    Ok(())
}
