//! `cloudimage-sim`: a local simulator of the UCloud, SurferCloud, Tencent Cloud CVM, Alibaba
//! Cloud ECS/ENS and Apsara Stack image APIs. It verifies signatures as strictly as the real
//! services so the provider's users and its tests can run fully offline. See
//! `docs/simulator.md`.

#![recursion_limit = "256"]

mod admin;
mod alibaba;
mod app;
mod auth;
mod cli;
mod clock;
mod cloud;
mod creds;
mod error;
mod faults;
mod http;
mod ids;
mod journal;
mod objects;
mod persist;
mod pipeline;
mod root;
mod rules;
mod server;
mod state;
mod tencent;
mod ucloud;
mod watch;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudimage-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
