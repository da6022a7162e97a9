//! Webhook triggers through the component against the emulator's signed deliveries:
//! subscribe, receive once, and refuse what must not become an event (forged, tampered,
//! unsigned, stale, replayed, wrong key), surviving a key rotation.

use crate::common;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use common::*;
use host_harness::triggers::Subscription;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

const KEY_1: &str = include_str!("../../fixtures/emulator/webhook-signing-key.pem");
const KEY_2: &str = include_str!("../../fixtures/emulator/webhook-signing-key-2.pem");

/// One received delivery.
#[derive(Clone, Debug)]
struct Delivery {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Delivery {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    fn without(&self, name: &str) -> Delivery {
        let headers = self
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
            .cloned()
            .collect();
        Delivery {
            headers,
            body: self.body.clone(),
        }
    }

    /// The same delivery with `body` and a fresh signature by `key_pem`.
    fn resigned(&self, event_id: &str, body: &[u8], key_pem: &str) -> Delivery {
        let nonce = "a1b2c3d4";
        let key = SigningKey::<Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(key_pem).unwrap());
        let mut signed = event_id.as_bytes().to_vec();
        signed.extend_from_slice(body);
        signed.extend_from_slice(nonce.as_bytes());
        let signature = host_harness_b64(&key.sign(&signed).to_vec());
        let verification = json!({ "nonce": nonce, "signAlgorithm": "sha256", "signature": signature, "encoding": "base64" });
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("x-ironclad-webhook"))
            .cloned()
            .collect();
        headers.push(("X-Ironclad-Webhook-Event-Id".into(), event_id.into()));
        headers.push((
            "X-Ironclad-Webhook-Verification".into(),
            verification.to_string(),
        ));
        Delivery {
            headers,
            body: body.to_vec(),
        }
    }
}

fn host_harness_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A loopback receiver that records deliveries and answers 200.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Delivery>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let headers = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                let _ = tx.send(Delivery {
                    headers,
                    body: body.to_vec(),
                });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery arrives")
        .unwrap()
}

/// Registered webhooks pointing at this machine (the seed has others).
async fn local_hooks(session: &host_harness::Session<'_>) -> Vec<Value> {
    let hooks = session.execute("list_webhooks", &json!({})).await.unwrap();
    hooks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["targetURL"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        })
        .cloned()
        .collect()
}

/// A `workflow_launched` webhook subscribed through the CLI to a loopback receiver: the
/// scratch directory, the connection form's file, the subscription file and the receiver.
async fn cli_subscription(
    emu: &host_harness::emulator::RunningEmulator,
    name: &str,
) -> (
    std::path::PathBuf,
    String,
    String,
    mpsc::UnboundedReceiver<Delivery>,
) {
    let dir = scratch(name);
    let cfg = write_json(
        &dir,
        "config.json",
        &form(emu, "demo-client-credentials", json!({})),
    );
    let (url, rx) = receiver().await;
    let subscribed = cli(
        &dir,
        &[
            "webhook",
            "subscribe",
            "workflow_launched",
            "--config",
            &cfg,
            "--url",
            &url,
        ],
    )
    .await;
    assert_eq!(subscribed.code, 0, "{}", subscribed.stderr);
    let sub_file = write_json(&dir, "subscription.json", &subscribed.json());
    (dir, cfg, sub_file, rx)
}

/// A delivery's headers and body as the files `webhook handle` reads.
fn delivery_files(dir: &std::path::Path, tag: &str, d: &Delivery) -> (String, String) {
    let headers: serde_json::Map<String, Value> = d
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let headers_file = write_json(dir, &format!("headers-{tag}.json"), &Value::Object(headers));
    let body_file = dir.join(format!("body-{tag}.bin"));
    std::fs::write(&body_file, &d.body).unwrap();
    (headers_file, body_file.to_string_lossy().into_owned())
}

