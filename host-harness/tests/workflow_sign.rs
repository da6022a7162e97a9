//! The Sign step, signers, recipient URLs, workflow documents / signature packet and email
//! threads, driven through the compiled component against the emulator.

use crate::common;

use common::*;
use host_harness::emulator::RunningEmulator;
use serde_json::{Value, json};

/// Seeded workflows in the Sign step (see `fixtures/emulator/workflow-sign.json`).
const HOOLI: &str = "c34db4218b39e800af82991d"; // IC-5, not sent, parallel
const TYRELL: &str = "213b14890a64d86c102c230f"; // IC-10, sent, sequential
const NORTHWIND: &str = "a5719c765185e1e8e49509c2"; // IC-15, sent, one signature to go
const TAILSPIN: &str = "6b7d856e1217384d324862b7"; // IC-20, action required
const PROSEWARE: &str = "51cd0b31c6308623a66cb96e"; // IC-25, sent with Adobe Sign
const ALPINE: &str = "ab0f74feca27639eca6b72e2"; // IC-30, send scheduled
const LUCERNE: &str = "94eb61a4eec9fa7cb9b6d463"; // IC-35, template default packet
const GLOBEX: &str = "b622bd5e03412ace9950751b"; // IC-1, Review
/// The last logged request whose path ends with `suffix`.
async fn last_request(emu: &RunningEmulator, suffix: &str) -> Value {
    requests(emu)
        .await
        .into_iter()
        .rev()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no request to …{suffix}"))
}

