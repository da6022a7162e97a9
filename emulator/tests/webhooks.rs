//! Webhook deliveries end to end: the emulator on 127.0.0.1, a receiver on another local port,
//! webhooks registered and workflows changed through the API, deliveries checked against the
//! public key `GET /webhooks/verification-key` serves.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ironclad_emulator::RunningEmulator;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::common;

const NDA: &str = "b726879760dd434eed596e05";

/// `(method, path under /workflows/{id}, JSON body or null for none)`.
type Step = (&'static str, &'static str, Value);

// --- a receiver ------------------------------------------------------------------------------

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
    }

    fn event_id(&self) -> &str {
        self.header("x-ironclad-webhook-event-id")
    }

    fn verification(&self) -> Value {
        serde_json::from_str(self.header("x-ironclad-webhook-verification")).unwrap()
    }

    fn envelope(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn event(&self) -> String {
        self.envelope()["payload"]["event"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Whether the signature verifies with `public_pem` over event id ++ body ++ nonce.
    fn verifies_with(&self, public_pem: &str) -> bool {
        let v = self.verification();
        assert_eq!(v["signAlgorithm"], "sha256");
        assert_eq!(v["encoding"], "base64");
        let mut signed = self.event_id().as_bytes().to_vec();
        signed.extend_from_slice(&self.body);
        signed.extend_from_slice(v["nonce"].as_str().unwrap().as_bytes());
        let key = RsaPublicKey::from_public_key_pem(public_pem).unwrap();
        let signature = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap();
        VerifyingKey::<Sha256>::new(key)
            .verify(&signed, &Signature::try_from(signature.as_slice()).unwrap())
            .is_ok()
    }
}

/// An HTTP receiver on 127.0.0.1 answering the scripted statuses in turn, then 200.
struct Receiver {
    url: String,
    got: mpsc::UnboundedReceiver<Received>,
}

#[derive(Clone)]
struct Script {
    statuses: Arc<Mutex<VecDeque<u16>>>,
    got: mpsc::UnboundedSender<Received>,
}

async fn receive(State(script): State<Script>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = script.got.send(Received { headers, body });
    let status = script.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start(statuses: &[u16]) -> Self {
        let (tx, got) = mpsc::unbounded_channel();
        let script = Script {
            statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())),
            got: tx,
        };
        let app = Router::new()
            .route("/hooks/ironclad", post(receive))
            .with_state(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/ironclad", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, got }
    }

    /// The next request, within 5 s.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.got.recv())
            .await
            .expect("a delivery within 5 s")
            .expect("the receiver runs")
    }

    /// The next `n` requests.
    async fn take(&mut self, n: usize) -> Vec<Received> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.next().await);
        }
        out
    }

    /// The next deliveries are these events, in this order, each signed with the key `api`
    /// serves.
    async fn expect(&mut self, api: &Api, events: &[&str]) -> Vec<Received> {
        let got = self.take(events.len()).await;
        let names: Vec<String> = got.iter().map(Received::event).collect();
        assert_eq!(names, events);
        let key = api.verification_key().await;
        assert!(got.iter().all(|r| r.verifies_with(&key)));
        got
    }

    /// Nothing more arrives within `ms`.
    async fn assert_quiet(&mut self, ms: u64) {
        if let Ok(Some(r)) = tokio::time::timeout(Duration::from_millis(ms), self.got.recv()).await
        {
            panic!("unexpected delivery: {}", String::from_utf8_lossy(&r.body));
        }
    }
}

// --- the API ---------------------------------------------------------------------------------

struct Api {
    emu: RunningEmulator,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn start() -> Self {
        let emu = ironclad_emulator::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("emulator starts");
        let http = reqwest::Client::new();
        let token = common::cc_token(&emu, &emu.seed().clients[0].name, None).await;
        let api = Self { emu, http, token };
        // Fast retries, so a test sees them in milliseconds.
        api.admin("POST", "webhook-delivery", json!({ "base_delay_ms": 20 }))
            .await;
        api
    }

