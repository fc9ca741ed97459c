//! The `/_sim/` admin API tests and demos use to inspect and steer the simulator: list images,
//! read the request log, reset, set faults and settings, and delete images out of band.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::alibaba::{ecs, ens};
use crate::app::{ConfigPatch, Sim};
use crate::clock;
use crate::cloud::SimCloud;
use crate::faults::FaultSpec;
use crate::state::{Image, Phase};
use crate::{tencent, ucloud};

/// The admin routes (merged into the main router).
pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/images", get(list_images).post(seed_images))
        .route("/_sim/images/{cloud}/{region}/{id}", delete(delete_image))
        .route(
            "/_sim/images/{cloud}/{region}/{id}/shares",
            post(set_shares),
        )
        .route("/_sim/requests", get(requests))
        .route("/_sim/reset", post(reset))
        .route("/_sim/faults", get(get_faults).post(set_faults))
        .route("/_sim/config", get(get_config).post(set_config))
}

fn native_status(cloud: SimCloud, phase: Phase) -> &'static str {
    match cloud {
        SimCloud::Ucloud | SimCloud::Surfercloud => ucloud::state_word(phase),
        SimCloud::Tencentcloud => tencent::state_word(phase),
        SimCloud::AlicloudEcs | SimCloud::Apsarastack => ecs::status_word(phase),
        SimCloud::AlicloudEns => ens::status_word(phase),
    }
}

/// The admin view of one image.
pub(crate) fn image_view(i: &Image, now: i64) -> Value {
    let phase = i.phase(now);
    let (word, progress) = match phase {
        Phase::Importing { percent } => ("importing", percent),
        Phase::Available => ("available", 100),
        Phase::Failed => ("failed", 100),
    };
    json!({
        "cloud": i.cloud,
        "region": i.region,
        "id": i.id,
        "name": i.name,
        "description": i.description,
        "source": i.source,
        "format": i.format,
        "os_type": i.os_type,
        "os_name": i.os_name,
        "architecture": i.architecture,
        "project": i.project,
        "created": clock::iso_z(i.created_ms),
        "phase": word,
        "progress": progress,
        "status": native_status(i.cloud, phase),
        "shares": i.shares,
    })
}

async fn list_images(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let now = clock::now_ms();
    let images: Vec<Value> = sim.store().all().map(|i| image_view(i, now)).collect();
    Json(json!({ "images": images }))
}

/// One image to put in the store as if an import had made it and finished (`POST /_sim/images`): what listing
/// tests need in numbers no import run would make quickly.
#[derive(Debug, serde::Deserialize)]
struct Seed {
    cloud: SimCloud,
    region: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
    #[serde(default = "seed_format")]
    format: String,
    #[serde(default = "seed_os")]
    os_type: String,
    #[serde(default)]
    os_name: String,
    #[serde(default = "seed_arch")]
    architecture: String,
    /// Still importing (for this many more milliseconds) rather than available.
    #[serde(default)]
    importing_ms: i64,
    /// Ends failed.
    #[serde(default)]
    fails: bool,
    /// `self` (default), `public` or `shared`: see `Image::owner`.
    #[serde(default)]
    owner: Option<String>,
}

fn seed_format() -> String {
    "qcow2".into()
}
fn seed_os() -> String {
    "linux".into()
}
fn seed_arch() -> String {
    "x86_64".into()
}

/// Adds the seeded images; answers their ids in order.
async fn seed_images(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let seeds = match parse_body::<Vec<Seed>>(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    if let Some(bad) = seeds
        .iter()
        .filter_map(|s| s.owner.as_deref())
        .find(|o| !["self", "public", "shared"].contains(o))
    {
        return bad_request(format!("owner is self, public or shared; got {bad:?}"));
    }
    let now = clock::now_ms();
    let mut ids = Vec::with_capacity(seeds.len());
    {
        let mut store = sim.store();
        for (i, seed) in seeds.into_iter().enumerate() {
            let id = match seed.cloud {
                SimCloud::Ucloud | SimCloud::Surfercloud => crate::ids::ucloud_image_id(),
                SimCloud::Tencentcloud => crate::ids::tencent_image_id(),
                _ => crate::ids::alibaba_image_id(),
            };
            let importing = seed.importing_ms.max(0);
            // Distinct creation times keep listings in a stable, known order.
            let created_ms = now - 60_000 + i as i64 - importing;
            store.insert(Image {
                cloud: seed.cloud,
                region: seed.region,
                id: id.clone(),
                name: seed.name,
                description: seed.description,
                source: format!("seeded/{id}.{}", seed.format),
                format: seed.format,
                os_type: seed.os_type,
                os_name: seed.os_name,
                architecture: seed.architecture,
                project: String::new(),
                created_ms,
                import_ms: if importing > 0 {
                    60_000 + 2 * importing
                } else {
                    0
                },
                fails: seed.fails,
                tags: seed.tags,
                data_disks: Vec::new(),
                task_id: crate::ids::alibaba_task_id(),
                extra: seed
                    .owner
                    .map(|o| [("owner".to_string(), o)].into())
                    .unwrap_or_default(),
                shares: Default::default(),
                copy_of: None,
            });
            ids.push(id);
        }
    }
    sim.persist();
    Json(json!({ "ids": ids })).into_response()
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

async fn delete_image(
    State(sim): State<Arc<Sim>>,
    Path((cloud, region, id)): Path<(String, String, String)>,
) -> Response {
    let Some(cloud) = SimCloud::parse(&cloud) else {
        return not_found("unknown cloud");
    };
    let removed = sim.store().remove(cloud, &region, &id);
    if !removed {
        return not_found("no such image");
    }
    sim.persist();
    tracing::info!(%cloud, region, id, "image deleted out of band");
    StatusCode::NO_CONTENT.into_response()
}

/// Replaces an image's shares behind the provider's back (a JSON list of account IDs).
async fn set_shares(
    State(sim): State<Arc<Sim>>,
    Path((cloud, region, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let Some(cloud) = SimCloud::parse(&cloud) else {
        return not_found("unknown cloud");
    };
    let accounts = match parse_body::<std::collections::BTreeSet<String>>(&body) {
        Ok(a) => a,
        Err(e) => return bad_request(e),
    };
    {
        let mut store = sim.store();
        let Some(img) = store.get_mut(cloud, &region, &id) else {
            return not_found("no such image");
        };
        img.shares = accounts;
    }
    sim.persist();
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let journal = sim.journal();
    Json(serde_json::to_value(journal.view()).unwrap_or(Value::Null))
}

async fn reset(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.reset();
    Json(json!({ "ok": true }))
}

fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn bad_request(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": msg }))).into_response()
}

async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(serde_json::to_value(sim.faults().spec()).unwrap_or(Value::Null))
}

async fn set_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse_body::<FaultSpec>(&body) {
        Err(e) => bad_request(e),
        Ok(spec) => {
            tracing::info!(?spec, "faults set");
            sim.faults().set(spec);
            get_faults(State(sim)).await.into_response()
        }
    }
}

async fn get_config(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(serde_json::to_value(sim.config()).unwrap_or(Value::Null))
}

async fn set_config(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse_body::<ConfigPatch>(&body) {
        Err(e) => bad_request(e),
        Ok(patch) => {
            let c = sim.patch_config(patch);
            tracing::info!(?c, "config changed");
            Json(serde_json::to_value(c).unwrap_or(Value::Null)).into_response()
        }
    }
}
