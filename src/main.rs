//! `terraform-provider-cloudimage`: the binary Terraform launches. Everything it does lives in the library.

use std::process::ExitCode;
use std::sync::Arc;

use cloudimage::plugin::{self, handshake, ServeOptions, ShutdownSignal};
use cloudimage::provider::Server;
use cloudimage::tfplugin::Protocols;

/// The address Terraform knows this provider by; used in debug mode's reattach line.
const PROVIDER_ADDRESS: &str = "registry.terraform.io/cloudimage/cloudimage";

fn main() -> ExitCode {
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "-debug" || a == "--debug");
    let cookie = std::env::var(handshake::MAGIC_COOKIE_KEY).ok();
    if !debug && !handshake::cookie_matches(cookie.as_deref()) {
        eprintln!("{}", handshake::NOT_LAUNCHED_BY_TERRAFORM);
        return ExitCode::from(1);
    }
    cloudimage::logging::init();
    cloudimage::plugin::tls::install_crypto_provider();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let provider = cloudimage::product_provider();
    let protocols = Protocols::new(Arc::new(Server::new(provider)));
    let options = ServeOptions {
        debug,
        provider_address: PROVIDER_ADDRESS.to_string(),
    };
    match runtime.block_on(plugin::serve(&protocols, options, ShutdownSignal::new())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin server failed");
            eprintln!("terraform-provider-cloudimage: {e}");
            ExitCode::from(1)
        }
    }
}
