//! Finding and adopting the images an account already has (`terraform query`, Terraform 1.14+), and the provider
//! functions (Terraform 1.8+), through real Terraform against the simulator.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use std::collections::BTreeSet;

use image_support::{provider_block, Env};
use serde_json::{json, Value as Json};
use support::{product_binary, terraform_version, Tf, Workspace};

/// Puts images in the simulator; returns their ids in order.
fn seed(env: &Env, images: &[Json]) -> Vec<String> {
    let (status, body) = env
        .rt
        .block_on(env.sim.admin_post("/_sim/images", json!(images)));
    assert_eq!(status, 200, "{body}");
    body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Writes `q.tfquery.hcl` with one list block of every ECS image in cn-beijing, at most `limit`.
fn query_all_ecs(env: &Env, name: &str, limit: u32) {
    std::fs::write(
        env.ws.work().join("q.tfquery.hcl"),
        format!(
            r#"
list "cloudimage_custom_image" "{name}" {{
  provider = cloudimage
  limit    = {limit}
  config {{
    cloud   = "alicloud"
    regions = ["cn-beijing"]
  }}
}}
"#
        ),
    )
    .unwrap();
}

fn image(cloud: &str, region: &str, name: &str, team: Option<&str>) -> Json {
    let tags = team.map_or(json!({}), |t| json!({ "team": t }));
    json!({"cloud": cloud, "region": region, "name": name, "tags": tags,
           "os_type": "linux", "os_name": "CentOS 7.9", "format": "qcow2"})
}

/// The ids `terraform query -json` found per list address.
fn found(stdout: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        if v["type"] == "list_resource_found" {
            let f = &v["list_resource_found"];
            out.entry(f["address"].as_str().unwrap().to_string())
                .or_default()
                .insert(f["identity"]["id"].as_str().unwrap().to_string());
        }
    }
    out
}

const QUERY: &str = r#"
list "cloudimage_custom_image" "tencent_web" {
  provider = cloudimage
  limit    = 1000
  config {
    cloud       = "tencentcloud"
    regions     = ["ap-guangzhou", "ap-shanghai", "ap-beijing"]
    name_prefix = "web-"
    tags        = { team = "web" }
  }
}

list "cloudimage_custom_image" "ecs_web" {
  provider = cloudimage
  limit    = 1000
  config {
    cloud       = "alicloud"
    regions     = ["cn-beijing", "cn-hangzhou", "cn-shanghai"]
    name_prefix = "web-"
  }
}
"#;

