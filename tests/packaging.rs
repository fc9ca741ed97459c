//! `scripts/package` and `scripts/install-local`: the archive, checksums and manifest a registry takes, and a local
//! filesystem mirror that `terraform init` resolves with no network. The scripts package the debug build here
//! (`BINARY`), so no release build runs inside the tests.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use support::{product_binary, repo_root, tf_command, Tf};

/// Cargo.toml's version, which the scripts must use.
fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Terraform's name for this machine's platform, e.g. `linux_amd64`.
fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

fn script(name: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts").join(name))
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script");
    assert!(
        out.status.success(),
        "scripts/{name} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Names and Unix modes of a zip's entries (Python's zipfile: no zip crate needed for one check).
fn zip_entries(zip: &Path) -> Vec<(String, u32)> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             for i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, (i.external_attr >> 16) & 0o777)",
        )
        .arg(zip)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, mode) = l.rsplit_once(' ')?;
            Some((name.to_string(), mode.parse().ok()?))
        })
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

/// Checks the three release files in `dist` for a binary whose bytes are `content`.
fn check_release_files(dist: &Path, content: &[u8]) {
    let v = version();
    let zip = dist.join(format!(
        "terraform-provider-cloudimage_{v}_{}.zip",
        platform()
    ));
    let manifest = dist.join(format!("terraform-provider-cloudimage_{v}_manifest.json"));
    let sums = dist.join(format!("terraform-provider-cloudimage_{v}_SHA256SUMS"));

    let inner = format!("terraform-provider-cloudimage_v{v}");
    assert_eq!(zip_entries(&zip), [(inner.clone(), 0o755)]);
    let extracted = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))")
        .arg(&zip)
        .arg(&inner)
        .output()
        .expect("python3");
    assert!(
        extracted.stdout == content,
        "the zip holds the given binary"
    );

    let manifest_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(
        manifest_json,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["5.0", "6.0"]}})
    );

    let sums_text = std::fs::read_to_string(&sums).unwrap();
    let mut listed: Vec<(String, String)> = sums_text
        .lines()
        .filter_map(|l| {
            let (hash, name) = l.split_once("  ")?;
            Some((name.to_string(), hash.to_string()))
        })
        .collect();
    listed.sort();
    let mut expected = vec![
        (
            zip.file_name().unwrap().to_string_lossy().into_owned(),
            sha256_hex(&zip),
        ),
        (
            manifest.file_name().unwrap().to_string_lossy().into_owned(),
            sha256_hex(&manifest),
        ),
    ];
    expected.sort();
    assert_eq!(listed, expected, "{sums_text}");
}

/// The Python zipfile path (for machines without `zip`), on a small stand-in binary so it stays quick.
#[test]
fn package_without_zip_uses_python() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("provider");
    std::fs::write(&fake, b"#!/bin/sh\necho not really a provider\n").unwrap();
    let dist = dir.path().join("dist");
    let out = script(
        "package",
        &[
            ("BINARY", &fake),
            ("DIST_DIR", &dist),
            ("PACKAGE_PYTHON_ZIP", Path::new("1")),
        ],
    );
    // It prints the three files it made.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    check_release_files(&dist, &std::fs::read(&fake).unwrap());
}

/// install-local (which packages first) puts the binary where a filesystem mirror has it, and `terraform init`
/// installs it from there with no other installation method, then runs it.
#[test]
fn install_local_mirror_resolves_with_terraform_init() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let plugins = dir.path().join("plugins");
    let binary = product_binary();
    let out = script(
        "install-local",
        &[
            ("BINARY", &binary),
            ("DIST_DIR", &dist),
            ("PLUGIN_ROOT", &plugins),
        ],
    );
    check_release_files(&dist, &std::fs::read(&binary).unwrap());
    let installed: PathBuf = plugins
        .join("registry.terraform.io/cloudimage/cloudimage")
        .join(version())
        .join(platform())
        .join(format!("terraform-provider-cloudimage_v{}", version()));
    assert!(
        installed.is_file(),
        "{} missing; install-local said:\n{}",
        installed.display(),
        String::from_utf8_lossy(&out.stdout)
    );

    // A CLI configuration with the mirror as the only installation method: no registry, no network.
    let cli = dir.path().join("mirror.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            plugins.display()
        ),
    )
    .unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("main.tf"),
        format!(
            r#"terraform {{
  required_providers {{
    cloudimage = {{
      source  = "cloudimage/cloudimage"
      version = "{}"
    }}
  }}
}}

resource "cloudimage_custom_image" "x" {{
  cloud      = "alicloud"
  region     = "cn-beijing"
  name       = "mirror-check"
  source_url = "oss://images/x.qcow2"
  format     = "qcow2"
}}
"#,
            version()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = tf_command(Tf::Path, &work, &cli)
            .args(args)
            .output()
            .expect("terraform");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "terraform {args:?}:\n{text}");
        text
    };
    let init = run(&["init", "-no-color", "-input=false"]);
    assert!(
        init.contains(&format!(
            "Installed cloudimage/cloudimage v{} (unauthenticated)",
            version()
        )),
        "{init}"
    );
    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains("registry.terraform.io/cloudimage/cloudimage"),
        "{lock}"
    );
    // The installed binary serves: validate runs the provider's own checks.
    run(&["validate", "-no-color"]);
}
