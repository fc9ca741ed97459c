//! Tencent Cloud CVM (API 3.0, version 2017-03-12): ImportImage, DescribeImages,
//! ModifyImageAttribute and DeleteImages. POST JSON with `X-TC-*` headers and a TC3 signature;
//! every answer is HTTP 200 with `Response` (and `Response.Error` on failure).

mod auth;
mod rules;

use std::sync::Arc;

use axum::response::Response;
use serde_json::{json, Map, Value};

use self::auth as tc3;
use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::http::{RawRequest, Reply};
use crate::ids;
use crate::objects::{self, Lookup};
use crate::pipeline::{self, ConnKill, Gate};
use crate::state::{CopyOf, Image, Phase};

const VERSION: &str = "2017-03-12";
const SERVICE: &str = "cvm";
const CLOUD: SimCloud = SimCloud::Tencentcloud;

/// A `Response.Error` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub(crate) struct TcError {
    /// Error code, e.g. `InvalidImageId.NotFound`.
    pub code: String,
    /// Message.
    pub message: String,
}

fn err(code: &str, message: impl Into<String>) -> TcError {
    TcError {
        code: code.to_string(),
        message: message.into(),
    }
}

fn missing(name: &str) -> TcError {
    err(
        "MissingParameter",
        format!("The request is missing a required parameter `{name}`."),
    )
}

fn bad_value(name: &str, value: &str) -> TcError {
    err(
        "InvalidParameterValue",
        format!("The value `{value}` of parameter `{name}` is invalid."),
    )
}

fn bad_type(name: &str) -> TcError {
    err(
        "InvalidParameter",
        format!("The type of parameter `{name}` is incorrect."),
    )
}

/// Tencent answers `Content-Type: application/json` exactly: tencentcloud-sdk-python
/// common/abstract_client.py `_check_error` only looks for `Response.Error` when the type is `application/json` (or
/// `text/plain`), so a `;charset=utf-8` suffix would make the SDK take every error for a success.
const CONTENT_TYPE: &str = "application/json";

fn tc_json(status: u16, v: &Value, outcome: impl Into<String>) -> Reply {
    Reply {
        content_type: CONTENT_TYPE,
        ..Reply::json(status, v, outcome)
    }
}

fn error_reply(e: &TcError, outcome: String) -> Reply {
    tc_json(
        200,
        &json!({"Response": {"Error": {"Code": e.code, "Message": e.message},
                             "RequestId": ids::tencent_request_id()}}),
        outcome,
    )
}

/// Header-level facts of a request.
struct Head {
    action: String,
    region: String,
    version: String,
    timestamp: i64,
}

fn head(req: &RawRequest) -> Result<Head, TcError> {
    let h = |name: &str| req.header(name).unwrap_or("").trim().to_string();
    let action = h("x-tc-action");
    if action.is_empty() {
        return Err(missing("Action"));
    }
    let ts = h("x-tc-timestamp");
    if ts.is_empty() {
        return Err(missing("Timestamp"));
    }
    let timestamp = ts.parse().map_err(|_| bad_value("Timestamp", &ts))?;
    Ok(Head {
        action,
        region: h("x-tc-region"),
        version: h("x-tc-version"),
        timestamp,
    })
}

fn body(req: &RawRequest) -> Result<Map<String, Value>, TcError> {
    if req.method != "POST" || req.media_type() != "application/json" {
        return Err(err(
            "InvalidParameter",
            "The simulator accepts POST application/json requests (TC3-HMAC-SHA256) only.",
        ));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(err(
            "InvalidParameter",
            "The request body is not a JSON object.",
        )),
    }
}

/// Handles one request to `/tencentcloud`.
pub(crate) async fn handle(sim: Arc<Sim>, kill: Option<ConnKill>, req: RawRequest) -> Response {
    let h = match head(&req) {
        Ok(h) => h,
        Err(e) => {
            let outcome = format!("error:{}", e.code);
            return pipeline::finish(&sim, CLOUD, "", "", error_reply(&e, outcome));
        }
    };
    let key = pipeline::credential_key(req.header("authorization")).unwrap_or("");
    let (gate, _) = pipeline::gate(&sim, CLOUD, &h.action, &h.region, key, kill.as_ref()).await;
    let reply = match gate {
        Gate::Reply(r) => r,
        Gate::Throttle => error_reply(
            &err(
                "RequestLimitExceeded",
                "Your current request times exceeds the frequency limit. Please reduce the frequency of calls.",
            ),
            "throttled".into(),
        ),
        Gate::Proceed => {
            let now = clock::now_ms() / 1000;
            match tc3::verify(&req, h.timestamp, SERVICE, &sim.creds, now) {
                Err(e) => error_reply(&err(e.code(), e.to_string()), format!("auth:{}", e.code())),
                Ok(()) => {
                    let parsed = body(&req);
                    let missing = match &parsed {
                        Ok(b) => missing_source(&sim, &h, b).await,
                        Err(_) => None,
                    };
                    match parsed.and_then(|b| dispatch(&sim, &h, &b)) {
                    Ok(mut m) => {
                        let id = m.get("ImageId").and_then(Value::as_str).map(str::to_string);
                        if let (Some(object), Some(id)) = (missing, id) {
                            tracing::info!(object, image = %id, "import of a missing object: the image will fail");
                            sim.fail_import(CLOUD, &h.region, &id);
                        }
                        m.insert("RequestId".into(), json!(ids::tencent_request_id()));
                        tc_json(200, &json!({ "Response": m }), "ok")
                    }
                    Err(e) => {
                        let outcome = format!("error:{}", e.code);
                        error_reply(&e, outcome)
                    }
                    }
                }
            }
        }
    };
    pipeline::answer(&sim, CLOUD, &h.action, &h.region, reply).await
}

