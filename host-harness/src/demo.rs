//! `connector-harness demo`: the emulator in-process and a readable walk through the
//! connector — connect, browse, launch, and the errors a recipe builder would meet.

use anyhow::{Context, bail};
use host_harness::{CallError, ConnectionConfig, Runtime, TokenStore, emulator};
use serde_json::{Value, json};

/// `runtime` must allow loopback: the demo's connector reaches the in-process emulator.
pub async fn run(runtime: Runtime) -> anyhow::Result<()> {
    let emu = emulator::start(([127, 0, 0, 1], 0).into()).await?;
    let dir = tempdir()?;
    let tokens = || TokenStore::new(dir.join("tokens.json"));
    let client = |name: &str| {
        emu.seed()
            .clients
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .with_context(|| format!("seed has no client {name}"))
    };
    let cc = client("demo-client-credentials")?;
    let user = emu
        .seed()
        .users
        .first()
        .context("seed has no users")?
        .clone();
    let config =
        |client_id: &str, secret: &str, extra: Value| -> anyhow::Result<ConnectionConfig> {
            let mut form = json!({
                "api_type": "clm_public", "region": "custom", "instance_url": emu.base_url(),
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                "impersonate_user": user.email,
            });
            merge(&mut form, extra);
            ConnectionConfig::from_value(form)
        };

    step("The connector describes itself");
    let manifest = runtime.describe().await?;
    let actions = manifest["actions"]
        .as_array()
        .context("manifest has actions")?;
    say(&format!(
        "{} {} offers {} actions:",
        manifest["name"].as_str().unwrap_or_default(),
        manifest["version"].as_str().unwrap_or_default(),
        actions.len()
    ));
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for group in actions.iter().filter_map(|a| a["group"].as_str()) {
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, n)) => *n += 1,
            None => groups.push((group, 1)),
        }
    }
    for (group, n) in groups {
        say(&format!("  {group:<28} {n} actions"));
    }

    step(&format!(
        "Connect with client credentials, acting as {}",
        user.email
    ));
    let session = runtime
        .connect(
            &config(&cc.client_id, &cc.client_secret, json!({}))?,
            tokens(),
        )
        .await
        .map_err(call)?;
    let who = session.test().await.map_err(call)?;
    say(&format!(
        "Connected as {} <{}> at {}",
        who["user"]["name"].as_str().unwrap_or("?"),
        who["user"]["email"].as_str().unwrap_or("?"),
        who["company"]["name"].as_str().unwrap_or("?")
    ));

    step("Workflow templates (launch forms)");
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .map_err(call)?;
    let templates = schemas["list"].as_array().context("schemas have a list")?;
    for t in templates {
        let fields: Vec<&str> = t["schema"]
            .as_object()
            .map(|s| s.keys().map(String::as_str).collect())
            .unwrap_or_default();
        say(&format!(
            "  {} — {} (fields: {})",
            t["id"].as_str().unwrap_or_default(),
            t["name"].as_str().unwrap_or_default(),
            fields.join(", ")
        ));
    }

    step("Active and paused workflows, 3 at most (the connector pages for you)");
    let listed = session
        .execute(
            "list_workflows",
            &json!({ "status": ["active", "paused"], "max_items": 3 }),
        )
        .await
        .map_err(call)?;
    for w in listed["items"].as_array().context("items")? {
        say(&format!(
            "  {:<6} {:<8} {}",
            w["ironcladId"].as_str().unwrap_or_default(),
            w["status"].as_str().unwrap_or_default(),
            w["title"].as_str().unwrap_or_default()
        ));
    }
    say(&format!(
        "  … {} match in all; truncated: {}",
        listed["count"], listed["truncated"]
    ));

    step("Launch a workflow from the first template");
    let template = &templates[0];
    let launched = session
        .execute("launch_new_workflow", &json!({ "body": { "template": template["id"], "attributes": sample_attributes(&template["schema"]) } }))
        .await
        .map_err(call)?;
    let ironclad_id = launched["ironcladId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    say(&format!(
        "Launched {} “{}” — step {}",
        ironclad_id,
        launched["title"].as_str().unwrap_or_default(),
        launched["step"].as_str().unwrap_or_default()
    ));
    let fetched = session
        .execute("retrieve_workflow", &json!({ "id": ironclad_id }))
        .await
        .map_err(call)?;
    say(&format!(
        "Retrieved it again by {}: status {}",
        ironclad_id,
        fetched["status"].as_str().unwrap_or_default()
    ));
    let waited = session
        .execute(
            "launch_workflow_and_wait",
            &json!({ "body": { "template": template["id"], "attributes": sample_attributes(&template["schema"]) } }),
        )
        .await
        .map_err(call)?;
    say(&format!(
        "Launched {} through the async route (job {}) and waited for it",
        waited["workflow"]["ironcladId"]
            .as_str()
            .unwrap_or_default(),
        waited["asyncJobId"].as_str().unwrap_or_default()
    ));

    step("Errors a recipe builder meets are typed and name the field");
    show(
        session
            .execute(
                "launch_new_workflow",
                &json!({ "body": { "attributes": {} } }),
            )
            .await,
    );
    show(
        session
            .execute("retrieve_workflow", &json!({ "id": "IC-99999" }))
            .await,
    );
    let limited = client("limited-scopes")?;
    let narrow = runtime
        .connect(
            &config(
                &limited.client_id,
                &limited.client_secret,
                json!({ "scopes": "public.workflows.readWorkflows" }),
            )?,
            tokens(),
        )
        .await
        .map_err(call)?;
    show(narrow.execute("list_workflow_schemas", &json!({})).await);
    let wrong = runtime
        .connect(
            &config(&cc.client_id, "not-the-secret", json!({}))?,
            tokens(),
        )
        .await
        .map_err(call)?;
    show(wrong.test().await);
    show(
        runtime
            .connect(
                &config(
                    &cc.client_id,
                    &cc.client_secret,
                    json!({ "region": "mars" }),
                )?,
                tokens(),
            )
            .await
            .map(|_| Value::Null),
    );

    step("Authorization code grant (PKCE): authorize, consent, exchange");
    let ac = client("demo-authorization-code")?;
    let redirect = ac
        .redirect_uris
        .first()
        .context("client has a redirect URI")?
        .clone();
    let ac_session = runtime
        .connect(
            &config(
                &ac.client_id,
                &ac.client_secret,
                json!({ "grant_type": "authorization_code", "impersonate_user": null }),
            )?,
            tokens(),
        )
        .await
        .map_err(call)?;
    let auth = ac_session.authenticator().context("OAuth connection")?;
    let (url, _state) = auth.authorization_url(&redirect)?;
    say(&format!(
        "Authorization URL: {}…",
        &url[..url.len().min(90)]
    ));
    let code = consent(runtime_http(&runtime), &url).await?;
    say("The emulator consented and redirected with a code; exchanging it");
    let grant = auth.exchange(&code, &redirect).await?;
    say(&format!(
        "Tokens stored (0600) — refreshable: {}",
        grant.refreshable
    ));
    let who = ac_session.test().await.map_err(call)?;
    say(&format!(
        "Connected as {} via the authorization code grant",
        who["user"]["email"].as_str().unwrap_or("?")
    ));

    emu.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
    step("Done");
    Ok(())
}

