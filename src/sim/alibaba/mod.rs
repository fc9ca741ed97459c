//! Alibaba Cloud RPC-style APIs: ECS (`/alicloud/ecs`), ENS (`/alicloud/ens`) and Apsara Stack
//! ECS (the standard ECS API at `/apsarastack`, with `x-ascm-product-name: Ecs`, or the route gateway
//! `/apsarastack/apsara/route/Ecs/<Action>`). Requests are GET query or POST form, signed
//! with RPC v1 (`Signature` parameter) or ACS3-HMAC-SHA256; errors carry the real HTTP status
//! and `Code`.

pub(crate) mod auth;
pub(crate) mod ecs;
pub(crate) mod ens;
mod rules;
mod shares;
mod tags;
mod xml;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::Response;
use serde_json::{json, Map, Value};

use self::auth::{self as acs, AcsAuthError};
use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::http::{RawRequest, Reply};
use crate::ids;
use crate::objects::Lookup;
use crate::pipeline::{self, ConnKill, Gate};

/// Request parameters (query and form merged).
pub(crate) type Params = BTreeMap<String, String>;

/// The result of one action: the response fields (without `RequestId`).
pub(crate) type Out = Result<Map<String, Value>, AliError>;

/// Which Alibaba API a request addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Product {
    /// ECS, version 2014-05-26.
    Ecs,
    /// ENS, version 2017-11-10.
    Ens,
    /// Apsara Stack ECS: the route gateway (ImportImage at 2016-01-01, its reference page) or the standard ECS API
    /// (2014-05-26) as the official Apsara providers call it.
    Apsara,
}

impl Product {
    fn cloud(self) -> SimCloud {
        match self {
            Product::Ecs => SimCloud::AlicloudEcs,
            Product::Ens => SimCloud::AlicloudEns,
            Product::Apsara => SimCloud::Apsarastack,
        }
    }

    /// Whether `version` is this product's for `action`. Apsara Stack's route gateway documents ImportImage at
    /// 2016-01-01 (seed page 004); its other image actions have no route page and are taken at the ECS version the
    /// official Apsara providers use (2014-05-26) or 2016-01-01. Reached as the ECS API (no route), Apsara takes
    /// 2014-05-26 (aliyun/terraform-provider-alibabacloudstack, ECS SDK 2014-05-26).
    fn accepts(self, version: &str, action: &str, route: bool) -> bool {
        match self {
            Product::Ens => version == "2017-11-10",
            Product::Ecs => version == "2014-05-26",
            Product::Apsara if route && action == "ImportImage" => version == "2016-01-01",
            Product::Apsara if route => matches!(version, "2014-05-26" | "2016-01-01"),
            Product::Apsara => version == "2014-05-26",
        }
    }

    fn host_id(self) -> &'static str {
        match self {
            Product::Ens => "ens.aliyuncs.com",
            Product::Ecs | Product::Apsara => "ecs.aliyuncs.com",
        }
    }
}

/// An Alibaba error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct AliError {
    /// HTTP status.
    pub status: u16,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// `InvalidImageId.NotFound`, as ECS and ENS answer for an id they do not have.
pub(crate) fn not_found() -> AliError {
    ali_err(
        404,
        "InvalidImageId.NotFound",
        "The specified ImageId does not exist.",
    )
}

/// The `Images` object of a describe answer: page `page` (from 1) of `size` of the matched images.
pub(crate) fn images_page(matched: Vec<Value>, page: usize, size: usize) -> Value {
    let skip = (page - 1).saturating_mul(size);
    let items: Vec<Value> = matched.into_iter().skip(skip).take(size).collect();
    json!({ "Image": items })
}

