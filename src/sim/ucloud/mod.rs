//! The UCloud API (also served as SurferCloud): ImportCustomImage, DescribeImage and
//! TerminateCustomImage. Requests are GET query, POST form or POST JSON to the prefix root;
//! every answer is HTTP 200 with `RetCode` (0 = success).

pub(crate) mod auth;
mod rules;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::Response;
use cloudimage::cloud::ucloud::private_url;
use cloudimage::cloud::ucloud::sign::ucloud_flatten;
use serde_json::{json, Value};

use self::auth as uauth;
use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::http::{RawRequest, Reply};
use crate::ids;
use crate::objects::{self, Lookup};
use crate::pipeline::{self, ConnKill, Gate};
use crate::state::{CopyOf, Image, Phase};

type Params = BTreeMap<String, String>;

/// A non-zero RetCode answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RetCode {ret_code}: {message}")]
pub(crate) struct UError {
    /// The RetCode.
    pub ret_code: i64,
    /// The Message.
    pub message: String,
}

/// Parameter errors (missing or invalid).
const PARAM: i64 = 230;
/// "Resource does not exist or is not a custom image" (UHost error table).
const NOT_CUSTOM_IMAGE: i64 = 8956;

fn missing(name: &str) -> UError {
    UError {
        ret_code: PARAM,
        message: format!("Missing params [{name}]"),
    }
}

fn invalid(name: &str) -> UError {
    UError {
        ret_code: PARAM,
        message: format!("Params [{name}] not available"),
    }
}

fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, UError> {
    p.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(name))
}

fn error_reply(action: &str, e: &UError, outcome: String) -> Reply {
    Reply::json(
        200,
        &json!({"Action": format!("{action}Response"), "RetCode": e.ret_code, "Message": e.message}),
        outcome,
    )
}

/// The parsed request: business parameters and the parameters the signature covers.
#[derive(Debug, PartialEq)]
struct Parsed {
    params: Params,
    signed: Params,
}

fn parse(req: &RawRequest) -> Result<Parsed, UError> {
    let query: Params = req.query_pairs().into_iter().collect();
    if req.method == "POST" && req.media_type() == "application/json" {
        let v: Value = serde_json::from_slice(&req.body).map_err(|_| invalid("Body"))?;
        let obj = v.as_object().ok_or_else(|| invalid("Body"))?;
        // A JSON body is the shape ucloud-sdk-go's JSONEncoder sends (ucloud/request/encoder_json.go): arrays as
        // JSON arrays. Flattened `Name.N` keys belong to form bodies; no SDK puts them in JSON, so they are refused
        // rather than guessed at (RetCode 230 is the simulator's guess, docs/simulator.md).
        if let Some(k) = obj.keys().find(|k| k.contains('.')) {
            return Err(invalid(k));
        }
        let mut params = query.clone();
        params.extend(ucloud_flatten(obj));
        let mut signed = query;
        signed.extend(uauth::json_signing_params(obj));
        return Ok(Parsed { params, signed });
    }
    let mut params = query;
    params.extend(req.form_pairs());
    Ok(Parsed {
        signed: params.clone(),
        params,
    })
}