/// 120 images over two clouds and three regions each; the query lists exactly those whose name starts with `web-`
/// (and, on Tencent, carry `team = web`), across ECS's 100-image pages; `-generate-config-out` then writes import
/// blocks and resources that `terraform apply` adopts with no call that changes an image, and the next plan is
/// empty.
#[test]
fn query_lists_exactly_the_matching_images_and_generated_config_adopts_them() {
    let env = Env::new(Tf::V1_15, 0.0);
    let mut seeds = Vec::new();
    let mut expected_tencent = BTreeSet::new();
    let mut expected_ecs = BTreeSet::new();
    let mut wanted: Vec<(usize, &str)> = Vec::new();
    let regions = [
        (
            "tencentcloud",
            ["ap-guangzhou", "ap-shanghai", "ap-beijing"],
        ),
        ("alicloud", ["cn-beijing", "cn-hangzhou", "cn-shanghai"]),
    ];
    for (cloud, regions) in regions {
        for (r, region) in regions.iter().enumerate() {
            // 20 per region, cn-beijing 40 more so that one region spans two pages of 100 with the decoys below.
            let n = if *region == "cn-beijing" { 60 } else { 10 };
            for i in 0..n {
                let (name, team, included) = match i % 4 {
                    0 | 1 => (format!("web-{r}-{i:03}"), Some("web"), true),
                    // Tencent also filters by tag: a web- name with another team is left out there.
                    2 => (format!("web-{r}-{i:03}"), Some("db"), cloud == "alicloud"),
                    // Contains "web-" but does not start with it: the clouds' fuzzy name filters return it.
                    _ => (format!("old-web-{r}-{i:03}"), Some("web"), false),
                };
                if included {
                    wanted.push((seeds.len(), cloud));
                }
                seeds.push(image(cloud, region, &name, team));
            }
        }
    }
    // Padding up to 120, none of which matches.
    while seeds.len() < 120 {
        seeds.push(image(
            "tencentcloud",
            "ap-guangzhou",
            &format!("db-{}", seeds.len()),
            None,
        ));
    }
    assert_eq!(seeds.len(), 120);
    let ids = seed(&env, &seeds);
    for (i, cloud) in wanted {
        if cloud == "tencentcloud" {
            expected_tencent.insert(ids[i].clone());
        } else {
            expected_ecs.insert(ids[i].clone());
        }
    }
    env.ws.write_config(&provider_block(&env.sim, None));
    std::fs::write(env.ws.work().join("images.tfquery.hcl"), QUERY).unwrap();

    let listed = env.ws.ok(&["query", "-json"]);
    let by_list = found(&listed.stdout);
    assert_eq!(
        by_list.get("list.cloudimage_custom_image.tencent_web"),
        Some(&expected_tencent),
        "{}",
        listed.stdout
    );
    assert_eq!(
        by_list.get("list.cloudimage_custom_image.ecs_web"),
        Some(&expected_ecs),
        "{}",
        listed.stdout
    );

    let generated = env
        .ws
        .ok(&["query", "-generate-config-out=generated.tf", "-no-color"]);
    let text = std::fs::read_to_string(env.ws.work().join("generated.tf")).unwrap();
    let imports = text.matches("import {").count();
    assert_eq!(
        imports,
        expected_tencent.len() + expected_ecs.len(),
        "{text}"
    );
    // Tencent does not report the object or OS version an image came from: left null, which plans nothing.
    assert!(text.contains("source_url           = null"), "{text}");
    drop(generated);

    let writes_before = env.rt.block_on(env.sim.writes());
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    let state = env.ws.state_json();
    let in_state = state["resources"].as_array().map_or(0, Vec::len);
    assert_eq!(in_state, imports);
    assert_eq!(
        env.rt.block_on(env.sim.writes()),
        writes_before,
        "an adoption changed an image"
    );
    assert_eq!(
        env.ws.plan_code(&[]),
        0,
        "the plan after adoption is not empty"
    );
}

