//! Clickwrap REST credentials through the compiled component (issue #18): the API key's access
//! token is the default and is sent as it is; the client id and secret exchange is an explicit
//! choice, and the test shows why it carries a warning: against the emulator, as Clickwrap's
//! "create/regenerate access token" is feared to, the exchange revokes the token another
//! integration of the same key uses. That integration then fails `unauthenticated`, naming the
//! field to fix, after one request: a token from the form cannot be renewed.

use crate::common;

use common::*;
use host_harness::emulator::{ClickwrapFixture as F, RunningEmulator};
use serde_json::{Value, json};

/// What the emulator logged for `path`.
async fn logged(emu: &RunningEmulator, path: &str) -> Vec<Value> {
    requests(emu)
        .await
        .into_iter()
        .filter(|r| r["path"] == path)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_offers_the_access_token_first_and_warns_about_the_exchange() {
    let manifest = runtime().describe().await.unwrap();
    let props = &manifest["connection_schema"]["properties"];
    let choice = &props["clickwrap_credential"];
    assert_eq!(choice["default"], "access_token");
    assert_eq!(choice["enum"], json!(["access_token", "api_key_exchange"]));
    let warning = choice["description"].as_str().unwrap();
    assert!(
        warning.contains("regenerate") && warning.contains("revoke"),
        "{warning}"
    );
    assert_eq!(props["access_token"]["x-secret"], true);
    assert_eq!(
        props["access_token"]["x-visible-if"],
        json!({ "api_type": ["clickwrap_rest"], "clickwrap_credential": ["access_token"] })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_revokes_the_access_token_another_integration_uses() {
    let emu = start_emulator().await;
    let rt = runtime();
    let with_token = open(
        &rt,
        clickwrap_token_form(&emu, F::ADMIN_ACCESS_TOKEN),
        "cw-cred-token",
    )
    .await;
    // The connector saw a placeholder, never the token.
    assert!(!with_token.guest_config().contains(F::ADMIN_ACCESS_TOKEN));
    assert!(with_token.guest_config().contains("<secret>"));
    let sites = with_token
        .execute("clickwrap_list_sites", &json!({}))
        .await
        .unwrap();
    assert_eq!(sites["count"], 2);
    assert!(logged(&emu, "/oauth/token").await.is_empty());

    // Another integration of the same API key chooses the exchange.
    let exchanging = open(
        &rt,
        clickwrap_exchange_form(&emu, F::ADMIN_CLIENT_ID, F::ADMIN_CLIENT_SECRET),
        "cw-cred-exchange",
    )
    .await;
    exchanging
        .execute("clickwrap_list_sites", &json!({}))
        .await
        .unwrap();
    assert_eq!(logged(&emu, "/oauth/token").await.len(), 1);

    // The first integration's token was regenerated away.
    emu.emulator().clear_requests();
    let err = report(
        with_token
            .execute("clickwrap_list_sites", &json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(err["kind"], "unauthenticated", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("`access_token`")
            && message.contains("Invalid access token")
            && message.contains("cannot be renewed"),
        "{message}"
    );
    assert!(!message.contains(F::ADMIN_ACCESS_TOKEN));
    // One request, no renewal: the host has nothing to exchange a form's token with.
    let log = requests(&emu).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], 401);
    assert_eq!(log[0]["headers"]["authorization"], "Bearer <redacted>");
    // The exchanged token works.
    exchanging
        .execute("clickwrap_list_sites", &json!({}))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_is_never_chosen_for_the_user() {
    let emu = start_emulator().await;
    let rt = runtime();
    let refused = |form: Value, name: &'static str| {
        let rt = &rt;
        async move {
            report(
                rt.connect(&config(form), tokens(&scratch(name)))
                    .await
                    .err()
                    .expect("refused at connect"),
            )
        }
    };
    // A client id and secret alone, as forms made before this choice held them.
    let mut legacy = clickwrap_exchange_form(&emu, F::ADMIN_CLIENT_ID, F::ADMIN_CLIENT_SECRET);
    legacy
        .as_object_mut()
        .unwrap()
        .remove("clickwrap_credential");
    let err = refused(legacy, "cw-cred-legacy").await;
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("clickwrap_credential")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("revoke"), "{err}");
    // The access token is the default, and required.
    let mut empty = clickwrap_token_form(&emu, "");
    empty.as_object_mut().unwrap().remove("access_token");
    let err = refused(empty, "cw-cred-empty").await;
    assert_eq!(err["field"], "access_token", "{err}");
    // Exchanging while a token is given would revoke that very token.
    let mut both = clickwrap_exchange_form(&emu, F::ADMIN_CLIENT_ID, F::ADMIN_CLIENT_SECRET);
    both["access_token"] = json!(F::ADMIN_ACCESS_TOKEN);
    let err = refused(both, "cw-cred-both").await;
    assert_eq!(err["field"], "access_token", "{err}");
    assert!(!err.to_string().contains(F::ADMIN_ACCESS_TOKEN));
    assert!(requests(&emu).await.is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_connects_with_an_access_token_and_prints_no_secret() {
    let emu = start_emulator().await;
    let dir = scratch("cw-cred-cli");
    let cfg = write_json(
        &dir,
        "token.json",
        &clickwrap_token_form(&emu, F::VIEWER_ACCESS_TOKEN),
    );
    let me = cli(&dir, &["--verbose", "test-connection", "--config", &cfg]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert_eq!(me.json()["company"]["id"], F::ACCOUNT_ID.to_string());
    for text in [&me.stdout, &me.stderr] {
        assert!(!text.contains(F::VIEWER_ACCESS_TOKEN));
    }
    // A static credential keeps nothing in the token store.
    let store = dir.join("tokens.json");
    assert!(
        !store.exists() || !std::fs::read_to_string(&store).unwrap().contains("emu_"),
        "the token store holds no copy of the form's token"
    );
}