/// Handles one request to `/ucloud` or `/surfercloud`.
pub(crate) async fn handle(
    sim: Arc<Sim>,
    cloud: SimCloud,
    kill: Option<ConnKill>,
    req: RawRequest,
) -> Response {
    let parsed = match parse(&req) {
        Ok(p) => p,
        Err(e) => {
            let r = error_reply("", &e, format!("error:{}", e.ret_code));
            return pipeline::finish(&sim, cloud, "", "", r);
        }
    };
    let action = parsed.params.get("Action").cloned().unwrap_or_default();
    let region = parsed.params.get("Region").cloned().unwrap_or_default();
    if action.is_empty() {
        let e = UError {
            ret_code: 160,
            message: "Missing Action".into(),
        };
        return pipeline::finish(
            &sim,
            cloud,
            "",
            &region,
            error_reply("", &e, "error:160".into()),
        );
    }
    let key = parsed.params.get("PublicKey").cloned().unwrap_or_default();
    let (gate, _) = pipeline::gate(&sim, cloud, &action, &region, &key, kill.as_ref()).await;
    let reply = match gate {
        Gate::Reply(r) => r,
        // UCloud's public error codes (UCloudDoc-Team/api `summary/public.md`): RetCode 153 "API 请求被限流".
        Gate::Throttle => error_reply(
            &action,
            &UError {
                ret_code: 153,
                message: "API 请求被限流".into(),
            },
            "throttled".into(),
        ),
        Gate::Proceed => match uauth::verify(&parsed.signed, &sim.creds, cloud.key_family()) {
            Err(e) => {
                let ue = UError {
                    ret_code: e.ret_code(),
                    message: e.to_string(),
                };
                error_reply(&action, &ue, format!("auth:{}", e.ret_code()))
            }
            Ok(()) => {
                let missing = match bad_private_url(&sim, cloud, &action, &parsed.params) {
                    Some(why) => Some(why),
                    None => missing_source(&sim, cloud, &action, &parsed.params).await,
                };
                match dispatch(&sim, cloud, &action, &parsed.params) {
                    Ok(mut body) => {
                        let id = body
                            .get("ImageId")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        if let (Some(object), Some(id)) = (missing, id) {
                            tracing::info!(%cloud, object, image = %id, "import of a missing object: the image will fail");
                            sim.fail_import(cloud, &region, &id);
                        }
                        body.insert("Action".into(), json!(format!("{action}Response")));
                        body.insert("RetCode".into(), json!(0));
                        Reply::json(200, &Value::Object(body), "ok")
                    }
                    Err(e) => error_reply(&action, &e, format!("error:{}", e.ret_code)),
                }
            }
        },
    };
    pipeline::answer(&sim, cloud, &action, &region, reply).await
}

/// A `UFileUrl` signed as a private URL (`UCloudPublicKey`, `Signature`, `Expires`, as ufile-gosdk's
/// `GetPrivateURL` makes them) whose signature is not the key's, or that has expired: US3 would refuse the
/// import's download, so the image fails (how UCloud reports it is not documented: a guess, docs/simulator.md).
/// A URL without that query is taken as it is.
fn bad_private_url(sim: &Sim, cloud: SimCloud, action: &str, p: &Params) -> Option<String> {
    if action != "ImportCustomImage" {
        return None;
    }
    let url = p.get("UFileUrl")?;
    let (base, query) = url.split_once('?')?;
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    let (Some(public_key), Some(signature), Some(expires)) = (
        q.get("UCloudPublicKey"),
        q.get("Signature"),
        q.get("Expires"),
    ) else {
        return None;
    };
    let Some(pair) = sim.creds.find(cloud.key_family(), public_key) else {
        return Some(format!("{base}: unknown UCloudPublicKey"));
    };
    let (bucket, key) = objects::object_of_url(cloud, base)?;
    let expires: i64 = expires.parse().ok()?;
    let want = private_url::signature(
        &cloudimage::cloud::Secret::new(pair.secret.as_str()),
        &bucket,
        &key,
        expires,
    );
    if &want != signature {
        return Some(format!(
            "{base}: the private URL's Signature does not match"
        ));
    }
    if expires * 1000 < clock::now_ms() {
        return Some(format!("{base}: the private URL expired"));
    }
    None
}

