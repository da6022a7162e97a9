//! The emulator's SCIM 2.0 API over HTTP: SCIM error bodies, scope checks, acting users,
//! RFC 7644 paging and filters, and `active: "False"` removing a user from the company.

use ironclad_emulator::RunningEmulator;
use serde_json::{Value, json};

use crate::common;
use common::start;

const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn token(emu: &RunningEmulator, scope: Option<&str>) -> String {
    common::cc_token(emu, &emu.seed().clients[0].name, scope).await
}

async fn call(
    emu: &RunningEmulator,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req =
        reqwest::Client::new().request(method, format!("{}/scim/v2{path}", emu.base_url()));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn errors_are_scim_shaped_and_scopes_enforced() {
    let emu = start().await;
    let (status, body) = call(&emu, None, "GET", "/Users", None, &[]).await;
    assert_eq!(
        (status, body["schemas"][0].as_str(), body["status"].as_str()),
        (401, Some(ERROR_URN), Some("401"))
    );

    let read_only = token(&emu, Some("scim.users.readUsers")).await;
    let (status, body) = call(&emu, Some(&read_only), "GET", "/Groups", None, &[]).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "token is missing required scope scim.groups.readGroups"
    );

    let all = token(&emu, None).await;
    let (status, body) = call(
        &emu,
        Some(&all),
        "GET",
        "/Users?filter=legalName%20eq%20%22x%22",
        None,
        &[],
    )
    .await;
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
    assert_eq!(
        body["detail"],
        "No matching schema for attribute: legalName"
    );

    let (status, body) = call(&emu, Some(&all), "GET", "/Users/nope", None, &[]).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("Resource nope not found"))
    );

    let (status, body) = call(
        &emu,
        Some(&all),
        "GET",
        "/Users",
        None,
        &[("x-as-user-email", "ghost@acme.example")],
    )
    .await;
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    let jane = emu.seed().users[0].email.clone();
    let (status, _) = call(
        &emu,
        Some(&all),
        "GET",
        "/Users",
        None,
        &[("x-as-user-email", &jane)],
    )
    .await;
    assert_eq!(status, 200);

    // A userName taken: 409 with only `schemas` and `status`, as the spec shows.
    let user = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": jane,
                       "name": { "givenName": "J", "familyName": "D" } });
    let (status, body) = call(&emu, Some(&all), "POST", "/Users", Some(user), &[]).await;
    assert_eq!(
        (status, body),
        (409, json!({ "schemas": [ERROR_URN], "status": "409" }))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn listings_page_per_rfc_7644() {
    let emu = start().await;
    let t = token(&emu, None).await;
    let (_, all) = call(&emu, Some(&t), "GET", "/Users", None, &[]).await;
    assert_eq!(
        (
            all["totalResults"].clone(),
            all["startIndex"].clone(),
            all["itemsPerPage"].clone()
        ),
        (json!(3), json!(1), json!(3))
    );
    assert_eq!(
        all["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    let (_, page) = call(
        &emu,
        Some(&t),
        "GET",
        "/Users?startIndex=2&count=1",
        None,
        &[],
    )
    .await;
    assert_eq!(page["Resources"].as_array().unwrap().len(), 1);
    assert_eq!(page["Resources"][0]["id"], all["Resources"][1]["id"]);
    let (_, none) = call(&emu, Some(&t), "GET", "/Users?count=0", None, &[]).await;
    assert_eq!(
        (none["totalResults"].clone(), none["Resources"].clone()),
        (json!(3), json!([]))
    );
    let (_, past) = call(&emu, Some(&t), "GET", "/Users?startIndex=9", None, &[]).await;
    assert_eq!(past["Resources"], json!([]));
    let (_, lean) = call(
        &emu,
        Some(&t),
        "GET",
        "/Users?excludedAttributes=emails,title",
        None,
        &[],
    )
    .await;
    let first = &lean["Resources"][0];
    assert!(
        first.get("emails").is_none() && first.get("title").is_none() && first["id"].is_string()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn deactivating_a_user_removes_it_and_its_memberships() {
    let emu = start().await;
    let t = token(&emu, None).await;
    let raj = emu.seed().users[1].id.clone();
    let patch = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{ "op": "Replace", "path": "active", "value": "False" }] });
    let (status, body) = call(
        &emu,
        Some(&t),
        "PATCH",
        &format!("/Users/{raj}"),
        Some(patch),
        &[],
    )
    .await;
    assert_eq!((status, body["active"].clone()), (200, json!(false)));
    let (status, _) = call(&emu, Some(&t), "GET", &format!("/Users/{raj}"), None, &[]).await;
    assert_eq!(status, 404);
    let (_, groups) = call(&emu, Some(&t), "GET", "/Groups", None, &[]).await;
    let members = &groups["Resources"][0]["members"];
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert!(
        !members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"] == raj.as_str())
    );
    // A PatchOp without its URN is invalidSyntax.
    let bare = json!({ "Operations": [{ "op": "replace", "path": "title", "value": "x" }] });
    let jane = &emu.seed().users[0].id;
    let (status, body) = call(
        &emu,
        Some(&t),
        "PATCH",
        &format!("/Users/{jane}"),
        Some(bare),
        &[],
    )
    .await;
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidSyntax"))
    );
    emu.shutdown().await;
}