/// With `--object-store`: the first object an ImportImage names (`ImageUrl`, `ImportImageDataDiskList.N.ImageUrl`)
/// that is not there. Tencent's ImportImage error codes (seed page 002) have none for a missing object; the
/// simulator takes the import and the image ends `IMPORTFAILED` (a guess, docs/simulator.md). A `DryRun` is not
/// checked.
async fn missing_source(sim: &Sim, h: &Head, b: &Map<String, Value>) -> Option<String> {
    let store = sim.objects.as_ref()?;
    if h.action != "ImportImage" || b.get("DryRun").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let mut urls: Vec<&str> = b
        .get("ImageUrl")
        .and_then(Value::as_str)
        .into_iter()
        .collect();
    if let Some(list) = b.get("ImportImageDataDiskList").and_then(Value::as_array) {
        urls.extend(
            list.iter()
                .filter_map(|d| d.get("ImageUrl").and_then(Value::as_str)),
        );
    }
    let wanted: Vec<(String, String)> = urls
        .into_iter()
        .filter_map(|u| objects::object_of_url(CLOUD, u))
        .collect();
    match store.lookup(&wanted).await {
        // Nothing in the cloud's documentation refuses an archived or encrypted object: taken as readable.
        Lookup::Found | Lookup::Archived(_) | Lookup::Encrypted(_) => None,
        Lookup::NoObject(o) | Lookup::NoBucket(o) => Some(o),
        Lookup::Unreachable(e) => {
            tracing::warn!(error = %e, "the object store did not answer; taking the import as if the objects were there");
            None
        }
    }
}

type Out = Result<Map<String, Value>, TcError>;

fn dispatch(sim: &Sim, h: &Head, b: &Map<String, Value>) -> Out {
    let known = [
        "ImportImage",
        "DescribeImages",
        "ModifyImageAttribute",
        "DeleteImages",
        "ModifyImageSharePermission",
        "DescribeImageSharePermission",
        "SyncImages",
    ];
    if !known.contains(&h.action.as_str()) {
        return Err(err(
            "InvalidAction",
            format!("The action `{}` does not exist.", h.action),
        ));
    }
    if h.version != VERSION {
        return Err(err(
            "NoSuchVersion",
            format!("The API version `{}` does not exist.", h.version),
        ));
    }
    if h.region.is_empty() {
        return Err(missing("Region"));
    }
    let r = h.region.as_str();
    match h.action.as_str() {
        "ImportImage" => import(sim, r, b),
        "DescribeImages" => describe(sim, r, b),
        "ModifyImageAttribute" => modify(sim, r, b),
        "ModifyImageSharePermission" => share(sim, r, b),
        "DescribeImageSharePermission" => shares(sim, r, b),
        "SyncImages" => sync(sim, r, b),
        _ => delete(sim, r, b),
    }
}

fn allow(b: &Map<String, Value>, names: &[&str]) -> Result<(), TcError> {
    match b.keys().find(|k| !names.contains(&k.as_str())) {
        Some(k) => Err(err(
            "UnknownParameter",
            format!("The parameter `{k}` is not recognized."),
        )),
        None => Ok(()),
    }
}

fn opt_str<'a>(b: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, TcError> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_type(name)),
    }
}

fn req_str<'a>(b: &'a Map<String, Value>, name: &str) -> Result<&'a str, TcError> {
    opt_str(b, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(name))
}

fn opt_bool(b: &Map<String, Value>, name: &str) -> Result<bool, TcError> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(v)) => Ok(*v),
        Some(_) => Err(bad_type(name)),
    }
}

fn opt_uint(b: &Map<String, Value>, name: &str, default: u64) -> Result<u64, TcError> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| bad_type(name)),
    }
}

fn str_list<'a>(v: &'a Value, name: &str) -> Result<Vec<&'a str>, TcError> {
    v.as_array()
        .ok_or_else(|| bad_type(name))?
        .iter()
        .map(|x| x.as_str().ok_or_else(|| bad_type(name)))
        .collect()
}

fn check_id(id: &str) -> Result<(), TcError> {
    if ids::is_tencent_image_id(id) {
        Ok(())
    } else {
        Err(err(
            "InvalidImageId.Malformed",
            format!("The image id `{id}` is malformed."),
        ))
    }
}

