//! The steps every cloud request goes through before and after its cloud-specific handling:
//! latency, injected faults (drop, 5xx, throttle) and the request log.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use tokio::sync::Notify;

use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::faults::Decision;
use crate::http::Reply;

/// Per-connection handle that lets a handler close its connection without answering (the
/// connection task listens on it); inserted as a request extension by the server loop.
#[derive(Clone, Debug)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// What the cloud handler should do after the fault gate.
#[derive(Debug)]
pub(crate) enum Gate {
    /// Handle the request.
    Proceed,
    /// Answer with the cloud's own throttling error.
    Throttle,
    /// Answer with this reply (an injected 5xx).
    Reply(Reply),
}

/// Applies latency and faults for one request. A drop never returns when the connection
/// handle is present (the connection is closed under the handler).
pub(crate) async fn gate(
    sim: &Sim,
    cloud: SimCloud,
    action: &str,
    region: &str,
    kill: Option<&ConnKill>,
) -> Gate {
    let extra = sim.faults().latency_ms(cloud, action);
    let delay = sim.config().latency_ms.saturating_add(extra);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let decision = sim.faults().decide(cloud, action, clock::now_ms());
    match decision {
        Decision::Pass => Gate::Proceed,
        Decision::Throttle => Gate::Throttle,
        Decision::ServerError(status) => Gate::Reply(Reply::text(
            status,
            "injected fault: server error",
            format!("fault:{status}"),
        )),
        Decision::Drop => {
            sim.record(cloud, action, region, "fault:drop", 0);
            match kill {
                Some(k) => {
                    k.0.notify_one();
                    std::future::pending::<()>().await;
                    Gate::Proceed
                }
                None => Gate::Reply(Reply::text(502, "injected fault: drop", "fault:drop")),
            }
        }
    }
}

/// Answers a handled request: waits out an injected answer delay (the request has had its effect), then logs
/// and sends the reply.
pub(crate) async fn answer(
    sim: &Sim,
    cloud: SimCloud,
    action: &str,
    region: &str,
    reply: Reply,
) -> Response {
    let delay = sim.faults().answer_delay_ms(cloud, action);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    finish(sim, cloud, action, region, reply)
}

/// Logs the reply and turns it into a response.
pub(crate) fn finish(
    sim: &Sim,
    cloud: SimCloud,
    action: &str,
    region: &str,
    reply: Reply,
) -> Response {
    sim.record(cloud, action, region, &reply.outcome, reply.status);
    reply.into_response()
}
