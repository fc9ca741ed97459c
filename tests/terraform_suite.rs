//! Runs the `terraform test` suite in `tests/terraform/` against `cloudimage-sim`, as a user would run a suite for
//! their own module: the product binary through `dev_overrides`, with Terraform 1.15. (The suite declares a
//! `variable` in its test file, which needs Terraform 1.13+, so the 1.11 on the reference machine's PATH cannot run
//! it; older builds would need the deprecated undeclared `-var` instead.)
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod sim_support;
mod support;

use sim_support::SimProcess;
use support::{copy_tree, product_binary, repo_root, Tf, Workspace};

fn run_suite(tf: Tf) {
    let sim = SimProcess::start(0.5, &[]);
    let ws = Workspace::new(tf, &product_binary());
    copy_tree(&repo_root().join("tests/terraform"), &ws.work());
    let endpoint = format!("sim_endpoint={}", sim.base);
    let run = ws.run(&["test", "-no-color", "-var", &endpoint]);
    let out = run.all();
    assert_eq!(run.code, 0, "terraform test ({tf:?}) failed:\n{out}");
    assert!(out.contains("Success! 5 passed, 0 failed."), "{out}");
    // `terraform test` destroys what its runs created.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let left = rt.block_on(sim.images());
    assert!(
        left.is_empty(),
        "images left after terraform test: {left:?}"
    );
}

#[test]
fn terraform_test_suite_passes_with_terraform_1_15() {
    run_suite(Tf::V1_15);
}