/// Wait up to `deadline` for the server to close each stream: how many it closed, and the
/// streams still open.
async fn closed_within(
    streams: Vec<tokio::net::TcpStream>,
    deadline: Duration,
) -> (usize, Vec<tokio::net::TcpStream>) {
    use tokio::io::AsyncReadExt;
    let waits: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                match tokio::time::timeout(deadline, stream.read(&mut byte)).await {
                    Ok(Ok(0) | Err(_)) => None,
                    _ => Some(stream),
                }
            })
        })
        .collect();
    let (mut closed, mut open) = (0, Vec::new());
    for wait in waits {
        match wait.await.unwrap() {
            None => closed += 1,
            Some(stream) => open.push(stream),
        }
    }
    (closed, open)
}

/// `workflow_launched` subscribed to a loopback receiver through the library.
async fn subscribed(
    session: &host_harness::Session<'_>,
) -> (Subscription, mpsc::UnboundedReceiver<Delivery>) {
    let (url, rx) = receiver().await;
    let sub = session
        .subscribe("workflow_launched", &json!({}), &url)
        .await
        .unwrap();
    (sub, rx)
}

fn rejection(e: host_harness::CallError) -> String {
    let r = report(e);
    assert_eq!(r["kind"], "webhook_rejected", "{r}");
    r["details"]["reason"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_verified_once_and_forgeries_refused() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "webhook-verify").await;
    let (mut sub, mut rx) = subscribed(&session).await;
    let key = sub.state["verification_key"].clone();
    assert!(key.as_str().unwrap().contains("BEGIN PUBLIC KEY"));

    let launched = launch_sample(&session, "Webhook Corp").await;
    let genuine = next(&mut rx).await;
    let event_id = genuine.header("x-ironclad-webhook-event-id").to_string();
    let events = session
        .handle_webhook(&mut sub, genuine.headers.clone(), genuine.body.clone())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event_id);
    let payload = &events[0].payload;
    assert_eq!(payload["event"], "workflow_launched");
    assert_eq!(
        payload["workflow"]["id"], launched["id"],
        "hydrated with the workflow"
    );
    assert_eq!(payload["webhook"]["payload"]["workflowID"], launched["id"]);
    assert_eq!(payload["webhook"]["webhook_id"], sub.state["webhook_id"]);

    // The same event again: a replay, refused by the host's delivery history.
    let again = session
        .handle_webhook(&mut sub, genuine.headers.clone(), genuine.body.clone())
        .await;
    assert_eq!(rejection(again.unwrap_err()), "replayed");

    // One changed body byte.
    let mut tampered = genuine.body.clone();
    let at = tampered.iter().position(|b| *b == b'"').unwrap() + 1;
    tampered[at] ^= 0x01;
    let r = session
        .handle_webhook(&mut sub, genuine.headers.clone(), tampered)
        .await;
    assert_eq!(rejection(r.unwrap_err()), "bad_signature");

    // A forged signature, a missing one, and a delivery signed with another key.
    let forged: Vec<(String, String)> = genuine
        .headers
        .iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case("x-ironclad-webhook-verification") {
                let mut h: Value = serde_json::from_str(v).unwrap();
                h["signature"] = json!(host_harness_b64(&[7u8; 256]));
                (k.clone(), h.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let r = session
        .handle_webhook(&mut sub, forged, genuine.body.clone())
        .await;
    assert_eq!(rejection(r.unwrap_err()), "bad_signature");
    let unsigned = genuine.without("x-ironclad-webhook-verification");
    let r = session
        .handle_webhook(&mut sub, unsigned.headers, unsigned.body)
        .await;
    assert_eq!(rejection(r.unwrap_err()), "unsigned");
    let wrong_key = genuine.resigned(
        "webhookEventfeedfeedfeedfeedfeedfeedfeedfeed",
        &genuine.body,
        KEY_2,
    );
    let r = session
        .handle_webhook(&mut sub, wrong_key.headers, wrong_key.body)
        .await;
    assert_eq!(rejection(r.unwrap_err()), "bad_signature");

    // Correctly signed, but from long ago: stale.
    let mut old: Value = serde_json::from_slice(&genuine.body).unwrap();
    old["timestamp"] = json!("2020-01-01T00:00:00.000Z");
    let old_body = serde_json::to_vec(&old).unwrap();
    let stale = genuine.resigned(
        "webhookEvent00000000000000000000000000000000",
        &old_body,
        KEY_1,
    );
    let r = session
        .handle_webhook(&mut sub, stale.headers, stale.body)
        .await;
    assert_eq!(rejection(r.unwrap_err()), "stale");

    // None of the refusals changed the subscription's key.
    assert_eq!(sub.state["verification_key"], key);
    assert!(
        sub.seen.contains(&event_id),
        "the delivered id is remembered"
    );
    session.unsubscribe(&sub).await.unwrap();
    session
        .unsubscribe(&sub)
        .await
        .expect("unsubscribing twice is fine");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_is_survived_with_one_refetch() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "webhook-rotate").await;
    let (mut sub, mut rx) = subscribed(&session).await;
    let old_key = sub.state["verification_key"].clone();
    admin(&emu, "webhook-key/rotate").await;
    admin(&emu, "reset-request-log").await;

    for name in ["Rotation A", "Rotation B"] {
        launch_sample(&session, name).await;
        let d = next(&mut rx).await;
        let events = session
            .handle_webhook(&mut sub, d.headers, d.body)
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{name}");
    }
    assert_ne!(
        sub.state["verification_key"], old_key,
        "the new key is kept"
    );
    let key_fetches = api_calls(&emu)
        .await
        .into_iter()
        .filter(|r| r["path"] == "/public/api/v1/webhooks/verification-key")
        .count();
    assert_eq!(
        key_fetches, 1,
        "fetched once on the first failure, then kept"
    );
    session.unsubscribe(&sub).await.unwrap();
    emu.shutdown().await;
}