    /// A Public API request as Jane; answers `(status, JSON body or null)`.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/public/api/v1{path}", self.emu.base_url()),
            )
            .bearer_auth(&self.token)
            .header("x-as-user-email", &self.emu.seed().users[0].email);
        if let Some(body) = body.filter(|b| !b.is_null()) {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        answer(req.send().await.unwrap()).await
    }

    /// Each step on workflow `id`, in turn, each expected to succeed.
    async fn steps(&self, id: &str, steps: &[Step]) {
        for (method, rest, body) in steps {
            self.ok(method, &format!("/workflows/{id}{rest}"), body.clone())
                .await;
        }
    }

    /// The webhook as `GET /webhooks/{id}` serves it now.
    async fn webhook(&self, hook: &Value) -> Value {
        let path = format!("/webhooks/{}", hook["id"].as_str().unwrap());
        let (status, now) = self.call("GET", &path, None).await;
        assert_eq!(status, 200, "{now}");
        now
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, out) = self.call(method, path, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {out}"
        );
        out
    }

    async fn verification_key(&self) -> String {
        self.http
            .get(format!(
                "{}/public/api/v1/webhooks/verification-key",
                self.emu.base_url()
            ))
            .bearer_auth(&self.token)
            .header("x-as-user-email", &self.emu.seed().users[0].email)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn register(&self, events: &[&str], target: &str) -> Value {
        let (status, hook) = self
            .call(
                "POST",
                "/webhooks",
                Some(json!({ "events": events, "targetURL": target })),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        hook
    }

    async fn launch(&self, counterparty: &str) -> Value {
        self.ok(
            "POST",
            "/workflows",
            json!({ "template": NDA, "attributes": {
                "counterpartyName": counterparty, "paperSource": "Our paper",
            }}),
        )
        .await
    }

    /// A multipart upload of `(name, filename, content type, bytes)` parts as Jane.
    async fn upload(&self, path: &str, parts: &[(&str, Option<&str>, &str, &[u8])]) {
        let boundary = "webhooks-test-boundary";
        let mut body = Vec::new();
        for (name, filename, content_type, data) in parts {
            let filename = filename.map_or(String::new(), |f| format!("; filename=\"{f}\""));
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .http
            .post(format!("{}/public/api/v1{path}", self.emu.base_url()))
            .bearer_auth(&self.token)
            .header("x-as-user-email", &self.emu.seed().users[0].email)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, out) = answer(resp).await;
        assert!((200..300).contains(&status), "{path}: {status} {out}");
    }

    /// A `/_emulator/` control; answers `(status, JSON)`.
    async fn admin_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(
            method.parse().unwrap(),
            format!("{}/_emulator/{path}", self.emu.base_url()),
        );
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        answer(req.send().await.unwrap()).await
    }

    async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, out) = self.admin_call(method, path, Some(body)).await;
        assert_eq!(status, 200, "{path}: {out}");
        out
    }

    /// The delivery log once it holds `count` attempts.
    async fn attempts(&self, count: usize) -> Vec<Value> {
        let (status, log) = self
            .admin_call(
                "GET",
                &format!("wait-deliveries?count={count}&timeout_ms=5000"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{log}");
        log.as_array().unwrap().clone()
    }
}

async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

// --- scenarios -------------------------------------------------------------------------------

#[tokio::test]
async fn a_launch_is_delivered_signed_in_ironclads_envelope() {
    let api = Api::start().await;
    let mut hook_rx = Receiver::start(&[]).await;
    let hook = api.register(&["workflow_launched"], &hook_rx.url).await;
    // Subscribed to other events only: gets nothing from a launch.
    let mut other_rx = Receiver::start(&[]).await;
    api.register(&["workflow_completed"], &other_rx.url).await;

    let workflow = api.launch("Umbrella Corp").await;
    let got = hook_rx.next().await;

    assert_eq!(got.header("content-type"), "application/json");
    let event_id = got.event_id();
    assert!(
        event_id.len() == 44
            && event_id.starts_with("webhookEvent")
            && event_id[12..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{event_id}"
    );
    let verification = got.verification();
    let keys: Vec<&String> = verification.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{verification}");
    assert!(verification["nonce"].as_str().unwrap().len() >= 16);
    let key = api.verification_key().await;
    assert!(got.verifies_with(&key));

    // Compact JSON, exactly Ironclad's keys.
    let envelope = got.envelope();
    assert_eq!(got.body, serde_json::to_vec(&envelope).unwrap());
    assert_eq!(
        envelope,
        json!({
            "companyID": "c7387834a905de8d10c4597f",
            "payload": {
                "event": "workflow_launched",
                "workflowID": workflow["id"],
                "templateID": NDA,
            },
            "timestamp": envelope["timestamp"],
            "webhookID": hook["id"],
        })
    );
    let timestamp = envelope["timestamp"].as_str().unwrap();
    assert!(
        timestamp.len() == 24 && timestamp.ends_with('Z') && &timestamp[19..20] == ".",
        "{timestamp}"
    );

    // The attempt is logged; the webhook has no failures.
    let log = api.attempts(1).await;
    assert_eq!(
        log[0],
        json!({
            "event_id": event_id, "webhook_id": hook["id"], "event": "workflow_launched",
            "target_url": hook_rx.url, "attempt": 1, "status": 200, "error": null,
            "at": log[0]["at"],
        })
    );
    let listed = api.webhook(&hook).await;
    assert_eq!(listed["consecutiveFailureCount"], 0);
    assert_eq!(listed["status"], "enabled");

    // The asynchronous launch announces its workflow when the job creates it.
    let (_, job) = api
        .call(
            "POST",
            "/workflows/async",
            Some(json!({ "template": NDA, "attributes": {
                "counterpartyName": "Initech", "paperSource": "Our paper",
            }})),
        )
        .await;
    let job_path = format!("/workflows/async/{}", job["asyncJobId"].as_str().unwrap());
    api.call("GET", &job_path, None).await;
    let (_, done) = api.call("GET", &job_path, None).await;
    assert_eq!(done["status"], "success", "{done}");
    let got = hook_rx.next().await;
    assert_eq!(
        got.envelope()["payload"]["workflowID"],
        done["workflow"]["id"]
    );
    assert_ne!(got.event_id(), event_id);
    other_rx.assert_quiet(200).await;
}

/// What `approve_and_send` raises.
const APPROVED_AND_SENT: [&str; 5] = [
    "workflow_approval_status_changed",
    "workflow_step_updated",
    "workflow_updated",
    "workflow_signature_packet_sent",
    "workflow_updated",
];

/// Approve as Jane (Legal, the NDA's only approver) and send the packet out.
fn approve_and_send() -> [Step; 2] {
    [
        ("PATCH", "/approvals/legal", json!({ "status": "approved" })),
        ("POST", "/sign-status/send-signature-request", json!({})),
    ]
}

#[tokio::test]
async fn a_workflow_from_launch_to_completion_raises_its_events_in_order() {
    let api = Api::start().await;
    let mut rx = Receiver::start(&[]).await;
    api.register(&["*"], &rx.url).await;
    let w = api.launch("Globex").await;
    let id = w["id"].as_str().unwrap().to_owned();

    api.steps(
        &id,
        &[
            ("POST", "/comments", json!({ "comment": "Draft is up." })),
            (
                "PATCH",
                "/attributes",
                json!({ "updates": [{ "action": "set", "path": "counterpartyName", "value": "Globex Corp" }] }),
            ),
            ("POST", "/pause", json!({ "comment": { "message": "Hold." } })),
            ("POST", "/resume", json!({ "comment": { "message": "Go." } })),
        ],
    )
    .await;
    api.steps(&id, &approve_and_send()).await;
    api.emu
        .emulator()
        .sign_packet(&id, "Counterparty Signer")
        .unwrap();
    // The rest arrives as one signed PDF.
    api.upload(
        &format!("/workflows/{id}/upload-signed"),
        &[(
            "attachment",
            Some("signed.pdf"),
            "application/pdf",
            b"%PDF-1.4 signed",
        )],
    )
    .await;
    let completed = api
        .admin("POST", &format!("workflows/{id}/complete"), json!({}))
        .await;
    assert_eq!(
        (completed["step"].as_str(), completed["status"].as_str()),
        (Some("Complete"), Some("completed"))
    );
    let record = completed["recordIds"][0].as_str().unwrap().to_owned();
    api.ok(
        "POST",
        &format!("/records/{record}/actions"),
        json!({ "type": "activate", "properties": {
            "effectiveDate": { "type": "date", "value": "2026-01-01T00:00:00Z" },
            "expirationDate": { "type": "date", "value": "2099-01-01T00:00:00Z" },
            "standard_renewalType": { "type": "string", "value": "None" },
        }}),
    )
    .await;

    let got = rx
        .expect(
            &api,
            &[
                &[
                    "workflow_launched",
                    "workflow_comment_added",
                    "workflow_updated",
                    "workflow_attribute_updated",
                    "workflow_updated",
                    "workflow_paused",
                    "workflow_comment_added",
                    "workflow_updated",
                    "workflow_resumed",
                    "workflow_comment_added",
                    "workflow_updated",
                ][..],
                &APPROVED_AND_SENT,
                &[
                    // The counterparty's signature.
                    "workflow_updated",
                    "workflow_signature_packet_uploaded",
                    "workflow_signature_packet_fully_signed",
                    "workflow_step_updated",
                    "workflow_updated",
                    "workflow_step_updated",
                    "workflow_completed",
                    "workflow_updated",
                    "record_contract_status_changed",
                ],
            ]
            .concat(),
        )
        .await;
    for r in &got {
        let payload = &r.envelope()["payload"];
        if r.event() == "record_contract_status_changed" {
            assert_eq!(payload, &json!({ "event": r.event(), "recordID": record }));
        } else {
            assert_eq!(payload["workflowID"], id.as_str());
            assert_eq!(payload["templateID"], NDA);
        }
    }
    let jane = &api.emu.seed().users[0];
    assert_eq!(
        got[11].envelope()["payload"],
        json!({
            "event": "workflow_approval_status_changed", "workflowID": id, "templateID": NDA,
            "approvalID": "legal", "approvalName": "Legal", "status": "approved",
            "userID": jane.id, "userEmail": jane.email,
        })
    );
    rx.assert_quiet(200).await;
}

#[tokio::test]
async fn documents_roles_and_signers_raise_their_events() {
    let api = Api::start().await;
    let mut rx = Receiver::start(&[]).await;
    api.register(&["*"], &rx.url).await;
    let w = api
        .ok(
            "POST",
            "/workflows",
            json!({ "template": NDA, "attributes": {
                "counterpartyName": "Soylent", "paperSource": "Our paper",
                "draft": [{ "url": "https://files.example/soylent.docx" }],
            }}),
        )
        .await;
    let id = w["id"].as_str().unwrap().to_owned();
    let documents = format!("/workflows/{id}/documents/draft");
    let draft = w["attributes"]["draft"][0]["key"]
        .as_str()
        .unwrap()
        .to_owned();

    // A new version of the draft, then a new document.
    let version = format!(r#"{{"key": "{draft}", "comment": {{"message": "v2"}}}}"#);
    let pdf = |name| {
        (
            "attachment",
            Some(name),
            "application/pdf",
            &b"%PDF-1.4"[..],
        )
    };
    let metadata = |m: &str| ("metadata", None, "application/json", m.as_bytes().to_vec());
    for (file, meta) in [
        ("soylent v2.pdf", metadata(&version)),
        (
            "exhibit.pdf",
            metadata(r#"{"comment": {"message": "Exhibit."}}"#),
        ),
    ] {
        let (name, filename, content_type, data) = &meta;
        api.upload(
            &documents,
            &[pdf(file), (name, *filename, content_type, data)],
        )
        .await;
    }
    let (raj, jane) = (&api.emu.seed().users[1], &api.emu.seed().users[0]);
    api.steps(
        &id,
        &[
            (
                "PATCH",
                "/signature-packet",
                json!({ "signaturePacketDocumentKeys": [draft] }),
            ),
            ("PATCH", "/roles/Legal", json!({ "userId": raj.id })),
            ("PATCH", "/roles/Legal", json!({ "userId": jane.id })),
        ],
    )
    .await;
    api.steps(&id, &approve_and_send()).await;
    api.steps(
        &id,
        &[
            (
                "PATCH",
                "/sign-status/signers/Counterparty%20Signer",
                json!({ "reason": "new signatory", "assigned": {
                    "type": "external", "email": "ceo@soylent.example", "name": "Soylent CEO",
                }}),
            ),
            (
                "POST",
                "/sign-status/cancel-signature-request",
                json!({ "reason": "terms changed" }),
            ),
            ("POST", "/sign-status/send-signature-request", json!({})),
            (
                "DELETE",
                "/sign-status/signers/Company%20Signer",
                Value::Null,
            ),
            ("PATCH", "/revert-to-review", json!({})),
            (
                "POST",
                "/cancel",
                json!({ "comment": { "message": "Dropped." } }),
            ),
        ],
    )
    .await;

    let got = rx
        .expect(
            &api,
            &[
                &[
                    "workflow_launched",
                    "workflow_documents_updated",
                    "workflow_updated",
                    "workflow_documents_added",
                    "workflow_updated",
                    "workflow_signature_packet_document_moved",
                    "workflow_updated",
                    "workflow_roles_assigned",
                    "workflow_updated",
                    "workflow_roles_assigned",
                    "workflow_updated",
                ][..],
                &APPROVED_AND_SENT,
                &[
                    "workflow_signer_reassigned",
                    "workflow_updated",
                    "workflow_signature_packet_cancelled",
                    "workflow_updated",
                    "workflow_signature_packet_sent",
                    "workflow_updated",
                    "workflow_signer_removed",
                    "workflow_signature_packet_cancelled",
                    "workflow_updated",
                    "workflow_step_updated",
                    "workflow_updated",
                    "workflow_cancelled",
                    "workflow_comment_added",
                    "workflow_updated",
                ],
            ]
            .concat(),
        )
        .await;
    // Document events name the documents and who changed them.
    let updated = &got[1].envelope()["payload"];
    assert_eq!(updated["documentKeys"], json!([draft]));
    assert_eq!(updated["userID"], jane.id.as_str());
    let added = &got[3].envelope()["payload"];
    let added_key = added["documentKeys"][0].as_str().unwrap();
    assert_ne!(added_key, draft);
    let (_, listed) = api
        .call("GET", &format!("/workflows/{id}/documents"), None)
        .await;
    assert!(listed.to_string().contains(added_key), "{listed}");
    assert_eq!(got[5].envelope()["payload"]["documentKeys"], json!([draft]));
    rx.assert_quiet(200).await;
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_bytes_until_it_is_accepted() {
    let api = Api::start().await;
    let mut flaky = Receiver::start(&[500, 503]).await;
    let flaky_hook = api.register(&["workflow_launched"], &flaky.url).await;
    let mut down = Receiver::start(&[500, 500, 500, 500]).await;
    let down_hook = api.register(&["workflow_launched"], &down.url).await;
    api.admin("POST", "webhook-delivery", json!({ "max_retries": 2 }))
        .await;

    api.launch("Hooli").await;
    api.launch("Pied Piper").await;

    // Flaky: two failures, then the first event goes through, then the second, in order.
    let tries = flaky.take(4).await;
    for retry in &tries[1..3] {
        assert_eq!(retry.event_id(), tries[0].event_id());
        assert_eq!(retry.body, tries[0].body);
        assert_eq!(retry.verification(), tries[0].verification());
    }
    assert_ne!(tries[3].event_id(), tries[0].event_id());
    let counterparty = |r: &Received| r.envelope()["payload"]["workflowID"].clone();
    assert_ne!(counterparty(&tries[3]), counterparty(&tries[0]));

    // Down: the first event is tried 1 + 2 times and given up; the second gets its turn.
    let tries_down = down.take(4).await;
    assert!(
        tries_down[..3]
            .iter()
            .all(|r| r.event_id() == tries_down[0].event_id())
    );
    assert_ne!(tries_down[3].event_id(), tries_down[0].event_id());

    // Flaky 3 + 1 attempts; down 3 for the first event, then 500 and 200 for the second.
    let log = api.attempts(9).await;
    let of = |hook: &Value| -> Vec<(u64, Value)> {
        log.iter()
            .filter(|a| a["webhook_id"] == hook["id"])
            .map(|a| (a["attempt"].as_u64().unwrap(), a["status"].clone()))
            .collect()
    };
    assert_eq!(
        of(&flaky_hook),
        [
            (1, json!(500)),
            (2, json!(503)),
            (3, json!(200)),
            (1, json!(200))
        ]
    );
    assert_eq!(
        of(&down_hook)[..5],
        [
            (1, json!(500)),
            (2, json!(500)),
            (3, json!(500)),
            (1, json!(500)),
            (2, json!(200)),
        ]
    );
    let flaky_now = api.webhook(&flaky_hook).await;
    assert_eq!(flaky_now["consecutiveFailureCount"], 0);
    assert!(flaky_now.get("firstConsecutiveFailure").is_none());

    // A receiver that is not listening: connection errors are logged and counted.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", listener.local_addr().unwrap())
    };
    let closed_hook = api.register(&["workflow_launched"], &closed).await;
    api.launch("Hooli XYZ").await;
    // One more each for flaky and down (both accept now), three for the closed port.
    let log = api.attempts(9 + 2 + 3).await;
    let closed_log: Vec<&Value> = log
        .iter()
        .filter(|a| a["webhook_id"] == closed_hook["id"])
        .collect();
    assert_eq!(closed_log.len(), 3, "{closed_log:?}");
    assert!(closed_log.iter().all(|a| a["status"].is_null()));
    assert!(
        closed_log[0]["error"].as_str().unwrap().contains("connect"),
        "{}",
        closed_log[0]
    );
    let closed_now = api.webhook(&closed_hook).await;
    assert_eq!(closed_now["consecutiveFailureCount"], 3);
    assert!(closed_now["firstConsecutiveFailure"].is_string());
    assert_eq!(closed_now["status"], "enabled");
}

#[tokio::test]
async fn gone_disables_the_webhook_and_stops_its_deliveries() {
    let api = Api::start().await;
    let mut rx = Receiver::start(&[410]).await;
    let hook = api.register(&["workflow_launched"], &rx.url).await;
    let hook_path = format!("/webhooks/{}", hook["id"].as_str().unwrap());

    api.launch("Vandelay").await;
    api.launch("Kramerica").await;
    rx.next().await;
    let log = api.attempts(1).await;
    assert_eq!(log[0]["status"], 410);
    let now = api.webhook(&hook).await;
    assert_eq!(now["status"], "disabledBySystem");
    assert_eq!(now["statusLastUpdatedBy"], "system");
    assert!(
        now["statusLastUpdatedAt"].as_str().unwrap()
            > hook["statusLastUpdatedAt"].as_str().unwrap()
    );

    // Neither the queued second event nor later ones are delivered.
    api.launch("Pendant Publishing").await;
    rx.assert_quiet(300).await;
    let (status, waited) = api
        .admin_call("GET", "wait-deliveries?count=2&timeout_ms=200", None)
        .await;
    assert_eq!(status, 504, "{waited}");
    assert_eq!(waited["deliveries"].as_array().unwrap().len(), 1);

    // Re-enabled by its owner, it receives new events again.
    api.ok("PATCH", &hook_path, json!({ "status": "enabled" }))
        .await;
    api.launch("Vandelay Industries").await;
    assert_eq!(rx.next().await.event(), "workflow_launched");
}

#[tokio::test]
async fn a_webhook_its_owner_disables_gets_no_more_retries() {
    let api = Api::start().await;
    api.admin("POST", "webhook-delivery", json!({ "base_delay_ms": 200 }))
        .await;
    let mut rx = Receiver::start(&[500; 5]).await;
    let hook = api.register(&["workflow_launched"], &rx.url).await;
    api.launch("Globex").await;
    rx.next().await;
    let path = format!("/webhooks/{}", hook["id"].as_str().unwrap());
    api.ok("PATCH", &path, json!({ "status": "disabled" }))
        .await;
    rx.assert_quiet(600).await;
    let (_, log) = api.admin_call("GET", "deliveries", None).await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    let now = api.webhook(&hook).await;
    assert_eq!(now["status"], "disabled");
    assert_eq!(now["consecutiveFailureCount"], 1);
}

#[tokio::test]
async fn rotating_the_key_changes_what_signs_and_what_is_served() {
    let mut api = Api::start().await;
    let mut rx = Receiver::start(&[]).await;
    api.register(&["workflow_launched"], &rx.url).await;
    let first = api.verification_key().await;
    api.launch("Acme Widgets").await;
    let before = rx.next().await;
    assert!(before.verifies_with(&first));

    let rotated = api.admin("POST", "webhook-key/rotate", json!({})).await;
    let second = api.verification_key().await;
    assert_ne!(second, first);
    assert!(second.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(rotated["verification_key"], second.as_str());
    api.launch("Acme Gadgets").await;
    let after = rx.next().await;
    assert!(after.verifies_with(&second));
    assert!(!after.verifies_with(&first));
    assert!(!before.verifies_with(&second));

    // A reset goes back to the first key, an empty log and no webhooks of the test's own.
    api.attempts(2).await;
    api.admin("POST", "reset", json!({})).await;
    api.token = common::cc_token(&api.emu, &api.emu.seed().clients[0].name, None).await;
    assert_eq!(api.verification_key().await, first);
    let (_, log) = api.admin_call("GET", "deliveries", None).await;
    assert_eq!(log, json!([]));
    api.launch("Acme Gizmos").await;
    rx.assert_quiet(200).await;
}

#[tokio::test]
async fn targets_must_be_https_or_a_loopback_port() {
    let api = Api::start().await;
    for bad in [
        "http://hooks.acme.example/in",
        "http://127.0.0.1/no-port",
        "http://10.1.2.3:8080/in",
    ] {
        let (status, e) = api
            .call(
                "POST",
                "/webhooks",
                Some(json!({ "events": ["*"], "targetURL": bad })),
            )
            .await;
        assert_eq!(
            (status, e["param"].as_str()),
            (400, Some("targetURL")),
            "{bad}"
        );
    }
    api.register(&["*"], "http://localhost:9/in").await;
    // An HTTPS target off this machine is kept but never called.
    api.register(&["*"], "https://hooks.initech.example/in")
        .await;
    api.launch("Initrode").await;
    let (_, log) = api.admin_call("GET", "deliveries", None).await;
    let targets: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target_url"].as_str().unwrap())
        .collect();
    assert!(
        targets.iter().all(|t| !t.contains("initech")),
        "{targets:?}"
    );
}
