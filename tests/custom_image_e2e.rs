//! `cloudimage_custom_image` end to end: the product binary driven by real Terraform against `cloudimage-sim`, on
//! every backend. Results are checked in Terraform's state and plans and in the simulator's records, not in logs.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use image_support::{backend, provider_block, resource, Env, ADDR};
use support::{planned_actions, product_binary, resource_in_state, Tf, Workspace};

/// The lifecycle every backend must pass.
fn lifecycle(tf: Tf, cloud: &str) {
    let b = backend(cloud);
    let env = Env::new(tf, 1.0);
    let ws = &env.ws;

    env.config(b, "web-image", "web", "");
    ws.ok(&["validate", "-no-color"]);
    ws.apply();
    let id = env.state_attr("id").as_str().expect("id").to_string();
    assert_eq!(env.state_attr("status"), "available");
    let listed = env.images(cloud);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str());

    // Nothing to do, in a normal plan and in a refresh-only plan.
    assert_eq!(
        ws.plan_code(&[]),
        0,
        "plan after apply should be empty ({cloud})"
    );
    if tf != Tf::V0_14 {
        assert_eq!(ws.refresh_only_drift(), 0);
    }

    // Rename: in place where the cloud can, replacement where it cannot.
    env.config(b, "web-image-2", "web", "");
    let actions = planned_actions(&ws.plan_json(), ADDR);
    if b.renames_in_place {
        assert_eq!(actions, ["update"], "{cloud}");
    } else {
        assert_eq!(actions, ["delete", "create"], "{cloud}");
    }
    ws.apply();
    assert_eq!(env.state_attr("name"), "web-image-2");
    assert_eq!(
        ws.plan_code(&[]),
        0,
        "plan after rename should be empty ({cloud})"
    );
    let id = env.state_attr("id").as_str().unwrap().to_string();

    // A new source means a new image.
    env.config(b, "web-image-2", "web-v2", "");
    assert_eq!(
        planned_actions(&ws.plan_json(), ADDR),
        ["delete", "create"],
        "{cloud}"
    );
    env.config(b, "web-image-2", "web", "");

    // Import into a fresh state: the cloud-reported attributes match; what clouds cannot report comes from
    // configuration in a state-only update that makes no API call.
    std::fs::remove_file(ws.work().join("terraform.tfstate")).unwrap();
    let import_id = format!("{cloud}/{}/{id}", b.region);
    ws.ok(&["import", "-no-color", ADDR, &import_id]);
    assert_eq!(env.state_attr("id"), id.as_str());
    assert_eq!(env.state_attr("name"), "web-image-2");
    let plan = ws.plan_json();
    let actions = planned_actions(&plan, ADDR);
    assert!(
        actions.is_empty() || actions == ["update"] || actions == ["no-op"],
        "{cloud}: {actions:?}"
    );
    if actions == ["update"] {
        let change = plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == ADDR)
            .unwrap();
        let before = change["change"]["before"].as_object().unwrap();
        let after = change["change"]["after"].as_object().unwrap();
        for (k, v) in after {
            if before.get(k) != Some(v) {
                assert!(
                    [
                        "source_url",
                        "format",
                        "platform",
                        "os_version",
                        "boot_mode",
                        "license_type",
                        "data_disks",
                        "timeouts"
                    ]
                    .contains(&k.as_str()),
                    "{cloud}: import plan changes {k}: {:?} -> {v}",
                    before.get(k)
                );
            }
        }
        let modifies_before = env.count(cloud, "ModifyImageAttribute");
        ws.apply();
        assert_eq!(
            env.count(cloud, "ModifyImageAttribute"),
            modifies_before,
            "state-only update called the cloud"
        );
    }
    assert_eq!(
        ws.plan_code(&[]),
        0,
        "plan after import should be empty ({cloud})"
    );
    assert_eq!(env.state_attr("id"), id.as_str());

    // Destroy leaves nothing behind.
    ws.destroy();
    assert!(
        env.images(cloud).is_empty(),
        "{cloud}: images left after destroy: {:?}",
        env.images(cloud)
    );
}

macro_rules! matrix {
    ($($name:ident: $tf:expr, $cloud:expr;)*) => {
        $(
            #[test]
            fn $name() {
                lifecycle($tf, $cloud);
            }
        )*
    };
}