/// Builds an [`AliError`].
pub(crate) fn ali_err(status: u16, code: &str, message: impl Into<String>) -> AliError {
    AliError {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

/// `MissingParameter` for a required business parameter.
pub(crate) fn missing(name: &str) -> AliError {
    ali_err(
        400,
        "MissingParameter",
        format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
    )
}

/// The (bucket, key) pairs an ImportImage names: ECS and Apsara Stack `DiskDeviceMapping.N.OSSBucket` /
/// `OSSObject`; ENS `OSSBucket` / `OSSObject` and the entries of its `DiskDeviceMapping` JSON list.
fn import_objects(product: Product, p: &Params) -> Vec<(String, String)> {
    let pair = |b: Option<&str>, k: Option<&str>| Some((b?.to_string(), k?.to_string()));
    let mut out = Vec::new();
    match product {
        Product::Ens => {
            out.extend(pair(optional(p, "OSSBucket"), optional(p, "OSSObject")));
            let list: Vec<Value> = optional(p, "DiskDeviceMapping")
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            for d in &list {
                let field = |k: &str| d.get(k).and_then(Value::as_str);
                out.extend(pair(field("OSSBucket"), field("OSSObject")));
            }
        }
        Product::Ecs | Product::Apsara => {
            for n in 1..=17 {
                out.extend(pair(
                    optional(p, &format!("DiskDeviceMapping.{n}.OSSBucket")),
                    optional(p, &format!("DiskDeviceMapping.{n}.OSSObject")),
                ));
            }
        }
    }
    out
}

/// With `--object-store`: the error an ImportImage of a missing object gets. ECS answers 400
/// `InvalidOSSObject.NotFound` ("The specified OSS object does not exist in this region.") and 400
/// `InvalidOSSBucket.NotFound` for a missing bucket (AlibabaCloudDocs/ecs `intl.zh-CN/API参考/镜像/ImportImage.md`,
/// error codes); Apsara Stack is taken to answer as ECS, and ENS with its `InvalidParameter.%s` pattern (seed page
/// 003) as `InvalidParameter.OSSObject` (both guesses, docs/simulator.md). A `DryRun`, and a repeated `ClientToken`
/// (answered with the image it made), are not checked.
async fn missing_source(
    sim: &Sim,
    product: Product,
    action: &str,
    ctx: &Ctx<'_>,
) -> Option<AliError> {
    let store = sim.objects.as_ref()?;
    let p = ctx.params;
    if action != "ImportImage"
        || optional(p, "DryRun").is_some_and(|d| d.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    if let Some(t) = optional(p, "ClientToken") {
        if sim.store().token(ctx.cloud, &ctx.region, t).is_some() {
            return None;
        }
    }
    let wanted = import_objects(product, p);
    let (status, code, message) = match store.lookup(&wanted).await {
        Lookup::Found => return None,
        // ECS ImportImage error codes (Alibaba Cloud ECS API reference); what ENS and Apsara Stack answer is not
        // documented: taken as readable (docs/simulator.md).
        Lookup::Archived(o) if product == Product::Ecs => (
            400,
            "InvalidOSSObject.NeedRestore",
            format!("The specified OSS object is a archive object, need restore first. ({o})"),
        ),
        Lookup::Encrypted(o) if product == Product::Ecs => (
            403,
            "InvalidOSSBucket.EncryptUnsupported",
            format!("Accessing objects from encrypted OSS bucket is not supported. ({o})"),
        ),
        Lookup::Archived(_) | Lookup::Encrypted(_) => return None,
        Lookup::Unreachable(e) => {
            tracing::warn!(error = %e, "the object store did not answer; taking the import as if the objects were there");
            return None;
        }
        Lookup::NoObject(o) if product == Product::Ens => (
            400,
            "InvalidParameter.OSSObject",
            format!("The specified field OSSObject invalid. Please check it again. ({o} does not exist)"),
        ),
        Lookup::NoBucket(b) if product == Product::Ens => (
            400,
            "InvalidParameter.OSSBucket",
            format!("The specified field OSSBucket invalid. Please check it again. ({b} does not exist)"),
        ),
        Lookup::NoObject(o) => (
            400,
            "InvalidOSSObject.NotFound",
            format!("The specified OSS object does not exist in this region. ({o})"),
        ),
        Lookup::NoBucket(b) => (
            400,
            "InvalidOSSBucket.NotFound",
            format!("The specified OSS bucket does not exist in this region. ({b})"),
        ),
    };
    Some(ali_err(status, code, message))
}

/// A required, non-empty parameter.
pub(crate) fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, AliError> {
    p.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(name))
}

/// An optional, non-empty parameter.
pub(crate) fn optional<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Parses `PageNumber` (>= 1, default 1) and `PageSize` (1..=max, default `default`).
pub(crate) fn paging(p: &Params, default: usize, max: usize) -> Result<(usize, usize), AliError> {
    let parse = |name: &str, d: usize, hi: usize| -> Result<usize, AliError> {
        match optional(p, name) {
            None => Ok(d),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=hi).contains(n))
                .ok_or_else(|| {
                    ali_err(
                        400,
                        "InvalidParameter",
                        format!("The specified parameter {name} is invalid."),
                    )
                }),
        }
    };
    Ok((
        parse("PageNumber", 1, usize::MAX)?,
        parse("PageSize", default, max)?,
    ))
}

