//! Polling triggers through the component: explicit cursors, stable event ids, exactly-once
//! delivery with the host's state, resumption, and clear errors.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use host_harness::triggers::PollState;
use serde_json::{Value, json};

fn ids(events: &[host_harness::triggers::Event]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_lists_each_trigger_with_modes_scopes_and_schemas() {
    let manifest = runtime().describe().await.unwrap();
    let triggers = manifest["triggers"].as_array().unwrap();
    let find = |key: &str| triggers.iter().find(|t| t["key"] == key).unwrap().clone();
    assert_eq!(
        find("workflow_launched")["modes"],
        json!(["poll", "webhook"])
    );
    assert_eq!(find("record_created")["modes"], json!(["poll"]));
    assert_eq!(find("webhook_event")["modes"], json!(["webhook"]));
    let any = find("webhook_event");
    let events = &any["input_schema"]["properties"]["events"]["items"]["enum"];
    assert_eq!(
        events.as_array().unwrap().len(),
        36,
        "every documented event type"
    );
    assert!(events.as_array().unwrap().contains(&json!("*")));
    assert_eq!(any["input_schema"]["required"], json!(["events"]));
    assert!(
        find("workflow_approval_changed")["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("public.workflows.readApprovals"))
    );
    for t in triggers {
        assert_eq!(t["output_schema"]["type"], "object", "{}", t["key"]);
        assert!(t["input_schema"]["properties"].is_object(), "{}", t["key"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_workflow_is_polled_exactly_once() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-launch").await;
    let input = json!({});
    let mut state = PollState::default();
    // A new trigger starts from now: the seeded history is not replayed.
    let first = session
        .poll_with("workflow_launched", &input, &mut state)
        .await
        .unwrap();
    assert!(first.events.is_empty(), "{:?}", ids(&first.events));
    let launched = launch_sample(&session, "Polled Corp").await;
    let id = launched["id"].as_str().unwrap();

    let second = session
        .poll_with("workflow_launched", &input, &mut state)
        .await
        .unwrap();
    assert_eq!(ids(&second.events), vec![format!("workflow:{id}:launched")]);
    let payload = &second.events[0].payload;
    assert_eq!(payload["event"], "workflow_launched");
    assert_eq!(payload["workflow"]["id"], id);
    assert_eq!(payload["occurred_at"], launched["created"]);
    assert!(!second.has_more);

    let third = session
        .poll_with("workflow_launched", &input, &mut state)
        .await
        .unwrap();
    assert!(
        third.events.is_empty(),
        "no duplicate: {:?}",
        ids(&third.events)
    );
    // The updated trigger, with its own cursor, sees the same launch as a change.
    let since = json!({ "since": first.cursor.as_ref().unwrap()["watermark"] });
    let updated = session
        .poll("workflow_updated", &since, None)
        .await
        .unwrap();
    assert_eq!(updated.events.len(), 1);
    assert_eq!(updated.events[0].payload["workflow"]["id"], id);
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_read_only_changed_items_with_full_pages() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-requests").await;
    admin(&emu, "reset-request-log").await;
    let since = json!({ "since": "2020-01-01T00:00:00Z" });
    let all = session
        .poll("workflow_updated", &since, None)
        .await
        .unwrap();
    assert_eq!(all.events.len(), 45, "every seeded workflow, each once");
    let calls = api_calls(&emu).await;
    assert_eq!(calls.len(), 1, "45 changes fit one page of 100");
    let query = calls[0]["query"].as_str().unwrap_or_default();
    for part in [
        "pageSize=100",
        "lastUpdated=2020-01-01T00%3A00%3A00.000Z",
        "status=active%2Cpaused%2Ccompleted%2Ccancelled",
    ] {
        assert!(query.contains(part), "{part} in {query}");
    }
    // Oldest first, and the cursor sits on the newest.
    let stamps: Vec<&str> = all
        .events
        .iter()
        .map(|e| e.payload["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(stamps, sorted);
    assert_eq!(
        all.cursor.as_ref().unwrap()["watermark"],
        json!(stamps.last().unwrap())
    );

    // Entities have no lastUpdated filter: newest first, and reading stops at the boundary.
    admin(&emu, "reset-request-log").await;
    let recent = json!({ "since": "2026-03-01T00:00:00Z" });
    let entities = session.poll("entity_updated", &recent, None).await.unwrap();
    assert!(!entities.events.is_empty());
    let calls = api_calls(&emu).await;
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]["query"]
            .as_str()
            .unwrap()
            .contains("sortField=lastUpdated&sortDirection=DESC")
    );
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn has_more_polls_cover_everything_once() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-resume").await;
    let input = json!({ "since": "2020-01-01T00:00:00Z" });
    let mut state = PollState::default();
    let mut seen = Vec::new();
    let mut polls = 0;
    loop {
        let polled = session
            .poll_with("workflow_approval_changed", &input, &mut state)
            .await
            .unwrap();
        polls += 1;
        seen.extend(ids(&polled.events));
        if !polled.has_more {
            break;
        }
        assert!(polls < 20, "has_more must end");
    }
    assert!(
        polls > 1,
        "the approvals trigger handles 20 workflows per poll"
    );
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates across polls");

    // The oracle: every active workflow's approvals, read with plain actions.
    let workflows = session
        .execute(
            "list_workflows",
            &json!({ "status": ["active"], "max_items": 1000 }),
        )
        .await
        .unwrap();
    let mut expected = BTreeSet::new();
    for w in workflows["items"].as_array().unwrap() {
        let id = w["id"].as_str().unwrap();
        let approvals = session
            .execute("list_workflow_approvals", &json!({ "id": id }))
            .await
            .unwrap();
        for group in approvals["approvalGroups"].as_array().unwrap() {
            for r in group["reviewers"].as_array().unwrap() {
                let status = r["status"].as_str().unwrap();
                if status != "pending" || group["status"] == "active" {
                    expected.insert(format!(
                        "workflow:{id}:approval:{}:{status}",
                        r["role"].as_str().unwrap()
                    ));
                }
            }
        }
    }
    let got: BTreeSet<String> = seen.into_iter().collect();
    assert_eq!(got, expected);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_interrupted_between_pages_resumes_without_loss_or_duplicates() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-interrupted").await;
    let input = json!({ "since": "2020-01-01T00:00:00Z" });
    // The reference: one uninterrupted run.
    let mut clean = PollState::default();
    let mut expected = Vec::new();
    loop {
        let p = session
            .poll_with("workflow_approval_changed", &input, &mut clean)
            .await
            .unwrap();
        expected.extend(ids(&p.events));
        if !p.has_more {
            break;
        }
    }

    // The same, with Ironclad refusing (longer than a call may wait) the 6th request of the
    // first poll: after the workflow list and some approvals were read.
    admin_with(
        &emu,
        "throttle",
        json!({ "after": 5, "count": 1, "retry_after_seconds": 120 }),
    )
    .await;
    let mut state = PollState::default();
    let failed = session
        .poll_with("workflow_approval_changed", &input, &mut state)
        .await;
    assert_eq!(report(failed.unwrap_err())["kind"], "rate_limited");
    assert_eq!(
        state,
        PollState::default(),
        "a failed poll changes no state"
    );
    let mut got = Vec::new();
    loop {
        let p = session
            .poll_with("workflow_approval_changed", &input, &mut state)
            .await
            .unwrap();
        got.extend(ids(&p.events));
        if !p.has_more {
            break;
        }
    }
    assert_eq!(
        got, expected,
        "same events, same order, none lost or repeated"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_created_tells_new_records_from_changed_ones() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-records").await;
    let mut created_state = PollState::default();
    let mut updated_state = PollState::default();
    for (trigger, state) in [
        ("record_created", &mut created_state),
        ("record_updated", &mut updated_state),
    ] {
        let first = session.poll_with(trigger, &json!({}), state).await.unwrap();
        assert!(
            first.events.is_empty(),
            "{trigger}: {:?}",
            ids(&first.events)
        );
    }
    let existing = session
        .execute("list_records", &json!({ "max_items": 1 }))
        .await
        .unwrap();
    let existing_id = existing["items"][0]["id"].as_str().unwrap().to_string();
    session
        .execute(
            "update_record_metadata",
            &json!({ "id": existing_id, "body": { "name": "Renamed by a test" } }),
        )
        .await
        .unwrap();
    let created = session
        .execute(
            "create_record",
            &json!({ "body": {
            "type": existing["items"][0]["type"], "name": "Polled NDA", "properties": {}
        } }),
        )
        .await
        .unwrap();

    let new = session
        .poll_with("record_created", &json!({}), &mut created_state)
        .await
        .unwrap();
    assert_eq!(
        ids(&new.events),
        vec![format!(
            "record:{}:created",
            created["id"].as_str().unwrap()
        )]
    );
    assert_eq!(new.events[0].payload["record"]["name"], "Polled NDA");
    let changed = session
        .poll_with("record_updated", &json!({}), &mut updated_state)
        .await
        .unwrap();
    let changed_records: BTreeSet<&str> = changed
        .events
        .iter()
        .map(|e| e.payload["record"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        changed_records,
        BTreeSet::from([existing_id.as_str(), created["id"].as_str().unwrap()])
    );
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_poll_commits_state_only_after_a_successful_poll() {
    let emu = start_emulator().await;
    let dir = scratch("cli-poll");
    let cfg = write_json(
        &dir,
        "config.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let input = write_json(
        &dir,
        "input.json",
        &json!({ "since": "2020-01-01T00:00:00Z" }),
    );
    let state = dir.join("state.json");
    let state_arg = state.to_string_lossy().into_owned();
    let args = [
        "poll",
        "workflow_completed",
        "--config",
        &cfg,
        "--input",
        &input,
        "--state",
        &state_arg,
    ];

    // Ironclad asks us to wait longer than a call may: the poll fails and commits nothing.
    admin_with(
        &emu,
        "throttle",
        json!({ "count": 1, "retry_after_seconds": 120 }),
    )
    .await;
    let failed = cli(&dir, &args).await;
    assert_eq!(failed.error_kind(), "rate_limited");
    assert!(!state.exists(), "no state is committed by a failed poll");

    let first = cli(&dir, &args).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let events = first.json()["events"].as_array().unwrap().clone();
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e["payload"]["workflow"]["status"] == "completed")
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["cursor"], first.json()["cursor"]);
    assert_eq!(saved["seen"].as_array().unwrap().len(), events.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let again = cli(&dir, &args).await;
    assert_eq!(
        again.json()["events"],
        json!([]),
        "running it twice returns no duplicate"
    );
    emu.shutdown().await;
}

/// `connector-harness poll TRIGGER --state ...` from 2020 on, in a scratch directory.
struct PollCli {
    dir: std::path::PathBuf,
    trigger: &'static str,
    cfg: String,
    input: String,
}

impl PollCli {
    fn new(
        emu: &host_harness::emulator::RunningEmulator,
        name: &str,
        trigger: &'static str,
    ) -> Self {
        let dir = scratch(name);
        let cfg = write_json(
            &dir,
            "config.json",
            &form(emu, "demo-client-credentials", json!({})),
        );
        let input = write_json(
            &dir,
            "input.json",
            &json!({ "since": "2020-01-01T00:00:00Z" }),
        );
        PollCli {
            dir,
            trigger,
            cfg,
            input,
        }
    }

    /// A state file in the scratch directory.
    fn state(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn args(&self, state: &str) -> Vec<String> {
        [
            "poll",
            self.trigger,
            "--config",
            &self.cfg,
            "--input",
            &self.input,
            "--state",
            state,
        ]
        .map(String::from)
        .to_vec()
    }

    /// `copies` processes polling `state` at once, until a round prints nothing: the event ids
    /// printed, and the most any one poll printed (bytes).
    async fn drain(&self, state: &str, copies: usize) -> (Vec<String>, usize) {
        let (mut ids, mut largest) = (Vec::new(), 0);
        loop {
            let runs = cli_at_once(&self.dir, &vec![self.args(state); copies]).await;
            let before = ids.len();
            for run in &runs {
                assert_eq!(run.code, 0, "{}", run.stderr);
                largest = largest.max(run.stdout.len());
                let events = run.json()["events"].as_array().unwrap().clone();
                ids.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_string()));
            }
            if ids.len() == before {
                ids.sort();
                return (ids, largest);
            }
        }
    }
}

/// Issue #23: `poll --state` processes sharing one state file take turns under its lock, so
/// together they print each event once, exactly the events one process alone would.
/// Three rounds, since a race shows only sometimes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_poll_processes_print_each_event_once() {
    let emu = start_emulator().await;
    let cli = PollCli::new(&emu, "cli-poll-concurrent", "workflow_completed");
    let (expected, _) = cli.drain(&cli.state("alone.json"), 1).await;
    assert!(!expected.is_empty());
    for round in 0..3 {
        let (printed, _) = cli
            .drain(&cli.state(&format!("shared-{round}.json")), 3)
            .await;
        assert_eq!(printed, expected, "round {round}: each event once");
    }
    emu.shutdown().await;
}

/// Issue #18: delivery is at least once. A `poll --state` process killed after it began
/// printing its events and before it committed them loses nothing: the state file is
/// untouched (and its lock free), so the next poll prints the same events again, and
/// polling on delivers exactly what an uninterrupted run does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_killed_between_printing_and_committing_loses_nothing() {
    use tokio::io::AsyncReadExt;
    let emu = start_emulator().await;
    admin_with(&emu, "bulk-records", json!({ "count": 250 })).await;
    let cli = PollCli::new(&emu, "cli-poll-killed", "record_updated");
    let (expected, largest) = cli.drain(&cli.state("alone.json"), 1).await;
    // The premise: one poll prints more than a pipe holds, so a reader that stops reading
    // holds the process inside its printing.
    assert!(largest > 128 << 10, "a poll printed only {largest} bytes");

    let state = cli.state("killed.json");
    let mut child = tokio::process::Command::from(harness(&cli.dir))
        .args(cli.args(&state))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stdout.read_exact(&mut first),
    )
    .await
    .expect("the poll starts printing")
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the poll finished: its output fit in the pipe"
    );
    child.kill().await.unwrap();
    assert!(
        !std::path::Path::new(&state).exists(),
        "nothing was committed"
    );

    let (delivered, _) = cli.drain(&state, 1).await;
    assert_eq!(delivered, expected, "every event, once, after the kill");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_trigger_input_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "poll-bad").await;
    admin(&emu, "reset-request-log").await;
    let cases: [(&str, Value, Option<Value>, &str, &str); 6] = [
        ("nope", json!({}), None, "invalid_input", "trigger"),
        (
            "workflow_updated",
            json!({ "since": "last tuesday" }),
            None,
            "invalid_input",
            "/since",
        ),
        (
            "workflow_updated",
            json!({ "status": ["open"] }),
            None,
            "invalid_input",
            "/status/0",
        ),
        (
            "record_updated",
            json!({ "types": ["a,b"] }),
            None,
            "invalid_input",
            "/types/0",
        ),
        (
            "workflow_updated",
            json!({}),
            Some(json!({ "watermark": "soon" })),
            "invalid_input",
            "cursor",
        ),
        (
            "webhook_event",
            json!({ "events": ["*"] }),
            None,
            "unsupported",
            "",
        ),
    ];
    for (trigger, input, cursor, kind, field) in cases {
        let err = report(
            session
                .poll(trigger, &input, cursor.as_ref())
                .await
                .unwrap_err(),
        );
        assert_eq!(err["kind"], kind, "{trigger} {input}: {err}");
        if !field.is_empty() {
            assert_eq!(err["field"], field, "{trigger} {input}: {err}");
        }
    }
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");
    emu.shutdown().await;
}
