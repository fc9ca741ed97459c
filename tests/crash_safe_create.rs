//! A provider killed during a create (SIGKILL to the plugin process, not to Terraform: a cancelled CI job, an OOM
//! kill) and an apply run again: the simulator then holds exactly the images in state, on every backend, whether
//! the kill came before the import call reached the cloud, after the cloud made the image but before it answered,
//! or while the provider waited for the import. When the create journal is lost too (a fresh CI runner), the
//! image is taken over where it carries the configuration's fingerprint tag, and otherwise the apply stops with an
//! error naming it, never importing a second one.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod image_support;
mod sim_support;
mod support;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use image_support::{backend, Env, ADDR};
use serde_json::json;
use support::{resource_in_state, Tf};

/// How long the simulator takes to import.
const IMPORT_SECONDS: f64 = 4.0;

fn import_action(cloud: &str) -> &'static str {
    match cloud {
        "ucloud" | "surfercloud" => "ImportCustomImage",
        _ => "ImportImage",
    }
}

fn journal_dir(env: &Env) -> PathBuf {
    env.ws
        .dir
        .path()
        .join("state/terraform-provider-cloudimage/creates")
}

fn journal_entries(env: &Env) -> usize {
    std::fs::read_dir(journal_dir(env))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn spawn_apply(env: &Env) -> Child {
    env.ws
        .command(&["apply", "-auto-approve", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn terraform apply")
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn state_ids(env: &Env) -> Vec<String> {
    let state = env.ws.state_json();
    resource_in_state(&state, ADDR)
        .and_then(|r| r["values"]["id"].as_str().map(str::to_string))
        .into_iter()
        .collect()
}

fn sim_ids(env: &Env, cloud: &str) -> Vec<String> {
    env.images(cloud)
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

/// After the second apply: one image, the one in state, available.
fn assert_converged(env: &Env, cloud: &str, when: &str) {
    let in_state = state_ids(env);
    let listed = sim_ids(env, cloud);
    assert_eq!(in_state.len(), 1, "{cloud} {when}: nothing in state");
    assert_eq!(
        listed, in_state,
        "{cloud} {when}: the simulator holds other images than the state"
    );
    assert_eq!(
        env.state_attr("status"),
        "available",
        "{cloud} {when}: not available"
    );
    assert_eq!(
        journal_entries(env),
        0,
        "{cloud} {when}: journal left behind"
    );
}

fn clean_up(env: &Env, cloud: &str) {
    env.ws.destroy();
    assert!(
        sim_ids(env, cloud).is_empty(),
        "{cloud}: destroy left images"
    );
}

fn crash_safe_create(cloud: &str) {
    let b = backend(cloud);
    let env = Env::new(Tf::Path, IMPORT_SECONDS);
    let action = import_action(cloud);
    let no_faults = json!({});

    // 1. Killed before the import reached the cloud: the simulator holds the request 30 s before handling it,
    //    and a request whose client is gone is never handled.
    env.config(b, "crash-before", "crash-before", "");
    env.faults(json!({"latency": [{"cloud": cloud, "action": action, "ms": 30000}]}));
    let apply = spawn_apply(&env);
    wait_until("the journal records the create", || {
        journal_entries(&env) == 1
    });
    std::thread::sleep(Duration::from_millis(500));
    env.ws.kill_provider(apply);
    env.faults(no_faults.clone());
    assert!(
        sim_ids(&env, cloud).is_empty(),
        "{cloud}: the held import was handled"
    );
    env.ws.apply();
    assert_converged(&env, cloud, "after a kill before the import call");
    clean_up(&env, cloud);

    // 2. Killed after the cloud made the image, before its answer arrived.
    env.config(b, "crash-after", "crash-after", "");
    env.faults(json!({"answer_delay": [{"cloud": cloud, "action": action, "ms": 30000}]}));
    let apply = spawn_apply(&env);
    wait_until("the cloud made the image", || {
        !sim_ids(&env, cloud).is_empty()
    });
    env.ws.kill_provider(apply);
    env.faults(no_faults.clone());
    env.ws.apply();
    assert_converged(
        &env,
        cloud,
        "after a kill between the import and its answer",
    );
    clean_up(&env, cloud);

    // 3. Killed while waiting for the import.
    env.config(b, "crash-wait", "crash-wait", "");
    let apply = spawn_apply(&env);
    wait_until("the import is under way", || {
        !sim_ids(&env, cloud).is_empty()
    });
    std::thread::sleep(Duration::from_millis(700));
    env.ws.kill_provider(apply);
    env.ws.apply();
    assert_converged(&env, cloud, "after a kill during the wait");
    clean_up(&env, cloud);

    // 4. Killed while waiting, and the journal is lost with the machine (a fresh CI runner).
    env.config(b, "crash-lost", "crash-lost", "");
    let apply = spawn_apply(&env);
    wait_until("the import is under way", || {
        !sim_ids(&env, cloud).is_empty()
    });
    env.ws.kill_provider(apply);
    std::fs::remove_dir_all(journal_dir(&env)).expect("remove the journal");
    let orphan = sim_ids(&env, cloud);
    let again = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
    if matches!(cloud, "tencentcloud" | "alicloud") {
        // The image carries this configuration's fingerprint tag: taken over.
        assert_eq!(again.code, 0, "{cloud}: {}", again.all());
        assert_converged(&env, cloud, "after a kill with the journal lost");
        assert_eq!(state_ids(&env), orphan);
        clean_up(&env, cloud);
    } else {
        // Nothing proves whose image it is: a clear error naming it, and no second image.
        assert_ne!(again.code, 0, "{cloud}: adopted without proof");
        let text = again.all();
        assert!(
            text.contains(&orphan[0]),
            "{cloud}: the image is not named:\n{text}"
        );
        assert!(text.contains("terraform import"), "{cloud}:\n{text}");
        assert_eq!(
            sim_ids(&env, cloud),
            orphan,
            "{cloud}: a second image was made"
        );
        assert!(state_ids(&env).is_empty());
    }
}

macro_rules! backends {
    ($($name:ident: $cloud:expr;)*) => {
        $(
            #[test]
            fn $name() {
                crash_safe_create($cloud);
            }
        )*
    };
}

backends! {
    ucloud: "ucloud";
    surfercloud: "surfercloud";
    tencentcloud: "tencentcloud";
    alicloud: "alicloud";
    alicloud_ens: "alicloud_ens";
    apsarastack: "apsarastack";
}

/// A create that outlives its timeout leaves an image still importing in state (tainted); the next apply
/// replaces it at once, cancelling the running import on ECS (CancelTask) instead of failing on
/// `ImageIsImporting`, and waiting for it on Tencent Cloud, which has no cancel.
#[test]
fn create_timeout_then_apply_again_replaces_the_image() {
    for (cloud, import_seconds) in [("alicloud", 60.0), ("tencentcloud", 6.0)] {
        let b = backend(cloud);
        let env = Env::new(Tf::Path, import_seconds);
        env.config(
            b,
            "slow-image",
            "slow",
            "timeouts {\n    create = \"2s\"\n  }",
        );
        let first = env.ws.run(&["apply", "-auto-approve", "-no-color"]);
        assert_ne!(first.code, 0);
        assert!(first.all().contains("Timed out waiting"), "{}", first.all());
        let tainted = state_ids(&env);
        assert_eq!(tainted.len(), 1);
        env.config(
            b,
            "slow-image",
            "slow",
            "timeouts {\n    create = \"2m\"\n  }",
        );
        // New imports are quick from here on; the one under way keeps its own length.
        let (status, _) = env.rt.block_on(
            env.sim
                .admin_post("/_sim/config", json!({"import_seconds": 1.0})),
        );
        assert_eq!(status, 200);
        let started = Instant::now();
        env.ws.apply();
        assert_ne!(state_ids(&env), tainted, "{cloud}: not replaced");
        assert_eq!(sim_ids(&env, cloud), state_ids(&env), "{cloud}");
        if cloud == "alicloud" {
            assert_eq!(
                env.count(cloud, "CancelTask"),
                1,
                "the running import was cancelled"
            );
            assert!(
                started.elapsed() < Duration::from_secs(55),
                "the replacement waited for the old import instead of cancelling it"
            );
        }
        assert_eq!(env.state_attr("status"), "available");
    }
}

/// The image an interrupted create recorded was deleted before the next apply: that apply imports afresh, with a
/// new idempotency token (ECS would answer the old token with the deleted image).
#[test]
fn a_recorded_image_deleted_meanwhile_is_imported_afresh() {
    let cloud = "alicloud";
    let b = backend(cloud);
    let env = Env::new(Tf::Path, IMPORT_SECONDS);
    env.config(b, "crash-deleted", "crash-deleted", "");
    let apply = spawn_apply(&env);
    wait_until("the import is under way", || {
        !sim_ids(&env, cloud).is_empty()
    });
    std::thread::sleep(Duration::from_millis(700));
    env.ws.kill_provider(apply);
    let first = sim_ids(&env, cloud);
    let url = env
        .sim
        .url(&format!("/_sim/images/{cloud}/{}/{}", b.region, first[0]));
    let status = env
        .rt
        .block_on(async { env.sim.http().delete(url).send().await.map(|r| r.status()) })
        .expect("delete through the admin API");
    assert!(status.is_success(), "{status}");
    env.ws.apply();
    assert_converged(&env, cloud, "after the recorded image was deleted");
    assert_ne!(state_ids(&env), first);
}
