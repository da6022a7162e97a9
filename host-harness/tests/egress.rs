//! The egress policy end to end: SSRF attempts through `instance_url`, `raw_request` and a
//! redirect are refused before any byte reaches the target; names are judged by the
//! addresses they resolve to; redirects are followed only within the policy and capped;
//! request count and size caps hold. Every target here is on loopback: a refused request
//! to a private or metadata address is refused before a connection is attempted.

use crate::common;

use std::collections::BTreeMap;

use common::scripted::{self, ScriptedServer};
use common::*;
use host_harness::{Runtime, RuntimeOptions};
use serde_json::{Value, json};

fn runtime_with(pinned: &[(&str, &str)]) -> Runtime {
    let mut pinned_hosts = BTreeMap::new();
    for (name, ip) in pinned {
        pinned_hosts.insert(name.to_string(), vec![ip.parse().unwrap()]);
    }
    Runtime::load(
        &component_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            pinned_hosts,
            ..host_harness::ironclad::options()
        },
    )
    .unwrap()
}

/// A client-credentials form aimed at `instance_url`, with the emulator's demo client.
fn form_at(emu: &host_harness::emulator::RunningEmulator, instance_url: &str) -> Value {
    form(
        emu,
        "demo-client-credentials",
        json!({ "instance_url": instance_url }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_instance_url_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let rt = runtime();
    let dir = scratch("ssrf-instance-url");
    for url in [
        "https://169.254.169.254",
        "https://10.0.0.8",
        "https://192.168.0.1:8443",
        "https://[::ffff:169.254.169.254]",
        "https://[fd00:ec2::254]",
        "https://100.100.100.200",
    ] {
        let Err(e) = rt.connect(&config(form_at(&emu, url)), tokens(&dir)).await else {
            panic!("{url} was accepted")
        };
        let e = report(e);
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_config"), Some("instance_url")),
            "{url}: {e}"
        );
    }
    assert!(requests(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_to_a_private_address_is_refused_after_resolution() {
    // `ironclad.attacker.test` is pinned to loopback, where the emulator listens: the policy
    // allows the name (it is https and the connection's own origin), the resolver refuses
    // the address, so the emulator never hears from the host.
    let emu = start_emulator().await;
    let rt = runtime_with(&[("ironclad.attacker.test", "127.0.0.1")]);
    let dir = scratch("ssrf-dns");
    let port = emu.local_addr().port();
    let url = format!("https://ironclad.attacker.test:{port}");
    let session = rt
        .connect(&config(form_at(&emu, &url)), tokens(&dir))
        .await
        .expect("the name passes the URL checks");
    let e = report(session.test().await.unwrap_err());
    assert_eq!(e["kind"], "invalid_config", "{e}");
    assert_eq!(e["field"], "instance_url");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("resolves to 127.0.0.1, a loopback address"),
        "{message}"
    );
    assert!(requests(&emu).await.is_empty(), "nothing reached loopback");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_raw_request_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "ssrf-raw").await;
    for path in [
        "http://169.254.169.254/latest/meta-data",
        "//169.254.169.254/latest/meta-data",
        "https://10.0.0.1/",
        "/../../oauth/token",
        "/%2e%2e/%2e%2e/oauth/token",
        "/workflows/..%2f..%2f..%2foauth",
        "@169.254.169.254/",
    ] {
        let e = session
            .execute("raw_request", &json!({ "method": "GET", "path": path }))
            .await
            .map(|v| panic!("{path} was sent: {v}"))
            .unwrap_err();
        let e = report(e);
        assert_eq!(e["kind"], "invalid_input", "{path}: {e}");
        assert_eq!(e["field"], "/path", "{path}");
    }
    assert!(api_calls(&emu).await.is_empty());
    emu.shutdown().await;
}

/// An Ironclad stand-in that issues tokens and answers `/public/api/v1/{hop}` with the
/// redirect `route` picks.
async fn redirecting_upstream(
    route: impl Fn(&str) -> scripted::Answer + Send + Sync + 'static,
) -> ScriptedServer {
    ScriptedServer::start(move |hit, _| {
        if hit.path == "/oauth/token" {
            return scripted::token();
        }
        let hop = hit.path.trim_start_matches("/public/api/v1/");
        route(hop)
    })
    .await
}

fn no_such_hop() -> scripted::Answer {
    scripted::json(
        404,
        json!({ "code": "NOT_FOUND", "message": "no such hop" }),
    )
}

/// A session of the connector whose `instance_url` is `url`.
async fn session_at<'r>(
    rt: &'r Runtime,
    emu: &host_harness::emulator::RunningEmulator,
    url: &str,
    name: &str,
) -> host_harness::Session<'r> {
    rt.connect(&config(form_at(emu, url)), tokens(&scratch(name)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_through_a_redirect_is_refused_at_the_hop() {
    let elsewhere =
        ScriptedServer::start(|_, _| scripted::json(200, json!({ "leaked": true }))).await;
    let elsewhere_url = elsewhere.base_url().to_string();
    let upstream = redirecting_upstream(move |hop| match hop {
        "to-metadata" => scripted::redirect(302, "https://169.254.169.254/latest/meta-data".into()),
        "to-private" => scripted::redirect(307, "https://10.0.0.1/admin".into()),
        "to-other-port" => scripted::redirect(301, format!("{elsewhere_url}/steal")),
        "to-file" => scripted::redirect(302, "file:///etc/passwd".into()),
        _ => no_such_hop(),
    })
    .await;
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_at(&rt, &emu, upstream.base_url(), "ssrf-redirect").await;
    for (hop, target) in [
        ("to-metadata", "169.254.169.254"),
        ("to-private", "10.0.0.1"),
        ("to-other-port", "127.0.0.1"),
        ("to-file", "file:"),
    ] {
        let e = session
            .execute(
                "raw_request",
                &json!({ "method": "GET", "path": format!("/{hop}") }),
            )
            .await
            .unwrap_err();
        let e = report(e);
        let message = e["message"].as_str().unwrap();
        assert_eq!(e["kind"], "invalid_config", "{hop}: {e}");
        assert!(
            message.contains("redirect to") && message.contains(target),
            "{hop}: {message}"
        );
    }
    assert!(
        elsewhere.hits().is_empty(),
        "the redirect target was never contacted"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_within_the_origin_are_followed_with_credentials_and_capped() {
    let upstream = redirecting_upstream(|hop| match hop {
        "moved" => scripted::redirect(308, "/public/api/v1/landed".into()),
        "landed" => scripted::json(200, json!({ "landed": true })),
        "loop" => scripted::redirect(302, "/public/api/v1/loop".into()),
        _ => no_such_hop(),
    })
    .await;
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_at(&rt, &emu, upstream.base_url(), "redirect-follow").await;
    let out = session
        .execute(
            "raw_request",
            &json!({ "method": "POST", "path": "/moved", "body": { "n": 1 } }),
        )
        .await
        .unwrap();
    assert_eq!(out["body"], json!({ "landed": true }));
    let landed = upstream.hits_under("/public/api/v1/landed");
    assert_eq!(landed.len(), 1);
    assert_eq!(landed[0].method, "POST", "308 keeps the method");
    assert_eq!(landed[0].body, br#"{"n":1}"#, "and the body");
    assert!(
        landed[0].authorization.is_some(),
        "same origin keeps the token"
    );

    let e = report(
        session
            .execute("raw_request", &json!({ "method": "GET", "path": "/loop" }))
            .await
            .unwrap_err(),
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("more than 5 redirects"),
        "{e}"
    );
    assert_eq!(upstream.hits_under("/public/api/v1/loop").len(), 6);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_count_and_size_caps_hold() {
    let big = host_harness::http_import::MAX_RESPONSE_BYTES as usize + 1;
    let upstream = ScriptedServer::start(move |hit, _| match hit.path.as_str() {
        "/huge" => (200, Vec::new(), vec![b'x'; big]),
        _ => scripted::json(200, json!({ "ok": true })),
    })
    .await;
    let origin = upstream.base_url().to_string();
    // The fixture guest sends what it is told, so the caps can be hit directly.
    let rt = fixture_runtime(RuntimeOptions::default());
    let session = fixture_session(&rt, &[&origin], "caps").await;

    let cap = host_harness::http_import::MAX_REQUESTS_PER_CALL as u64;
    let out = session
        .execute(
            "fetch_many",
            &json!({ "url": format!("{origin}/ping"), "count": cap + 1 }),
        )
        .await
        .unwrap();
    assert_eq!(out["answered"], cap);
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("more than 2000 requests"),
        "{out}"
    );
    assert_eq!(upstream.hits().len() as u64, cap);
    // The cap is per call: the next call may send again.
    let ping = json!({ "url": format!("{origin}/ping") });
    assert_eq!(fetch_error(&session, ping).await, "");

    let huge = json!({ "url": format!("{origin}/huge") });
    let e = fetch_error(&session, huge).await;
    assert!(e.contains("TooLarge(67108864)"), "{e}");

    let too_big = host_harness::http_import::MAX_REQUEST_BYTES + 1;
    let before = upstream.hits().len();
    let upload =
        json!({ "method": "POST", "url": format!("{origin}/upload"), "body_size": too_big });
    let e = fetch_error(&session, upload).await;
    assert!(e.contains("exceeds the host's"), "{e}");
    assert_eq!(upstream.hits().len(), before, "refused before sending");
}

/// A loopback TCP listener that counts the connections it accepts (and answers none).
struct CountingListener {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingListener {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(socket);
            }
        });
        CountingListener {
            port,
            accepted,
            task,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every spelling of loopback, private and metadata addresses we know, as the connection's
/// `instance_url`, without `--allow-loopback`: refused before any request, and not one TCP
/// connection reaches the loopback listener the loopback spellings point at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_an_inside_address_opens_a_connection() {
    let listener = CountingListener::start().await;
    let strict = Runtime::load(
        &component_path(),
        RuntimeOptions {
            cache_dir: Some(cache_dir()),
            ..host_harness::ironclad::options()
        },
    )
    .unwrap();
    let dir = scratch("ssrf-spellings");
    let spellings = spellings(listener.port);
    assert!(spellings.len() > 60, "the table is read");
    for url in &spellings {
        let form = json!({
            "api_type": "clm_public", "region": "custom", "instance_url": url,
            "grant_type": "client_credentials", "client_id": "c79ff93b-3bc8-42a7-99a4-bd34fd407e2a",
            "client_secret": "spelling-test-secret-value", "impersonate_user": "a@example.com",
        });
        match strict.connect(&config(form), tokens(&dir)).await {
            Err(e) => {
                let e = report(e);
                assert_eq!(e["kind"], "invalid_config", "{url}: {e}");
            }
            Ok(session) => {
                let e = report(session.test().await.expect_err(url));
                panic!("{url} was accepted as a connection (its test said {e})");
            }
        }
    }
    // The fixture guest checks nothing itself: the host alone refuses every spelling, as the
    // origin its form names and as the URL it fetches.
    let fixture = Runtime::load(
        &fixture_guest_path(),
        RuntimeOptions {
            cache_dir: Some(cache_dir()),
            egress: common::fixture_egress(),
            ..RuntimeOptions::default()
        },
    )
    .unwrap();
    for url in &spellings {
        let form = json!({ "origins": [url], "origin": url });
        let refused = fixture.connect(&config(form), tokens(&dir)).await;
        assert!(refused.is_err(), "{url}: the fixture connected");
        // A connection to a public origin cannot fetch the spelling either.
        let session = fixture
            .connect(
                &config(json!({ "origins": ["https://api.example.com"], "origin": "https://api.example.com" })),
                tokens(&dir),
            )
            .await
            .unwrap();
        let e = fetch_error(&session, json!({ "url": url })).await;
        assert!(e.contains("Denied"), "{url}: {e}");
    }
    assert_eq!(listener.accepted(), 0, "no connection was opened");
}

/// A connector that asks the host to send its client secret, or its requests, anywhere the
/// package does not declare is refused before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_cannot_choose_where_the_secret_goes() {
    let declared = CountingListener::start().await;
    let foreign = CountingListener::start().await;
    let rt = fixture_runtime(RuntimeOptions::default());
    let dir = scratch("foreign-token-url");
    let origin = format!("http://127.0.0.1:{}", declared.port);
    let elsewhere = format!("http://127.0.0.1:{}", foreign.port);
    let base = json!({ "origin": origin, "origins": [origin], "client_secret": "fixture-secret-do-not-send" });
    for (patch, what) in [
        (
            json!({ "token_url": format!("{elsewhere}/oauth/token") }),
            "the token endpoint",
        ),
        (
            json!({ "token_url": "https://attacker.example/token" }),
            "the token endpoint",
        ),
        (
            json!({ "token_url": format!("{origin}/oauth/token"), "authorize_url": format!("{elsewhere}/authorize") }),
            "the authorization endpoint",
        ),
        (
            json!({ "origins": [origin, elsewhere] }),
            "the connector's plan",
        ),
    ] {
        let mut form = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            form[k] = v.clone();
        }
        let Err(e) = rt.connect(&config(form), tokens(&dir)).await else {
            panic!("{patch} was accepted");
        };
        let e = report(e);
        assert_eq!(e["kind"], "invalid_config", "{e}");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains(what) && message.contains("does not allow"),
            "{message}"
        );
        assert!(!message.contains("fixture-secret"), "{message}");
    }
    // Within the declaration, the same plan connects.
    let ok = json!({ "origin": origin, "origins": [origin], "client_secret": "fixture-secret-do-not-send",
                     "token_url": format!("{origin}/oauth/token") });
    rt.connect(&config(ok), tokens(&dir)).await.unwrap();
    // An operator's narrowing wins over the package's declaration.
    let narrowed = Runtime::load(
        &fixture_guest_path(),
        RuntimeOptions {
            allow_loopback: true,
            cache_dir: Some(cache_dir()),
            egress: host_harness::egress::Egress {
                operator_origins: Some(vec!["https://api.example.com".into()]),
                ..common::fixture_egress()
            },
            ..RuntimeOptions::default()
        },
    )
    .unwrap();
    let form = json!({ "origin": origin, "origins": [origin] });
    assert!(narrowed.connect(&config(form), tokens(&dir)).await.is_err());
    assert_eq!((declared.accepted(), foreign.accepted()), (0, 0));
}
