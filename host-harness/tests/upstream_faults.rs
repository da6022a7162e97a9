//! Upstream faults through the real component: what the host retries (and what it must
//! not), within the retry budget and the call's deadline, and how answers that are not
//! what Ironclad promises become typed errors.

use crate::common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::scripted::{self, ScriptedServer};
use common::*;
use host_harness::retry::RetryPolicy;
use host_harness::sandbox::Limits;
use host_harness::{Runtime, RuntimeOptions};
use serde_json::{Value, json};

/// Retries without the production one-second base, so the tests do not sleep.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

fn runtime_for(limits: Limits) -> Runtime {
    Runtime::load(
        &component_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            retry: fast_retries(),
            limits,
            ..host_harness::ironclad::options()
        },
    )
    .unwrap()
}

/// An Ironclad stand-in: tokens for anyone, and `answer(nth API request)` for the API.
async fn upstream(
    answer: impl Fn(&scripted::Hit, usize) -> scripted::Answer + Send + Sync + 'static,
) -> ScriptedServer {
    let api_seen = std::sync::atomic::AtomicUsize::new(0);
    ScriptedServer::start(move |hit, _| {
        if hit.path == "/oauth/token" {
            return scripted::token();
        }
        let n = api_seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        answer(hit, n)
    })
    .await
}

/// A client-credentials form (the emulator's demo client) aimed at `instance_url`.
fn form_at(instance_url: &str) -> Value {
    let seed = host_harness::emulator::default_seed();
    let client = seed
        .clients
        .iter()
        .find(|c| c.name == "demo-client-credentials")
        .unwrap();
    json!({
        "api_type": "clm_public", "region": "custom", "instance_url": instance_url,
        "grant_type": "client_credentials", "client_id": client.client_id,
        "client_secret": client.client_secret, "impersonate_user": seed.users[0].email,
    })
}

async fn raw(
    rt: &Runtime,
    server: &ScriptedServer,
    name: &str,
    method: &str,
    path: &str,
) -> Result<Value, Value> {
    let session = rt
        .connect(&config(form_at(server.base_url())), tokens(&scratch(name)))
        .await
        .unwrap();
    let mut input = json!({ "method": method, "path": path });
    if method != "GET" {
        input["body"] = json!({ "title": "x" });
    }
    session.execute("raw_request", &input).await.map_err(report)
}

