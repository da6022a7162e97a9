//! The `connector-harness` command line as a contract: JSON on stdout, exit codes, the
//! OAuth commands, and no secret in any output.

use crate::common;

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_prints_the_manifest() {
    let dir = scratch("cli-describe");
    let run = cli(&dir, &["describe"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = run.json();
    assert!(m["connection_schema"]["properties"]["api_type"].is_object());
    let actions = m["actions"].as_array().unwrap();
    // Every CLM catalog row names its operation; only the composed actions have none
    // (Clickwrap has no OpenAPI, so no operation ids).
    let without: Vec<&str> = actions
        .iter()
        .filter(|a| a["operation"].is_null())
        .filter(|a| !a["key"].as_str().unwrap().starts_with("clickwrap_"))
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        without,
        [
            "launch_workflow_and_wait",
            "launch_workflow_with_files",
            "raw_request"
        ]
    );
    assert!(
        actions
            .iter()
            .all(|a| a["input_schema"]["type"] == "object")
    );
    assert!(m["triggers"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_test_connection_and_actions() {
    let emu = start_emulator().await;
    let dir = scratch("cli-cc");
    let cfg = write_json(
        &dir,
        "cc.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let run = cli(&dir, &["test-connection", "--config", &cfg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["user"]["email"], first_user_email(&emu));
    assert!(run.json()["company"]["name"].is_string());

    let input = write_json(&dir, "in.json", &json!({ "max_items": 2 }));
    let run = cli(
        &dir,
        &[
            "action",
            "list_workflows",
            "--config",
            &cfg,
            "--input",
            &input,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["items"].as_array().unwrap().len(), 2);

    // No input means {}.
    let run = cli(&dir, &["action", "list_workflow_schemas", "--config", &cfg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.json()["list"].as_array().unwrap().is_empty());

    // --trace: the call's HTTP exchanges on stderr, stdout unchanged.
    let args = [
        "action",
        "list_workflow_schemas",
        "--config",
        &cfg,
        "--trace",
    ];
    let run = cli(&dir, &args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.json()["list"].as_array().unwrap().is_empty());
    let traced: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("http: "))
        .collect();
    let expected = format!(
        "http: GET {}/public/api/v1/workflow-schemas",
        emu.base_url()
    );
    assert!(
        traced.len() == 1 && traced[0].starts_with(&expected) && traced[0].contains(" → 200 ("),
        "{}",
        run.stderr
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_from_stdin() {
    let emu = start_emulator().await;
    let dir = scratch("cli-stdin");
    let cfg = write_json(
        &dir,
        "cc.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let exe = env!("CARGO_BIN_EXE_connector-harness");
    let args = [
        "--component",
        &component_path().to_string_lossy(),
        "--allow-loopback",
        "--cache-dir",
        &cache_dir().to_string_lossy(),
        "--token-store",
        &dir.join("t.json").to_string_lossy(),
        "action",
        "retrieve_workflow",
        "--config",
        &cfg,
        "--input",
        "-",
    ]
    .map(String::from);
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(exe)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(br#"{"id":"IC-1"}"#)
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ironcladId"], "IC-1");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_flow_end_to_end_without_leaking_tokens() {
    let emu = start_emulator().await;
    let dir = scratch("cli-ac");
    let ac = client(&emu, "demo-authorization-code");
    let redirect = ac.redirect_uris[0].clone();
    let cfg = write_json(
        &dir,
        "ac.json",
        &form(
            &emu,
            "demo-authorization-code",
            json!({ "grant_type": "authorization_code", "impersonate_user": null }),
        ),
    );

    // Before authorizing, calls fail with a clear instruction.
    let before = cli(&dir, &["test-connection", "--config", &cfg]).await;
    assert_eq!(before.error_kind(), "unauthenticated");
    assert!(
        before.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("authorize")
    );

    let auth = cli(
        &dir,
        &["authorize", "--config", &cfg, "--redirect-uri", &redirect],
    )
    .await;
    assert_eq!(auth.code, 0, "{}", auth.stderr);
    let url = auth.json()["authorization_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );

    // The emulator consents at once and redirects with the code, as a browser would see.
    let code = authorization_code(&url).await;

    let exchanged = cli(
        &dir,
        &[
            "exchange",
            "--config",
            &cfg,
            "--code",
            &code,
            "--redirect-uri",
            &redirect,
        ],
    )
    .await;
    assert_eq!(exchanged.code, 0, "{}", exchanged.stderr);
    assert_eq!(exchanged.json()["status"], "authorized");
    assert_eq!(exchanged.json()["grant"]["refreshable"], true);

    let store = dir.join("tokens.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&store).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let me = cli(&dir, &["test-connection", "--config", &cfg]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert_eq!(
        me.json()["user"]["email"],
        emu.seed().users[0].email.as_str()
    );

    // Expired access token: refreshed (and the refresh token rotated) transparently.
    let tokens_before: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    admin(&emu, "expire-tokens").await;
    let after = cli(
        &dir,
        &[
            "--verbose",
            "action",
            "list_workflows",
            "--config",
            &cfg,
            "--input",
            &write_json(&dir, "one.json", &json!({ "max_items": 1 })),
        ],
    )
    .await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    let tokens_after: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
    let refresh = |v: &Value| {
        v.as_object().unwrap().values().next().unwrap()["refresh_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(
        refresh(&tokens_before),
        refresh(&tokens_after),
        "the rotated refresh token was persisted"
    );

    // No output of any run carries a token or the client secret.
    let mut secrets = vec![
        ac.client_secret.clone(),
        refresh(&tokens_before),
        refresh(&tokens_after),
    ];
    for v in [&tokens_before, &tokens_after] {
        secrets.push(
            v.as_object().unwrap().values().next().unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for run in [&before, &auth, &exchanged, &me, &after] {
        for s in &secrets {
            assert!(
                !run.stdout.contains(s.as_str()) && !run.stderr.contains(s.as_str()),
                "a secret leaked into CLI output"
            );
        }
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_kinds_fields_and_exit_codes() {
    let emu = start_emulator().await;
    let dir = scratch("cli-errors");
    let cases = [
        (
            json!({ "client_id": null }),
            "invalid_config",
            Some("client_id"),
        ),
        (
            json!({ "region": "mars" }),
            "invalid_config",
            Some("region"),
        ),
        (
            json!({ "instance_url": "https//broken" }),
            "invalid_config",
            Some("instance_url"),
        ),
        (
            json!({ "impersonate_user": null }),
            "invalid_config",
            Some("impersonate_user"),
        ),
        (
            json!({ "client_secret": "definitely-wrong" }),
            "unauthenticated",
            None,
        ),
        // A CLM form switched to Clickwrap REST: Clickwrap tokens carry no scopes.
        (
            json!({ "api_type": "clickwrap_rest", "scopes": "public.workflows.readWorkflows" }),
            "invalid_config",
            Some("scopes"),
        ),
    ];
    for (patch, kind, field) in cases {
        let cfg = write_json(
            &dir,
            "bad.json",
            &form(&emu, "demo-client-credentials", patch.clone()),
        );
        let run = cli(&dir, &["test-connection", "--config", &cfg]).await;
        assert_eq!(run.error_kind(), kind, "{patch}: {}", run.stdout);
        assert_eq!(run.json()["error"]["field"].as_str(), field, "{patch}");
        assert!(
            !run.stdout.contains("definitely-wrong") && !run.stderr.contains("definitely-wrong")
        );
    }
    let cfg = write_json(
        &dir,
        "ok.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let bad_input = write_json(&dir, "in.json", &json!({ "id": 42 }));
    let run = cli(
        &dir,
        &[
            "action",
            "retrieve_workflow",
            "--config",
            &cfg,
            "--input",
            &bad_input,
        ],
    )
    .await;
    assert_eq!(run.error_kind(), "invalid_input");
    assert_eq!(run.json()["error"]["field"], "/id");

    // Usage errors: exit 2, nothing on stdout.
    for args in [
        vec!["action", "list_workflows"],
        vec!["no-such-command"],
        vec!["test-connection", "--config", "/nonexistent.json"],
    ] {
        let run = cli(&dir, &args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    emu.shutdown().await;
}

/// A secret pasted into another field, or given as a list or an object, never reaches the
/// connector and is never printed: the host masks it wherever it appears before the
/// connector runs, and refuses a secret that is not text without echoing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misplaced_or_mistyped_secret_is_neither_shown_nor_handed_over() {
    let emu = start_emulator().await;
    let dir = scratch("cli-secret-shapes");
    let base = form(&emu, "demo-client-credentials", json!({}));
    let secret = base["client_secret"].as_str().unwrap().to_string();
    let cases: [(&str, Value, &str); 4] = [
        ("impersonate_user", json!(secret), "impersonate_user"),
        ("region", json!(secret), "region"),
        ("client_secret", json!([secret]), "client_secret"),
        ("client_secret", json!({ "value": secret }), "client_secret"),
    ];
    for (field, value, blamed) in cases {
        let mut form = base.clone();
        form[field] = value;
        let cfg = write_json(&dir, "form.json", &form);
        let run = cli(&dir, &["test-connection", "--config", &cfg]).await;
        assert_eq!(run.error_kind(), "invalid_config", "{field}");
        assert_eq!(run.json()["error"]["field"], blamed, "{}", run.stdout);
        for output in [&run.stdout, &run.stderr] {
            assert!(!output.contains(&secret), "{field}: the secret was printed");
        }
    }
    assert!(
        api_calls(&emu).await.is_empty(),
        "refused before any request"
    );
    emu.shutdown().await;
}
