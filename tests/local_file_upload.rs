//! `source_file` end to end: real Terraform, the provider binary, `cloudimage-sim --object-store` and a real
//! S3-compatible server (moto, checking our signatures). One storage family per test: Alibaba OSS (a qcow2 that
//! boots with UEFI), Tencent COS (a raw BIOS disk) and UCloud US3 (a fixed VHD), each uploaded, imported through the
//! simulator, waited for, its uploaded object deleted (or kept when asked), and planned again with no changes; one
//! changed byte plans a replacement; a wrong `format`, a BIOS/UEFI mismatch, a missing file and a missing
//! `source_url` object fail at plan with the attribute's path; with `inspect_source_url = false` an import of a
//! missing object fails as ECS fails it. Last, an apply whose provider is killed half way through an upload is applied again:
//! it resumes, sending only the parts moto does not hold yet (counted by a proxy in front of moto).
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod disk_support;
mod s3_support;
mod sim_support;
mod support;
mod upload_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use disk_support::{raw_disk, Layout};
use s3_support::{pseudo_random, PartGate};
use serde_json::{json, Value};
use support::{planned_actions, resource_in_state, Tf, Workspace};
use upload_support::*;

/// Alibaba OSS: a qcow2 whose partition table has only an EFI system partition.
#[test]
fn qcow2_to_alicloud_through_oss() {
    let rig = Rig::new(&["oss-images"]);
    let file = disk_file(
        &rig.ws,
        "web.qcow2",
        &raw_disk(Layout::UefiGpt, 16 * MIB),
        "qcow2",
        "",
    );
    let upload_to = "oss://oss-images/uploads/web.qcow2";
    rig.config(&alicloud_resource(&file, upload_to, ""));

    // The plan reads the file: its content hash, format and boot mode are known before anything is sent.
    let plan = rig.ws.plan_json();
    let after = planned_values(&plan);
    assert_eq!(after["source_sha256"], sha_hex(&file));
    assert_eq!(after["format"], "qcow2");
    assert_eq!(after["boot_mode"], "UEFI");

    // The saved plan (`plan -out`) is what gets applied.
    let apply = rig.ws.ok(&["apply", "-no-color", "tfplan"]);
    let state = rig.state();
    assert_eq!(state["status"], "available", "{}", apply.all());
    assert_eq!(
        (&state["format"], &state["boot_mode"]),
        (&json!("qcow2"), &json!("UEFI"))
    );
    let images = rig.images("alicloud");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["source"], "oss-images/uploads/web.qcow2");
    // Deleted once the image was available.
    assert_eq!(rig.object("oss-images", "uploads/web.qcow2"), None);
    assert!(
        apply.all().contains("deleted the uploaded object"),
        "{}",
        apply.all()
    );
    // Nothing changed: nothing planned (and the file is not read again: the hash comes from the cache).
    assert_eq!(rig.ws.plan_code(&[]), 0);

    // One byte of the image's content: a replacement, named by the content hash.
    flip_last_data_byte(&file, 0);
    let plan = rig.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["delete", "create"]);
    assert!(
        replace_paths(&plan).contains(&r#"["source_sha256"]"#.to_string()),
        "{:?}",
        replace_paths(&plan)
    );
    assert_eq!(planned_values(&plan)["source_sha256"], sha_hex(&file));
    rig.ws.apply();
    let images = rig.images("alicloud");
    assert_eq!(images.len(), 1, "{images:?}");
    assert_ne!(images[0]["id"], state["id"]);
    assert_eq!(rig.state()["source_sha256"], sha_hex(&file));
    assert_eq!(rig.ws.plan_code(&[]), 0);

    // A format the bytes contradict, and a boot mode the disk cannot boot with: errors at plan, at the attribute.
    rig.config(&alicloud_resource(&file, upload_to, "format = \"raw\""));
    let out = rig.plan_fails();
    assert!(
        out.contains("format does not match the disk image"),
        "{out}"
    );
    assert!(out.contains("is a qcow2 image"), "{out}");
    assert!(out.contains(r#"format = "raw""#), "{out}");
    rig.config(&alicloud_resource(&file, upload_to, "boot_mode = \"BIOS\""));
    let out = rig.plan_fails();
    assert!(
        out.contains("boot_mode does not match the disk image"),
        "{out}"
    );
    assert!(out.contains("boots only with UEFI"), "{out}");
    // A file that is not there.
    let gone = rig.ws.dir.path().join("disks/missing.qcow2");
    rig.config(&alicloud_resource(&gone, upload_to, ""));
    let out = rig.plan_fails();
    assert!(out.contains("Cannot read source_file"), "{out}");

    // A source_url object that does not exist: the plan says so (a block whose storage endpoint is known reads
    // source_url objects by default); with inspect_source_url = false, the import fails as ECS fails it (the
    // simulator reads moto).
    let url_resource = r#"
resource "cloudimage_custom_image" "web" {
  cloud      = "alicloud"
  region     = "ap-southeast-1"
  name       = "web-from-url"
  source_url = "oss://oss-images/nowhere.qcow2"
  platform   = "CentOS"
}
"#;
    rig.config(url_resource);
    let out = rig.plan_fails();
    assert!(out.contains("source_url names no object"), "{out}");
    assert!(out.contains("oss-images/nowhere.qcow2"), "{out}");
    rig.ws.write_config(&format!(
        "{}{url_resource}",
        rig.provider("inspect_source_url = false")
    ));
    let r = rig.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(r.code, 0);
    assert!(
        flat(&r.all()).contains("InvalidOSSObject.NotFound"),
        "{}",
        r.all()
    );
    assert!(
        rig.images("alicloud").is_empty(),
        "{:?}",
        rig.images("alicloud")
    );
}

/// Tencent COS (a raw disk that boots with BIOS, its uploaded object kept) and UCloud US3 (a fixed VHD), on
/// Terraform 1.15; then `terraform import` of the UCloud image under a `source_file` configuration plans no
/// replacement and sends nothing.
#[test]
fn raw_to_tencent_through_cos_and_vhd_to_ucloud_through_us3() {
    let rig = Rig::with(Tf::V1_15, &["cos-images-1250000000", "us3-images"]);
    let raw = disk_file(
        &rig.ws,
        "web.raw",
        &raw_disk(Layout::BiosMbr, 8 * MIB),
        "raw",
        "",
    );
    let vhd = disk_file(
        &rig.ws,
        "web.vhd",
        &raw_disk(Layout::BiosGpt, 8 * MIB),
        "vpc",
        "subformat=fixed,force_size=on",
    );
    let cos = "https://cos-images-1250000000.cos.ap-guangzhou.myqcloud.com/up/web.raw";
    let us3 = "https://us3-images.hk.ufileos.com/up/web.vhd";
    rig.config(&format!(
        r#"
resource "cloudimage_custom_image" "web" {{
  cloud                = "tencentcloud"
  region               = "ap-guangzhou"
  name                 = "web-from-raw"
  source_file          = "{}"
  upload_to            = "{cos}"
  keep_uploaded_object = true
  platform             = "CentOS"
  os_version           = "7"
}}

resource "cloudimage_custom_image" "legacy" {{
  cloud       = "ucloud"
  region      = "hk"
  name        = "legacy-from-vhd"
  source_file = "{}"
  upload_to   = "{us3}"
  platform    = "CentOS"
  os_version  = "CentOS 7.9 64"
}}
"#,
        raw.display(),
        vhd.display()
    ));
    let apply = rig.ws.apply();
    let state = rig.ws.state_json();
    let web = resource_in_state(&state, ADDR).unwrap()["values"].clone();
    let legacy =
        resource_in_state(&state, "cloudimage_custom_image.legacy").unwrap()["values"].clone();
    assert_eq!(web["status"], "available", "{}", apply.all());
    assert_eq!(
        (&web["format"], &web["boot_mode"]),
        (&json!("raw"), &json!("Legacy BIOS"))
    );
    assert_eq!(web["source_sha256"], sha_hex(&raw));
    assert_eq!(legacy["status"], "available");
    // UCloud takes no boot mode; its required format came from the file.
    assert_eq!(
        (&legacy["format"], &legacy["boot_mode"]),
        (&json!("vhd"), &Value::Null)
    );
    assert_eq!(rig.images("tencentcloud").len(), 1);
    assert_eq!(rig.images("ucloud").len(), 1);
    // Kept where asked, deleted otherwise.
    let raw_len = std::fs::metadata(&raw).unwrap().len();
    assert_eq!(
        rig.object("cos-images-1250000000", "up/web.raw"),
        Some(raw_len)
    );
    assert_eq!(rig.object("us3-images", "up/web.vhd"), None);
    assert_eq!(rig.ws.plan_code(&[]), 0);

    // Imported into a state that forgot it: the configuration's file, its upload_to and its content hash are
    // recorded in place; the file is not uploaded again (its object is gone) and no image is made.
    const LEGACY: &str = "cloudimage_custom_image.legacy";
    let id = legacy["id"].as_str().unwrap().to_string();
    rig.ws.ok(&["state", "rm", "-no-color", LEGACY]);
    rig.ws
        .ok(&["import", "-no-color", LEGACY, &format!("ucloud/hk/{id}")]);
    let plan = rig.ws.plan_json();
    let actions = planned_actions(&plan, LEGACY);
    assert!(
        actions == ["update"] || actions == ["no-op"],
        "{actions:?} {}",
        plan["resource_changes"]
    );
    rig.ws.apply();
    let state = rig.ws.state_json();
    let back = resource_in_state(&state, LEGACY).unwrap()["values"].clone();
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["source_sha256"], sha_hex(&vhd));
    assert_eq!(rig.images("ucloud").len(), 1);
    assert_eq!(rig.object("us3-images", "up/web.vhd"), None);
    assert_eq!(rig.ws.plan_code(&[]), 0);

    // One byte of the VHD's guest data: only that image is replaced.
    flip_last_data_byte(&vhd, 512);
    let plan = rig.ws.plan_json();
    assert_eq!(
        planned_actions(&plan, "cloudimage_custom_image.legacy"),
        ["delete", "create"]
    );
    assert_eq!(planned_actions(&plan, ADDR), ["no-op"]);
}

/// Terraform 0.14 (protocol 5): the plan's fills from the file (format, boot mode, content hash) and the upload
/// work there too, and an unchanged file plans nothing.
#[test]
fn a_local_file_on_terraform_0_14() {
    let rig = Rig::with(Tf::V0_14, &["oss-images"]);
    let file = disk_file(
        &rig.ws,
        "old.raw",
        &raw_disk(Layout::BiosMbr, 8 * MIB),
        "raw",
        "",
    );
    rig.config(&alicloud_resource(
        &file,
        "oss://oss-images/uploads/old.raw",
        "",
    ));
    let apply = rig.ws.apply();
    let state = rig.state();
    assert_eq!(state["status"], "available", "{}", apply.all());
    assert_eq!(
        (&state["format"], &state["boot_mode"]),
        (&json!("raw"), &json!("BIOS"))
    );
    assert_eq!(state["source_sha256"], sha_hex(&file));
    assert_eq!(rig.images("alicloud").len(), 1);
    assert_eq!(rig.object("oss-images", "uploads/old.raw"), None);
    assert_eq!(rig.ws.plan_code(&[]), 0);
}

/// A data disk from a local file beside the system disk (ECS `DiskDeviceMapping.2`): both files are hashed at plan
/// and uploaded, the simulator finds both objects (it fails imports of missing ones), both are deleted once the
/// image is available, and other content in the data disk's file replaces the image.
#[test]
fn a_data_disk_from_a_local_file() {
    let rig = Rig::new(&["oss-images"]);
    let system = disk_file(
        &rig.ws,
        "sys.qcow2",
        &raw_disk(Layout::UefiGpt, 16 * MIB),
        "qcow2",
        "",
    );
    let mut bytes = pseudo_random(4 * MIB, 11);
    bytes[..512].fill(0);
    let data = disk_file(&rig.ws, "data.raw", &bytes, "raw", "");
    let data_disk = format!(
        r#"
  data_disks {{
    source_file = "{}"
    upload_to   = "oss://oss-images/up/data.raw"
    format      = "raw"
    size_gb     = 5
  }}"#,
        data.display()
    );
    rig.config(&alicloud_resource(
        &system,
        "oss://oss-images/up/sys.qcow2",
        &data_disk,
    ));
    let plan = rig.ws.plan_json();
    let disks = &planned_values(&plan)["data_disks"];
    assert_eq!(disks[0]["source_sha256"], sha_hex(&data), "{disks}");

    let apply = rig.ws.apply();
    let state = rig.state();
    assert_eq!(state["status"], "available", "{}", apply.all());
    assert_eq!(state["source_sha256"], sha_hex(&system));
    assert_eq!(state["data_disks"][0]["source_sha256"], sha_hex(&data));
    assert_eq!(rig.images("alicloud").len(), 1);
    assert_eq!(rig.object("oss-images", "up/sys.qcow2"), None);
    assert_eq!(rig.object("oss-images", "up/data.raw"), None);
    assert_eq!(rig.ws.plan_code(&[]), 0);

    flip_last_data_byte(&data, 0);
    let plan = rig.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["delete", "create"]);
    rig.ws.apply();
    let images = rig.images("alicloud");
    assert_eq!(images.len(), 1, "{images:?}");
    assert_ne!(images[0]["id"], state["id"]);
    assert_eq!(
        rig.state()["data_disks"][0]["source_sha256"],
        sha_hex(&data)
    );
    assert_eq!(rig.ws.plan_code(&[]), 0);
}