/// Issue #23: each forged delivery may make the connector re-fetch the verification key (a
/// rotation looks the same until it has), so a flood of forgeries would spend the tenant's
/// API quota. The host stops running the connector for a subscription once it has seen
/// `FORGERY_BUDGET` forgeries in a window, and says when to come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forgeries_costs_a_bounded_number_of_requests() {
    use host_harness::triggers::{FORGERY_BUDGET, FORGERY_WINDOW_SECS};
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "webhook-flood").await;
    let (mut sub, mut rx) = subscribed(&session).await;
    launch_sample(&session, "Flood Inc").await;
    let genuine = next(&mut rx).await;
    admin(&emu, "reset-request-log").await;

    let mut refused = Vec::new();
    for i in 0..60 {
        // Well-formed, fresh, signed with a key that is not Ironclad's.
        let forged = genuine.resigned(&format!("webhookEventf1{i:030}"), &genuine.body, KEY_2);
        let e = session
            .handle_webhook(&mut sub, forged.headers, forged.body)
            .await
            .unwrap_err();
        refused.push(report(e));
    }
    let key_fetches = api_calls(&emu).await.len();
    assert!(
        key_fetches <= FORGERY_BUDGET as usize,
        "{key_fetches} upstream requests for 60 forgeries"
    );
    let budget = FORGERY_BUDGET as usize;
    assert!(
        refused[..budget]
            .iter()
            .all(|r| r["details"]["reason"] == "bad_signature"),
        "{refused:?}"
    );
    for r in &refused[budget..] {
        assert_eq!(r["kind"], "rate_limited", "{r}");
        let ms = r["details"]["retry_after_ms"].as_u64().unwrap();
        assert!(ms > 0 && ms <= FORGERY_WINDOW_SECS * 1000, "{r}");
    }

    // While closed, a genuine delivery is refused too (its sender retries later)...
    let e = session
        .handle_webhook(&mut sub, genuine.headers.clone(), genuine.body.clone())
        .await
        .unwrap_err();
    assert_eq!(report(e)["kind"], "rate_limited");
    // ...and once the window has passed, it is delivered.
    sub.forgeries.window_start -= FORGERY_WINDOW_SECS;
    let events = session
        .handle_webhook(&mut sub, genuine.headers.clone(), genuine.body.clone())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    session.unsubscribe(&sub).await.unwrap();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_registration_per_target_url_is_updated_not_duplicated() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "webhook-update").await;
    let (url, _rx) = receiver().await;
    let first = session
        .subscribe(
            "webhook_event",
            &json!({ "events": ["workflow_completed"] }),
            &url,
        )
        .await
        .unwrap();
    let second = session
        .subscribe(
            "webhook_event",
            &json!({ "events": ["workflow_paused", "workflow_resumed"] }),
            &url,
        )
        .await
        .unwrap();
    assert_eq!(first.state["webhook_id"], second.state["webhook_id"]);
    let hooks = session.execute("list_webhooks", &json!({})).await.unwrap();
    let mine: Vec<&Value> = hooks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["targetURL"] == url.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0]["events"],
        json!(["workflow_paused", "workflow_resumed"])
    );

    // Refused before any request: a poll-only trigger, a plain-http public target, no events.
    admin(&emu, "reset-request-log").await;
    let e = report(
        session
            .subscribe("record_created", &json!({}), &url)
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "unsupported");
    let e = report(
        session
            .subscribe("workflow_launched", &json!({}), "http://hooks.example/x")
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("target_url"))
    );
    let e = report(
        session
            .subscribe("webhook_event", &json!({ "events": [] }), &url)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/events"))
    );
    assert!(api_calls(&emu).await.is_empty());
    session.unsubscribe(&second).await.unwrap();
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_subscribe_handle_unsubscribe_round_trip() {
    let emu = start_emulator().await;
    let (dir, cfg, sub_file, mut rx) = cli_subscription(&emu, "cli-webhook").await;

    let rt = runtime();
    let session = session_in(&rt, &emu, "cli-webhook-actions").await;
    launch_sample(&session, "CLI Hooks").await;
    let d = next(&mut rx).await;
    let (headers_file, body_arg) = delivery_files(&dir, "one", &d);
    let handle = [
        "webhook",
        "handle",
        "workflow_launched",
        "--config",
        &cfg,
        "--subscription",
        &sub_file,
        "--headers",
        &headers_file,
        "--body",
        &body_arg,
    ];
    let ok = cli(&dir, &handle).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let events = ok.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["payload"]["event"], "workflow_launched");
    let replay = cli(&dir, &handle).await;
    assert_eq!(replay.error_kind(), "webhook_rejected");
    assert_eq!(replay.json()["error"]["details"]["reason"], "replayed");

    let saved: Subscription = serde_json::from_slice(&std::fs::read(&sub_file).unwrap()).unwrap();
    assert!(saved.seen.contains(d.header("x-ironclad-webhook-event-id")));
    let wrong = cli(
        &dir,
        &[
            "webhook",
            "unsubscribe",
            "workflow_completed",
            "--config",
            &cfg,
            "--subscription",
            &sub_file,
        ],
    )
    .await;
    assert_eq!(wrong.code, 2, "the file belongs to another trigger");
    let gone = cli(
        &dir,
        &[
            "webhook",
            "unsubscribe",
            "workflow_launched",
            "--config",
            &cfg,
            "--subscription",
            &sub_file,
        ],
    )
    .await;
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(local_hooks(&session).await.is_empty());
    emu.shutdown().await;
}

