//! The go-plugin transport: how Terraform starts this process, finds it and talks to it.
//!
//! This layer knows nothing about the Terraform plugin protocol itself; it asks a [`PluginProtocols`] for the gRPC
//! services of the negotiated version and serves them, next to the side services go-plugin expects, on a private
//! Unix socket, with mutual TLS when the host asks for it.

mod conn;
pub mod handshake;
mod services;
pub mod tls;

/// Code generated from go-plugin's own protos (`proto/grpc_*.proto`).
pub mod proto {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("plugin");
}

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio_rustls::TlsAcceptor;
use tonic::service::Routes;

pub use services::ShutdownSignal;

use conn::PluginConn;

/// The largest gRPC message accepted or sent; tonic's 4 MiB default is too small for big plans and schemas.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// What the transport needs from the protocol layer.
pub trait PluginProtocols {
    /// The plugin protocol major versions this binary serves (5, 6).
    fn versions(&self) -> Vec<u32>;
    /// The gRPC services for one negotiated version.
    fn routes(&self, version: u32) -> Routes;
}

/// How the process was started.
#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    /// Debug mode: started by a person, not by Terraform. Serve plaintext and print `TF_REATTACH_PROVIDERS` for
    /// the person to export, instead of the handshake line.
    pub debug: bool,
    /// The provider's registry address, used in the reattach line of debug mode.
    pub provider_address: String,
}

/// Why the plugin could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The host offered no protocol version this plugin has.
    #[error("no plugin protocol version in common with the host")]
    NoCommonVersion,
    /// The private socket directory or the socket itself could not be created.
    #[error("cannot create the plugin socket in {dir}: {source}")]
    Socket {
        /// Where the socket was to be created.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// AutoMTLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The handshake line could not be written to stdout.
    #[error("cannot write the handshake line: {0}")]
    Stdout(std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server error: {0}")]
    Server(#[from] tonic::transport::Error),
}

/// Serves the plugin until the host calls `plugin.GRPCController/Shutdown` (or, in debug mode, until Ctrl-C).
///
/// `shutdown` is shared with the protocol layer so that in-flight work can be cancelled when the host goes away.
pub async fn serve(
    protocols: &dyn PluginProtocols,
    options: ServeOptions,
    shutdown: ShutdownSignal,
) -> Result<(), PluginError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let versions = protocols.versions();
    let version = if options.debug {
        versions.iter().copied().max()
    } else {
        handshake::negotiate(env("PLUGIN_PROTOCOL_VERSIONS").as_deref(), &versions)
    }
    .ok_or(PluginError::NoCommonVersion)?;

    let base_dir = env("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let socket_err = |source| PluginError::Socket {
        dir: base_dir.clone(),
        source,
    };
    // Mode 0700: only this user can reach the socket.
    let socket_dir = tempfile::Builder::new()
        .prefix("plugin")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(&base_dir)
        .map_err(socket_err)?;
    let socket_path = socket_dir.path().join("provider.sock");
    let listener = UnixListener::bind(&socket_path).map_err(socket_err)?;

    let client_cert = if options.debug {
        None
    } else {
        env("PLUGIN_CLIENT_CERT")
    };
    let (acceptor, server_cert) = match client_cert {
        Some(pem) => {
            let client = tls::parse_client_cert(&pem)?;
            let identity = tls::ServerIdentity::generate()?;
            let config = tls::server_config(&identity, client)?;
            (Some(TlsAcceptor::from(config)), Some(identity.cert_der))
        }
        None => (None, None),
    };

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let routes = protocols
        .routes(version)
        .add_service(health_service)
        .add_service(services::controller(shutdown.clone()))
        .add_service(services::stdio(shutdown.clone()));

    let socket = socket_path.to_string_lossy().into_owned();
    {
        let mut stdout = std::io::stdout().lock();
        if options.debug {
            writeln!(
                stdout,
                "{}",
                reattach_instructions(&options, version, &socket)
            )
        } else {
            writeln!(
                stdout,
                "{}",
                handshake::handshake_line(version, &socket, server_cert.as_deref())
            )
        }
        .and_then(|()| stdout.flush())
        .map_err(PluginError::Stdout)?;
    }
    tracing::debug!(version, socket = %socket, tls = acceptor.is_some(), "plugin server ready");

    ignore_interrupts(options.debug, shutdown.clone());
    if !options.debug {
        stop_when_host_exits(shutdown.clone());
    }
    let incoming = accept_connections(listener, acceptor, shutdown.clone());
    let stop = shutdown.wait();
    let served = tonic::transport::Server::builder()
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, async move {
            stop.await;
            // Terraform expects the process to be gone within moments of Shutdown; open streams must not hold it.
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                std::process::exit(0);
            });
        })
        .await;
    drop(socket_dir);
    served.map_err(PluginError::from)
}

/// A Terraform that was killed (SIGKILL, an OOM kill, a CI runner stopping the job) never calls Shutdown, and its
/// provider would go on with what it was doing: retrying an upload, waiting for an import, for nobody. The plugin
/// was started by Terraform, so when its parent changes (re-parented to init or a subreaper), the host is gone and
/// the plugin shuts down as if asked.
fn stop_when_host_exits(shutdown: ShutdownSignal) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!(parent, "Terraform (the parent process) is gone; stopping");
                shutdown.trigger();
                break;
            }
        }
    });
}

/// Terraform sends SIGINT to the whole process group on Ctrl-C and then asks providers to stop over gRPC
/// (StopProvider). Dying on the signal would lose the state of in-flight operations, so it is only logged; in
/// debug mode Ctrl-C is how a person stops the server.
fn ignore_interrupts(debug: bool, shutdown: ShutdownSignal) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::interrupt()) {
        Ok(mut interrupts) => {
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    if debug {
                        shutdown.trigger();
                    } else {
                        tracing::debug!("ignoring SIGINT; Terraform stops providers over gRPC");
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot install the SIGINT handler"),
    }
}

/// Accepts connections and completes TLS handshakes off the accept loop, so one slow or hostile client cannot
/// stall the others. Connections that fail the handshake are dropped and logged.
fn accept_connections(
    listener: UnixListener,
    acceptor: Option<TlsAcceptor>,
    shutdown: ShutdownSignal,
) -> tokio_stream::wrappers::ReceiverStream<Result<PluginConn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let stream = tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let tx = tx.clone();
            match acceptor.clone() {
                None => {
                    if tx.send(Ok(PluginConn::Plain(stream))).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                        match handshake.await {
                            Ok(Ok(tls)) => {
                                let _ = tx.send(Ok(PluginConn::Tls(Box::new(tls)))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "refused a connection: TLS handshake failed")
                            }
                            Err(_) => {
                                tracing::warn!("refused a connection: TLS handshake timed out")
                            }
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// What debug mode prints: the variable a person exports so that Terraform attaches to this running process.
fn reattach_instructions(options: &ServeOptions, version: u32, socket: &str) -> String {
    let config = serde_json::json!({
        options.provider_address.clone(): {
            "Protocol": "grpc",
            "ProtocolVersion": version,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "unix", "String": socket },
        }
    });
    format!(
        "Provider started in debug mode. To attach Terraform, run this in another shell:\n\n\
         \texport TF_REATTACH_PROVIDERS='{config}'\n\nPress Ctrl-C to stop."
    )
}
