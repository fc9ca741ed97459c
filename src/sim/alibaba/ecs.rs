//! ECS image actions (also served for Apsara Stack): ImportImage with `DiskDeviceMapping.N.*`
//! and idempotent `ClientToken`, DescribeImages (default `Status=Available` only),
//! ModifyImageAttribute, DeleteImage, CopyImage and (public ECS) CancelCopyImage.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::rules;
use super::{
    ali_err, images_page, missing, not_found, optional, paging, required, tags as tag_rules,
    AliError, Ctx, Out, Params,
};
use crate::app::Sim;
use crate::clock;
use crate::cloud::SimCloud;
use crate::ids;
use crate::state::{ClientToken, CopyOf, DataDiskRecord, Image, Phase};

/// The answer to an ImportImage dry run that passed (ImportImage error codes: 400 `DRYRUN.SUCCESS`).
fn dry_run_success() -> AliError {
    ali_err(
        400,
        "DRYRUN.SUCCESS",
        "This request is a dryrun request with successful result.",
    )
}

/// Parameters that are not part of the business request (left out of the token fingerprint).
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "SecurityToken",
    "ClientToken",
];

const PLATFORMS: &[&str] = &[
    "Aliyun",
    "Anolis",
    "CentOS",
    "Ubuntu",
    "CoreOS",
    "SUSE",
    "Debian",
    "OpenSUSE",
    "FreeBSD",
    "RedHat",
    "Kylin",
    "UOS",
    "Fedora",
    "Fedora CoreOS",
    "CentOS Stream",
    "AlmaLinux",
    "Rocky Linux",
    "Gentoo",
    "Customized Linux",
    "Others Linux",
    "Windows Server 2022",
    "Windows Server 2019",
    "Windows Server 2016",
    "Windows Server 2012",
    "Windows Server 2008",
    "Windows Server 2003",
];

fn region(ctx: &Ctx<'_>) -> Result<String, AliError> {
    if ctx.region.is_empty() {
        Err(missing("RegionId"))
    } else {
        Ok(ctx.region.clone())
    }
}

