//! The CLM SCIM API (`api_type: clm_scim`) through the compiled component against the
//! emulator, every request judged against Ironclad's official SCIM OpenAPI: each of the 14
//! `scim_` actions, paging across pages, filters, PatchOp bodies, SCIM errors as typed
//! errors, test-connection, the `scim_user_changed` trigger across polls, and actions and
//! triggers refused on a connection of the other API type.

use crate::common;

use common::*;
use host_harness::triggers::PollState;
use host_harness::{Runtime, Session};
use serde_json::{Value, json};

const ALL_SCIM_SCOPES: &str = "scim.users.readUsers scim.users.createUsers scim.users.updateUsers \
scim.users.deleteUsers scim.groups.readGroups scim.groups.createGroups scim.groups.updateGroups \
scim.groups.deleteGroups scim.schemas.readSchemas";

/// A client-credentials SCIM session with every SCIM scope; `patch` overrides form fields.
async fn scim_session<'r>(
    rt: &'r Runtime,
    emu: &host_harness::emulator::RunningEmulator,
    name: &str,
    patch: Value,
) -> Session<'r> {
    let mut fields = json!({ "api_type": "clm_scim", "scopes": ALL_SCIM_SCOPES });
    for (k, v) in patch.as_object().unwrap() {
        fields[k] = v.clone();
    }
    connect_with(rt, emu, &scratch(name), fields).await
}

/// The SCIM requests the emulator received: `(method, path, query, body)`.
async fn scim_calls(emu: &host_harness::emulator::RunningEmulator) -> Vec<Value> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/scim/v2/"))
        .collect()
}

/// The query strings of those requests, in order.
async fn scim_queries(emu: &host_harness::emulator::RunningEmulator) -> Vec<String> {
    scim_calls(emu)
        .await
        .iter()
        .map(|r| r["query"].as_str().unwrap().to_string())
        .collect()
}

