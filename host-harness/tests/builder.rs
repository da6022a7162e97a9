//! The recipe-builder interface (WIT `builder`) through the compiled component against the
//! emulator: a template's launch form becomes the launch schema, launches that break it are
//! refused before anything is launched, pick lists page through everything, structured
//! filters become Ironclad formulas, and the CLI's `schema` and `options` commands.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use host_harness::Session;
use serde_json::{Value, json};

const API: &str = "/public/api/v1";

async fn template_id(session: &Session<'_>, name: &str) -> String {
    let page = session
        .all_options("templates", &json!({}), 10)
        .await
        .unwrap();
    page["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == name)
        .unwrap_or_else(|| panic!("template {name} in {page}"))["value"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn launch_schema(session: &Session<'_>, action: &str, template: &str) -> Value {
    let schemas = session
        .input_schema(action, &json!({ "body": { "template": template } }))
        .await
        .unwrap();
    schemas["input_schema"]["properties"]["body"]["properties"]["attributes"].clone()
}

/// A JSON array of strings as a set (object key order is not part of the schema).
fn names(v: &Value) -> BTreeSet<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The requests that would have launched a workflow (sync, async or multipart).
async fn launches(emu: &host_harness::emulator::RunningEmulator) -> Vec<Value> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == "POST"
                && matches!(
                    r["path"].as_str(),
                    Some(p) if p == format!("{API}/workflows") || p == format!("{API}/workflows/async")
                )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_templates_yield_different_launch_schemas() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "builder-schemas").await;
    let nda = template_id(&session, "Mutual NDA").await;
    let consulting = template_id(&session, "Consulting Agreement").await;

    let a = launch_schema(&session, "launch_new_workflow", &nda).await;
    let b = launch_schema(&session, "launch_new_workflow", &consulting).await;
    // Each schema is exactly its template's launch form, as the emulator serves it.
    for (schema, id) in [(&a, &nda), (&b, &consulting)] {
        let form = session
            .execute("retrieve_workflow_schema", &json!({ "id": id }))
            .await
            .unwrap();
        assert_eq!(keys(&schema["properties"]), keys(&form["schema"]), "{id}");
        assert_eq!(schema["additionalProperties"], false);
    }
    assert_ne!(keys(&a["properties"]), keys(&b["properties"]));
    assert_eq!(
        names(&a["required"]),
        BTreeSet::from(["counterpartyName", "paperSource"])
    );
    assert_eq!(
        names(&b["required"]),
        BTreeSet::from(["counterpartyName", "fee"])
    );

    // Field types: select, date, email, documents; money, multi-select, address, table.
    let nda_props = &a["properties"];
    assert_eq!(
        nda_props["paperSource"]["enum"],
        json!(["Our paper", "Counterparty paper"])
    );
    assert_eq!(nda_props["agreementDate"]["format"], "date");
    assert_eq!(nda_props["counterpartyEmail"]["format"], "email");
    assert_eq!(nda_props["draft"]["items"]["required"], json!(["url"]));
    assert!(
        nda_props["draft"]["description"]
            .as_str()
            .unwrap()
            .contains("required in some cases")
    );
    let c = &b["properties"];
    assert_eq!(c["fee"]["required"], json!(["currency", "amount"]));
    assert_eq!(c["termMonths"]["type"], "number");
    assert_eq!(c["termMonths"]["default"], 12);
    assert_eq!(c["isRenewal"]["type"], "boolean");
    assert_eq!(
        c["serviceRegions"]["items"]["enum"],
        json!(["North America", "Europe", "Asia Pacific"])
    );
    assert_eq!(c["serviceRegions"]["uniqueItems"], true);
    assert_eq!(c["billingAddress"]["properties"]["lines"]["maxItems"], 4);
    assert_eq!(c["noticePeriod"]["minProperties"], 1);
    assert_eq!(
        c["lineItems"]["items"]["required"],
        json!(["description"]),
        "table columns"
    );

    // The launched workflow's attributes are the template's fields.
    let out = session
        .input_schema(
            "launch_new_workflow",
            &json!({ "body": { "template": consulting } }),
        )
        .await
        .unwrap();
    let launched = &out["output_schema"]["properties"]["attributes"];
    assert_eq!(keys(&launched["properties"]), keys(&b["properties"]));
    assert_eq!(launched["properties"]["termMonths"]["type"], "number");

    // The multipart launch takes documents as parts.
    let parts = launch_schema(&session, "launch_workflow_with_files", &nda).await;
    assert_eq!(
        parts["properties"]["draft"]["items"]["required"],
        json!(["file"])
    );
    for action in ["create_new_workflow_async", "launch_workflow_and_wait"] {
        assert_eq!(
            launch_schema(&session, action, &consulting).await,
            b,
            "{action}"
        );
    }

    // Every action and trigger says which connection type it serves, by its key's family.
    let manifest = rt.describe().await.unwrap();
    for kind in ["actions", "triggers"] {
        for entry in manifest[kind].as_array().unwrap() {
            let key = entry["key"].as_str().unwrap();
            let expected = if key.starts_with("scim_") {
                "clm_scim"
            } else if key.starts_with("clickwrap_activity_") {
                "clickwrap_activity"
            } else if key.starts_with("clickwrap_") {
                "clickwrap_rest"
            } else {
                "clm_public"
            };
            assert_eq!(entry["api_type"], expected, "{key}");
        }
    }

    // Without a template the schema is describe's, which says what it depends on.
    let bare = session
        .input_schema("launch_new_workflow", &json!({}))
        .await
        .unwrap();
    let described = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "launch_new_workflow")
        .unwrap()["input_schema"]
        .clone();
    assert_eq!(bare["input_schema"], described);
    assert_eq!(
        described["x-schema-depends-on"],
        json!(["/body/template", "/useDefaultValues"])
    );
    assert_eq!(
        described["properties"]["body"]["properties"]["template"]["x-options"],
        json!({ "provider": "templates", "params": {} })
    );

    // An unknown template is the input's mistake, named.
    let e = report(
        session
            .input_schema(
                "launch_new_workflow",
                &json!({ "body": { "template": "000000000000000000000000" } }),
            )
            .await
            .unwrap_err(),
    );
    assert_invalid_input(&e, "/body/template");
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_breaking_the_template_is_refused_before_anything_is_launched() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "builder-refusals").await;
    let consulting = template_id(&session, "Consulting Agreement").await;
    let valid = json!({
        "counterpartyName": "Initech",
        "fee": { "currency": "USD", "amount": 1200 },
        "termMonths": 6,
        "serviceRegions": ["Europe", "North America"],
        "billingAddress": { "lines": ["1 Initech Way"], "locality": "Austin", "region": "TX", "postcode": "78701", "country": "US" },
        "noticePeriod": { "days": 30 },
        "lineItems": [{ "description": "Discovery", "amount": 500 }],
    });
    let cases = [
        ("termMonths", json!("twelve"), "/body/attributes/termMonths"),
        (
            "serviceRegions",
            json!(["Mars"]),
            "/body/attributes/serviceRegions/0",
        ),
        (
            "fee",
            json!({ "currency": "USD" }),
            "/body/attributes/fee/amount",
        ),
        (
            "lineItems",
            json!([{ "amount": 1 }]),
            "/body/attributes/lineItems/0/description",
        ),
        (
            "startDate",
            json!("next week"),
            "/body/attributes/startDate",
        ),
        ("bogus", json!(1), "/body/attributes/bogus"),
    ];
    for action in [
        "launch_new_workflow",
        "create_new_workflow_async",
        "launch_workflow_and_wait",
    ] {
        for (field, value, pointer) in &cases {
            let mut attrs = valid.clone();
            attrs[*field] = value.clone();
            let input = json!({ "body": { "template": consulting, "attributes": attrs } });
            let e = report(session.execute(action, &input).await.unwrap_err());
            assert_eq!(
                (e["kind"].as_str(), e["field"].as_str()),
                (Some("invalid_input"), Some(*pointer)),
                "{action} {field}: {e}"
            );
        }
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove("fee");
        let input = json!({ "body": { "template": consulting, "attributes": missing } });
        let e = report(session.execute(action, &input).await.unwrap_err());
        assert_eq!(e["field"], "/body/attributes/fee", "{action}: {e}");
    }
    // The multipart launch: a document given as a URL is refused the same way.
    let nda = template_id(&session, "Mutual NDA").await;
    let e = report(
        session
            .execute(
                "launch_workflow_with_files",
                &json!({ "body": { "template": nda, "attributes": {
                    "counterpartyName": "Initech", "paperSource": "Our paper",
                    "draft": [{ "url": "https://files.example/a.pdf" }] } },
                    "files": [{ "part": "contract", "file_name": "a.pdf", "content_base64": "JVBERg==" }] }),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(e["field"], "/body/attributes/draft/0/file", "{e}");
    assert!(launches(&emu).await.is_empty(), "nothing was launched");
    assert!(
        requests(&emu)
            .await
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with(API))
            .all(|r| r["method"] == "GET"),
        "only the launch forms were read"
    );

    // The same input, valid, launches: the schema matches what Ironclad accepts.
    let launched = session
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": consulting, "attributes": valid } }),
        )
        .await
        .unwrap();
    assert_eq!(
        launched["attributes"]["serviceRegions"],
        json!(["Europe", "North America"])
    );
    assert_eq!(launches(&emu).await.len(), 1);
    // A creator, by email or by id, is accepted as the spec's branches describe it (the spec
    // closes the outer object too, which would refuse any creator; catalog-gen drops that).
    let creator = json!({ "type": "email", "email": first_user_email(&emu) });
    session
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": consulting, "attributes": valid, "creator": creator } }),
        )
        .await
        .unwrap();
    assert_eq!(launches(&emu).await.len(), 2);

    // Metadata updates follow the workflow's template.
    let id = launched["id"].as_str().unwrap();
    let schemas = session
        .input_schema("update_workflow_metadata", &json!({ "id": id }))
        .await
        .unwrap();
    let paths = &schemas["input_schema"]["properties"]["body"]["properties"]["updates"]["items"]["properties"]
        ["path"]["enum"];
    assert!(
        paths.as_array().unwrap().contains(&json!("termMonths")),
        "{paths}"
    );
    // Its dropdown is the template's fields (the template is known once the workflow is).
    let provider = &schemas["input_schema"]["properties"]["body"]["properties"]["updates"]["items"]
        ["properties"]["path"]["x-options"];
    let fields = session
        .all_options(
            provider["provider"].as_str().unwrap(),
            &provider["params"],
            10,
        )
        .await
        .unwrap();
    let top_level: Vec<&Value> = fields["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o.get("parent").is_none())
        .collect();
    assert_eq!(top_level.len(), paths.as_array().unwrap().len());
    for (update, pointer) in [
        (
            json!({ "action": "set", "path": "colour", "value": "red" }),
            "/body/updates/0/path",
        ),
        (
            json!({ "action": "set", "path": "counterpartyName", "value": 7 }),
            "/body/updates/0/value",
        ),
        (
            json!({ "action": "remove", "path": "fee" }),
            "/body/updates/0/path",
        ),
    ] {
        let input = json!({ "id": id, "body": { "updates": [update] } });
        let e = report(
            session
                .execute("update_workflow_metadata", &input)
                .await
                .unwrap_err(),
        );
        assert_invalid_input(&e, pointer);
    }
    assert!(
        !requests(&emu).await.iter().any(|r| r["method"] == "PATCH"),
        "no update was sent"
    );
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_lists_page_through_every_option() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "builder-options").await;

    // More workflows than one upstream page (100): the seed's plus launches.
    let all_statuses =
        json!({ "status": ["active", "paused", "completed", "cancelled"], "max_items": 100000 });
    let seeded = session
        .execute("list_workflows", &all_statuses)
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    for i in seeded..=105 {
        launch_sample(&session, &format!("Paging Co {i}")).await;
    }
    let listed: BTreeSet<String> = session
        .execute("list_workflows", &all_statuses)
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert!(listed.len() > 100, "{}", listed.len());
    let first = session
        .list_options("workflows", &json!({}), None)
        .await
        .unwrap();
    assert_eq!(first["options"].as_array().unwrap().len(), 100);
    assert_eq!(first["next_cursor"], "1");
    let all = session
        .all_options("workflows", &json!({}), 10)
        .await
        .unwrap();
    assert_eq!(all["pages"], 2);
    let paged: BTreeSet<String> = all["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        paged.len(),
        all["options"].as_array().unwrap().len(),
        "no repeats"
    );
    assert_eq!(paged, listed, "every workflow, once");
    let page_queries: Vec<String> = requests(&emu)
        .await
        .iter()
        .filter(|r| r["path"] == format!("{API}/workflows"))
        .map(|r| r["query"].as_str().unwrap_or_default().to_string())
        .filter(|q| q.contains("pageSize=100"))
        .collect();
    assert!(
        page_queries.iter().any(|q| q.contains("page=1")),
        "{page_queries:?}"
    );

    // Roles of a template read every page of its workflows.
    let consulting = template_id(&session, "Consulting Agreement").await;
    let nda = template_id(&session, "Mutual NDA").await;
    let roles = session
        .all_options("workflow_roles", &json!({ "template": consulting }), 10)
        .await
        .unwrap();
    let role_ids: BTreeSet<&str> = roles["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert!(
        role_ids.contains("legal") && role_ids.contains("finance"),
        "{roles}"
    );

    // Table columns nest under their table.
    let fields = session
        .all_options("template_fields", &json!({ "template": consulting }), 10)
        .await
        .unwrap();
    let column = fields["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["value"] == "description")
        .unwrap();
    assert_eq!(column["parent"], "lineItems");
    let nda_fields = session
        .all_options("template_fields", &json!({ "template": nda }), 10)
        .await
        .unwrap();
    assert_ne!(fields["options"], nda_fields["options"]);

    // Users of a workflow, and who may take a role.
    let workflow = first["options"][0]["value"].as_str().unwrap();
    let participants = session
        .all_options(
            "workflow_participants",
            &json!({ "workflow": workflow }),
            10,
        )
        .await
        .unwrap();
    assert!(
        participants["options"][0]["description"]
            .as_str()
            .unwrap()
            .contains('@'),
        "{participants}"
    );
    let launched = launch_sample(&session, "Role Co").await;
    let role = launched["roles"][0]["id"].as_str().unwrap();
    let assignees = session
        .all_options(
            "role_assignees",
            &json!({ "workflow": launched["id"], "role": role }),
            10,
        )
        .await
        .unwrap();
    assert!(
        !assignees["options"].as_array().unwrap().is_empty(),
        "{assignees}"
    );

    // Lists read whole from Ironclad or from the connector's tables.
    let metadata = session
        .execute("list_records_metadata", &json!({}))
        .await
        .unwrap();
    for (provider, expected) in [
        ("record_types", keys(&metadata["recordTypes"])),
        ("record_properties", keys(&metadata["properties"])),
    ] {
        let got = session.all_options(provider, &json!({}), 10).await.unwrap();
        let values: BTreeSet<String> = got["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(values, expected, "{provider}");
    }
    let count = |v: &Value| v["options"].as_array().unwrap().len();
    let relationship = session
        .all_options("entity_relationship_types", &json!({}), 10)
        .await
        .unwrap();
    let types = session
        .execute("get_entity_relationship_types", &json!({}))
        .await
        .unwrap();
    assert_eq!(
        count(&relationship),
        types["result"].as_array().unwrap().len()
    );
    let events = session
        .all_options("webhook_event_types", &json!({}), 10)
        .await
        .unwrap();
    assert_eq!(count(&events), 36, "35 event types and `*`");
    assert_eq!(
        count(
            &session
                .all_options("regions", &json!({}), 10)
                .await
                .unwrap()
        ),
        4
    );
    assert_eq!(
        count(
            &session
                .all_options("workflow_steps", &json!({}), 10)
                .await
                .unwrap()
        ),
        4
    );

    // Mistakes are named before any request.
    let before = requests(&emu).await.len();
    for (provider, params, cursor, field) in [
        ("colours", json!({}), None, "provider"),
        ("template_fields", json!({}), None, "/template"),
        ("workflows", json!({ "color": "red" }), None, "/color"),
        ("workflows", json!({}), Some("later"), "cursor"),
    ] {
        let e = report(
            session
                .list_options(provider, &params, cursor)
                .await
                .unwrap_err(),
        );
        assert_invalid_input(&e, field);
    }
    assert_eq!(requests(&emu).await.len(), before, "nothing was sent");
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_schemas_follow_the_records_schema() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "builder-records").await;
    let metadata = session
        .execute("list_records_metadata", &json!({}))
        .await
        .unwrap();
    let create = session
        .input_schema("create_record", &json!({}))
        .await
        .unwrap();
    let body = &create["input_schema"]["properties"]["body"]["properties"];
    assert_eq!(
        body["type"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>(),
        keys(&metadata["recordTypes"])
    );
    assert_eq!(
        keys(&body["properties"]["properties"]),
        keys(&metadata["properties"])
    );
    assert_eq!(
        body["properties"]["properties"]["contractValue"]["properties"]["value"]["required"],
        json!(["currency", "amount"])
    );
    let list = session
        .input_schema("list_records", &json!({}))
        .await
        .unwrap();
    let item = &list["output_schema"]["properties"]["items"]["items"]["properties"]["properties"];
    assert_eq!(keys(&item["properties"]), keys(&metadata["properties"]));
    let one = session
        .input_schema("retrieve_record", &json!({}))
        .await
        .unwrap();
    assert_eq!(one["output_schema"]["properties"]["properties"], *item);
    // A record read back matches its output schema (as Ironclad returns it).
    let records = session
        .execute("list_records", &json!({ "max_items": 5 }))
        .await
        .unwrap();
    for record in records["items"].as_array().unwrap() {
        for (id, p) in record["properties"].as_object().unwrap() {
            if let Some(schema) = item["properties"].get(id) {
                assert_eq!(schema["properties"]["type"]["const"], p["type"], "{id}");
            }
        }
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_filters_become_ironclad_formulas() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "builder-filters").await;
    let raw = "Or(Equals([counterpartyName], 'Margie\\'s Travel'), Contains([counterpartyName], 'Contoso'))";
    let structured = json!({ "or": [
        { "field": "counterpartyName", "operator": "equals", "value": "Margie's Travel" },
        { "field": "counterpartyName", "operator": "contains", "value": "Contoso" },
    ] });
    for key in ["list_workflows", "list_records"] {
        let by_text = session
            .execute(key, &json!({ "filter": raw }))
            .await
            .unwrap();
        admin(&emu, "reset-request-log").await;
        let by_structure = session
            .execute(key, &json!({ "filter": structured }))
            .await
            .unwrap();
        assert_eq!(by_structure, by_text, "{key}");
        let sent: Vec<String> = requests(&emu)
            .await
            .iter()
            .map(|r| r["query"].as_str().unwrap_or_default().to_string())
            .collect();
        let encoded =
            "filter=Or%28Equals%28%5BcounterpartyName%5D%2C%20%27Margie%5C%27s%20Travel%27%29";
        assert!(sent.iter().any(|q| q.contains(encoded)), "{key}: {sent:?}");
    }
    admin(&emu, "reset-request-log").await;
    let e = report(
        session
            .execute("list_entities", &json!({ "filter": { "and": [{ "field": "name", "operator": "like", "value": "x" }] } }))
            .await
            .unwrap_err(),
    );
    assert_invalid_input(&e, "/filter/and/0/operator");
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_options_and_schema() {
    let emu = start_emulator().await;
    let dir = scratch("builder-cli");
    let config = write_json(
        &dir,
        "form.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );

    let templates = cli(&dir, &["options", "templates", "--config", &config]).await;
    assert_eq!(templates.code, 0, "{}", templates.stderr);
    let templates = templates.json();
    assert_eq!(templates["pages"], 1);
    let consulting = templates["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == "Consulting Agreement")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();

    let params = json!({ "template": consulting }).to_string();
    let fields = cli(
        &dir,
        &[
            "options",
            "template_fields",
            "--config",
            &config,
            "--params",
            &params,
        ],
    )
    .await
    .json();
    assert!(
        fields["options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["value"] == "fee"),
        "{fields}"
    );
    let page = cli(
        &dir,
        &["options", "workflows", "--config", &config, "--cursor", "0"],
    )
    .await
    .json();
    assert!(
        page.get("next_cursor").is_some() && page["options"].is_array(),
        "{page}"
    );

    let partial = write_json(
        &dir,
        "partial.json",
        &json!({ "body": { "template": consulting } }),
    );
    let schema = cli(
        &dir,
        &[
            "schema",
            "launch_new_workflow",
            "--config",
            &config,
            "--input",
            &partial,
        ],
    )
    .await;
    assert_eq!(schema.code, 0, "{}", schema.stderr);
    let attributes =
        &schema.json()["input_schema"]["properties"]["body"]["properties"]["attributes"];
    assert_eq!(
        names(&attributes["required"]),
        BTreeSet::from(["counterpartyName", "fee"])
    );

    let unknown = cli(&dir, &["options", "colours", "--config", &config]).await;
    assert_eq!(unknown.error_kind(), "invalid_input");
    let bad_params = cli(
        &dir,
        &["options", "templates", "--config", &config, "--params", "{"],
    )
    .await;
    assert_eq!(bad_params.code, 2, "a usage error");
    emu.shutdown().await;
}
