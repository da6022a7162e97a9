//! Records, entities and obligations: the compiled component driven through the host against
//! the emulator, as scenarios (create → retrieve → list → update → delete → not found) plus
//! the errors a caller must be able to tell apart.

use crate::common;

use common::*;
use host_harness::Session;
use serde_json::{Value, json};

const API: &str = "/public/api/v1";
/// Seeded records (fixtures/emulator/repository.json).
const MSA_CONTOSO: &str = "b588034b-f666-432d-bc5d-1a9ae206a4c6"; // IC-1001, signed copy
const AMENDMENT_CONTOSO: &str = "b22f8962-20fd-4e25-a835-e2dc7ee69c30"; // IC-1002, no attachment
const NDA_FABRIKAM: &str = "3ae0e7c7-c281-4be2-9ba5-08c0d3a534f6"; // IC-18

async fn ok(session: &Session<'_>, action: &str, input: Value) -> Value {
    match session.execute(action, &input).await {
        Ok(v) => v,
        Err(e) => panic!("{action} {input}: {}", e.to_json()),
    }
}

async fn err(session: &Session<'_>, action: &str, input: Value) -> Value {
    match session.execute(action, &input).await {
        Ok(v) => panic!("{action} {input} should fail, got {v}"),
        Err(e) => report(e),
    }
}

/// The API calls (not token requests) in the emulator's log.
async fn api_calls(emu: &host_harness::emulator::RunningEmulator) -> Vec<Value> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with(API))
        .collect()
}

/// The one call since the last log reset, asserting its method and path.
async fn only_call(
    emu: &host_harness::emulator::RunningEmulator,
    method: &str,
    path: &str,
) -> Value {
    let calls = api_calls(emu).await;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["method"], method, "{}", calls[0]);
    assert_eq!(calls[0]["path"], format!("{API}{path}"), "{}", calls[0]);
    admin(emu, "reset-request-log").await;
    calls[0].clone()
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().expect("a list output").clone()
}

