//! The upload path as a hostile or careless user meets it (issue 17), through real Terraform, moto (checking our
//! signatures) and `cloudimage-sim --object-store`:
//! - `upload_to` spellings that a URL parser would read as another key are refused at validate, with the
//!   attribute's path, and the object they would have overwritten and deleted is untouched; a key with `#`, space
//!   and `+` written percent-encoded is uploaded under exactly those bytes;
//! - disks that are not whole on their own (a backing file, encryption, extent files, a differencing VHD) and files
//!   shorter than a sector fail the plan at their `source_file`, and nothing is uploaded;
//! - two images made from one file through one `upload_to` keep the object until the last import is done, and two
//!   different files for one `upload_to` fail the plan;
//! - a storage endpoint that accepts connections and never answers fails the apply within a bound, and a provider
//!   whose Terraform was killed stops;
//! - Ctrl-C stops a plan that is hashing a large file;
//! - a file changed between `plan -out` and `apply PLANFILE` uploads nothing and makes no image.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod disk_support;
mod s3_support;
mod sim_support;
mod support;
mod upload_support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloudimage::cloud::storage::PartBody;
use disk_support::{convert, luks_qcow2, qcow2_overlay, raw_disk, Layout};
use serde_json::json;
use support::Tf;
use upload_support::*;

/// Polls `done` every 100 ms for up to `secs`; fails the test naming `what` when it never holds.
fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A 4 MiB raw disk `name` in the workspace (an MBR that boots with BIOS, or a GPT for `Layout::BiosGpt`).
fn small_disk(rig: &Rig, name: &str, layout: Layout) -> std::path::PathBuf {
    disk_file(&rig.ws, name, &raw_disk(layout, 4 * MIB), "raw", "")
}

/// How many times `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn ecs_image(name: &str, file: &Path, upload_to: &str, extra: &str) -> String {
    alicloud_image(name, name, file, upload_to, extra)
}

/// Each spelling from the issue's probe is refused at validate, naming its `upload_to`; the object it would have
/// overwritten and then deleted keeps its content. A key with `#`, space and `+`, written percent-encoded, is
/// uploaded and imported under exactly its bytes.
#[test]
fn object_keys_are_kept_exactly_or_refused() {
    let rig = Rig::new(&["oss-images"]);
    let file = small_disk(&rig, "web.raw", Layout::BiosMbr);
    let client = rig.moto.client();
    let precious = b"someone else's disk".to_vec();
    rig.rt
        .block_on(client.put_object(
            "oss-images",
            "images/disk.raw",
            &PartBody::new(precious.clone().into()),
            &[],
        ))
        .unwrap();
    let probes = [
        "oss://oss-images/images/disk.raw#v2",
        "oss://oss-images/images/disk.raw?x=y",
        "oss://oss-images/images/x/../disk.raw",
        "oss://oss-images/images/%2e%2e/images/disk.raw",
        "oss://oss-images//images/disk.raw",
        "oss://oss-images/images/./disk.raw",
    ];
    let config: String = probes
        .iter()
        .enumerate()
        .map(|(i, url)| ecs_image(&format!("probe{i}"), &file, url, ""))
        .collect();
    rig.config(&config);
    let out = rig.plan_fails();
    assert_eq!(
        count(&out, "Error: Invalid upload_to"),
        probes.len(),
        "{out}"
    );
    for (i, url) in probes.iter().enumerate() {
        assert!(out.contains(url), "{url} not named: {out}");
        assert!(
            out.contains(&format!("cloudimage_custom_image.probe{i}")),
            "{out}"
        );
    }
    assert!(out.contains("write it as %23"), "{out}");
    assert!(out.contains("write it as %3F"), "{out}");

    // The exact key: `images/disk#v2 final+1.raw`, kept so it can be looked at.
    let exact = "oss://oss-images/images/disk%23v2%20final+1.raw";
    rig.config(&ecs_image(
        "web",
        &file,
        exact,
        "keep_uploaded_object = true",
    ));
    let apply = rig.ws.apply();
    assert_eq!(rig.state()["status"], "available", "{}", apply.all());
    assert_eq!(
        rig.object("oss-images", "images/disk#v2 final+1.raw"),
        Some(4 * MIB as u64)
    );
    let images = rig.images("alicloud");
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0]["source"], "oss-images/images/disk#v2 final+1.raw");
    // The object a parser would have named instead is untouched.
    let kept = rig
        .rt
        .block_on(client.get_range("oss-images", "images/disk.raw", 0, 1 << 10))
        .unwrap();
    assert_eq!(kept, precious);
    assert_eq!(rig.ws.plan_code(&[]), 0, "the next plan is empty");
}