/// `limit` stops the listing early (and the calls with it); a list of a cloud without tags refuses a tag filter.
#[test]
fn limit_and_filters_the_cloud_cannot_apply() {
    let env = Env::new(Tf::V1_15, 0.0);
    let seeds: Vec<Json> = (0..250)
        .map(|i| image("alicloud", "cn-beijing", &format!("web-{i:03}"), None))
        .collect();
    seed(&env, &seeds);
    env.ws.write_config(&provider_block(&env.sim, None));
    query_all_ecs(&env, "some", 5);
    let before = env.count("alicloud", "DescribeImages");
    let listed = env.ws.ok(&["query", "-json"]);
    let n: usize = found(&listed.stdout).values().map(BTreeSet::len).sum();
    assert_eq!(n, 5, "{}", listed.stdout);
    // 250 images are three pages; five results need one.
    assert_eq!(env.count("alicloud", "DescribeImages") - before, 1);

    // All of them, with the second page's describe throttled once: retried, nothing lost or repeated.
    query_all_ecs(&env, "all", 1000);
    let before = env.count("alicloud", "DescribeImages");
    env.faults(
        json!({"throttle": [{"cloud": "alicloud", "action": "DescribeImages", "count": 1}]}),
    );
    let listed = env.ws.ok(&["query", "-json"]);
    let all = found(&listed.stdout);
    assert_eq!(
        all.values().map(BTreeSet::len).sum::<usize>(),
        250,
        "{}",
        listed.stdout
    );
    // ceil(250 / 100) pages and the one throttled answer.
    assert_eq!(env.count("alicloud", "DescribeImages") - before, 4);

    std::fs::write(
        env.ws.work().join("q.tfquery.hcl"),
        r#"
list "cloudimage_custom_image" "ucloud" {
  provider = cloudimage
  config {
    cloud = "ucloud"
    tags  = { team = "web" }
  }
}
"#,
    )
    .unwrap();
    let refused = env.ws.run(&["query", "-no-color"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.all().contains("tags are not a filter on ucloud"),
        "{}",
        refused.all()
    );
}

/// Ctrl-C during a slow listing ends the query promptly: Terraform only sends StopProvider, and the provider ends
/// the stream itself.
#[test]
fn an_interrupted_query_ends_promptly() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let env = Env::new(Tf::V1_15, 0.0);
    let seeds: Vec<Json> = (0..300)
        .map(|i| image("alicloud", "cn-beijing", &format!("web-{i:03}"), None))
        .collect();
    seed(&env, &seeds);
    // Each page takes 20 s: the query is still listing when interrupted.
    env.faults(
        json!({"latency": [{"cloud": "alicloud", "action": "DescribeImages", "ms": 20000}]}),
    );
    env.ws.write_config(&provider_block(&env.sim, None));
    query_all_ecs(&env, "all", 1000);
    let log = env.ws.dir.path().join("query.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut query = env
        .ws
        .command(&["query", "-no-color"])
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    let started = Instant::now();
    while env.count("alicloud", "DescribeImages") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the query never listed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &query.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = loop {
        if let Some(s) = query.try_wait().unwrap() {
            break s;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(15),
            "the query did not end: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = interrupted.elapsed();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "{text}");
    // Before the page's answer (20 s): the provider did not wait for it.
    assert!(took < Duration::from_secs(10), "{took:?}: {text}");
    eprintln!("query ended {took:?} after Ctrl-C");
}

/// The listing bench (BENCHMARKS.md, `query` block): 1,000 images in one region cost ceil(1000 / 100) = 10
/// describe calls, and the wall time of the `terraform query` is printed (run with `--nocapture` to read it).
#[test]
fn listing_a_thousand_images_costs_one_call_per_page() {
    let env = Env::new(Tf::V1_15, 0.0);
    let seeds: Vec<Json> = (0..1000)
        .map(|i| image("alicloud", "cn-beijing", &format!("img-{i:04}"), None))
        .collect();
    seed(&env, &seeds);
    env.ws.write_config(&provider_block(&env.sim, None));
    query_all_ecs(&env, "all", 1000);
    let before = env.count("alicloud", "DescribeImages");
    let started = std::time::Instant::now();
    let listed = env.ws.ok(&["query", "-json"]);
    let took = started.elapsed();
    let n: usize = found(&listed.stdout).values().map(BTreeSet::len).sum();
    assert_eq!(n, 1000);
    let calls = env.count("alicloud", "DescribeImages") - before;
    assert!(calls <= 1000u64.div_ceil(100), "{calls} describe calls");
    eprintln!("BENCH query: 1000 images, {calls} DescribeImages calls, terraform query {took:?}");
}

const FUNCTIONS: &str = r#"
output "parsed" {
  value = provider::cloudimage::parse_image_id("alicloud/cn-beijing/m-0a1b2c")
}

output "cos" {
  value = provider::cloudimage::object_url("tencentcloud", "ap-guangzhou", "images-1250000000", "dir/disk #1.raw")
}

output "oss" {
  value = provider::cloudimage::object_url("alicloud", "cn-beijing", "images", "v2/disk+1.qcow2")
}
"#;

/// The functions on Terraform 1.11 (or whatever `terraform` is on PATH, 1.8 or later) and 1.15: valid calls give
/// the values, invalid ones say which argument is wrong and why.
#[test]
fn functions_give_values_and_say_what_is_wrong() {
    for tf in [Tf::Path, Tf::V1_15] {
        if terraform_version(tf) < (1, 8) {
            panic!("the terraform on PATH is older than 1.8, which has no provider functions");
        }
        let ws = Workspace::new(tf, &product_binary());
        ws.write_config(FUNCTIONS);
        ws.ok(&["apply", "-auto-approve", "-no-color"]);
        let out = ws.json(&["output", "-json"]);
        assert_eq!(
            out["parsed"]["value"],
            json!({"cloud": "alicloud", "region": "cn-beijing", "id": "m-0a1b2c"})
        );
        assert_eq!(
            out["cos"]["value"],
            "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/dir/disk%20%231.raw"
        );
        assert_eq!(out["oss"]["value"], "oss://images/v2/disk%2B1.qcow2");

        ws.write_config(
            r#"
output "bad_bucket" {
  value = provider::cloudimage::object_url("tencentcloud", "ap-guangzhou", "images", "k.raw")
}
output "bad_id" {
  value = provider::cloudimage::parse_image_id("aws/us-east-1/ami-1")
}
"#,
        );
        let bad = ws.run(&["plan", "-no-color"]);
        assert_ne!(bad.code, 0);
        let all = bad.all();
        assert!(
            all.contains("Invalid value for \"bucket\" parameter"),
            "{all}"
        );
        assert!(all.contains("ends in -<APPID>"), "{all}");
        assert!(
            all.contains("Invalid value for \"image_id\" parameter"),
            "{all}"
        );
        assert!(all.contains("unknown cloud \"aws\""), "{all}");
    }
}

/// Generated configuration leaves what the cloud cannot report null. That describes the image as it is, but a
/// new image needs it: a create without a disk image, and a change that would replace an adopted image, fail at
/// plan, before Terraform destroys anything.
#[test]
fn a_new_image_without_a_source_fails_at_plan_and_nothing_is_destroyed() {
    let env = Env::new(Tf::V1_15, 0.0);
    let ids = seed(&env, &[image("ucloud", "cn-bj2", "adopted", None)]);
    let block = |name: &str| {
        format!(
            "{}\nresource \"cloudimage_custom_image\" \"adopted\" {{\n  cloud  = \"ucloud\"\n  region = \"cn-bj2\"\n  \
             name   = \"{name}\"\n}}\n\nimport {{\n  to = cloudimage_custom_image.adopted\n  id = \"ucloud/cn-bj2/{}\"\n}}\n",
            provider_block(&env.sim, None),
            ids[0]
        )
    };
    env.ws.write_config(&block("adopted"));
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(env.ws.plan_code(&[]), 0);

    // UCloud cannot rename: the new name would replace the image, which needs a disk image.
    env.ws.write_config(&block("renamed"));
    let refused = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(refused.code, 0);
    let all = refused.all();
    assert!(all.contains("No disk image"), "{all}");
    assert!(all.contains("is required on ucloud"), "{all}");
    let left = env.images("ucloud");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["name"], "adopted");

    // A create without one fails at plan too, naming the attribute.
    env.ws.write_config(&format!(
        "{}\nresource \"cloudimage_custom_image\" \"fresh\" {{\n  cloud = \"tencentcloud\"\n  region = \"ap-guangzhou\"\n  \
         name = \"fresh\"\n}}\n",
        provider_block(&env.sim, None)
    ));
    let refused = env.ws.run(&["plan", "-no-color"]);
    assert_ne!(refused.code, 0);
    let all = refused.all();
    assert!(all.contains("No disk image"), "{all}");
    assert!(
        all.contains("platform is required on tencentcloud"),
        "{all}"
    );
}