fn fingerprint(p: &Params) -> String {
    let mut h = Sha256::new();
    for (k, v) in p.iter().filter(|(k, _)| !COMMON.contains(&k.as_str())) {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The system disk mapping (`DiskDeviceMapping.1.*`) after validating every index.
struct Mapping {
    bucket: String,
    object: String,
    format: String,
}

fn mappings(cloud: SimCloud, p: &Params) -> Result<Mapping, AliError> {
    let mut indices: Vec<&str> = p
        .keys()
        .filter_map(|k| k.strip_prefix("DiskDeviceMapping."))
        .filter_map(|rest| rest.split_once('.').map(|(n, _)| n))
        .collect();
    indices.dedup();
    if indices.is_empty() {
        return Err(ali_err(
            403,
            "MissingParameter.DiskDeviceMapping",
            "The specified parameter DiskDeviceMapping is not supplied.",
        ));
    }
    for n in &indices {
        if !n.parse::<u32>().is_ok_and(|i| (1..=17).contains(&i)) {
            return Err(ali_err(
                400,
                "InvalidParameter",
                format!(
                    "The specified parameter DiskDeviceMapping.{n} is invalid: N must be 1 to 17."
                ),
            ));
        }
        let key = |f: &str| format!("DiskDeviceMapping.{n}.{f}");
        required(p, &key("OSSBucket"))?;
        let object = required(p, &key("OSSObject"))?;
        if object.starts_with('/') {
            return Err(ali_err(
                400,
                "InvalidOSSObject.Malformed",
                "The specified OSS object is wrongly formed.",
            ));
        }
        if let Some(f) = optional(p, &key("Format")) {
            let ok = match cloud {
                SimCloud::Apsarastack => rules::apsara_format_ok(f),
                _ => rules::ecs_format_ok(f),
            };
            if !ok {
                return Err(ali_err(
                    400,
                    "InvalidImageFormat.Malformed",
                    "The specified Image Format is wrongly formed.",
                ));
            }
        }
        for size_key in ["DiskImageSize", "DiskImSize"] {
            if let Some(s) = optional(p, &key(size_key)) {
                if !s.parse::<u32>().is_ok_and(|g| (1..=2048).contains(&g)) {
                    return Err(ali_err(
                        400,
                        "InvalidImageSize",
                        format!("The specified {} is out of range.", key(size_key)),
                    ));
                }
            }
        }
    }
    let get = |f: &str| {
        optional(p, &format!("DiskDeviceMapping.1.{f}"))
            .unwrap_or("")
            .to_string()
    };
    if get("OSSObject").is_empty() {
        return Err(missing("DiskDeviceMapping.1.OSSObject"));
    }
    Ok(Mapping {
        bucket: get("OSSBucket"),
        object: get("OSSObject"),
        format: get("Format"),
    })
}

/// The data disks (`DiskDeviceMapping.2..17`), already validated by [`mappings`].
fn data_disks(p: &Params) -> Vec<DataDiskRecord> {
    (2..=17)
        .filter_map(|n| {
            let get = |f: &str| optional(p, &format!("DiskDeviceMapping.{n}.{f}"));
            Some(DataDiskRecord {
                source: format!("{}/{}", get("OSSBucket")?, get("OSSObject")?),
                format: get("Format").unwrap_or("").to_string(),
                size_gib: get("DiskImageSize")
                    .or_else(|| get("DiskImSize"))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            })
        })
        .collect()
}

fn check_name(name: &str) -> Result<(), AliError> {
    if rules::alibaba_image_name_ok(name) {
        Ok(())
    } else {
        Err(ali_err(
            400,
            "InvalidImageName.Malformed",
            "The specified Image name is wrongly formed.",
        ))
    }
}

fn check_description(desc: &str) -> Result<(), AliError> {
    if rules::alibaba_description_ok(desc) {
        Ok(())
    } else {
        Err(ali_err(
            400,
            "InvalidDescription.Malformed",
            "The specified description is wrongly formed.",
        ))
    }
}

fn duplicated() -> AliError {
    ali_err(
        400,
        "InvalidImageName.Duplicated",
        "The specified Image name has already been used.",
    )
}

/// ImportImage.
pub(crate) fn import(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let region = region(ctx)?;
    let token = optional(p, "ClientToken");
    if let Some(t) = token {
        if t.len() > 64 || !t.is_ascii() {
            return Err(ali_err(
                400,
                "InvalidClientToken.Malformed",
                "The specified ClientToken is wrongly formed.",
            ));
        }
        let prev = sim.store().token(ctx.cloud, &region, t).cloned();
        if let Some(prev) = prev {
            if prev.fingerprint != fingerprint(p) {
                return Err(ali_err(
                    400,
                    "IdempotentParameterMismatch",
                    "The request uses the same client token as a previous, but non-identical request.",
                ));
            }
            let task = sim
                .store()
                .get(ctx.cloud, &region, &prev.image_id)
                .map(|i| i.task_id.clone())
                .unwrap_or_default();
            return Ok(import_answer(&prev.image_id, &region, &task));
        }
    }
    let m = mappings(ctx.cloud, p)?;
    let tags = tag_rules::parse(p)?;
    let name = optional(p, "ImageName").unwrap_or("");
    if !name.is_empty() {
        check_name(name)?;
    }
    let desc = optional(p, "Description").unwrap_or("");
    if !desc.is_empty() {
        check_description(desc)?;
    }
    let arch = optional(p, "Architecture").unwrap_or("x86_64");
    let archs: &[&str] = match ctx.cloud {
        SimCloud::Apsarastack => &["i386", "x86_64"],
        _ => &["i386", "x86_64", "arm64"],
    };
    if !archs.contains(&arch) {
        return Err(ali_err(
            400,
            "InvalidArchitecture.Malformed",
            "The specified Architecture is wrongly formed.",
        ));
    }
    let os_type = optional(p, "OSType").unwrap_or("linux");
    if !["linux", "windows"].contains(&os_type.to_ascii_lowercase().as_str()) {
        return Err(ali_err(
            400,
            "InvalidOSType.Malformed",
            "The specified OSType is wrongly formed.",
        ));
    }
    let platform = optional(p, "Platform").unwrap_or("Others Linux");
    if !PLATFORMS.iter().any(|x| x.eq_ignore_ascii_case(platform)) {
        return Err(ali_err(
            400,
            "InvalidPlatform.Malformed",
            "The specified Platform is wrongly formed.",
        ));
    }
    // "Only the Standard detection mode is supported" and NvmeSupport is supported/unsupported
    // (alibabacloud-go/ecs-20140526 ImportImageRequest); the error codes are guesses (docs/simulator.md).
    if optional(p, "DetectionStrategy").is_some_and(|d| d != "Standard") {
        return Err(ali_err(
            400,
            "InvalidParameter.DetectionStrategy",
            "The specified DetectionStrategy is not valid.",
        ));
    }
    if optional(p, "Features.NvmeSupport")
        .is_some_and(|n| !["supported", "unsupported"].contains(&n))
    {
        return Err(ali_err(
            400,
            "InvalidParameter.NvmeSupport",
            "The specified Features.NvmeSupport is not valid.",
        ));
    }
    // `Features.ImdsSupport`: v1 or v2 (alibabacloud ecs-20140526 `ImportImageRequestFeatures`); the error code is a
    // guess like the two above.
    if optional(p, "Features.ImdsSupport").is_some_and(|n| !["v1", "v2"].contains(&n)) {
        return Err(ali_err(
            400,
            "InvalidParameter.ImdsSupport",
            "The specified Features.ImdsSupport is not valid.",
        ));
    }
    if ctx.cloud == SimCloud::Apsarastack
        && [
            "DetectionStrategy",
            "Features.NvmeSupport",
            "Features.ImdsSupport",
            "BootMode",
        ]
        .iter()
        .any(|k| optional(p, k).is_some())
    {
        return Err(ali_err(
            400,
            "InvalidParameter",
            "Apsara Stack's ImportImage takes no DetectionStrategy, Features or BootMode.",
        ));
    }
    if let Some(l) = optional(p, "LicenseType") {
        if !["Auto", "Aliyun", "BYOL"].contains(&l) {
            return Err(ali_err(
                400,
                "InvalidLicenseType.NotSupported",
                "The specified LicenseType is not supported",
            ));
        }
    }
    if !name.is_empty() && sim.store().name_taken(ctx.cloud, &region, name, "") {
        return Err(duplicated());
    }
    // A passed dry run: the ImportImage error-code table's 400 `DRYRUN.SUCCESS` (Alibaba Cloud ECS API reference,
    // ImportImage). The `DryRun` parameter's own text says `DryRunOperation` (alibabacloud-go/ecs-20140526
    // client/import_image_request_model.go); the table is the more specific source, and the client takes both.
    if optional(p, "DryRun").is_some_and(|d| d.eq_ignore_ascii_case("true")) {
        return Err(dry_run_success());
    }
    let image = Image {
        cloud: ctx.cloud,
        region: region.clone(),
        id: ids::alibaba_image_id(),
        name: name.to_string(),
        description: desc.to_string(),
        source: format!("{}/{}", m.bucket, m.object),
        format: m.format,
        os_type: os_type.to_ascii_lowercase(),
        os_name: platform.to_string(),
        architecture: arch.to_string(),
        project: ctx.resource_group.clone(),
        created_ms: clock::now_ms(),
        import_ms: sim.import_ms(),
        fails: crate::rules::source_fails(&m.object)
            || sim.faults().image_fails(ctx.cloud, "ImportImage"),
        tags,
        data_disks: data_disks(p),
        task_id: ids::alibaba_task_id(),
        extra: [
            ("NvmeSupport", optional(p, "Features.NvmeSupport")),
            ("ImdsSupport", optional(p, "Features.ImdsSupport")),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?.to_string())))
        .collect(),
        shares: Default::default(),
        copy_of: None,
    };
    let id = image.id.clone();
    let task = image.task_id.clone();
    {
        let mut store = sim.store();
        store.insert(image);
        if let Some(t) = token {
            store.remember_token(ClientToken {
                cloud: ctx.cloud,
                region: region.clone(),
                token: t.to_string(),
                fingerprint: fingerprint(p),
                image_id: id.clone(),
            });
        }
    }
    sim.persist();
    Ok(import_answer(&id, &region, &task))
}