matrix! {
    path_ucloud: Tf::Path, "ucloud";
    path_surfercloud: Tf::Path, "surfercloud";
    path_tencentcloud: Tf::Path, "tencentcloud";
    path_alicloud: Tf::Path, "alicloud";
    path_alicloud_ens: Tf::Path, "alicloud_ens";
    path_apsarastack: Tf::Path, "apsarastack";
    tf115_ucloud: Tf::V1_15, "ucloud";
    tf115_surfercloud: Tf::V1_15, "surfercloud";
    tf115_tencentcloud: Tf::V1_15, "tencentcloud";
    tf115_alicloud: Tf::V1_15, "alicloud";
    tf115_alicloud_ens: Tf::V1_15, "alicloud_ens";
    tf115_apsarastack: Tf::V1_15, "apsarastack";
    tf014_tencentcloud: Tf::V0_14, "tencentcloud";
}

#[test]
fn failed_import_is_tainted_with_the_clouds_reason() {
    for cloud in ["tencentcloud", "alicloud"] {
        let b = backend(cloud);
        let env = Env::new(Tf::V1_15, 1.0);
        env.config(b, "broken-image", "fail-disk", "");
        let run = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
        assert_ne!(run.code, 0);
        let out = run.all();
        assert!(out.contains("could not import image"), "{out}");
        assert!(
            out.to_lowercase().contains("failed\""),
            "the cloud's state word is in the message: {out}"
        );
        let state = env.ws.state_json();
        let inst = resource_in_state(&state, ADDR).expect("failed image kept in state");
        assert_eq!(inst["tainted"], true);
        assert_eq!(inst["values"]["status"], "failed");
        // The next plan replaces it.
        assert_eq!(
            planned_actions(&env.ws.plan_json(), ADDR),
            ["delete", "create"]
        );
    }
}

#[test]
fn image_deleted_outside_terraform_is_recreated() {
    let b = backend("alicloud_ens");
    let env = Env::new(Tf::Path, 1.0);
    env.config(b, "edge-image", "edge", "");
    env.ws.apply();
    let id = env.state_attr("id").as_str().unwrap().to_string();
    let url = env
        .sim
        .url(&format!("/_sim/images/alicloud_ens/{}/{id}", b.region));
    let status = env
        .rt
        .block_on(async { env.sim.http().delete(url).send().await.unwrap().status() });
    assert!(status.is_success(), "{status}");
    assert_eq!(planned_actions(&env.ws.plan_json(), ADDR), ["create"]);
    env.ws.apply();
    assert_ne!(env.state_attr("id"), id.as_str());
}

#[test]
fn timeout_shorter_than_the_import_taints_and_the_next_apply_replaces() {
    let b = backend("alicloud");
    let env = Env::new(Tf::V1_15, 6.0);
    env.config(
        b,
        "slow-image",
        "slow",
        "timeouts {\n    create = \"2s\"\n  }",
    );
    let run = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(run.code, 0);
    assert!(run.all().contains("Timed out waiting"), "{}", run.all());
    let state = env.ws.state_json();
    let inst = resource_in_state(&state, ADDR).expect("partial state kept");
    assert_eq!(inst["tainted"], true);
    let first = inst["values"]["id"].as_str().unwrap().to_string();
    assert!(first.starts_with("m-"));
    // Let the slow import finish so the replacement can delete it, then apply with a longer timeout.
    std::thread::sleep(std::time::Duration::from_secs(5));
    env.config(
        b,
        "slow-image",
        "slow",
        "timeouts {\n    create = \"2m\"\n  }",
    );
    assert_eq!(
        planned_actions(&env.ws.plan_json(), ADDR),
        ["delete", "create"]
    );
    env.ws.apply();
    assert_ne!(env.state_attr("id"), first.as_str());
    assert_eq!(env.images("alicloud").len(), 1);
}

#[test]
fn throttling_is_retried() {
    let b = backend("tencentcloud");
    let env = Env::new(Tf::Path, 1.0);
    env.faults(serde_json::json!({"throttle": [{"cloud": "tencentcloud", "count": 3}]}));
    env.config(b, "busy-image", "busy", "");
    env.ws.apply();
    assert_eq!(env.state_attr("status"), "available");
    let log = env.rt.block_on(env.sim.admin_get("/_sim/requests"));
    let throttled = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "throttled")
        .count();
    assert_eq!(throttled, 3);
}