/// With `--object-store`: the object an ImportCustomImage's `UFileUrl` names, when it is not there. No UCloud source
/// says how the cloud answers that; the simulator takes the import and the image ends `Unavailable` (a guess,
/// docs/simulator.md).
async fn missing_source(sim: &Sim, cloud: SimCloud, action: &str, p: &Params) -> Option<String> {
    let store = sim.objects.as_ref()?;
    if action != "ImportCustomImage" {
        return None;
    }
    let url = private_url::without_query(p.get("UFileUrl")?);
    let object = objects::object_of_url(cloud, url)?;
    match store.lookup(&[object]).await {
        // Nothing in the cloud's documentation refuses an archived or encrypted object: taken as readable.
        Lookup::Found | Lookup::Archived(_) | Lookup::Encrypted(_) => None,
        Lookup::NoObject(o) | Lookup::NoBucket(o) => Some(o),
        Lookup::Unreachable(e) => {
            tracing::warn!(error = %e, "the object store did not answer; taking the import as if the object were there");
            None
        }
    }
}

fn dispatch(
    sim: &Sim,
    cloud: SimCloud,
    action: &str,
    p: &Params,
) -> Result<serde_json::Map<String, Value>, UError> {
    match action {
        "ImportCustomImage" => import(sim, cloud, p),
        "DescribeImage" => describe(sim, cloud, p),
        "TerminateCustomImage" => terminate(sim, cloud, p),
        "CopyCustomImage" => copy(sim, cloud, p),
        _ => Err(UError {
            ret_code: 161,
            message: format!("Action [{action}] not found"),
        }),
    }
}

fn import(
    sim: &Sim,
    cloud: SimCloud,
    p: &Params,
) -> Result<serde_json::Map<String, Value>, UError> {
    let region = required(p, "Region")?;
    let name = required(p, "ImageName")?;
    let url = required(p, "UFileUrl")?;
    let os_type = required(p, "OsType")?;
    let os_name = required(p, "OsName")?;
    let format = required(p, "Format")?;
    let auth = required(p, "Auth")?;
    if !auth.eq_ignore_ascii_case("true") {
        return Err(invalid("Auth"));
    }
    if !rules::ucloud_format_ok(format) {
        return Err(invalid("Format"));
    }
    if !rules::ufile_url_ok(url) {
        return Err(invalid("UFileUrl"));
    }
    let image = Image {
        cloud,
        region: region.to_string(),
        id: ids::ucloud_image_id(),
        name: name.to_string(),
        description: p.get("ImageDescription").cloned().unwrap_or_default(),
        // Never the signature of a private URL: the simulator's listings and state file show the object only.
        source: private_url::without_query(url).to_string(),
        format: format.to_string(),
        os_type: os_type.to_string(),
        os_name: os_name.to_string(),
        architecture: String::new(),
        project: p.get("ProjectId").cloned().unwrap_or_default(),
        created_ms: clock::now_ms(),
        import_ms: sim.import_ms(),
        fails: crate::rules::source_fails(url)
            || sim.faults().image_fails(cloud, "ImportCustomImage"),
        tags: Default::default(),
        data_disks: Vec::new(),
        task_id: String::new(),
        extra: Default::default(),
        shares: Default::default(),
        copy_of: None,
    };
    let id = image.id.clone();
    sim.store().insert(image);
    sim.persist();
    let mut m = serde_json::Map::new();
    m.insert("ImageId".into(), json!(id));
    Ok(m)
}

