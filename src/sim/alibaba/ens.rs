//! ENS (Edge Node Service) image actions: ImportImage (qcow2 only; source as `OSS*` fields or a
//! `DiskDeviceMapping` JSON string), DescribeSelfImages (string-typed counters, `Code: 0`),
//! ModifyImageAttribute and DeleteImage. ENS image APIs carry no RegionId, so ids are looked
//! up across regions.

use serde_json::{json, Map, Value};

use super::rules;
use super::{
    ali_err, images_page, missing, not_found, optional, paging, required, AliError, Ctx, Out,
};
use crate::app::Sim;
use crate::clock;
use crate::ids;
use crate::state::{Image, Phase};

fn invalid(field: &str) -> AliError {
    ali_err(
        400,
        &format!("InvalidParameter.{field}"),
        format!("The specified field {field} invalid. Please check it again."),
    )
}

/// The system-disk source: (region, bucket, object). The top-level `OSS*` fields describe it;
/// without them the first `DiskDeviceMapping` entry (a JSON string) does. Further entries are
/// data disks and must be well-formed too.
fn source(ctx: &Ctx<'_>) -> Result<(String, String, String), AliError> {
    let p = ctx.params;
    let mut disks = Vec::new();
    if let Some(ddm) = optional(p, "DiskDeviceMapping") {
        let v: Value = serde_json::from_str(ddm).map_err(|_| invalid("DiskDeviceMapping"))?;
        let list = v.as_array().ok_or_else(|| invalid("DiskDeviceMapping"))?;
        for item in list {
            let o = item
                .as_object()
                .ok_or_else(|| invalid("DiskDeviceMapping"))?;
            let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (bucket, object) = (field("OSSBucket"), field("OSSObject"));
            if bucket.is_empty() || object.is_empty() {
                return Err(invalid("DiskDeviceMapping"));
            }
            disks.push((field("OSSRegion"), bucket, object));
        }
    }
    match (optional(p, "OSSBucket"), optional(p, "OSSObject")) {
        (Some(bucket), Some(object)) => Ok((
            optional(p, "OSSRegion").unwrap_or("").to_string(),
            bucket.to_string(),
            object.to_string(),
        )),
        (None, None) if !disks.is_empty() => Ok(disks.swap_remove(0)),
        (_, None) => Err(missing("OSSObject")),
        (None, _) => Err(missing("OSSBucket")),
    }
}

/// ImportImage.
pub(crate) fn import(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let name = required(p, "ImageName")?;
    let compute = required(p, "ComputeType")?;
    let format = required(p, "ImageFormat")?;
    let os_type = required(p, "OSType")?;
    let arch = required(p, "Architecture")?;
    if !rules::alibaba_image_name_ok(name) {
        return Err(invalid("ImageName"));
    }
    if compute != "ens_vm" {
        return Err(invalid("ComputeType"));
    }
    if !rules::ens_format_ok(format) {
        return Err(invalid("ImageFormat"));
    }
    if os_type != "linux" {
        return Err(invalid("OSType"));
    }
    if arch != "x86_64" {
        return Err(invalid("Architecture"));
    }
    let (oss_region, bucket, object) = source(ctx)?;
    let region = optional(p, "TargetOSSRegionId")
        .map(str::to_string)
        .or_else(|| Some(oss_region).filter(|r| !r.is_empty()))
        .or_else(|| Some(ctx.region.clone()).filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "cn-beijing".to_string());
    let image = Image {
        cloud: ctx.cloud,
        region,
        id: ids::alibaba_image_id(),
        name: name.to_string(),
        description: String::new(),
        source: format!("{bucket}/{object}"),
        format: format.to_string(),
        os_type: os_type.to_string(),
        os_name: optional(p, "Platform").unwrap_or("").to_string(),
        architecture: arch.to_string(),
        project: String::new(),
        created_ms: clock::now_ms(),
        import_ms: sim.import_ms(),
        fails: crate::rules::source_fails(&object)
            || sim.faults().image_fails(ctx.cloud, "ImportImage"),
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
    let mut m = Map::new();
    m.insert("ImageId".into(), json!(id));
    Ok(m)
}

/// ENS `Status` word for a phase.
pub(crate) fn status_word(phase: Phase) -> &'static str {
    match phase {
        Phase::Importing { .. } => "Creating",
        Phase::Available => "Available",
        Phase::Failed => "Upload_failed",
    }
}

