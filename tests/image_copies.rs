//! Copies of an image in other regions (`copy` blocks, `copies`) through real Terraform against the simulator, on
//! every backend that copies: made at create and shared like the image; a region added is copied in place (one
//! copy call, the image and the other copies untouched) through `plan -out` and `apply PLANFILE`; a region removed
//! deletes only its copy; a copy deleted outside Terraform is made again; a rename of the image leaves its copies
//! alone; a provider killed while it waits for copies leaves nothing twice; `terraform import` then `plan` never
//! replaces; destroy deletes the copies before the image. ENS, which has no copy API, refuses copies at plan.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use image_support::{backend, Env, ADDR};
use serde_json::{json, Value as Json};
use support::{planned_actions, resource_in_state, Tf};

/// The copy call of each cloud, as the simulator counts it.
fn copy_action(cloud: &str) -> &'static str {
    match cloud {
        "ucloud" | "surfercloud" => "CopyCustomImage",
        "tencentcloud" => "SyncImages",
        _ => "CopyImage",
    }
}

/// The copy calls that make `n` copies of one image at once: Tencent's SyncImages takes every destination region
/// in one call, the others one call per copy.
fn calls_for(cloud: &str, n: u64) -> u64 {
    if cloud == "tencentcloud" {
        1
    } else {
        n
    }
}

/// Three regions other than the backend's own.
fn copy_regions(cloud: &str) -> [&'static str; 3] {
    match cloud {
        "ucloud" => ["cn-sh2", "hk", "cn-gd"],
        "surfercloud" => ["cn-sh2", "th-bkk", "us-ca"],
        "tencentcloud" => ["ap-shanghai", "ap-beijing", "ap-chengdu"],
        "apsarastack" => [
            "cn-qingdao-env17-d02",
            "cn-qingdao-env17-d03",
            "cn-qingdao-env17-d04",
        ],
        _ => ["cn-shanghai", "cn-hangzhou", "cn-shenzhen"],
    }
}

fn shares_images(cloud: &str) -> bool {
    !matches!(cloud, "ucloud" | "surfercloud")
}

fn copy_blocks(regions: &[&str]) -> String {
    regions
        .iter()
        .map(|r| format!("copy {{\n    region = \"{r}\"\n  }}\n  "))
        .collect()
}

fn configure(env: &Env, cloud: &str, name: &str, regions: &[&str]) {
    configure_blocks(env, cloud, name, &copy_blocks(regions));
}

/// Copy blocks that adopt existing images (`image_id`), by region.
fn adopting_blocks(copies: &[(&str, &str)]) -> String {
    copies
        .iter()
        .map(|(r, id)| {
            format!("copy {{\n    region   = \"{r}\"\n    image_id = \"{id}\"\n  }}\n  ")
        })
        .collect()
}

fn configure_blocks(env: &Env, cloud: &str, name: &str, blocks: &str) {
    let shares = if shares_images(cloud) {
        "share_with_accounts = [\"100000000001\", \"100000000002\"]"
    } else {
        ""
    };
    // UCloud's CopyCustomImage needs the target project, which only the provider block's project_id names.
    let mut provider = image_support::provider_block(&env.sim, None);
    for brand in ["ucloud", "surfercloud"] {
        let endpoint = format!("endpoint    = \"{}/{brand}\"", env.sim.base);
        provider = provider.replace(
            &endpoint,
            &format!("{endpoint}\n    project_id  = \"org-images\""),
        );
    }
    env.ws.write_config(&format!(
        "{provider}{}",
        image_support::resource(
            backend(cloud),
            name,
            "copied",
            &format!("{shares}\n  {blocks}")
        )
    ));
}

