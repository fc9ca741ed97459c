//! The `cloudimage_custom_image` test setup shared by the end-to-end files: the six backends' test
//! configurations, the provider block pointing every cloud at the simulator, and a simulator + workspace pair.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value as Json;

use crate::sim_support::{self, SimProcess};
use crate::support::{product_binary, resource_in_state, Tf, Workspace};

/// The resource address every single-resource test uses.
pub(crate) const ADDR: &str = "cloudimage_custom_image.web";

/// One backend's test configuration.
pub(crate) struct Backend {
    pub cloud: &'static str,
    pub region: &'static str,
    /// Attributes beyond cloud/region/name/source_url.
    pub extra: &'static str,
    /// A source URL of the right shape for this cloud; `{}` is replaced by the object name.
    pub source: &'static str,
    pub renames_in_place: bool,
}

pub(crate) const BACKENDS: [Backend; 6] = [
    Backend {
        cloud: "ucloud",
        region: "cn-bj2",
        extra: "format = \"qcow2\"\n  platform = \"CentOS\"\n  os_version = \"CentOS 7.9 64\"",
        source: "https://images.cn-bj.ufileos.com/{}.qcow2",
        renames_in_place: false,
    },
    Backend {
        cloud: "surfercloud",
        region: "hk",
        extra: "format = \"qcow2\"\n  platform = \"Ubuntu\"\n  os_version = \"Ubuntu 22.04\"",
        source: "https://images.hk.ufileos.com/{}.qcow2",
        renames_in_place: false,
    },
    Backend {
        cloud: "tencentcloud",
        region: "ap-guangzhou",
        extra: "format = \"qcow2\"\n  platform = \"CentOS\"\n  os_version = \"7\"\n  tags = { team = \"images\" }",
        source: "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/{}.qcow2",
        renames_in_place: true,
    },
    Backend {
        cloud: "alicloud",
        region: "cn-beijing",
        extra: "format = \"qcow2\"\n  platform = \"CentOS\"\n  tags = { team = \"images\" }",
        source: "oss://images/{}.qcow2",
        renames_in_place: true,
    },
    Backend {
        cloud: "alicloud_ens",
        region: "cn-beijing",
        extra: "format = \"qcow2\"\n  os_version = \"7.9\"",
        source: "oss://images/{}.qcow2",
        renames_in_place: true,
    },
    Backend {
        cloud: "apsarastack",
        region: "cn-qingdao-env17-d01",
        extra: "format = \"qcow2\"\n  platform = \"CentOS\"",
        source: "oss://images/{}.qcow2",
        renames_in_place: true,
    },
];

pub(crate) fn backend(cloud: &str) -> &'static Backend {
    BACKENDS.iter().find(|b| b.cloud == cloud).expect("backend")
}

/// The provider block pointing every cloud at the simulator, with its default credentials.
pub(crate) fn provider_block(sim: &SimProcess, secret_override: Option<(&str, &str)>) -> String {
    let secret = |cloud: &str, default: &str| -> String {
        match secret_override {
            Some((c, s)) if c == cloud => s.to_string(),
            _ => default.to_string(),
        }
    };
    format!(
        r#"
provider "cloudimage" {{
  ucloud {{
    public_key  = "{}"
    private_key = "{}"
    endpoint    = "{base}/ucloud"
  }}
  surfercloud {{
    public_key  = "{}"
    private_key = "{}"
    endpoint    = "{base}/surfercloud"
  }}
  tencentcloud {{
    secret_id  = "{}"
    secret_key = "{}"
    endpoint   = "{base}/tencentcloud"
  }}
  alicloud {{
    access_key   = "{}"
    secret_key   = "{}"
    ecs_endpoint = "{base}/alicloud/ecs"
    ens_endpoint = "{base}/alicloud/ens"
  }}
  apsarastack {{
    access_key = "{}"
    secret_key = "{}"
    endpoint   = "{base}/apsarastack"
  }}
}}
"#,
        sim_support::UCLOUD_PK,
        secret("ucloud", sim_support::UCLOUD_SK),
        sim_support::SURFER_PK,
        secret("surfercloud", sim_support::SURFER_SK),
        sim_support::TC_ID,
        secret("tencentcloud", sim_support::TC_KEY),
        sim_support::ALI_AK,
        secret("alicloud", sim_support::ALI_SK),
        sim_support::APSARA_AK,
        secret("apsarastack", sim_support::APSARA_SK),
        base = sim.base,
    )
}

pub(crate) fn resource(b: &Backend, name: &str, object: &str, extra_attrs: &str) -> String {
    format!(
        r#"
resource "cloudimage_custom_image" "web" {{
  cloud      = "{}"
  region     = "{}"
  name       = "{name}"
  source_url = "{}"
  {}
  {extra_attrs}
}}
"#,
        b.cloud,
        b.region,
        b.source.replace("{}", object),
        b.extra
    )
}

/// A simulator and a Terraform workspace wired to it.
pub(crate) struct Env {
    pub sim: SimProcess,
    pub ws: Workspace,
    pub rt: tokio::runtime::Runtime,
}

impl Env {
    pub(crate) fn new(tf: Tf, import_seconds: f64) -> Self {
        let sim = SimProcess::start(import_seconds, &[]);
        let ws = Workspace::new(tf, &product_binary());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self { sim, ws, rt }
    }

    pub(crate) fn config(&self, b: &Backend, name: &str, object: &str, extra: &str) {
        self.ws.write_config(&format!(
            "{}{}",
            provider_block(&self.sim, None),
            resource(b, name, object, extra)
        ));
    }

    pub(crate) fn images(&self, cloud: &str) -> Vec<Json> {
        self.rt
            .block_on(self.sim.images())
            .into_iter()
            .filter(|i| i["cloud"] == cloud)
            .collect()
    }

    pub(crate) fn count(&self, cloud: &str, action: &str) -> u64 {
        self.rt.block_on(self.sim.count(cloud, action))
    }

    pub(crate) fn faults(&self, spec: Json) {
        self.rt.block_on(self.sim.faults(spec));
    }

    pub(crate) fn state_attr(&self, name: &str) -> Json {
        let state = self.ws.state_json();
        resource_in_state(&state, ADDR).expect("resource in state")["values"][name].clone()
    }
}
