//! The clouds' official Python SDKs drive `cloudimage-sim` unmodified, pointed at the API root the way they address
//! the real hosts: ucloud-sdk-python3 (UCloud and SurferCloud), tencentcloud-sdk-python-cvm, alibabacloud-ecs20140526
//! (Alibaba ECS, and Apsara Stack through the standard ECS API) and alibabacloud-ens20171110. Each family imports an
//! image, describes it until usable, renames it (UCloud has no rename action), copies it to another region (ECS
//! CopyImage and CancelCopyImage, Tencent SyncImages, UCloud CopyCustomImage; ENS has no copy), deletes it and has a
//! wrong secret refused. The SDKs sign with their own code, so this checks the simulator's verification against someone else's
//! signer, and their response models check the simulator's answers.
//!
//! The SDKs live in the project venv `.venv/`, installed (pinned) by `scripts/install-test-tools`, which
//! `scripts/test` runs first.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

#[path = "sim_support/mod.rs"]
mod sim_support;

use std::path::PathBuf;
use std::process::Command;

use sim_support::SimProcess;

fn venv_python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

#[test]
fn official_python_sdks_walk_an_image_through_every_family() {
    let python = venv_python();
    let check = Command::new(&python)
        .args([
            "-c",
            "import ucloud, tencentcloud.cvm.v20170312, alibabacloud_ecs20140526, alibabacloud_ens20171110",
        ])
        .status();
    assert!(
        matches!(check, Ok(s) if s.success()),
        "the official SDKs are not in {}; run scripts/install-test-tools (scripts/test does)",
        python.display()
    );
    let sim = SimProcess::start(0.5, &[]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/official_sdks/drive.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&sim.base)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run drive.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "drive.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for family in [
        "ucloud",
        "surfercloud",
        "tencentcloud",
        "alicloud",
        "alicloud_ens",
        "apsarastack",
    ] {
        for step in [
            "import",
            "describe-until-usable",
            "delete",
            "wrong-secret-refused",
        ] {
            assert!(
                stdout.lines().any(|l| l == format!("ok {family} {step}")),
                "{family} {step} missing:\n{stdout}"
            );
        }
        if family != "alicloud_ens" {
            assert!(
                stdout.lines().any(|l| l == format!("ok {family} copy")),
                "{family} copy missing:\n{stdout}"
            );
        }
        if !family.contains("ucloud") && family != "surfercloud" {
            assert!(
                stdout.lines().any(|l| l == format!("ok {family} rename")),
                "{family} rename missing:\n{stdout}"
            );
        }
    }
    assert!(stdout.lines().any(|l| l == "all families ok"), "{stdout}");
    sim.stop();
}