const OS_TYPES: &[&str] = &[
    "CentOS",
    "Ubuntu",
    "Debian",
    "Windows",
    "TencentOS",
    "OpenCloudOS",
    "RedHat",
    "SUSE",
    "OpenSUSE",
    "FreeBSD",
    "CoreOS",
    "Fedora",
    "Rocky Linux",
    "AlmaLinux",
    "Kylin",
    "UOS",
    "Other Linux",
];

fn too_large(name: &str) -> TcError {
    err(
        "InvalidParameterValue.TooLarge",
        format!("The value of parameter `{name}` exceeds the maximum length."),
    )
}

fn duplicate(name: &str) -> TcError {
    err(
        "InvalidImageName.Duplicate",
        format!("The image name `{name}` already exists."),
    )
}

fn import(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(
        b,
        &[
            "Architecture",
            "OsType",
            "OsVersion",
            "ImageUrl",
            "ImageName",
            "ImageDescription",
            "DryRun",
            "Force",
            "TagSpecification",
            "LicenseType",
            "BootMode",
            "ImageFamily",
            "ImportImageDataDiskList",
        ],
    )?;
    let arch = req_str(b, "Architecture")?;
    let os_type = req_str(b, "OsType")?;
    let os_version = req_str(b, "OsVersion")?;
    let url = req_str(b, "ImageUrl")?;
    let name = req_str(b, "ImageName")?;
    let desc = opt_str(b, "ImageDescription")?.unwrap_or("");
    let force = opt_bool(b, "Force")?;
    let dry_run = opt_bool(b, "DryRun")?;
    if !["x86_64", "i386", "arm_64"].contains(&arch) {
        return Err(bad_value("Architecture", arch));
    }
    if !OS_TYPES.contains(&os_type) {
        return Err(err(
            "InvalidImageOsType.Unsupported",
            format!("The operating system type `{os_type}` is not supported."),
        ));
    }
    if !rules::tencent_cos_url_ok(url) {
        return Err(err(
            "InvalidParameter.InvalidParameterUrlError",
            format!("The URL `{url}` is not a valid COS object URL."),
        ));
    }
    if !rules::tencent_image_name_ok(name) {
        return Err(too_large("ImageName"));
    }
    if !rules::tencent_description_ok(desc) {
        return Err(too_large("ImageDescription"));
    }
    let format = rules::tencent_format_from_url(url);
    if format == Some("ISO") && !force {
        return Err(err(
            "InvalidParameterValue.ISOMustImportByForce",
            "ISO files must be imported by force.",
        ));
    }
    if let Some(l) = opt_str(b, "LicenseType")? {
        if !["TencentCloud", "BYOL"].contains(&l) {
            return Err(err(
                "InvalidParameterValue.InvalidLicenseType",
                "Invalid license type.",
            ));
        }
    }
    if let Some(m) = opt_str(b, "BootMode")? {
        if !["Legacy BIOS", "UEFI"].contains(&m) {
            return Err(err(
                "InvalidParameterValue.InvalidBootMode",
                "Unsupported boot mode.",
            ));
        }
    }
    let tags = tag_spec(b)?;
    let family = opt_str(b, "ImageFamily")?.unwrap_or("");
    if family.chars().count() > 60 {
        return Err(err(
            "InvalidParameterValue.InvalidImageFamily",
            "Invalid format of image family name",
        ));
    }
    let mut extra = std::collections::BTreeMap::new();
    extra.insert("ImageFamily".to_string(), family.to_string());
    extra.insert(
        "LicenseType".to_string(),
        opt_str(b, "LicenseType")?
            .unwrap_or("TencentCloud")
            .to_string(),
    );
    if sim.store().name_taken(CLOUD, region, name, "") {
        return Err(duplicate(name));
    }
    if dry_run {
        return Err(err(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    let image = Image {
        cloud: CLOUD,
        region: region.to_string(),
        id: ids::tencent_image_id(),
        name: name.to_string(),
        description: desc.to_string(),
        source: url.to_string(),
        format: format.unwrap_or("").to_string(),
        os_type: os_type.to_string(),
        os_name: os_version.to_string(),
        architecture: arch.to_string(),
        project: String::new(),
        created_ms: clock::now_ms(),
        import_ms: sim.import_ms(),
        fails: crate::rules::source_fails(url) || sim.faults().image_fails(CLOUD, "ImportImage"),
        tags,
        data_disks: Vec::new(),
        task_id: String::new(),
        extra,
        shares: Default::default(),
        copy_of: None,
    };
    let id = image.id.clone();
    sim.store().insert(image);
    sim.persist();
    let mut m = Map::new();
    m.insert("ImageId".into(), json!(id));
    Ok(m)
}

/// Tags from `TagSpecification` (`[{"ResourceType": "image", "Tags": [{"Key", "Value"}]}]`).
fn tag_spec(b: &Map<String, Value>) -> Result<std::collections::BTreeMap<String, String>, TcError> {
    let mut out = std::collections::BTreeMap::new();
    let Some(spec) = b.get("TagSpecification").filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    for entry in spec
        .as_array()
        .ok_or_else(|| bad_type("TagSpecification"))?
    {
        let rtype = entry
            .get("ResourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if rtype != "image" {
            return Err(bad_value("TagSpecification.ResourceType", rtype));
        }
        let tags = entry
            .get("Tags")
            .and_then(Value::as_array)
            .ok_or_else(|| bad_type("TagSpecification.Tags"))?;
        for t in tags {
            let key = t
                .get("Key")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("TagSpecification.Tags.Key"))?;
            let value = t.get("Value").and_then(Value::as_str).unwrap_or("");
            if key.is_empty() || key.chars().count() > 255 || value.chars().count() > 127 {
                return Err(bad_value("TagSpecification.Tags", key));
            }
            out.insert(key.to_string(), value.to_string());
        }
    }
    Ok(out)
}

/// Tencent `ImageState` word for a phase.
pub(crate) fn state_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Importing { .. } => "IMPORTING",
        Phase::Available => "NORMAL",
        Phase::Failed => "IMPORTFAILED",
    }
}