/// Storage the plan cannot read (nothing listens at `storage_endpoint`) does not fail a plan of `source_url`
/// images: the check is skipped with a logged warning (once per image; the endpoint is tried once per run), and
/// the imports go ahead (the object is in the store the simulator reads).
#[test]
fn unreadable_storage_skips_the_source_url_check() {
    let mut rig = Rig::new(&["oss-images"]);
    let client = rig.moto.client();
    rig.rt
        .block_on(client.put_object(
            "oss-images",
            "there.qcow2",
            &cloudimage::cloud::storage::PartBody::new(bytes::Bytes::from_static(b"QFI\xfb")),
            &[],
        ))
        .unwrap();
    rig.storage_endpoint = "http://127.0.0.1:1".into();
    rig.config(
        r#"
resource "cloudimage_custom_image" "web" {
  cloud      = "alicloud"
  region     = "ap-southeast-1"
  name       = "web-from-url"
  source_url = "oss://oss-images/there.qcow2"
  format     = "qcow2"
  platform   = "CentOS"
}

resource "cloudimage_custom_image" "web2" {
  cloud      = "alicloud"
  region     = "ap-southeast-1"
  name       = "web-from-url-2"
  source_url = "oss://oss-images/there.qcow2"
  format     = "qcow2"
  platform   = "CentOS"
}
"#,
    );
    // One resource after the other: the second is not sent to the endpoint the first could not reach.
    let plan = rig
        .ws
        .command(&["plan", "-no-color", "-detailed-exitcode", "-parallelism=1"])
        .env("TF_LOG_PROVIDER", "WARN")
        .output()
        .expect("terraform plan");
    let text = String::from_utf8_lossy(&plan.stderr);
    assert_eq!(plan.status.code(), Some(2), "{text}");
    assert_eq!(
        text.matches("not inspecting source_url at plan time")
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("could not be reached earlier in this run"),
        "{text}"
    );
    let apply = rig.ws.apply();
    assert_eq!(rig.state()["status"], "available", "{}", apply.all());
    assert_eq!(rig.images("alicloud").len(), 2);
}

