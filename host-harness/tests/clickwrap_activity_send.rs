//! `clickwrap_activity_send` through the compiled component (issue #18): an acceptance is
//! reported only once Clickwrap shows it recorded for the connection's Site Access ID. Whether
//! Clickwrap refuses an unknown Site Access ID or answers 2xx and records nothing is
//! UNCONFIRMED; the emulator plays both, and under the second the send fails with a typed
//! error instead of reporting success.

use crate::common;

use common::*;
use host_harness::Session;
use host_harness::emulator::{ClickwrapFixture as F, RunningEmulator};
use serde_json::{Value, json};

const UNKNOWN_SID: &str = "00000000-1111-4222-8333-444444444444";

fn agreed(signer: &str) -> Value {
    json!({ "sig": signer, "et": "agreed", "cid": [F::TERMS_ID], "vid": [F::TERMS_VERSION] })
}

/// The paths the emulator was asked for, in order.
async fn paths(emu: &RunningEmulator) -> Vec<String> {
    requests(emu)
        .await
        .into_iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn send(session: &Session<'_>, input: Value) -> Result<Value, Value> {
    session
        .execute("clickwrap_activity_send", &input)
        .await
        .map_err(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickwrap_activity_send_reports_an_acceptance_once_it_is_read_back() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = rt
        .connect(
            &config(clickwrap_activity_form(&emu, F::SITE_ACCESS_ID)),
            tokens(&scratch("cw-send-ok")),
        )
        .await
        .unwrap();
    let out = send(&session, agreed("kept@example.com")).await.unwrap();
    assert_eq!(out["status"], 200);
    let recorded = out["recorded"].as_object().expect("the evidence");
    assert_eq!(recorded.len(), 1, "{out}");
    assert_eq!(recorded[&F::TERMS_ID.to_string()], F::TERMS_VERSION);
    assert_eq!(paths(&emu).await, ["/send", "/retrieve"]);
    let read_back = requests(&emu).await.pop().unwrap();
    let query = read_back["query"].as_str().unwrap();
    assert!(
        query.contains(&format!("sid={}", F::SITE_ACCESS_ID))
            && query.contains("sig=kept%40example.com")
            && query.contains(&format!("cid={}", F::TERMS_ID)),
        "{query}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickwrap_activity_send_refuses_success_when_nothing_was_recorded() {
    let emu = start_emulator().await;
    admin_with(
        &emu,
        "clickwrap/unknown-sid",
        json!({ "answer": "unrecorded" }),
    )
    .await;
    let rt = runtime();
    let session = rt
        .connect(
            &config(clickwrap_activity_form(&emu, UNKNOWN_SID)),
            tokens(&scratch("cw-send-dropped")),
        )
        .await
        .unwrap();
    // Test connection can only prove the host answers.
    session.test().await.unwrap();
    emu.emulator().clear_requests();

    let err = send(&session, agreed("lost@example.com"))
        .await
        .expect_err("no evidence, no success");
    assert_eq!(
        (
            err["kind"].as_str(),
            err["details"]["code"].as_str(),
            err["details"]["status"].as_u64()
        ),
        (Some("upstream"), Some("ACCEPTANCE_NOT_RECORDED"), Some(200)),
        "{err}"
    );
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("site_access_id") && message.contains(F::TERMS_VERSION),
        "{message}"
    );
    // The send once, then a read-back after each wait: never a second send.
    let seen = paths(&emu).await;
    assert_eq!(seen[0], "/send");
    assert_eq!(seen.iter().filter(|p| *p == "/send").count(), 1);
    assert_eq!(seen.iter().filter(|p| *p == "/retrieve").count(), 5);

    // Nothing was recorded: the REST API lists no such acceptance.
    let rest = rt
        .connect(
            &config(clickwrap_token_form(&emu, F::ADMIN_ACCESS_TOKEN)),
            tokens(&scratch("cw-send-dropped-rest")),
        )
        .await
        .unwrap();
    let listed = rest
        .execute(
            "clickwrap_list_activity",
            &json!({ "filter": "signer_id==lost@example.com" }),
        )
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));

    // Events the Activity API cannot read back report their status, and only that.
    let shown = send(
        &session,
        json!({ "sig": "lost@example.com", "et": "displayed", "vid": [F::TERMS_VERSION] }),
    )
    .await
    .unwrap();
    assert_eq!(shown, json!({ "status": 200, "response": null }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickwrap_activity_send_with_a_refused_site_access_id_names_the_field() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = rt
        .connect(
            &config(clickwrap_activity_form(&emu, UNKNOWN_SID)),
            tokens(&scratch("cw-send-refused")),
        )
        .await
        .unwrap();
    let err = send(&session, agreed("refused@example.com"))
        .await
        .unwrap_err();
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("invalid_config"), Some("site_access_id")),
        "{err}"
    );
    assert_eq!(
        paths(&emu).await,
        ["/send"],
        "refused at once: nothing to read back"
    );
}