/// `ImageState` of an image: a copy is `SYNCING` (复制中) until `NORMAL` or `CREATEFAILED` (tencentcloud-sdk-go
/// cvm/v20170312 `Image.ImageState`); an import is `IMPORTING` until `NORMAL` or `IMPORTFAILED`.
fn image_state(i: &Image, now: i64) -> &'static str {
    match (i.copy_of.is_some(), i.phase(now)) {
        (true, Phase::Importing { .. }) => "SYNCING",
        (true, Phase::Failed) => "CREATEFAILED",
        (_, phase) => state_word(phase),
    }
}

/// `SyncPercent` ("同步百分比", may be null): a copy's progress, null for anything else.
fn sync_percent(i: &Image, now: i64) -> Value {
    match (i.copy_of.is_some(), i.phase(now)) {
        (true, Phase::Importing { percent }) => json!(percent),
        (true, _) => json!(100),
        _ => Value::Null,
    }
}

/// SyncImages (tencentcloud-sdk-go cvm/v20170312 `SyncImagesRequestParams`; cloud.tencent.com/document/product/213/15711):
/// `Region` is the source's, `ImageIds` one image ("每次调用只支持同步一个镜像") in `NORMAL` (else
/// `InvalidImageId.IncorrectState`), `DestinationRegions` one or more, not the source's region for a plain copy and
/// only it for an encrypted one (`Encrypt`); which code a wrong region gets is not documented:
/// `InvalidParameterValue.InvalidRegion` is a guess, and a malformed one `InvalidRegion.NotFound`. `ImageName`
/// (default the source's) must be free in each destination (`InvalidImageName.Duplicate`). `DryRun`:
/// `DryRunOperation`. Answer: `ImageSet[]` of `{ImageId, Region}` only with `ImageSetRequired`. Each copy is
/// `SYNCING` with `SyncPercent` for the import duration; tags are not copied (not documented either way: a guess).
fn sync(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(
        b,
        &[
            "ImageIds",
            "DestinationRegions",
            "DryRun",
            "ImageName",
            "ImageSetRequired",
            "Encrypt",
            "KmsKeyId",
        ],
    )?;
    let ids = match b.get("ImageIds") {
        None | Some(Value::Null) => return Err(missing("ImageIds")),
        Some(v) => str_list(v, "ImageIds")?,
    };
    let [id] = ids.as_slice() else {
        return Err(err(
            "InvalidParameterValue.LimitExceeded",
            "SyncImages takes exactly one image per call.",
        ));
    };
    check_id(id)?;
    let dests = match b.get("DestinationRegions") {
        None | Some(Value::Null) => return Err(missing("DestinationRegions")),
        Some(v) => str_list(v, "DestinationRegions")?,
    };
    if dests.is_empty() {
        return Err(missing("DestinationRegions"));
    }
    let encrypt = opt_bool(b, "Encrypt")?;
    let dry_run = opt_bool(b, "DryRun")?;
    let want_set = opt_bool(b, "ImageSetRequired")?;
    if opt_str(b, "KmsKeyId")?.is_some() && !encrypt {
        return Err(err(
            "InvalidParameter.InvalidKmsKeyId",
            "KmsKeyId is only valid with Encrypt.",
        ));
    }
    for d in &dests {
        let well_formed = !d.is_empty()
            && d.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if !well_formed {
            return Err(err(
                "InvalidRegion.NotFound",
                format!("The region `{d}` does not exist."),
            ));
        }
        if (*d == region) != encrypt {
            return Err(err(
                "InvalidParameterValue.InvalidRegion",
                format!(
                    "The region `{d}` is not valid here: a custom image is synced to other regions, an encrypted \
                     copy to its own region only."
                ),
            ));
        }
    }
    let now = clock::now_ms();
    let source = sim
        .store()
        .get(CLOUD, region, id)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    if source.phase(now) != Phase::Available {
        return Err(incorrect_state(id));
    }
    let name = opt_str(b, "ImageName")?
        .filter(|n| !n.is_empty())
        .unwrap_or(&source.name)
        .to_string();
    if !rules::tencent_image_name_ok(&name) {
        return Err(too_large("ImageName"));
    }
    if dests
        .iter()
        .any(|d| sim.store().name_taken(CLOUD, d, &name, ""))
    {
        return Err(duplicate(&name));
    }
    if dry_run {
        return Err(err(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    let mut set = Vec::new();
    for d in dests {
        let fails =
            crate::rules::source_fails(&name) || sim.faults().image_fails(CLOUD, "SyncImages");
        let copy = Image {
            region: d.to_string(),
            id: ids::tencent_image_id(),
            name: name.clone(),
            created_ms: now,
            import_ms: sim.import_ms(),
            fails,
            tags: Default::default(),
            shares: Default::default(),
            extra: source
                .extra
                .iter()
                .filter(|(k, _)| k.as_str() != "owner")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            copy_of: Some(CopyOf {
                region: region.to_string(),
                id: id.to_string(),
            }),
            ..source.clone()
        };
        set.push(json!({"ImageId": copy.id, "Region": d}));
        sim.store().insert(copy);
    }
    sim.persist();
    let mut m = Map::new();
    if want_set {
        m.insert("ImageSet".into(), Value::Array(set));
    }
    Ok(m)
}

/// DescribeImages `ImageType`: PRIVATE_IMAGE, PUBLIC_IMAGE or SHARED_IMAGE (tencentcloud-sdk-go cvm/v20170312
/// `Image.ImageType`).
fn image_type(i: &Image) -> &'static str {
    match i.owner() {
        "public" => "PUBLIC_IMAGE",
        "shared" => "SHARED_IMAGE",
        _ => "PRIVATE_IMAGE",
    }
}

fn render(i: &Image, now: i64) -> Value {
    json!({
        "ImageId": i.id,
        "OsName": format!("{} {}", i.os_type, i.os_name),
        "ImageType": image_type(i),
        "CreatedTime": clock::iso_z(i.created_ms),
        "ImageName": i.name,
        "ImageDescription": i.description,
        "ImageSize": i.size_gib(),
        "Architecture": reported_architecture(&i.architecture),
        "ImageState": image_state(i, now),
        "Platform": i.os_type,
        "ImageCreator": "",
        "ImageSource": "EXTERNAL_IMPORT",
        "SyncPercent": sync_percent(i, now),
        "IsSupportCloudinit": true,
        "SnapshotSet": [],
        "Tags": i.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        "LicenseType": if i.extra("LicenseType").is_empty() { "TencentCloud" } else { i.extra("LicenseType") },
        "ImageFamily": i.extra("ImageFamily"),
        "ImageDeprecated": false,
    })
}

/// DescribeImages reports `x86_64`, `arm` and `i386` (tencentcloud-sdk-go cvm/v20170312 models.go
/// `Image.Architecture`), while ImportImage takes `arm_64`.
fn reported_architecture(imported: &str) -> &str {
    if imported == "arm_64" {
        "arm"
    } else {
        imported
    }
}

/// One parsed `Filters` entry.
struct Filter<'a> {
    name: &'a str,
    values: Vec<&'a str>,
}

fn filters(v: &Value) -> Result<Vec<Filter<'_>>, TcError> {
    let list = v.as_array().ok_or_else(|| bad_type("Filters"))?;
    if list.len() > 10 {
        return Err(err(
            "InvalidParameterValue.LimitExceeded",
            "At most 10 Filters are allowed.",
        ));
    }
    list.iter()
        .map(|f| {
            let name = f
                .get("Name")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("Filters.Name"))?;
            let values = str_list(f.get("Values").unwrap_or(&Value::Null), "Filters.Values")?;
            if values.len() > 5 {
                return Err(err(
                    "InvalidFilterValue.LimitExceeded",
                    "At most 5 Filters.Values are allowed.",
                ));
            }
            let known = [
                "image-id",
                "image-type",
                "image-name",
                "platform",
                "tag-key",
                "tag-value",
            ];
            if !known.contains(&name) && !name.starts_with("tag:") {
                return Err(err(
                    "InvalidFilter",
                    format!("The filter name `{name}` is not supported."),
                ));
            }
            Ok(Filter { name, values })
        })
        .collect()
}