fn spawn_apply(ws: &Workspace, log: &Path) -> Child {
    ws.command(&["apply", "-auto-approve", "-no-color"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn terraform apply")
}

fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A 48 MiB image in six 8 MiB parts, through a proxy that lets one part pass every 600 ms: the provider is killed
/// after two parts reached moto; the next apply resumes that upload and is interrupted with Ctrl-C after one more
/// part; the third resumes again and sends only the parts moto does not hold.
#[test]
fn an_upload_killed_half_way_resumes_with_the_missing_parts() {
    let mut rig = Rig::new(&["oss-images"]);
    let gate = rig.rt.block_on(PartGate::start(
        rig.moto.endpoint.clone(),
        Duration::from_millis(600),
    ));
    rig.storage_endpoint = gate.endpoint.clone();
    let mut disk = pseudo_random(48 * MIB, 7);
    disk[..512].fill(0);
    let file = disk_file(&rig.ws, "big.raw", &disk, "raw", "");
    let upload_to = "oss://oss-images/uploads/big.raw";
    rig.config(&alicloud_resource(&file, upload_to, ""));

    let log = rig.ws.dir.path().join("first-apply.log");
    let apply = spawn_apply(&rig.ws, &log);
    wait_until("two parts reached moto", 120, || gate.parts() >= 2);
    // Nothing more reaches moto from this run (requests still waiting in the proxy would otherwise arrive after the
    // kill), then the kill.
    gate.close();
    rig.ws.kill_provider(apply);
    std::thread::sleep(Duration::from_millis(700));
    let mut first = gate.take_parts();
    first.sort_unstable();
    gate.open();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("uploading the disk image"), "{text}");

    // No image was made; moto holds one unfinished upload with the parts sent before the kill.
    assert!(rig.images("alicloud").is_empty());
    let client = rig.moto.client();
    let uploads = rig
        .rt
        .block_on(client.list_multipart_uploads("oss-images", "uploads/big.raw"))
        .unwrap();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let held = rig
        .rt
        .block_on(client.list_parts("oss-images", "uploads/big.raw", &uploads[0].upload_id))
        .unwrap();
    let held: Vec<u32> = held.iter().map(|p| p.number).collect();
    assert_eq!(held, first, "moto holds what the first run sent");
    assert!((2..5).contains(&held.len()), "{held:?}");

    // Ctrl-C while the next apply resumes it: Terraform stops the provider, which says so and returns before any
    // image exists; the unfinished upload is kept (not aborted) with what this run added.
    let log = rig.ws.dir.path().join("interrupted-apply.log");
    let apply = spawn_apply(&rig.ws, &log);
    wait_until("one more part reached moto", 120, || gate.parts() >= 1);
    let ok = Command::new("kill")
        .args(["-INT", &apply.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(ok.success());
    let out = apply.wait_with_output().expect("wait for terraform");
    assert!(!out.status.success(), "the interrupted apply succeeded");
    gate.close();
    std::thread::sleep(Duration::from_millis(700));
    let during = gate.take_parts();
    gate.open();
    let text = flat(&std::fs::read_to_string(&log).unwrap());
    assert!(
        text.contains("Interrupted while uploading source_file"),
        "{text}"
    );
    assert!(rig.images("alicloud").is_empty());
    assert!(resource_in_state(&rig.ws.state_json(), ADDR).is_none());
    let uploads_now = rig
        .rt
        .block_on(client.list_multipart_uploads("oss-images", "uploads/big.raw"))
        .unwrap();
    assert_eq!(uploads_now.len(), 1, "{uploads_now:?}");
    assert_eq!(uploads_now[0].upload_id, uploads[0].upload_id);
    let held: Vec<u32> = rig
        .rt
        .block_on(client.list_parts("oss-images", "uploads/big.raw", &uploads[0].upload_id))
        .unwrap()
        .iter()
        .map(|p| p.number)
        .collect();
    let mut expected: Vec<u32> = first.iter().chain(&during).copied().collect();
    expected.sort_unstable();
    assert_eq!(held, expected, "moto holds what both runs sent");
    assert!(held.len() < 6, "the interrupt came too late: {held:?}");

    let again = rig.ws.apply();
    let mut second = gate.take_parts();
    second.sort_unstable();
    let missing: Vec<u32> = (1..=6).filter(|n| !held.contains(n)).collect();
    assert_eq!(
        second, missing,
        "the resumed apply re-sent a part moto held"
    );
    let out = again.all();
    assert!(
        out.contains(&format!(
            "resuming an unfinished upload: {} of 6 parts",
            held.len()
        )),
        "{out}"
    );
    let state = rig.state();
    assert_eq!(state["status"], "available");
    assert_eq!(state["source_sha256"], sha_hex(&file));
    assert_eq!(rig.images("alicloud").len(), 1);
    assert_eq!(rig.object("oss-images", "uploads/big.raw"), None);
    assert!(rig
        .rt
        .block_on(client.list_multipart_uploads("oss-images", "uploads/big.raw"))
        .unwrap()
        .is_empty());
}

/// `cloudimage-sim --object-store`, driven by the provider's own clients: an import of an object that is not in
/// the store fails as each cloud fails it (ECS and Apsara Stack `InvalidOSSObject.NotFound`, ECS
/// `InvalidOSSBucket.NotFound` for a missing bucket, ENS `InvalidParameter.OSSObject`; Tencent Cloud and UCloud
/// take the import and the image fails), and one of an object that is there succeeds.
#[test]
fn the_simulator_fails_imports_of_missing_objects_as_each_cloud_does() {
    use cloudimage::cloud::{
        connect, Cloud, ImageState, ImportRequest, MapEnv, Options, Param, Settings,
    };
    let rig = Rig::new(&["sim-objects", "sim-objects-1250000000"]);
    let client = rig.moto.client();
    for bucket in ["sim-objects", "sim-objects-1250000000"] {
        rig.rt
            .block_on(client.put_object(
                bucket,
                "there.qcow2",
                &cloudimage::cloud::storage::PartBody::new(bytes::Bytes::from_static(b"QFI\xfb")),
                &[],
            ))
            .expect("put object");
    }
    let key = rig.moto.credentials.access_key_id.clone();
    let secret = rig.moto.credentials.secret_access_key.expose().to_string();
    let base = rig.sim.base.clone();
    let api = |cloud: Cloud| {
        let mut s = Settings::default();
        let block = cloud.backend().block().name;
        let (id, sk, endpoints): (&str, &str, Vec<(&str, String)>) = match cloud {
            Cloud::UCloud => (
                "public_key",
                "private_key",
                vec![("endpoint", format!("{base}/ucloud"))],
            ),
            Cloud::TencentCloud => (
                "secret_id",
                "secret_key",
                vec![("endpoint", format!("{base}/tencentcloud"))],
            ),
            Cloud::ApsaraStack => (
                "access_key",
                "secret_key",
                vec![("endpoint", format!("{base}/apsarastack"))],
            ),
            _ => (
                "access_key",
                "secret_key",
                vec![
                    ("ecs_endpoint", format!("{base}/alicloud/ecs")),
                    ("ens_endpoint", format!("{base}/alicloud/ens")),
                ],
            ),
        };
        s.set(block, id, key.clone());
        s.set(block, sk, secret.clone());
        for (name, value) in endpoints {
            s.set(block, name, value);
        }
        connect(cloud, &s, &MapEnv::default(), &Default::default()).expect("client")
    };
    let request = |region: &str, url: &str| ImportRequest {
        region: region.into(),
        name: format!("img-{}", uuid::Uuid::new_v4().simple()),
        source_url: url.into(),
        options: Options::of([
            (Param::Format, "qcow2".into()),
            (Param::OsType, "linux".into()),
            (Param::Platform, "CentOS".into()),
            (Param::OsVersion, "7".into()),
            (Param::Architecture, "x86_64".into()),
        ]),
        ..ImportRequest::default()
    };
    rig.rt.block_on(async {
        for (cloud, region, code) in [
            (
                Cloud::AliCloud,
                "ap-southeast-1",
                "InvalidOSSObject.NotFound",
            ),
            (
                Cloud::ApsaraStack,
                "cn-qingdao-env17-d01",
                "InvalidOSSObject.NotFound",
            ),
            (
                Cloud::AliCloudEns,
                "cn-beijing",
                "InvalidParameter.OSSObject",
            ),
        ] {
            let e = api(cloud)
                .import(&request(region, "oss://sim-objects/missing.qcow2"))
                .await
                .expect_err("a missing object is refused");
            assert_eq!(e.code, code, "{cloud}: {e}");
            api(cloud)
                .import(&request(region, "oss://sim-objects/there.qcow2"))
                .await
                .unwrap_or_else(|e| panic!("{cloud}: {e}"));
        }
        let e = api(Cloud::AliCloud)
            .import(&request("ap-southeast-1", "oss://no-such-bucket/x.qcow2"))
            .await
            .expect_err("a missing bucket is refused");
        assert_eq!(e.code, "InvalidOSSBucket.NotFound");
        for (cloud, region, missing, there) in [
            (
                Cloud::TencentCloud,
                "ap-guangzhou",
                "https://sim-objects-1250000000.cos.ap-guangzhou.myqcloud.com/missing.qcow2",
                "https://sim-objects-1250000000.cos.ap-guangzhou.myqcloud.com/there.qcow2",
            ),
            (
                Cloud::UCloud,
                "hk",
                "https://sim-objects.hk.ufileos.com/missing.qcow2",
                "https://sim-objects.hk.ufileos.com/there.qcow2",
            ),
        ] {
            let client = api(cloud);
            let failing = client
                .import(&request(region, missing))
                .await
                .expect("taken")
                .image_id;
            let fine = client
                .import(&request(region, there))
                .await
                .expect("taken")
                .image_id;
            tokio::time::sleep(Duration::from_millis(1300)).await;
            let images = client
                .describe_images(region, &[failing.clone(), fine.clone()])
                .await
                .expect("describe");
            let state = |id: &str| images.iter().find(|i| i.id == id).map(|i| i.state);
            assert_eq!(state(&failing), Some(ImageState::Failed), "{cloud}");
            assert_eq!(state(&fine), Some(ImageState::Available), "{cloud}");
        }
    });
}