fn render(i: &Image, now: i64) -> Value {
    json!({
        "ImageId": i.id,
        "ImageName": i.name,
        "Status": status_word(i.phase(now)),
        "Architecture": i.architecture,
        "ComputeType": "ens_vm",
        "CreationTime": clock::iso_z(i.created_ms),
        "ImageOwnerAlias": "self",
        "ImageSize": i.size_gib().to_string(),
        "ImageStorageSize": i.size_gib().to_string(),
        "InstanceId": "",
        "OsVersion": "",
        "Platform": i.os_name,
        "RegionId": i.region,
        "SnapshotId": "",
        "DiskDeviceMappings": {"DiskDeviceMapping": []},
    })
}

/// The largest DescribeSelfImages `PageSize` taken: its request model gives no maximum (default 10), its response
/// model documents "Maximum value: 50" (alibabacloud-go/ens-20171110 client/describe_self_images_request_model.go
/// and describe_self_images_response_body_model.go), as ENS's DescribeImages does.
const SELF_IMAGES_MAX_PAGE: usize = 50;

/// DescribeSelfImages: `ImageId` and `ImageName` are fuzzy (substring) filters ("Fuzzy search is supported",
/// describe_self_images_request_model.go); `PageNumber` (default 1) and `PageSize` (default 10, at most 50) page
/// the result, `TotalCount` counts every match. A bad page answers `InvalidParameter.<Field>`, the ENS error
/// shape `InvalidParameter.%s` (seed page 003; the code for these fields is a guess).
pub(crate) fn describe(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = optional(p, "ImageId");
    let name = optional(p, "ImageName");
    for (field, max) in [
        ("PageNumber", usize::MAX),
        ("PageSize", SELF_IMAGES_MAX_PAGE),
    ] {
        if optional(p, field)
            .is_some_and(|v| !v.parse::<usize>().is_ok_and(|n| (1..=max).contains(&n)))
        {
            return Err(invalid(field));
        }
    }
    let (page, size) = paging(p, 10, SELF_IMAGES_MAX_PAGE)?;
    let now = clock::now_ms();
    let store = sim.store();
    let matched: Vec<Value> = store
        .list(ctx.cloud, None)
        .into_iter()
        // The account's own images only: that is what DescribeSelfImages is.
        .filter(|i| i.owner() == "self")
        .filter(|i| id.is_none_or(|w| i.id.contains(w)))
        .filter(|i| name.is_none_or(|n| i.name.contains(n)))
        .map(|i| render(i, now))
        .collect();
    let mut m = Map::new();
    m.insert("Code".into(), json!(0));
    m.insert("TotalCount".into(), json!(matched.len().to_string()));
    m.insert("PageNumber".into(), json!(page.to_string()));
    m.insert("PageSize".into(), json!(size.to_string()));
    m.insert("Images".into(), images_page(matched, page, size));
    Ok(m)
}

fn ok_code() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Code".into(), json!(0));
    m
}

/// ModifyImageAttribute.
pub(crate) fn modify(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let p = ctx.params;
    let id = required(p, "ImageId")?;
    let name = optional(p, "ImageName").ok_or_else(|| missing("ImageName"))?;
    if !rules::alibaba_image_name_ok(name) {
        return Err(invalid("ImageName"));
    }
    {
        let mut store = sim.store();
        let region = store.region_of(ctx.cloud, id).ok_or_else(not_found)?;
        if let Some(img) = store.get_mut(ctx.cloud, &region, id) {
            img.name = name.to_string();
        }
    }
    sim.persist();
    Ok(ok_code())
}