fn filter_matches(f: &Filter<'_>, i: &Image) -> bool {
    f.values.iter().any(|v| match f.name {
        "image-id" => i.id == *v,
        "image-type" => image_type(i) == *v,
        // Tencent documents image-name and platform as fuzzy (substring) matches.
        "image-name" => i.name.contains(v),
        "platform" => i.os_type.to_lowercase().contains(&v.to_lowercase()),
        "tag-key" => i.tags.contains_key(*v),
        "tag-value" => i.tags.values().any(|t| t == v),
        tag => tag
            .strip_prefix("tag:")
            .is_some_and(|k| i.tags.get(k).is_some_and(|t| t == v)),
    })
}

fn describe(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(
        b,
        &["ImageIds", "Filters", "Offset", "Limit", "InstanceType"],
    )?;
    let id_list = match b.get("ImageIds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(str_list(v, "ImageIds")?),
    };
    let fs = match b.get("Filters") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => filters(v)?,
    };
    if id_list.is_some() && !fs.is_empty() {
        return Err(err(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "ImageIds and Filters cannot be specified at the same time.",
        ));
    }
    if let Some(l) = &id_list {
        if l.len() > 100 {
            return Err(err(
                "InvalidParameterValue.LimitExceeded",
                "At most 100 ImageIds are allowed.",
            ));
        }
        l.iter().try_for_each(|id| check_id(id))?;
    }
    let offset = opt_uint(b, "Offset", 0)?;
    let limit = opt_uint(b, "Limit", 20)?;
    if limit > 100 {
        return Err(err(
            "InvalidParameterValue.InvalidParameterValueLimit",
            "Limit must be at most 100.",
        ));
    }
    let now = clock::now_ms();
    let store = sim.store();
    let matched: Vec<Value> = store
        .list(CLOUD, Some(region))
        .into_iter()
        .filter(|i| id_list.as_ref().is_none_or(|l| l.contains(&i.id.as_str())))
        .filter(|i| fs.iter().all(|f| filter_matches(f, i)))
        .map(|i| render(i, now))
        .collect();
    let mut m = Map::new();
    m.insert("TotalCount".into(), json!(matched.len()));
    let page: Vec<Value> = matched
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(100))
        .collect();
    m.insert("ImageSet".into(), Value::Array(page));
    Ok(m)
}

