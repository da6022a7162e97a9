//! Shared setup for the integration tests: the compiled component, an emulator per test,
//! connection configs, and the CLI binary.

pub mod scripted;

use std::path::PathBuf;
use std::process::Command;

use host_harness::emulator::{self, OAuthClient, RunningEmulator};
use host_harness::{CallError, ConnectionConfig, Runtime, RuntimeOptions, Session, TokenStore};
use serde_json::{Value, json};

/// The release component built by `scripts/test` (or `$CONNECTOR_COMPONENT`). Missing is a
/// failure, not a skip: these tests exist to drive the real component.
pub fn component_path() -> PathBuf {
    built_component("CONNECTOR_COMPONENT", "ironclad-connector")
}

/// The misbehaving fixture component (`host-harness/fixture-guest`), built by `scripts/test`
/// (or `$FIXTURE_GUEST_COMPONENT`).
pub fn fixture_guest_path() -> PathBuf {
    built_component("FIXTURE_GUEST_COMPONENT", "fixture-guest")
}

/// `$env_var`, else the release build of `package` in the workspace's target directory.
fn built_component(env_var: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
                "../target/wasm32-wasip2/release/{}.wasm",
                package.replace('-', "_")
            ))
        });
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --release --target wasm32-wasip2 -p {package}` (scripts/test does)",
        path.display()
    );
    path
}

/// A loopback port nothing listens on now (for a server the test starts next, or for a
/// refused connection).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/connector-cache")
}

pub fn runtime() -> Runtime {
    Runtime::load(
        &component_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            verbose: false,
            ..host_harness::ironclad::options()
        },
    )
    .expect("component loads")
}

/// The component under `limits` (a low request cap, a short deadline), otherwise as
/// [`runtime`].
pub fn runtime_with(limits: host_harness::sandbox::Limits) -> Runtime {
    Runtime::load(
        &component_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            limits,
            ..host_harness::ironclad::options()
        },
    )
    .expect("component loads")
}

/// The fixture guest under `options` (loopback allowed, the shared cache and the fixture's
/// egress declaration, whatever `options` says).
pub fn fixture_runtime(options: RuntimeOptions) -> Runtime {
    Runtime::load(
        &fixture_guest_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            egress: fixture_egress(),
            ..options
        },
    )
    .expect("the fixture guest loads")
}

/// What the fixture guest's package would declare: the origin in its form's `origin` field.
pub fn fixture_egress() -> host_harness::egress::Egress {
    host_harness::egress::Egress {
        declaration: host_harness::egress::EgressDeclaration::parse(&["https://{origin}"]).unwrap(),
        operator_origins: None,
    }
}

/// A session of the fixture guest that may reach `origins` (its plan asks for all of them;
/// its form's `origin`, which the declaration allows, is the first).
pub async fn fixture_session<'r>(rt: &'r Runtime, origins: &[&str], name: &str) -> Session<'r> {
    rt.connect(
        &config(json!({ "origins": origins, "origin": origins.first() })),
        tokens(&scratch(name)),
    )
    .await
    .expect("the fixture connects")
}

/// The host's `http-error` the fixture's `fetch` got, as its Debug text (empty when it got
/// an answer).
pub async fn fetch_error(session: &Session<'_>, request: Value) -> String {
    let out = session.execute("fetch", &request).await.unwrap();
    out["error"].as_str().unwrap_or_default().to_string()
}

/// Consent as a browser would: follow the authorization URL to the emulator's redirect and
/// return the `code` it carries.
pub async fn authorization_code(url: &str) -> String {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap();
    location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string()
}

/// `fixtures/egress/non-public-spellings.txt` (the SSRF table), with PORT filled in.
pub fn spellings(port: u16) -> Vec<String> {
    include_str!("../../../fixtures/egress/non-public-spellings.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.replace("PORT", &port.to_string()))
        .collect()
}

/// A private scratch directory per test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A committed contract (`fixtures/contract/NAME.json`, facts of Ironclad's official OpenAPI
/// documents written by `catalog-gen`).
pub fn contract_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/contract/{name}.json"))
}

/// Every `operationId` of a committed contract, sorted.
pub fn contract_operation_ids(name: &str) -> Vec<String> {
    let path = contract_path(name);
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut ids: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// An emulator from the built-in seed that judges every Public API, SCIM and OAuth request,
/// and its own answers to them, against Ironclad's official OpenAPI documents as committed in
/// `fixtures/contract/`: a bad request is answered `CONTRACT_VIOLATION` 400 (SCIM-shaped under
/// `/scim/v2`), a bad answer makes the emulator panic when the test drops it.
pub async fn start_emulator() -> RunningEmulator {
    static CONTRACTS: std::sync::OnceLock<Vec<emulator::Contract>> = std::sync::OnceLock::new();
    let contracts = CONTRACTS.get_or_init(|| {
        ["clm-public", "clm-scim", "oauth"]
            .map(|name| emulator::Contract::load(contract_path(name)).expect("the contract loads"))
            .to_vec()
    });
    let addr = ([127, 0, 0, 1], 0).into();
    emulator::start_with_contracts(addr, emulator::default_seed(), contracts.clone())
        .await
        .expect("emulator starts")
}

pub fn client(emu: &RunningEmulator, name: &str) -> OAuthClient {
    emu.seed()
        .clients
        .iter()
        .find(|c| c.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("seed client {name}"))
}

pub fn first_user_email(emu: &RunningEmulator) -> String {
    emu.seed().users[0].email.clone()
}

/// A client-credentials form against the emulator; `patch` overrides fields (null removes).
pub fn form(emu: &RunningEmulator, client_name: &str, patch: Value) -> Value {
    let c = client(emu, client_name);
    let mut form = json!({
        "api_type": "clm_public",
        "region": "custom",
        "instance_url": emu.base_url(),
        "grant_type": if c.grant_types.iter().any(|g| g == "client_credentials") { "client_credentials" } else { "authorization_code" },
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "impersonate_user": first_user_email(emu),
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            form.as_object_mut().unwrap().remove(k);
        } else {
            form[k] = v.clone();
        }
    }
    form
}

/// A Clickwrap REST form against the emulator with an API key's access token (the default
/// credential: sent as it is, never exchanged).
pub fn clickwrap_token_form(emu: &RunningEmulator, access_token: &str) -> Value {
    json!({ "api_type": "clickwrap_rest", "region": "custom", "instance_url": emu.base_url(),
            "access_token": access_token })
}

/// A Clickwrap REST form that exchanges an API key's client id and secret for a token, chosen
/// explicitly (the exchange may revoke the key's existing token).
pub fn clickwrap_exchange_form(emu: &RunningEmulator, client_id: &str, secret: &str) -> Value {
    json!({ "api_type": "clickwrap_rest", "region": "custom", "instance_url": emu.base_url(),
            "clickwrap_credential": "api_key_exchange",
            "client_id": client_id, "client_secret": secret })
}

/// A Clickwrap Activity form against the emulator.
pub fn clickwrap_activity_form(emu: &RunningEmulator, sid: &str) -> Value {
    json!({ "api_type": "clickwrap_activity", "region": "custom", "instance_url": emu.base_url(),
            "site_access_id": sid })
}

pub fn config(form: Value) -> ConnectionConfig {
    ConnectionConfig::from_value(form).unwrap()
}

pub fn tokens(dir: &std::path::Path) -> TokenStore {
    TokenStore::new(dir.join("tokens.json"))
}

/// The requests the emulator received (Authorization redacted by the emulator).
pub async fn requests(emu: &RunningEmulator) -> Vec<Value> {
    let url = format!("{}/_emulator/requests", emu.base_url());
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body.as_array()
        .cloned()
        .or_else(|| body["requests"].as_array().cloned())
        .expect("request log is a list")
}

pub async fn admin(emu: &RunningEmulator, path: &str) {
    admin_with(emu, path, json!({})).await
}

/// POST a JSON body to an `/_emulator/` control (throttle, webhook-key/rotate, …).
pub async fn admin_with(emu: &RunningEmulator, path: &str, body: Value) {
    let url = format!("{}/_emulator/{path}", emu.base_url());
    let status = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "admin {path}: {status}");
}

/// POST a JSON body to an `/_emulator/` control and read its JSON answer.
pub async fn admin_answer(emu: &RunningEmulator, path: &str, body: Value) -> Value {
    let url = format!("{}/_emulator/{path}", emu.base_url());
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "admin {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// The result of one CLI run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn error_kind(&self) -> String {
        assert_eq!(
            self.code, 1,
            "expected a connector error, stderr: {}",
            self.stderr
        );
        self.json()["error"]["kind"].as_str().unwrap().to_string()
    }
}

/// `connector-harness` with the test component, loopback allowed, the shared compile cache and
/// a private token store in `dir`; add the command's arguments.
pub fn harness(dir: &std::path::Path) -> Command {
    harness_with(dir, &component_path())
}

/// `connector-harness` with `component` instead of the connector.
pub fn harness_with(dir: &std::path::Path, component: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector-harness"));
    cmd.arg("--component")
        .arg(component)
        .arg("--allow-loopback")
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg("--token-store")
        .arg(dir.join("tokens.json"));
    cmd
}

/// Run `connector-harness` with the test component, loopback allowed and a private token store.
pub async fn cli(dir: &std::path::Path, args: &[&str]) -> Run {
    cli_with_component(dir, &component_path(), args).await
}

/// Run several `connector-harness` commands at once (one process each), as `cli` does;
/// the runs come back in the order given.
pub async fn cli_at_once(dir: &std::path::Path, runs: &[Vec<String>]) -> Vec<Run> {
    let handles: Vec<_> = runs
        .iter()
        .map(|args| {
            let mut cmd = harness(dir);
            cmd.args(args);
            tokio::spawn(run_command(cmd))
        })
        .collect();
    let mut done = Vec::new();
    for handle in handles {
        done.push(handle.await.unwrap());
    }
    done
}

/// Run `connector-harness` with `component`, loopback allowed and a private token store.
pub async fn cli_with_component(
    dir: &std::path::Path,
    component: &std::path::Path,
    args: &[&str],
) -> Run {
    let mut cmd = harness_with(dir, component);
    cmd.args(args);
    run_command(cmd).await
}

/// Run `connector-harness --package PACKAGE` (no `--component`), loopback allowed and a
/// private token store.
pub async fn cli_package(dir: &std::path::Path, package: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector-harness"));
    cmd.args(["--package", package, "--allow-loopback", "--cache-dir"])
        .arg(cache_dir())
        .arg("--token-store")
        .arg(dir.join("tokens.json"))
        .args(args);
    run_command(cmd).await
}

/// Run a prepared `connector-harness` command and echo what it printed into the suite's log.
pub async fn run_command(mut cmd: Command) -> Run {
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("harness runs"))
        .await
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    // Everything the binary printed becomes part of the suite's output, which
    // `scripts/test` searches for secrets (`tests/secret_leaks.rs`). The arguments are not
    // echoed: a test may pass an authorization code.
    eprintln!(
        "[connector-harness exit {}]\n--- stdout\n{}\n--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    run
}

/// Write JSON to a file in `dir` and return its path as a string.
pub fn write_json(dir: &std::path::Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

/// A connector error as the CLI prints it (`{kind, message, field, details}`).
/// A path in the repository, as text (for command-line arguments).
pub fn repo(rel: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

pub fn report(e: CallError) -> Value {
    e.to_json()["error"].clone()
}

/// A connector error report is `invalid_input` naming `field`.
pub fn assert_invalid_input(e: &Value, field: &str) {
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some(field)),
        "{e}"
    );
}

/// A pick list refused on the session's connection before any request: `invalid_config` on
/// `api_type`, naming the API type the provider `needs`.
pub async fn assert_provider_refused(session: &Session<'_>, provider: &str, needs: &str) {
    let e = report(
        session
            .list_options(provider, &json!({}), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_config"), Some("api_type")),
        "{provider}: {e}"
    );
    assert!(e["message"].as_str().unwrap().contains(needs), "{e}");
}

/// A client-credentials session against the emulator; `patch` overrides form fields.
pub async fn connect_with<'r>(
    rt: &'r Runtime,
    emu: &RunningEmulator,
    dir: &std::path::Path,
    patch: Value,
) -> Session<'r> {
    rt.connect(
        &config(form(emu, "demo-client-credentials", patch)),
        tokens(dir),
    )
    .await
    .unwrap()
}

/// A session acting as `who` (a seed user's email or id).
pub async fn session_as<'r>(
    rt: &'r Runtime,
    emu: &RunningEmulator,
    dir: &std::path::Path,
    who: &str,
) -> Session<'r> {
    connect_with(rt, emu, dir, json!({ "impersonate_user": who })).await
}

/// A default session with its own scratch directory named `name`.
pub async fn session_in<'r>(rt: &'r Runtime, emu: &RunningEmulator, name: &str) -> Session<'r> {
    connect_with(rt, emu, &scratch(name), json!({})).await
}

/// The Public API requests in the log (OAuth token calls left out).
pub async fn api_calls(emu: &RunningEmulator) -> Vec<Value> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/public/api/v1/"))
        .collect()
}

/// Requests the contract layer refused (empty when every request matched the spec).
pub async fn contract_violations(emu: &RunningEmulator) -> Vec<Value> {
    let url = format!("{}/_emulator/contract-violations", emu.base_url());
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body.as_array()
        .cloned()
        .or_else(|| body["violations"].as_array().cloned())
        .expect("violations are a list")
}

/// A plausible value for a launch-form field of the emulator's templates.
pub fn sample(field: &Value) -> Value {
    match field["type"].as_str().unwrap_or_default() {
        "number" => json!(3),
        "boolean" => json!(false),
        "date" => json!("2026-01-15T00:00:00.000Z"),
        "email" => json!("legal@initech.example"),
        "monetaryAmount" => json!({ "currency": "USD", "amount": 1200 }),
        _ => field["options"]["values"][0]
            .as_str()
            .map(|s| json!(s))
            .unwrap_or(json!("Initech")),
    }
}

/// Launch a workflow from the first template with its required fields filled in and
/// `counterpartyName` set; returns the launched workflow.
pub async fn launch_sample(session: &Session<'_>, counterparty: &str) -> Value {
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap();
    let template = &schemas["list"][0];
    let mut attrs = serde_json::Map::new();
    for (k, f) in template["schema"].as_object().unwrap() {
        if f["required"] == "always" {
            attrs.insert(k.clone(), sample(f));
        }
    }
    attrs.insert("counterpartyName".into(), json!(counterparty));
    session
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": template["id"], "attributes": attrs } }),
        )
        .await
        .unwrap()
}

/// The one Public API request the last call made (the log reset before it).
pub async fn only_request(emu: &RunningEmulator) -> Value {
    let log = api_calls(emu).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    log[0].clone()
}

/// An upstream (Ironclad) error: status, code, and the param surfaced as `field`.
pub fn assert_upstream(e: &Value, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], status, "{e}");
    assert_eq!(e["details"]["code"], code, "{e}");
    assert_eq!(e["field"].as_str(), field, "{e}");
}

/// Every request the connector sent, and every answer, passed the OpenAPI contract.
pub async fn assert_no_violations(emu: &RunningEmulator) {
    let violations = contract_violations(emu).await;
    assert!(
        violations.is_empty(),
        "contract violations: {violations:#?}"
    );
}

/// A session on `form` with its own scratch directory named `name`.
pub async fn open<'r>(rt: &'r Runtime, form: Value, name: &str) -> Session<'r> {
    rt.connect(&config(form), tokens(&scratch(name)))
        .await
        .unwrap()
}

/// The output of a call that must succeed (a failure panics with its report).
pub async fn run(session: &Session<'_>, action: &str, input: Value) -> Value {
    session
        .execute(action, &input)
        .await
        .unwrap_or_else(|e| panic!("{action} {input}: {}", report(e)))
}

/// The error report of a call that must fail (a success panics with its output).
pub async fn refused(session: &Session<'_>, action: &str, input: Value) -> Value {
    match session.execute(action, &input).await {
        Ok(v) => panic!("{action} succeeded: {v}"),
        Err(e) => report(e),
    }
}

/// A session whose token carries only `public.workflows.readWorkflows` (the seed's
/// `limited-scopes` client): for the refusals of every other scope.
pub async fn read_workflows_only<'r>(
    rt: &'r Runtime,
    emu: &RunningEmulator,
    dir: &std::path::Path,
) -> Session<'r> {
    let form = form(
        emu,
        "limited-scopes",
        json!({ "scopes": "public.workflows.readWorkflows" }),
    );
    rt.connect(&config(form), tokens(dir)).await.unwrap()
}