/// Files the cloud would import as a stub fail the plan at their own `source_file`, say why and what to do; nothing
/// reaches the storage.
#[test]
fn incomplete_and_tiny_disks_fail_at_plan() {
    let rig = Rig::with(Tf::V1_15, &["oss-images"]);
    let dir = rig.ws.dir.path().join("disks");
    let raw = small_disk(&rig, "base.raw", Layout::UefiGpt);
    convert(&raw, &dir.join("base.qcow2"), "qcow2", "");
    qcow2_overlay(&dir.join("base.qcow2"), &dir.join("overlay.qcow2"));
    luks_qcow2(&dir.join("luks.qcow2"), "4M");
    convert(
        &raw,
        &dir.join("flat.vmdk"),
        "vmdk",
        "subformat=monolithicFlat",
    );
    std::fs::write(dir.join("empty.raw"), b"").unwrap();
    std::fs::write(dir.join("short.raw"), [0u8; 100]).unwrap();
    let cases = [
        ("overlay", "overlay.qcow2", "backing file"),
        ("luks", "luks.qcow2", "encrypted"),
        ("flat", "flat.vmdk", "extent files"),
        ("empty", "empty.raw", "less than one 512-byte sector"),
        ("short", "short.raw", "less than one 512-byte sector"),
    ];
    let config: String = cases
        .iter()
        .map(|(name, f, _)| ecs_image(name, &dir.join(f), &format!("oss://oss-images/up/{f}"), ""))
        .collect();
    // 80 GiB (sparse) through US3, whose S3 gateway takes 8 MiB parts and at most 10,000: refused from its size,
    // before any hashing.
    let huge = dir.join("huge.raw");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(80 << 30)
        .unwrap();
    let config = format!(
        r#"{config}
resource "cloudimage_custom_image" "huge" {{
  cloud       = "ucloud"
  region      = "hk"
  name        = "huge"
  source_file = "{}"
  upload_to   = "https://us3-images.hk.ufileos.com/up/huge.raw"
  platform    = "CentOS"
  os_version  = "CentOS 7.9 64"
}}
"#,
        huge.display()
    );
    rig.config(&config);
    let started = Instant::now();
    let out = rig.plan_fails();
    assert!(
        out.contains("source_file is too large for this object storage"),
        "{out}"
    );
    assert!(out.contains("8.00 MiB") && out.contains("10000"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "80 GiB hashed?"
    );
    for (name, f, words) in cases {
        assert!(
            out.contains(&format!("cloudimage_custom_image.{name}")),
            "{name}: {out}"
        );
        assert!(out.contains(f), "{f}: {out}");
        assert!(out.contains(words), "{words}: {out}");
    }
    assert_eq!(
        count(&out, "source_file is not a self-contained disk image"),
        3,
        "{out}"
    );
    assert!(out.contains("qemu-img convert"), "{out}");
    assert_eq!(
        count(&out, "source_file is not a readable disk image"),
        2,
        "{out}"
    );
    for (_, f, _) in cases {
        assert_eq!(rig.object("oss-images", &format!("up/{f}")), None);
    }
}

/// One file imported on two clouds of the OSS family (Alibaba Cloud ECS and Apsara Stack, one storage endpoint)
/// through one `upload_to`: the first image to become available leaves the object to the other, whose import
/// starts 3 s later and reads it until it is done (the simulator fails an import whose object disappears); the
/// last one deletes it. Two different files for one `upload_to` fail the plan.
#[test]
fn images_sharing_one_upload_to_keep_it_until_the_last_is_done() {
    let rig = Rig::new(&["shared"]);
    let file = small_disk(&rig, "web.raw", Layout::BiosMbr);
    let other = small_disk(&rig, "other.raw", Layout::BiosGpt);
    let upload_to = "oss://shared/web.raw";
    let (key, secret) = (
        &rig.moto.credentials.access_key_id,
        rig.moto.credentials.secret_access_key.expose(),
    );
    let (base, storage) = (&rig.sim.base, &rig.storage_endpoint);
    let pair = |second: &Path| {
        format!(
            r#"
provider "cloudimage" {{
  alicloud {{
    access_key       = "{key}"
    secret_key       = "{secret}"
    ecs_endpoint     = "{base}/alicloud/ecs"
    storage_endpoint = "{storage}"
  }}
  apsarastack {{
    access_key       = "{key}"
    secret_key       = "{secret}"
    endpoint         = "{base}/apsarastack"
    storage_endpoint = "{storage}"
  }}
}}

resource "cloudimage_custom_image" "ecs" {{
  cloud       = "alicloud"
  region      = "ap-southeast-1"
  name        = "shared-ecs"
  source_file = "{}"
  upload_to   = "{upload_to}"
  platform    = "CentOS"
}}

resource "cloudimage_custom_image" "apsara" {{
  cloud       = "apsarastack"
  region      = "ap-southeast-1"
  name        = "shared-apsara"
  source_file = "{}"
  upload_to   = "{upload_to}"
  platform    = "CentOS"
}}
"#,
            file.display(),
            second.display()
        )
    };
    rig.ws.write_config(&pair(&other));
    let out = rig.plan_fails();
    assert!(
        out.contains("upload_to is shared with other content"),
        "{out}"
    );
    assert_eq!(rig.object("shared", "web.raw"), None);

    rig.ws.write_config(&pair(&file));
    rig.rt.block_on(rig.sim.faults(json!({
        "latency": [{"cloud": "apsarastack", "action": "ImportImage", "ms": 3000}]
    })));
    let apply = rig.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    for cloud in ["alicloud", "apsarastack"] {
        let images = rig.images(cloud);
        assert_eq!(images.len(), 1, "{cloud}: {images:?}");
        assert_eq!(images[0]["phase"], "available", "{cloud}: {images:?}");
    }
    assert!(
        apply.all().contains("another image of this run uses it"),
        "{}",
        apply.all()
    );
    assert_eq!(
        rig.object("shared", "web.raw"),
        None,
        "the last image deletes it"
    );
    assert_eq!(rig.ws.plan_code(&[]), 0);
}

/// A TCP server that accepts connections and never answers; holds them until dropped.
struct Silent {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Silent {
    fn start() -> Silent {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
        });
        Silent { url, accepted }
    }
}