fn statuses(sign_status: &Value) -> Vec<(String, String)> {
    sign_status["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["roleName"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_remind_and_sign_until_the_workflow_reaches_archive() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-flow").await;

    // By Ironclad id: the seeded packet, not yet sent.
    let status = s
        .execute("get_sign_status", &json!({ "id": "IC-5" }))
        .await
        .unwrap();
    assert_eq!(status["status"], "not_sent");
    assert_eq!(status["routing"], "parallel");
    assert_eq!(status["provider"], "Ironclad Signature");
    assert_eq!(status["requireSignedDocumentUpload"], false);
    assert_eq!(
        statuses(&status),
        pairs(&[
            ("Counterparty Signer", "pending"),
            ("Company Signer", "pending")
        ])
    );
    let company = &status["signers"][1];
    assert_eq!(company["type"], "internal");
    assert_eq!(company["userId"], "78acdd51f1aa8e4896c7792e");
    assert_eq!(status["signers"][0]["type"], "external");
    assert!(status["signers"][0].get("userId").is_none());
    assert_eq!(
        last_request(&emu, "/sign-status").await["path"],
        "/public/api/v1/workflows/IC-5/sign-status"
    );

    let listed = s
        .execute("list_workflow_signers", &json!({ "id": HOOLI }))
        .await
        .unwrap();
    assert_eq!(listed["workflowId"], HOOLI);
    assert_eq!(listed["title"], "Mutual NDA with Hooli Inc.");
    assert_eq!(listed["signers"][0]["name"], "Gavin Belson");
    assert_eq!(listed["signers"][0]["email"], "legal@hooliinc.example");
    assert_eq!(listed["signers"][0]["signatureStatus"]["status"], "pending");

    // Reminding and recipient links need a packet that is out for signature.
    let e = report(
        s.execute(
            "remind_signer",
            &json!({ "id": HOOLI, "signerRoleName": "Counterparty Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    let sent = s
        .execute("send_signature_request", &json!({ "id": HOOLI }))
        .await
        .unwrap();
    assert_eq!(sent["status"], "sent");
    assert_eq!(
        statuses(&sent),
        pairs(&[("Counterparty Signer", "sent"), ("Company Signer", "sent")])
    );
    let r = last_request(&emu, "/send-signature-request").await;
    assert_eq!(r["method"], "POST");
    assert_eq!(r["status"], 200);
    let e = report(
        s.execute("send_signature_request", &json!({ "id": "IC-5" }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    // One reminder per signer per hour: the second is refused with 429.
    let reminded = s
        .execute(
            "remind_signer",
            &json!({ "id": HOOLI, "signerRoleName": "Counterparty Signer" }),
        )
        .await
        .unwrap();
    assert_eq!(reminded, json!({ "status": 204 }));
    let r = last_request(&emu, "/remind").await;
    assert_eq!(
        r["path"],
        format!(
            "/public/api/v1/workflows/{HOOLI}/sign-status/signers/Counterparty%20Signer/remind"
        )
    );
    assert_eq!(r["method"], "POST");
    let e = report(
        s.execute(
            "remind_signer",
            &json!({ "id": HOOLI, "signerRoleName": "Counterparty Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "rate_limited", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("one reminder per hour"),
        "{e}"
    );
    let retry = e["details"]["retry_after_ms"].as_u64().unwrap();
    assert!(retry > 3_500_000 && retry <= 3_600_000, "{retry}");
    assert_eq!(last_request(&emu, "/remind").await["status"], 429);
    // Another signer is not affected.
    s.execute(
        "remind_signer",
        &json!({ "id": HOOLI, "signerRoleName": "Company Signer" }),
    )
    .await
    .unwrap();

    // Recipient URLs live on the emulator's own host.
    let link = s
        .execute(
            "create_recipient_url",
            &json!({ "id": HOOLI, "body": { "type": "signer", "roleName": "Counterparty Signer" } }),
        )
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/sign?r=", emu.base_url())) && url.contains("&s="),
        "{url}"
    );
    let r = last_request(&emu, "/signatures/recipient-urls").await;
    assert_eq!(r["status"], 201);
    assert_eq!(
        r["body"],
        json!({ "type": "signer", "roleName": "Counterparty Signer" })
    );
    let viewer = s
        .execute(
            "create_recipient_url",
            &json!({ "id": "IC-5", "body": { "type": "viewer", "email": "cc@hooliinc.example" } }),
        )
        .await
        .unwrap();
    assert!(viewer["url"].as_str().unwrap().starts_with(emu.base_url()));
    assert_ne!(viewer["url"], link["url"]);
    let e = report(
        s.execute(
            "create_recipient_url",
            &json!({ "id": HOOLI, "body": { "type": "signer", "roleName": "Witness" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("roleName"));

    let embedded = s
        .execute(
            "create_embeddable_recipient_url",
            &json!({ "id": HOOLI, "body": {
                "type": "signer", "roleName": "Company Signer",
                "frameAncestor": "https://portal.acme.example:8443", "allowMultipleUsages": true
            } }),
        )
        .await
        .unwrap();
    assert!(
        embedded["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/sign?r=", emu.base_url()))
    );
    assert_eq!(
        last_request(&emu, "/recipient-urls/embedded").await["status"],
        201
    );
    let e = report(
        s.execute(
            "create_embeddable_recipient_url",
            &json!({ "id": HOOLI, "body": {
                "type": "signer", "roleName": "Company Signer", "frameAncestor": "*.acme.example"
            } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("frameAncestor"));

    // The counterparty signs (through their link, outside the API); the packet stays out.
    let after = emu
        .emulator()
        .sign_packet("IC-5", "Counterparty Signer")
        .unwrap();
    assert_eq!(after["status"], "sent");
    let listed = s
        .execute("list_workflow_signers", &json!({ "id": "IC-5" }))
        .await
        .unwrap();
    assert_eq!(listed["signers"][0]["signatureStatus"]["status"], "signed");
    assert_eq!(listed["signers"][1]["signatureStatus"]["status"], "sent");
    let e = report(
        s.execute(
            "update_signer",
            &json!({ "id": HOOLI, "signerRoleName": "Counterparty Signer", "body": {
                "reason": "wrong person",
                "assigned": { "type": "external", "email": "x@hooliinc.example", "name": "X" }
            } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    // The last signature completes the packet: the workflow leaves Sign for Archive.
    let before = s
        .execute("retrieve_workflow", &json!({ "id": HOOLI }))
        .await
        .unwrap();
    assert_eq!(before["step"], "Sign");
    assert_eq!(before["signatures"]["state"], "in_progress");
    let done = emu.emulator().sign_packet(HOOLI, "Company Signer").unwrap();
    assert_eq!(done["status"], "complete");
    let archived = s
        .execute("retrieve_workflow", &json!({ "id": "IC-5" }))
        .await
        .unwrap();
    assert_eq!(archived["step"], "Archive");
    assert_eq!(archived["status"], "active");
    assert_eq!(archived["signatures"]["state"], "completed");
    assert!(archived["lastUpdated"].as_str() > before["lastUpdated"].as_str());
    let e = report(
        s.execute("get_sign_status", &json!({ "id": HOOLI }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("currently at the Archive step"),
        "{e}"
    );

    assert_eq!(contract_violations(&emu).await, Vec::<Value>::new());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_are_updated_deleted_and_the_request_cancelled() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-signers").await;

    let status = s
        .execute("get_sign_status", &json!({ "id": "IC-10" }))
        .await
        .unwrap();
    assert_eq!(status["routing"], "sequential");
    assert_eq!(
        statuses(&status),
        pairs(&[
            ("Counterparty Signer", "viewed"),
            ("Company Signer", "pending")
        ])
    );

    // Reassign the counterparty signer (their turn: the request goes to the new one).
    let body = json!({
        "reason": "Rachael signs for Tyrell now",
        "assigned": { "type": "external", "email": "rachael@tyrellcorporatio.example", "name": "Rachael Tyrell" }
    });
    let updated = s
        .execute(
            "update_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Counterparty Signer", "body": body }),
        )
        .await
        .unwrap();
    assert_eq!(updated["name"], "Rachael Tyrell");
    assert_eq!(updated["email"], "rachael@tyrellcorporatio.example");
    assert_eq!(updated["roleName"], "Counterparty Signer");
    assert_eq!(updated["type"], "external");
    assert_eq!(updated["status"], "sent");
    let r = last_request(&emu, "/signers/Counterparty%20Signer").await;
    assert_eq!(r["method"], "PATCH");
    assert_eq!(
        r["path"],
        format!("/public/api/v1/workflows/{TYRELL}/sign-status/signers/Counterparty%20Signer")
    );
    assert_eq!(r["body"], body);

    // An internal reassignment (not this signer's turn yet: still pending).
    let maria = emu
        .seed()
        .users
        .iter()
        .find(|u| u.email == "maria.garcia@acme.example")
        .unwrap()
        .clone();
    let internal = s
        .execute(
            "update_signer",
            &json!({ "id": "IC-10", "signerRoleName": "Company Signer", "body": {
                "reason": "Maria has signing authority",
                "assigned": { "type": "internal", "userId": maria.id }
            } }),
        )
        .await
        .unwrap();
    assert_eq!(internal["type"], "internal");
    assert_eq!(internal["userId"], maria.id.as_str());
    assert_eq!(internal["name"], "Maria Garcia");
    assert_eq!(internal["email"], maria.email.as_str());
    assert_eq!(internal["status"], "pending");
    let listed = s
        .execute("list_workflow_signers", &json!({ "id": TYRELL }))
        .await
        .unwrap();
    assert_eq!(listed["signers"][0]["name"], "Rachael Tyrell");
    assert_eq!(listed["signers"][1]["email"], "maria.garcia@acme.example");

    // Ironclad's validation comes back typed, naming its param; on sign-status routes the spec
    // allows one code for a 400, INVALID_STATE.
    let e = report(
        s.execute(
            "update_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Company Signer", "body": {
                "reason": "x", "assigned": { "type": "internal", "userId": "000000000000000000000000" }
            } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", Some("assigned.userId"));
    let e = report(
        s.execute(
            "update_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Company Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", Some("reason"));
    let e = report(
        s.execute(
            "update_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Witness", "body": body }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("signerRoleName"));

    // Deleting a signer cancels the packet that is out.
    let deleted = s
        .execute(
            "delete_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Company Signer" }),
        )
        .await
        .unwrap();
    assert_eq!(deleted, json!({ "status": 204 }));
    let r = last_request(&emu, "/signers/Company%20Signer").await;
    assert_eq!(
        (r["method"].as_str(), r["status"].as_u64()),
        (Some("DELETE"), Some(204))
    );
    let status = s
        .execute("get_sign_status", &json!({ "id": TYRELL }))
        .await
        .unwrap();
    assert_eq!(status["status"], "not_sent");
    assert_eq!(
        statuses(&status),
        pairs(&[("Counterparty Signer", "pending")])
    );
    let e = report(
        s.execute(
            "delete_signer",
            &json!({ "id": TYRELL, "signerRoleName": "Company Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");

    // Cancel needs a packet that is out, and a reason.
    let e = report(
        s.execute(
            "cancel_signature_request",
            &json!({ "id": TYRELL, "body": { "reason": "changes" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    let sent = s
        .execute("send_signature_request", &json!({ "id": TYRELL }))
        .await
        .unwrap();
    assert_eq!(statuses(&sent), pairs(&[("Counterparty Signer", "sent")]));
    let e = report(
        s.execute("cancel_signature_request", &json!({ "id": TYRELL }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", Some("reason"));
    let cancelled = s
        .execute(
            "cancel_signature_request",
            &json!({ "id": "IC-10", "body": { "reason": "Need to make changes." } }),
        )
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "not_sent");
    assert_eq!(
        statuses(&cancelled),
        pairs(&[("Counterparty Signer", "pending")])
    );
    let r = last_request(&emu, "/cancel-signature-request").await;
    assert_eq!(r["body"], json!({ "reason": "Need to make changes." }));
    assert_eq!(r["status"], 200);

    assert_eq!(contract_violations(&emu).await, Vec::<Value>::new());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_send_is_created_updated_and_deleted() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-schedule").await;

    // IC-35 has no seeded packet: it gets its template's default, signers from its attributes.
    let status = s
        .execute("get_sign_status", &json!({ "id": LUCERNE }))
        .await
        .unwrap();
    assert_eq!(status["status"], "not_sent");
    assert!(status.get("scheduledSend").is_none());
    assert_eq!(status["signers"][0]["name"], "Lucerne Publishing");
    assert_eq!(
        status["signers"][0]["email"],
        "legal@lucernepublishin.example"
    );
    assert_eq!(status["signers"][1]["name"], "Jane Doe");

    let e = report(
        s.execute(
            "update_scheduled_signature_request",
            &json!({ "id": LUCERNE, "body": { "notifyAt": "2031-01-01T00:00:00Z" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");

    let body = json!({ "notifyAt": "2031-01-15T09:30:00Z", "reminder": { "daysBefore": 3 } });
    let scheduled = s
        .execute(
            "schedule_send_signature_request",
            &json!({ "id": "IC-35", "body": body }),
        )
        .await
        .unwrap();
    assert_eq!(
        scheduled["scheduledSend"],
        json!({
            "notifyAt": "2031-01-15T09:30:00.000Z",
            "reminder": { "daysBefore": 3, "reminderDate": "2031-01-12T09:30:00.000Z" }
        })
    );
    let r = last_request(&emu, "/sign-status/scheduled-send").await;
    assert_eq!(
        (r["method"].as_str(), r["status"].as_u64()),
        (Some("POST"), Some(200))
    );
    assert_eq!(r["body"], body);
    let read = s
        .execute("get_sign_status", &json!({ "id": LUCERNE }))
        .await
        .unwrap();
    assert_eq!(read["scheduledSend"], scheduled["scheduledSend"]);
    let e = report(
        s.execute(
            "schedule_send_signature_request",
            &json!({ "id": LUCERNE, "body": body }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    // New time, reminder kept (and moved).
    let moved = s
        .execute(
            "update_scheduled_signature_request",
            &json!({ "id": LUCERNE, "body": { "notifyAt": "2031-02-01T00:00:00Z" } }),
        )
        .await
        .unwrap();
    assert_eq!(
        moved["scheduledSend"],
        json!({
            "notifyAt": "2031-02-01T00:00:00.000Z",
            "reminder": { "daysBefore": 3, "reminderDate": "2031-01-29T00:00:00.000Z" }
        })
    );
    // `reminder: null` removes it.
    let no_reminder = s
        .execute(
            "update_scheduled_signature_request",
            &json!({ "id": LUCERNE, "body": { "reminder": null } }),
        )
        .await
        .unwrap();
    assert_eq!(
        no_reminder["scheduledSend"],
        json!({ "notifyAt": "2031-02-01T00:00:00.000Z" })
    );
    let r = last_request(&emu, "/sign-status/scheduled-send").await;
    assert_eq!(r["method"], "PATCH");
    assert_eq!(r["body"], json!({ "reminder": null }));

    let deleted = s
        .execute(
            "delete_scheduled_signature_request",
            &json!({ "id": LUCERNE }),
        )
        .await
        .unwrap();
    assert!(deleted.get("scheduledSend").is_none(), "{deleted}");
    assert_eq!(deleted["status"], "not_sent");
    assert_eq!(
        last_request(&emu, "/sign-status/scheduled-send").await["method"],
        "DELETE"
    );
    let e = report(
        s.execute(
            "delete_scheduled_signature_request",
            &json!({ "id": LUCERNE }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    let e = report(
        s.execute(
            "schedule_send_signature_request",
            &json!({ "id": LUCERNE, "body": { "notifyAt": "2020-01-01T00:00:00Z" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", Some("notifyAt"));

    // IC-30's seeded schedule; sending now clears it.
    let alpine = s
        .execute("get_sign_status", &json!({ "id": ALPINE }))
        .await
        .unwrap();
    assert_eq!(
        alpine["scheduledSend"],
        json!({
            "notifyAt": "2030-03-01T12:00:00.000Z",
            "reminder": { "daysBefore": 2, "reminderDate": "2030-02-27T12:00:00.000Z" }
        })
    );
    let sent = s
        .execute("send_signature_request", &json!({ "id": "IC-30" }))
        .await
        .unwrap();
    assert_eq!(sent["status"], "sent");
    assert!(sent.get("scheduledSend").is_none());
    // Out for signature: no more scheduling.
    let e = report(
        s.execute(
            "delete_scheduled_signature_request",
            &json!({ "id": ALPINE }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    assert_eq!(contract_violations(&emu).await, Vec::<Value>::new());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_routes_refuse_workflows_outside_a_workable_sign_step() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-states").await;

    for action in ["get_sign_status", "list_workflow_signers"] {
        let e = report(
            s.execute(action, &json!({ "id": GLOBEX }))
                .await
                .unwrap_err(),
        );
        assert_upstream(&e, 400, "INVALID_STATE", None);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("not at the Sign step, and is currently at the Review step"),
            "{e}"
        );
        let e = report(
            s.execute(action, &json!({ "id": "IC-424242" }))
                .await
                .unwrap_err(),
        );
        assert_eq!(e["kind"], "not_found", "{e}");
    }

    // Signature tags missing: cannot be sent.
    let tailspin = s
        .execute("get_sign_status", &json!({ "id": TAILSPIN }))
        .await
        .unwrap();
    assert_eq!(tailspin["status"], "action_required");
    let e = report(
        s.execute("send_signature_request", &json!({ "id": TAILSPIN }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    // A cancelled workflow still in Sign can be read, not acted on.
    let cancelled = s
        .execute("get_sign_status", &json!({ "id": "IC-11" }))
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "not_sent");
    let e = report(
        s.execute("send_signature_request", &json!({ "id": "IC-11" }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);

    // Adobe Sign: delegates shown, no recipient URLs, a reminder reaches every unsigned signer.
    let listed = s
        .execute("list_workflow_signers", &json!({ "id": PROSEWARE }))
        .await
        .unwrap();
    assert_eq!(
        listed["signers"][0]["delegates"],
        json!([{ "name": "Kim Lam", "email": "kim.lam@prosewareinc.example" }])
    );
    let e = report(
        s.execute(
            "create_recipient_url",
            &json!({ "id": PROSEWARE, "body": { "type": "signer", "roleName": "Company Signer" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    s.execute(
        "remind_signer",
        &json!({ "id": PROSEWARE, "signerRoleName": "Counterparty Signer" }),
    )
    .await
    .unwrap();
    let e = report(
        s.execute(
            "remind_signer",
            &json!({ "id": PROSEWARE, "signerRoleName": "Company Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "rate_limited", "{e}");

    // Northwind: one signature left; reminding someone who signed is refused.
    let e = report(
        s.execute(
            "remind_signer",
            &json!({ "id": NORTHWIND, "signerRoleName": "Counterparty Signer" }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    let e = report(
        s.execute(
            "create_embeddable_recipient_url",
            &json!({ "id": NORTHWIND, "body": { "type": "viewer", "roleName": "Company Signer", "frameAncestor": "example.com" } }),
        )
        .await
        .unwrap_err(),
    );
    // `viewer` is refused by the action's own schema before anything is sent.
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert_eq!(e["field"], "/body/type", "{e}");

    // Scopes are per operation.
    let narrow = read_workflows_only(&rt, &emu, &scratch("sign-narrow")).await;
    let e = report(
        narrow
            .execute("get_sign_status", &json!({ "id": NORTHWIND }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(
        e["details"]["missing_scope"],
        "public.workflows.readSignStatus"
    );
    emu.shutdown().await;
}

fn launch_body(template: &str) -> Value {
    json!({
        "template": template,
        "attributes": {
            "counterpartyName": "Soylent Corp",
            "paperSource": "Counterparty paper",
            "draft": [
                { "url": "https://files.example/contracts/Soylent%20NDA.docx" },
                { "url": "https://files.example/contracts/Exhibit-A.pdf" },
                { "url": "https://files.example/brand/logo.png" }
            ]
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_and_the_signature_packet() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-documents").await;

    let hooli = s
        .execute("retrieve_workflow_documents", &json!({ "id": "IC-5" }))
        .await
        .unwrap();
    let workflow = s
        .execute("retrieve_workflow", &json!({ "id": HOOLI }))
        .await
        .unwrap();
    assert_eq!(
        hooli["signaturePacketDocuments"],
        workflow["attributes"]["draft"]
    );
    assert_eq!(hooli["excludedFromSignaturePacketDocuments"], json!([]));

    // A launch with three drafts: the .docx and .pdf start in the packet, the image outside.
    let nda = emu.seed().template_named("Mutual NDA").unwrap().id.clone();
    let launched = s
        .execute("launch_new_workflow", &json!({ "body": launch_body(&nda) }))
        .await
        .unwrap();
    let id = launched["ironcladId"].as_str().unwrap().to_owned();
    let drafts = launched["attributes"]["draft"].as_array().unwrap().clone();
    let key = |i: usize| drafts[i]["key"].as_str().unwrap().to_owned();
    assert_eq!(drafts[0]["filename"], "Soylent NDA.docx");
    let docs = s
        .execute("retrieve_workflow_documents", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(
        docs["signaturePacketDocuments"],
        json!([drafts[0], drafts[1]])
    );
    assert_eq!(
        docs["excludedFromSignaturePacketDocuments"],
        json!([drafts[2]])
    );

    // Reorder, then move the .docx out.
    let body = json!({ "signaturePacketDocumentKeys": [key(1), key(0)] });
    let reordered = s
        .execute(
            "update_workflow_signature_packet",
            &json!({ "id": id, "body": body }),
        )
        .await
        .unwrap();
    assert_eq!(
        reordered["signaturePacketDocuments"],
        json!([drafts[1], drafts[0]])
    );
    let r = last_request(&emu, "/signature-packet").await;
    assert_eq!(
        (r["method"].as_str(), r["status"].as_u64()),
        (Some("PATCH"), Some(200))
    );
    assert_eq!(r["body"], body);
    s.execute(
        "update_workflow_signature_packet",
        &json!({ "id": id, "body": { "signaturePacketDocumentKeys": [key(1)] } }),
    )
    .await
    .unwrap();
    let docs = s
        .execute("retrieve_workflow_documents", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(docs["signaturePacketDocuments"], json!([drafts[1]]));
    assert_eq!(
        docs["excludedFromSignaturePacketDocuments"],
        json!([drafts[0], drafts[2]])
    );

    // Only editable documents of this workflow, at least one, each once.
    for keys in [
        json!([key(1), key(2)]),
        json!(["no-such-key"]),
        json!([]),
        json!([key(1), key(1)]),
    ] {
        let e = report(
            s.execute(
                "update_workflow_signature_packet",
                &json!({ "id": id, "body": { "signaturePacketDocumentKeys": keys } }),
            )
            .await
            .unwrap_err(),
        );
        assert_upstream(
            &e,
            400,
            "INVALID_PARAM",
            Some("signaturePacketDocumentKeys"),
        );
    }
    // Review step only.
    let e = report(
        s.execute(
            "update_workflow_signature_packet",
            &json!({ "id": HOOLI, "body": { "signaturePacketDocumentKeys": [hooli["signaturePacketDocuments"][0]["key"]] } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    let e = report(
        s.execute("retrieve_workflow_documents", &json!({ "id": "IC-424242" }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");

    assert_eq!(contract_violations(&emu).await, Vec::<Value>::new());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_threads_are_listed_in_pages_and_retrieved_by_id() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-emails").await;

    let all = s
        .execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": HOOLI }),
        )
        .await
        .unwrap();
    assert_eq!(all["count"], 3);
    assert_eq!(all["truncated"], false);
    let items = all["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["outboundEmail", "inboundEmail", "inboundEmail"]);
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["timestamp"].as_str() < w[1]["timestamp"].as_str())
    );
    assert_eq!(items[0]["recipients"], json!(["legal@hooliinc.example"]));

    // A small max_items costs one exact-size request and says it stopped early.
    admin(&emu, "reset-request-log").await;
    let two = s
        .execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": "IC-5", "max_items": 2 }),
        )
        .await
        .unwrap();
    assert_eq!(two["items"].as_array().unwrap().len(), 2);
    assert_eq!(two["truncated"], true);
    let log = requests(&emu).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["path"], "/public/api/v1/workflows/IC-5/emails");
    let query = log[0]["query"].as_str().unwrap();
    assert!(
        query.contains("page=0") && query.contains("pageSize=2"),
        "{query}"
    );

    let thread = items[1]["emailThreadId"].as_str().unwrap();
    let one = s
        .execute(
            "retrieve_email_thread_from_workflow",
            &json!({ "id": HOOLI, "emailThreadId": thread }),
        )
        .await
        .unwrap();
    assert_eq!(one, items[1]);
    assert_eq!(one["author"]["type"], "externalUser");
    assert_eq!(
        last_request(&emu, thread).await["path"],
        format!("/public/api/v1/workflows/{HOOLI}/emails/{thread}")
    );
    // Outbound emails carry no thread id; their id finds them.
    let outbound = s
        .execute(
            "retrieve_email_thread_from_workflow",
            &json!({ "id": HOOLI, "emailThreadId": items[0]["id"] }),
        )
        .await
        .unwrap();
    assert_eq!(
        outbound["subject"],
        "Mutual NDA - Hooli Inc. for your review"
    );

    let e = report(
        s.execute(
            "retrieve_email_thread_from_workflow",
            &json!({ "id": HOOLI, "emailThreadId": "emailThreadNope" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("emailThreadId"),
        "{e}"
    );
    let e = report(
        s.execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": "IC-424242" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");

    let none = s
        .execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": TYRELL }),
        )
        .await
        .unwrap();
    assert_eq!(
        (none["count"].as_u64(), none["items"].clone()),
        (Some(0), json!([]))
    );
    let globex = s
        .execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": GLOBEX }),
        )
        .await
        .unwrap();
    assert_eq!(
        globex["items"][0]["emailOpenedTimestamps"][0]["opened"],
        false
    );

    assert_eq!(contract_violations(&emu).await, Vec::<Value>::new());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_input_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let rt = runtime();
    let s = session_in(&rt, &emu, "sign-badinput").await;
    admin(&emu, "reset-request-log").await;
    let cases = [
        ("get_sign_status", json!({}), "/id"),
        ("remind_signer", json!({ "id": HOOLI }), "/signerRoleName"),
        (
            "delete_signer",
            json!({ "id": HOOLI, "signerRoleName": "" }),
            "/signerRoleName",
        ),
        (
            "schedule_send_signature_request",
            json!({ "id": HOOLI, "body": {} }),
            "/body/notifyAt",
        ),
        (
            "schedule_send_signature_request",
            json!({ "id": HOOLI, "body": { "notifyAt": "2031-01-01T00:00:00Z", "reminder": { "daysBefore": 9 } } }),
            "/body/reminder/daysBefore",
        ),
        (
            "cancel_signature_request",
            json!({ "id": HOOLI, "body": {} }),
            "/body/reason",
        ),
        (
            "create_embeddable_recipient_url",
            json!({ "id": HOOLI, "body": { "type": "signer", "roleName": "Company Signer" } }),
            "/body/frameAncestor",
        ),
        (
            "update_workflow_signature_packet",
            json!({ "id": GLOBEX }),
            "/body",
        ),
        (
            "update_workflow_signature_packet",
            json!({ "id": GLOBEX, "body": { "signaturePacketDocumentKeys": [1] } }),
            "/body/signaturePacketDocumentKeys/0",
        ),
        (
            "retrieve_email_thread_from_workflow",
            json!({ "id": HOOLI }),
            "/emailThreadId",
        ),
        (
            "retrieve_email_threads_from_workflow",
            json!({ "id": HOOLI, "max_items": 0 }),
            "/max_items",
        ),
    ];
    for (action, input, field) in cases {
        let e = report(s.execute(action, &input).await.unwrap_err());
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    assert!(requests(&emu).await.is_empty(), "nothing was sent");
    emu.shutdown().await;
}
