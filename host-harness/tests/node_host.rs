//! Portability: the same component, transpiled by jco and run on Node (`hosts/node/`), gives
//! the same `describe`, `test-connection`, action, schema and options results against the emulator as this
//! wasmtime host. Needs `npm ci` in hosts/node (scripts/test does it); without it the test
//! says so and passes, unless NODE_HOST_REQUIRED is set (scripts/test sets it).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hosts/node")
}

fn prepared() -> bool {
    let ready = node_dir().join("node_modules/.bin/jco").exists();
    if !ready {
        assert!(
            std::env::var_os("NODE_HOST_REQUIRED").is_none(),
            "hosts/node/node_modules is missing: run `npm ci` in hosts/node"
        );
        eprintln!("skipping the Node host comparison: run `npm ci` in hosts/node first");
    }
    ready
}

/// Transpile the test component into hosts/node/build (where host.mjs imports it from).
fn transpile() {
    let out = Command::new(node_dir().join("node_modules/.bin/jco"))
        .current_dir(node_dir())
        .args(["transpile"])
        .arg(component_path())
        .args(["-o", "build", "--name", "connector", "--no-typescript"])
        .args(["--map", "ipaas:connector/*=../imports/*.js"])
        .output()
        .expect("jco runs");
    assert!(
        out.status.success(),
        "jco transpile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn node(args: &[&str]) -> Value {
    let out = Command::new("node")
        .current_dir(node_dir())
        .arg("host.mjs")
        .arg("--allow-loopback")
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node host.mjs {args:?} exited {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_host_matches_the_wasmtime_host() {
    if !prepared() {
        return;
    }
    tokio::task::spawn_blocking(transpile).await.unwrap();
    let emu = start_emulator().await;
    let dir = scratch("node-host");
    let form = form(&emu, "demo-client-credentials", json!({}));
    let config = write_json(&dir, "form.json", &form);
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;

    let describe = rt.describe().await.unwrap();
    assert_eq!(node(&["describe"]), describe, "describe");

    let identity = session.test().await.unwrap();
    assert!(identity["user"]["email"].is_string());
    assert_eq!(node(&["test-connection", "--config", &config]), identity);

    let cases = [
        ("list_workflows", json!({ "status": ["active"] })),
        ("list_workflow_schemas", json!({})),
        ("list_records", json!({})),
    ];
    for (key, input) in cases {
        let expected = session.execute(key, &input).await.unwrap();
        let input_file = write_json(&dir, &format!("{key}.json"), &input);
        let args = ["action", key, "--config", &config, "--input", &input_file];
        assert_eq!(node(&args), expected, "{key}");
    }

    // The builder interface: a template's launch schema and a pick list page.
    let templates = session
        .list_options("templates", &json!({}), Some("0"))
        .await
        .unwrap();
    let args = ["options", "templates", "--config", &config, "--cursor", "0"];
    assert_eq!(node(&args), templates, "options");
    let partial = json!({ "body": { "template": templates["options"][1]["value"] } });
    let expected = session
        .input_schema("launch_new_workflow", &partial)
        .await
        .unwrap();
    let partial_file = write_json(&dir, "partial.json", &partial);
    let args = [
        "schema",
        "launch_new_workflow",
        "--config",
        &config,
        "--input",
        &partial_file,
    ];
    assert_eq!(node(&args), expected, "schema");

    // Both hosts reached the emulator with host-obtained tokens and no contract violations.
    assert!(contract_violations(&emu).await.is_empty());
}
