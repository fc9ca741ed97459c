//! `terraform import` then `plan` never replaces an image: for every backend, with every optional attribute it
//! accepts set in configuration, on every Terraform version of the matrix, and by every way of importing (the CLI,
//! `import` blocks by ID, and by identity where Terraform has it). What the cloud cannot report is recorded in
//! place without an API call; what it reports in its own spelling is the same value.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use image_support::provider_block;
use serde_json::Value as Json;
use sim_support::SimProcess;
use support::{product_binary, terraform_version, Tf, Workspace};

/// One backend with every optional attribute it accepts, spelled the way users write them (which is not always
/// the cloud's spelling: ECS reports `oss://` for the `https://` URL used here, UCloud says `Linux`).
struct Full {
    cloud: &'static str,
    region: &'static str,
    attributes: &'static str,
}

const FULL: [Full; 6] = [
    Full {
        cloud: "ucloud",
        region: "cn-bj2",
        attributes: r#"
  source_url   = "https://images.cn-bj.ufileos.com/full.qcow2"
  description  = "every attribute"
  format       = "qcow2"
  os_type      = "linux"
  platform     = "CentOS"
  os_version   = "CentOS 7.9 64"
"#,
    },
    Full {
        cloud: "surfercloud",
        region: "hk",
        attributes: r#"
  source_url   = "https://images.hk.ufileos.com/full.qcow2"
  description  = "every attribute"
  format       = "vmdk"
  os_type      = "windows"
  platform     = "Windows"
  os_version   = "Windows 2019"
"#,
    },
    Full {
        cloud: "tencentcloud",
        region: "ap-guangzhou",
        attributes: r#"
  source_url   = "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/full.qcow2"
  description  = "every attribute"
  format       = "qcow2"
  os_type      = "linux"
  platform     = "CentOS"
  os_version   = "7"
  architecture = "arm64"
  boot_mode    = "UEFI"
  license_type = "BYOL"
  image_family = "web"
  force        = true
  tags         = { team = "images" }
  data_disks {
    source_url = "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/data.qcow2"
  }
"#,
    },
    Full {
        cloud: "alicloud",
        region: "cn-beijing",
        attributes: r#"
  source_url   = "https://images.oss-cn-beijing.aliyuncs.com/full.qcow2"
  description  = "every attribute"
  format       = "qcow2"
  os_type      = "linux"
  platform     = "CentOS"
  architecture = "x86_64"
  boot_mode    = "UEFI"
  license_type = "BYOL"
  role_name    = "AliyunECSImageImportDefaultRole"
  detection_strategy  = "Standard"
  nvme_support        = "supported"
  imds_support        = "v2"
  system_disk_size_gb = 40
  tags         = { team = "images" }
  data_disks {
    source_url = "oss://images/data.raw"
    format     = "raw"
    size_gb    = 50
  }
"#,
    },
    Full {
        cloud: "alicloud_ens",
        region: "cn-beijing",
        attributes: r#"
  source_url   = "oss://images/full.qcow2"
  format       = "qcow2"
  os_type      = "linux"
  platform     = "centos"
  os_version   = "7.9"
  architecture = "x86_64"
  license_type = "BYOL"
  target_oss_region_id = "cn-beijing"
  data_disks {
    source_url = "oss://images/data.qcow2"
  }
"#,
    },
    Full {
        cloud: "apsarastack",
        region: "cn-qingdao-env17-d01",
        attributes: r#"
  source_url   = "oss://images/full.qcow2"
  description  = "every attribute"
  format       = "qcow2"
  os_type      = "linux"
  platform     = "CentOS"
  architecture = "i386"
  license_type = "Auto"
  role_name    = "AliyunECSImageImportDefaultRole"
  system_disk_size_gb = 40
  data_disks {
    source_url = "oss://images/data.qcow2"
    format     = "qcow2"
  }
"#,
    },
];

fn address(f: &Full) -> String {
    format!("cloudimage_custom_image.{}", f.cloud)
}

/// Every backend's resource, named after its cloud.
fn resources() -> String {
    resources_of(&FULL)
}

fn resources_of(backends: &[Full]) -> String {
    backends
        .iter()
        .map(|f| {
            format!(
                "resource \"cloudimage_custom_image\" \"{c}\" {{\n  cloud  = \"{c}\"\n  region = \"{r}\"\n  name   = \"full-{c}\"{a}  timeouts {{\n    create = \"10m\"\n  }}\n}}\n",
                c = f.cloud,
                r = f.region,
                a = f.attributes
            )
        })
        .collect()
}

struct Run {
    sim: SimProcess,
    ws: Workspace,
    rt: tokio::runtime::Runtime,
}

impl Run {
    fn writes(&self) -> u64 {
        self.rt.block_on(self.sim.writes())
    }

    fn image_count(&self) -> usize {
        self.rt.block_on(self.sim.images()).len()
    }