/// CopyCustomImage (ucloud/ucloud-sdk-go services/uhost/apis.go `CopyCustomImageRequest`; docs.ucloud.cn/api/uhost-api/
/// copy_custom_image): `Region` the source's, `SourceImageId` a custom image there, `TargetProjectId` (required),
/// `TargetRegion` (omitted: the same region) or `TargetRegionList.N` (a batch), `TargetImageName` (omitted: the
/// source's, a guess), `TargetImageDescription`. Answer: `TargetImageId` and `TaskId` for one target, `Infos[]` of
/// `{TargetImageId, TargetRegion, TaskId}` for a batch. No error code is published: a missing source answers the
/// DescribeImage/Terminate RetCode 8956, a source not `Available` RetCode 230 on `SourceImageId` (guesses,
/// docs/simulator.md). Each copy is `Copying` for the import duration, then `Available` (or `Unavailable`).
fn copy(sim: &Sim, cloud: SimCloud, p: &Params) -> Result<serde_json::Map<String, Value>, UError> {
    let region = required(p, "Region")?;
    let source_id = required(p, "SourceImageId")?;
    let project = required(p, "TargetProjectId")?;
    let list: Vec<&str> = (0..)
        .map_while(|n| p.get(&format!("TargetRegionList.{n}")).map(String::as_str))
        .collect();
    let batch = !list.is_empty();
    let targets: Vec<&str> = if batch {
        list
    } else {
        vec![p
            .get("TargetRegion")
            .map(String::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or(region)]
    };
    let now = clock::now_ms();
    let source = sim
        .store()
        .get(cloud, region, source_id)
        .filter(|i| i.owner() == "self")
        .cloned()
        .ok_or_else(|| UError {
            ret_code: NOT_CUSTOM_IMAGE,
            message: "资源不存在或非自制镜像".into(),
        })?;
    if source.phase(now) != Phase::Available {
        return Err(invalid("SourceImageId"));
    }
    let name = p
        .get("TargetImageName")
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| source.name.clone());
    let mut infos = Vec::new();
    for target in targets {
        let fails =
            crate::rules::source_fails(&name) || sim.faults().image_fails(cloud, "CopyCustomImage");
        let image = Image {
            region: target.to_string(),
            id: ids::ucloud_image_id(),
            name: name.clone(),
            description: p.get("TargetImageDescription").cloned().unwrap_or_default(),
            project: project.to_string(),
            created_ms: now,
            import_ms: sim.import_ms(),
            fails,
            extra: Default::default(),
            copy_of: Some(CopyOf {
                region: region.to_string(),
                id: source_id.to_string(),
            }),
            ..source.clone()
        };
        infos.push(json!({
            "TargetImageId": image.id,
            "TargetRegion": target,
            "TaskId": format!("task-{}", image.id.trim_start_matches("uimage-")),
        }));
        sim.store().insert(image);
    }
    sim.persist();
    let mut m = serde_json::Map::new();
    match infos.as_slice() {
        [one] if !batch => {
            m.insert("TargetImageId".into(), one["TargetImageId"].clone());
            m.insert("TaskId".into(), one["TaskId"].clone());
        }
        _ => {
            m.insert("Infos".into(), Value::Array(infos));
        }
    }
    Ok(m)
}

/// UCloud `State` word for a phase.
pub(crate) fn state_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Importing { .. } => "Making",
        Phase::Available => "Available",
        Phase::Failed => "Unavailable",
    }
}

fn os_family(os_type: &str) -> &'static str {
    if os_type.to_ascii_lowercase().contains("windows") {
        "Windows"
    } else {
        "Linux"
    }
}

fn render(i: &Image, now: i64) -> Value {
    json!({
        "ImageId": i.id,
        "ImageName": i.name,
        "ImageDescription": i.description,
        "ImageType": if i.owner() == "public" { "Base" } else { "Custom" },
        "ImageSize": i.size_gib(),
        "OsType": os_family(&i.os_type),
        "OsName": i.os_name,
        "State": match (i.copy_of.is_some(), i.phase(now)) {
            // "复制中：Copying" (ucloud-sdk-go services/uhost/models.go `UHostImageSet.State`).
            (true, Phase::Importing { .. }) => "Copying",
            (_, phase) => state_word(phase),
        },
        "CreateTime": i.created_ms / 1000,
        "Zone": "",
        "Features": [],
        "FuncType": "",
        "Tag": "Default",
    })
}

fn int_param(p: &Params, name: &str, default: usize) -> Result<usize, UError> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| invalid(name)),
    }
}

