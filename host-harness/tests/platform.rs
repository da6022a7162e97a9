//! Webhooks management, data exports, conversational search and asynchronous launches,
//! driven through the compiled component against the emulator (contract-checked).

use crate::common;

use common::*;
use host_harness::Session;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_lifecycle() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "webhooks").await;
    admin(&emu, "reset-request-log").await;

    let created = run(
        &s,
        "create_webhook",
        json!({ "body": { "events": ["workflow_launched", "workflow_completed"], "targetURL": "https://hooks.initech.example/ironclad" } }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24, "{created}");
    assert_eq!(
        created["events"],
        json!(["workflow_launched", "workflow_completed"])
    );
    assert_eq!(
        created["targetURL"],
        "https://hooks.initech.example/ironclad"
    );
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["companyId"], emu.seed().company.id.as_str());
    assert_eq!(created["consecutiveFailureCount"], 0);
    assert_eq!(
        created["statusLastUpdatedBy"],
        emu.seed().users[0].id.as_str()
    );
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/public/api/v1/webhooks");
    assert_eq!(log[0]["status"], 201);
    assert_eq!(log[0]["headers"]["content-type"], "application/json");
    assert_eq!(
        log[0]["body"],
        json!({ "events": ["workflow_launched", "workflow_completed"], "targetURL": "https://hooks.initech.example/ironclad" })
    );

    let got = run(&s, "retrieve_webhook", json!({ "id": id })).await;
    assert_eq!(got, created);

    // The list has no `count`: the seeded two and the new one.
    let listed = run(&s, "list_webhooks", json!({})).await;
    assert!(listed.get("count").is_none(), "{listed}");
    assert_eq!(listed["truncated"], false);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["id"], id.as_str());
    assert_eq!(items[1]["status"], "disabledBySystem");

    let updated = run(
        &s,
        "update_webhook",
        json!({ "id": id, "body": { "status": "disabled", "events": ["*"] } }),
    )
    .await;
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["events"], json!(["*"]));
    assert_eq!(updated["targetURL"], created["targetURL"]);
    let log = api_calls(&emu).await;
    let patch = log.last().unwrap();
    assert_eq!(patch["method"], "PATCH");
    assert_eq!(patch["path"], format!("/public/api/v1/webhooks/{id}"));
    assert_eq!(
        patch["body"],
        json!({ "status": "disabled", "events": ["*"] })
    );
    assert_eq!(
        run(&s, "retrieve_webhook", json!({ "id": id })).await["status"],
        "disabled"
    );

    let deleted = run(&s, "delete_webhook", json!({ "id": id })).await;
    assert_eq!(deleted, json!({ "status": 204 }));
    let e = refused(&s, "retrieve_webhook", json!({ "id": id })).await;
    assert_eq!(e["kind"], "not_found", "{e}");
    let e = refused(&s, "delete_webhook", json!({ "id": id })).await;
    assert_eq!(e["kind"], "not_found", "{e}");
    let e = refused(
        &s,
        "update_webhook",
        json!({ "id": id, "body": { "status": "enabled" } }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    assert_eq!(
        run(&s, "list_webhooks", json!({})).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_errors() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "webhook-errors").await;
    admin(&emu, "reset-request-log").await;

    // Caught by the connector before anything is sent.
    for (action, input, field) in [
        (
            "create_webhook",
            json!({ "body": { "events": ["workflow_launched"] } }),
            "/body/targetURL",
        ),
        (
            "create_webhook",
            json!({ "body": { "events": ["workflow_exploded"], "targetURL": "https://h.example" } }),
            "/body/events/0",
        ),
        (
            "create_webhook",
            json!({ "body": { "events": [], "targetURL": "https://h.example" } }),
            "/body/events",
        ),
        ("retrieve_webhook", json!({}), "/id"),
        (
            "update_webhook",
            json!({ "body": { "status": "enabled" } }),
            "/id",
        ),
        (
            "update_webhook",
            json!({ "id": "x", "body": { "status": "disabledBySystem" } }),
            "/body/status",
        ),
        ("delete_webhook", json!({ "id": "" }), "/id"),
    ] {
        let e = refused(&s, action, input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");

    // Ironclad's own checks come back typed, naming its param.
    let e = refused(
        &s,
        "create_webhook",
        json!({ "body": { "events": ["*"], "targetURL": "http://insecure.example/hook" } }),
    )
    .await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 400);
    assert_eq!(e["details"]["code"], "INVALID_PARAM");
    assert_eq!(e["field"], "targetURL");

    // One registration per target URL: the spec's message and its misspelled param.
    let seeded = "https://hooks.acme.example/ironclad/workflows";
    let e = refused(
        &s,
        "create_webhook",
        json!({ "body": { "events": ["workflow_completed"], "targetURL": seeded } }),
    )
    .await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["field"], "tagetURL");
    assert_eq!(e["details"]["code"], "INVALID_PARAM", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains(&format!(
            "webhook already exists for event workflow_completed and target {seeded}"
        )),
        "{e}"
    );
    // Moving another webhook onto a taken URL is refused the same way.
    let other = run(
        &s,
        "create_webhook",
        json!({ "body": { "events": ["workflow_paused"], "targetURL": "https://other.example/h", "status": "disabled" } }),
    )
    .await;
    assert_eq!(other["status"], "disabled");
    let e = refused(
        &s,
        "update_webhook",
        json!({ "id": other["id"], "body": { "targetURL": seeded } }),
    )
    .await;
    assert_eq!(e["field"], "tagetURL", "{e}");
    // Re-enabling a webhook the system disabled starts its failure count afresh.
    let listed = run(&s, "list_webhooks", json!({})).await;
    let disabled = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["status"] == "disabledBySystem")
        .unwrap()
        .clone();
    assert!(disabled["consecutiveFailureCount"].as_u64().unwrap() > 0);
    let enabled = run(
        &s,
        "update_webhook",
        json!({ "id": disabled["id"], "body": { "status": "enabled" } }),
    )
    .await;
    assert_eq!(enabled["status"], "enabled");
    assert_eq!(enabled["consecutiveFailureCount"], 0);
    assert!(
        enabled.get("firstConsecutiveFailure").is_none(),
        "{enabled}"
    );

    let e = refused(
        &s,
        "retrieve_webhook",
        json!({ "id": "000000000000000000000000" }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_listing_without_count_pages_until_a_short_page() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "webhook-pages").await;
    // Two seeded + 98 = exactly one full page of 100.
    for i in 0..98 {
        run(
            &s,
            "create_webhook",
            json!({ "body": { "events": ["workflow_updated"], "targetURL": format!("https://hooks{i}.example/in") } }),
        )
        .await;
    }
    admin(&emu, "reset-request-log").await;
    let listed = run(&s, "list_webhooks", json!({ "max_items": 1000 })).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 100);
    assert_eq!(listed["truncated"], false);
    assert!(listed.get("count").is_none());
    // Without a count, a full page means asking for the next one, which comes back empty.
    let queries: Vec<String> = api_calls(&emu)
        .await
        .iter()
        .map(|r| r["query"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(queries, ["page=0&pageSize=100", "page=1&pageSize=100"]);

    run(
        &s,
        "create_webhook",
        json!({ "body": { "events": ["*"], "targetURL": "https://hooks-last.example/in" } }),
    )
    .await;
    admin(&emu, "reset-request-log").await;
    let listed = run(&s, "list_webhooks", json!({ "max_items": 1000 })).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 101);
    assert_eq!(items[100]["targetURL"], "https://hooks-last.example/in");
    assert_eq!(
        api_calls(&emu).await.len(),
        2,
        "the short second page ends it"
    );

    // max_items below a page: one exact-size request, truncated.
    admin(&emu, "reset-request-log").await;
    let few = run(&s, "list_webhooks", json!({ "max_items": 3 })).await;
    assert_eq!(few["items"].as_array().unwrap().len(), 3);
    assert_eq!(few["truncated"], true);
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["query"], "page=0&pageSize=3");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_export_job_progresses_to_done() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "exports").await;
    admin(&emu, "reset-request-log").await;
    let body = json!({
        "exportType": "workflow_activities",
        "exportFormat": "JSON",
        "startDate": "2025-01-01T00:00:00.000Z",
        "endDate": "2025-06-30T23:59:59.999Z",
        "signedUrlEnabled": true,
        "exportConfigs": { "metadataProperties": ["counterpartyName"], "includeCommentDetail": true },
    });
    let job = run(&s, "export", json!({ "body": body })).await;
    assert_eq!(job["jobStatus"], "pending");
    let job_id = job["jobId"].as_str().unwrap().to_owned();
    assert_eq!(job_id.len(), 36, "a UUID: {job}");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let status = run(&s, "export_job", json!({ "jobId": job_id })).await;
        assert_eq!(status["jobId"], job_id.as_str());
        seen.push(status["jobStatus"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["running", "done", "done"]);
    let log = api_calls(&emu).await;
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/public/api/v1/exports");
    assert_eq!(log[0]["body"], body);
    assert_eq!(log[1]["method"], "GET");
    assert_eq!(log[1]["path"], format!("/public/api/v1/exports/{job_id}"));
    assert_eq!(log[1]["query"], "");

    // A seeded job that is already done stays done.
    let done = run(
        &s,
        "export_job",
        json!({ "jobId": "0b6f3c1e-9a2d-4c5b-8e7f-1a2b3c4d5e6f" }),
    )
    .await;
    assert_eq!(done["jobStatus"], "done");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_export_errors_use_the_error_body() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "export-errors").await;
    admin(&emu, "reset-request-log").await;
    for (action, input, field) in [
        (
            "export",
            json!({ "body": { "exportFormat": "CSV" } }),
            "/body/exportType",
        ),
        (
            "export",
            json!({ "body": { "exportType": "records" } }),
            "/body/exportType",
        ),
        ("export_job", json!({}), "/jobId"),
    ] {
        let e = refused(&s, action, input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");

    // Exports answer `{"error": "..."}` rather than `{code, message, param}`.
    let e = refused(
        &s,
        "export_job",
        json!({ "jobId": "11111111-2222-4333-8444-555555555555" }),
    )
    .await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Could not retrieve job status. Please verify the job id and try again."),
        "{e}"
    );
    let e = refused(
        &s,
        "export",
        json!({ "body": { "exportType": "audit_log", "startDate": "2025-03-01", "endDate": "2025-02-01" } }),
    )
    .await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert!(e["message"].as_str().unwrap().contains("startDate"), "{e}");
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r["status"] == 400), "{log:?}");

    // Scopes are checked like everywhere else.
    let narrow = read_workflows_only(&rt, &emu, &scratch("export-narrow")).await;
    let e = refused(
        &narrow,
        "export_job",
        json!({ "jobId": "0b6f3c1e-9a2d-4c5b-8e7f-1a2b3c4d5e6f" }),
    )
    .await;
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(e["details"]["missing_scope"], "public.export.readReports");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

