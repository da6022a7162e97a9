//! `connector-harness studio`: its API as the page uses it (token and Host checks, presets
//! whose secrets stay in the studio, connect, pick lists, dynamic schemas, runs with their
//! traces, polls, webhook deliveries), the committed page bundle against its sources, and a
//! browser walking through the page (Debian's chromium driven by Playwright).

use std::path::PathBuf;
use std::time::Duration;

use host_harness::emulator::ClickwrapFixture;
use host_harness::studio::{Options, Studio};
use serde_json::{Value, json};

use crate::common::{first_user_email, runtime, scratch};

async fn studio() -> Studio {
    let runtime: &'static host_harness::Runtime = Box::leak(Box::new(runtime()));
    Studio::start(
        runtime,
        Options {
            port: 0,
            emulator: true,
            assets_dir: None,
        },
    )
    .await
    .expect("the studio starts")
}

/// A client for the studio's API, with its token.
struct Page<'s> {
    studio: &'s Studio,
    http: reqwest::Client,
}

impl<'s> Page<'s> {
    fn new(studio: &'s Studio) -> Self {
        Page {
            studio,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.studio.addr())
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self
            .http
            .get(self.url(path))
            .header("x-studio-token", self.studio.token())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "GET {path}");
        answer.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let answer = self
            .http
            .post(self.url(path))
            .header("x-studio-token", self.studio.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "POST {path}");
        let text = answer.text().await.unwrap();
        assert_no_secret(&text);
        serde_json::from_str(&text).unwrap()
    }

    /// Connect with the CLM Public preset, as the page sends it (secrets masked).
    async fn connect_clm(&self) -> Value {
        let presets = self.get("/api/presets").await;
        let clm = preset(&presets, "clm_public");
        self.post(
            "/api/connection",
            json!({ "form": clm["form"], "preset": "clm_public" }),
        )
        .await
    }
}

fn preset<'p>(presets: &'p Value, id: &str) -> &'p Value {
    presets["presets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no preset {id}: {presets}"))
}

/// Nothing the studio answers may hold a credential of the emulator's.
fn assert_no_secret(text: &str) {
    for secret in [
        "emulator-cc-secret",
        ClickwrapFixture::ADMIN_ACCESS_TOKEN,
        ClickwrapFixture::ADMIN_CLIENT_SECRET,
    ] {
        assert!(!text.contains(secret), "a secret reached the page: {text}");
    }
}

/// A launch of the emulator's Consulting Agreement that its launch form accepts.
async fn consulting_launch(page: &Page<'_>) -> Value {
    let templates = page.post("/api/options/templates", json!({})).await;
    let consulting = templates["ok"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == "Consulting Agreement")
        .unwrap_or_else(|| panic!("{templates}"))["value"]
        .clone();
    json!({ "body": { "template": consulting, "attributes": {
        "counterpartyName": "Initech",
        "fee": { "currency": "USD", "amount": 1200 },
        "termMonths": 6,
        "serviceRegions": ["Europe"],
        "billingAddress": { "lines": ["1 Initech Way"], "locality": "Austin", "region": "TX", "postcode": "78701", "country": "US" },
        "noticePeriod": { "days": 30 },
        "lineItems": [{ "description": "Discovery", "amount": 500 }],
    } } })
}