/// Everything an action handler needs besides the store.
pub(crate) struct Ctx<'a> {
    /// Backend.
    pub cloud: SimCloud,
    /// Merged parameters.
    pub params: &'a Params,
    /// Region (from `RegionId`, `regionId` or `x-acs-regionid`); may be empty.
    pub region: String,
    /// Resource group (parameter or Apsara Stack's `x-acs-resourcegroupid`); may be empty.
    pub resource_group: String,
}

struct Parsed {
    action: String,
    version: String,
    /// Reached through the Apsara Stack route gateway (`/apsara/route/Ecs/<Action>`).
    route: bool,
    /// The `x-ascm-product-name` header (Apsara Stack's ECS-style calls name their product in it).
    ascm_product: Option<String>,
    params: Params,
    query: Params,
    acs3: bool,
    xml: bool,
}

fn parse(path_action: Option<&str>, req: &RawRequest) -> Parsed {
    let query: Params = req.query_pairs().into_iter().collect();
    let mut params = query.clone();
    params.extend(req.form_pairs());
    let acs3 = req
        .header("authorization")
        .is_some_and(|a| a.starts_with("ACS3-"));
    let (action, version) = if acs3 {
        (
            req.header("x-acs-action").unwrap_or("").to_string(),
            req.header("x-acs-version").unwrap_or("").to_string(),
        )
    } else {
        (
            params.get("Action").cloned().unwrap_or_default(),
            params.get("Version").cloned().unwrap_or_default(),
        )
    };
    let action = path_action.map(str::to_string).unwrap_or(action);
    // The route gateway's body parameter `version` (seed page 004) stands in for the common `Version`.
    let version = match (path_action, params.get("version")) {
        (Some(_), Some(v)) if version.is_empty() => v.clone(),
        _ => version,
    };
    // RPC v1 defaults to XML; ACS3 answers JSON unless XML is asked for.
    let xml = match params.get("Format").map(|f| f.to_ascii_uppercase()) {
        Some(f) => f == "XML",
        None => !acs3,
    };
    Parsed {
        action,
        version,
        route: path_action.is_some(),
        ascm_product: req.header("x-ascm-product-name").map(str::to_string),
        params,
        query,
        acs3,
        xml,
    }
}

fn render(p: &Parsed, status: u16, body: Value, outcome: String) -> Reply {
    if p.xml {
        let root = if status == 200 {
            format!("{}Response", p.action)
        } else {
            "Error".to_string()
        };
        Reply {
            status,
            content_type: "text/xml;charset=utf-8",
            body: xml::render(&root, &body).into_bytes(),
            outcome,
            headers: Vec::new(),
        }
    } else {
        Reply::json(status, &body, outcome)
    }
}

fn error_reply(p: &Parsed, product: Product, e: &AliError, outcome: String) -> Reply {
    let body = json!({
        "RequestId": ids::alibaba_request_id(),
        "HostId": product.host_id(),
        "Code": e.code,
        "Message": e.message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}", e.code),
    });
    render(p, e.status, body, outcome)
}

fn auth_error(e: &AcsAuthError) -> AliError {
    ali_err(e.status(), &e.code(), e.to_string())
}