/// The state's image ID and `copies` (region to (id, status)).
fn recorded(env: &Env) -> (String, BTreeMap<String, (String, String)>) {
    let state = env.ws.state_json();
    let values = &resource_in_state(&state, ADDR).expect("resource in state")["values"];
    let copies = values["copies"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(r, c)| {
                    (
                        r.clone(),
                        (
                            c["id"].as_str().unwrap_or_default().to_string(),
                            c["status"].as_str().unwrap_or_default().to_string(),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (values["id"].as_str().unwrap().to_string(), copies)
}

/// The simulator's images of `cloud`, region to ids.
fn listed(env: &Env, cloud: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in env.images(cloud) {
        out.entry(i["region"].as_str().unwrap().to_string())
            .or_default()
            .push(i["id"].as_str().unwrap().to_string());
    }
    out
}

fn image(env: &Env, cloud: &str, id: &str) -> Json {
    env.images(cloud)
        .into_iter()
        .find(|i| i["id"] == id)
        .unwrap_or(Json::Null)
}

/// The state and the simulator agree: the image in its region, exactly one available copy in each of `regions`.
fn assert_copies(env: &Env, cloud: &str, regions: &[&str], when: &str) -> BTreeMap<String, String> {
    let b = backend(cloud);
    let (id, copies) = recorded(env);
    let sim = listed(env, cloud);
    assert_eq!(
        sim.get(b.region),
        Some(&vec![id.clone()]),
        "{cloud} {when}: {sim:?}"
    );
    let mut want: Vec<&str> = regions.to_vec();
    want.sort();
    assert_eq!(
        copies.keys().map(String::as_str).collect::<Vec<_>>(),
        want,
        "{cloud} {when}"
    );
    assert_eq!(sim.len(), regions.len() + 1, "{cloud} {when}: {sim:?}");
    for (region, (copy, status)) in &copies {
        assert_eq!(status, "available", "{cloud} {when}: {region}");
        assert_eq!(
            sim.get(region),
            Some(&vec![copy.clone()]),
            "{cloud} {when}: {region}"
        );
        if shares_images(cloud) {
            assert_eq!(
                image(env, cloud, copy)["shares"],
                json!(["100000000001", "100000000002"]),
                "{cloud} {when}: the copy in {region} is not shared"
            );
        }
    }
    copies.into_iter().map(|(r, (id, _))| (r, id)).collect()
}

/// Applies the plan `plan_json` saved (`apply PLANFILE`); Terraform 0.14's build applies nothing from a saved plan
/// (docs/terraform-versions.md), so there a plain apply follows the same plan.
fn apply_saved(env: &Env, tf: Tf) {
    if tf == Tf::V0_14 {
        env.ws.apply();
    } else {
        env.ws.ok(&["apply", "-no-color", "tfplan"]);
    }
}

fn lifecycle(cloud: &str, tf: Tf) {
    let env = Env::new(tf, 0.5);
    let b = backend(cloud);
    let [r1, r2, r3] = copy_regions(cloud);
    let action = copy_action(cloud);

    // Two copies at create, shared like the image.
    configure(&env, cloud, "copied", &[r1, r2]);
    env.ws.apply();
    let first = assert_copies(&env, cloud, &[r1, r2], "after create");
    let (source, _) = recorded(&env);
    assert_eq!(env.count(cloud, action), calls_for(cloud, 2), "{cloud}");
    assert_eq!(
        env.ws.plan_code(&[]),
        0,
        "{cloud}: not converged after create"
    );

    // A region added: one copy call, in place, through a saved plan.
    configure(&env, cloud, "copied", &[r1, r2, r3]);
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
    apply_saved(&env, tf);
    let added = assert_copies(&env, cloud, &[r1, r2, r3], "after adding a region");
    assert_eq!(recorded(&env).0, source, "{cloud}: the image was replaced");
    assert_eq!(added[r1], first[r1], "{cloud}");
    assert_eq!(added[r2], first[r2], "{cloud}");
    assert_eq!(env.count(cloud, action), calls_for(cloud, 2) + 1, "{cloud}");

    // A region removed: only its copy is deleted.
    configure(&env, cloud, "copied", &[r2, r3]);
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
    apply_saved(&env, tf);
    let removed = assert_copies(&env, cloud, &[r2, r3], "after removing a region");
    assert_eq!(removed[r3], added[r3], "{cloud}");
    assert_eq!(env.count(cloud, action), calls_for(cloud, 2) + 1, "{cloud}");

    // A copy deleted outside Terraform is drift: made again, in place.
    let status = env.rt.block_on(
        env.sim
            .admin_delete(&format!("/_sim/images/{cloud}/{r2}/{}", removed[r2])),
    );
    assert!(status < 300, "{cloud}: admin delete answered {status}");
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
    apply_saved(&env, tf);
    let again = assert_copies(&env, cloud, &[r2, r3], "after the drift");
    assert_ne!(again[r2], removed[r2], "{cloud}");
    assert_eq!(env.count(cloud, action), calls_for(cloud, 2) + 2, "{cloud}");

    // A share removed from a copy outside Terraform is drift: shared again, in place.
    if shares_images(cloud) {
        let (status, _) = env.rt.block_on(env.sim.admin_post(
            &format!("/_sim/images/{cloud}/{r3}/{}/shares", again[r3]),
            json!(["100000000001"]),
        ));
        assert_eq!(status, 204, "{cloud}");
        let plan = env.ws.plan_json();
        assert_eq!(
            planned_actions(&plan, ADDR),
            ["update"],
            "{cloud}: a copy's lost share"
        );
        apply_saved(&env, tf);
        assert_eq!(
            assert_copies(&env, cloud, &[r2, r3], "after a copy's share was restored"),
            again
        );
    }

    // A rename of the image is in place and leaves the copies alone.
    if b.renames_in_place {
        configure(&env, cloud, "copied-renamed", &[r2, r3]);
        let plan = env.ws.plan_json();
        assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
        apply_saved(&env, tf);
        assert_eq!(
            assert_copies(&env, cloud, &[r2, r3], "after a rename"),
            again,
            "{cloud}"
        );
        assert_eq!(env.count(cloud, action), calls_for(cloud, 2) + 2, "{cloud}");
        configure(&env, cloud, "copied", &[r2, r3]);
        env.ws.apply();
    }
    assert_eq!(env.ws.plan_code(&[]), 0, "{cloud}: not converged");

    // Destroy: the copies go, then the image.
    env.ws.destroy();
    assert!(
        env.images(cloud).is_empty(),
        "{cloud}: {:?}",
        listed(&env, cloud)
    );

    // Imported: the image is never replaced. Its copies are not in the imported state (no cloud links a copy to
    // its source); `image_id` in a copy block adopts each one, with no copy call.
    configure(&env, cloud, "imported", &[r1]);
    env.ws.apply();
    let (id, copies) = recorded(&env);
    let calls = env.count(cloud, action);
    env.ws.ok(&["state", "rm", ADDR]);
    env.ws.ok(&[
        "import",
        "-no-color",
        ADDR,
        &format!("{cloud}/{}/{id}", b.region),
    ]);
    let adopted: Vec<(&str, &str)> = copies
        .iter()
        .map(|(r, (c, _))| (r.as_str(), c.as_str()))
        .collect();
    configure_blocks(&env, cloud, "imported", &adopting_blocks(&adopted));
    let plan = env.ws.plan_json();
    assert_eq!(
        planned_actions(&plan, ADDR),
        ["update"],
        "{cloud}: import then plan"
    );
    apply_saved(&env, tf);
    let after: BTreeMap<String, String> = recorded(&env)
        .1
        .into_iter()
        .map(|(r, (c, _))| (r, c))
        .collect();
    let before: BTreeMap<String, String> = copies.into_iter().map(|(r, (c, _))| (r, c)).collect();
    assert_eq!(after, before, "{cloud}: the copies were not adopted");
    assert_eq!(
        env.count(cloud, action),
        calls,
        "{cloud}: copied again after the import"
    );
    assert_eq!(
        env.ws.plan_code(&[]),
        0,
        "{cloud}: not converged after adopting"
    );
    env.ws.destroy();
    assert!(
        env.images(cloud).is_empty(),
        "{cloud}: {:?}",
        listed(&env, cloud)
    );
}

#[test]
fn alicloud_copies_in_place_and_deletes_them_first() {
    lifecycle("alicloud", Tf::V1_15);
}

#[test]
fn tencentcloud_copies_in_place_and_deletes_them_first() {
    lifecycle("tencentcloud", Tf::Path);
}

#[test]
fn ucloud_copies_in_place_and_deletes_them_first() {
    lifecycle("ucloud", Tf::V0_14);
}

#[test]
fn surfercloud_copies_in_place_and_deletes_them_first() {
    lifecycle("surfercloud", Tf::Path);
}

#[test]
fn apsarastack_copies_in_place_and_deletes_them_first() {
    lifecycle("apsarastack", Tf::V0_14);
}

/// `terraform import` of an image with copies, then `plan`: never a replacement. On ECS, whose copies carry the
/// provider's marker tag, the apply takes the existing copies over instead of copying again.
#[test]
fn import_then_plan_never_replaces_and_ecs_adopts_its_copies() {
    let env = Env::new(Tf::V1_15, 0.5);
    let cloud = "alicloud";
    let b = backend(cloud);
    let [r1, r2, _] = copy_regions(cloud);
    configure(&env, cloud, "adopted", &[r1, r2]);
    env.ws.apply();
    let copies = assert_copies(&env, cloud, &[r1, r2], "after create");
    let (id, _) = recorded(&env);
    env.ws.ok(&["state", "rm", ADDR]);
    env.ws.ok(&[
        "import",
        "-no-color",
        ADDR,
        &format!("{cloud}/{}/{id}", b.region),
    ]);
    let plan = env.ws.plan_json();
    let actions = planned_actions(&plan, ADDR);
    assert!(
        actions == ["update"] || actions == ["no-op"],
        "import then plan planned {actions:?}"
    );
    env.ws.ok(&["apply", "-no-color", "tfplan"]);
    assert_eq!(
        assert_copies(&env, cloud, &[r1, r2], "after import and apply"),
        copies
    );
    assert_eq!(
        env.count(cloud, "CopyImage"),
        2,
        "copied again after the import"
    );

    // New tags reach the copies (ECS tags copies), which keep their marker.
    let retagged = image_support::Backend {
        extra: "format = \"qcow2\"\n  platform = \"CentOS\"\n  tags = { team = \"copies\" }",
        ..*b
    };
    env.ws.write_config(&format!(
        "{}{}",
        image_support::provider_block(&env.sim, None),
        image_support::resource(
            &retagged,
            "adopted",
            "copied",
            &format!(
                "share_with_accounts = [\"100000000001\", \"100000000002\"]\n  {}",
                copy_blocks(&[r1, r2])
            )
        )
    ));
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"]);
    env.ws.ok(&["apply", "-no-color", "tfplan"]);
    // The simulator's admin listing shows no tags: the tag calls, by region, show where the tags went.
    let log = env.rt.block_on(env.sim.admin_get("/_sim/requests"));
    let mut tagged: Vec<String> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "TagResources" && e["outcome"] == "ok")
        .map(|e| e["region"].as_str().unwrap().to_string())
        .collect();
    tagged.sort();
    tagged.dedup();
    let mut want = vec![b.region.to_string(), r1.to_string(), r2.to_string()];
    want.sort();
    assert_eq!(tagged, want, "the new tags did not reach every copy");
    env.ws.destroy();
    assert!(env.images(cloud).is_empty());
}

/// A provider killed while it waits for the copies (SIGKILL, as a cancelled CI job does), then an apply: every
/// copy exactly once, the ones the killed provider started taken over.
fn killed_during_copy_wait(cloud: &str) {
    let env = Env::new(Tf::Path, 3.0);
    let [r1, r2, _] = copy_regions(cloud);
    let action = copy_action(cloud);
    configure(&env, cloud, "killed", &[r1, r2]);
    let apply = env
        .ws
        .command(&["apply", "-auto-approve", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn terraform apply");
    let start = Instant::now();
    while env.count(cloud, action) < calls_for(cloud, 2) {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{cloud}: no copies started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    env.ws.kill_provider(apply);
    let orphans = listed(&env, cloud);
    assert_eq!(orphans.len(), 3, "{cloud}: {orphans:?}");
    env.ws.apply();
    let copies = assert_copies(&env, cloud, &[r1, r2], "after the kill");
    assert_eq!(
        env.count(cloud, action),
        calls_for(cloud, 2),
        "{cloud}: copied twice"
    );
    for (region, id) in &copies {
        assert_eq!(
            orphans.get(region),
            Some(&vec![id.clone()]),
            "{cloud}: {region}"
        );
    }
    env.ws.destroy();
    assert!(env.images(cloud).is_empty(), "{cloud}");
}

#[test]
fn alicloud_copy_wait_killed_then_applied() {
    killed_during_copy_wait("alicloud");
}

#[test]
fn tencentcloud_copy_wait_killed_then_applied() {
    killed_during_copy_wait("tencentcloud");
}

#[test]
fn ucloud_copy_wait_killed_then_applied() {
    killed_during_copy_wait("ucloud");
}

#[test]
fn surfercloud_copy_wait_killed_then_applied() {
    killed_during_copy_wait("surfercloud");
}

#[test]
fn apsarastack_copy_wait_killed_then_applied() {
    killed_during_copy_wait("apsarastack");
}

/// ENS has no copy API: a `copy` block fails at plan, at the attribute, saying what ENS does instead; and a copy to
/// the image's own region fails at plan everywhere.
#[test]
fn ens_copies_and_copies_to_the_own_region_fail_at_plan() {
    let env = Env::new(Tf::Path, 0.5);
    env.config(
        backend("alicloud_ens"),
        "e",
        "e",
        &copy_blocks(&["cn-shanghai"]),
    );
    let refused = env.ws.run(&["plan", "-no-color"]);
    assert_ne!(refused.code, 0);
    let all = refused.all();
    assert!(
        all.contains("copy is not supported on alicloud_ens"),
        "{all}"
    );
    assert!(all.contains("ENS has no image copy API"), "{all}");

    let b = backend("tencentcloud");
    env.config(b, "t", "t", &copy_blocks(&[b.region]));
    let refused = env.ws.run(&["plan", "-no-color"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.all().contains("A copy in the image's own region"),
        "{}",
        refused.all()
    );
    assert!(env.images("tencentcloud").is_empty());

    // UCloud copies into a project, which only the provider block names: without it, the plan says so.
    env.config(backend("ucloud"), "u", "u", &copy_blocks(&["cn-sh2"]));
    let refused = env.ws.run(&["plan", "-no-color"]);
    assert_ne!(refused.code, 0);
    let all = refused.all();
    assert!(
        all.contains("ucloud cannot copy images as configured"),
        "{all}"
    );
    assert!(all.contains("project_id"), "{all}");
}

/// A copy option changed replaces only that copy; an image replaced (a new object) is copied again, and its old
/// copies go with it: the simulator then holds exactly the new image and its copies.
#[test]
fn a_changed_copy_or_a_replaced_image_makes_new_copies_and_deletes_the_old() {
    let env = Env::new(Tf::Path, 0.5);
    let cloud = "alicloud";
    let b = backend(cloud);
    let [r1, r2, _] = copy_regions(cloud);
    configure(&env, cloud, "replaced", &[r1, r2]);
    env.ws.apply();
    let first = assert_copies(&env, cloud, &[r1, r2], "after create");
    let (source, _) = recorded(&env);

    // One copy renamed: that copy only, in place.
    let renamed = format!(
        "copy {{\n    region = \"{r1}\"\n    name   = \"replaced-{r1}\"\n  }}\n  {}",
        copy_blocks(&[r2])
    );
    configure_blocks(&env, cloud, "replaced", &renamed);
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"]);
    env.ws.ok(&["apply", "-no-color", "tfplan"]);
    let after = assert_copies(&env, cloud, &[r1, r2], "after a copy's name changed");
    assert_ne!(after[r1], first[r1], "the renamed copy was not made again");
    assert_eq!(after[r2], first[r2], "the other copy was touched");
    assert_eq!(recorded(&env).0, source, "the image was replaced");
    assert_eq!(env.count(cloud, "CopyImage"), 3);

    // A new object replaces the image: new copies, old ones gone.
    env.ws.write_config(&format!(
        "{}{}",
        image_support::provider_block(&env.sim, None),
        image_support::resource(
            b,
            "replaced",
            "other-object",
            &format!("share_with_accounts = [\"100000000001\", \"100000000002\"]\n  {renamed}")
        )
    ));
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["delete", "create"]);
    env.ws.ok(&["apply", "-no-color", "tfplan"]);
    let again = assert_copies(&env, cloud, &[r1, r2], "after the image was replaced");
    assert_ne!(recorded(&env).0, source);
    assert!(again
        .values()
        .all(|id| !after.values().any(|old| old == id)));
    assert_eq!(env.count(cloud, "CopyImage"), 5);
    env.ws.destroy();
    assert!(env.images(cloud).is_empty());
}
