//! Values the clouds would refuse, or should never receive, fail at `terraform validate` with the attribute they
//! belong to, before anything is imported. Each limit comes from the cloud's documentation (src/resource/limits.rs).
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use image_support::provider_block;
use sim_support::SimProcess;
use support::{product_binary, Tf, Workspace};

/// (what, the resource's cloud, extra resource attributes, attribute the error must point at, words in it).
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "a newline in a name",
        "ucloud",
        r#"name = "web\nimage""#,
        "name",
        "control characters",
    ),
    (
        "a NUL in a name",
        "tencentcloud",
        r#"name = "web\u0000""#,
        "name",
        "control characters",
    ),
    (
        "an aliyun prefix",
        "alicloud",
        r#"name = "aliyun-web""#,
        "name",
        "aliyun",
    ),
    (
        "an acs: prefix",
        "alicloud",
        r#"name = "acs:web""#,
        "name",
        "acs:",
    ),
    (
        "an empty tag key",
        "alicloud",
        r#"name = "web"
  tags = { "" = "x" }"#,
        "tags",
        "empty",
    ),
    (
        "an acs: tag key",
        "alicloud",
        r#"name = "web"
  tags = { "acs:team" = "x" }"#,
        "tags",
        "acs:",
    ),
    (
        "20 tags on ECS",
        "alicloud",
        r#"name = "web"
  tags = { for i in range(20) : "k${i}" => "v" }"#,
        "tags",
        "at most 19",
    ),
    (
        "a negative data disk size",
        "alicloud",
        r#"name = "web"
  data_disks {
    source_url = "oss://images/d.raw"
    size_gb    = -5
  }"#,
        "size_gb",
        "whole number",
    ),
    (
        "a fractional data disk size",
        "alicloud",
        r#"name = "web"
  data_disks {
    source_url = "oss://images/d.raw"
    size_gb    = 1.5
  }"#,
        "size_gb",
        "whole number",
    ),
    (
        "a huge data disk size",
        "apsarastack",
        r#"name = "web"
  data_disks {
    source_url = "oss://images/d.raw"
    size_gb    = 1e30
  }"#,
        "size_gb",
        "whole number",
    ),
    (
        "an endless timeout",
        "tencentcloud",
        r#"name = "web"
  timeouts {
    create = "99999999999999h"
  }"#,
        "create",
        "longest timeout",
    ),
    (
        "a path as a region",
        "tencentcloud",
        r#"name = "web"
  region = "../../x""#,
        "region",
        "not a region ID",
    ),
    (
        "a newline in a region",
        "alicloud_ens",
        r#"name = "web"
  region = "cn-beijing\n""#,
        "region",
        "not a region ID",
    ),
];

fn source(cloud: &str) -> &'static str {
    match cloud {
        "ucloud" => "https://images.cn-bj.ufileos.com/a.qcow2",
        "tencentcloud" => "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/a.qcow2",
        _ => "oss://images/a.qcow2",
    }
}

fn required(cloud: &str) -> &'static str {
    match cloud {
        "ucloud" => "format = \"qcow2\"\n  platform = \"CentOS\"\n  os_version = \"7\"",
        "tencentcloud" => "platform = \"CentOS\"\n  os_version = \"7\"",
        _ => "",
    }
}

/// The validate diagnostics as (summary, detail, the source line they point at).
fn diagnostics(ws: &Workspace) -> Vec<(String, String, String)> {
    let r = ws.run(&["validate", "-json", "-no-color"]);
    let text = r.stdout.trim();
    let v: serde_json::Value = serde_json::from_str(&text[text.find('{').unwrap_or(0)..])
        .unwrap_or_else(|e| panic!("validate -json printed no JSON ({e}):\n{}", r.all()));
    v["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["summary"].as_str().unwrap_or_default().to_string(),
                d["detail"].as_str().unwrap_or_default().to_string(),
                d["snippet"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn hostile_values_fail_at_validate_with_their_attribute() {
    let sim = SimProcess::start(1.0, &[]);
    let ws = Workspace::new(Tf::Path, &product_binary());
    for (what, cloud, extra, attribute, words) in CASES {
        ws.write_config(&format!(
            "{}\nresource \"cloudimage_custom_image\" \"web\" {{\n  cloud      = \"{cloud}\"\n  source_url = \"{}\"\n  {}\n  {extra}\n}}\n",
            provider_block(&sim, None),
            source(cloud),
            required(cloud),
        ));
        let found = diagnostics(&ws);
        assert!(
            found.iter().any(|(_, detail, line)| detail.contains(words)
                && line.trim_start().starts_with(attribute)),
            "{what}: no error at {attribute} saying {words:?}: {found:#?}"
        );
    }
}

#[test]
fn a_plain_http_endpoint_fails_at_validate_on_the_provider_block() {
    let ws = Workspace::new(Tf::Path, &product_binary());
    ws.write_config(
        r#"
provider "cloudimage" {
  tencentcloud {
    secret_id  = "id"
    secret_key = "key"
    endpoint   = "http://cvm.example.com"
  }
  alicloud {
    region = "cn-hangzhou/../x"
  }
}

resource "cloudimage_custom_image" "web" {
  cloud      = "tencentcloud"
  region     = "ap-guangzhou"
  name       = "web"
  source_url = "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/a.qcow2"
  platform   = "CentOS"
  os_version = "7"
}
"#,
    );
    let found = diagnostics(&ws);
    assert!(
        found
            .iter()
            .any(|(_, detail, line)| detail.contains("plain http") && line.contains("endpoint")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, detail, line)| detail.contains("not a region ID") && line.contains("region")),
        "{found:#?}"
    );
}
