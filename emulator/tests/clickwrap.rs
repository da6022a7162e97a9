//! The emulated Clickwrap over HTTP, where it stands in for what Clickwrap is feared or unknown
//! to do: an API key's profile access token works as it is, an exchange of the key's client id
//! and secret revokes the token before it, and an unknown Site Access ID is refused or taken
//! and dropped, as the test chooses.

use ironclad_emulator::{ClickwrapFixture as F, RunningEmulator};
use serde_json::{Value, json};

use crate::common;
use common::start;

/// `GET path` with `token` as the bearer (none: no Authorization header): status and JSON.
async fn get(emu: &RunningEmulator, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", emu.base_url()));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post(emu: &RunningEmulator, path: &str, body: Value) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", emu.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The token an exchange of the admin key's client id and secret issues.
async fn exchange(emu: &RunningEmulator) -> String {
    let (status, text) = post(
        emu,
        "/oauth/token",
        json!({ "grant_type": "client_credentials", "client_id": F::ADMIN_CLIENT_ID,
                "client_secret": F::ADMIN_CLIENT_SECRET }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_profile_token_works_until_an_exchange_regenerates_it() {
    let emu = start().await;
    let sites = "/v1.1/sites?per_page=1";
    let (status, body) = get(&emu, sites, Some(F::ADMIN_ACCESS_TOKEN)).await;
    assert_eq!(
        (status, body["data"][0]["account"].clone()),
        (200, json!(F::ACCOUNT_ID))
    );
    let (status, _) = get(&emu, sites, Some(F::VIEWER_ACCESS_TOKEN)).await;
    assert_eq!(status, 200);

    let first = exchange(&emu).await;
    assert_ne!(first, F::ADMIN_ACCESS_TOKEN);
    let (status, body) = get(&emu, sites, Some(F::ADMIN_ACCESS_TOKEN)).await;
    assert_eq!(status, 401, "the profile token is revoked: {body}");
    assert_eq!(body["error"]["message"], "Invalid access token");
    assert_eq!(get(&emu, sites, Some(&first)).await.0, 200);
    // Each exchange revokes the one before; another key's token is untouched.
    let second = exchange(&emu).await;
    assert_eq!(get(&emu, sites, Some(&first)).await.0, 401);
    assert_eq!(get(&emu, sites, Some(&second)).await.0, 200);
    assert_eq!(get(&emu, sites, Some(F::VIEWER_ACCESS_TOKEN)).await.0, 200);
}

#[tokio::test]
async fn an_unknown_site_access_id_is_refused_or_taken_and_dropped() {
    let emu = start().await;
    let unknown = "00000000-1111-4222-8333-444444444444";
    let send = json!({ "sid": unknown, "sig": "jo@example.com", "et": "agreed",
                       "vid": F::TERMS_VERSION, "server_side": true });
    let retrieve = format!("/retrieve?sid={unknown}&sig=jo@example.com");
    assert_eq!(post(&emu, "/send", send.clone()).await.0, 401);
    assert_eq!(get(&emu, &retrieve, None).await.0, 401);

    let (status, _) = post(
        &emu,
        "/_emulator/clickwrap/unknown-sid",
        json!({ "answer": "unrecorded" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(&emu, "/send", send).await;
    assert_eq!((status, body.as_str()), (200, ""), "taken, with no body");
    assert_eq!(get(&emu, &retrieve, None).await, (200, json!({})));
    // Nothing was recorded anywhere: the REST API lists no such acceptance.
    let (_, listed) = get(
        &emu,
        "/v1.1/activity?filter=signer_id==jo@example.com",
        Some(F::ADMIN_ACCESS_TOKEN),
    )
    .await;
    assert_eq!(listed["data"], json!([]));
    // A known Site Access ID records as before.
    let known = json!({ "sid": F::SITE_ACCESS_ID, "sig": "jo@example.com", "et": "agreed",
                        "vid": F::TERMS_VERSION });
    assert_eq!(post(&emu, "/send", known).await.0, 200);
    let path = format!("/retrieve?sid={}&sig=jo@example.com", F::SITE_ACCESS_ID);
    let (status, last) = get(&emu, &path, None).await;
    assert_eq!(
        (status, &last[F::TERMS_ID.to_string()]),
        (200, &json!(F::TERMS_VERSION))
    );

    let (status, _) = post(
        &emu,
        "/_emulator/clickwrap/unknown-sid",
        json!({ "answer": "sometimes" }),
    )
    .await;
    assert_eq!(status, 400);
}
