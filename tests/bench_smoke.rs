//! `scripts/bench --smoke`: the benchmark harness end to end in seconds (5 images, 3 handshakes, debug binaries),
//! so the harness cannot rot between full runs. Checks that every phase produced numbers, that describe
//! batching cut the refresh's describe calls, and that no phase got a throttled answer. The API-call budget
//! itself is guarded by tests/api_call_budget.rs.

mod support;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn bench_smoke_runs_and_batching_saves_describes() {
    let terraform = support::terraform(support::Tf::Path);
    // install-test-tools (run by `terraform`) made the venv; its python is the one the scripts are tested with.
    let python = support::repo_root().join(".venv/bin/python");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let json_path = out_dir.path().join("bench.json");
    let sim = std::env::var("CLOUDIMAGE_SIM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_cloudimage-sim")));
    let out = Command::new(&python)
        .arg(support::repo_root().join("scripts/bench"))
        .arg("--smoke")
        .arg("--provider")
        .arg(support::product_binary())
        .arg("--sim")
        .arg(&sim)
        .arg("--terraform")
        .arg(&terraform)
        .args(["--reference", "none", "--json"])
        .arg(&json_path)
        .output()
        .expect("run scripts/bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/bench --smoke failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("| measure"), "no table printed:\n{stdout}");

    let text = std::fs::read_to_string(&json_path).expect("bench.json");
    let res: serde_json::Value = serde_json::from_str(&text).expect("bench.json is JSON");
    let hs = &res["handshake"]["ours"];
    assert!(hs["handshake_ms"].as_f64().unwrap_or(0.0) > 0.0, "{hs}");
    assert!(hs["rss_bytes"].as_f64().unwrap_or(0.0) > 0.0, "{hs}");

    let apply = &res["apply"][0];
    assert_eq!(apply["n"], 5);
    assert_eq!(apply["calls"]["by_action"]["ImportImage"], 5, "{apply}");
    assert!(apply["ratio"].as_f64().unwrap_or(0.0) > 0.0);

    assert_eq!(
        apply["calls"]["throttled"], 0,
        "the client's rate limiter let a throttled answer through: {apply}"
    );

    let plan = &res["plan"][0];
    let on = plan["on"]["describe_calls"].as_u64().unwrap_or(u64::MAX);
    let off = plan["off"]["describe_calls"].as_u64().unwrap_or(0);
    assert_eq!(off, 5, "without batching every read is one call: {plan}");
    assert!(on < off, "batching saved nothing: {plan}");
    for mode in ["on", "off"] {
        assert_eq!(plan[mode]["throttled"], 0, "batching {mode}: {plan}");
    }
    assert!(
        plan["on"]["peak_rss_bytes"].as_u64().unwrap_or(0) > 0,
        "{plan}"
    );
}

/// `scripts/bench --upload --smoke`: the upload benchmark end to end with 48 MiB (moto, our debug upload tool,
/// `aws s3 cp`), so the harness cannot rot between full runs.
#[test]
fn bench_upload_smoke_runs_both_clients() {
    // install-test-tools (run by `terraform`) put moto and awscli in the venv.
    let _ = support::terraform(support::Tf::Path);
    let python = support::repo_root().join(".venv/bin/python");
    let tool = support::product_binary()
        .parent()
        .expect("binary directory")
        .join("examples/cloudimage-upload");
    assert!(
        tool.exists(),
        "{} not built; run through `cargo test`",
        tool.display()
    );
    let out_dir = tempfile::tempdir().expect("tempdir");
    let json_path = out_dir.path().join("upload.json");
    let sim = support::product_binary()
        .parent()
        .expect("binary directory")
        .join("cloudimage-sim");
    let out = Command::new(&python)
        .arg(support::repo_root().join("scripts/bench"))
        .args(["--upload", "--smoke", "--upload-tool"])
        .arg(&tool)
        .arg("--provider")
        .arg(support::product_binary())
        .arg("--sim")
        .arg(&sim)
        .arg("--terraform")
        .arg(support::terraform(support::Tf::Path))
        .arg("--json")
        .arg(&json_path)
        .output()
        .expect("run scripts/bench --upload");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/bench --upload --smoke failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("aws s3 cp"), "no table printed:\n{stdout}");
    let text = std::fs::read_to_string(&json_path).expect("upload.json");
    let res: serde_json::Value = serde_json::from_str(&text).expect("upload.json is JSON");
    for k in [
        "ours_wall_s",
        "aws_wall_s",
        "ours_peak_rss",
        "aws_peak_rss",
        "ratio",
        "ratio_md5",
        "ours_cpu_s",
        "aws_md5_cpu_s",
        "ours_md5_server_cpu_s",
        "aws_md5_server_cpu_s",
        "hash_cold_s",
    ] {
        assert!(res[k].as_f64().unwrap_or(0.0) > 0.0, "{k}: {res}");
    }
    // The unchanged file was looked up, not re-read: far below the cold hash time of the same file.
    assert!(
        res["hash_cached_ms"].as_f64().unwrap_or(f64::MAX) < 50.0,
        "{res}"
    );
    assert_eq!(res["size"], 48 << 20);
    // The provider phase: a source_file apply, then plans of the unchanged file that read nothing but a cache
    // entry and a few sectors.
    let p = &res["provider"];
    assert!(p["apply_wall_s"].as_f64().unwrap_or(0.0) > 0.0, "{p}");
    assert!(p["apply_peak_rss"].as_u64().unwrap_or(0) > 0, "{p}");
    assert_eq!(p["plans"], 2, "{p}");
    assert!(
        p["plan_examined_max_ms"].as_f64().unwrap_or(f64::MAX) < 50.0,
        "{p}"
    );
}
