//! Command line and start-up: parse flags, load credentials and state, bind, print the ready
//! line, serve until SIGTERM/SIGINT, save state.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use crate::app::{RuntimeConfig, Sim};
use crate::creds::Credentials;
use crate::error::SimError;
use crate::objects::ObjectStore;
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
    /// An S3-compatible server (path style, e.g. `http://127.0.0.1:9000`) holding every simulated cloud's buckets:
    /// an import of an object that is not there fails the way that cloud fails it. Without it, objects are not
    /// checked.
    #[arg(long, env = "CLOUDIMAGE_SIM_OBJECT_STORE")]
    pub object_store: Option<String>,
    /// Access key id for `--object-store`.
    #[arg(long, env = "CLOUDIMAGE_SIM_OBJECT_STORE_ACCESS_KEY")]
    pub object_store_access_key: Option<String>,
    /// Secret access key for `--object-store` (prefer the environment variable: a flag shows in `ps`).
    #[arg(
        long,
        env = "CLOUDIMAGE_SIM_OBJECT_STORE_SECRET_KEY",
        hide_env_values = true
    )]
    pub object_store_secret_key: Option<String>,
    /// The region `--object-store` requests are signed for.
    #[arg(
        long,
        env = "CLOUDIMAGE_SIM_OBJECT_STORE_REGION",
        default_value = "us-east-1"
    )]
    pub object_store_region: String,
}

/// The object store the flags name, if any.
fn object_store(args: &Args) -> Result<Option<ObjectStore>, SimError> {
    let Some(url) = &args.object_store else {
        return Ok(None);
    };
    let (Some(id), Some(secret)) = (&args.object_store_access_key, &args.object_store_secret_key)
    else {
        return Err(SimError::Config(
            "--object-store needs --object-store-access-key and --object-store-secret-key (or \
             CLOUDIMAGE_SIM_OBJECT_STORE_ACCESS_KEY / _SECRET_KEY)"
                .into(),
        ));
    };
    ObjectStore::new(url, &args.object_store_region, id, secret)
        .map(Some)
        .map_err(|e| SimError::Config(format!("--object-store {url}: {e}")))
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
    let objects = object_store(&args)?;
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
    if let Some(url) = &args.object_store {
        tracing::info!(%url, "imports read their objects from this object store");
    }
    let sim = Arc::new(
        Sim::new(store, config, creds, args.state_file.clone()).with_object_store(objects),
    );
    crate::watch::watch_imports(sim.clone());
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
        assert!(object_store(&a).unwrap().is_none());
        let o = Args::try_parse_from(["cloudimage-sim", "--object-store", "http://127.0.0.1:9000"])
            .unwrap();
        assert!(object_store(&o).is_err(), "keys are required");
        let o = Args::try_parse_from([
            "cloudimage-sim",
            "--object-store",
            "http://127.0.0.1:9000",
            "--object-store-access-key",
            "a",
            "--object-store-secret-key",
            "b",
        ])
        .unwrap();
        assert!(object_store(&o).unwrap().is_some());
    }
}
