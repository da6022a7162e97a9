//! The sandbox around every call, tested with a guest that misbehaves on request
//! (`host-harness/fixture-guest`): a guest that loops forever or blocks is stopped by the
//! deadline, one that asks for too much memory is refused, a trap is a typed error, WASI
//! grants nothing, and after each of these the next call on the same runtime works.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_harness::sandbox::Limits;
use host_harness::{Instantiation, Runtime, RuntimeOptions, Session};
use serde_json::json;

fn sandboxed(limits: Limits) -> Runtime {
    fixture_runtime(RuntimeOptions {
        limits,
        ..Default::default()
    })
}

fn quick(call_timeout_ms: u64) -> Limits {
    Limits {
        call_timeout: Duration::from_millis(call_timeout_ms),
        ..Limits::default()
    }
}

/// The next call on the same runtime works.
async fn still_works(session: &Session<'_>) {
    let out = session
        .execute("echo", &json!({ "still": "alive" }))
        .await
        .expect("the next call works");
    assert_eq!(out, json!({ "still": "alive" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_loops_forever_is_stopped_at_the_deadline() {
    let rt = sandboxed(quick(800));
    let session = fixture_session(&rt, &[], "spin").await;
    let started = Instant::now();
    let e = refused(&session, "spin", json!({})).await;
    let took = started.elapsed();
    assert_eq!(e["kind"], "timeout", "{e}");
    assert_eq!(e["details"]["deadline_ms"], 800);
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "stopped after {took:?}"
    );
    still_works(&session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_blocked_in_a_host_wait_is_stopped_at_the_deadline() {
    let rt = sandboxed(quick(500));
    let session = fixture_session(&rt, &[], "sleep").await;
    let started = Instant::now();
    let e = refused(&session, "sleep", json!({ "ms": 60_000 })).await;
    assert_eq!(e["kind"], "timeout", "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A short wait within the deadline completes.
    let out = session
        .execute("sleep", &json!({ "ms": 20 }))
        .await
        .unwrap();
    assert_eq!(out["slept_ms"], 20);
}

#[tokio::test(flavor = "current_thread")]
async fn a_spinning_guest_does_not_starve_other_calls_on_its_thread() {
    let rt = sandboxed(quick(1_500));
    let session = fixture_session(&rt, &[], "starve").await;
    let spin = async {
        let e = refused(&session, "spin", json!({})).await;
        (e, Instant::now())
    };
    let echo = async {
        // Start once the spinning call is running.
        tokio::time::sleep(Duration::from_millis(200)).await;
        session.execute("echo", &json!({ "n": 1 })).await.unwrap();
        Instant::now()
    };
    let ((e, spin_done), echo_done) = tokio::join!(spin, echo);
    assert_eq!(e["kind"], "timeout");
    assert!(
        echo_done < spin_done,
        "the echo finished while the spin was still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_asking_for_too_much_memory_is_refused() {
    let rt = sandboxed(Limits {
        memory_bytes: 64 << 20,
        ..Limits::default()
    });
    let session = fixture_session(&rt, &[], "grow").await;
    let e = refused(&session, "grow", json!({})).await;
    assert_eq!(e["kind"], "limit_exceeded", "{e}");
    assert_eq!(e["details"]["limit"], "memory");
    assert_eq!(e["details"]["allowed"], 64 << 20);
    assert!(e["details"]["requested"].as_u64().unwrap() > 64 << 20);
    assert!(
        e["message"].as_str().unwrap().contains("64 MiB"),
        "{}",
        e["message"]
    );
    still_works(&session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_is_a_typed_error_and_the_next_call_works() {
    let rt = sandboxed(Limits::default());
    let session = fixture_session(&rt, &[], "trap").await;
    for _ in 0..2 {
        let e = refused(&session, "trap", json!({})).await;
        assert_eq!(e["kind"], "internal", "{e}");
        assert!(
            e["details"]["trap"]
                .as_str()
                .unwrap()
                .contains("unreachable"),
            "{e}"
        );
        still_works(&session).await;
    }
}

/// Instances made ahead of their calls (the default) or on the call's path: either way a
/// call gets an instance no other call has run in, also after a trap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_gets_an_instance_of_its_own() {
    for instantiation in [Instantiation::Ahead, Instantiation::OnCall] {
        let rt = fixture_runtime(RuntimeOptions {
            instantiation,
            ..Default::default()
        });
        let session = fixture_session(&rt, &[], "count").await;
        for _ in 0..3 {
            let out = session.execute("count", &json!({})).await.unwrap();
            assert_eq!(out, json!({ "calls": 1 }), "{instantiation:?}");
            rt.settled().await;
            let out = session.execute("count", &json!({})).await.unwrap();
            assert_eq!(
                out,
                json!({ "calls": 1 }),
                "{instantiation:?}, back to back"
            );
            refused(&session, "trap", json!({})).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_instances_allowed_fails_instantiation_as_a_limit() {
    let rt = sandboxed(Limits {
        instances: 1,
        ..Limits::default()
    });
    let Err(e) = rt.describe().await else {
        panic!("instantiation fits in one instance")
    };
    let text = format!("{e:#}");
    assert!(
        text.contains("limit_exceeded") && text.contains("instance"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_grants_no_environment_files_sockets_or_stdio() {
    let rt = sandboxed(Limits::default());
    let session = fixture_session(&rt, &[], "probe").await;
    let out = session.execute("probe", &json!({})).await.unwrap();
    assert_eq!(
        out,
        json!({
            "env": 0, "args": 0, "root_dir": false, "cwd_dir": false,
            "tcp_connect": false, "dns_lookup": false,
        })
    );
    // What the guest writes to stdout/stderr goes nowhere: the CLI prints only its JSON.
    let dir = scratch("probe-cli");
    let cfg = write_json(&dir, "config.json", &json!({ "origins": [] }));
    let run = cli_with_component(
        &dir,
        &fixture_guest_path(),
        &["action", "probe", "--config", &cfg],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for marker in ["FIXTURE-GUEST-STDOUT-MARKER", "FIXTURE-GUEST-STDERR-MARKER"] {
        assert!(!run.stdout.contains(marker) && !run.stderr.contains(marker));
    }
    assert_eq!(run.json()["tcp_connect"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_a_deadline_as_a_timeout_and_exits_1() {
    let dir = scratch("spin-cli");
    let cfg = write_json(&dir, "config.json", &json!({ "origins": [] }));
    let run = cli_with_component(
        &dir,
        &fixture_guest_path(),
        &["--call-timeout", "0.5", "action", "spin", "--config", &cfg],
    )
    .await;
    assert_eq!(run.error_kind(), "timeout");
    let run = cli_with_component(
        &dir,
        &fixture_guest_path(),
        &["--call-timeout", "0", "action", "echo", "--config", &cfg],
    )
    .await;
    assert_eq!(run.code, 2, "a zero deadline is a usage error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ironclad_connector_runs_within_the_default_limits() {
    // The defaults must fit the real connector: describe and a full session work.
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "defaults").await;
    let out = session
        .execute("list_workflows", &json!({ "max_items": 3 }))
        .await
        .unwrap();
    assert_eq!(out["items"].as_array().unwrap().len(), 3);
    emu.shutdown().await;
}