/// Accounts an image may be shared with ("每个自定义镜像最多可共享给500个账户", tencentcloud-sdk-go cvm/v20170312).
const MAX_SHARES: usize = 500;

/// ModifyImageSharePermission: `ImageId` (a NORMAL image), `AccountIds` (root-account IDs), `Permission` SHARE or
/// CANCEL (tencentcloud-sdk-go cvm/v20170312 `ModifyImageSharePermissionRequestParams`); an account shared again:
/// `FailedOperation.AccountAlreadyExists`.
fn share(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(b, &["ImageId", "AccountIds", "Permission"])?;
    let id = opt_str(b, "ImageId")?.ok_or_else(|| missing("ImageId"))?;
    check_id(id)?;
    let accounts = match b.get("AccountIds") {
        None | Some(Value::Null) => return Err(missing("AccountIds")),
        Some(v) => str_list(v, "AccountIds")?,
    };
    if let Some(a) = accounts
        .iter()
        .find(|a| a.is_empty() || !a.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(err(
            "InvalidAccountId.NotFound",
            format!("The account id `{a}` is invalid."),
        ));
    }
    let permission = opt_str(b, "Permission")?.ok_or_else(|| missing("Permission"))?;
    {
        let mut store = sim.store();
        let img = store
            .get_mut(CLOUD, region, id)
            .ok_or_else(|| not_found(id))?;
        if !matches!(img.phase(clock::now_ms()), Phase::Available) {
            return Err(err(
                "InvalidParameterValue.InvalidImageState",
                "The image is busy with another operation; try again later.",
            ));
        }
        match permission {
            "SHARE" => {
                if let Some(a) = accounts.iter().find(|a| img.shares.contains(**a)) {
                    return Err(err(
                        "FailedOperation.AccountAlreadyExists",
                        format!("The account `{a}` already exists."),
                    ));
                }
                if img.shares.len() + accounts.len() > MAX_SHARES {
                    return Err(err(
                        "OverQuota",
                        "The image is shared with too many accounts.",
                    ));
                }
                img.shares.extend(accounts.iter().map(|a| a.to_string()));
            }
            "CANCEL" => {
                for a in &accounts {
                    img.shares.remove(*a);
                }
            }
            other => {
                return Err(err(
                    "InvalidParameterValue",
                    format!("The Permission `{other}` is invalid."),
                ))
            }
        }
    }
    sim.persist();
    Ok(Map::new())
}

/// DescribeImageSharePermission: `ImageId` only, no paging; `SharePermissionSet[]` of `{CreatedTime, AccountId}`.
fn shares(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(b, &["ImageId"])?;
    let id = opt_str(b, "ImageId")?.ok_or_else(|| missing("ImageId"))?;
    check_id(id)?;
    let store = sim.store();
    let img = store.get(CLOUD, region, id).ok_or_else(|| not_found(id))?;
    let set: Vec<Value> = img
        .shares
        .iter()
        .map(|a| json!({"CreatedTime": clock::iso_z(img.created_ms), "AccountId": a}))
        .collect();
    let mut m = Map::new();
    m.insert("SharePermissionSet".into(), Value::Array(set));
    Ok(m)
}