    fn ids(&self) -> Vec<(String, String)> {
        let state = self.ws.state_json();
        let mut ids: Vec<(String, String)> = state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    r["instances"][0]["attributes"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        ids.sort();
        ids
    }

    fn import_cli(&self, f: &Full, ids: &[(String, String)]) {
        let id = &ids.iter().find(|(n, _)| n == f.cloud).expect("id").1;
        self.ws.ok(&[
            "import",
            "-no-color",
            &address(f),
            &format!("{}/{}/{id}", f.cloud, f.region),
        ]);
    }

    fn forget_state(&self) {
        std::fs::remove_file(self.ws.work().join("terraform.tfstate")).expect("remove state");
    }

    /// The plan after an import: nothing replaced, nothing created or deleted; changes only record configuration.
    fn assert_no_replacement(&self, how: &str) {
        let plan = self.ws.plan_json();
        for change in plan["resource_changes"].as_array().into_iter().flatten() {
            let actions = &change["change"]["actions"];
            assert!(
                *actions == serde_json::json!(["no-op"])
                    || *actions == serde_json::json!(["update"]),
                "{:?} {how}: {} plans {actions} (replace paths {}):\n{}",
                self.ws.tf,
                change["address"],
                change["change"]["replace_paths"],
                changed_attributes(change)
            );
        }
    }

    /// Applies the post-import plan: no call that changes an image, then an empty plan.
    fn assert_apply_is_state_only(&self, ids: &[(String, String)], how: &str) {
        let writes = self.writes();
        self.ws.apply();
        assert_eq!(
            self.writes(),
            writes,
            "{:?} {how}: applying the import plan called the cloud",
            self.ws.tf
        );
        assert_eq!(self.ids(), ids, "{:?} {how}: image IDs changed", self.ws.tf);
        assert_eq!(
            self.image_count(),
            FULL.len(),
            "{how}: images were added or lost"
        );
        assert_eq!(
            self.ws.plan_code(&[]),
            0,
            "{:?} {how}: plan after the import apply is not empty",
            self.ws.tf
        );
    }
}

fn changed_attributes(change: &Json) -> String {
    let before = &change["change"]["before"];
    let after = &change["change"]["after"];
    after
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| before.get(k.as_str()) != Some(v))
        .map(|(k, v)| format!("  {k}: {} -> {v}", before[k.as_str()]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn import_then_plan(tf: Tf) {
    let sim = SimProcess::start(0.5, &[]);
    let ws = Workspace::new(tf, &product_binary());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let run = Run { sim, ws, rt };
    let config = format!("{}{}", provider_block(&run.sim, None), resources());
    run.ws.write_config(&config);
    run.ws.apply();
    let ids = run.ids();
    assert_eq!(ids.len(), FULL.len());
    assert_eq!(run.ws.plan_code(&[]), 0, "plan after apply is not empty");

    // `terraform import`, one resource at a time. Terraform 0.14 (the Cloudrail build the matrix has) writes a
    // state holding only the imported resource, whatever was there before (docs/terraform-versions.md), so there
    // each backend is imported and checked in a configuration of its own.
    if tf == Tf::V0_14 {
        for f in &FULL {
            let one = format!(
                "{}{}",
                provider_block(&run.sim, None),
                resources_of(std::slice::from_ref(f))
            );
            run.ws.write_config(&one);
            run.forget_state();
            run.import_cli(f, &ids);
            run.assert_no_replacement(&format!("after terraform import of {}", f.cloud));
            let mine: Vec<(String, String)> =
                ids.iter().filter(|(n, _)| n == f.cloud).cloned().collect();
            run.assert_apply_is_state_only(&mine, &format!("terraform import of {}", f.cloud));
        }
        return;
    }
    run.forget_state();
    for f in &FULL {
        run.import_cli(f, &ids);
    }
    run.assert_no_replacement("after terraform import");
    run.assert_apply_is_state_only(&ids, "terraform import");

    // `import` blocks (Terraform 1.5+), by ID and, from 1.12, by identity.
    let version = terraform_version(tf);
    let mut block_kinds = Vec::new();
    if version >= (1, 5) {
        block_kinds.push("id");
    }
    if version >= (1, 12) {
        block_kinds.push("identity");
    }
    for kind in block_kinds {
        run.forget_state();
        let imports: String = FULL
            .iter()
            .map(|f| {
                let id = &ids.iter().find(|(n, _)| n == f.cloud).expect("id").1;
                let target = if kind == "id" {
                    format!("  id = \"{}/{}/{id}\"", f.cloud, f.region)
                } else {
                    format!(
                        "  identity = {{\n    cloud  = \"{}\"\n    region = \"{}\"\n    id     = \"{id}\"\n  }}",
                        f.cloud, f.region
                    )
                };
                format!("import {{\n  to = {}\n{target}\n}}\n", address(f))
            })
            .collect();
        run.ws.write_config(&format!("{config}{imports}"));
        run.assert_no_replacement(&format!("with import blocks by {kind}"));
        run.assert_apply_is_state_only(&ids, &format!("import blocks by {kind}"));
    }
}

#[test]
fn import_then_plan_on_the_path_terraform() {
    import_then_plan(Tf::Path);
}

#[test]
fn import_then_plan_on_terraform_1_15() {
    import_then_plan(Tf::V1_15);
}

#[test]
fn import_then_plan_on_terraform_0_14() {
    import_then_plan(Tf::V0_14);
}
