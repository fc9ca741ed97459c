//! HTTP routing (all six backends plus the admin API on one port) and the accept loop. The loop
//! serves each connection itself so a handler can close its connection without answering,
//! which is how injected connection drops work.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::alibaba::{self, Product};
use crate::app::Sim;
use crate::cloud::SimCloud;
use crate::http::{RawRequest, Reply};
use crate::pipeline::ConnKill;
use crate::{admin, root, tencent, ucloud};

/// Largest request body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

async fn raw(req: Request) -> Result<(RawRequest, Option<ConnKill>), Response> {
    let kill = req.extensions().get::<ConnKill>().cloned();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| Reply::text(413, "request body too large", "").into_response())?;
    Ok((
        RawRequest {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body,
        },
        kill,
    ))
}

async fn ucloud_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => ucloud::handle(sim, SimCloud::Ucloud, k, r).await,
        Err(resp) => resp,
    }
}

async fn surfercloud_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => ucloud::handle(sim, SimCloud::Surfercloud, k, r).await,
        Err(resp) => resp,
    }
}

async fn tencent_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => tencent::handle(sim, k, r).await,
        Err(resp) => resp,
    }
}

async fn ecs_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => alibaba::handle(sim, Product::Ecs, None, k, r).await,
        Err(resp) => resp,
    }
}

async fn ens_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => alibaba::handle(sim, Product::Ens, None, k, r).await,
        Err(resp) => resp,
    }
}

async fn apsara_route(
    State(sim): State<Arc<Sim>>,
    Path(action): Path<String>,
    req: Request,
) -> Response {
    match raw(req).await {
        Ok((r, k)) => alibaba::handle(sim, Product::Apsara, Some(action), k, r).await,
        Err(resp) => resp,
    }
}

async fn apsara_ecs_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => alibaba::handle(sim, Product::Apsara, None, k, r).await,
        Err(resp) => resp,
    }
}

async fn root_route(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    match raw(req).await {
        Ok((r, k)) => root::handle(sim, k, r).await,
        Err(resp) => resp,
    }
}

async fn fallback(req: Request) -> Response {
    let msg = format!(
        "no simulated API at {}; use / (any cloud, as the real hosts), /ucloud, /surfercloud, /tencentcloud, \
         /alicloud/ecs, /alicloud/ens, /apsarastack, /apsarastack/apsara/route/Ecs/<Action> or /_sim/",
        req.uri().path()
    );
    Reply::text(404, &msg, "").into_response()
}

/// The complete router.
pub(crate) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/ucloud", any(ucloud_route))
        .route("/ucloud/", any(ucloud_route))
        .route("/surfercloud", any(surfercloud_route))
        .route("/surfercloud/", any(surfercloud_route))
        .route("/tencentcloud", any(tencent_route))
        .route("/tencentcloud/", any(tencent_route))
        .route("/alicloud/ecs", any(ecs_route))
        .route("/alicloud/ecs/", any(ecs_route))
        .route("/alicloud/ens", any(ens_route))
        .route("/alicloud/ens/", any(ens_route))
        .route("/apsarastack/apsara/route/Ecs/{action}", any(apsara_route))
        .route("/apsarastack", any(apsara_ecs_route))
        .route("/apsarastack/", any(apsara_ecs_route))
        .route("/", any(root_route))
        .merge(admin::routes())
        .fallback(fallback)
        .with_state(sim)
}

async fn serve_conn(stream: TcpStream, app: Router) {
    let kill = ConnKill(Arc::new(Notify::new()));
    let k = kill.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(k.clone());
        let app = app.clone();
        async move { app.oneshot(req.map(axum::body::Body::new)).await }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!("connection ended: {e}");
            }
        }
        _ = kill.0.notified() => tracing::info!("connection dropped (injected fault)"),
    }
}

/// Accepts connections until `shutdown` completes.
pub(crate) async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_conn(stream, app.clone()));
                }
                Err(e) => tracing::warn!("accept failed: {e}"),
            },
        }
    }
}
