//! The steps every cloud request goes through before and after its cloud-specific handling:
//! latency, injected faults (drop, 5xx, throttle) and the request log.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use tokio::sync::Notify;

use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::faults::{Decision, Quota};
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

/// The key id named by an `Authorization` header's `Credential=` (Tencent TC3 `Credential=<id>/<scope>`, Alibaba
/// ACS3 `Credential=<id>,...`): whose quota a request counts against.
pub(crate) fn credential_key(authorization: Option<&str>) -> Option<&str> {
    let rest = authorization?.split_once("Credential=")?.1;
    rest.split([',', '/', ' ']).next().filter(|k| !k.is_empty())
}

/// Applies latency and faults for one request signed with account `key` (rate limits count per key), and says
/// where it stands against the tightest rate limit it matched. A drop never returns when the connection handle is
/// present (the connection is closed under the handler).
pub(crate) async fn gate(
    sim: &Sim,
    cloud: SimCloud,
    action: &str,
    region: &str,
    key: &str,
    kill: Option<&ConnKill>,
) -> (Gate, Option<Quota>) {
    let extra = sim.faults().latency_ms(cloud, action);
    let delay = sim.config().latency_ms.saturating_add(extra);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let (decision, quota) = sim.faults().decide(cloud, action, key, clock::now_ms());
    let gate = match decision {
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
    };
    (gate, quota)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_credential() {
        assert_eq!(
            credential_key(Some(
                "TC3-HMAC-SHA256 Credential=AKIDx/2024-01-01/cvm/tc3_request, SignedHeaders=a, Signature=b"
            )),
            Some("AKIDx")
        );
        assert_eq!(
            credential_key(Some(
                "ACS3-HMAC-SHA256 Credential=LTAIy,SignedHeaders=a,Signature=b"
            )),
            Some("LTAIy")
        );
        assert_eq!(credential_key(Some("Bearer x")), None);
        assert_eq!(credential_key(None), None);
    }
}