fn unavailable() -> scripted::Answer {
    scripted::json(
        503,
        json!({ "code": "SERVICE_UNAVAILABLE", "message": "try again" }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_through_5xx_until_they_succeed() {
    let server = upstream(|_, n| match n {
        0 => unavailable(),
        1 => scripted::json(502, json!({})),
        _ => scripted::json(200, json!({ "ok": true })),
    })
    .await;
    let rt = runtime_for(Limits::default());
    let out = raw(&rt, &server, "retry-get", "GET", "/records")
        .await
        .unwrap();
    assert_eq!(out["body"], json!({ "ok": true }));
    assert_eq!(server.hits_under("/public/api/v1/").len(), 3);
}

/// `--trace` and the studio read this: each attempt on its own line, retries numbered, the
/// token masked and no secret anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_session_records_every_attempt_with_the_token_masked() {
    let server = upstream(|_, n| match n {
        0 => unavailable(),
        _ => scripted::json(200, json!({ "ok": true })),
    })
    .await;
    let rt = runtime_for(Limits::default());
    let form = form_at(server.base_url());
    let session = rt
        .connect(&config(form.clone()), tokens(&scratch("trace-retry")))
        .await
        .unwrap()
        .traced();
    session
        .execute(
            "raw_request",
            &json!({ "method": "GET", "path": "/records" }),
        )
        .await
        .unwrap();
    let trace = session.take_trace();
    assert_eq!(trace.len(), 2, "{trace:#?}");
    assert_eq!(
        (
            trace[0].status,
            trace[0].retry,
            trace[1].status,
            trace[1].retry
        ),
        (Some(503), 0, Some(200), 1),
        "{trace:#?}"
    );
    let url = format!("{}/public/api/v1/records", server.base_url());
    assert!(
        trace.iter().all(|e| e.method == "GET" && e.url == url),
        "{trace:#?}"
    );
    assert!(trace[1].response_bytes > 0 && trace[1].duration_ms > 0.0);
    assert!(
        trace[1]
            .request_headers
            .contains(&("authorization".into(), "Bearer <redacted>".into())),
        "{trace:#?}"
    );
    let text = format!("{trace:?}");
    let secret = form["client_secret"].as_str().unwrap();
    let token = serde_json::from_slice::<Value>(&scripted::token().2).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!text.contains(secret) && !text.contains(&token), "{text}");
    assert!(session.take_trace().is_empty(), "taking empties it");

    // An untraced session records nothing.
    let plain = rt
        .connect(&config(form), tokens(&scratch("trace-off")))
        .await
        .unwrap();
    plain
        .execute(
            "raw_request",
            &json!({ "method": "GET", "path": "/records" }),
        )
        .await
        .unwrap();
    assert!(plain.take_trace().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_answered_5xx_is_reported_not_repeated() {
    let server = upstream(|_, _| unavailable()).await;
    let rt = runtime_for(Limits::default());
    let e = raw(&rt, &server, "no-retry-post", "POST", "/records")
        .await
        .unwrap_err();
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 503);
    assert_eq!(e["details"]["code"], "SERVICE_UNAVAILABLE");
    assert_eq!(server.hits_under("/public/api/v1/").len(), 1, "sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_answered_429_is_retried_because_it_was_not_processed() {
    let server = upstream(|_, n| match n {
        0 => (429, vec![("retry-after", "0".to_string())], b"{}".to_vec()),
        _ => scripted::json(200, json!({ "id": "r1" })),
    })
    .await;
    let rt = runtime_for(Limits::default());
    let out = raw(&rt, &server, "retry-429", "POST", "/records")
        .await
        .unwrap();
    assert_eq!(out["body"]["id"], "r1");
    assert_eq!(server.hits_under("/public/api/v1/").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_5xx_stop_after_three_retries_with_the_last_answer() {
    let server = upstream(|_, _| unavailable()).await;
    let rt = runtime_for(Limits::default());
    let e = raw(&rt, &server, "give-up", "DELETE", "/records/r1")
        .await
        .unwrap_err();
    assert_eq!(e["kind"], "upstream");
    assert_eq!(e["message"], "try again", "Ironclad's message surfaces");
    assert_eq!(server.hits_under("/public/api/v1/").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_the_deadline_is_reported_at_once() {
    let server =
        upstream(|_, _| (429, vec![("retry-after", "20".to_string())], b"{}".to_vec())).await;
    let rt = runtime_for(Limits {
        call_timeout: Duration::from_secs(5),
        ..Limits::default()
    });
    let started = Instant::now();
    let e = raw(&rt, &server, "deadline-429", "GET", "/records")
        .await
        .unwrap_err();
    assert_eq!(e["kind"], "rate_limited", "{e}");
    assert_eq!(e["details"]["retry_after_ms"], 20_000);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "not slept through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_are_not_what_ironclad_promises_are_typed_errors() {
    let server = upstream(
        |hit, _| match hit.path.trim_start_matches("/public/api/v1") {
            p if p.starts_with("/records/html") => (
                200,
                vec![("content-type", "text/html".into())],
                b"<html><body>Maintenance</body></html>".to_vec(),
            ),
            p if p.starts_with("/records/truncated") => (
                200,
                vec![("content-type", "application/json".into())],
                br#"{"id": "r1", "name": "#.to_vec(),
            ),
            p if p.starts_with("/records/bad-param") => scripted::json(
                400,
                json!({ "code": "INVALID_PARAM", "message": "name is too long", "param": "name" }),
            ),
            _ => (
                502,
                vec![("content-type", "text/html".into())],
                b"<html>Bad gateway</html>".to_vec(),
            ),
        },
    )
    .await;
    let rt = runtime_for(Limits::default());
    let session = rt
        .connect(
            &config(form_at(server.base_url())),
            tokens(&scratch("bad-answers")),
        )
        .await
        .unwrap();
    let fails = |id: &'static str| {
        let session = &session;
        async move {
            report(
                session
                    .execute("retrieve_record", &json!({ "id": id }))
                    .await
                    .unwrap_err(),
            )
        }
    };
    let e = fails("html").await;
    assert_eq!(e["kind"], "internal", "{e}");
    assert!(e["message"].as_str().unwrap().contains("not JSON"), "{e}");
    let e = fails("truncated").await;
    assert_eq!(e["kind"], "internal", "{e}");
    assert!(e["message"].as_str().unwrap().contains("not JSON"), "{e}");
    let e = fails("bad-param").await;
    assert_eq!(
        (
            &e["kind"],
            &e["field"],
            &e["details"]["code"],
            &e["message"]
        ),
        (
            &json!("upstream"),
            &json!("name"),
            &json!("INVALID_PARAM"),
            &json!("name is too long")
        )
    );
    let e = fails("gateway").await;
    assert_eq!(e["kind"], "upstream");
    assert_eq!(e["details"]["status"], 502);
    assert_eq!(e["message"], "<html>Bad gateway</html>");
}

/// A TCP server that answers each connection with the next canned bytes (the last one
/// repeats), then closes it: for resets and truncated bodies, which HTTP servers will
/// not produce on purpose.
fn raw_tcp_server(
    answers: Vec<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answers[n.min(answers.len() - 1)]);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    (url, count)
}

const DROPPED: &[u8] = b"";
const TRUNCATED: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{\"id\":";
const FINE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{\"id\":\"r\"}";

fn connections(count: &std::sync::atomic::AtomicUsize) -> usize {
    count.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_and_truncated_bodies_retry_reads_but_not_writes() {
    let rt = fixture_runtime(RuntimeOptions {
        retry: fast_retries(),
        ..Default::default()
    });
    let (url, count) = raw_tcp_server(vec![DROPPED, TRUNCATED, FINE]);
    let session = fixture_session(&rt, &[&url], "resets").await;
    let get = json!({ "url": format!("{url}/x") });
    assert_eq!(fetch_error(&session, get).await, "");
    assert_eq!(connections(&count), 3, "a read is retried until answered");

    let (url, count) = raw_tcp_server(vec![TRUNCATED, FINE]);
    let session = fixture_session(&rt, &[&url], "resets-post").await;
    let post = json!({ "method": "POST", "url": format!("{url}/x"), "body": "{}" });
    let e = fetch_error(&session, post).await;
    assert!(e.starts_with("HttpError::Connect"), "{e}");
    assert_eq!(connections(&count), 1, "a write is sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_never_connected_is_retried() {
    // A port with nothing listening: the connection is refused, nothing was sent.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let rt = fixture_runtime(RuntimeOptions {
        retry: fast_retries(),
        ..Default::default()
    });
    let session = fixture_session(&rt, &[&url], "refused").await;
    let started = Instant::now();
    let post = json!({ "method": "POST", "url": format!("{url}/x"), "body": "{}" });
    let e = fetch_error(&session, post).await;
    assert!(e.starts_with("HttpError::Connect"), "{e}");
    // Three backoffs of at least 5, 10 and 20 ms: the refused connect was retried.
    assert!(started.elapsed() >= Duration::from_millis(35));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_asks_to_reconnect_after_one_attempt() {
    let emu = start_emulator().await;
    let rt = runtime();
    let ac = client(&emu, "demo-authorization-code");
    let redirect = ac.redirect_uris[0].clone();
    let form = form(
        &emu,
        "demo-authorization-code",
        json!({ "grant_type": "authorization_code", "impersonate_user": null }),
    );
    let session = rt
        .connect(&config(form), tokens(&scratch("revoked")))
        .await
        .unwrap();
    let auth = session.authenticator().unwrap();
    let (url, _) = auth.authorization_url(&redirect).unwrap();
    let code = authorization_code(&url).await;
    auth.exchange(&code, &redirect).await.unwrap();
    let one = json!({ "max_items": 1 });
    session.execute("list_workflows", &one).await.unwrap();

    // Ironclad forgets every token (a revoked app, a reset tenant): the access token is
    // refused, the refresh is refused, and the call says what to do.
    admin(&emu, "reset").await;
    let e = report(session.execute("list_workflows", &one).await.unwrap_err());
    assert_eq!(e["kind"], "unauthenticated", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("reconnect"),
        "{message}"
    );
    let log = requests(&emu).await;
    let count = |prefix: &str| {
        log.iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with(prefix))
            .count()
    };
    assert_eq!(count("/oauth/token"), 1, "one refresh attempt");
    assert_eq!(count("/public/api/v1/"), 1, "no retry without a token");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_refused_together_share_one_renewal() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "single-flight").await;
    let (one, all) = (json!({ "max_items": 1 }), json!({}));
    session.execute("list_workflows", &one).await.unwrap();
    admin(&emu, "expire-tokens").await;
    admin(&emu, "reset-request-log").await;
    let (a, b, c) = tokio::join!(
        session.execute("list_workflows", &one),
        session.execute("list_records", &one),
        session.execute("list_workflow_schemas", &all),
    );
    for result in [a, b, c] {
        result.unwrap();
    }
    let renewals = requests(&emu)
        .await
        .iter()
        .filter(|r| r["path"] == "/oauth/token")
        .count();
    assert_eq!(renewals, 1, "one renewal for three refused calls");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_cut_off_by_the_deadline_still_finishes_and_is_kept() {
    // The token endpoint answers after the call's deadline: the call stops, the renewal
    // does not, so a rotated refresh token could never be lost half-way.
    let server = ScriptedServer::start(|hit, _| {
        if hit.path == "/oauth/token" {
            std::thread::sleep(Duration::from_millis(1_200));
            return scripted::token();
        }
        scripted::json(200, json!({ "ok": true }))
    })
    .await;
    let rt = runtime_for(Limits {
        call_timeout: Duration::from_millis(400),
        ..Limits::default()
    });
    let dir = scratch("renewal-kept");
    let session = rt
        .connect(&config(form_at(server.base_url())), tokens(&dir))
        .await
        .unwrap();
    let get = json!({ "method": "GET", "path": "/records" });
    let e = report(session.execute("raw_request", &get).await.unwrap_err());
    assert_eq!(e["kind"], "timeout", "{e}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let stored = std::fs::read_to_string(dir.join("tokens.json")).unwrap();
    assert!(stored.contains("access_token"), "the token was kept");
    // The next call uses it: no second token request.
    let out = session.execute("raw_request", &get).await.unwrap();
    assert_eq!(out["body"]["ok"], true);
    assert_eq!(server.hits_under("/oauth/token").len(), 1);
}
