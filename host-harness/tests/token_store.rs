//! The token store shared by processes: two `connector-harness` processes renew two
//! different connections in one store file at once, many times over, and every rotated
//! refresh token survives (a lost one would be a spent token left in the store, and the
//! next renewal would fail with `invalid_grant`). And a store that cannot be written never
//! costs the user their refresh token.

use crate::common;

use common::*;
use host_harness::emulator;
use serde_json::{Value, json};

/// Renewals per process. Every call renews: the emulator's tokens live 30 s, less than the
/// host's 60 s renewal margin.
const ROUNDS: usize = 40;

async fn short_lived_emulator() -> emulator::RunningEmulator {
    let mut seed = emulator::default_seed();
    seed.token_ttl_seconds = 30;
    emulator::start_with_seed("127.0.0.1:0".parse().unwrap(), seed)
        .await
        .unwrap()
}

/// An authorization-code connection whose scopes make its store key its own.
fn connection(emu: &emulator::RunningEmulator, scopes: &str) -> Value {
    form(
        emu,
        "demo-authorization-code",
        json!({ "grant_type": "authorization_code", "impersonate_user": null, "scopes": scopes }),
    )
}

/// Consent and exchange through the library, into `dir`'s token store.
async fn authorize(emu: &emulator::RunningEmulator, dir: &std::path::Path, form: &Value) {
    let rt = runtime();
    let session = rt
        .connect(&config(form.clone()), tokens(dir))
        .await
        .unwrap();
    let auth = session.authenticator().unwrap();
    let redirect = client(emu, "demo-authorization-code").redirect_uris[0].clone();
    let (url, _) = auth.authorization_url(&redirect).unwrap();
    let code = authorization_code(&url).await;
    auth.exchange(&code, &redirect).await.unwrap();
}

async fn token_requests(emu: &emulator::RunningEmulator) -> usize {
    requests(emu)
        .await
        .iter()
        .filter(|r| r["path"] == "/oauth/token")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_renewing_different_connections_keep_every_rotated_refresh_token() {
    let emu = short_lived_emulator().await;
    let dir = scratch("token-race");
    let forms = [
        connection(&emu, "public.workflows.readWorkflows"),
        connection(&emu, "public.records.readRecords"),
    ];
    let mut configs = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        authorize(&emu, &dir, form).await;
        configs.push(write_json(&dir, &format!("conn-{i}.json"), form));
    }
    let before = token_requests(&emu).await;

    // Two processes at a time, each renewing its own connection ROUNDS times.
    let children: Vec<_> = configs
        .iter()
        .map(|cfg| {
            let mut loop_cmd = std::process::Command::new("bash");
            let harness = harness(&dir);
            let program = harness.get_program().to_string_lossy().into_owned();
            let args: Vec<String> = harness
                .get_args()
                .map(|a| format!("'{}'", a.to_string_lossy()))
                .collect();
            loop_cmd.arg("-c").arg(format!(
                "for i in $(seq {ROUNDS}); do '{program}' {} test-connection --config '{cfg}' >/dev/null || exit 1; done",
                args.join(" ")
            ));
            loop_cmd.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "every renewal succeeded: {status}");
    }
    let renewals = token_requests(&emu).await - before;
    assert!(
        renewals >= 2 * ROUNDS,
        "each call renewed its token: {renewals} renewals"
    );

    // Whatever the interleaving, each connection's latest refresh token is in the store.
    for cfg in &configs {
        let run = cli(&dir, &["test-connection", "--config", cfg]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    emu.shutdown().await;
}

/// A store whose directory cannot be written: the renewal is refused before the refresh
/// token is spent (it would be lost), as a host failure, not an authentication one. Root
/// ignores directory permissions, so as root the CLI runs as `nobody` (`setpriv`).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_store_never_spends_the_refresh_token() {
    use std::os::unix::fs::PermissionsExt;
    let emu = short_lived_emulator().await;
    let dir = scratch("token-readonly");
    let form = connection(&emu, "public.workflows.readWorkflows");
    authorize(&emu, &dir, &form).await;
    let cfg = write_json(&dir, "conn.json", &form);
    let store_dir = dir.join("store");
    std::fs::create_dir_all(&store_dir).unwrap();
    let store = store_dir.join("tokens.json");
    std::fs::rename(dir.join("tokens.json"), &store).unwrap();
    let root = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
        == "0";
    if root {
        for path in [&store_dir, &store] {
            std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
        }
    }
    let run_once = |store: std::path::PathBuf, cfg: String| async move {
        let harness = env!("CARGO_BIN_EXE_connector-harness");
        let mut cmd = if root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", harness]);
            c
        } else {
            std::process::Command::new(harness)
        };
        cmd.arg("--component")
            .arg(component_path())
            .arg("--allow-loopback")
            .arg("--cache-dir")
            .arg(cache_dir())
            .arg("--token-store")
            .arg(&store)
            .args(["test-connection", "--config", &cfg]);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        eprintln!(
            "[connector-harness exit {:?}]\n{stdout}\n{stderr}",
            out.status.code()
        );
        (out.status.code(), stdout, stderr)
    };

    std::fs::set_permissions(&store_dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let before = token_requests(&emu).await;
    let (code, stdout, stderr) = run_once(store.clone(), cfg.clone()).await;
    assert_eq!(code, Some(1), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["error"]["kind"], "internal",
        "a local failure, not an auth one: {report}"
    );
    assert!(stderr.contains("token store"), "{stderr}");
    assert_eq!(
        token_requests(&emu).await,
        before,
        "the refresh token was not spent"
    );

    // Writable again: the same refresh token still works.
    std::fs::set_permissions(&store_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (code, _, stderr) = run_once(store.clone(), cfg.clone()).await;
    assert_eq!(code, Some(0), "{stderr}");
    emu.shutdown().await;
}