#[test]
fn wrong_secret_names_the_cloud() {
    let b = backend("alicloud");
    let env = Env::new(Tf::Path, 1.0);
    env.ws.write_config(&format!(
        "{}{}",
        provider_block(&env.sim, Some(("alicloud", "not-the-secret"))),
        resource(b, "web-image", "web", "")
    ));
    let run = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(run.code, 0);
    let out = run.all();
    assert!(out.contains("alicloud"), "{out}");
    assert!(out.contains("SignatureDoesNotMatch"), "{out}");
    assert!(out.contains("credentials were rejected"), "{out}");
    assert!(
        !out.contains("not-the-secret"),
        "the secret must not be printed"
    );
}

#[test]
fn missing_credentials_fail_at_plan_with_the_variables_to_set() {
    let env = Env::new(Tf::Path, 1.0);
    let b = backend("tencentcloud");
    let mut ws = Workspace::new(Tf::Path, &product_binary());
    let home = ws.dir.path().to_str().unwrap().to_string();
    ws.set_env("HOME", &home);
    for k in [
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_REGION",
    ] {
        ws.set_env(k, "");
    }
    ws.write_config(&format!(
        "provider \"cloudimage\" {{}}\n{}",
        resource(b, "x", "x", "")
    ));
    let run = ws.run(&["plan", "-no-color"]);
    assert_ne!(run.code, 0);
    let out = run.all();
    assert!(out.contains("TENCENTCLOUD_SECRET_ID"), "{out}");
    drop(env);
}

#[test]
fn name_collision_says_how_to_import() {
    let b = backend("tencentcloud");
    let env = Env::new(Tf::Path, 1.0);
    env.config(b, "shared-name", "one", "");
    env.ws.apply();
    let id = env.state_attr("id").as_str().unwrap().to_string();
    // A second configuration wants the same name.
    let other = Workspace::new(Tf::Path, &product_binary());
    other.write_config(&format!(
        "{}{}",
        provider_block(&env.sim, None),
        resource(b, "shared-name", "two", "")
    ));
    let run = other.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(run.code, 0);
    let out = run.all();
    assert!(out.contains(&id), "the existing image is named: {out}");
    assert!(out.contains("terraform import"), "{out}");
}

#[test]
fn progress_is_logged_for_tf_log_and_secrets_are_not() {
    let b = backend("alicloud");
    let mut env = Env::new(Tf::Path, 1.0);
    let log = env.ws.dir.path().join("tf.log");
    env.ws.set_env("TF_LOG", "trace");
    env.ws.set_env("TF_LOG_PATH", log.to_str().unwrap());
    env.config(b, "logged-image", "logged", "");
    env.ws.apply();
    let text = std::fs::read_to_string(&log).unwrap();
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-cloudimage:"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.contains("[INFO]") && l.contains("import started")),
        "no progress lines"
    );
    assert!(
        ours.iter()
            .any(|l| l.contains("[INFO]") && l.contains("Available")),
        "no state change line"
    );
    for secret in [
        sim_support::ALI_SK,
        sim_support::TC_KEY,
        sim_support::UCLOUD_SK,
        sim_support::APSARA_SK,
    ] {
        assert!(!text.contains(secret), "a secret reached the log");
    }
    // Libraries stay quiet even at trace: no per-frame HTTP/2 lines.
    assert!(
        !ours.iter().any(|l| l.contains("h2::")),
        "h2 frame logging leaked"
    );
}