fn describe(
    sim: &Sim,
    cloud: SimCloud,
    p: &Params,
) -> Result<serde_json::Map<String, Value>, UError> {
    let region = required(p, "Region")?;
    // `ImageType`: Base, Business or Custom; without it every type (ucloud-sdk-go services/uhost
    // `DescribeImageRequest`: "镜像类型。标准镜像：Base，镜像市场：Business， 自定义镜像：Custom，默认返回所有类型").
    let kind = match p.get("ImageType").map(String::as_str) {
        None | Some("") => None,
        Some("Custom") => Some("self"),
        Some("Base") => Some("public"),
        // No marketplace image is simulated.
        Some("Business") => Some("marketplace"),
        Some(_) => return Err(invalid("ImageType")),
    };
    let os_filter = p.get("OsType").filter(|v| !v.is_empty());
    if let Some(os) = os_filter {
        if os != "Linux" && os != "Windows" {
            return Err(invalid("OsType"));
        }
    }
    let mut wanted: Vec<&str> = p
        .iter()
        .filter(|(k, _)| k.starts_with("ImageIds."))
        .map(|(_, v)| v.as_str())
        .collect();
    if let Some(id) = p.get("ImageId").filter(|v| !v.is_empty()) {
        wanted.push(id);
    }
    let offset = int_param(p, "Offset", 0)?;
    let limit = int_param(p, "Limit", 20)?;
    let now = clock::now_ms();
    let store = sim.store();
    let matched: Vec<Value> = store
        .list(cloud, Some(region))
        .into_iter()
        .filter(|i| i.owner() != "shared")
        .filter(|i| kind.is_none_or(|k| i.owner() == k))
        .filter(|i| wanted.is_empty() || wanted.contains(&i.id.as_str()))
        .filter(|i| os_filter.is_none_or(|os| os == os_family(&i.os_type)))
        .map(|i| render(i, now))
        .collect();
    let mut m = serde_json::Map::new();
    m.insert("TotalCount".into(), json!(matched.len()));
    let page: Vec<Value> = matched.into_iter().skip(offset).take(limit).collect();
    m.insert("ImageSet".into(), Value::Array(page));
    Ok(m)
}

