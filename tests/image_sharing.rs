//! `share_with_accounts` through real Terraform against the simulator, on every backend that shares images: shared
//! at create, changed in place (never a new image), a share removed outside Terraform restored, `terraform import`
//! reads the shares (no replacement), destroy unshares before it deletes; a cloud without sharing refuses it at
//! plan, naming the attribute.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use image_support::{backend, Env, ADDR};
use serde_json::{json, Value as Json};
use support::{planned_actions, Tf};

fn shares_attr(accounts: &[&str]) -> String {
    let list: Vec<String> = accounts.iter().map(|a| format!("\"{a}\"")).collect();
    format!("share_with_accounts = [{}]", list.join(", "))
}

/// The simulator's one image of `cloud` and the accounts it is shared with.
fn shared(env: &Env, cloud: &str) -> (String, Vec<String>) {
    let images = env.images(cloud);
    assert_eq!(images.len(), 1, "{images:?}");
    let accounts = images[0]["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    (images[0]["id"].as_str().unwrap().to_string(), accounts)
}

fn lifecycle(cloud: &str, tf: Tf) {
    let env = Env::new(tf, 0.5);
    let b = backend(cloud);
    env.config(
        b,
        "shared",
        "shared",
        &shares_attr(&["100000000001", "100000000002"]),
    );
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    let (id, accounts) = shared(&env, cloud);
    assert_eq!(accounts, ["100000000001", "100000000002"], "{cloud}");

    // One account more, one less: in place, the same image.
    env.config(
        b,
        "shared",
        "shared",
        &shares_attr(&["100000000002", "100000000003"]),
    );
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        shared(&env, cloud),
        (
            id.clone(),
            vec!["100000000002".into(), "100000000003".into()]
        )
    );

    // Unshared outside Terraform: drift, restored in place.
    let (status, _) = env.rt.block_on(env.sim.admin_post(
        &format!("/_sim/images/{cloud}/{}/{id}/shares", b.region),
        json!(["100000000002"]),
    ));
    assert_eq!(status, 204);
    let plan = env.ws.plan_json();
    assert_eq!(planned_actions(&plan, ADDR), ["update"], "{cloud}");
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(shared(&env, cloud).1, ["100000000002", "100000000003"]);

    // Imported again: the shares are read, nothing is replaced.
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
        actions.is_empty() || actions == ["update"] || actions == ["no-op"],
        "{cloud}: import then plan planned {actions:?}"
    );
    assert_eq!(
        plan["resource_changes"]
            .as_array()
            .and_then(|c| c.first())
            .map(|c| c["change"]["after"]["share_with_accounts"].clone())
            .unwrap_or(Json::Null),
        json!(["100000000002", "100000000003"]),
        "{cloud}"
    );

    // Destroy unshares, then deletes.
    env.ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(env.images(cloud).is_empty(), "{cloud}");
}

#[test]
fn tencentcloud_shares_in_place_and_unshares_before_delete() {
    lifecycle("tencentcloud", Tf::Path);
}

#[test]
fn alicloud_shares_in_place_and_unshares_before_delete() {
    lifecycle("alicloud", Tf::V1_15);
}

#[test]
fn alicloud_ens_shares_in_place_and_unshares_before_delete() {
    lifecycle("alicloud_ens", Tf::Path);
}

#[test]
fn apsarastack_shares_in_place_and_unshares_before_delete() {
    lifecycle("apsarastack", Tf::V0_14);
}

/// An image shared outside Terraform (its state knows no shares) is still deleted: the cloud's refusal names the
/// shares, the provider unshares and deletes. And a cloud without sharing refuses the attribute at plan.
#[test]
fn shared_behind_terraforms_back_still_deletes_and_ucloud_refuses_shares() {
    let env = Env::new(Tf::Path, 0.5);
    let b = backend("tencentcloud");
    env.config(b, "plain", "plain", "");
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    let (id, _) = shared(&env, "tencentcloud");
    let (status, _) = env.rt.block_on(env.sim.admin_post(
        &format!("/_sim/images/tencentcloud/{}/{id}/shares", b.region),
        json!(["100000000009"]),
    ));
    assert_eq!(status, 204);
    env.ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(env.images("tencentcloud").is_empty());

    env.config(backend("ucloud"), "u", "u", &shares_attr(&["100000000001"]));
    let refused = env.ws.run(&["plan", "-no-color"]);
    assert_ne!(refused.code, 0);
    let all = refused.all();
    assert!(
        all.contains("share_with_accounts is not supported on ucloud"),
        "{all}"
    );
    assert!(all.contains("share_with_accounts"), "{all}");
}

/// An account known only at apply (another resource's output) is planned as unknown and shared at apply.
#[test]
fn an_account_known_only_at_apply_is_shared() {
    let env = Env::new(Tf::V1_15, 0.5);
    let b = backend("alicloud");
    env.config(
        b,
        "later",
        "later",
        "share_with_accounts = [\"100000000001\", terraform_data.account.output]",
    );
    let main = std::fs::read_to_string(env.ws.work().join("main.tf")).unwrap();
    std::fs::write(
        env.ws.work().join("main.tf"),
        format!(
            "{main}\nresource \"terraform_data\" \"account\" {{\n  input = \"100000000004\"\n}}\n"
        ),
    )
    .unwrap();
    env.ws.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(shared(&env, "alicloud").1, ["100000000001", "100000000004"]);
    assert_eq!(env.ws.plan_code(&[]), 0);
}
