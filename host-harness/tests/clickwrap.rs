//! Ironclad Clickwrap through the compiled component against the emulator: the REST API
//! (`clickwrap_rest`, an API key's token) and the Activity API (`clickwrap_activity`, the Site
//! Access ID), every action, their errors, paging, and the acceptance trigger across polls.

use crate::common;

use common::*;
use host_harness::emulator::{ClickwrapFixture as F, RunningEmulator};
use host_harness::triggers::PollState;
use host_harness::{Runtime, Session};
use serde_json::{Value, json};

/// The admin API key's user, through the key's access token.
async fn admin_session<'r>(rt: &'r Runtime, emu: &RunningEmulator, name: &str) -> Session<'r> {
    open(rt, clickwrap_token_form(emu, F::ADMIN_ACCESS_TOKEN), name).await
}

async fn activity_session<'r>(rt: &'r Runtime, emu: &RunningEmulator, name: &str) -> Session<'r> {
    open(rt, clickwrap_activity_form(emu, F::SITE_ACCESS_ID), name).await
}

/// Query strings the emulator received on `path`.
async fn queries(emu: &RunningEmulator, path: &str) -> Vec<String> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| r["path"] == path)
        .map(|r| r["query"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every Clickwrap action, each driven by a test below.
const TESTED: [&str; 29] = [
    "clickwrap_list_sites",
    "clickwrap_get_site",
    "clickwrap_list_contracts",
    "clickwrap_get_contract",
    "clickwrap_get_latest_version",
    "clickwrap_get_published_version",
    "clickwrap_get_version",
    "clickwrap_create_version",
    "clickwrap_publish_version",
    "clickwrap_publish_latest_version",
    "clickwrap_list_groups",
    "clickwrap_get_group",
    "clickwrap_create_group",
    "clickwrap_update_group",
    "clickwrap_publish_group",
    "clickwrap_list_signers",
    "clickwrap_list_site_signers",
    "clickwrap_get_signer",
    "clickwrap_upsert_signer",
    "clickwrap_list_activity",
    "clickwrap_get_activity",
    "clickwrap_list_signer_activity",
    "clickwrap_list_account_members",
    "clickwrap_list_site_memberships",
    "clickwrap_get_site_membership",
    "clickwrap_activity_send",
    "clickwrap_activity_latest",
    "clickwrap_activity_retrieve",
    "clickwrap_activity_published",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_lists_every_clickwrap_action_and_the_trigger() {
    let manifest = runtime().describe().await.unwrap();
    let clickwrap: Vec<&Value> = manifest["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"].as_str().unwrap().starts_with("clickwrap_"))
        .collect();
    let keys: Vec<&str> = clickwrap
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, TESTED, "a new action needs its test here");
    for a in &clickwrap {
        // Clickwrap tokens carry site permissions, not OAuth scopes.
        assert_eq!(a["scopes"], json!([]), "{}", a["key"]);
        assert!(a["operation"].is_null());
        assert_eq!(a["input_schema"]["additionalProperties"], false);
    }
    let describe = |k: &str| {
        clickwrap.iter().find(|a| a["key"] == k).unwrap()["description"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(describe("clickwrap_create_group").contains("UNCONFIRMED"));
    assert!(describe("clickwrap_create_group").contains("`create` permission"));
    assert!(!describe("clickwrap_list_sites").contains("UNCONFIRMED"));
    let trigger = manifest["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "clickwrap_acceptance")
        .unwrap();
    assert_eq!(trigger["modes"], json!(["poll"]));
    let schema = &manifest["connection_schema"];
    assert_eq!(
        schema["properties"]["grant_type"]["x-visible-if"]["api_type"],
        json!(["clm_public", "clm_scim"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_connects_with_an_api_key_and_reads_sites() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-sites").await;
    let who = session.test().await.unwrap();
    assert_eq!(who["company"]["id"], F::ACCOUNT_ID.to_string());
    let test_query = queries(&emu, "/v1.1/sites").await;
    assert_eq!(test_query, ["per_page=1&no_count=true&lean=true"]);
    // The key's access token went as it is: nothing was exchanged.
    let log = requests(&emu).await;
    assert!(log.iter().all(|r| r["path"] != "/oauth/token"));
    assert_eq!(log[0]["headers"]["authorization"], "Bearer <redacted>");

    let sites = run(&session, "clickwrap_list_sites", json!({})).await;
    assert_eq!(sites["count"], 2);
    assert_eq!(sites["items"][0]["access_id"], F::SITE_ACCESS_ID);
    let sandbox = run(
        &session,
        "clickwrap_list_sites",
        json!({ "filter": "sandbox==true" }),
    )
    .await;
    assert_eq!(sandbox["items"][0]["id"], F::SANDBOX_SITE_ID);
    let site = run(
        &session,
        "clickwrap_get_site",
        json!({ "site_id": F::SITE_ID }),
    )
    .await;
    assert_eq!(site["name"], "Acme");
    let missing = refused(&session, "clickwrap_get_site", json!({ "site_id": 999 })).await;
    assert_eq!(missing["kind"], "not_found", "{missing}");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("Site not found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_versions_are_read_created_and_published() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-contracts").await;
    let contracts = run(
        &session,
        "clickwrap_list_contracts",
        json!({ "site_id": F::SITE_ID, "expand": "published_version", "includeArchived": false }),
    )
    .await;
    assert_eq!(contracts["count"], 2);
    assert_eq!(
        contracts["items"][1]["published_version"]["id"],
        F::PRIVACY_V1
    );
    assert!(
        queries(&emu, "/v1.1/sites/1/contract")
            .await
            .contains(&"expand=published_version&includeArchived=false&page=1&per_page=100".into())
    );
    let privacy = json!({ "contract_id": F::PRIVACY_ID });
    let contract = run(&session, "clickwrap_get_contract", privacy.clone()).await;
    assert_eq!(contract["title"], "Privacy Policy");
    let latest = run(&session, "clickwrap_get_latest_version", privacy.clone()).await;
    assert_eq!(
        (latest["id"].as_str(), latest["status"].as_str()),
        (Some(F::PRIVACY_V2), Some("draft"))
    );
    let published = run(&session, "clickwrap_get_published_version", privacy.clone()).await;
    assert_eq!(published["id"], F::PRIVACY_V1);
    let version = run(
        &session,
        "clickwrap_get_version",
        json!({ "version_id": F::PRIVACY_V2 }),
    )
    .await;
    assert_eq!(version["version_number"], 2);

    // A new version needs the latest one published first.
    let body = json!({ "contract_id": F::PRIVACY_ID, "body": { "body": "<p>v3</p>", "title": "Version 3" } });
    let early = refused(&session, "clickwrap_create_version", body.clone()).await;
    assert_eq!(
        (early["kind"].as_str(), early["details"]["status"].as_u64()),
        (Some("upstream"), Some(400)),
        "{early}"
    );
    assert!(
        early["message"]
            .as_str()
            .unwrap()
            .contains("must be published")
    );
    let v2 = run(
        &session,
        "clickwrap_publish_latest_version",
        privacy.clone(),
    )
    .await;
    assert_eq!(
        (v2["id"].as_str(), v2["status"].as_str()),
        (Some(F::PRIVACY_V2), Some("published"))
    );
    let v3 = run(&session, "clickwrap_create_version", body).await;
    assert_eq!(
        (v3["version_number"].as_u64(), v3["status"].as_str()),
        (Some(3), Some("draft"))
    );
    let v3_id = v3["id"].as_str().unwrap();
    let done = run(
        &session,
        "clickwrap_publish_version",
        json!({ "contract_id": F::PRIVACY_ID, "version_id": v3_id }),
    )
    .await;
    assert_eq!(done["status"], "published");
    let now = run(&session, "clickwrap_get_published_version", privacy).await;
    assert_eq!(now["id"], v3_id);
    let old = run(
        &session,
        "clickwrap_get_version",
        json!({ "version_id": F::PRIVACY_V2 }),
    )
    .await;
    assert_eq!(old["status"], "deprecated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_group_is_listed_updated_published_and_served_to_the_activity_api() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-groups").await;
    let created = run(
        &session,
        "clickwrap_create_group",
        json!({ "site_id": F::SITE_ID,
                "body": { "name": "Checkout", "key": "checkout", "type": "clickwrap", "contracts": [F::TERMS_ID] } }),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["published"], false);
    let groups = run(
        &session,
        "clickwrap_list_groups",
        json!({ "site_id": F::SITE_ID }),
    )
    .await;
    let keys: Vec<&str> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["signup", "checkout"]);
    let updated = run(
        &session,
        "clickwrap_update_group",
        json!({ "group_id": id, "body": { "name": "Checkout terms", "contracts": [F::TERMS_ID, F::PRIVACY_ID] } }),
    )
    .await;
    assert_eq!(updated["name"], "Checkout terms");
    let expanded = run(
        &session,
        "clickwrap_get_group",
        json!({ "group_id": id, "expand": "contracts" }),
    )
    .await;
    assert_eq!(expanded["contracts"][1]["title"], "Privacy Policy");
    let bad = refused(
        &session,
        "clickwrap_update_group",
        json!({ "group_id": id, "body": { "type": "popup" } }),
    )
    .await;
    assert_eq!(
        (bad["kind"].as_str(), bad["field"].as_str()),
        (Some("invalid_input"), Some("/body/type")),
        "{bad}"
    );

    // Unpublished, the Activity API does not serve it; published, it does.
    let activity = activity_session(&rt, &emu, "cw-groups-activity").await;
    let hidden = refused(
        &activity,
        "clickwrap_activity_published",
        json!({ "gkey": "checkout" }),
    )
    .await;
    assert_eq!(hidden["kind"], "not_found", "{hidden}");
    let published = run(
        &session,
        "clickwrap_publish_group",
        json!({ "group_id": id }),
    )
    .await;
    assert_eq!(published["published"], true);
    let versions = run(
        &activity,
        "clickwrap_activity_published",
        json!({ "gkey": "checkout" }),
    )
    .await;
    assert_eq!(
        versions,
        json!({ "11": F::TERMS_VERSION, "12": F::PRIVACY_V1 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_page_across_requests_and_upsert() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-signers").await;
    let all = run(
        &session,
        "clickwrap_list_signers",
        json!({ "max_items": 1000 }),
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), F::SIGNERS);
    assert_eq!(
        (all["count"].as_u64(), all["truncated"].as_bool()),
        (Some(F::SIGNERS as u64), Some(false))
    );
    assert_eq!(
        queries(&emu, "/v1.1/signers").await,
        ["page=1&per_page=100", "page=2&per_page=100"],
        "two pages, 1-based"
    );
    let few = run(
        &session,
        "clickwrap_list_site_signers",
        json!({ "site_id": F::SITE_ID, "max_items": 7 }),
    )
    .await;
    assert_eq!(
        (
            few["items"].as_array().unwrap().len(),
            few["truncated"].as_bool()
        ),
        (7, Some(true))
    );

    let one = run(
        &session,
        "clickwrap_upsert_signer",
        json!({ "site_id": F::SITE_ID, "body": { "signer_id": "ana+trial@example.com", "name": "Ana",
                "additional_attributes": { "first_name": "Ana" } } }),
    )
    .await;
    assert_eq!(one["signer_id"], "ana+trial@example.com");
    let many = run(
        &session,
        "clickwrap_upsert_signer",
        json!({ "site_id": F::SITE_ID, "body": [
            { "signer_id": "ana+trial@example.com", "company_name": "Ana Co" },
            { "signer_id": "+15551234567", "mobile_number": "+15551234567" } ] }),
    )
    .await;
    assert_eq!(many["data"].as_array().unwrap().len(), 2);
    let ana = run(
        &session,
        "clickwrap_get_signer",
        json!({ "signer_id": "ana+trial@example.com" }),
    )
    .await;
    assert_eq!(
        (ana["name"].as_str(), ana["company_name"].as_str()),
        (Some("Ana"), Some("Ana Co"))
    );
    assert!(
        requests(&emu)
            .await
            .iter()
            .any(|r| r["path"] == "/v1.1/signers/id:ana%2Btrial%40example.com"),
        "the Signer ID is one encoded segment after `id:`"
    );
    let after = run(
        &session,
        "clickwrap_list_site_signers",
        json!({ "site_id": F::SITE_ID, "max_items": 1000 }),
    )
    .await;
    assert_eq!(after["count"].as_u64(), Some(F::SIGNERS as u64 + 2));
    let missing = refused(
        &session,
        "clickwrap_upsert_signer",
        json!({ "site_id": F::SITE_ID, "body": [] }),
    )
    .await;
    assert_eq!(missing["kind"], "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acceptance_sent_is_reported_by_latest_retrieve_and_rest_activity() {
    let emu = start_emulator().await;
    let rt = runtime();
    let activity = activity_session(&rt, &emu, "cw-send").await;
    let who = activity.test().await.unwrap();
    assert_eq!(who["user"]["id"], Value::Null);
    let signer = "jo.new@example.com";
    let group = json!({ "sig": signer, "gkey": F::GROUP_KEY });
    let versions = run(
        &activity,
        "clickwrap_activity_published",
        json!({ "gkey": F::GROUP_KEY }),
    )
    .await;
    let before = run(&activity, "clickwrap_activity_latest", group.clone()).await;
    assert_eq!(before, json!({ "11": false, "12": false }));

    let sent = run(
        &activity,
        "clickwrap_activity_send",
        json!({ "sig": signer, "et": "agreed", "gkey": F::GROUP_KEY,
                "cid": [F::TERMS_ID, F::PRIVACY_ID],
                "vid": [versions["11"], versions["12"]],
                "cus": { "plan": "pro" }, "addr": "203.0.113.9", "bua": "test-agent" }),
    )
    .await;
    assert_eq!(sent["status"], 200);
    let send = requests(&emu)
        .await
        .into_iter()
        .find(|r| r["path"] == "/send")
        .unwrap();
    assert_eq!(send["method"], "POST");
    assert_eq!(send["body"]["sid"], F::SITE_ACCESS_ID);
    assert_eq!(
        send["body"]["vid"],
        format!("{},{}", F::TERMS_VERSION, F::PRIVACY_V1)
    );
    assert!(
        send["headers"]["authorization"].is_null(),
        "no token on the Activity API"
    );

    let after = run(&activity, "clickwrap_activity_latest", group).await;
    assert_eq!(after, json!({ "11": true, "12": true }));
    let by_contract = run(
        &activity,
        "clickwrap_activity_latest",
        json!({ "sig": signer, "cid": [F::PRIVACY_ID] }),
    )
    .await;
    assert_eq!(by_contract, json!({ "12": true }));
    let last = run(
        &activity,
        "clickwrap_activity_retrieve",
        json!({ "sig": signer }),
    )
    .await;
    assert_eq!(last, json!({ "11": F::TERMS_VERSION, "12": F::PRIVACY_V1 }));
    let some = run(
        &activity,
        "clickwrap_activity_retrieve",
        json!({ "sig": "nobody@example.com", "cid": [F::TERMS_ID], "tm": true }),
    )
    .await;
    assert_eq!(some, json!({ "11": false }));
    let both = refused(
        &activity,
        "clickwrap_activity_latest",
        json!({ "sig": signer, "gkey": "g", "cid": [1] }),
    )
    .await;
    assert_eq!(
        (both["kind"].as_str(), both["field"].as_str()),
        (Some("invalid_input"), Some("/cid"))
    );

    // The REST API lists the same acceptances.
    let rest = admin_session(&rt, &emu, "cw-send-rest").await;
    let listed = run(
        &rest,
        "clickwrap_list_activity",
        json!({ "filter": format!("event_type==agreed and signer_id=={signer}"), "expand": "contract", "lean": true }),
    )
    .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["custom_data"], json!({ "plan": "pro" }));
    assert_eq!(items[0]["connection_data"]["remote_address"], "203.0.113.9");
    let one = run(
        &rest,
        "clickwrap_get_activity",
        json!({ "activity_id": items[1]["id"] }),
    )
    .await;
    assert_eq!(one["version"], F::PRIVACY_V1);
    let mine = run(
        &rest,
        "clickwrap_list_signer_activity",
        json!({ "site_id": F::SITE_ID, "signer_id": signer, "filter": "contract==12", "no_count": true }),
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(mine.get("count").is_none(), "no_count leaves the total out");
    let signer_record = run(
        &rest,
        "clickwrap_get_signer",
        json!({ "signer_id": signer }),
    )
    .await;
    assert_eq!(signer_record["last_action"], "agreed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_and_retrieved() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-users").await;
    let members = run(
        &session,
        "clickwrap_list_account_members",
        json!({ "account_id": F::ACCOUNT_ID }),
    )
    .await;
    assert_eq!(members["count"], 2);
    let site_users = run(
        &session,
        "clickwrap_list_site_memberships",
        json!({ "site_id": F::SANDBOX_SITE_ID }),
    )
    .await;
    assert_eq!(site_users["count"], 1, "the viewer is not in the sandbox");
    let viewer = run(
        &session,
        "clickwrap_get_site_membership",
        json!({ "site_id": F::SITE_ID, "user_id": F::USERS[1] }),
    )
    .await;
    assert_eq!(viewer["permissions"], json!(["read"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_permissions_and_api_types_fail_with_typed_errors() {
    let emu = start_emulator().await;
    let rt = runtime();

    // A well-formed Site Access ID the site does not have.
    let unknown = open(
        &rt,
        clickwrap_activity_form(&emu, "00000000-1111-4222-8333-444444444444"),
        "cw-bad-sid",
    )
    .await;
    let err = report(unknown.test().await.unwrap_err());
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("site_access_id")),
        "{err}"
    );
    let err = refused(
        &unknown,
        "clickwrap_activity_retrieve",
        json!({ "sig": "x" }),
    )
    .await;
    assert_eq!(err["field"], "site_access_id", "{err}");
    // Not a UUID at all: refused before any request.
    let err = report(
        rt.connect(
            &config(clickwrap_activity_form(&emu, "site-42")),
            tokens(&scratch("cw-sid-shape")),
        )
        .await
        .err()
        .unwrap(),
    );
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("site_access_id"))
    );

    // A wrong secret: the token endpoint refuses it, and nothing reaches the API.
    emu.emulator().clear_requests();
    let wrong = open(
        &rt,
        clickwrap_exchange_form(&emu, F::ADMIN_CLIENT_ID, "not-the-secret"),
        "cw-wrong-secret",
    )
    .await;
    let err = refused(&wrong, "clickwrap_list_sites", json!({})).await;
    assert_eq!(err["kind"], "unauthenticated", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("invalid_client"),
        "{err}"
    );
    assert!(queries(&emu, "/v1.1/sites").await.is_empty());

    // The viewer may read the site but not create in it.
    let viewer = open(
        &rt,
        clickwrap_token_form(&emu, F::VIEWER_ACCESS_TOKEN),
        "cw-viewer",
    )
    .await;
    run(
        &viewer,
        "clickwrap_list_groups",
        json!({ "site_id": F::SITE_ID }),
    )
    .await;
    let err = refused(
        &viewer,
        "clickwrap_create_group",
        json!({ "site_id": F::SITE_ID, "body": { "name": "X" } }),
    )
    .await;
    assert_eq!(err["kind"], "forbidden", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("`create` permission"), "{message}");
    assert!(err["details"]["missing_scope"].is_null(), "{err}");

    // Actions and triggers belong to one API type.
    let admin = admin_session(&rt, &emu, "cw-types").await;
    let err = refused(&admin, "list_workflows", json!({})).await;
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("api_type")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("`clickwrap_rest`")
    );
    let err = refused(&admin, "clickwrap_activity_retrieve", json!({ "sig": "x" })).await;
    assert_eq!(err["field"], "api_type");
    let clm = session_in(&rt, &emu, "cw-clm").await;
    let err = refused(&clm, "clickwrap_list_sites", json!({})).await;
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("api_type")),
        "{err}"
    );
    let err = report(
        clm.poll("clickwrap_acceptance", &json!({}), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(err["field"], "api_type", "{err}");
    let err = report(
        admin
            .poll("workflow_launched", &json!({}), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(err["field"], "api_type", "{err}");
    let err = report(
        admin
            .subscribe(
                "clickwrap_acceptance",
                &json!({}),
                "http://127.0.0.1:9/hook",
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(err["kind"], "unsupported", "polled only: {err}");

    // Clickwrap has no EU stack.
    let mut eu = clickwrap_token_form(&emu, F::ADMIN_ACCESS_TOKEN);
    eu["region"] = json!("eu1");
    let err = report(
        rt.connect(&config(eu), tokens(&scratch("cw-eu")))
            .await
            .err()
            .unwrap(),
    );
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("region")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_acceptances_trigger_once_across_polls() {
    let emu = start_emulator().await;
    let rt = runtime();
    let rest = admin_session(&rt, &emu, "cw-trigger").await;
    let activity = activity_session(&rt, &emu, "cw-trigger-send").await;
    let input = json!({ "site_id": F::SITE_ID });
    let mut state = PollState::default();
    // A new trigger starts from now: the 120 seeded acceptances are history.
    let first = rest
        .poll_with("clickwrap_acceptance", &input, &mut state)
        .await
        .unwrap();
    assert!(first.events.is_empty());
    let send = |sig: &str, et: &str| json!({ "sig": sig, "et": et, "vid": [F::TERMS_VERSION], "cid": [F::TERMS_ID] });
    run(
        &activity,
        "clickwrap_activity_send",
        send("first@example.com", "agreed"),
    )
    .await;
    run(
        &activity,
        "clickwrap_activity_send",
        send("looker@example.com", "displayed"),
    )
    .await;
    let second = rest
        .poll_with("clickwrap_acceptance", &input, &mut state)
        .await
        .unwrap();
    assert_eq!(second.events.len(), 1, "displays are not acceptances");
    let payload = &second.events[0].payload;
    assert_eq!(
        (
            payload["event"].as_str(),
            payload["activity"]["signer_id"].as_str()
        ),
        (Some("agreed"), Some("first@example.com"))
    );
    assert_eq!(
        second.events[0].id,
        format!(
            "clickwrap_activity:{}",
            payload["activity"]["id"].as_str().unwrap()
        )
    );
    let third = rest
        .poll_with("clickwrap_acceptance", &input, &mut state)
        .await
        .unwrap();
    assert!(third.events.is_empty(), "nothing twice");
    run(
        &activity,
        "clickwrap_activity_send",
        send("second@example.com", "agreed"),
    )
    .await;
    let fourth = rest
        .poll_with("clickwrap_acceptance", &input, &mut state)
        .await
        .unwrap();
    assert_eq!(fourth.events.len(), 1);
    assert_eq!(
        fourth.events[0].payload["activity"]["signer_id"],
        "second@example.com"
    );
    let polls = queries(&emu, "/v1.1/activity").await;
    assert!(
        polls
            .iter()
            .all(|q| q.contains("filter=event_type%3D%3Dagreed%20and%20created_time%3E%3D")),
        "{polls:?}"
    );

    // From a past instant, the seeded history arrives oldest first, up to a page a poll (a
    // poll may stop a little short rather than pay a request for the last few).
    let mut replay = PollState::default();
    let since = json!({ "since": "2025-01-01T00:00:00Z" });
    let batch = rest
        .poll_with("clickwrap_acceptance", &since, &mut replay)
        .await
        .unwrap();
    assert!(
        (50..=100).contains(&batch.events.len()),
        "{}",
        batch.events.len()
    );
    assert!(batch.has_more);
    assert_eq!(
        batch.events[0].payload["activity"]["signer_id"],
        "signer001@example.com"
    );
    let rest_of = rest
        .poll_with("clickwrap_acceptance", &since, &mut replay)
        .await
        .unwrap();
    assert_eq!(
        batch.events.len() + rest_of.events.len(),
        F::SIGNERS + 2,
        "the history and both acceptances, each once"
    );
    assert!(!rest_of.has_more);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_url_follows_the_clm_rules_and_the_egress_policy() {
    let emu = start_emulator().await;
    let rt = runtime();
    let forms = [
        clickwrap_exchange_form(&emu, F::ADMIN_CLIENT_ID, F::ADMIN_CLIENT_SECRET),
        clickwrap_token_form(&emu, F::ADMIN_ACCESS_TOKEN),
        clickwrap_activity_form(&emu, F::SITE_ACCESS_ID),
    ];
    for (i, base) in forms.into_iter().enumerate() {
        // An origin only: the connector appends the API type's paths itself.
        let mut with_path = base.clone();
        with_path["instance_url"] = json!(format!("{}/v1.1", emu.base_url()));
        let err = report(
            rt.connect(&config(with_path), tokens(&scratch("cw-path")))
                .await
                .err()
                .unwrap(),
        );
        assert_eq!(
            (err["kind"].as_str(), err["field"].as_str()),
            (Some("invalid_config"), Some("instance_url")),
            "{err}"
        );
        // Metadata and private addresses are refused before any byte leaves: at connect for
        // the API key exchange (its token endpoint), at the first request for an access token
        // (the bearer goes nowhere the policy refuses) and for Activity (no token).
        for url in ["https://169.254.169.254", "https://10.0.0.8"] {
            let mut form = base.clone();
            form["instance_url"] = json!(url);
            let err = match rt
                .connect(&config(form), tokens(&scratch(&format!("cw-ssrf-{i}"))))
                .await
            {
                Err(e) => report(e),
                Ok(session) => report(session.test().await.unwrap_err()),
            };
            assert_eq!(
                (err["kind"].as_str(), err["field"].as_str()),
                (Some("invalid_config"), Some("instance_url")),
                "{url}: {err}"
            );
        }
    }
    assert!(requests(&emu).await.is_empty());
}

#[test]
fn the_example_connections_match_the_emulator_seed() {
    let read = |name: &str| -> Value {
        let path = format!(
            "{}/../fixtures/connections/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let rest = read("emulator-clickwrap-rest.json");
    assert_eq!(rest["access_token"], F::ADMIN_ACCESS_TOKEN);
    let exchange = read("emulator-clickwrap-rest-exchange.json");
    assert_eq!(
        (
            exchange["clickwrap_credential"].as_str(),
            exchange["client_id"].as_str(),
            exchange["client_secret"].as_str()
        ),
        (
            Some("api_key_exchange"),
            Some(F::ADMIN_CLIENT_ID),
            Some(F::ADMIN_CLIENT_SECRET)
        )
    );
    let activity = read("emulator-clickwrap-activity.json");
    assert_eq!(activity["site_access_id"], F::SITE_ACCESS_ID);
}

/// The values of every page of a pick list, in order.
async fn option_values(session: &Session<'_>, provider: &str, params: Value) -> Vec<String> {
    let all = session
        .all_options(provider, &params, 10)
        .await
        .unwrap_or_else(|e| panic!("{provider}: {}", report(e)));
    all["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap().to_string())
        .collect()
}

/// The ids a list action returns, as the text a choice value carries.
async fn listed_ids(session: &Session<'_>, action: &str, mut input: Value) -> Vec<String> {
    input["max_items"] = json!(1000);
    run(session, action, input).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_lists_read_sites_groups_and_contracts_page_by_page() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = admin_session(&rt, &emu, "cw-options").await;

    let sites = session
        .all_options("clickwrap_sites", &json!({}), 10)
        .await
        .unwrap();
    assert_eq!(sites["options"][0]["value"], F::SITE_ID.to_string());
    assert_eq!(
        option_values(&session, "clickwrap_sites", json!({})).await,
        listed_ids(&session, "clickwrap_list_sites", json!({})).await
    );
    assert!(
        sites["options"][1]["description"]
            .as_str()
            .unwrap()
            .contains("sandbox"),
        "{sites}"
    );
    let contracts = session
        .all_options("clickwrap_contracts", &json!({ "site_id": F::SITE_ID }), 10)
        .await
        .unwrap();
    let titles: Vec<&str> = contracts["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{contracts}");
    assert!(titles.contains(&"Privacy Policy"), "{contracts}");
    assert_eq!(
        option_values(
            &session,
            "clickwrap_contracts",
            json!({ "site_id": F::SITE_ID })
        )
        .await,
        listed_ids(
            &session,
            "clickwrap_list_contracts",
            json!({ "site_id": F::SITE_ID })
        )
        .await
    );

    // More groups than one page: the seed's one and 100 created, plus one in the sandbox.
    for i in 0..100 {
        run(
            &session,
            "clickwrap_create_group",
            json!({ "site_id": F::SITE_ID, "body": { "name": format!("Paging {i}"), "key": format!("paging-{i}") } }),
        )
        .await;
    }
    run(
        &session,
        "clickwrap_create_group",
        json!({ "site_id": F::SANDBOX_SITE_ID, "body": { "name": "Sandbox signup" } }),
    )
    .await;
    admin(&emu, "reset-request-log").await;
    let first = session
        .list_options("clickwrap_groups", &json!({ "site_id": F::SITE_ID }), None)
        .await
        .unwrap();
    assert_eq!(first["options"].as_array().unwrap().len(), 100);
    assert_eq!(first["options"][0]["label"], "Signup");
    assert_eq!(first["next_cursor"], "1");
    let groups = option_values(
        &session,
        "clickwrap_groups",
        json!({ "site_id": F::SITE_ID }),
    )
    .await;
    assert_eq!(groups.len(), 101);
    assert_eq!(
        queries(&emu, &format!("/v1.1/sites/{}/groups", F::SITE_ID)).await,
        [
            "page=1&per_page=100",
            "page=1&per_page=100",
            "page=2&per_page=100"
        ],
        "one upstream page per page"
    );
    assert_eq!(
        groups,
        listed_ids(
            &session,
            "clickwrap_list_groups",
            json!({ "site_id": F::SITE_ID })
        )
        .await
    );
    // Without a site: every site's, each described with its site.
    let every = session
        .all_options("clickwrap_groups", &json!({}), 10)
        .await
        .unwrap();
    assert_eq!(every["pages"], 2);
    let sandbox: Vec<&Value> = every["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["label"] == "Sandbox signup")
        .collect();
    assert_eq!(sandbox.len(), 1, "{every}");
    assert_eq!(every["options"].as_array().unwrap().len(), 102);

    // Params are typed; a provider of another API type is refused before any request.
    let e = report(
        session
            .list_options("clickwrap_groups", &json!({ "site_id": "one" }), None)
            .await
            .unwrap_err(),
    );
    assert_invalid_input(&e, "/site_id");
    let activity = activity_session(&rt, &emu, "cw-options-activity").await;
    admin(&emu, "reset-request-log").await;
    for (session, provider, needs) in [
        (&activity, "clickwrap_sites", "clickwrap_rest"),
        (&session, "templates", "clm_public"),
        (&session, "scim_users", "clm_scim"),
        (&session, "workflow_steps", "clm_public"),
    ] {
        assert_provider_refused(session, provider, needs).await;
    }
    assert!(requests(&emu).await.is_empty(), "nothing was sent");
    // The connection form's regions belong to no API.
    let regions = session
        .all_options("regions", &json!({}), 10)
        .await
        .unwrap();
    assert_eq!(regions["options"].as_array().unwrap().len(), 4);

    // The dropdowns `describe` points at.
    let manifest = runtime().describe().await.unwrap();
    let schema = |key: &str| {
        manifest["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .unwrap()["input_schema"]
            .clone()
    };
    assert_eq!(
        schema("clickwrap_list_groups")["properties"]["site_id"]["x-options"],
        json!({ "provider": "clickwrap_sites", "params": {} })
    );
    assert_eq!(
        schema("clickwrap_get_group")["properties"]["group_id"]["x-options"]["provider"],
        "clickwrap_groups"
    );
    emu.shutdown().await;
}