/// Ctrl-C during a long import: Terraform sends StopProvider, the provider stops waiting and returns the image it
/// already has, so state keeps it (tainted) instead of orphaning it.
#[test]
fn interrupt_during_import_keeps_the_image_in_state() {
    let b = backend("tencentcloud");
    let env = Env::new(Tf::Path, 60.0);
    env.config(b, "long-import", "long", "");
    let child = env
        .ws
        .command(&["apply", "-auto-approve", "-no-color"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while env.images("tencentcloud").is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "import never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "Terraform did not stop promptly"
    );
    assert_ne!(out.status.code(), Some(0));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Interrupted while waiting"), "{text}");
    let state = env.ws.state_json();
    let inst = resource_in_state(&state, ADDR).expect("interrupted create kept in state");
    assert_eq!(inst["tainted"], true);
    let listed = env.images("tencentcloud");
    assert_eq!(inst["values"]["id"], listed[0]["id"]);
}

#[test]
fn alibaba_tags_change_in_place_and_tencent_tags_replace() {
    let env = Env::new(Tf::Path, 1.0);
    let ali = backend("alicloud");
    env.config(ali, "tagged", "tagged", "");
    env.ws.apply();
    let id = env.state_attr("id");
    let text = std::fs::read_to_string(env.ws.work().join("main.tf")).unwrap();
    std::fs::write(
        env.ws.work().join("main.tf"),
        text.replace("team = \"images\"", "team = \"platform\""),
    )
    .unwrap();
    assert_eq!(planned_actions(&env.ws.plan_json(), ADDR), ["update"]);
    env.ws.apply();
    assert_eq!(env.state_attr("id"), id);
    assert_eq!(env.state_attr("tags")["team"], "platform");
    assert_eq!(env.ws.plan_code(&[]), 0);
    assert!(
        env.count("alicloud", "TagResources") >= 1,
        "tags were changed through the cloud's tag API"
    );

    let tc = backend("tencentcloud");
    env.config(tc, "tagged", "tagged", "");
    env.ws.apply();
    let text = std::fs::read_to_string(env.ws.work().join("main.tf")).unwrap();
    std::fs::write(
        env.ws.work().join("main.tf"),
        text.replace("team = \"images\"", "team = \"platform\""),
    )
    .unwrap();
    assert_eq!(
        planned_actions(&env.ws.plan_json(), ADDR),
        ["delete", "create"]
    );
}

/// Terraform 1.12+ `import` blocks, by ID string and by resource identity.
#[test]
fn import_blocks_by_id_and_by_identity() {
    let b = backend("apsarastack");
    let env = Env::new(Tf::V1_15, 1.0);
    env.config(b, "stack-image", "stack", "");
    env.ws.apply();
    let id = env.state_attr("id").as_str().unwrap().to_string();
    for import in [
        format!("import {{\n  to = {ADDR}\n  id = \"apsarastack/{}/{id}\"\n}}\n", b.region),
        format!(
            "import {{\n  to = {ADDR}\n  identity = {{\n    cloud = \"apsarastack\"\n    region = \"{}\"\n    id = \"{id}\"\n  }}\n}}\n",
            b.region
        ),
    ] {
        std::fs::remove_file(env.ws.work().join("terraform.tfstate")).unwrap();
        let config = format!("{}{}{import}", provider_block(&env.sim, None), resource(b, "stack-image", "stack", ""));
        env.ws.write_config(&config);
        let plan = env.ws.plan_json();
        let change = plan["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == ADDR).unwrap().clone();
        assert!(change["change"]["importing"].is_object(), "{change}");
        assert_ne!(change["change"]["actions"], serde_json::json!(["create"]), "{change}");
        env.ws.apply();
        assert_eq!(env.state_attr("id"), id.as_str());
        assert_eq!(env.ws.plan_code(&[]), 0);
    }
    assert_eq!(env.images("apsarastack").len(), 1);
}

/// `alicloud.plan_dry_run = true`: the plan of a new ECS image asks ECS to check the import (ImportImage with
/// DryRun, which the simulator answers with ECS's `DRYRUN.SUCCESS`) and makes nothing.
#[test]
fn ecs_plan_dry_run_checks_the_import_and_makes_nothing() {
    let b = backend("alicloud");
    let env = Env::new(Tf::Path, 1.0);
    let provider = provider_block(&env.sim, None).replacen(
        "  alicloud {",
        "  alicloud {\n    plan_dry_run = true",
        1,
    );
    env.ws.write_config(&format!(
        "{provider}{}",
        resource(b, "dry-run-image", "web", "")
    ));
    let plan = env.ws.ok(&["plan", "-no-color"]);
    assert!(plan.stdout.contains("1 to add"), "{}", plan.all());
    assert_eq!(env.count("alicloud", "ImportImage"), 1);
    assert!(env.images("alicloud").is_empty());
}