fn new_user(email: &str) -> Value {
    json!({ "body": {
        "userName": email,
        "name": { "givenName": "Ada", "familyName": "Lovelace" },
        "title": "Counsel",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Legal" }
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_lists_the_scim_actions_and_trigger() {
    let manifest = runtime().describe().await.unwrap();
    let scim: Vec<&Value> = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"].as_str().unwrap().starts_with("scim_"))
        .collect();
    let keys: Vec<&str> = scim.iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "scim_list_users",
            "scim_create_user",
            "scim_retrieve_user",
            "scim_patch_user",
            "scim_replace_user",
            "scim_delete_user",
            "scim_list_groups",
            "scim_create_group",
            "scim_retrieve_group",
            "scim_patch_group",
            "scim_replace_group",
            "scim_delete_group",
            "scim_list_schemas",
            "scim_retrieve_schema"
        ]
    );
    for a in &scim {
        assert!(a["group"].as_str().unwrap().starts_with("SCIM "), "{a}");
        assert!(a["scopes"][0].as_str().unwrap().starts_with("scim."), "{a}");
        assert!(a["operation"].is_string(), "{a}");
    }
    let trigger = manifest["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "scim_user_changed")
        .unwrap();
    assert_eq!(trigger["modes"], json!(["poll"]));
    assert_eq!(trigger["scopes"], json!(["scim.users.readUsers"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_scim_spec_is_an_action() {
    let in_spec = contract_operation_ids("clm-scim");
    let in_spec: Vec<&str> = in_spec.iter().map(String::as_str).collect();
    assert_eq!(in_spec.len(), 14);
    let manifest = runtime().describe().await.unwrap();
    let mut offered: Vec<&str> = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"].as_str().unwrap().starts_with("scim_"))
        .filter_map(|a| a["operation"].as_str())
        .collect();
    offered.sort();
    assert_eq!(offered, in_spec);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_reads_one_scim_user() {
    let emu = start_emulator().await;
    let rt = runtime();
    let jane = &emu.seed().users[0];
    // Default scopes (scim.users.readUsers scim.groups.readGroups) suffice.
    let session = connect_with(
        &rt,
        &emu,
        &scratch("scim-test"),
        json!({ "api_type": "clm_scim" }),
    )
    .await;
    let who = session.test().await.unwrap();
    assert_eq!(who["user"]["email"], jane.email.as_str());
    assert_eq!(who["user"]["id"], jane.id.as_str());
    assert_eq!(who["user"]["name"], jane.display_name().as_str());
    let calls = scim_calls(&emu).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["path"], "/scim/v2/Users");
    assert!(
        calls[0]["query"].as_str().unwrap().contains("count=1"),
        "{}",
        calls[0]
    );

    // Without an acting user (optional for SCIM) one user is listed, identity left empty.
    let anonymous = connect_with(
        &rt,
        &emu,
        &scratch("scim-test-anon"),
        json!({ "api_type": "clm_scim", "impersonate_user": null }),
    )
    .await;
    let who = anonymous.test().await.unwrap();
    assert!(who["user"]["id"].is_null());
    // An acting user the company does not have is named as the form field to fix.
    let ghost = connect_with(
        &rt,
        &emu,
        &scratch("scim-test-ghost"),
        json!({ "api_type": "clm_scim", "impersonate_user": "ghost@acme.example" }),
    )
    .await;
    let e = report(ghost.test().await.unwrap_err());
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["code"], "invalidValue", "{e}");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_filtered_patched_replaced_and_deleted() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-users", json!({})).await;

    // Create: the body leaves `schemas` out; the connector sends the User URN.
    let ada = s
        .execute("scim_create_user", &new_user("ada@acme.example"))
        .await
        .unwrap();
    let id = ada["id"].as_str().unwrap().to_string();
    assert_eq!(ada["userName"], "ada@acme.example");
    assert_eq!(ada["meta"]["resourceType"], "User");
    let create = scim_calls(&emu).await.pop().unwrap();
    assert_eq!(
        (create["method"].as_str(), create["path"].as_str()),
        (Some("POST"), Some("/scim/v2/Users"))
    );
    assert_eq!(
        create["body"]["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );

    // List with a filter: the new user, and only it.
    let found = s
        .execute(
            "scim_list_users",
            &json!({ "filter": "userName eq \"ADA@acme.example\"" }),
        )
        .await
        .unwrap();
    assert_eq!(
        (found["count"].clone(), found["truncated"].clone()),
        (json!(1), json!(false))
    );
    assert_eq!(found["items"][0]["id"], id.as_str());
    let all = s.execute("scim_list_users", &json!({})).await.unwrap();
    assert_eq!(all["count"], 4, "3 seeded users + Ada");

    let got = s
        .execute(
            "scim_retrieve_user",
            &json!({ "userId": id, "excludedAttributes": "emails" }),
        )
        .await
        .unwrap();
    assert_eq!(got["name"]["givenName"], "Ada");
    assert!(got.get("emails").is_none(), "{got}");

    // PATCH (PatchOp): replace the title, add a given name, remove the department.
    let patched = s
        .execute(
            "scim_patch_user",
            &json!({ "userId": id, "body": { "Operations": [
                { "op": "replace", "path": "title", "value": "General Counsel" },
                { "op": "add", "path": "name.givenName", "value": "Augusta" },
                { "op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" }
            ]}}),
        )
        .await
        .unwrap();
    assert_eq!(patched["title"], "General Counsel");
    assert_eq!(patched["name"]["givenName"], "Augusta");
    assert!(
        patched["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
            .is_null()
    );
    let patch = scim_calls(&emu).await.pop().unwrap();
    assert_eq!(patch["method"], "PATCH");
    assert_eq!(
        patch["body"]["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:PatchOp"])
    );

    // PUT replaces the whole user.
    let mut replacement = new_user("ada.king@acme.example");
    replacement["userId"] = json!(id);
    replacement["body"]["title"] = json!("Countess");
    let replaced = s.execute("scim_replace_user", &replacement).await.unwrap();
    assert_eq!(
        (replaced["userName"].as_str(), replaced["title"].as_str()),
        (Some("ada.king@acme.example"), Some("Countess"))
    );
    assert_ne!(
        replaced["meta"]["lastModified"],
        ada["meta"]["lastModified"]
    );

    let gone = s
        .execute("scim_delete_user", &json!({ "userId": id }))
        .await
        .unwrap();
    assert_eq!(gone, json!({ "status": 204 }));
    let e = report(
        s.execute("scim_retrieve_user", &json!({ "userId": id }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(&format!("Resource {id} not found")),
        "{e}"
    );
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_hold_members() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-groups", json!({})).await;
    let users: Vec<String> = emu.seed().users.iter().map(|u| u.id.clone()).collect();

    let seeded = s.execute("scim_list_groups", &json!({})).await.unwrap();
    assert_eq!(seeded["count"], 1);
    assert_eq!(seeded["items"][0]["displayName"], "Legal Ops Group");

    let group = s
        .execute(
            "scim_create_group",
            &json!({ "body": { "displayName": "Procurement", "members": [{ "value": users[2] }] } }),
        )
        .await
        .unwrap();
    let gid = group["id"].as_str().unwrap().to_string();
    assert_eq!(
        group["members"],
        json!([{ "type": "User", "value": users[2] }])
    );
    let create = scim_calls(&emu).await.pop().unwrap();
    assert_eq!(
        create["body"]["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );

    let by_name = s
        .execute(
            "scim_list_groups",
            &json!({ "filter": "displayName eq \"procurement\"" }),
        )
        .await
        .unwrap();
    assert_eq!(by_name["items"][0]["id"], gid.as_str());

    let added = s
        .execute(
            "scim_patch_group",
            &json!({ "groupId": gid, "body": { "Operations": [
                { "op": "add", "path": "members", "value": [{ "value": users[0] }, { "value": users[1] }] },
                { "op": "remove", "path": "members", "value": [{ "value": users[2] }] }
            ]}}),
        )
        .await
        .unwrap();
    let members: Vec<&str> = added["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [users[0].as_str(), users[1].as_str()]);

    let got = s
        .execute("scim_retrieve_group", &json!({ "groupId": gid }))
        .await
        .unwrap();
    assert_eq!(got["members"], added["members"]);

    let replaced = s
        .execute(
            "scim_replace_group",
            &json!({ "groupId": gid, "body": { "displayName": "Procurement EMEA", "members": [{ "value": users[1] }] } }),
        )
        .await
        .unwrap();
    assert_eq!(replaced["displayName"], "Procurement EMEA");
    assert_eq!(
        replaced["members"],
        json!([{ "type": "User", "value": users[1] }])
    );

    // A deleted user leaves the groups it was in.
    s.execute("scim_delete_user", &json!({ "userId": users[1] }))
        .await
        .unwrap();
    let got = s
        .execute("scim_retrieve_group", &json!({ "groupId": gid }))
        .await
        .unwrap();
    assert_eq!(got["members"], json!([]));

    // A member that is not a user is SCIM's invalidValue, surfaced as the upstream code.
    let e = report(
        s.execute(
            "scim_patch_group",
            &json!({ "groupId": gid, "body": { "Operations": [
                { "op": "add", "path": "members", "value": [{ "value": "nobody" }] }
            ]}}),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["details"]["code"].as_str()),
        (Some("upstream"), Some("invalidValue")),
        "{e}"
    );

    assert_eq!(
        s.execute("scim_delete_group", &json!({ "groupId": gid }))
            .await
            .unwrap(),
        json!({ "status": 204 })
    );
    let e = report(
        s.execute("scim_retrieve_group", &json!({ "groupId": gid }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_are_listed_and_retrieved() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-schemas", json!({})).await;
    let all = s.execute("scim_list_schemas", &json!({})).await.unwrap();
    assert_eq!(all["totalResults"], 4);
    let user = "urn:ietf:params:scim:schemas:core:2.0:User";
    assert!(
        all["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == user)
    );
    let one = s
        .execute("scim_retrieve_schema", &json!({ "schemaId": user }))
        .await
        .unwrap();
    assert_eq!(one["name"], "User");
    assert!(
        one["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "userName")
    );
    let e = report(
        s.execute("scim_retrieve_schema", &json!({ "schemaId": "urn:nope" }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_follow_scim_pages() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-paging", json!({})).await;
    for i in 0..4 {
        s.execute("scim_create_user", &new_user(&format!("p{i}@acme.example")))
            .await
            .unwrap();
    }
    // The server returns at most 2 per page, whatever `count` asks: 7 users take 4 pages.
    admin_with(&emu, "scim-page-limit", json!({ "max": 2 })).await;
    admin(&emu, "reset-request-log").await;
    let all = s.execute("scim_list_users", &json!({})).await.unwrap();
    assert_eq!(
        (all["count"].clone(), all["truncated"].clone()),
        (json!(7), json!(false))
    );
    let ids: std::collections::BTreeSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "every user once");
    let starts = scim_queries(&emu).await;
    assert_eq!(
        starts,
        [
            "startIndex=1&count=1000",
            "startIndex=3&count=1000",
            "startIndex=5&count=1000",
            "startIndex=7&count=1000"
        ]
    );
    // `max_items` stops early, asks for no more than it needs, and says it was truncated.
    admin(&emu, "reset-request-log").await;
    let three = s
        .execute("scim_list_users", &json!({ "max_items": 3 }))
        .await
        .unwrap();
    assert_eq!(three["items"].as_array().unwrap().len(), 3);
    assert_eq!(three["truncated"], true);
    let calls = scim_calls(&emu).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["query"], "startIndex=1&count=3");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_errors_are_typed() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-errors", json!({})).await;

    // A filter on an attribute Users do not have: invalid_input naming `/filter`.
    let e = report(
        s.execute(
            "scim_list_users",
            &json!({ "filter": "legalName eq \"x\"" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/filter")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("invalidFilter"),
        "{e}"
    );

    // An existing userName: conflict.
    let jane = emu.seed().users[0].email.clone();
    let e = report(
        s.execute("scim_create_user", &new_user(&jane))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "conflict", "{e}");

    // A password below Ironclad's rules: upstream 400 with scimType and detail.
    let mut weak = new_user("weak@acme.example");
    weak["body"]["password"] = json!("short");
    let e = report(s.execute("scim_create_user", &weak).await.unwrap_err());
    assert_eq!(e["details"]["status"], 400, "{e}");
    assert_eq!(e["details"]["code"], "invalidValue", "{e}");
    assert!(e["message"].as_str().unwrap().contains("password"), "{e}");

    // Input the spec refuses never leaves the connector.
    admin(&emu, "reset-request-log").await;
    let e = report(
        s.execute("scim_create_user", &json!({ "body": { "userName": 7 } }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert!(scim_calls(&emu).await.is_empty());

    // A token without the operation's scope: forbidden, naming the scope to add.
    let narrow = scim_session(
        &rt,
        &emu,
        "scim-narrow",
        json!({ "scopes": "scim.users.readUsers" }),
    )
    .await;
    narrow
        .execute("scim_list_users", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    let e = report(
        narrow
            .execute("scim_create_user", &new_user("nope@acme.example"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(
        e["details"]["missing_scope"], "scim.users.createUsers",
        "{e}"
    );

    // The emulator judges SCIM requests against the official SCIM OpenAPI (when present).
    if emu.emulator().contracts().len() == 2 {
        let url = format!("{}/scim/v2/Users?sortBy=userName", emu.base_url());
        let refused = reqwest::get(url).await.unwrap();
        assert_eq!(refused.status(), 400);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "CONTRACT_VIOLATION", "{body}");
        assert_eq!(contract_violations(&emu).await.len(), 1);
        reqwest::Client::new()
            .delete(format!("{}/_emulator/contract-violations", emu.base_url()))
            .send()
            .await
            .unwrap();
    }

    // A wrong client secret: unauthenticated, the secret never echoed.
    let wrong = scim_session(
        &rt,
        &emu,
        "scim-wrong",
        json!({ "client_secret": "wrong-scim-secret" }),
    )
    .await;
    let e = report(
        wrong
            .execute("scim_list_users", &json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "unauthenticated", "{e}");
    assert!(!e.to_string().contains("wrong-scim-secret"));
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_and_triggers_run_only_on_their_api_type() {
    let emu = start_emulator().await;
    let rt = runtime();
    let clm = session_in(&rt, &emu, "scim-mismatch-clm").await;
    let scim = scim_session(&rt, &emu, "scim-mismatch-scim", json!({})).await;
    let cases = [
        (&clm, "scim_list_users", "clm_scim"),
        (&scim, "list_workflows", "clm_public"),
        (&scim, "launch_workflow_and_wait", "clm_public"),
    ];
    for (session, action, needs) in cases {
        let e = report(session.execute(action, &json!({})).await.unwrap_err());
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_config"), Some("api_type")),
            "{e}"
        );
        assert!(e["message"].as_str().unwrap().contains(needs), "{e}");
    }
    let e = report(
        clm.poll("scim_user_changed", &json!({}), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_config"), Some("api_type")),
        "{e}"
    );
    let e = report(
        scim.poll("workflow_launched", &json!({}), None)
            .await
            .unwrap_err(),
    );
    assert!(e["message"].as_str().unwrap().contains("clm_public"), "{e}");
    // Refused before any request.
    assert!(scim_calls(&emu).await.is_empty());
    assert!(api_calls(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_and_a_changed_user_are_polled_once_each() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-poll", json!({})).await;
    let mut state = PollState::default();
    // A new trigger starts from now: the seeded users are not replayed.
    let first = s
        .poll_with("scim_user_changed", &json!({}), &mut state)
        .await
        .unwrap();
    assert!(first.events.is_empty(), "{:?}", first.events);

    let ada = s
        .execute("scim_create_user", &new_user("poll@acme.example"))
        .await
        .unwrap();
    let id = ada["id"].as_str().unwrap();
    let second = s
        .poll_with("scim_user_changed", &json!({}), &mut state)
        .await
        .unwrap();
    assert_eq!(second.events.len(), 1, "{:?}", second.events);
    assert_eq!(second.events[0].payload["event"], "scim_user_created");
    assert_eq!(second.events[0].payload["user"]["id"], id);

    let third = s
        .poll_with("scim_user_changed", &json!({}), &mut state)
        .await
        .unwrap();
    assert!(third.events.is_empty(), "{:?}", third.events);

    s.execute(
        "scim_patch_user",
        &json!({ "userId": id, "body": { "Operations": [{ "op": "replace", "path": "title", "value": "Partner" }] } }),
    )
    .await
    .unwrap();
    let fourth = s
        .poll_with("scim_user_changed", &json!({}), &mut state)
        .await
        .unwrap();
    assert_eq!(fourth.events.len(), 1, "{:?}", fourth.events);
    assert_eq!(fourth.events[0].payload["event"], "scim_user_updated");
    assert_eq!(fourth.events[0].payload["user"]["title"], "Partner");
    assert_ne!(fourth.events[0].id, second.events[0].id);

    // `filter` narrows what is watched.
    let mut narrowed = PollState::default();
    let input = json!({ "since": "2020-01-01T00:00:00Z", "filter": "userName sw \"poll\"" });
    let only = s
        .poll_with("scim_user_changed", &input, &mut narrowed)
        .await
        .unwrap();
    assert_eq!(only.events.len(), 1, "{:?}", only.events);
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_the_example_scim_connection() {
    let emu = start_emulator().await;
    let dir = scratch("scim-cli");
    let mut form: Value = serde_json::from_str(include_str!(
        "../../fixtures/connections/emulator-scim-client-credentials.json"
    ))
    .unwrap();
    form["instance_url"] = json!(emu.base_url());
    let cfg = write_json(&dir, "scim.json", &form);
    let run = cli(&dir, &["test-connection", "--config", &cfg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["user"]["email"], "jane.doe@acme.example");
    let input = write_json(
        &dir,
        "in.json",
        &json!({ "filter": "title co \"counsel\"" }),
    );
    let run = cli(
        &dir,
        &[
            "action",
            "scim_list_users",
            "--config",
            &cfg,
            "--input",
            &input,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["items"][0]["userName"], "jane.doe@acme.example");
    let run = cli(&dir, &["action", "list_workflows", "--config", &cfg]).await;
    assert_eq!(run.error_kind(), "invalid_config");
    assert_eq!(run.json()["error"]["field"], "api_type");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}

/// The ids a SCIM listing returns.
async fn listed_ids(s: &Session<'_>, action: &str) -> std::collections::BTreeSet<String> {
    s.execute(action, &json!({})).await.unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_lists_page_through_users_and_groups() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = scim_session(&rt, &emu, "scim-options", json!({})).await;
    let seeded = listed_ids(&s, "scim_list_users").await.len();
    for i in seeded..130 {
        s.execute(
            "scim_create_user",
            &new_user(&format!("pick{i}@acme.example")),
        )
        .await
        .unwrap();
    }
    for name in ["Legal", "Finance"] {
        s.execute(
            "scim_create_group",
            &json!({ "body": { "displayName": name, "members": [] } }),
        )
        .await
        .unwrap();
    }
    let users = listed_ids(&s, "scim_list_users").await;
    assert_eq!(users.len(), 130);

    admin(&emu, "reset-request-log").await;
    let first = s
        .list_options("scim_users", &json!({}), None)
        .await
        .unwrap();
    assert_eq!(first["options"].as_array().unwrap().len(), 100);
    assert_eq!(first["next_cursor"], "1");
    let second = s
        .list_options("scim_users", &json!({}), Some("1"))
        .await
        .unwrap();
    assert_eq!(second["options"].as_array().unwrap().len(), 30);
    assert!(second["next_cursor"].is_null(), "{second}");
    let queries = scim_queries(&emu).await;
    assert_eq!(
        queries,
        ["startIndex=1&count=100", "startIndex=101&count=100"],
        "one SCIM page per page"
    );
    let label = first["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["label"] == "pick129@acme.example")
        .or_else(|| {
            second["options"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["label"] == "pick129@acme.example")
        })
        .unwrap_or_else(|| panic!("pick129 in {first} {second}"));
    assert_eq!(label["description"], "Ada Lovelace");

    // A server serving fewer than asked (RFC 7644 lets it): every user still, once.
    admin_with(&emu, "scim-page-limit", json!({ "max": 40 })).await;
    let paged = s.all_options("scim_users", &json!({}), 10).await.unwrap();
    assert_eq!(paged["pages"], 2);
    let values: Vec<String> = paged["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(values.len(), 130, "no repeats");
    assert_eq!(
        values
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        users
    );

    let groups = s.all_options("scim_groups", &json!({}), 10).await.unwrap();
    let group_ids: std::collections::BTreeSet<String> = groups["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(group_ids, listed_ids(&s, "scim_list_groups").await);
    assert!(
        groups["options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["label"] == "Finance"),
        "{groups}"
    );

    // A provider of another API type is refused before any request.
    let clm = session_in(&rt, &emu, "scim-options-clm").await;
    admin(&emu, "reset-request-log").await;
    for (session, provider, needs) in [
        (&clm, "scim_users", "clm_scim"),
        (&clm, "scim_groups", "clm_scim"),
        (&s, "templates", "clm_public"),
        (&s, "clickwrap_sites", "clickwrap_rest"),
    ] {
        assert_provider_refused(session, provider, needs).await;
    }
    assert!(requests(&emu).await.is_empty(), "nothing was sent");
    assert_no_violations(&emu).await;
    emu.shutdown().await;
}