/// DeleteImage.
pub(crate) fn delete(sim: &Sim, ctx: &Ctx<'_>) -> Out {
    let id = required(ctx.params, "ImageId")?;
    {
        let mut store = sim.store();
        let region = store.region_of(ctx.cloud, id).ok_or_else(not_found)?;
        store.remove(ctx.cloud, &region, id);
    }
    sim.persist();
    Ok(ok_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alibaba::Params;
    use crate::app::tests_support::sim;
    use crate::cloud::SimCloud;

    use crate::alibaba::test_params as params;

    fn ctx(p: &Params) -> Ctx<'_> {
        Ctx {
            cloud: SimCloud::AlicloudEns,
            params: p,
            region: String::new(),
            resource_group: String::new(),
        }
    }

    fn base() -> Params {
        params(&[
            ("ImageName", "ens-a"),
            ("ComputeType", "ens_vm"),
            ("ImageFormat", "qcow2"),
            ("OSType", "linux"),
            ("Architecture", "x86_64"),
            (
                "DiskDeviceMapping",
                r#"[{"OSSRegion":"cn-beijing","OSSBucket":"b","OSSObject":"o.qcow2"}]"#,
            ),
        ])
    }

    #[test]
    fn lifecycle() {
        let s = sim();
        let p = base();
        let id = import(&s, &ctx(&p)).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(id.starts_with("m-"));
        let d = params(&[("ImageId", &id)]);
        let out = describe(&s, &ctx(&d)).unwrap();
        assert_eq!(out["TotalCount"], "1");
        assert_eq!(out["Images"]["Image"][0]["Status"], "Available");
        assert_eq!(out["Images"]["Image"][0]["RegionId"], "cn-beijing");
        let m = params(&[("ImageId", &id), ("ImageName", "ens-b")]);
        assert_eq!(modify(&s, &ctx(&m)).unwrap()["Code"], 0);
        delete(&s, &ctx(&d)).unwrap();
        assert_eq!(
            delete(&s, &ctx(&d)).unwrap_err().code,
            "InvalidImageId.NotFound"
        );
    }

    fn import_named(s: &Sim, name: &str) -> String {
        let mut p = base();
        p.insert("ImageName".into(), name.into());
        import(s, &ctx(&p)).unwrap()["ImageId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn ids_of(out: &Map<String, Value>) -> Vec<String> {
        out["Images"]["Image"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["ImageId"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn describe_is_fuzzy_and_paged() {
        let s = sim();
        let web = import_named(&s, "web");
        let web2 = import_named(&s, "web-2");
        import_named(&s, "db");
        let out = describe(&s, &ctx(&params(&[("ImageName", "web")]))).unwrap();
        assert_eq!(out["TotalCount"], "2");
        let mut got = ids_of(&out);
        got.sort();
        let mut want = vec![web.clone(), web2.clone()];
        want.sort();
        assert_eq!(got, want);
        // A part of an id finds every id that contains it.
        let out = describe(&s, &ctx(&params(&[("ImageId", "m-")]))).unwrap();
        assert_eq!(out["TotalCount"], "3");
        let out = describe(&s, &ctx(&params(&[("ImageId", &web[..10])]))).unwrap();
        assert!(ids_of(&out).contains(&web));
        // Pages of 2: page 2 has the third image, TotalCount still counts all.
        let out = describe(&s, &ctx(&params(&[("PageSize", "2"), ("PageNumber", "2")]))).unwrap();
        assert_eq!(out["TotalCount"], "3");
        assert_eq!(ids_of(&out).len(), 1);
        assert_eq!(out["PageNumber"], "2");
        let out = describe(&s, &ctx(&params(&[("PageSize", "50")]))).unwrap();
        assert_eq!(ids_of(&out).len(), 3);
        for (k, v, code) in [
            ("PageSize", "51", "InvalidParameter.PageSize"),
            ("PageSize", "0", "InvalidParameter.PageSize"),
            ("PageNumber", "0", "InvalidParameter.PageNumber"),
            ("PageNumber", "x", "InvalidParameter.PageNumber"),
        ] {
            let e = describe(&s, &ctx(&params(&[(k, v)]))).unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (400, code), "{k}={v}");
        }
    }

    #[test]
    fn qcow2_only_and_required_fields() {
        let s = sim();
        let mut p = base();
        p.insert("ImageFormat".into(), "raw".into());
        assert_eq!(
            import(&s, &ctx(&p)).unwrap_err().code,
            "InvalidParameter.ImageFormat"
        );
        let mut p = base();
        p.insert("DiskDeviceMapping".into(), "not json".into());
        assert_eq!(
            import(&s, &ctx(&p)).unwrap_err().code,
            "InvalidParameter.DiskDeviceMapping"
        );
        let mut p = base();
        p.remove("DiskDeviceMapping");
        assert_eq!(import(&s, &ctx(&p)).unwrap_err().code, "MissingParameter");
        p.insert("OSSBucket".into(), "b".into());
        p.insert("OSSObject".into(), "will-fail.qcow2".into());
        assert!(import(&s, &ctx(&p)).is_ok());
        let mut p = base();
        p.remove("ComputeType");
        assert_eq!(import(&s, &ctx(&p)).unwrap_err().code, "MissingParameter");
    }
}