fn runtime_http(runtime: &Runtime) -> &reqwest::Client {
    runtime.http_client()
}

/// Follow the authorization URL like a browser would, up to the redirect carrying the code.
async fn consent(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = http.get(url).send().await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the authorize endpoint did not redirect")?;
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for pair in query.split('&') {
        if let Some(code) = pair.strip_prefix("code=") {
            return Ok(code.to_string());
        }
    }
    bail!("the redirect carried no code: {location}")
}

/// Values for a template's required launch fields, by type.
fn sample_attributes(schema: &Value) -> Value {
    let mut attrs = serde_json::Map::new();
    for (id, field) in schema.as_object().into_iter().flatten() {
        if field["required"] != "always" {
            continue;
        }
        let value = match field["type"].as_str().unwrap_or_default() {
            "number" => json!(12),
            "boolean" => json!(true),
            "date" => json!("2026-12-01T00:00:00.000Z"),
            "email" => json!("counterparty@globex.example"),
            "monetaryAmount" => json!({ "currency": "USD", "amount": 25000 }),
            _ => match field["options"]["values"]
                .as_array()
                .and_then(|v| v.first())
            {
                Some(first) => first.clone(),
                None => json!("Globex Corporation"),
            },
        };
        attrs.insert(id.clone(), value);
    }
    Value::Object(attrs)
}

fn merge(base: &mut Value, extra: Value) {
    for (k, v) in extra.as_object().into_iter().flatten() {
        if v.is_null() {
            base.as_object_mut().map(|o| o.remove(k));
        } else {
            base[k] = v.clone();
        }
    }
}

fn show(result: Result<Value, CallError>) {
    match result {
        Ok(_) => say("  (unexpectedly succeeded)"),
        Err(e) => say(&format!(
            "  ✗ {}",
            serde_json::to_string(&e.to_json()["error"]).unwrap_or_default()
        )),
    }
}

fn call(e: CallError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn say(line: &str) {
    println!("{line}");
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("connector-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