fn not_found(id: &str) -> TcError {
    err(
        "InvalidImageId.NotFound",
        format!("The image `{id}` does not exist."),
    )
}

fn incorrect_state(id: &str) -> TcError {
    err(
        "InvalidImageId.IncorrectState",
        format!("The image `{id}` is in a state that does not allow this operation."),
    )
}

fn modify(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(
        b,
        &[
            "ImageId",
            "ImageName",
            "ImageDescription",
            "ImageFamily",
            "ImageDeprecated",
        ],
    )?;
    let id = req_str(b, "ImageId")?;
    check_id(id)?;
    let name = opt_str(b, "ImageName")?;
    let desc = opt_str(b, "ImageDescription")?;
    if let Some(n) = name {
        if !rules::tencent_image_name_ok(n) {
            return Err(too_large("ImageName"));
        }
    }
    if let Some(d) = desc {
        if !rules::tencent_description_ok(d) {
            return Err(too_large("ImageDescription"));
        }
    }
    let now = clock::now_ms();
    {
        let mut store = sim.store();
        let phase = store
            .get(CLOUD, region, id)
            .ok_or_else(|| not_found(id))?
            .phase(now);
        if matches!(phase, Phase::Importing { .. }) {
            return Err(incorrect_state(id));
        }
        if let Some(n) = name {
            if store.name_taken(CLOUD, region, n, id) {
                return Err(duplicate(n));
            }
        }
        if let Some(img) = store.get_mut(CLOUD, region, id) {
            if let Some(n) = name {
                img.name = n.to_string();
            }
            if let Some(d) = desc {
                img.description = d.to_string();
            }
        }
    }
    sim.persist();
    Ok(Map::new())
}

