//! The product surface stays true: the committed docs are what the generator makes from the schema, every example
//! validates with real Terraform, the quick start imports on every cloud of the simulator (and the documented
//! identity import works), and `scripts/demo` runs to the end and stops its simulator.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod sim_support;
mod support;

#[path = "../scripts/gen_docs/render.rs"]
#[allow(dead_code)]
mod render;

use std::path::{Path, PathBuf};
use std::process::Command;

use sim_support::SimProcess;
use support::{
    copy_tree, planned_actions, product_binary, repo_root, resource_in_state, terraform,
    terraform_version, Tf, Workspace,
};

#[test]
fn committed_docs_match_the_generator() {
    let root = repo_root();
    let pages = render::render(&root).expect("render docs");
    assert!(pages.len() >= 2);
    let mut stale = Vec::new();
    for page in &pages {
        let committed = std::fs::read_to_string(root.join(&page.path)).unwrap_or_default();
        if committed != page.content {
            stale.push(page.path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "docs out of date: {stale:?}; run scripts/gen-docs and commit the result"
    );
}

#[test]
fn docs_cover_every_attribute_and_cloud() {
    let page = std::fs::read_to_string(repo_root().join("docs/resources/custom_image.md")).unwrap();
    let provider = cloudimage::resource::provider();
    let resource = &provider.resources()[0];
    for a in &resource.schema().block.attributes {
        assert!(page.contains(&format!("- `{}` (", a.name)), "{}", a.name);
    }
    for c in cloudimage::cloud::Cloud::ALL {
        assert!(page.contains(&format!("`{c}`")), "{c}");
    }
    for heading in [
        "## Example Usage",
        "## Import",
        "### Changes",
        "identity = {",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
}

/// Every directory under `examples/` holding configuration.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut has_tf = false;
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if name.ends_with(".tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("examples"), &mut out);
    out
}

/// Copies an example into a fresh workspace. Registry-style snippets (`examples/resources/...`) carry no
/// `required_providers`, which Terraform then reads as `hashicorp/cloudimage`; they get the block users would have.
fn workspace_for(tf: Tf, dir: &Path, keep: impl Fn(&str) -> bool) -> Workspace {
    let ws = Workspace::new(tf, &product_binary());
    let mut names_provider = false;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() && name.ends_with(".tf") && keep(&name) {
            let text = std::fs::read_to_string(&p).unwrap();
            names_provider |= text.contains("required_providers");
            std::fs::write(ws.work().join(&name), text).unwrap();
        }
    }
    if !names_provider {
        std::fs::write(
            ws.work().join("versions.tf"),
            format!(
                "terraform {{\n  required_providers {{\n    cloudimage = {{ source = \"{}\" }}\n  }}\n}}\n",
                support::SOURCE
            ),
        )
        .unwrap();
    }
    ws
}

#[test]
fn every_example_validates() {
    let dirs = example_dirs();
    let names: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.strip_prefix(repo_root().join("examples"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    for expected in [
        "provider",
        "resources/cloudimage_custom_image",
        "quickstart",
        "multi-cloud",
        "multi-region",
        "local-file",
        "ucloud",
        "surfercloud",
        "tencentcloud",
        "alicloud",
        "alicloud_ens",
        "apsarastack",
        "query",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "examples/{expected} missing: {names:?}"
        );
    }
    // Identity import blocks need Terraform 1.12; older PATH builds validate everything else.
    let path_has_identity = terraform_version(Tf::Path) >= (1, 12);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .flat_map(|dir| [(dir, Tf::V1_15), (dir, Tf::Path)])
            .map(|(dir, tf)| {
                s.spawn(move || {
                    let ws = workspace_for(tf, dir, |name| {
                        tf != Tf::Path || path_has_identity || name != "import-by-identity.tf"
                    });
                    let run = ws.run(&["validate", "-no-color"]);
                    (run.code != 0).then(|| format!("{} ({tf:?}):\n{}", dir.display(), run.all()))
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "examples failed validation:\n{}",
        failures.join("\n")
    );
}

#[test]
fn examples_and_suite_are_formatted() {
    for dir in ["examples", "tests/terraform"] {
        let out = Command::new(terraform(Tf::Path))
            .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
            .arg(repo_root().join(dir))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unformatted files in {dir} (run terraform fmt -recursive {dir}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const QUICKSTART: &str = "cloudimage_custom_image.quickstart";

fn quickstart(tf: Tf) -> Workspace {
    let ws = Workspace::new(tf, &product_binary());
    copy_tree(&repo_root().join("examples/quickstart"), &ws.work());
    ws
}

/// apply (image available) and plan (no changes) of the quick start on one cloud; destroy is the e2e tests' job.
fn quickstart_lifecycle(cloud: &str, endpoint: &str) -> Result<(), String> {
    let ws = quickstart(Tf::Path);
    let var = format!("cloud={cloud}");
    let vars = ["-var", var.as_str(), "-var", endpoint];
    let run = |args: &[&str], want: i32| {
        let r = ws.run(&with(args, &vars));
        if r.code == want {
            Ok(r)
        } else {
            Err(format!("{cloud} {args:?} exited {}:\n{}", r.code, r.all()))
        }
    };
    let apply = run(&["apply", "-auto-approve", "-no-color"], 0)?;
    if !apply.stdout.contains("status = \"available\"") {
        return Err(format!("{cloud}: no available status in:\n{}", apply.all()));
    }
    run(&["plan", "-detailed-exitcode", "-no-color"], 0)?;
    Ok(())
}

#[test]
fn quickstart_imports_on_every_cloud() {
    let sim = SimProcess::start(0.5, &[]);
    let endpoint = format!("sim_endpoint={}", sim.base);
    let clouds = [
        "ucloud",
        "surfercloud",
        "tencentcloud",
        "alicloud",
        "alicloud_ens",
        "apsarastack",
    ];
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = clouds
            .iter()
            .map(|cloud| {
                let endpoint = endpoint.clone();
                s.spawn(move || quickstart_lifecycle(cloud, &endpoint).err())
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop(sim);
}

/// `args` followed by `vars` (options only: positional arguments must come last).
fn with<'a>(args: &[&'a str], vars: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(vars).copied().collect()
}

/// The identity import docs/resources/custom_image.md shows (Terraform 1.12+), with the block from
/// examples/resources/cloudimage_custom_image/import-by-identity.tf: ECS reports everything the quickstart sets
/// (source_url, format and platform read back from DescribeImages), so the import plans nothing beyond the import,
/// and the plan after it is empty. (Import by ID is covered on every cloud by tests/custom_image_e2e.rs and
/// tests/import_then_plan.rs.)
#[test]
fn documented_identity_import_works() {
    let sim = SimProcess::start(0.5, &[]);
    let endpoint = format!("sim_endpoint={}", sim.base);
    let vars = ["-var", "cloud=alicloud", "-var", endpoint.as_str()];
    let ws = quickstart(Tf::V1_15);
    ws.ok(&with(&["apply", "-auto-approve", "-no-color"], &vars));
    let outputs = ws.json(&["output", "-json"]);
    let id = outputs["image_id"]["value"].as_str().unwrap().to_string();
    assert_eq!(
        outputs["import_id"]["value"],
        format!("alicloud/cn-beijing/{id}").as_str()
    );

    ws.ok(&["state", "rm", QUICKSTART]);
    let example = std::fs::read_to_string(
        repo_root().join("examples/resources/cloudimage_custom_image/import-by-identity.tf"),
    )
    .unwrap();
    let block = example
        .replace("cloudimage_custom_image.centos", QUICKSTART)
        .replace("cn-hangzhou", "cn-beijing")
        .replace("m-bp1g7004ksh0oeuco4b2", &id);
    assert!(block.contains(&id), "the example's ID was not replaced");
    std::fs::write(ws.work().join("import.tf"), block).unwrap();
    ws.ok(&with(&["plan", "-out=tfplan", "-no-color"], &vars));
    let plan = ws.json(&["show", "-json", "tfplan"]);
    assert_eq!(planned_actions(&plan, QUICKSTART), ["no-op"]);
    ws.ok(&["apply", "-auto-approve", "-no-color", "tfplan"]);
    assert_eq!(
        ws.run(&with(&["plan", "-detailed-exitcode", "-no-color"], &vars))
            .code,
        0,
        "plan after the identity import is empty"
    );
    let state = ws.state_json();
    let inst = resource_in_state(&state, QUICKSTART).expect("imported");
    assert_eq!(inst["values"]["id"], id.as_str());
    assert_eq!(
        inst["values"]["source_url"],
        "oss://images/quickstart.qcow2"
    );
}

/// The configuration README.md's quick start shows imports into the simulator and plans clean.
#[test]
fn readme_quick_start_snippet_works() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("```hcl\nterraform {")
        .expect("README has a quick start configuration");
    let body = &readme[start + "```hcl\n".len()..];
    let hcl = &body[..body.find("```").expect("closing fence")];
    assert!(hcl.contains("http://127.0.0.1:8470/"), "{hcl}");
    let sim = SimProcess::start(0.5, &[]);
    let ws = Workspace::new(Tf::Path, &product_binary());
    std::fs::write(
        ws.work().join("main.tf"),
        hcl.replace("http://127.0.0.1:8470", &sim.base),
    )
    .unwrap();
    ws.apply();
    let state = ws.state_json();
    let inst = resource_in_state(&state, QUICKSTART).expect("created");
    assert_eq!(inst["values"]["status"], "available");
    assert_eq!(ws.plan_code(&[]), 0);
}

#[test]
fn demo_runs_to_the_end_and_stops_the_simulator() {
    let bin_dir = product_binary().parent().unwrap().to_path_buf();
    let sim = PathBuf::from(env!("CARGO_BIN_EXE_cloudimage-sim"));
    assert_eq!(sim.parent().unwrap(), bin_dir);
    let run = |clouds: &str| {
        Command::new("bash")
            .arg(repo_root().join("scripts/demo"))
            .env("CLOUDIMAGE_BIN_DIR", &bin_dir)
            .env("TERRAFORM", terraform(Tf::Path))
            .env("DEMO_CLOUDS", clouds)
            .env("DEMO_IMPORT_SECONDS", "0.5")
            .env("CI", "true")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let sim_pid = |out: &str| -> u32 {
        let line = out
            .lines()
            .find(|l| l.starts_with("simulator at "))
            .unwrap_or_else(|| panic!("no simulator line:\n{out}"));
        line.rsplit("(pid ")
            .next()
            .and_then(|p| p.trim_end_matches(')').parse().ok())
            .unwrap_or_else(|| panic!("no pid in {line:?}"))
    };
    let gone = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie not yet reaped by its new parent.
        stat.is_empty() || stat.split(") ").nth(1).is_some_and(|r| r.starts_with('Z'))
    };

    // One cloud keeps the test short; the script's default runs two.
    let out = run("alicloud_ens");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "demo failed:\n{text}");
    assert!(
        text.contains("No changes. Your infrastructure matches the configuration."),
        "{text}"
    );
    assert!(
        text.contains("provider | import started; waiting for the image"),
        "{text}"
    );
    assert!(
        text.contains("Destroy complete! Resources: 1 destroyed."),
        "{text}"
    );
    assert!(!text.contains("\u{1b}["), "no colour codes with CI=true");
    assert!(gone(sim_pid(&text)), "simulator left running");

    // A failing run (the quick start rejects an unknown cloud) still stops the simulator.
    let out = run("aws");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("The cloud must be one of"), "{text}");
    assert!(
        gone(sim_pid(&text)),
        "simulator left running after a failure"
    );
}