fn terminate(
    sim: &Sim,
    cloud: SimCloud,
    p: &Params,
) -> Result<serde_json::Map<String, Value>, UError> {
    let region = required(p, "Region")?;
    let id = required(p, "ImageId")?;
    if !sim.store().remove(cloud, region, id) {
        return Err(UError {
            ret_code: NOT_CUSTOM_IMAGE,
            message: "资源不存在或非自制镜像".into(),
        });
    }
    sim.persist();
    let mut m = serde_json::Map::new();
    m.insert("ImageId".into(), json!(id));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue};

    fn raw(ct: &str, body: &str) -> RawRequest {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        RawRequest {
            method: "POST".into(),
            path: "/ucloud".into(),
            raw_query: "Action=DescribeImage".into(),
            headers: h,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn json_body_flattens_for_params_and_concats_for_signing() {
        let p = parse(&raw(
            "application/json",
            r#"{"Action":"DescribeImage","ImageIds":["a","b"],"Limit":5}"#,
        ))
        .unwrap();
        assert_eq!(p.params["ImageIds.0"], "a");
        assert_eq!(p.params["ImageIds.1"], "b");
        assert_eq!(p.signed["ImageIds"], "ab");
        assert_eq!(p.signed["Limit"], "5");
        assert!(parse(&raw("application/json", "[1]")).is_err());
    }

    #[test]
    fn json_with_flattened_keys_is_refused() {
        let e = parse(&raw(
            "application/json",
            r#"{"Action":"DescribeImage","ImageIds.0":"a"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.ret_code, 230);
        assert!(e.message.contains("ImageIds.0"));
    }

    #[test]
    fn form_body() {
        let p = parse(&raw(
            "application/x-www-form-urlencoded",
            "Action=DescribeImage&ImageIds.0=a",
        ))
        .unwrap();
        assert_eq!(p.params, p.signed);
        assert_eq!(p.params["ImageIds.0"], "a");
    }

    #[test]
    fn import_validation() {
        let sim = crate::app::tests_support::sim();
        let mut p: Params = [
            ("Region", "cn-bj2"),
            ("ImageName", "n"),
            ("UFileUrl", "https://b.cn-bj.ufileos.com/x.qcow2"),
            ("OsType", "CentOS"),
            ("OsName", "CentOS 7"),
            ("Format", "qcow2"),
            ("Auth", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ok = import(&sim, SimCloud::Ucloud, &p).unwrap();
        assert!(ok["ImageId"].as_str().unwrap().starts_with("uimage-"));
        p.insert("Format".into(), "iso".into());
        assert_eq!(
            import(&sim, SimCloud::Ucloud, &p).unwrap_err().ret_code,
            230
        );
        p.remove("Format");
        assert_eq!(
            import(&sim, SimCloud::Ucloud, &p).unwrap_err().message,
            "Missing params [Format]"
        );
        let d = describe(
            &sim,
            SimCloud::Ucloud,
            &[("Region".to_string(), "cn-bj2".to_string())]
                .into_iter()
                .collect(),
        )
        .unwrap();
        assert_eq!(d["TotalCount"], 1);
        assert_eq!(d["ImageSet"][0]["State"], "Available");
        let d = describe(
            &sim,
            SimCloud::Surfercloud,
            &[("Region".to_string(), "cn-bj2".to_string())]
                .into_iter()
                .collect(),
        )
        .unwrap();
        assert_eq!(d["TotalCount"], 0);
    }

    #[test]
    fn copy_custom_image_is_copying_then_available() {
        let sim = crate::app::tests_support::sim();
        let p: Params = [
            ("Region", "cn-bj2"),
            ("ImageName", "src"),
            ("UFileUrl", "https://b.cn-bj.ufileos.com/x.qcow2"),
            ("OsType", "CentOS"),
            ("OsName", "CentOS 7"),
            ("Format", "qcow2"),
            ("Auth", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let src = import(&sim, SimCloud::Ucloud, &p).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let params = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let e = copy(
            &sim,
            SimCloud::Ucloud,
            &params(&[("Region", "cn-bj2"), ("SourceImageId", &src)]),
        )
        .unwrap_err();
        assert_eq!(e.message, "Missing params [TargetProjectId]");
        sim.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(60.0),
            latency_ms: None,
        });
        let c = params(&[
            ("Region", "cn-bj2"),
            ("SourceImageId", &src),
            ("TargetProjectId", "org-1"),
            ("TargetRegion", "hk"),
            ("TargetImageName", "cp"),
        ]);
        let out = copy(&sim, SimCloud::Ucloud, &c).unwrap();
        let id = out["TargetImageId"].as_str().unwrap().to_string();
        assert!(out["TaskId"].is_string());
        let d = describe(
            &sim,
            SimCloud::Ucloud,
            &params(&[("Region", "hk"), ("ImageId", &id)]),
        )
        .unwrap();
        assert_eq!(d["ImageSet"][0]["State"], "Copying");
        assert_eq!(d["ImageSet"][0]["ImageName"], "cp");
        let e = copy(
            &sim,
            SimCloud::Ucloud,
            &params(&[
                ("Region", "cn-bj2"),
                ("SourceImageId", "uimage-none"),
                ("TargetProjectId", "org-1"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.ret_code, NOT_CUSTOM_IMAGE);
        let batch = params(&[
            ("Region", "cn-bj2"),
            ("SourceImageId", &src),
            ("TargetProjectId", "org-1"),
            ("TargetRegionList.0", "hk"),
            ("TargetRegionList.1", "cn-sh2"),
        ]);
        let out = copy(&sim, SimCloud::Ucloud, &batch).unwrap();
        assert!(out.get("TargetImageId").is_none());
        assert_eq!(out["Infos"].as_array().unwrap().len(), 2);
    }
}