/// Storage that accepts connections and never answers: a provider whose Terraform is killed stops within
/// seconds; an apply fails within 75 s (before, 4 x 60 s), saying the request timed out, and makes no image.
#[test]
fn silent_storage_fails_fast_and_a_killed_terraform_stops_its_provider() {
    let mut rig = Rig::new(&[]);
    let silent = Silent::start();
    rig.storage_endpoint = silent.url.clone();
    let file = small_disk(&rig, "web.raw", Layout::BiosMbr);
    rig.config(&ecs_image("web", &file, "oss://oss-images/up/web.raw", ""));

    let mut apply = rig
        .ws
        .command(&["apply", "-auto-approve", "-no-color"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the provider to reach the storage", 60, || {
        silent.accepted.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    let providers = rig.ws.provider_pids();
    assert!(!providers.is_empty());
    apply.kill().unwrap();
    let _ = apply.wait();
    let killed = Instant::now();
    wait_until("the orphaned provider to exit", 10, || {
        providers
            .iter()
            .all(|pid| !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(*pid))
    });
    eprintln!("provider gone {:?} after Terraform", killed.elapsed());

    let started = Instant::now();
    let r = rig.ws.run(&["apply", "-auto-approve", "-no-color"]);
    let took = started.elapsed();
    assert_ne!(r.code, 0, "{}", r.all());
    let out = flat(&r.all());
    assert!(out.contains("Uploading source_file"), "{out}");
    assert!(out.contains("timed out"), "{out}");
    assert!(took < Duration::from_secs(75), "took {took:?}: {out}");
    eprintln!("apply against silent storage failed after {took:?}");
    assert!(rig.images("alicloud").is_empty());
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Ctrl-C while the plan hashes a 64 GiB sparse file: the plan ends within seconds (before, it hashed on for a
/// minute and more).
#[test]
fn ctrl_c_stops_a_plan_that_is_hashing() {
    let rig = Rig::new(&["oss-images"]);
    let dir = rig.ws.dir.path().join("disks");
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.raw");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    rig.config(&ecs_image("web", &big, "oss://oss-images/up/big.raw", ""));
    let log = rig.ws.dir.path().join("plan.log");
    let out_file = std::fs::File::create(&log).unwrap();
    let mut plan = rig
        .ws
        .command(&["plan", "-no-color"])
        .stdout(Stdio::from(out_file.try_clone().unwrap()))
        .stderr(Stdio::from(out_file))
        .spawn()
        .unwrap();
    wait_until("the provider to start", 60, || {
        !rig.ws.provider_pids().is_empty()
    });
    // Let the hash get going.
    std::thread::sleep(Duration::from_secs(2));
    let interrupted = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &plan.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut status = None;
    wait_until("the plan to end after Ctrl-C", 15, || {
        status = plan.try_wait().unwrap();
        status.is_some()
    });
    let took = interrupted.elapsed();
    assert!(
        !status.unwrap().success(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    let out = flat(&std::fs::read_to_string(&log).unwrap());
    assert!(
        out.contains("Interrupted while reading the disk images"),
        "{out}"
    );
    eprintln!("plan ended {took:?} after Ctrl-C");
}

/// `plan -out`, then the file changes, then `apply PLANFILE`: the apply fails (Terraform before 1.16 reports the
/// provider's final plan as inconsistent; 1.16 hands the plan's private data back and the provider says "source_file
/// changed since the plan"), nothing is uploaded and no image is made.
#[test]
fn a_file_changed_after_a_saved_plan_is_never_uploaded() {
    let rig = Rig::new(&["oss-images"]);
    let file = small_disk(&rig, "web.raw", Layout::BiosMbr);
    rig.config(&ecs_image("web", &file, "oss://oss-images/up/web.raw", ""));
    rig.ws.ok(&["plan", "-out", "saved.tfplan", "-no-color"]);
    flip_last_data_byte(&file, 0);
    let r = rig.ws.run(&["apply", "-no-color", "saved.tfplan"]);
    assert_ne!(r.code, 0, "{}", r.all());
    let out = flat(&r.all());
    assert!(
        out.contains("source_sha256") || out.contains("source_file changed since the plan"),
        "{out}"
    );
    assert_eq!(rig.object("oss-images", "up/web.raw"), None);
    assert!(rig.images("alicloud").is_empty());
}

/// UCloud imports read a private (signed) `UFileUrl`: the simulator checks its signature and expiry as US3 would
/// before the import's download, so a forged or expired URL fails the image and a rightly signed one does not.
#[test]
fn ucloud_private_urls_are_checked() {
    use cloudimage::cloud::ucloud::private_url;
    use cloudimage::cloud::Secret;
    let rig = Rig::new(&["us3-images"]);
    let client = rig.moto.client();
    rig.rt
        .block_on(client.put_object(
            "us3-images",
            "up/a b.qcow2",
            &PartBody::new(vec![0u8; 4096].into()),
            &[],
        ))
        .unwrap();
    let (pk, sk) = (
        rig.moto.credentials.access_key_id.clone(),
        rig.moto.credentials.secret_access_key.expose().to_string(),
    );
    let base = "https://us3-images.hk.ufileos.com/up/a%20b.qcow2";
    let now = sim_support::now_secs();
    let good = private_url::sign(
        base,
        "us3-images",
        "up/a b.qcow2",
        &pk,
        &Secret::new(sk.as_str()),
        now + 3600,
    );
    let forged = private_url::sign(
        base,
        "us3-images",
        "up/a b.qcow2",
        &pk,
        &Secret::new("not the key"),
        now + 3600,
    );
    let expired = private_url::sign(
        base,
        "us3-images",
        "up/a b.qcow2",
        &pk,
        &Secret::new(sk.as_str()),
        now - 60,
    );
    let phases: Vec<String> = rig.rt.block_on(async {
        let mut ids = Vec::new();
        for (name, url) in [("good", &good), ("forged", &forged), ("expired", &expired)] {
            let v = sim_support::ucloud_call(
                &rig.sim,
                "/ucloud",
                &pk,
                &sk,
                &[
                    ("Action", "ImportCustomImage"),
                    ("Region", "hk"),
                    ("ImageName", name),
                    ("UFileUrl", url),
                    ("OsType", "CentOS"),
                    ("OsName", "CentOS 7.9 64"),
                    ("Format", "qcow2"),
                    ("Auth", "true"),
                ],
            )
            .await;
            assert_eq!(v["RetCode"], 0, "{name}: {v}");
            ids.push(v["ImageId"].as_str().unwrap().to_string());
        }
        sim_support::poll(20, || async {
            let images = rig.sim.images().await;
            let phase = |id: &str| {
                images
                    .iter()
                    .find(|i| i["id"] == id)
                    .map(|i| i["phase"].as_str().unwrap_or("").to_string())
            };
            let all: Vec<String> = ids.iter().filter_map(|id| phase(id)).collect();
            (all.len() == 3 && all.iter().all(|p| p != "importing")).then_some(all)
        })
        .await
    });
    assert_eq!(phases, ["available", "failed", "failed"]);
    // The simulator keeps the object, never the signature.
    let images = rig.rt.block_on(rig.sim.images());
    assert!(images.iter().all(|i| i["source"] == base), "{images:?}");
}

/// `aws s3api put-object` against moto with extra arguments (storage class, encryption), as a user's own tools
/// would store an object.
fn aws_put(rig: &Rig, bucket: &str, key: &str, body: &Path, extra: &[&str]) {
    let status = std::process::Command::new(s3_support::venv_bin("aws"))
        .args([
            "s3api",
            "put-object",
            "--endpoint-url",
            &rig.moto.endpoint,
            "--bucket",
            bucket,
            "--key",
            key,
            "--body",
            body.to_str().unwrap(),
        ])
        .args(extra)
        .envs(rig.moto.env())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "aws s3api put-object {key}");
}

/// Objects ECS documents as import failures fail the plan at their `source_url` (the plan reads their headers and
/// first sectors): Archive storage class (`InvalidOSSObject.NeedRestore`), encryption at rest
/// (`InvalidOSSBucket.EncryptUnsupported`), an empty object (`InvalidOSSObject.Size`), a fixed VHD whose footer
/// disagrees with its size (`InvalidVHDImage.IncorrectSize`). Unchecked, the simulator refuses the first two as ECS
/// does.
#[test]
fn objects_ecs_cannot_import_fail_at_plan() {
    let rig = Rig::new(&["oss-images"]);
    let dir = rig.ws.dir.path().join("disks");
    let good = disk_file(
        &rig.ws,
        "good.qcow2",
        &raw_disk(Layout::BiosMbr, 4 * MIB),
        "qcow2",
        "",
    );
    let vhd = disk_file(
        &rig.ws,
        "fixed.vhd",
        &raw_disk(Layout::BiosMbr, 4 * MIB),
        "vpc",
        "subformat=fixed,force_size=on",
    );
    // 4 KiB more guest bytes than the footer says.
    let mut bytes = std::fs::read(&vhd).unwrap();
    let footer = bytes.split_off(bytes.len() - 512);
    bytes.extend(vec![0u8; 4096]);
    bytes.extend(footer);
    std::fs::write(dir.join("resized.vhd"), bytes).unwrap();
    std::fs::write(dir.join("empty.raw"), b"").unwrap();
    aws_put(
        &rig,
        "oss-images",
        "archived.qcow2",
        &good,
        &["--storage-class", "GLACIER"],
    );
    aws_put(
        &rig,
        "oss-images",
        "encrypted.qcow2",
        &good,
        &["--server-side-encryption", "AES256"],
    );
    aws_put(&rig, "oss-images", "empty.raw", &dir.join("empty.raw"), &[]);
    aws_put(
        &rig,
        "oss-images",
        "resized.vhd",
        &dir.join("resized.vhd"),
        &[],
    );
    let image = |name: &str, key: &str| {
        format!(
            r#"
resource "cloudimage_custom_image" "{name}" {{
  cloud      = "alicloud"
  region     = "ap-southeast-1"
  name       = "{name}"
  source_url = "oss://oss-images/{key}"
  platform   = "CentOS"
}}
"#
        )
    };
    let cases = [
        ("archived", "archived.qcow2", "InvalidOSSObject.NeedRestore"),
        (
            "encrypted",
            "encrypted.qcow2",
            "InvalidOSSBucket.EncryptUnsupported",
        ),
        ("empty", "empty.raw", "less than one 512-byte sector"),
        ("resized", "resized.vhd", "bytes precede the footer"),
    ];
    let config: String = cases.iter().map(|(n, k, _)| image(n, k)).collect();
    rig.config(&config);
    let out = rig.plan_fails();
    for (name, key, words) in cases {
        assert!(
            out.contains(&format!("cloudimage_custom_image.{name}")),
            "{name}: {out}"
        );
        assert!(
            out.contains(key) && out.contains(words),
            "{name}: {words}: {out}"
        );
    }
    // Unchecked at plan, ECS (the simulator) refuses the archived and the encrypted object.
    rig.ws.write_config(&format!(
        "{}{}{}",
        rig.provider("inspect_source_url = false"),
        image("archived", "archived.qcow2"),
        image("encrypted", "encrypted.qcow2")
    ));
    let r = rig.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(r.code, 0);
    let out = flat(&r.all());
    assert!(out.contains("InvalidOSSObject.NeedRestore"), "{out}");
    assert!(out.contains("InvalidOSSBucket.EncryptUnsupported"), "{out}");
    assert!(rig.images("alicloud").is_empty());
}

/// A server that answers every request as OSS answers accounts barred from its public endpoint.
fn public_endpoint_forbidden() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PublicEndpointForbidden</Code>\
                        <Message>Not allowed using the OSS public endpoint.</Message>\
                        <RequestId>5F0000000000000000000001</RequestId><EC>0048-00000401</EC></Error>";
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\nx-oss-ec: 0048-00000401\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// OSS's answer to accounts that may not use its public endpoint names the fix: a custom domain as
/// `storage_endpoint`.
#[test]
fn public_endpoint_forbidden_names_the_fix() {
    let mut rig = Rig::new(&[]);
    rig.storage_endpoint = public_endpoint_forbidden();
    let file = small_disk(&rig, "web.raw", Layout::BiosMbr);
    rig.config(&ecs_image("web", &file, "oss://oss-images/up/web.raw", ""));
    let r = rig.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(r.code, 0);
    let out = flat(&r.all());
    assert!(out.contains("0048-00000401"), "{out}");
    assert!(out.contains("Bind a custom domain to the bucket"), "{out}");
    assert!(out.contains("alicloud.storage_endpoint"), "{out}");
}