/// A template with a required attribute besides `counterpartyName`, and a complete launch
/// body for it.
async fn launchable(s: &Session<'_>) -> (Value, Value) {
    let schemas = run(s, "list_workflow_schemas", json!({})).await;
    let template = schemas["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["schema"]
                .as_object()
                .unwrap()
                .iter()
                .any(|(k, f)| k != "counterpartyName" && f["required"] == "always")
        })
        .expect("a template with a required field besides counterpartyName")
        .clone();
    let mut attributes: serde_json::Map<String, Value> = template["schema"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, f)| f["required"] == "always")
        .map(|(k, f)| (k.clone(), sample(f)))
        .collect();
    attributes.insert("counterpartyName".into(), json!("Async Dynamics"));
    let body = json!({ "template": template["id"], "attributes": attributes });
    (template, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_launch_reports_in_progress_then_success() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "async-launch").await;
    let (_, body) = launchable(&s).await;
    let all = json!(["active", "paused", "completed", "cancelled"]);
    let before = run(&s, "list_workflows", json!({ "status": all })).await["count"]
        .as_u64()
        .unwrap();
    admin(&emu, "reset-request-log").await;

    let job = run(
        &s,
        "create_new_workflow_async",
        json!({ "body": body, "useDefaultValues": true }),
    )
    .await;
    let job_id = job["asyncJobId"].as_str().unwrap().to_owned();
    assert!(job_id.starts_with("jobId") && job_id.len() == 37, "{job}");
    assert_eq!(
        job["asyncJobStatusUrl"],
        format!("{}/public/api/v1/workflows/async/{job_id}", emu.base_url())
    );
    // The template's launch form is read first, to check the attributes.
    let log = api_calls(&emu).await;
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(
        log[0]["path"],
        format!(
            "/public/api/v1/workflow-schemas/{}",
            body["template"].as_str().unwrap()
        )
    );
    assert_eq!(log[1]["method"], "POST");
    assert_eq!(log[1]["path"], "/public/api/v1/workflows/async");
    assert_eq!(log[1]["query"], "useDefaultValues=true");
    assert_eq!(log[1]["body"], body);

    let first = run(
        &s,
        "retrieve_asynchronous_workflow_status",
        json!({ "asyncJobId": job_id }),
    )
    .await;
    assert_eq!(first["status"], "in_progress", "{first}");
    assert_eq!(first["requestPayload"], body);
    // Not launched yet.
    let during = run(&s, "list_workflows", json!({ "status": all })).await;
    assert_eq!(during["count"], before);

    let second = run(
        &s,
        "retrieve_asynchronous_workflow_status",
        json!({ "asyncJobId": job_id }),
    )
    .await;
    assert_eq!(second["status"], "success", "{second}");
    assert_eq!(second["requestPayload"], body);
    let workflow = &second["workflow"];
    let id = workflow["id"].as_str().unwrap().to_owned();
    assert_eq!(workflow["template"], body["template"]);
    assert_eq!(workflow["attributes"]["counterpartyName"], "Async Dynamics");
    assert_eq!(workflow["status"], "active");
    assert_eq!(
        workflow["creator"]["email"],
        emu.seed().users[0].email.as_str()
    );
    assert_eq!(
        second["workflowUrls"]["apiUrl"],
        format!("{}/public/api/v1/workflows/{id}", emu.base_url())
    );
    assert_eq!(
        second["workflowUrls"]["browserUrl"],
        format!("{}/workflows/{id}", emu.base_url())
    );

    // The workflow is real now: retrievable and listed, once.
    let got = run(&s, "retrieve_workflow", json!({ "id": id })).await;
    assert_eq!(got["ironcladId"], workflow["ironcladId"]);
    let third = run(
        &s,
        "retrieve_asynchronous_workflow_status",
        json!({ "asyncJobId": job_id }),
    )
    .await;
    assert_eq!(third["workflow"]["id"], id.as_str());
    let after = run(&s, "list_workflows", json!({ "status": all })).await;
    assert_eq!(after["count"].as_u64().unwrap(), before + 1);
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str())
    );
    let status_calls: Vec<Value> = api_calls(&emu)
        .await
        .into_iter()
        .filter(|r| r["path"] == format!("/public/api/v1/workflows/async/{job_id}"))
        .collect();
    assert_eq!(status_calls.len(), 3);
    assert!(status_calls.iter().all(|r| r["method"] == "GET"));
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_launch_failures() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "async-failures").await;
    let (template, body) = launchable(&s).await;
    admin(&emu, "reset-request-log").await;
    for (input, field) in [
        (json!({ "body": { "attributes": {} } }), "/body/template"),
        (json!({ "body": { "template": "t" } }), "/body/attributes"),
        (
            json!({ "body": { "template": "t", "attributes": { "paperSource": "Napkin" , "counterpartyName": "x"} } }),
            "/body/attributes/paperSource",
        ),
    ] {
        let e = refused(&s, "create_new_workflow_async", input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    let e = refused(&s, "retrieve_asynchronous_workflow_status", json!({})).await;
    assert_eq!(e["field"], "/asyncJobId");
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");

    // What the template's form says is refused before a job is created, naming the field.
    let required = template["schema"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, f)| k.as_str() != "counterpartyName" && f["required"] == "always")
        .map(|(k, _)| k.clone())
        .unwrap();
    let mut incomplete = body.clone();
    incomplete["attributes"]
        .as_object_mut()
        .unwrap()
        .remove(&required);
    let unknown_template = json!({ "template": "000000000000000000000000", "attributes": { "counterpartyName": "Nobody" } });
    for (payload, field) in [
        (incomplete, format!("/body/attributes/{required}")),
        (unknown_template, "/body/template".to_string()),
    ] {
        let e = refused(&s, "create_new_workflow_async", json!({ "body": payload })).await;
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_input"), Some(field.as_str())),
            "{e}"
        );
    }
    assert!(
        api_calls(&emu).await.iter().all(|r| r["method"] == "GET"),
        "no job was created"
    );

    // A launch only Ironclad can judge (a requirement that depends on another answer) is
    // accepted as a job, which then fails with Ironclad's error.
    assert_eq!(template["schema"]["draft"]["required"], "conditional");
    let mut conditional = body.clone();
    conditional["attributes"]["paperSource"] = json!("Counterparty paper");
    for (payload, code, param) in [(conditional, "MISSING_PARAM", "draft")] {
        let job = run(&s, "create_new_workflow_async", json!({ "body": payload })).await;
        let input = json!({ "asyncJobId": job["asyncJobId"] });
        let first = run(&s, "retrieve_asynchronous_workflow_status", input.clone()).await;
        assert_eq!(first["status"], "in_progress");
        let settled = run(&s, "retrieve_asynchronous_workflow_status", input).await;
        assert_eq!(settled["status"], "failed", "{settled}");
        assert_eq!(settled["requestPayload"], payload);
        assert_eq!(settled["error"]["code"], code, "{settled}");
        assert_eq!(settled["error"]["param"], param, "{settled}");
        assert!(settled["error"]["message"].is_string());
        assert!(settled.get("workflow").is_none());
    }

    let e = refused(
        &s,
        "retrieve_asynchronous_workflow_status",
        json!({ "asyncJobId": "jobId00000000000000000000000000000000" }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");

    // The status route needs the create scope, not the read scope.
    let narrow = read_workflows_only(&rt, &emu, &scratch("async-narrow")).await;
    let e = refused(
        &narrow,
        "retrieve_asynchronous_workflow_status",
        json!({ "asyncJobId": "jobId00000000000000000000000000000000" }),
    )
    .await;
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(
        e["details"]["missing_scope"],
        "public.workflows.createWorkflows"
    );
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversational_search_answers_from_records_and_workflows() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "search").await;
    admin(&emu, "reset-request-log").await;
    let body = json!({
        "query": "Which contracts do we have with City Power & Light?",
        "modelTier": "fast",
        "userTimezone": "America/New_York",
    });
    let answer = run(&s, "run_conversational_search", json!({ "body": body })).await;
    let result = answer["result"].as_str().unwrap();
    // Two records and two workflows name City Power & Light (IC-9 and IC-45 in the seed).
    assert!(
        result.contains("IC-9") && result.contains("IC-45"),
        "{answer}"
    );
    let records = answer["records"].as_object().unwrap();
    assert!(records.len() >= 2, "{answer}");
    for id in [
        "55544ed4-e814-4532-9d48-c141c8ee3d9a",
        "653923cd-3de2-4fe9-8baf-c4ba0fb01891",
    ] {
        assert_eq!(
            records[id]["url"],
            format!("{}/records/{id}", emu.base_url()),
            "{answer}"
        );
    }
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], "/public/api/v1/search/conversational");
    assert_eq!(log[0]["body"], body);

    // The same question gets the same answer; an unrelated one finds nothing.
    let again = run(&s, "run_conversational_search", json!({ "body": body })).await;
    assert_eq!(again, answer);
    let nothing = run(
        &s,
        "run_conversational_search",
        json!({ "body": { "query": "zeppelin maintenance schedules" } }),
    )
    .await;
    assert_eq!(nothing["records"], json!({}));
    assert!(
        nothing["result"]
            .as_str()
            .unwrap()
            .contains("could not find"),
        "{nothing}"
    );

    let e = refused(
        &s,
        "run_conversational_search",
        json!({ "body": { "modelTier": "fast" } }),
    )
    .await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/body/query")),
        "{e}"
    );
    let e = refused(
        &s,
        "run_conversational_search",
        json!({ "body": { "query": "x", "modelTier": "huge" } }),
    )
    .await;
    assert_eq!(e["field"], "/body/modelTier", "{e}");

    // It needs all three scopes of its `security`.
    let narrow = read_workflows_only(&rt, &emu, &scratch("search-narrow")).await;
    let e = refused(
        &narrow,
        "run_conversational_search",
        json!({ "body": { "query": "NDA" } }),
    )
    .await;
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(
        e["details"]["missing_scope"],
        "public.search.conversational"
    );
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_rejects_off_spec_requests() {
    let emu = start_emulator().await;
    if emu.emulator().contract().is_none() {
        eprintln!("skipping: no official OpenAPI beside the repository");
        return;
    }
    let client = reqwest::Client::new();
    let base = emu.base_url();
    // Judged before authentication, so no token is needed to see the verdicts.
    let cases = [
        (
            client.get(format!("{base}/public/api/v1/webhooks?page=0&limit=5")),
            "list-all-webhooks",
            "limit",
        ),
        (
            client
                .post(format!("{base}/public/api/v1/webhooks"))
                .header("content-type", "application/json")
                .body(r#"{"events":["workflow_exploded"],"targetURL":"https://h.example"}"#),
            "create-a-webhook",
            "body/events/0",
        ),
        (
            client
                .post(format!("{base}/public/api/v1/exports"))
                .header("content-type", "text/plain")
                .body("exportType=audit_log"),
            "export",
            "content-type",
        ),
        (
            client.get(format!("{base}/public/api/v1/workflows?status=archived")),
            "list-all-workflows",
            "status",
        ),
    ];
    for (request, operation, param) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "CONTRACT_VIOLATION", "{body}");
        assert_eq!(body["param"], param, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{operation}: ")),
            "{body}"
        );
    }
    let url = format!("{base}/_emulator/contract-violations");
    let list: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["operation"], "list-all-webhooks");
    assert_eq!(list[0]["query"], "page=0&limit=5");
    client.delete(&url).send().await.unwrap();
    let list: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(list, json!([]));
    emu.shutdown().await;
}
