//! `terraform plan -out=FILE` then `terraform apply FILE`, as pipelines with an approval step run Terraform: a
//! create, an in-place rename, a replacement and a destroy each do exactly what the saved plan showed, and the next
//! plan is empty. Terraform 0.14 is not in this file: the 0.14 build the matrix can install (Cloudrail's) applies
//! nothing from any saved plan, whatever the provider (see `tests/terraform_protocol.rs`,
//! `cloudrail_014_defects_are_terraforms` and docs/terraform-versions.md).
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use image_support::{backend, Env, ADDR};
use support::{planned_actions, Tf};

fn saved_plans(tf: Tf) {
    let b = backend("tencentcloud");
    let env = Env::new(tf, 1.0);
    let ws = &env.ws;
    let plan_then_apply = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["plan", "-no-color", "-out=saved.tfplan"];
        args.extend_from_slice(extra);
        ws.ok(&args);
        let plan = ws.json(&["show", "-json", "saved.tfplan"]);
        let actions = planned_actions(&plan, ADDR);
        ws.ok(&["apply", "-no-color", "saved.tfplan"]);
        actions
    };

    env.config(b, "saved-1", "saved", "");
    assert_eq!(plan_then_apply(&[]), ["create"]);
    let id = env.state_attr("id").as_str().expect("created").to_string();
    assert_eq!(env.state_attr("status"), "available");
    assert_eq!(ws.plan_code(&[]), 0, "{tf:?}: plan after the saved create");

    env.config(b, "saved-2", "saved", "");
    let renames = env.count("tencentcloud", "ModifyImageAttribute");
    assert_eq!(plan_then_apply(&[]), ["update"]);
    assert_eq!(
        env.count("tencentcloud", "ModifyImageAttribute"),
        renames + 1
    );
    assert_eq!(env.state_attr("name"), "saved-2");
    assert_eq!(env.state_attr("id"), id.as_str());
    assert_eq!(ws.plan_code(&[]), 0, "{tf:?}: plan after the saved rename");

    env.config(b, "saved-2", "saved-v2", "");
    assert_eq!(plan_then_apply(&[]), ["delete", "create"]);
    assert_ne!(env.state_attr("id"), id.as_str());
    assert_eq!(env.images("tencentcloud").len(), 1);
    assert_eq!(
        ws.plan_code(&[]),
        0,
        "{tf:?}: plan after the saved replacement"
    );

    assert_eq!(plan_then_apply(&["-destroy"]), ["delete"]);
    assert!(env.images("tencentcloud").is_empty());
}

#[test]
fn saved_plans_on_the_path_terraform() {
    saved_plans(Tf::Path);
}

#[test]
fn saved_plans_on_terraform_1_15() {
    saved_plans(Tf::V1_15);
}
