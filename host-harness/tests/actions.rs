//! The connector's actions, driven through the compiled component and the wasmtime host
//! against the emulator.

use crate::common;

use common::*;
use serde_json::{Value, json};

fn queries_to(log: &[Value], path_suffix: &str) -> Vec<String> {
    log.iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(path_suffix)))
        .map(|r| r["query"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_lists_every_generated_action_with_real_schemas() {
    let manifest = runtime().describe().await.unwrap();
    let mut generated: Value =
        serde_json::from_str(include_str!("../../fixtures/catalog/clm-public.json")).unwrap();
    let scim: Value =
        serde_json::from_str(include_str!("../../fixtures/catalog/clm-scim.json")).unwrap();
    generated
        .as_array_mut()
        .unwrap()
        .extend(scim.as_array().unwrap().iter().cloned());
    let keys: Vec<&str> = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["operation"].is_string())
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = generated
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, expected);
    for key in [
        "list_workflows",
        "retrieve_workflow",
        "launch_new_workflow",
        "list_workflow_schemas",
        "retrieve_workflow_schema",
    ] {
        assert!(keys.contains(&key), "{key} missing");
    }
    // The Clickwrap API types' actions are checked in clickwrap.rs.
    let all_keys: Vec<&str> = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .filter(|k| !k.starts_with("clickwrap_"))
        .collect();
    assert_eq!(all_keys.len(), keys.len() + 3, "plus the composed actions");
    assert!(all_keys.ends_with(&[
        "launch_workflow_and_wait",
        "launch_workflow_with_files",
        "raw_request"
    ]));
    for action in manifest["actions"].as_array().unwrap() {
        assert_eq!(action["input_schema"]["type"], "object");
        assert_eq!(action["output_schema"]["type"], "object");
        // The spec gives the verification key no scope; raw_request needs whatever its path needs.
        // Clickwrap tokens carry site permissions, not scopes.
        let key = action["key"].as_str().unwrap();
        if !["raw_request", "retrieve_webhook_verification_key"].contains(&key)
            && !key.starts_with("clickwrap_")
        {
            assert!(!action["scopes"].as_array().unwrap().is_empty(), "{action}");
        }
    }
    let list = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "list_workflows")
        .unwrap();
    assert_eq!(list["operation"], "list-all-workflows");
    assert_eq!(list["hints"]["read_only"], true);
    assert_eq!(
        manifest["connection_schema"]["properties"]["client_secret"]["x-secret"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_workflows_follows_pages_up_to_max_items() {
    let emu = start_emulator().await;
    let dir = scratch("paging");
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;
    let all = ["active", "paused", "completed", "cancelled"];

    let everything = session
        .execute("list_workflows", &json!({ "status": all }))
        .await
        .unwrap();
    let seeded = everything["count"].as_u64().unwrap();
    assert_eq!(everything["items"].as_array().unwrap().len() as u64, seeded);
    assert_eq!(everything["truncated"], false);

    // Grow past one page of 100 with launches, then list again: two requests, nothing lost.
    let template = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap()["list"][0]
        .clone();
    let required: Vec<(String, Value)> = template["schema"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, f)| f["required"] == "always")
        .map(|(k, f)| (k.clone(), sample(f)))
        .collect();
    let needed = 101 - seeded;
    for i in 0..needed {
        let mut attrs = serde_json::Map::from_iter(required.iter().cloned());
        attrs.insert(
            "counterpartyName".into(),
            json!(format!("Counterparty {i}")),
        );
        session
            .execute(
                "launch_new_workflow",
                &json!({ "body": { "template": template["id"], "attributes": attrs } }),
            )
            .await
            .unwrap();
    }
    admin(&emu, "reset-request-log").await;
    let page = session
        .execute(
            "list_workflows",
            &json!({ "status": all, "max_items": 1000 }),
        )
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 101);
    let mut ids: Vec<&str> = items.iter().map(|w| w["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 101, "no duplicates across pages");
    let log = requests(&emu).await;
    let queries = queries_to(&log, "/public/api/v1/workflows");
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert!(
        queries[0].contains("page=0") && queries[0].contains("pageSize=100"),
        "{}",
        queries[0]
    );
    assert!(queries[1].contains("page=1"), "{}", queries[1]);
    assert!(
        queries[0].contains("status=active%2Cpaused%2Ccompleted%2Ccancelled"),
        "{}",
        queries[0]
    );

    // A small max_items costs one exact-size request.
    admin(&emu, "reset-request-log").await;
    let few = session
        .execute("list_workflows", &json!({ "max_items": 3 }))
        .await
        .unwrap();
    assert_eq!(few["items"].as_array().unwrap().len(), 3);
    assert_eq!(few["truncated"], true);
    let queries = queries_to(&requests(&emu).await, "/public/api/v1/workflows");
    assert_eq!(queries.len(), 1);
    assert!(queries[0].contains("pageSize=3"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_reach_ironclad() {
    let emu = start_emulator().await;
    let dir = scratch("filters");
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;
    let all = session
        .execute(
            "list_workflows",
            &json!({ "status": ["active", "paused", "completed", "cancelled"] }),
        )
        .await
        .unwrap();
    let first = &all["items"][0];
    let template = first["template"].as_str().unwrap();
    let by_template = session.execute("list_workflows", &json!({ "status": ["active", "paused", "completed", "cancelled"], "template": template })).await.unwrap();
    let items = by_template["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.iter().all(|w| w["template"] == template));
    assert!(items.len() < all["items"].as_array().unwrap().len());

    let title = first["title"].as_str().unwrap();
    let filter = format!("Equals([title], '{}')", title.replace('\'', "\\'"));
    let by_filter = session
        .execute(
            "list_workflows",
            &json!({ "status": ["active", "paused", "completed", "cancelled"], "filter": filter }),
        )
        .await
        .unwrap();
    assert!(
        by_filter["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["title"] == title)
    );

    let paused = session
        .execute("list_workflows", &json!({ "status": ["paused"] }))
        .await
        .unwrap();
    assert!(
        paused["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["status"] == "paused")
    );

    let since = session.execute("list_workflows", &json!({ "status": ["active", "paused", "completed", "cancelled"], "lastUpdated": first["lastUpdated"] })).await.unwrap();
    let cutoff = first["lastUpdated"].as_str().unwrap();
    assert!(
        since["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["lastUpdated"].as_str().unwrap() >= cutoff)
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_then_retrieve_by_both_ids() {
    let emu = start_emulator().await;
    let dir = scratch("launch");
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap();
    let template = &schemas["list"][0];
    let one = session
        .execute("retrieve_workflow_schema", &json!({ "id": template["id"] }))
        .await
        .unwrap();
    assert_eq!(one["name"], template["name"]);
    let log = requests(&emu).await;
    assert!(
        queries_to(&log, "/workflow-schemas")
            .iter()
            .all(|q| q.contains("form=launch")),
        "form=launch is always sent"
    );

    let mut attrs = serde_json::Map::new();
    for (k, f) in template["schema"].as_object().unwrap() {
        if f["required"] == "always" {
            attrs.insert(k.clone(), sample(f));
        }
    }
    attrs.insert("counterpartyName".into(), json!("Umbrella Corp"));
    let launched = session
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": template["id"], "attributes": attrs } }),
        )
        .await
        .unwrap();
    let id = launched["id"].as_str().unwrap();
    let ic = launched["ironcladId"].as_str().unwrap();
    for key in [id, ic] {
        let got = session
            .execute("retrieve_workflow", &json!({ "id": key }))
            .await
            .unwrap();
        assert_eq!(got["id"], id);
        assert_eq!(got["attributes"]["counterpartyName"], "Umbrella Corp");
        assert_eq!(got["template"], template["id"]);
    }
    let creator = launched["creator"]["email"].as_str().unwrap_or_default();
    assert_eq!(
        creator,
        first_user_email(&emu),
        "the impersonated user launched it"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let dir = scratch("badinput");
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;
    admin(&emu, "reset-request-log").await;
    let cases = [
        (
            "launch_new_workflow",
            json!({ "body": { "attributes": {} } }),
            "/body/template",
        ),
        ("retrieve_workflow", json!({}), "/id"),
        ("retrieve_workflow", json!({ "id": "" }), "/id"),
        ("list_workflows", json!({ "status": ["done"] }), "/status/0"),
        ("list_workflows", json!({ "max_items": 0 }), "/max_items"),
        ("list_workflows", json!({ "pageSize": 5 }), "/pageSize"),
    ];
    for (action, input, field) in cases {
        let e = report(session.execute(action, &input).await.unwrap_err());
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    let e = report(
        session
            .execute("no_such_action", &json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "invalid_input");
    assert!(requests(&emu).await.is_empty(), "nothing was sent");

    // The template's launch form makes its required fields required: refused naming the
    // attribute, after reading the form and before launching.
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap();
    let template = schemas["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"]["paperSource"]["required"] == "always")
        .expect("a template that requires paperSource");
    let body =
        json!({ "template": template["id"], "attributes": { "counterpartyName": "Initech" } });
    let e = report(
        session
            .execute("launch_new_workflow", &json!({ "body": body }))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/body/attributes/paperSource")),
        "{e}"
    );
    // A conditional requirement is the template's to judge: Ironclad's refusal comes back
    // typed, naming its param.
    let body = json!({ "template": template["id"], "attributes": {
        "counterpartyName": "Initech", "paperSource": "Counterparty paper" } });
    let e = report(
        session
            .execute("launch_new_workflow", &json!({ "body": body }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 400);
    assert_eq!(e["details"]["code"], "MISSING_PARAM");
    assert_eq!(e["field"], "draft");

    let e = report(
        session
            .execute("retrieve_workflow", &json!({ "id": "IC-424242" }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    // Path values are percent-encoded: an id with a slash stays one segment.
    let e = report(
        session
            .execute("retrieve_workflow", &json!({ "id": "../workflow-schemas" }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_by_email_or_user_id() {
    let emu = start_emulator().await;
    let dir = scratch("impersonation");
    let rt = runtime();
    let user = &emu.seed().users[1];
    for (who, header) in [
        (user.email.clone(), "x-as-user-email"),
        (user.id.clone(), "x-as-user-id"),
    ] {
        admin(&emu, "reset-request-log").await;
        let session = rt
            .connect(
                &config(form(
                    &emu,
                    "demo-client-credentials",
                    json!({ "impersonate_user": who }),
                )),
                tokens(&dir),
            )
            .await
            .unwrap();
        let me = session.test().await.unwrap();
        assert_eq!(me["user"]["email"], user.email.as_str());
        session
            .execute("list_workflows", &json!({ "max_items": 1 }))
            .await
            .unwrap();
        let log = requests(&emu).await;
        let api_calls: Vec<&Value> = log
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("/public/"))
            .collect();
        assert!(!api_calls.is_empty());
        for r in api_calls {
            assert_eq!(r["headers"][header], who.as_str(), "{r}");
        }
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_scopes_errors_are_typed() {
    let emu = start_emulator().await;
    let dir = scratch("auth-errors");
    let rt = runtime();
    let wrong = rt
        .connect(
            &config(form(
                &emu,
                "demo-client-credentials",
                json!({ "client_secret": "wrong-secret-value" }),
            )),
            tokens(&dir),
        )
        .await
        .unwrap();
    let e = report(wrong.test().await.unwrap_err());
    assert_eq!(e["kind"], "unauthenticated", "{e}");
    assert!(
        !e.to_string().contains("wrong-secret-value"),
        "the secret is not echoed: {e}"
    );

    let narrow = read_workflows_only(&rt, &emu, &dir).await;
    narrow
        .execute("list_workflows", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    let e = report(
        narrow
            .execute("list_workflow_schemas", &json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(
        e["details"]["missing_scope"],
        "public.workflows.readSchemas"
    );

    // Asking the token endpoint for scopes the app lacks is refused up front.
    let greedy = rt
        .connect(
            &config(form(&emu, "limited-scopes", json!({}))),
            tokens(&dir),
        )
        .await
        .unwrap();
    let e = report(greedy.test().await.unwrap_err());
    assert_eq!(e["kind"], "unauthenticated");
    assert!(
        e["message"].as_str().unwrap().contains("invalid_scope"),
        "{e}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_renewed_once_and_the_call_succeeds() {
    let emu = start_emulator().await;
    let dir = scratch("renew");
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;
    session
        .execute("list_workflows", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    admin(&emu, "expire-tokens").await;
    admin(&emu, "reset-request-log").await;
    session
        .execute("list_workflows", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    let log = requests(&emu).await;
    let paths: Vec<&str> = log.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/public/api/v1/workflows",
            "/oauth/token",
            "/public/api/v1/workflows"
        ],
        "401, one renewal, one retry"
    );

    // The token is cached in the store: a new session (a new CLI run) reuses it.
    admin(&emu, "reset-request-log").await;
    let again = connect_with(&rt, &emu, &dir, json!({})).await;
    again
        .execute("list_workflows", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    let paths: Vec<String> = requests(&emu)
        .await
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["/public/api/v1/workflows"]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_refuses_loopback_unless_allowed() {
    let emu = start_emulator().await;
    let dir = scratch("loopback");
    let strict = host_harness::Runtime::load(
        &component_path(),
        host_harness::RuntimeOptions {
            allow_loopback: false,
            cache_dir: Some(cache_dir()),
            verbose: false,
            ..host_harness::ironclad::options()
        },
    )
    .unwrap();
    let Err(e) = strict
        .connect(
            &config(form(&emu, "demo-client-credentials", json!({}))),
            tokens(&dir),
        )
        .await
    else {
        panic!("loopback must be refused");
    };
    let e = report(e);
    assert_eq!(e["kind"], "invalid_config");
    assert_eq!(e["field"], "instance_url");
    assert!(e["message"].as_str().unwrap().contains("--allow-loopback"));
    emu.shutdown().await;
}