/// Issue #23: `webhook handle` processes sharing one subscription file take turns under its
/// lock: each delivery handed to two processes at once becomes one event, and every
/// delivered id stays in the file. Three rounds, since a race shows only sometimes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handle_processes_deliver_each_event_once() {
    let emu = start_emulator().await;
    let (dir, cfg, sub_file, mut rx) = cli_subscription(&emu, "cli-webhook-concurrent").await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "cli-webhook-concurrent-actions").await;

    let mut all_ids = Vec::new();
    for round in 0..3 {
        let mut runs = Vec::new();
        let mut ids = Vec::new();
        for n in 0..2 {
            launch_sample(&session, &format!("Concurrent {round}-{n}")).await;
            let d = next(&mut rx).await;
            ids.push(d.header("x-ironclad-webhook-event-id").to_string());
            let (headers_file, body_file) = delivery_files(&dir, &format!("{round}-{n}"), &d);
            let args: Vec<String> = [
                "webhook",
                "handle",
                "workflow_launched",
                "--config",
                &cfg,
                "--subscription",
                &sub_file,
                "--headers",
                &headers_file,
                "--body",
                &body_file,
            ]
            .map(String::from)
            .to_vec();
            // Each delivery twice, as a sender retrying into two workers would.
            runs.push(args.clone());
            runs.push(args);
        }
        let done = cli_at_once(&dir, &runs).await;
        let mut delivered = Vec::new();
        for run in &done {
            if run.code == 0 {
                for e in run.json()["events"].as_array().unwrap() {
                    delivered.push(e["id"].as_str().unwrap().to_string());
                }
            } else {
                assert_eq!(run.error_kind(), "webhook_rejected", "{}", run.stderr);
                assert_eq!(run.json()["error"]["details"]["reason"], "replayed");
            }
        }
        delivered.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(
            delivered, expected,
            "round {round}: each event exactly once"
        );
        all_ids.extend(ids);
    }
    let saved: Subscription = serde_json::from_slice(&std::fs::read(&sub_file).unwrap()).unwrap();
    for id in &all_ids {
        assert!(saved.seen.contains(id), "{id} was lost from the file");
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_a_launched_workflow_once_then_unsubscribes() {
    let emu = start_emulator().await;
    let dir = scratch("listen");
    let cfg = write_json(
        &dir,
        "config.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let mut child = tokio::process::Command::from(harness(&dir))
        .args([
            "listen",
            "workflow_launched",
            "--config",
            &cfg,
            "--port",
            "0",
            "--max-events",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.starts_with("listening on") {
                return line;
            }
        }
        panic!("listen exited before subscribing");
    })
    .await
    .unwrap();
    assert!(ready.contains("http://127.0.0.1:"), "{ready}");
    let target = ready
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let addr = target
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();

    // Issue #23: idle connections cannot pile up. Beyond the connection limit they are
    // closed on arrival, and the rest once the header deadline passes...
    use connector_receiver::{HEADER_DEADLINE, MAX_BODY_BYTES, MAX_CONNECTIONS};
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS + 36 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let (closed, open) = closed_within(idle, Duration::from_millis(500)).await;
    assert!(closed >= 36, "only {closed} closed on arrival");
    let (closed, open) = closed_within(open, HEADER_DEADLINE + Duration::from_secs(3)).await;
    assert!(
        open.is_empty(),
        "{closed} more closed, {} still open",
        open.len()
    );
    // ...and an oversized body is refused on its declared length, before it is sent.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        host_harness::listen::PATH,
        MAX_BODY_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    assert_eq!(
        &answer,
        b"HTTP/1.1 413",
        "{}",
        String::from_utf8_lossy(&answer)
    );

    let rt = runtime();
    let session = session_in(&rt, &emu, "listen-actions").await;
    let launched = launch_sample(&session, "Listened Corp").await;
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["payload"]["workflow"]["id"], launched["id"]);
    assert!(
        local_hooks(&session).await.is_empty(),
        "unsubscribed on exit"
    );
    emu.shutdown().await;
}