fn urls(trace: &Value) -> Vec<String> {
    trace
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["url"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_studios_own_page_with_its_token_may_use_it() {
    let studio = studio().await;
    assert!(studio.addr().ip().is_loopback());
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", studio.addr());
    let status = |r: reqwest::Response| r.status().as_u16();

    // The API: no token, a wrong token, the right one.
    let manifest = url("/api/manifest");
    assert_eq!(status(http.get(&manifest).send().await.unwrap()), 401);
    let wrong = http.get(&manifest).header("x-studio-token", "guess");
    assert_eq!(status(wrong.send().await.unwrap()), 401);
    let right = || http.get(&manifest).header("x-studio-token", studio.token());
    assert_eq!(status(right().send().await.unwrap()), 200);
    // A name rebound to 127.0.0.1 by another site, and a request from another site's page.
    let rebound = right().header("host", format!("evil.example:{}", studio.addr().port()));
    assert_eq!(status(rebound.send().await.unwrap()), 403);
    let foreign = right().header("origin", "https://evil.example");
    assert_eq!(status(foreign.send().await.unwrap()), 403);
    let own = right().header("origin", format!("http://{}", studio.addr()));
    assert_eq!(status(own.send().await.unwrap()), 200);

    // The page needs the token in its URL; it keeps the URL out of Referer headers and runs
    // only its own scripts.
    assert_eq!(status(http.get(url("/")).send().await.unwrap()), 401);
    let page = http.get(studio.url()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| page.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(header("content-security-policy").starts_with("default-src 'self'"));
    assert!(header("content-type").starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/studio.js"), "{html}");
    let script = http.get(url("/assets/studio.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    for missing in [
        "/assets/Cargo.toml",
        "/assets/..%2FCargo.toml",
        "/assets/index.html",
    ] {
        assert_eq!(
            status(http.get(url(missing)).send().await.unwrap()),
            404,
            "{missing}"
        );
    }
    studio.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_keep_their_secrets_and_connections_report_the_field_at_fault() {
    let studio = studio().await;
    let page = Page::new(&studio);
    let presets = page.get("/api/presets").await;
    assert_no_secret(&presets.to_string());
    let ids: Vec<&str> = presets["presets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "clm_public",
            "clm_scim",
            "clickwrap_rest",
            "clickwrap_activity"
        ]
    );
    assert_eq!(
        preset(&presets, "clm_public")["form"]["client_secret"],
        "<secret>"
    );
    assert_eq!(
        preset(&presets, "clickwrap_rest")["form"]["access_token"],
        "<secret>"
    );

    // Not connected yet: every call says what to do first.
    let early = page
        .post(
            "/api/actions/list_all_workflows/run",
            json!({ "input": {} }),
        )
        .await;
    assert_eq!(early["error"]["kind"], "invalid_config", "{early}");

    // A masked secret with neither a preset nor an earlier connection to fill it from.
    let clm = preset(&presets, "clm_public")["form"].clone();
    let orphan = page.post("/api/connection", json!({ "form": clm })).await;
    assert_eq!(orphan["error"]["field"], "client_secret", "{orphan}");

    let connected = page.connect_clm().await;
    let user = first_user_email(studio.emulator().unwrap());
    assert_eq!(
        connected["ok"]["user"]["email"],
        user.as_str(),
        "{connected}"
    );
    assert!(
        connected["ok"]["scopes"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(!urls(&connected["trace"]).is_empty(), "{connected}");

    // A reconnect may leave the secret masked: the studio keeps the one it connected with.
    let mut again = clm.clone();
    again["scopes"] = json!("public.workflows.readWorkflows");
    let reconnected = page.post("/api/connection", json!({ "form": again })).await;
    assert_eq!(
        reconnected["ok"]["scopes"],
        json!(["public.workflows.readWorkflows"]),
        "{reconnected}"
    );

    // A wrong value is reported on its field, before any request.
    let mut mars = clm.clone();
    mars["region"] = json!("mars");
    let refused = page
        .post(
            "/api/connection",
            json!({ "form": mars, "preset": "clm_public" }),
        )
        .await;
    assert_eq!(refused["error"]["kind"], "invalid_config", "{refused}");
    assert_eq!(refused["error"]["field"], "region", "{refused}");
    assert_eq!(refused["trace"], json!([]));

    // Every API type's preset works.
    for id in ["clm_scim", "clickwrap_rest", "clickwrap_activity"] {
        let form = preset(&presets, id)["form"].clone();
        let tested = page
            .post("/api/connection", json!({ "form": form, "preset": id }))
            .await;
        assert!(tested.get("ok").is_some(), "{id}: {tested}");
    }
    studio.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_runs_from_its_pick_lists_and_template_form_with_its_trace() {
    let studio = studio().await;
    let page = Page::new(&studio);
    assert!(page.connect_clm().await.get("ok").is_some());

    let manifest = page.get("/api/manifest").await;
    let launch = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "launch_new_workflow")
        .unwrap();
    let template = &launch["input_schema"]["properties"]["body"]["properties"]["template"];
    let provider = template["x-options"]["provider"].as_str().unwrap();
    let options = page
        .post(&format!("/api/options/{provider}"), json!({ "params": {} }))
        .await;
    let consulting = options["ok"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == "Consulting Agreement")
        .unwrap_or_else(|| panic!("{options}"))["value"]
        .clone();

    // Choosing the template brings its launch form.
    let schema = page
        .post(
            "/api/actions/launch_new_workflow/schema",
            json!({ "input": { "body": { "template": consulting } } }),
        )
        .await;
    let attributes =
        &schema["ok"]["input_schema"]["properties"]["body"]["properties"]["attributes"];
    assert_eq!(
        attributes["properties"]["termMonths"]["type"], "number",
        "{schema}"
    );

    let input = consulting_launch(&page).await;
    assert_eq!(input["body"]["template"], consulting);
    let ran = page
        .post(
            "/api/actions/launch_new_workflow/run",
            json!({ "input": input }),
        )
        .await;
    assert!(ran["ok"]["id"].is_string(), "{ran}");
    let sent = urls(&ran["trace"]);
    assert!(
        sent.iter()
            .any(|u| u.starts_with("POST ") && u.ends_with("/public/api/v1/workflows")),
        "{sent:?}"
    );
    // Each answer's trace is its own call's.
    assert!(!sent.iter().any(|u| u.contains("/oauth/")), "{sent:?}");

    let mut bad = input.clone();
    bad["body"]["attributes"]["termMonths"] = json!("twelve");
    let refused = page
        .post(
            "/api/actions/launch_new_workflow/run",
            json!({ "input": bad }),
        )
        .await;
    assert_eq!(refused["error"]["kind"], "invalid_input", "{refused}");
    assert_eq!(refused["error"]["field"], "/body/attributes/termMonths");
    studio.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_poll_from_their_cursor_and_webhook_deliveries_reach_the_page() {
    let studio = studio().await;
    let page = Page::new(&studio);
    assert!(page.connect_clm().await.get("ok").is_some());
    let poll = |reset: bool| {
        page.post(
            "/api/triggers/workflow_updated/poll",
            json!({ "input": { "since": "2000-01-01T00:00:00Z" }, "reset": reset }),
        )
    };
    let first = poll(false).await;
    let events = first["ok"]["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{first}"));
    assert!(!events.is_empty(), "{first}");
    // The next poll continues from the cursor: nothing delivered before comes again.
    let mut seen: Vec<Value> = events.iter().map(|e| e["id"].clone()).collect();
    let mut next = first.clone();
    while next["ok"]["has_more"] == true {
        next = poll(false).await;
        for e in next["ok"]["events"].as_array().unwrap() {
            assert!(!seen.contains(&e["id"]), "{} came twice", e["id"]);
            seen.push(e["id"].clone());
        }
    }
    let after = poll(false).await;
    assert_eq!(after["ok"]["events"], json!([]), "{after}");
    // A reset starts over.
    let restarted = poll(true).await;
    assert_eq!(restarted["ok"]["events"][0]["id"], events[0]["id"]);

    // A webhook subscribed to the studio's receiver: a launch arrives verified.
    let subscribed = page
        .post(
            "/api/triggers/workflow_launched/subscribe",
            json!({ "input": {} }),
        )
        .await;
    let target = subscribed["ok"]["target"]
        .as_str()
        .unwrap_or_else(|| panic!("{subscribed}"));
    assert!(
        target.starts_with(&format!("http://{}/hooks/", studio.addr())),
        "{target}"
    );
    let launched = page
        .post(
            "/api/actions/launch_new_workflow/run",
            json!({ "input": consulting_launch(&page).await }),
        )
        .await;
    let id = launched["ok"]["id"].clone();
    assert!(id.is_string(), "{launched}");
    let mut delivered = Value::Null;
    for _ in 0..100 {
        let log = page.get("/api/deliveries?after=0").await;
        if let Some(d) = log["deliveries"].as_array().unwrap().iter().find(|d| {
            d["events"].as_array().is_some_and(|e| {
                e.iter()
                    .any(|e| e.to_string().contains(id.as_str().unwrap()))
            })
        }) {
            delivered = d.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        delivered["trigger"], "workflow_launched",
        "no delivery of {id}"
    );

    // A forgery is answered 401 and shown refused.
    let forged = reqwest::Client::new()
        .post(target)
        .header("content-type", "application/json")
        .body(r#"{"event":"workflow_launched","payload":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let log = page
        .get(&format!("/api/deliveries?after={}", delivered["seq"]))
        .await;
    let refused = log["deliveries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(refused["refused"]["kind"], "webhook_rejected", "{log}");

    let gone = page
        .post("/api/triggers/workflow_launched/unsubscribe", json!({}))
        .await;
    assert_eq!(gone["ok"], json!({}), "{gone}");
    let again = page
        .post("/api/triggers/workflow_launched/unsubscribe", json!({}))
        .await;
    assert_eq!(again["error"]["kind"], "not_found", "{again}");
    studio.stop().await;
}

/// The repository's `studio/` directory.
fn studio_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../studio")
}

/// What the browser test needs, or why it cannot run: a failure under CI; outside it,
/// `CONNECTOR_SKIP_BROWSER=1` skips loudly.
fn browser_prerequisites() -> Option<PathBuf> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let playwright = studio_dir().join("node_modules/playwright-core");
    let missing: Vec<String> = [
        (!chromium.exists()).then(|| format!("chromium ({})", chromium.display())),
        (!playwright.exists()).then(|| "studio/node_modules (npm install in studio/)".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Some(chromium);
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !in_ci && std::env::var_os("CONNECTOR_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!(
            "NOT RUN: {} missing and CONNECTOR_SKIP_BROWSER=1",
            missing.join(", ")
        );
        return None;
    }
    panic!(
        "missing for the browser test: {} (scripts/test installs them; outside CI, \
         CONNECTOR_SKIP_BROWSER=1 skips this test)",
        missing.join(", ")
    );
}

/// `studio/node_modules` (scripts/test runs `npm install` there), or why it is missing: a
/// failure under CI; outside it, `CONNECTOR_SKIP_BROWSER=1` skips loudly.
fn page_toolchain() -> bool {
    let installed = studio_dir().join("node_modules/esbuild").exists();
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !installed && !in_ci && std::env::var_os("CONNECTOR_SKIP_BROWSER").is_some_and(|v| v == "1")
    {
        eprintln!("NOT RUN: studio/node_modules is missing and CONNECTOR_SKIP_BROWSER=1");
        return false;
    }
    assert!(
        installed,
        "studio/node_modules is missing: run `npm install` in studio/ (scripts/test does; outside \
         CI, CONNECTOR_SKIP_BROWSER=1 skips this test)"
    );
    true
}

#[test]
fn the_embedded_page_is_what_its_sources_build() {
    if !page_toolchain() {
        return;
    }
    let out = scratch("studio-bundle");
    let built = std::process::Command::new("node")
        .arg(studio_dir().join("build.mjs"))
        .arg("--outdir")
        .arg(&out)
        .output()
        .expect("node runs");
    assert!(
        built.status.success(),
        "the page's build failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    for name in ["index.html", "studio.js", "studio.css"] {
        let fresh = std::fs::read(out.join(name)).unwrap();
        let committed = std::fs::read(studio_dir().join("dist").join(name)).unwrap();
        assert!(
            fresh == committed,
            "studio/dist/{name} is not what studio/src builds: run `npm run build` in studio/ and commit studio/dist"
        );
    }
    let _ = std::fs::remove_dir_all(out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_walks_through_the_studio() {
    let Some(chromium) = browser_prerequisites() else {
        return;
    };
    let dir = scratch("studio-browser");
    let mut studio = tokio::process::Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .arg("--component")
        .arg(crate::common::component_path())
        .arg("--cache-dir")
        .arg(crate::common::cache_dir())
        .args(["studio", "--emulator", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = studio.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the studio printed its URL within a minute")
        .unwrap()
        .expect("the studio printed its URL");
    let url = serde_json::from_str::<Value>(&first).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/studio-walkthrough");
    // This run's screenshots only (a failure.png of an earlier run would mislead).
    let _ = std::fs::remove_dir_all(&shots);
    let walk = tokio::process::Command::new("node")
        .arg(studio_dir().join("tests/walkthrough.mjs"))
        .arg("--url")
        .arg(&url)
        .arg("--out")
        .arg(&shots)
        .arg("--chromium")
        .arg(&chromium)
        .output();
    let walked = tokio::time::timeout(Duration::from_secs(240), walk)
        .await
        .expect("the walkthrough ended within 4 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&walked.stdout);
    let stderr = String::from_utf8_lossy(&walked.stderr);
    eprintln!("--- walkthrough stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(
        walked.status.success(),
        "the walkthrough failed (screenshots in {})",
        shots.display()
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(summary["workflow_id"].is_string(), "{summary}");
    let _ = studio.kill().await;
    let _ = std::fs::remove_dir_all(dir);
}