fn import_answer(id: &str, region: &str, task: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ImageId".into(), json!(id));
    m.insert("RegionId".into(), json!(region));
    m.insert("TaskId".into(), json!(task));
    m
}

/// Whether `r` can be a region id (lowercase letters, digits, `-`): the simulator knows no region list, so only a
/// malformed one is unknown.
fn region_like(r: &str) -> bool {
    !r.is_empty()
        && r.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn is_true(p: &Params, key: &str) -> bool {
    optional(p, key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// CopyImage (alibabacloud-go/ecs-20140526 `CopyImageRequest`; Alibaba Cloud ECS API reference, CopyImage): `RegionId`
/// is the source's region, `ImageId` the source (an own image in `Available`: else 400 `IncorrectImageStatus`),
/// `DestinationRegionId` where the copy is made (the same region only for an encrypted copy: 403
/// `IncorrectDestinationRegion`; a malformed one 400 `DestinationRegion.NotFound`), `DestinationImageName` unique in
/// the destination (400 `InvalidImageName.Duplicated`), `DestinationDescription`, `Encrypted` / `KMSKeyId` (a key
/// without `Encrypted`: 400 `InvalidParameter.EncryptedIllegal`), `Tag.N` on the copy, `ClientToken` (the same
/// token answers the first copy, as ImportImage's does: a guess, docs/simulator.md). A shared image is copied within
/// its region only (403 `OperationDenied.SameRegionOnly`). The answer is the copy's `ImageId`; the copy is listed in
/// the destination as `Creating` with `Progress` and `IsCopied` true for the import duration.
pub(crate) fn copy(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let region = region(ctx)?;
    let id = required(p, "ImageId")?;
    let token = optional(p, "ClientToken");
    if let Some(t) = token {
        if t.len() > 64 || !t.is_ascii() {
            return Err(ali_err(
                400,
                "InvalidClientToken.Malformed",
                "The specified ClientToken is wrongly formed.",
            ));
        }
        let prev = sim.store().token(ctx.cloud, &region, t).cloned();
        if let Some(prev) = prev {
            if prev.fingerprint != fingerprint(p) {
                return Err(ali_err(
                    400,
                    "IdempotentParameterMismatch",
                    "The request uses the same client token as a previous, but non-identical request.",
                ));
            }
            return Ok(copy_answer(&prev.image_id));
        }
    }
    let encrypted = is_true(p, "Encrypted");
    let dest = optional(p, "DestinationRegionId")
        .unwrap_or(&region)
        .to_string();
    if !region_like(&dest) {
        return Err(ali_err(
            400,
            "DestinationRegion.NotFound",
            "The destination region not found.",
        ));
    }
    if dest == region && !encrypted {
        return Err(ali_err(
            403,
            "IncorrectDestinationRegion",
            "The source region must be different from the destination region when you copy an image across regions.",
        ));
    }
    if optional(p, "KMSKeyId").is_some() && !encrypted {
        return Err(ali_err(
            400,
            "InvalidParameter.EncryptedIllegal",
            "The specified parameter Encrypted must be true when kmsKeyId is not empty.",
        ));
    }
    let name = optional(p, "DestinationImageName").unwrap_or("");
    if !name.is_empty() {
        check_name(name)?;
    }
    let desc = optional(p, "DestinationDescription").unwrap_or("");
    if !desc.is_empty() {
        check_description(desc)?;
    }
    let tags = tag_rules::parse(p)?;
    let now = clock::now_ms();
    let source = sim
        .store()
        .get(ctx.cloud, &region, id)
        .cloned()
        .ok_or_else(not_found)?;
    if source.owner() == "shared" && dest != region {
        return Err(ali_err(
            403,
            "OperationDenied.SameRegionOnly",
            "The image shared from others can not be copied to another region directly.",
        ));
    }
    if source.phase(now) != Phase::Available {
        return Err(ali_err(
            400,
            "IncorrectImageStatus",
            "The image not available.",
        ));
    }
    if !name.is_empty() && sim.store().name_taken(ctx.cloud, &dest, name, "") {
        return Err(ali_err(
            400,
            "InvalidImageName.Duplicated",
            "The specified image name is already in use in the target region. Please try a different one.",
        ));
    }
    if is_true(p, "DryRun") {
        return Err(ali_err(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    let fails =
        crate::rules::source_fails(name) || sim.faults().image_fails(ctx.cloud, "CopyImage");
    let image = Image {
        region: dest,
        id: ids::alibaba_image_id(),
        name: name.to_string(),
        description: desc.to_string(),
        project: ctx.resource_group.clone(),
        created_ms: now,
        import_ms: sim.import_ms(),
        fails,
        tags,
        task_id: String::new(),
        extra: source
            .extra
            .iter()
            .filter(|(k, _)| k.as_str() != "owner")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        shares: Default::default(),
        copy_of: Some(CopyOf {
            region: region.clone(),
            id: id.to_string(),
        }),
        ..source
    };
    let copy_id = image.id.clone();
    {
        let mut store = sim.store();
        store.insert(image);
        if let Some(t) = token {
            store.remember_token(ClientToken {
                cloud: ctx.cloud,
                region: region.clone(),
                token: t.to_string(),
                fingerprint: fingerprint(p),
                image_id: copy_id.clone(),
            });
        }
    }
    sim.persist();
    Ok(copy_answer(&copy_id))
}

fn copy_answer(id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ImageId".into(), json!(id));
    m
}

/// CancelCopyImage (alibabacloud-go/ecs-20140526 `CancelCopyImageRequest`; Alibaba Cloud ECS API reference,
/// CancelCopyImage): `RegionId` the copy's region, `ImageId` the copy. "The image that was being created in the
/// destination region is automatically deleted"; an image that is no copy: 400 `ImageCreatedNotFromCopy`; a copy
/// finished or failed: 400 `IncorrectImageStatus`. Answer: `RequestId` only.
pub(crate) fn cancel_copy(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let region = region(ctx)?;
    {
        let mut store = sim.store();
        let image = store.get(ctx.cloud, &region, id).ok_or_else(not_found)?;
        if image.copy_of.is_none() {
            return Err(ali_err(
                400,
                "ImageCreatedNotFromCopy",
                "The specified image is not the target image of a copy action.",
            ));
        }
        match image.phase(clock::now_ms()) {
            Phase::Available => {
                return Err(ali_err(
                    400,
                    "IncorrectImageStatus",
                    "The image is copied finished.",
                ))
            }
            Phase::Failed => {
                return Err(ali_err(
                    400,
                    "IncorrectImageStatus",
                    "The Image copy has been failed.",
                ))
            }
            Phase::Importing { .. } => {}
        }
        store.remove(ctx.cloud, &region, id);
    }
    sim.persist();
    Ok(Map::new())
}

/// DescribeTasks: the ImportImage task of each image still on record, filtered by `TaskAction`,
/// `ResourceIds.N`, `TaskIds` and `TaskStatus` (ecs-20140526 DescribeTasksRequest; answer
/// `TaskSet.Task[]` with TaskId, TaskAction, TaskStatus, ResourceId, SupportCancel, CreationTime).
pub(crate) fn describe_tasks(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let region = region(ctx)?;
    let action = optional(p, "TaskAction");
    let status = optional(p, "TaskStatus");
    let resources: Vec<&str> = (1..=100)
        .filter_map(|n| optional(p, &format!("ResourceIds.{n}")))
        .collect();
    let task_ids: Vec<&str> = optional(p, "TaskIds")
        .map(|t| t.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let now = clock::now_ms();
    let tasks: Vec<Value> = sim
        .store()
        .all()
        .filter(|i| i.cloud == ctx.cloud && i.region == region && !i.task_id.is_empty())
        .filter(|_| action.is_none_or(|a| a == "ImportImage"))
        .filter(|i| resources.is_empty() || resources.contains(&i.id.as_str()))
        .filter(|i| task_ids.is_empty() || task_ids.contains(&i.task_id.as_str()))
        .map(|i| {
            let word = match i.phase(now) {
                Phase::Importing { .. } => "Processing",
                Phase::Available => "Finished",
                Phase::Failed => "Failed",
            };
            (i, word)
        })
        .filter(|(_, word)| status.is_none_or(|s| s == *word))
        .map(|(i, word)| {
            json!({
                "TaskId": i.task_id, "TaskAction": "ImportImage", "TaskStatus": word,
                "ResourceId": i.id, "SupportCancel": if word == "Processing" { "true" } else { "false" },
                "CreationTime": clock::iso_z(i.created_ms), "FinishedTime": "",
            })
        })
        .collect();
    let mut m = Map::new();
    m.insert("RegionId".into(), json!(region));
    m.insert("TotalCount".into(), json!(tasks.len()));
    m.insert("PageNumber".into(), json!(1));
    m.insert("PageSize".into(), json!(10));
    m.insert("TaskSet".into(), json!({ "Task": tasks }));
    Ok(m)
}

/// CancelTask (RegionId, TaskId): cancels a running ImportImage task (Alibaba Cloud ECS API reference,
/// CancelTask). What becomes of the image is not documented; here it goes away, as a cancelled import leaves no
/// usable image. The error codes for an unknown or finished task are guesses (docs/simulator.md).
pub(crate) fn cancel_task(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let task = required(p, "TaskId")?;
    let region = region(ctx)?;
    {
        let mut store = sim.store();
        let image = store
            .all()
            .find(|i| i.cloud == ctx.cloud && i.region == region && i.task_id == task)
            .cloned()
            .ok_or_else(|| {
                ali_err(
                    404,
                    "InvalidTaskId.NotFound",
                    "The specified TaskId does not exist.",
                )
            })?;
        if !matches!(image.phase(clock::now_ms()), Phase::Importing { .. }) {
            return Err(ali_err(
                403,
                "IncorrectTaskStatus",
                "The current status of the task does not support this operation.",
            ));
        }
        store.remove(ctx.cloud, &region, &image.id);
    }
    sim.persist();
    Ok(Map::new())
}

/// ECS `Status` word for a phase.
pub(crate) fn status_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Importing { .. } => "Creating",
        Phase::Available => "Available",
        Phase::Failed => "CreateFailed",
    }
}

fn progress(phase: Phase) -> String {
    match phase {
        Phase::Importing { percent } => format!("{percent}%"),
        _ => "100%".to_string(),
    }
}

fn render(i: &Image, now: i64) -> Value {
    let phase = i.phase(now);
    // A copy was made from the source's snapshots, not from OSS: it names no import object.
    let (bucket, object) = match &i.copy_of {
        Some(_) => ("", ""),
        None => i.source.split_once('/').unwrap_or(("", &i.source)),
    };
    json!({
        "ImageId": i.id,
        "ImageName": i.name,
        "Description": i.description,
        "Status": status_word(phase),
        "Progress": progress(phase),
        "CreationTime": clock::iso_z(i.created_ms),
        "Architecture": i.architecture,
        "OSType": i.os_type,
        "Platform": i.os_name,
        "OSName": i.os_name,
        "OSNameEn": i.os_name,
        "ImageOwnerAlias": owner_alias(i),
        "ImageOwnerId": 0,
        "IsSelfShared": "False",
        "IsPublic": false,
        "IsCopied": i.copy_of.is_some(),
        "IsSubscribed": false,
        "IsSupportCloudinit": true,
        "IsSupportIoOptimized": true,
        "LoginAsNonRootSupported": false,
        "Size": i.size_gib(),
        "Usage": "none",
        "ResourceGroupId": i.project,
        "ImageFamily": "",
        "ImageVersion": "",
        "ProductCode": "",
        "BootMode": "BIOS",
        "Usable": matches!(phase, Phase::Available),
        "Features": {"NvmeSupport": i.nvme_support(), "ImdsSupport": i.imds_support()},
        "DetectionOptions": {},
        "Tags": {"Tag": i.tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>()},
        "DiskDeviceMappings": {"DiskDeviceMapping": disk_mappings(i, bucket, object, phase)},
    })
}

/// `DiskDeviceMappings`: the system disk, then each imported data disk (`Type` `data`), with the OSS source
/// (alibabacloud ECS SDK 2014-05-26, `DescribeImagesResponseBodyImagesImageDiskDeviceMappingsDiskDeviceMapping`).
fn disk_mappings(i: &Image, bucket: &str, object: &str, phase: Phase) -> Vec<Value> {
    let mut out = vec![json!({
        "Device": "/dev/xvda", "Type": "system", "Format": i.format,
        "ImportOSSBucket": bucket, "ImportOSSObject": object,
        "Size": i.size_gib().to_string(), "SnapshotId": "", "Progress": progress(phase),
    })];
    for (n, d) in i.data_disks.iter().enumerate() {
        let (b, o) = match &i.copy_of {
            Some(_) => ("", ""),
            None => d.source.split_once('/').unwrap_or((d.source.as_str(), "")),
        };
        let device = format!("/dev/xvd{}", char::from(b'b' + (n as u8 % 24)));
        out.push(json!({
            "Device": device, "Type": "data", "Format": d.format,
            "ImportOSSBucket": b, "ImportOSSObject": o,
            "Size": (if d.size_gib > 0 { d.size_gib } else { u64::from(i.size_gib()) }).to_string(),
            "SnapshotId": "", "Progress": progress(phase),
        }));
    }
    out
}

const STATUSES: &[&str] = &[
    "Creating",
    "Waiting",
    "Available",
    "UnAvailable",
    "CreateFailed",
    "Deprecated",
];

/// DescribeImages.
pub(crate) fn describe(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let region = region(ctx)?;
    let statuses: Vec<&str> = match optional(p, "Status") {
        // `ALL`: every status (alibabacloud-go/ecs-20140526 DescribeImagesRequest.Status).
        Some("ALL") => STATUSES.to_vec(),
        s => s.unwrap_or("Available").split(',').map(str::trim).collect(),
    };
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return Err(ali_err(
            400,
            "InvalidParameter",
            format!("The specified Status {bad} is invalid."),
        ));
    }
    // `ImageOwnerAlias`: system, self, others or marketplace; unset, every one but marketplace
    // (alibabacloud-go/ecs-20140526 `DescribeImagesRequest`).
    let owners: &[&str] = match optional(p, "ImageOwnerAlias") {
        None | Some("") => &["system", "self", "others"],
        Some("self") => &["self"],
        Some("system") => &["system"],
        Some("others") => &["others"],
        // No marketplace image is simulated.
        Some("marketplace") => &[],
        Some(_) => {
            return Err(ali_err(
                400,
                "InvalidImageOwnerAlias.ValueNotSupported",
                "The specified ImageOwnerAlias value is not supported.",
            ))
        }
    };
    let wanted: Option<Vec<&str>> =
        optional(p, "ImageId").map(|v| v.split(',').map(str::trim).collect());
    if wanted.as_ref().is_some_and(|w| w.len() > 100) {
        return Err(ali_err(
            400,
            "InvalidParameter",
            "At most 100 ImageIds are allowed.",
        ));
    }
    let name = optional(p, "ImageName");
    let os_type = optional(p, "OSType");
    let arch = optional(p, "Architecture");
    let tag_filter = tag_rules::parse(p)?;
    let (page, size) = paging(p, 10, 100)?;
    let now = clock::now_ms();
    let store = sim.store();
    let matched: Vec<Value> = store
        .list(ctx.cloud, Some(&region))
        .into_iter()
        .filter(|i| owners.contains(&owner_alias(i)))
        .filter(|i| statuses.contains(&status_word(i.phase(now))))
        .filter(|i| wanted.as_ref().is_none_or(|w| w.contains(&i.id.as_str())))
        // ECS documents ImageName as a fuzzy (substring) search.
        .filter(|i| name.is_none_or(|n| i.name.contains(n)))
        .filter(|i| os_type.is_none_or(|o| i.os_type.eq_ignore_ascii_case(o)))
        .filter(|i| arch.is_none_or(|a| i.architecture == a))
        .filter(|i| tag_rules::matches(&tag_filter, &i.tags))
        .map(|i| render(i, now))
        .collect();
    let mut m = Map::new();
    m.insert("RegionId".into(), json!(region));
    m.insert("TotalCount".into(), json!(matched.len()));
    m.insert("PageNumber".into(), json!(page));
    m.insert("PageSize".into(), json!(size));
    m.insert("Images".into(), images_page(matched, page, size));
    Ok(m)
}

/// DescribeImages `ImageOwnerAlias` of an image: `self`, `system` (public) or `others` (shared).
fn owner_alias(i: &Image) -> &'static str {
    match i.owner() {
        "public" => "system",
        "shared" => "others",
        _ => "self",
    }
}

/// ModifyImageAttribute.
pub(crate) fn modify(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let region = region(ctx)?;
    let name = optional(p, "ImageName");
    let desc = optional(p, "Description");
    if let Some(n) = name {
        check_name(n)?;
    }
    if let Some(d) = desc {
        check_description(d)?;
    }
    {
        let mut store = sim.store();
        if store.get(ctx.cloud, &region, id).is_none() {
            return Err(not_found());
        }
        if name.is_some_and(|n| store.name_taken(ctx.cloud, &region, n, id)) {
            return Err(duplicated());
        }
        if let Some(img) = store.get_mut(ctx.cloud, &region, id) {
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

/// DeleteImage.
pub(crate) fn delete(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let region = region(ctx)?;
    {
        let mut store = sim.store();
        let now = clock::now_ms();
        let image = store.get(ctx.cloud, &region, id).ok_or_else(not_found)?;
        let phase = image.phase(now);
        // "When an image is being copied, the new image cannot be deleted by calling DeleteImage" (CopyImage notes;
        // which code it answers is not documented: `OperationDenied.ImageCopying` is a guess, docs/simulator.md), and a
        // source whose copy runs: 403 `OperationDenied.ImageCopying` (Alibaba Cloud ECS API reference, DeleteImage).
        let copying = image.copy_of.is_some() && matches!(phase, Phase::Importing { .. });
        if copying || store.copy_running_from(ctx.cloud, &region, id, now) {
            return Err(ali_err(
                403,
                "OperationDenied.ImageCopying",
                "The Image is coping.",
            ));
        }
        if matches!(phase, Phase::Importing { .. }) {
            return Err(ali_err(
                403,
                "ImageIsImporting",
                "The specified Image is importing.",
            ));
        }
        // DeleteImage: 403 `ImageUseShared` (Alibaba Cloud ECS API reference, DeleteImage error codes).
        if store
            .get(ctx.cloud, &region, id)
            .is_some_and(|i| !i.shares.is_empty())
        {
            return Err(ali_err(
                403,
                "ImageUseShared",
                "The specified image has been shared to others.",
            ));
        }
        store.remove(ctx.cloud, &region, id);
    }
    sim.persist();
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests_support::sim;

    use crate::alibaba::test_params as params;

    fn ctx<'a>(cloud: SimCloud, p: &'a Params) -> Ctx<'a> {
        Ctx {
            cloud,
            params: p,
            region: p.get("RegionId").cloned().unwrap_or_default(),
            resource_group: String::new(),
        }
    }

    fn import_params(name: &str, object: &str) -> Params {
        params(&[
            ("RegionId", "cn-hangzhou"),
            ("ImageName", name),
            ("DiskDeviceMapping.1.OSSBucket", "bucket"),
            ("DiskDeviceMapping.1.OSSObject", object),
            ("DiskDeviceMapping.1.Format", "QCOW2"),
        ])
    }

    #[test]
    fn lifecycle() {
        let s = sim();
        let p = import_params("img-a", "a.qcow2");
        let id = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let e = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Duplicated");
        let d = params(&[("RegionId", "cn-hangzhou"), ("ImageId", &id)]);
        let out = describe(&s, &ctx(SimCloud::AlicloudEcs, &d)).unwrap();
        assert_eq!(out["TotalCount"], 1);
        assert_eq!(out["Images"]["Image"][0]["Status"], "Available");
        let m = params(&[
            ("RegionId", "cn-hangzhou"),
            ("ImageId", &id),
            ("ImageName", "img-b"),
        ]);
        modify(&s, &ctx(SimCloud::AlicloudEcs, &m)).unwrap();
        delete(&s, &ctx(SimCloud::AlicloudEcs, &d)).unwrap();
        let e = delete(&s, &ctx(SimCloud::AlicloudEcs, &d)).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (404, "InvalidImageId.NotFound")
        );
    }

    #[test]
    fn client_token_is_idempotent() {
        let s = sim();
        let mut p = import_params("tok-a", "a.qcow2");
        p.insert("ClientToken".into(), "token-1".into());
        let a = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap();
        let b = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap();
        assert_eq!(a["ImageId"], b["ImageId"]);
        p.insert("Description".into(), "changed".into());
        let e = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap_err();
        assert_eq!(e.code, "IdempotentParameterMismatch");
    }

    #[test]
    fn default_status_hides_importing_and_failed() {
        let s = sim();
        s.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(60.0),
            latency_ms: None,
        });
        let p = import_params("slow", "a.qcow2");
        import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap();
        let d = params(&[("RegionId", "cn-hangzhou")]);
        assert_eq!(
            describe(&s, &ctx(SimCloud::AlicloudEcs, &d)).unwrap()["TotalCount"],
            0
        );
        let d = params(&[
            ("RegionId", "cn-hangzhou"),
            ("Status", "Creating,Available"),
        ]);
        let out = describe(&s, &ctx(SimCloud::AlicloudEcs, &d)).unwrap();
        assert_eq!(out["TotalCount"], 1);
        assert!(out["Images"]["Image"][0]["Progress"]
            .as_str()
            .unwrap()
            .ends_with('%'));
        let id = out["Images"]["Image"][0]["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        let del = params(&[("RegionId", "cn-hangzhou"), ("ImageId", &id)]);
        assert_eq!(
            delete(&s, &ctx(SimCloud::AlicloudEcs, &del))
                .unwrap_err()
                .code,
            "ImageIsImporting"
        );
    }

    #[test]
    fn parameter_rules() {
        let s = sim();
        let e = import(&s, &ctx(SimCloud::AlicloudEcs, &import_params("1bad", "a"))).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Malformed");
        let mut p = import_params("ok-name", "a");
        p.insert("DiskDeviceMapping.1.Format".into(), "VMDK".into());
        assert!(import(&s, &ctx(SimCloud::AlicloudEcs, &p)).is_ok());
        assert_eq!(
            import(&s, &ctx(SimCloud::Apsarastack, &p))
                .unwrap_err()
                .code,
            "InvalidImageFormat.Malformed"
        );
        let p = params(&[
            ("RegionId", "r"),
            ("DiskDeviceMapping.0.OSSBucket", "b"),
            ("DiskDeviceMapping.0.OSSObject", "o"),
        ]);
        assert_eq!(
            import(&s, &ctx(SimCloud::AlicloudEcs, &p))
                .unwrap_err()
                .code,
            "InvalidParameter"
        );
        let p = params(&[("RegionId", "r")]);
        assert_eq!(
            import(&s, &ctx(SimCloud::AlicloudEcs, &p))
                .unwrap_err()
                .code,
            "MissingParameter.DiskDeviceMapping"
        );
        let p = params(&[("DiskDeviceMapping.1.OSSBucket", "b")]);
        assert_eq!(
            import(&s, &ctx(SimCloud::AlicloudEcs, &p))
                .unwrap_err()
                .code,
            "MissingParameter"
        );
        let d = params(&[("RegionId", "r"), ("PageSize", "101")]);
        assert!(describe(&s, &ctx(SimCloud::AlicloudEcs, &d)).is_err());
    }

    #[test]
    fn dry_run_answers_dryrun_success_and_makes_nothing() {
        let s = sim();
        let mut p = import_params("dry-name", "a");
        p.insert("DryRun".into(), "true".into());
        let e = import(&s, &ctx(SimCloud::AlicloudEcs, &p)).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (
                400,
                "DRYRUN.SUCCESS",
                "This request is a dryrun request with successful result."
            )
        );
        assert!(s.store().list(SimCloud::AlicloudEcs, None).is_empty());
        // A dry run that would fail answers the failure, not the dry-run code.
        let mut bad = import_params("1bad", "a");
        bad.insert("DryRun".into(), "true".into());
        let e = import(&s, &ctx(SimCloud::AlicloudEcs, &bad)).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Malformed");
    }

    fn slow(s: &Sim) {
        s.patch_config(crate::app::ConfigPatch {
            import_seconds: Some(60.0),
            latency_ms: None,
        });
    }

    fn id_of(out: &Map<String, Value>) -> String {
        out["ImageId"].as_str().unwrap().to_string()
    }

    fn copy_params(src: &str, dest: &str, name: &str) -> Params {
        params(&[
            ("RegionId", "cn-hangzhou"),
            ("ImageId", src),
            ("DestinationRegionId", dest),
            ("DestinationImageName", name),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
        ])
    }

    #[test]
    fn copy_lifecycle_and_checks() {
        let s = sim();
        let ecs = SimCloud::AlicloudEcs;
        let src = id_of(&import(&s, &ctx(ecs, &import_params("src", "a.qcow2"))).unwrap());
        // Same region, unknown source, malformed destination.
        let e = copy(&s, &ctx(ecs, &copy_params(&src, "cn-hangzhou", "copy-c"))).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (403, "IncorrectDestinationRegion")
        );
        let e = copy(
            &s,
            &ctx(ecs, &copy_params("m-none", "cn-beijing", "copy-c")),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidImageId.NotFound");
        let e = copy(&s, &ctx(ecs, &copy_params(&src, "Not A Region", "copy-c"))).unwrap_err();
        assert_eq!(e.code, "DestinationRegion.NotFound");
        slow(&s);
        let mut p = copy_params(&src, "cn-beijing", "copy-c");
        p.insert("ClientToken".into(), "copy-1".into());
        let copy_id = id_of(&copy(&s, &ctx(ecs, &p)).unwrap());
        // The same token answers the same copy; other parameters with it are refused.
        assert_eq!(id_of(&copy(&s, &ctx(ecs, &p)).unwrap()), copy_id);
        p.insert("DestinationImageName".into(), "other".into());
        assert_eq!(
            copy(&s, &ctx(ecs, &p)).unwrap_err().code,
            "IdempotentParameterMismatch"
        );
        // The name is taken in the destination now.
        let e = copy(&s, &ctx(ecs, &copy_params(&src, "cn-beijing", "copy-c"))).unwrap_err();
        assert_eq!(e.code, "InvalidImageName.Duplicated");
        // Hidden without a Status list, listed as Creating with one.
        let d = params(&[("RegionId", "cn-beijing"), ("ImageId", &copy_id)]);
        assert_eq!(describe(&s, &ctx(ecs, &d)).unwrap()["TotalCount"], 0);
        let d = params(&[
            ("RegionId", "cn-beijing"),
            ("ImageId", &copy_id),
            ("Status", "Creating,Waiting,Available"),
        ]);
        let out = describe(&s, &ctx(ecs, &d)).unwrap();
        let img = &out["Images"]["Image"][0];
        assert_eq!(img["Status"], "Creating");
        assert_eq!(img["IsCopied"], true);
        assert_eq!(img["Tags"]["Tag"][0]["TagKey"], "env");
        assert!(img["Progress"].as_str().unwrap().ends_with('%'));
        // Neither the source nor the running copy can be deleted.
        let del_src = params(&[("RegionId", "cn-hangzhou"), ("ImageId", &src)]);
        let e = delete(&s, &ctx(ecs, &del_src)).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (403, "OperationDenied.ImageCopying")
        );
        let del_copy = params(&[("RegionId", "cn-beijing"), ("ImageId", &copy_id)]);
        let e = delete(&s, &ctx(ecs, &del_copy)).unwrap_err();
        assert_eq!(e.code, "OperationDenied.ImageCopying");
        // CancelCopyImage removes the copy; the source is free again.
        let e = cancel_copy(&s, &ctx(ecs, &del_src)).unwrap_err();
        assert_eq!(e.code, "ImageCreatedNotFromCopy");
        cancel_copy(&s, &ctx(ecs, &del_copy)).unwrap();
        assert!(s.store().get(ecs, "cn-beijing", &copy_id).is_none());
        delete(&s, &ctx(ecs, &del_src)).unwrap();
    }

    #[test]
    fn a_finished_copy_cannot_be_cancelled_and_copies_can_be_made_to_fail() {
        let s = sim();
        let ecs = SimCloud::AlicloudEcs;
        let src = id_of(&import(&s, &ctx(ecs, &import_params("src", "a.qcow2"))).unwrap());
        let done = id_of(&copy(&s, &ctx(ecs, &copy_params(&src, "cn-beijing", "done"))).unwrap());
        let c = params(&[("RegionId", "cn-beijing"), ("ImageId", &done)]);
        let e = cancel_copy(&s, &ctx(ecs, &c)).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "IncorrectImageStatus"));
        s.faults().set(
            serde_json::from_str(r#"{"failed_images":[{"action":"CopyImage","count":1}]}"#)
                .unwrap(),
        );
        let failed = id_of(&copy(&s, &ctx(ecs, &copy_params(&src, "cn-beijing", "bad"))).unwrap());
        let d = params(&[
            ("RegionId", "cn-beijing"),
            ("ImageId", &failed),
            ("Status", "ALL"),
        ]);
        let out = describe(&s, &ctx(ecs, &d)).unwrap();
        assert_eq!(out["Images"]["Image"][0]["Status"], "CreateFailed");
        // A source still importing cannot be copied.
        slow(&s);
        let busy = id_of(&import(&s, &ctx(ecs, &import_params("busy", "b.qcow2"))).unwrap());
        let e = copy(&s, &ctx(ecs, &copy_params(&busy, "cn-beijing", "copy-x"))).unwrap_err();
        assert_eq!(e.code, "IncorrectImageStatus");
    }
}
