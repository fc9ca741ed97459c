//! Command line and start-up: parse flags, load credentials and state, bind, print the ready
//! line, serve until SIGTERM/SIGINT, save state.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use crate::app::{RuntimeConfig, Sim};
use crate::creds::Credentials;
use crate::error::SimError;
use crate::{persist, server};

/// Command line of `cloudimage-sim`.
#[derive(Debug, Parser)]
#[command(
    name = "cloudimage-sim",
    version,
    about = "Local simulator of the cloud image-import APIs used by terraform-provider-cloudimage"
)]
pub(crate) struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen URL is printed on stdout).
    #[arg(long, env = "CLOUDIMAGE_SIM_LISTEN", default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Load images from this JSON file at start and save them after every change.
    #[arg(long, env = "CLOUDIMAGE_SIM_STATE_FILE")]
    pub state_file: Option<PathBuf>,
    /// Seconds an import takes before the image becomes usable (or fails).
    #[arg(long, env = "CLOUDIMAGE_SIM_IMPORT_SECONDS", default_value_t = 5.0)]
    pub import_seconds: f64,
    /// Delay added to every cloud API response, in milliseconds.
    #[arg(long, env = "CLOUDIMAGE_SIM_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// JSON file of accepted key pairs per cloud (replaces the built-in test keys it names).
    #[arg(long, env = "CLOUDIMAGE_SIM_CREDENTIALS")]
    pub credentials: Option<PathBuf>,
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

/// Runs the simulator until a shutdown signal.
pub(crate) async fn run(args: Args) -> Result<(), SimError> {
    let creds = match &args.credentials {
        Some(p) => Credentials::load(p)?,
        None => Credentials::default(),
    };
    let store: crate::state::Store = match &args.state_file {
        Some(p) => {
            let store = persist::load(p)?;
            // Write it back now: a state file that cannot be saved (its directory missing, not writable) refuses
            // the start instead of losing every change later.
            persist::save(p, &store.snapshot())?;
            store
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_flags() {
        let a = Args::try_parse_from(["cloudimage-sim"]).unwrap();
        assert_eq!(a.listen, "127.0.0.1:0");
        assert_eq!(a.import_seconds, 5.0);
        assert_eq!(a.latency_ms, 0);
        assert!(a.state_file.is_none() && a.credentials.is_none());
        let a = Args::try_parse_from([
            "cloudimage-sim",
            "--import-seconds",
            "1",
            "--latency-ms",
            "20",
            "--state-file",
            "/tmp/s.json",
        ])
        .unwrap();
        assert_eq!((a.import_seconds, a.latency_ms), (1.0, 20));
        assert_eq!(a.state_file, Some(PathBuf::from("/tmp/s.json")));
        assert!(Args::try_parse_from(["cloudimage-sim", "--bogus"]).is_err());
    }
}