fn delete(sim: &Sim, region: &str, b: &Map<String, Value>) -> Out {
    allow(b, &["ImageIds", "DeleteBindedSnap", "DryRun"])?;
    let list = match b.get("ImageIds") {
        None | Some(Value::Null) => return Err(missing("ImageIds")),
        Some(v) => str_list(v, "ImageIds")?,
    };
    if list.is_empty() {
        return Err(missing("ImageIds"));
    }
    if list.len() > 10 {
        return Err(err(
            "InvalidParameterValue.LimitExceeded",
            "At most 10 ImageIds are allowed.",
        ));
    }
    opt_bool(b, "DeleteBindedSnap")?;
    let dry_run = opt_bool(b, "DryRun")?;
    let now = clock::now_ms();
    {
        let mut store = sim.store();
        for id in &list {
            check_id(id)?;
            let img = store.get(CLOUD, region, id).ok_or_else(|| not_found(id))?;
            // "当镜像状态为创建中、复制中、导入中时, 不允许删除" (cvm/v20170312 client.go DeleteImages). A source whose
            // sync runs is refused too: not documented, a guess (docs/simulator.md).
            if matches!(img.phase(now), Phase::Importing { .. })
                || store.copy_running_from(CLOUD, region, id, now)
            {
                return Err(incorrect_state(id));
            }
            // "被共享的镜像，需要先取消共享关系，才能删除" (tencentcloud-sdk-go cvm/v20170312 DeleteImages).
            if !img.shares.is_empty() {
                return Err(err(
                    "InvalidImageId.InShared",
                    format!("The image `{id}` is being shared."),
                ));
            }
        }
        if dry_run {
            return Ok(Map::new());
        }
        for id in &list {
            store.remove(CLOUD, region, id);
        }
    }
    sim.persist();
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests_support::sim;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn import_body(name: &str) -> Map<String, Value> {
        obj(json!({
            "ImageName": name, "ImageUrl": "https://b-1.cos.ap-guangzhou.myqcloud.com/x.qcow2",
            "Architecture": "x86_64", "OsType": "CentOS", "OsVersion": "7"
        }))
    }

    #[test]
    fn import_describe_modify_delete() {
        let s = sim();
        let id = import(&s, "ap-guangzhou", &import_body("a")).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ids::is_tencent_image_id(&id));
        let e = import(&s, "ap-guangzhou", &import_body("a")).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Duplicate");
        assert!(import(&s, "ap-shanghai", &import_body("a")).is_ok());
        let d = describe(&s, "ap-guangzhou", &obj(json!({"ImageIds": [id]}))).unwrap();
        assert_eq!(d["TotalCount"], 1);
        assert_eq!(d["ImageSet"][0]["ImageState"], "NORMAL");
        let d = describe(
            &s,
            "ap-guangzhou",
            &obj(json!({"Filters": [{"Name": "image-name", "Values": ["a"]}]})),
        )
        .unwrap();
        assert_eq!(d["TotalCount"], 1);
        modify(
            &s,
            "ap-guangzhou",
            &obj(json!({"ImageId": id, "ImageName": "b"})),
        )
        .unwrap();
        let e = modify(&s, "ap-guangzhou", &obj(json!({"ImageId": "img-00000000"}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.NotFound");
        delete(&s, "ap-guangzhou", &obj(json!({"ImageIds": [id]}))).unwrap();
        let e = delete(&s, "ap-guangzhou", &obj(json!({"ImageIds": [id]}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.NotFound");
    }

    #[test]
    fn arm_64_is_reported_as_arm() {
        let s = sim();
        let mut b = import_body("arm-image");
        b.insert("Architecture".into(), json!("arm_64"));
        let id = import(&s, "r", &b).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let d = describe(&s, "r", &obj(json!({"ImageIds": [id]}))).unwrap();
        assert_eq!(d["ImageSet"][0]["Architecture"], "arm");
        b.insert("Architecture".into(), json!("arm64"));
        b.insert("ImageName".into(), json!("arm-2"));
        assert_eq!(
            import(&s, "r", &b).unwrap_err().code,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn parameter_rules() {
        let s = sim();
        let mut b = import_body(&"x".repeat(61));
        assert_eq!(
            import(&s, "r", &b).unwrap_err().code,
            "InvalidParameterValue.TooLarge"
        );
        b.insert("ImageName".into(), json!("ok"));
        b.insert("Bogus".into(), json!(1));
        assert_eq!(import(&s, "r", &b).unwrap_err().code, "UnknownParameter");
        b.remove("Bogus");
        b.insert("ImageUrl".into(), json!("https://example.com/x.qcow2"));
        assert_eq!(
            import(&s, "r", &b).unwrap_err().code,
            "InvalidParameter.InvalidParameterUrlError"
        );
        b.remove("ImageUrl");
        assert_eq!(import(&s, "r", &b).unwrap_err().code, "MissingParameter");
        let e = describe(&s, "r", &obj(json!({"Limit": 101}))).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue.InvalidParameterValueLimit");
        let e = describe(
            &s,
            "r",
            &obj(json!({"ImageIds": ["img-00000000"], "Filters": [{"Name": "image-id", "Values": ["x"]}]})),
        )
        .unwrap_err();
        assert_eq!(
            e.code,
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
        );
        let e = describe(&s, "r", &obj(json!({"ImageIds": ["m-1"]}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.Malformed");
        let e = describe(&s, "r", &obj(json!({"Limit": "5"}))).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
    }

    #[test]
    fn importing_images_are_locked() {
        let s = sim();
        s.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(60.0),
            latency_ms: None,
        });
        let id = import(&s, "r", &import_body("a")).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let e = delete(&s, "r", &obj(json!({"ImageIds": [id.clone()]}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.IncorrectState");
        let d = describe(&s, "r", &obj(json!({"ImageIds": [id]}))).unwrap();
        assert_eq!(d["ImageSet"][0]["ImageState"], "IMPORTING");
    }

    #[test]
    fn sync_images_makes_a_syncing_copy() {
        let s = sim();
        let src = import(&s, "ap-guangzhou", &import_body("src")).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let body = |dest: &str, name: &str| {
            obj(
                json!({"ImageIds": [src], "DestinationRegions": [dest], "ImageName": name,
                       "ImageSetRequired": true}),
            )
        };
        let e = sync(&s, "ap-guangzhou", &body("ap-guangzhou", "cp")).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue.InvalidRegion");
        let e = sync(
            &s,
            "ap-guangzhou",
            &obj(json!({"ImageIds": [src, src], "DestinationRegions": ["ap-shanghai"]})),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue.LimitExceeded");
        s.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(60.0),
            latency_ms: None,
        });
        let out = sync(&s, "ap-guangzhou", &body("ap-shanghai", "cp")).unwrap();
        let copy = out["ImageSet"][0]["ImageId"].as_str().unwrap().to_string();
        assert_eq!(out["ImageSet"][0]["Region"], "ap-shanghai");
        let d = describe(&s, "ap-shanghai", &obj(json!({"ImageIds": [copy]}))).unwrap();
        assert_eq!(d["ImageSet"][0]["ImageState"], "SYNCING");
        assert!(d["ImageSet"][0]["SyncPercent"].is_u64());
        let e = sync(&s, "ap-guangzhou", &body("ap-shanghai", "cp")).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Duplicate");
        // Neither the syncing copy nor its source can be deleted.
        let e = delete(&s, "ap-shanghai", &obj(json!({"ImageIds": [copy]}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.IncorrectState");
        let e = delete(&s, "ap-guangzhou", &obj(json!({"ImageIds": [src]}))).unwrap_err();
        assert_eq!(e.code, "InvalidImageId.IncorrectState");
        // Without ImageSetRequired the answer names no copy; a failed copy is CREATEFAILED.
        s.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(0.0),
            latency_ms: None,
        });
        let out = sync(&s, "ap-guangzhou", &obj(json!({"ImageIds": [src], "DestinationRegions": ["ap-beijing"], "ImageName": "will-fail"}))).unwrap();
        assert!(out.get("ImageSet").is_none());
        let d = describe(&s, "ap-beijing", &obj(json!({}))).unwrap();
        assert_eq!(d["ImageSet"][0]["ImageState"], "CREATEFAILED");
    }
}