fn verify(sim: &Sim, product: Product, p: &Parsed, req: &RawRequest) -> Result<(), AliError> {
    let now = clock::now_ms() / 1000;
    let family = product.cloud().key_family();
    let v = if p.acs3 {
        acs::verify_acs3(req, &p.query, &sim.creds, family, now)
    } else {
        acs::verify_rpc(&req.method, &p.params, &sim.creds, family, now)
    }
    .map_err(|e| auth_error(&e))?;
    if !sim
        .nonces()
        .check_and_insert(&v.key_id, &v.nonce, clock::now_ms())
    {
        return Err(ali_err(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

/// Apsara Stack reached as the ECS API: the gateway needs the product named in `x-ascm-product-name`, which the
/// official provider sends on every call as `Ecs` (aliyun/terraform-provider-alibabacloudstack
/// alibabacloudstack/connectivity/client.go `defaultHeaders(popcode)`, `popcode` the ECS SDK request's product).
/// The route gateway has it in the path instead. Which code the gateway answers without it is not documented:
/// `MissingParameter` / `InvalidParameter` are guesses (docs/simulator.md).
fn check_ascm_product(header: Option<&str>) -> Result<(), AliError> {
    match header.filter(|h| !h.is_empty()) {
        None => Err(ali_err(
            400,
            "MissingParameter",
            "The input parameter \"x-ascm-product-name\" that is mandatory for processing this request is not \
             supplied.",
        )),
        Some("Ecs") => Ok(()),
        Some(other) => Err(ali_err(
            400,
            "InvalidParameter",
            format!("The specified header x-ascm-product-name ({other}) is not valid here: this is Ecs."),
        )),
    }
}

/// Handles one request to an Alibaba prefix; `path_action` is the Apsara Stack route's action.
pub(crate) async fn handle(
    sim: Arc<Sim>,
    product: Product,
    path_action: Option<String>,
    kill: Option<ConnKill>,
    req: RawRequest,
) -> Response {
    let cloud = product.cloud();
    let p = parse(path_action.as_deref(), &req);
    let region = optional(&p.params, "RegionId")
        .or_else(|| optional(&p.params, "regionId"))
        .or_else(|| req.header("x-acs-regionid"))
        .unwrap_or("")
        .to_string();
    let key = optional(&p.params, "AccessKeyId")
        .or_else(|| pipeline::credential_key(req.header("authorization")))
        .unwrap_or("")
        .to_string();
    let (gate, quota) = pipeline::gate(&sim, cloud, &p.action, &region, &key, kill.as_ref()).await;
    let mut reply = match gate {
        Gate::Reply(r) => r,
        Gate::Throttle => error_reply(
            &p,
            product,
            &ali_err(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            ),
            "throttled".into(),
        ),
        Gate::Proceed => match verify(&sim, product, &p, &req) {
            Err(e) => {
                let outcome = format!("auth:{}", e.code);
                error_reply(&p, product, &e, outcome)
            }
            Ok(()) => {
                let ctx = Ctx {
                    cloud,
                    params: &p.params,
                    region: region.clone(),
                    resource_group: optional(&p.params, "ResourceGroupId")
                        .or_else(|| req.header("x-acs-resourcegroupid"))
                        .unwrap_or("")
                        .to_string(),
                };
                let checked = match missing_source(&sim, product, &p.action, &ctx).await {
                    Some(e) => Err(e),
                    None => dispatch(&sim, product, &p, &ctx),
                };
                match checked {
                    Ok(m) => {
                        let mut body = Map::new();
                        body.insert("RequestId".into(), json!(ids::alibaba_request_id()));
                        body.extend(m);
                        render(&p, 200, Value::Object(body), "ok".into())
                    }
                    Err(e) => {
                        let outcome = format!("error:{}", e.code);
                        error_reply(&p, product, &e, outcome)
                    }
                }
            }
        },
    };
    // Alibaba's answers say where the caller stands against its quota (the headers the official SDKs read,
    // darabonba-openapi `GetThrottlingTimeLeft`).
    if let Some(q) = quota {
        reply.headers.push(q.alibaba_header());
    }
    pipeline::answer(&sim, cloud, &p.action, &region, reply).await
}

fn dispatch(sim: &Sim, product: Product, p: &Parsed, ctx: &Ctx<'_>) -> Out {
    if p.action.is_empty() {
        return Err(ali_err(
            400,
            "MissingAction",
            "Action is mandatory for this action.",
        ));
    }
    if p.version.is_empty() {
        return Err(ali_err(
            400,
            "MissingVersion",
            "Version is mandatory for this action.",
        ));
    }
    if !product.accepts(&p.version, &p.action, p.route) {
        return Err(ali_err(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    if p.route {
        // The route page's body `version`, when given, must agree; its `regionId` is required for ImportImage.
        if optional(&p.params, "version").is_some_and(|v| v != p.version) {
            return Err(ali_err(
                400,
                "InvalidVersion",
                "Specified parameter version does not match Version.",
            ));
        }
        if p.action == "ImportImage" {
            required(&p.params, "regionId")?;
        }
    } else if product == Product::Apsara {
        check_ascm_product(p.ascm_product.as_deref())?;
    }
    let unknown = || {
        ali_err(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    };
    match (product, p.action.as_str()) {
        (Product::Ens, "ImportImage") => ens::import(sim, ctx),
        (Product::Ens, "DescribeSelfImages") => ens::describe(sim, ctx),
        (Product::Ens, "ModifyImageAttribute") => ens::modify(sim, ctx),
        (Product::Ens, "DeleteImage") => ens::delete(sim, ctx),
        (Product::Ens, "ModifyImageSharePermission") => shares::ens_modify(sim, ctx),
        (Product::Ens, "DescribeImageSharePermission") => shares::ens_describe(sim, ctx),
        (Product::Ens, _) => Err(unknown()),
        (Product::Ecs, "TagResources") => tags::tag_resources(sim, ctx),
        (Product::Ecs, "UntagResources") => tags::untag_resources(sim, ctx),
        (Product::Ecs, "CancelTask") => ecs::cancel_task(sim, ctx),
        (Product::Ecs, "DescribeTasks") => ecs::describe_tasks(sim, ctx),
        // No official source calls CancelCopyImage on Apsara Stack (research 19): it stays unknown there.
        (Product::Ecs, "CancelCopyImage") => ecs::cancel_copy(sim, ctx),
        (_, "CopyImage") => ecs::copy(sim, ctx),
        (_, "ImportImage") => ecs::import(sim, ctx),
        (_, "DescribeImages") => ecs::describe(sim, ctx),
        (_, "ModifyImageAttribute") => ecs::modify(sim, ctx),
        (_, "DeleteImage") => ecs::delete(sim, ctx),
        (_, "ModifyImageSharePermission") => shares::ecs_modify(sim, ctx),
        (_, "DescribeImageSharePermission") => shares::ecs_describe(sim, ctx),
        _ => Err(unknown()),
    }
}

/// Request parameters from pairs, for the family's tests.
#[cfg(test)]
pub(crate) fn test_params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_rules() {
        let p: Params = [("PageSize".to_string(), "50".to_string())]
            .into_iter()
            .collect();
        assert_eq!(paging(&p, 10, 100).unwrap(), (1, 50));
        let p: Params = [("PageSize".to_string(), "101".to_string())]
            .into_iter()
            .collect();
        assert!(paging(&p, 10, 100).is_err());
        let p: Params = [("PageNumber".to_string(), "0".to_string())]
            .into_iter()
            .collect();
        assert!(paging(&p, 10, 100).is_err());
        assert_eq!(paging(&Params::new(), 10, 100).unwrap(), (1, 10));
    }

    #[test]
    fn ecs_style_apsara_names_its_product() {
        assert_eq!(
            check_ascm_product(None).unwrap_err().code,
            "MissingParameter"
        );
        assert_eq!(
            check_ascm_product(Some("")).unwrap_err().code,
            "MissingParameter"
        );
        assert_eq!(
            check_ascm_product(Some("Vpc")).unwrap_err().code,
            "InvalidParameter"
        );
        assert!(check_ascm_product(Some("Ecs")).is_ok());
    }

    #[test]
    fn missing_message() {
        let e = missing("RegionId");
        assert_eq!(e.status, 400);
        assert!(e.message.contains("\"RegionId\""));
    }
}
