//! The rig of the `source_file` tests: a moto server (checking our signatures), `cloudimage-sim --object-store`
//! reading its objects from it, and a Terraform workspace whose provider block points every cloud at both; with
//! helpers to make disk files and read plans.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::Digest;

use crate::disk_support::convert;
use crate::s3_support::Moto;
use crate::sim_support::SimProcess;
use crate::support::{product_binary, resource_in_state, Tf, Workspace};

pub(crate) const ADDR: &str = "cloudimage_custom_image.web";
pub(crate) const MIB: usize = 1 << 20;

/// A moto server, a simulator reading its objects from it and accepting moto's key on every cloud, and a Terraform
/// workspace whose provider block gives every cloud that key, the simulator's API and moto's S3 endpoint (or a
/// proxy in front of it).
pub(crate) struct Rig {
    pub(crate) moto: Moto,
    pub(crate) sim: SimProcess,
    pub(crate) ws: Workspace,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) storage_endpoint: String,
}

impl Rig {
    pub(crate) fn new(buckets: &[&str]) -> Rig {
        Rig::with(Tf::Path, buckets)
    }

    pub(crate) fn with(tf: Tf, buckets: &[&str]) -> Rig {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let moto = Moto::start();
        let client = moto.client();
        rt.block_on(async {
            for b in buckets {
                client.create_bucket(b).await.expect("create bucket");
            }
        });
        let mut ws = Workspace::new(tf, &product_binary());
        let creds = ws.dir.path().join("sim-credentials.json");
        let pair = json!([{
            "id": moto.credentials.access_key_id,
            "secret": moto.credentials.secret_access_key.expose(),
        }]);
        std::fs::write(
            &creds,
            json!({"ucloud": pair, "tencentcloud": pair, "alicloud": pair, "apsarastack": pair})
                .to_string(),
        )
        .unwrap();
        let sim = SimProcess::start(
            1.0,
            &[
                "--credentials",
                creds.to_str().unwrap(),
                "--object-store",
                &moto.endpoint,
                "--object-store-access-key",
                &moto.credentials.access_key_id,
                "--object-store-secret-key",
                moto.credentials.secret_access_key.expose(),
            ],
        );
        // This workspace's own hash cache, and the provider's INFO lines (upload progress) on stderr.
        let cache = ws.dir.path().join("cache");
        ws.set_env("XDG_CACHE_HOME", cache.to_str().unwrap());
        ws.set_env("TF_LOG_PROVIDER", "INFO");
        let storage_endpoint = moto.endpoint.clone();
        Rig {
            moto,
            sim,
            ws,
            rt,
            storage_endpoint,
        }
    }

    pub(crate) fn provider(&self, extra: &str) -> String {
        let key = &self.moto.credentials.access_key_id;
        let secret = self.moto.credentials.secret_access_key.expose();
        let (base, storage) = (&self.sim.base, &self.storage_endpoint);
        format!(
            r#"
provider "cloudimage" {{
  ucloud {{
    public_key       = "{key}"
    private_key      = "{secret}"
    endpoint         = "{base}/ucloud"
    storage_endpoint = "{storage}"
  }}
  tencentcloud {{
    secret_id        = "{key}"
    secret_key       = "{secret}"
    endpoint         = "{base}/tencentcloud"
    storage_endpoint = "{storage}"
  }}
  alicloud {{
    access_key       = "{key}"
    secret_key       = "{secret}"
    ecs_endpoint     = "{base}/alicloud/ecs"
    storage_endpoint = "{storage}"
    {extra}
  }}
}}
"#
        )
    }

    pub(crate) fn config(&self, resource: &str) {
        self.ws
            .write_config(&format!("{}{resource}", self.provider("")));
    }

    pub(crate) fn object(&self, bucket: &str, key: &str) -> Option<u64> {
        let client = self.moto.client();
        self.rt
            .block_on(client.head_object(bucket, key))
            .expect("head object")
            .map(|i| i.size)
    }

    pub(crate) fn images(&self, cloud: &str) -> Vec<Value> {
        self.rt
            .block_on(self.sim.images())
            .into_iter()
            .filter(|i| i["cloud"] == cloud)
            .collect()
    }

    pub(crate) fn state(&self) -> Value {
        resource_in_state(&self.ws.state_json(), ADDR).expect("resource in state")["values"].clone()
    }

    /// `terraform plan` that must fail; its output with runs of white space made one space (Terraform wraps
    /// diagnostics).
    pub(crate) fn plan_fails(&self) -> String {
        let r = self.ws.run(&["plan", "-no-color"]);
        assert_ne!(r.code, 0, "plan succeeded:\n{}", r.all());
        flat(&r.all())
    }
}

/// Text with every run of white space made one space.
pub(crate) fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn sha_hex(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// A file `name` in the workspace directory holding `raw` converted to `format` (`raw` writes it as it is).
pub(crate) fn disk_file(
    ws: &Workspace,
    name: &str,
    raw: &[u8],
    format: &str,
    options: &str,
) -> PathBuf {
    let dir = ws.dir.path().join("disks");
    std::fs::create_dir_all(&dir).unwrap();
    let raw_path = dir.join(format!("{name}.source"));
    std::fs::write(&raw_path, raw).unwrap();
    let path = dir.join(name);
    if format == "raw" {
        std::fs::rename(&raw_path, &path).unwrap();
    } else {
        convert(&raw_path, &path, format, options);
        std::fs::remove_file(&raw_path).unwrap();
    }
    path
}

/// Flips the last byte of a file (guest data in every container format the tests write: a raw disk's last
/// sector, a qcow2's last data cluster, the last data sector before a fixed VHD's footer).
pub(crate) fn flip_last_data_byte(path: &Path, footer: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let at = f.metadata().unwrap().len() - footer - 1;
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[b[0] ^ 0xFF], at).unwrap();
}

pub(crate) fn planned_values(plan: &Value) -> Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["address"] == ADDR))
        .map(|c| c["change"]["after"].clone())
        .unwrap_or(Value::Null)
}

pub(crate) fn replace_paths(plan: &Value) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["address"] == ADDR))
        .and_then(|c| c["change"]["replace_paths"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|p| p.to_string())
        .collect()
}

pub(crate) fn alicloud_resource(file: &Path, upload_to: &str, extra: &str) -> String {
    alicloud_image("web", "web-from-file", file, upload_to, extra)
}

/// An Alibaba Cloud ECS image `resource` named `name`, made from `file` through `upload_to`, with `extra` lines.
pub(crate) fn alicloud_image(
    resource: &str,
    name: &str,
    file: &Path,
    upload_to: &str,
    extra: &str,
) -> String {
    format!(
        r#"
resource "cloudimage_custom_image" "{resource}" {{
  cloud       = "alicloud"
  region      = "ap-southeast-1"
  name        = "{name}"
  source_file = "{}"
  upload_to   = "{upload_to}"
  platform    = "CentOS"
  {extra}
}}
"#,
        file.display()
    )
}
