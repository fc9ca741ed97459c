//! `cloudimage-sim`: a local simulator of the UCloud, SurferCloud, Tencent Cloud CVM, Alibaba
//! Cloud ECS/ENS and Apsara Stack image APIs. It verifies signatures as strictly as the real
//! services so the provider's users and its tests can run fully offline. See
//! `docs/simulator.md`.

#![recursion_limit = "256"]

mod admin;
mod alibaba;
mod app;
mod auth;
mod clock;
mod cloud;
mod creds;
mod error;
mod faults;
mod http;
mod ids;
mod journal;
mod persist;
mod pipeline;
mod rules;
mod server;
mod state;
mod tencent;
mod ucloud;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::app::{RuntimeConfig, Sim};
use crate::creds::Credentials;
use crate::error::SimError;

/// Command line of `cloudimage-sim`.
#[derive(Debug, Parser)]
#[command(
    name = "cloudimage-sim",
    version,
    about = "Local simulator of the cloud image-import APIs used by terraform-provider-cloudimage"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen URL is printed on stdout).
    #[arg(long, env = "CLOUDIMAGE_SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: String,
    /// Load images from this JSON file at start and save them after every change.
    #[arg(long, env = "CLOUDIMAGE_SIM_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// Seconds an import takes before the image becomes usable (or fails).
    #[arg(long, env = "CLOUDIMAGE_SIM_IMPORT_SECONDS", default_value_t = 5.0)]
    import_seconds: f64,
    /// Delay added to every cloud API response, in milliseconds.
    #[arg(long, env = "CLOUDIMAGE_SIM_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// JSON file of accepted key pairs per cloud (replaces the built-in test keys it names).
    #[arg(long, env = "CLOUDIMAGE_SIM_CREDENTIALS")]
    credentials: Option<PathBuf>,
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn run(args: Args) -> Result<(), SimError> {
    let creds = match &args.credentials {
        Some(p) => Credentials::load(p)?,
        None => Credentials::default(),
    };
    let store = match &args.state_file {
        Some(p) => persist::load(p)?,
        None => Default::default(),
    };
    let config = RuntimeConfig {
        import_seconds: args.import_seconds.max(0.0),
        latency_ms: args.latency_ms,
    };
    let sim = Arc::new(Sim::new(store, config, creds, args.state_file.clone()));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: args.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: args.listen.clone(),
        source,
    })?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "cloudimage-sim listening on http://{addr}");
        let _ = out.flush();
    }
    tracing::info!(%addr, import_seconds = args.import_seconds, "simulator ready");
    server::serve(listener, server::router(sim.clone()), shutdown_signal()).await;
    sim.persist();
    tracing::info!("simulator stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudimage-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
