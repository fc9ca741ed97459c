//! The side services go-plugin's host expects next to the provider service: health, controller and stdio.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::proto::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::proto::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::proto::{Empty, StdioData};

/// Fires when the host asks the plugin to exit.
pub type ShutdownSignal = crate::signal::Signal;

/// `plugin.GRPCController`: the host's polite way to end the plugin process.
pub(super) struct Controller {
    shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("host asked the plugin to shut down");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// The controller service, wired to `shutdown`.
pub(super) fn controller(shutdown: ShutdownSignal) -> GrpcControllerServer<Controller> {
    GrpcControllerServer::new(Controller { shutdown })
}

/// What the stdio service streams (the shape tonic's generated trait expects).
type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send + 'static>>;

/// `plugin.GRPCStdio`: we write logs to stderr directly, so the stream carries nothing and ends at shutdown.
pub(super) struct Stdio {
    shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(&self, _request: Request<()>) -> Result<Response<StdioStream>, Status> {
        let until_shutdown = futures_util::stream::once(self.shutdown.wait())
            .filter_map(|()| async { None::<Result<StdioData, Status>> });
        Ok(Response::new(Box::pin(until_shutdown)))
    }
}

/// The stdio service, idle until `shutdown`.
pub(super) fn stdio(shutdown: ShutdownSignal) -> GrpcStdioServer<Stdio> {
    GrpcStdioServer::new(Stdio { shutdown })
}