fn ids_of(list: &Value, key: &str) -> Vec<String> {
    items(list)
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_create_retrieve_list_replace_update_delete() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-crud").await;

    let schema = ok(&s, "list_records_metadata", json!({})).await;
    assert_eq!(schema["recordTypes"]["contract"]["displayName"], "Contract");
    assert_eq!(schema["properties"]["agreementDate"]["type"], "date");
    assert_eq!(
        schema["attachments"]["signedCopy"]["displayName"],
        "Signed PDF"
    );
    let call = requests(&emu).await;
    assert!(
        call.iter()
            .any(|r| r["path"] == format!("{API}/records/metadata") && r["status"] == 200),
        "/records/metadata is not taken for a record id"
    );
    admin(&emu, "reset-request-log").await;

    // Create: 200 (not 201), a fresh IC number from the records sequence, dates normalised,
    // addresses served as text unless asked otherwise.
    let body = json!({
        "type": "contract",
        "name": "Services Agreement with Initech",
        "properties": {
            "counterpartyName": { "type": "string", "value": "Initech" },
            "agreementDate": { "type": "date", "value": "2026-05-08T00:00:00-07:00" },
            "contractValue": { "type": "monetary_amount", "value": { "currency": "EUR", "amount": 42000 } },
            "counterpartyAddress": { "type": "address", "value": { "lines": ["4120 Freidrich Ln"], "locality": "Austin", "region": "TX", "postcode": "78744", "country": "US" } },
            "counterpartyEmail": { "type": "email", "value": "legal@initech.example" },
            "standard_terminationNoticePeriod": { "type": "duration", "value": "P30D" },
            "termMonths": { "type": "number", "value": 18 },
            "isRenewal": { "type": "boolean", "value": false }
        },
        "links": [{ "recordId": "IC-18" }],
        "parent": { "recordId": "IC-1001" }
    });
    let created = ok(&s, "create_record", json!({ "body": body })).await;
    let call = only_call(&emu, "POST", "/records").await;
    assert_eq!(call["status"], 200);
    assert_eq!(call["body"], body, "the JSON body goes through as given");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(created["ironcladId"], "IC-1004");
    assert_eq!(created["type"], "contract");
    assert_eq!(
        created["properties"]["agreementDate"]["value"],
        "2026-05-08T07:00:00.000Z"
    );
    assert_eq!(
        created["properties"]["counterpartyAddress"]["value"],
        "4120 Freidrich Ln, Austin, TX 78744, US"
    );
    assert_eq!(created["links"], json!([{ "recordId": NDA_FABRIKAM }]));
    assert_eq!(created["parentId"], MSA_CONTOSO);
    assert_eq!(created["attachments"], json!({}));

    // Retrieve by id and by Ironclad id; addresses as objects on request.
    for key in [id.as_str(), "IC-1004", "ic-1004"] {
        let got = ok(
            &s,
            "retrieve_record",
            json!({ "id": key, "addressAsObject": true }),
        )
        .await;
        assert_eq!(got["id"], id);
        assert_eq!(
            got["properties"]["counterpartyAddress"]["value"]["locality"],
            "Austin"
        );
    }
    let calls = api_calls(&emu).await;
    assert!(
        calls.iter().all(|c| c["query"]
            .as_str()
            .unwrap()
            .contains("addressAsObject=true")),
        "{calls:#?}"
    );
    admin(&emu, "reset-request-log").await;
    // Links are kept on both sides; the parent lists its new child.
    let fabrikam = ok(&s, "retrieve_record", json!({ "id": "IC-18" })).await;
    assert!(
        fabrikam["links"]
            .as_array()
            .unwrap()
            .contains(&json!({ "recordId": id }))
    );
    let msa = ok(&s, "retrieve_record", json!({ "id": MSA_CONTOSO })).await;
    assert!(msa["childIds"].as_array().unwrap().contains(&json!(id)));

    // List: types, filter and sort reach Ironclad as query parameters.
    admin(&emu, "reset-request-log").await;
    let filter = "Equals([counterpartyName], 'Initech')";
    let found = ok(
        &s,
        "list_records",
        json!({ "types": "contract", "filter": filter, "sortField": "name", "sortDirection": "ASC" }),
    )
    .await;
    assert_eq!(ids_of(&found, "id"), [id.as_str()]);
    assert_eq!(found["count"], 1);
    let call = only_call(&emu, "GET", "/records").await;
    let query = call["query"].as_str().unwrap();
    for part in [
        "types=contract",
        "sortField=name",
        "sortDirection=ASC",
        "filter=Equals%28%5BcounterpartyName%5D%2C%20%27Initech%27%29",
        "page=0",
    ] {
        assert!(query.contains(part), "{part} in {query}");
    }

    // PUT replaces the metadata: properties not sent are gone, the parent too.
    let replaced = ok(
        &s,
        "replace_record",
        json!({ "id": "IC-1004", "body": {
            "type": "mutualNDA",
            "name": "NDA with Initech",
            "properties": { "counterpartyName": { "type": "string", "value": "Initech LLC" } }
        }}),
    )
    .await;
    let call = only_call(&emu, "PUT", "/records/IC-1004").await;
    assert_eq!(call["status"], 200);
    assert_eq!(replaced["id"], id);
    assert_eq!(replaced["type"], "mutualNDA");
    assert_eq!(replaced["name"], "NDA with Initech");
    assert_eq!(
        replaced["properties"],
        json!({ "counterpartyName": { "type": "string", "value": "Initech LLC" } })
    );
    assert!(replaced.get("parentId").is_none(), "{replaced}");
    assert_eq!(replaced["links"], json!([{ "recordId": NDA_FABRIKAM }]));

    // PATCH: add/remove properties and links, become an amendment rolling a value up.
    let patched = ok(
        &s,
        "update_record_metadata",
        json!({ "id": id, "body": {
            "name": "Amendment No. 2 to MSA with Contoso Ltd",
            "addProperties": {
                "contractValue": { "type": "monetary_amount", "value": { "currency": "USD", "amount": 400000 } },
                "agreementDate": { "type": "date", "value": "2026-11-01" }
            },
            "removeProperties": ["counterpartyName"],
            "removeLinks": [{ "recordId": "IC-18" }],
            "setParent": { "recordId": "IC-1001", "parentLinkType": "amendment" },
            "addPropertiesToAmend": { "contractValue": { "amendmentType": "replace" } }
        }}),
    )
    .await;
    let call = only_call(&emu, "PATCH", &format!("/records/{id}")).await;
    assert_eq!(call["body"]["setParent"]["parentLinkType"], "amendment");
    assert_eq!(patched["name"], "Amendment No. 2 to MSA with Contoso Ltd");
    assert!(patched["properties"].get("counterpartyName").is_none());
    assert_eq!(
        patched["properties"]["agreementDate"]["value"],
        "2026-11-01T00:00:00.000Z"
    );
    assert_eq!(patched["links"], json!([]));
    assert_eq!(patched["parentLinkType"], "amendment");
    let msa = ok(&s, "retrieve_record", json!({ "id": "IC-1001" })).await;
    assert_eq!(msa["amendments"], json!(["IC-1002", "IC-1004"]));
    assert_eq!(
        msa["properties"]["contractValue"],
        json!({ "type": "monetary_amount",
                "value": { "currency": "USD", "amount": 400000 },
                "originalValue": { "currency": "USD", "amount": 250000 } }),
        "the newest amendment's value, with the original alongside"
    );
    let fabrikam = ok(&s, "retrieve_record", json!({ "id": "IC-18" })).await;
    assert!(
        !fabrikam["links"]
            .as_array()
            .unwrap()
            .contains(&json!({ "recordId": id }))
    );
    admin(&emu, "reset-request-log").await;

    // Delete: 204, then gone everywhere.
    let deleted = ok(&s, "delete_record", json!({ "id": "IC-1004" })).await;
    assert_eq!(deleted, json!({ "status": 204 }));
    let call = only_call(&emu, "DELETE", "/records/IC-1004").await;
    assert_eq!(call["status"], 204);
    for key in [id.as_str(), "IC-1004"] {
        let e = err(&s, "retrieve_record", json!({ "id": key })).await;
        assert_eq!(e["kind"], "not_found", "{e}");
    }
    let e = err(&s, "delete_record", json!({ "id": id })).await;
    assert_eq!(e["kind"], "not_found", "{e}");
    let e = err(
        &s,
        "update_record_metadata",
        json!({ "id": id, "body": { "name": "x" } }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    let msa = ok(&s, "retrieve_record", json!({ "id": "IC-1001" })).await;
    assert_eq!(msa["amendments"], json!(["IC-1002"]));
    assert_eq!(
        msa["properties"]["contractValue"]["value"]["amount"],
        300000
    );
    let all = ok(&s, "list_records", json!({})).await;
    assert!(!ids_of(&all, "id").contains(&id));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_lists_page_sort_and_filter() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-list").await;

    // Default order: agreementDate, newest first.
    let all = ok(&s, "list_records", json!({})).await;
    assert_eq!(all["count"], 8);
    assert_eq!(all["truncated"], false);
    let dates: Vec<String> = items(&all)
        .iter()
        .map(|r| {
            r["properties"]["agreementDate"]["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert_eq!(items(&all)[0]["ironcladId"], "IC-1003");

    let by_name = ok(
        &s,
        "list_records",
        json!({ "sortField": "name", "sortDirection": "ASC" }),
    )
    .await;
    let names: Vec<String> = ids_of(&by_name, "name");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);

    let ndas = ok(
        &s,
        "list_records",
        json!({ "types": "mutualNDA,consultingAgreement" }),
    )
    .await;
    assert_eq!(ndas["count"], 5);
    assert!(
        items(&ndas)
            .iter()
            .all(|r| r["type"] == "mutualNDA" || r["type"] == "consultingAgreement")
    );

    let recent = ok(
        &s,
        "list_records",
        json!({ "lastUpdated": "2026-01-01T00:00:00.000Z", "sortField": "lastUpdated" }),
    )
    .await;
    assert_eq!(ids_of(&recent, "ironcladId"), ["IC-27", "IC-1003"]);

    let active = ok(
        &s,
        "list_records",
        json!({ "filter": "And(Equals([contractStatus], 'active'), GreaterThan([contractValue], '100000'))" }),
    )
    .await;
    assert_eq!(ids_of(&active, "ironcladId"), ["IC-1001"]);

    admin(&emu, "reset-request-log").await;
    let few = ok(&s, "list_records", json!({ "max_items": 3 })).await;
    assert_eq!(items(&few).len(), 3);
    assert_eq!(few["truncated"], true);
    let call = only_call(&emu, "GET", "/records").await;
    assert!(
        call["query"].as_str().unwrap().contains("pageSize=3"),
        "{call}"
    );

    // The emulator's own validation of what the schema cannot know.
    let e = err(&s, "list_records", json!({ "types": "lease" })).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("upstream"), Some("types")),
        "{e}"
    );
    let e = err(
        &s,
        "list_records",
        json!({ "filter": "Frobnicate([name], 'x')" }),
    )
    .await;
    assert_eq!(e["field"], "filter", "{e}");
    assert_eq!(e["details"]["code"], "INVALID_PARAM");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_errors_are_typed() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-errors").await;
    admin(&emu, "reset-request-log").await;

    // Refused by the connector before any request.
    for (action, input, field) in [
        (
            "create_record",
            json!({ "body": { "type": "contract", "properties": {} } }),
            "/body/name",
        ),
        ("retrieve_record", json!({}), "/id"),
        (
            "replace_record",
            json!({ "id": "IC-9", "body": { "name": "x", "properties": {} } }),
            "/body/type",
        ),
        (
            "list_records",
            json!({ "sortField": "title" }),
            "/sortField",
        ),
        ("delete_record", json!({ "id": "" }), "/id"),
    ] {
        let e = err(&s, action, input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");

    // Ironclad's own validation, with the offending param surfaced as the field.
    let base =
        |props: Value| json!({ "body": { "type": "contract", "name": "X", "properties": props } });
    let mut unknown_type = base(json!({}));
    unknown_type["body"]["type"] = json!("lease");
    for (input, field, code) in [
        (unknown_type, "type", "INVALID_PARAM"),
        (
            base(json!({ "favouriteColour": { "type": "string", "value": "teal" } })),
            "properties.favouriteColour",
            "INVALID_PARAM",
        ),
        (
            base(json!({ "agreementDate": { "type": "string", "value": "2026-01-01" } })),
            "properties.agreementDate.type",
            "INVALID_PARAM",
        ),
        (
            base(json!({ "agreementDate": { "type": "date", "value": "next tuesday" } })),
            "properties.agreementDate.value",
            "INVALID_PARAM",
        ),
        (
            base(json!({ "counterpartyName": { "type": "string" } })),
            "properties.counterpartyName.value",
            "MISSING_PARAM",
        ),
    ] {
        let e = err(&s, "create_record", input.clone()).await;
        assert_eq!(e["kind"], "upstream", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
        assert_eq!(e["details"]["status"], 400, "{e}");
        assert_eq!(e["details"]["code"], code, "{e}");
    }
    // The spec does not mark this body required: without one, Ironclad names what is missing.
    let e = err(&s, "create_record", json!({})).await;
    assert_eq!(e["field"], "type", "{e}");
    assert_eq!(e["details"]["code"], "MISSING_PARAM", "{e}");
    let e = err(
        &s,
        "create_record",
        json!({ "body": { "type": "contract", "name": "X", "properties": {}, "parent": { "recordId": "IC-424242" } } }),
    )
    .await;
    assert_eq!(e["field"], "parent.recordId", "{e}");
    let e = err(
        &s,
        "update_record_metadata",
        json!({ "id": "IC-1001", "body": { "setParent": { "recordId": "IC-1002" } } }),
    )
    .await;
    assert_eq!(
        e["field"], "setParent.recordId",
        "a parent cannot be its own child: {e}"
    );
    let e = err(
        &s,
        "update_record_metadata",
        json!({ "id": "IC-9", "body": { "addPropertiesToAmend": { "contractValue": { "amendmentType": "replace" } } } }),
    )
    .await;
    assert_eq!(
        e["field"], "addPropertiesToAmend",
        "IC-9 is not an amendment: {e}"
    );

    for key in ["IC-424242", "00000000-0000-4000-8000-000000000000"] {
        let e = err(&s, "retrieve_record", json!({ "id": key })).await;
        assert_eq!(e["kind"], "not_found", "{e}");
    }

    // A token without the records scope.
    let narrow = read_workflows_only(&rt, &emu, &scratch("records-narrow")).await;
    let e = report(
        narrow
            .execute("list_records", &json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(e["details"]["missing_scope"], "public.records.readRecords");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_actions_change_the_status_and_can_be_undone() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-actions").await;
    admin(&emu, "reset-request-log").await;

    // IC-36 is executed but not yet active.
    let before = ok(&s, "retrieve_record", json!({ "id": "IC-36" })).await;
    assert_eq!(before["contractStatus"]["status"], "indeterminate");
    let activate = json!({
        "type": "activate",
        "properties": {
            "effectiveDate": { "type": "date", "value": "2026-01-01T00:00:00Z" },
            "expirationDate": { "type": "date", "value": "2099-01-01T00:00:00Z" },
            "standard_renewalType": { "type": "string", "value": "Auto-Renew" },
            "standard_renewalTermLength": { "type": "duration", "value": "P1Y" }
        }
    });
    admin(&emu, "reset-request-log").await;
    let echoed = ok(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-36", "body": activate }),
    )
    .await;
    let call = only_call(&emu, "POST", "/records/IC-36/actions").await;
    assert_eq!(call["body"], activate);
    assert_eq!(echoed["type"], "activate");
    assert_eq!(
        echoed["properties"]["effectiveDate"]["value"],
        "2026-01-01T00:00:00.000Z"
    );
    let active = ok(&s, "retrieve_record", json!({ "id": "IC-36" })).await;
    assert_eq!(active["contractStatus"]["status"], "active");
    assert_eq!(active["contractStatus"]["enhancedStatus"], "auto-renewing");
    assert_eq!(
        active["contractStatus"]["eventDate"],
        "2099-01-01T00:00:00.000Z"
    );
    assert!(
        active["contractStatus"]["remainingDuration"]
            .as_str()
            .unwrap()
            .starts_with('P')
    );
    assert_eq!(
        active["properties"]["standard_renewalType"]["value"],
        "Auto-Renew"
    );

    // Activating twice is a state error naming the action type.
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-36", "body": activate }),
    )
    .await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["code"], "INVALID_STATE");
    assert_eq!(e["field"], "type");

    // Terminate in the past: inactive. Undo it: active again.
    let terminated = ok(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-36", "body": { "type": "terminate", "properties": {
            "standard_terminatedDate": { "type": "date", "value": "2026-02-01T00:00:00Z" },
            "standard_terminationEffectiveDate": { "type": "date", "value": "2026-03-01T00:00:00Z" }
        }}}),
    )
    .await;
    assert_eq!(terminated["type"], "terminate");
    let gone = ok(&s, "retrieve_record", json!({ "id": "IC-36" })).await;
    assert_eq!(gone["contractStatus"]["status"], "inactive");
    assert_eq!(
        gone["contractStatus"]["message"],
        "Terminated on Mar 1, 2026"
    );
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-36", "body": { "type": "undo", "properties": {
            "standard_undoObligationAction": { "type": "string", "value": "activate" } } } }),
    )
    .await;
    assert_eq!(
        e["details"]["code"], "INVALID_STATE",
        "only the last action: {e}"
    );
    assert_eq!(e["field"], "standard_undoObligationAction");
    ok(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-36", "body": { "type": "undo", "properties": {
            "standard_undoObligationAction": { "type": "string", "value": "terminate" } } } }),
    )
    .await;
    let back = ok(&s, "retrieve_record", json!({ "id": "IC-36" })).await;
    assert_eq!(back["contractStatus"]["enhancedStatus"], "auto-renewing");
    assert!(back["properties"].get("standard_terminatedDate").is_none());

    // Cancel auto-renewal (no properties) on IC-9; a second time is a state error.
    let cancelled = ok(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-9", "body": { "type": "cancelAutoRenewal" } }),
    )
    .await;
    assert_eq!(cancelled, json!({ "type": "cancelAutoRenewal" }));
    let ic9 = ok(&s, "retrieve_record", json!({ "id": "IC-9" })).await;
    assert_eq!(ic9["properties"]["standard_renewalType"]["value"], "None");
    assert_eq!(ic9["contractStatus"]["enhancedStatus"], "expiring");
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-9", "body": { "type": "cancelAutoRenewal" } }),
    )
    .await;
    assert_eq!(e["details"]["code"], "INVALID_STATE", "{e}");

    // Extend IC-18 by a year.
    ok(
        &s,
        "run_action_on_record",
        json!({ "id": NDA_FABRIKAM, "body": { "type": "extend", "properties": {
            "standard_renewalTermLength": { "type": "duration", "value": "P1Y" } } } }),
    )
    .await;
    let ic18 = ok(&s, "retrieve_record", json!({ "id": "IC-18" })).await;
    assert_eq!(
        ic18["properties"]["expirationDate"]["value"],
        "2028-11-29T00:00:00.000Z"
    );

    // Terminated contracts cannot be superseded; unknown records are not found; a body the
    // spec rejects never leaves the connector.
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-27", "body": { "type": "supersede", "properties": {
            "standard_supersededDate": { "type": "date", "value": "2026-04-01T00:00:00Z" },
            "standard_supersessionEffectiveDate": { "type": "date", "value": "2026-04-01T00:00:00Z" }
        }}}),
    )
    .await;
    assert_eq!(e["details"]["code"], "INVALID_STATE", "{e}");
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-424242", "body": { "type": "cancelAutoRenewal" } }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    admin(&emu, "reset-request-log").await;
    let e = err(
        &s,
        "run_action_on_record",
        json!({ "id": "IC-9", "body": { "type": "terminate", "properties": {
            "standard_terminatedDate": { "type": "date", "value": "2026-02-01T00:00:00Z" } } } }),
    )
    .await;
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert!(e["field"].as_str().unwrap().starts_with("/body"), "{e}");
    assert!(api_calls(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_download_urls_are_a_job() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-downloads").await;
    admin(&emu, "reset-request-log").await;
    let identifiers = json!(["IC-9", MSA_CONTOSO, "IC-36", "IC-424242"]);
    let job = ok(
        &s,
        "create_attachment_download_urls",
        json!({ "body": { "identifiers": identifiers, "type": "latestSignedCopy" } }),
    )
    .await;
    let call = only_call(&emu, "POST", "/records/attachments/download-urls").await;
    assert_eq!(call["status"], 202);
    assert_eq!(call["body"]["identifiers"], identifiers);
    assert_eq!(job["status"], "processing");
    let job_id = job["jobId"].as_str().unwrap().to_owned();

    let done = ok(
        &s,
        "get_attachment_download_urls_status",
        json!({ "jobId": job_id }),
    )
    .await;
    only_call(
        &emu,
        "GET",
        &format!("/records/attachments/download-urls/{job_id}"),
    )
    .await;
    assert_eq!(done["jobId"], job_id.as_str());
    assert_eq!(done["status"], "complete");
    let succeeded = done["succeeded"].as_array().unwrap();
    assert_eq!(succeeded.len(), 2, "{done}");
    assert_eq!(succeeded[0]["identifier"], "IC-9");
    assert_eq!(succeeded[0]["ironcladId"], "IC-9");
    assert_eq!(succeeded[1]["recordId"], MSA_CONTOSO);
    assert_eq!(succeeded[1]["ironcladId"], "IC-1001");
    assert_eq!(succeeded[1]["filename"], "MSA - Contoso Ltd.pdf");
    for s in succeeded {
        assert!(
            s["downloadUrl"].as_str().unwrap().starts_with("https://"),
            "{s}"
        );
        assert_eq!(s["fileHash"].as_str().unwrap().len(), 64);
        assert!(s["expiration"].is_string());
    }
    let failed = done["failed"].as_array().unwrap();
    assert_eq!(
        failed
            .iter()
            .map(|f| (
                f["identifier"].as_str().unwrap(),
                f["errorCode"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [
            ("IC-36", "NO_ATTACHMENT_FOUND"),
            ("IC-424242", "RECORD_NOT_FOUND")
        ]
    );
    assert_eq!(failed[0]["ironcladId"], "IC-36");
    assert!(failed[1].get("recordId").is_none());
    // Polling again gives the same finished job.
    let again = ok(
        &s,
        "get_attachment_download_urls_status",
        json!({ "jobId": job_id }),
    )
    .await;
    assert_eq!(again, done);

    let e = err(
        &s,
        "get_attachment_download_urls_status",
        json!({ "jobId": "no-such-job" }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    admin(&emu, "reset-request-log").await;
    for (input, field) in [
        (
            json!({ "body": { "identifiers": ["IC-9"], "type": "everything" } }),
            "/body/type",
        ),
        (
            json!({ "body": { "type": "latestSignedCopy" } }),
            "/body/identifiers",
        ),
        (json!({}), "/body"),
    ] {
        let e = err(&s, "create_attachment_download_urls", input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty());
    let e = err(
        &s,
        "create_attachment_download_urls",
        json!({ "body": { "identifiers": [], "type": "latestSignedCopy" } }),
    )
    .await;
    assert_eq!(e["field"], "identifiers", "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_import_predictions_by_record_or_import() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "records-predictions").await;
    admin(&emu, "reset-request-log").await;
    let one = ok(
        &s,
        "retrieve_import_predictions",
        json!({ "recordId": "IC-1001" }),
    )
    .await;
    assert_eq!(one, json!({ "recordId": MSA_CONTOSO, "status": "ready" }));
    let call = only_call(&emu, "GET", "/records/smart-import").await;
    assert_eq!(call["query"], "recordId=IC-1001");

    let import = "dba02c30-b68f-49ad-9d61-71f42f60409c";
    let many = ok(
        &s,
        "retrieve_import_predictions",
        json!({ "importId": import }),
    )
    .await;
    assert_eq!(
        many,
        json!({ "result": [
            { "recordId": MSA_CONTOSO, "status": "ready" },
            { "recordId": AMENDMENT_CONTOSO, "status": "pending" }
        ]}),
        "an array answer comes back under result"
    );
    for input in [
        json!({ "recordId": "IC-9" }),
        json!({ "importId": "00000000-0000-4000-8000-000000000000" }),
    ] {
        let e = err(&s, "retrieve_import_predictions", input.clone()).await;
        assert_eq!(e["kind"], "not_found", "{input}: {e}");
    }
    let e = err(&s, "retrieve_import_predictions", json!({})).await;
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 400);
    assert_eq!(e["details"]["code"], "INVALID_PARAM");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_create_retrieve_list_update_delete() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "entities").await;

    let types = ok(&s, "get_entity_relationship_types", json!({})).await;
    let types = types["result"]
        .as_array()
        .expect("a bare array under result");
    let partner = types.iter().find(|t| t["name"] == "partner").unwrap();
    assert!(partner["id"].is_string() && partner["displayName"] == "Partner");

    // Default order: name, descending.
    let all = ok(&s, "list_entities", json!({})).await;
    assert_eq!(all["count"], 5);
    assert_eq!(
        ids_of(&all, "name"),
        [
            "Fourth Coffee",
            "Fabrikam Inc.",
            "Contoso Ltd",
            "Contoso Europe GmbH",
            "City Power & Light"
        ]
    );
    assert_eq!(items(&all)[0]["status"], "inactive");
    admin(&emu, "reset-request-log").await;
    let vendor = ok(
        &s,
        "list_entities",
        json!({ "filter": "Equals([entity_externalID], 'VND-0042')", "sortField": "lastUpdated", "sortDirection": "ASC" }),
    )
    .await;
    assert_eq!(ids_of(&vendor, "ironcladId"), ["ENTITY-2"]);
    let call = only_call(&emu, "GET", "/entities").await;
    let q = call["query"].as_str().unwrap();
    assert!(
        q.contains("sortField=lastUpdated")
            && q.contains("sortDirection=ASC")
            && q.contains("filter="),
        "{q}"
    );

    // Create: 201, ENTITY-n, INACTIVE in the request and inactive in the answer.
    let body = json!({
        "name": "Initrode Partners",
        "relationshipTypeKey": ["partner"],
        "status": "INACTIVE",
        "properties": {
            "entity_externalID": { "type": "string", "value": "PRT-0001" },
            "entity_employeeCount": { "type": "number", "value": 12 }
        },
        "parent": { "recordId": "ENTITY-1" }
    });
    let created = ok(&s, "create_entity", json!({ "body": body })).await;
    let call = only_call(&emu, "POST", "/entities").await;
    assert_eq!(call["status"], 201);
    assert_eq!(call["body"], body);
    assert_eq!(created["ironcladId"], "ENTITY-6");
    assert_eq!(created["status"], "inactive");
    assert_eq!(created["namedTypeIds"], json!([partner["id"]]));
    assert_eq!(created["parentId"], "ec31036c-18cd-46dd-9c90-89605fc3aec5");
    let id = created["id"].as_str().unwrap().to_owned();
    for key in [id.as_str(), "ENTITY-6"] {
        let got = ok(&s, "retrieve_entity", json!({ "id": key })).await;
        assert_eq!(got, created);
    }

    admin(&emu, "reset-request-log").await;
    let updated = ok(
        &s,
        "update_entity",
        json!({ "id": "ENTITY-6", "body": {
            "name": "Initrode Partners LLC",
            "status": "ACTIVE",
            "relationshipTypeKey": ["vendor"],
            "addProperties": { "entity_primaryEmail": { "type": "email", "value": "ops@initrode.example" } },
            "removeProperties": ["entity_employeeCount"],
            "removeParent": true
        }}),
    )
    .await;
    only_call(&emu, "PATCH", "/entities/ENTITY-6").await;
    assert_eq!(updated["name"], "Initrode Partners LLC");
    assert_eq!(updated["status"], "active");
    assert!(updated.get("parentId").is_none(), "{updated}");
    assert!(updated["properties"].get("entity_employeeCount").is_none());
    assert_eq!(
        updated["properties"]["entity_primaryEmail"]["value"],
        "ops@initrode.example"
    );
    assert_ne!(updated["namedTypeIds"], created["namedTypeIds"]);
    let listed = ok(
        &s,
        "list_entities",
        json!({ "filter": "Equals([name], 'Initrode Partners LLC')" }),
    )
    .await;
    assert_eq!(ids_of(&listed, "id"), [id.as_str()]);

    admin(&emu, "reset-request-log").await;
    let deleted = ok(&s, "delete_entity", json!({ "id": id })).await;
    assert_eq!(deleted, json!({ "status": 204 }));
    let call = only_call(&emu, "DELETE", &format!("/entities/{id}")).await;
    assert_eq!(call["status"], 204);
    for action in ["retrieve_entity", "delete_entity"] {
        let e = err(&s, action, json!({ "id": "ENTITY-6" })).await;
        assert_eq!(e["kind"], "not_found", "{action}: {e}");
    }

    // Errors: schema-level ones stay in the connector; Ironclad's name their param.
    admin(&emu, "reset-request-log").await;
    for (input, field) in [
        (
            json!({ "body": { "name": "X", "status": "active" } }),
            "/body/status",
        ),
        (json!({ "body": { "status": "ACTIVE" } }), "/body/name"),
        (json!({ "body": { "name": "" } }), "/body/name"),
    ] {
        let e = err(&s, "create_entity", input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty());
    for (input, field) in [
        (
            json!({ "body": { "name": "X", "relationshipTypeKey": ["competitor"] } }),
            "relationshipTypeKey",
        ),
        (
            json!({ "body": { "name": "X", "relationshipTypeKey": ["customer", "vendor"] } }),
            "relationshipTypeKey",
        ),
        (
            json!({ "body": { "name": "X", "properties": { "entity_shoeSize": { "type": "number", "value": 9 } } } }),
            "properties.entity_shoeSize",
        ),
        (
            json!({ "body": { "name": "X", "parent": { "recordId": "ENTITY-999" } } }),
            "parent.recordId",
        ),
    ] {
        let e = err(&s, "create_entity", input.clone()).await;
        assert_eq!(e["kind"], "upstream", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    let e = err(
        &s,
        "update_entity",
        json!({ "id": "ENTITY-1", "body": { "setParent": { "recordId": "ENTITY-4" } } }),
    )
    .await;
    assert_eq!(e["field"], "setParent.recordId", "no cycles: {e}");
    let e = err(
        &s,
        "update_entity",
        json!({ "id": "ENTITY-999", "body": { "name": "X" } }),
    )
    .await;
    assert_eq!(e["kind"], "not_found", "{e}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obligation_create_retrieve_list_update() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "obligations").await;

    let all = ok(&s, "list_obligations", json!({})).await;
    assert_eq!(all["count"], 4);
    let names = ids_of(&all, "name");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(names, sorted, "name, descending by default");

    admin(&emu, "reset-request-log").await;
    let filter = format!("Equals([parentId], '{MSA_CONTOSO}')");
    let on_msa = ok(
        &s,
        "list_obligations",
        json!({ "filter": filter, "sortDirection": "ASC" }),
    )
    .await;
    assert_eq!(ids_of(&on_msa, "ironcladId"), ["OB-1", "OB-2"]);
    assert!(
        items(&on_msa)
            .iter()
            .all(|o| o["parentReadableId"] == "IC-1001")
    );
    let call = only_call(&emu, "GET", "/obligations").await;
    assert!(
        call["query"]
            .as_str()
            .unwrap()
            .contains("filter=Equals%28%5BparentId%5D"),
        "{call}"
    );

    let body = json!({
        "name": "Pay termination fee",
        "obligationTypeKey": ["payment"],
        "parentId": "IC-27",
        "properties": {
            "userFacingObligations_amount": { "type": "monetary_amount", "value": { "currency": "USD", "amount": 5000 } },
            "userFacingObligations_dueDate": { "type": "date", "value": "2026-04-30T00:00:00Z" }
        }
    });
    let created = ok(&s, "create_obligation", json!({ "body": body })).await;
    let call = only_call(&emu, "POST", "/obligations").await;
    assert_eq!(call["status"], 201);
    assert_eq!(call["body"], body);
    assert_eq!(created["ironcladId"], "OB-5");
    assert_eq!(created["parentReadableId"], "IC-27");
    assert_eq!(
        created["parentRecordName"],
        "Consulting Agreement with Fourth Coffee"
    );
    assert_eq!(created["namedTypeIds"].as_array().unwrap().len(), 1);
    let id = created["id"].as_str().unwrap().to_owned();
    for key in [id.as_str(), "OB-5", "ob-5"] {
        assert_eq!(
            ok(&s, "retrieve_obligation", json!({ "id": key })).await,
            created
        );
    }

    admin(&emu, "reset-request-log").await;
    let updated = ok(
        &s,
        "update_obligation",
        json!({ "id": "OB-5", "body": {
            "name": "Pay early termination fee",
            "addProperties": { "userFacingObligations_status": { "type": "string", "value": "Done" } },
            "removeProperties": ["userFacingObligations_dueDate"],
            "obligationTypeKey": ["compliance"]
        }}),
    )
    .await;
    only_call(&emu, "PATCH", "/obligations/OB-5").await;
    assert_eq!(updated["name"], "Pay early termination fee");
    assert_eq!(
        updated["properties"]["userFacingObligations_status"]["value"],
        "Done"
    );
    assert!(
        updated["properties"]
            .get("userFacingObligations_dueDate")
            .is_none()
    );
    assert_ne!(updated["namedTypeIds"], created["namedTypeIds"]);
    let newest = ok(
        &s,
        "list_obligations",
        json!({ "sortField": "lastUpdated", "max_items": 1 }),
    )
    .await;
    assert_eq!(ids_of(&newest, "id"), [id.as_str()]);
    let on_ic27 = ok(
        &s,
        "list_obligations",
        json!({ "filter": "Equals([parentId], 'e88ae0e2-fd51-4a48-a9f2-5f222bd112d3')" }),
    )
    .await;
    assert_eq!(ids_of(&on_ic27, "ironcladId"), ["OB-5"]);

    // Errors.
    admin(&emu, "reset-request-log").await;
    for (input, field) in [
        (
            json!({ "body": { "name": "X", "parentId": "IC-27", "obligationTypeKey": ["payment", "compliance"] } }),
            "/body/obligationTypeKey",
        ),
        (
            json!({ "body": { "name": "X", "obligationTypeKey": ["payment"] } }),
            "/body/parentId",
        ),
    ] {
        let e = err(&s, "create_obligation", input.clone()).await;
        assert_eq!(e["kind"], "invalid_input", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty());
    for (input, field) in [
        (
            json!({ "body": { "name": "X", "parentId": "IC-424242", "obligationTypeKey": ["payment"] } }),
            "parentId",
        ),
        (
            json!({ "body": { "name": "X", "parentId": "IC-27", "obligationTypeKey": ["tax"] } }),
            "obligationTypeKey",
        ),
        (
            json!({ "body": { "name": "X", "parentId": "IC-27", "obligationTypeKey": ["payment"],
            "properties": { "userFacingObligations_dueDate": { "type": "string", "value": "soon" } } } }),
            "properties.userFacingObligations_dueDate.type",
        ),
    ] {
        let e = err(&s, "create_obligation", input.clone()).await;
        assert_eq!(e["kind"], "upstream", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
    }
    for (action, input) in [
        ("retrieve_obligation", json!({ "id": "OB-999" })),
        (
            "update_obligation",
            json!({ "id": "OB-999", "body": { "name": "X" } }),
        ),
    ] {
        let e = err(&s, action, input).await;
        assert_eq!(e["kind"], "not_found", "{action}: {e}");
    }
    emu.shutdown().await;
}
