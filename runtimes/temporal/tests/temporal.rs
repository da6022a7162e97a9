//! The connector on Temporal, end to end: Temporal's development server, the emulator, and
//! `connector-temporal` worker processes. Actions run as activities with connector errors
//! mapped onto Temporal's retries; a polling trigger delivers every event downstream once
//! though a worker is killed in the middle of a poll; no workflow history holds a secret.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use base64::Engine;
use connector_temporal::activities::ActionRequest;
use connector_temporal::downstream::DeliveredEvent;
use connector_temporal::workflows::{
    ActionWorkflow, TriggerStatus, TriggerWorkflow, trigger_workflow_id,
};
use futures::StreamExt;
use serde_json::{Value, json};
use support::*;
use temporalio_client::{
    Client, WorkflowExecutionInfo, WorkflowFetchHistoryOptions, WorkflowQueryOptions,
    WorkflowStartOptions, WorkflowTerminateOptions,
};
use temporalio_common::UntypedWorkflow;
use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{Worker, WorkerOptions, WorkflowContext, WorkflowResult};

/// Everything a test needs running: the server, the emulator, a package and connections in
/// the test's directory, and the compile cache warmed.
struct Stage {
    dir: std::path::PathBuf,
    server: DevServer,
    emu: ironclad_emulator::RunningEmulator,
}

impl Stage {
    async fn new(name: &str) -> Option<Stage> {
        let cli = temporal_cli()?;
        let dir = scratch(name);
        let server = DevServer::start(&cli, &dir).await;
        let emu = ironclad_emulator::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("the emulator starts");
        write_package(&dir);
        write_connections(&dir, &emu);
        warm_cache(&dir.join("package"), &dir.join("cache"));
        Some(Stage { dir, server, emu })
    }

    fn action(
        &self,
        task_queue: &str,
        connection: &str,
        action: &str,
        input: Value,
    ) -> std::process::Command {
        let mut cmd = connector_temporal(&self.server, task_queue);
        cmd.args(["run-action", "--connection", connection, "--action", action])
            .args(["--input", &input.to_string()]);
        cmd
    }

    /// No workflow history of the namespace (every run of every workflow) holds the
    /// connection's client secret or a token the emulator issued, as text or in base64.
    async fn assert_no_secret_in_any_history(&self) {
        let client = self.server.client().await;
        let mut secrets = vec![
            form(&self.emu)["client_secret"]
                .as_str()
                .unwrap()
                .to_string(),
        ];
        secrets.extend(issued_tokens(&self.dir));
        assert!(
            secrets.len() >= 2,
            "the workers obtained a token: {secrets:?}"
        );
        let encodings = |s: &str| {
            [
                s.to_string(),
                base64::engine::general_purpose::STANDARD.encode(s),
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(s),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
            ]
        };
        let mut list = client.list_workflows("", Default::default());
        let mut histories = 0;
        while let Some(execution) = list.next().await {
            let execution = execution.unwrap();
            let history = WorkflowExecutionInfo::builder()
                .namespace("default")
                .workflow_id(execution.id())
                .run_id(execution.run_id())
                .build()
                .bind_untyped(client.clone())
                .fetch_history(WorkflowFetchHistoryOptions::default())
                .to_json()
                .await
                .unwrap();
            let text = String::from_utf8(history).unwrap();
            for secret in &secrets {
                for encoded in encodings(secret) {
                    assert!(
                        !text.contains(&encoded),
                        "the history of {} holds a secret",
                        execution.id()
                    );
                }
            }
            histories += 1;
        }
        assert!(histories > 0, "no history was searched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_run_as_activities_and_caller_errors_are_not_retried() {
    let Some(stage) = Stage::new("actions").await else {
        return;
    };
    let queue = "actions";
    let mut workers = Workers::start(&stage.server, queue, &stage.dir, 1);

    let (code, out) = run(stage.action(queue, "acme", "list_workflow_schemas", json!({}))).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out["list"].as_array().unwrap().is_empty(), "{out}");

    // not_found is final: one request upstream, no second attempt.
    let (code, out) = run(stage.action(
        queue,
        "acme",
        "retrieve_workflow",
        json!({ "id": "no-such-workflow" }),
    ))
    .await;
    assert_eq!(
        (code, out["error"]["kind"].as_str()),
        (1, Some("not_found")),
        "{out}"
    );
    let attempts = requests(&stage.emu)
        .await
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/workflows/no-such-workflow")
        })
        .count();
    assert_eq!(attempts, 1, "a not_found action is not retried");

    // invalid_input names the field and is final too.
    let (code, out) = run(stage.action(queue, "acme", "retrieve_workflow", json!({}))).await;
    assert_eq!(
        (code, out["error"]["kind"].as_str()),
        (1, Some("invalid_input")),
        "{out}"
    );

    // A reference the worker does not know is refused on the worker, not in Temporal.
    let (code, out) = run(stage.action(queue, "nobody", "list_workflow_schemas", json!({}))).await;
    assert_eq!(
        (code, out["error"]["kind"].as_str()),
        (1, Some("unknown_connection")),
        "{out}"
    );

    // rate_limited is retried, after the connector's retry_after rather than the policy's
    // 1 s backoff. 45 s is past the host's own 30 s retry budget, so the host hands it to
    // the connector, and the connector to Temporal, at once.
    admin(
        &stage.emu,
        "faults",
        json!({ "seed": 1, "rate": 1.0, "kinds": ["rate_limited"], "retry_after_seconds": 45 }),
    )
    .await;
    let client = stage.server.client().await;
    let workflow_id = "action:rate-limited";
    client
        .start_workflow(
            ActionWorkflow::run,
            ActionRequest {
                connection: "acme".into(),
                action: "list_workflow_schemas".into(),
                input: json!({}),
            },
            WorkflowStartOptions::new(queue, workflow_id).build(),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let description = client
            .get_workflow_handle::<UntypedWorkflow>(workflow_id)
            .describe(Default::default())
            .await
            .unwrap();
        if let Some(a) = description
            .raw_description
            .pending_activities
            .into_iter()
            .find(|a| a.attempt >= 2 && a.last_failure.is_some())
        {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "the rate-limited action was not retried"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let failure = waiting.last_failure.unwrap();
    assert!(
        matches!(&failure.failure_info, Some(FailureInfo::ApplicationFailureInfo(i)) if i.r#type == "rate_limited" && !i.non_retryable),
        "{failure:?}"
    );
    let interval = waiting
        .current_retry_interval
        .expect("a retry is scheduled");
    assert!(
        (40..=46).contains(&interval.seconds),
        "the next attempt waits the connector's retry_after (45 s), not {}s",
        interval.seconds
    );
    terminate(&client, workflow_id).await;
    admin(&stage.emu, "faults", json!({ "enabled": false })).await;

    workers.assert_running(&stage.dir);
    stage.assert_no_secret_in_any_history().await;
    let _ = std::fs::remove_dir_all(&stage.dir);
}

/// The downstream stand-in: a workflow per event that does nothing. Temporal records each
/// execution with its workflow id (`{trigger}:{event id}`), so the executions of this type are
/// the record of what was delivered, and how often: a second delivery of an event would be a
/// second execution, as the reuse policy would allow it once the first has completed.
#[workflow]
#[derive(Default)]
pub struct EventRecorder;

#[workflow_methods]
impl EventRecorder {
    #[run(name = "EventRecorder")]
    pub async fn run(
        _ctx: &mut WorkflowContext<Self>,
        event: DeliveredEvent,
    ) -> WorkflowResult<String> {
        Ok(event.id)
    }
}

/// Run the stand-in on its own thread (the SDK's worker is not `Send`) until the test ends.
fn start_recorder(client: Client, task_queue: &str) {
    let task_queue = task_queue.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let runtime = temporalio_sdk::Runtime::from_current_tokio(Default::default()).unwrap();
            let options = WorkerOptions::new(task_queue)
                .register_workflow::<EventRecorder>()
                .unwrap()
                .build();
            let mut worker = Worker::new(&runtime, client, options).unwrap();
            worker.run().await.unwrap();
        });
    });
}

/// Executions of the stand-in by event id (its workflow id less the `{trigger}:` prefix).
async fn delivered(client: &Client, trigger: &str) -> BTreeMap<String, usize> {
    let mut list = client.list_workflows("WorkflowType = 'EventRecorder'", Default::default());
    let mut counts = BTreeMap::new();
    while let Some(execution) = list.next().await {
        let execution = execution.unwrap();
        let id = execution
            .id()
            .strip_prefix(&format!("{trigger}:"))
            .unwrap()
            .to_string();
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// The ids a poller should deliver: the trigger drained directly through the host, from the
/// same `since`, after the run.
async fn expected_events(stage: &Stage, trigger: &str, input: &Value) -> BTreeSet<String> {
    let package = connector_host::package::Package::open(&stage.dir.join("package")).unwrap();
    let runtime = connector_host::Runtime::load_package(
        &package,
        connector_host::RuntimeOptions {
            cache_dir: Some(stage.dir.join("cache")),
            allow_loopback: true,
            ..Default::default()
        },
    )
    .unwrap();
    let config = connector_host::ConnectionConfig::from_value(form(&stage.emu)).unwrap();
    let session = runtime
        .connect(
            &config,
            connector_host::TokenStore::new(stage.dir.join("direct/tokens.json")),
        )
        .await
        .unwrap();
    let (mut ids, mut cursor) = (BTreeSet::new(), None);
    loop {
        let polled = session.poll(trigger, input, cursor.as_ref()).await.unwrap();
        ids.extend(polled.events.into_iter().map(|e| e.id));
        cursor = polled.cursor.or(cursor);
        if !polled.has_more {
            return ids;
        }
    }
}

/// The worker currently running the trigger workflow's poll, by the pid in its identity
/// (`{pid}@{host}`, as `connector-temporal worker` names itself).
async fn worker_running_the_poll(client: &Client, workflow_id: &str) -> Option<u32> {
    let description = client
        .get_workflow_handle::<UntypedWorkflow>(workflow_id)
        .describe(Default::default())
        .await
        .ok()?;
    // Only an attempt started a moment ago: one about to finish would leave nothing to
    // retry once its worker is killed.
    let fresh = |seconds: i64, nanos: i32| {
        let started = std::time::UNIX_EPOCH + Duration::new(seconds as u64, nanos as u32);
        std::time::SystemTime::now()
            .duration_since(started)
            .is_ok_and(|age| age < Duration::from_millis(250))
    };
    description
        .raw_description
        .pending_activities
        .iter()
        .filter(|a| {
            a.last_started_time
                .as_ref()
                .is_some_and(|t| fresh(t.seconds, t.nanos))
        })
        .find_map(|a| a.last_worker_identity.split('@').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_deliver_every_polled_event_once_though_one_is_killed_mid_poll() {
    let Some(stage) = Stage::new("poll-kill").await else {
        return;
    };
    let (queue, downstream) = ("connector", "downstream");
    // A backlog of several polls' worth (100 events a poll), so polls are running and
    // delivering while the test looks for one to interrupt.
    admin(&stage.emu, "bulk-records", json!({ "count": 250 })).await;
    let trigger = "record_updated";
    let input = json!({ "since": "2020-01-01T00:00:00Z" });

    let began = Instant::now();
    let client = stage.server.client().await;
    start_recorder(client.clone(), downstream);
    let mut workers = Workers::start(&stage.server, queue, &stage.dir, 3);

    let start = || {
        let mut cmd = connector_temporal(&stage.server, queue);
        cmd.args([
            "start-trigger",
            "--connection",
            "acme",
            "--trigger",
            trigger,
        ])
        .args(["--input", &input.to_string(), "--interval", "1"])
        .args(["--downstream-workflow", "EventRecorder"])
        .args(["--downstream-task-queue", downstream])
        // Continue as new often, so the run crosses runs with its cursor.
        .args(["--polls-per-run", "3"]);
        cmd
    };
    let (code, started) = run(start()).await;
    assert_eq!(code, 0, "{started}");
    let workflow_id = trigger_workflow_id("acme", trigger);
    assert_eq!(started["workflow_id"], workflow_id.as_str());
    // One poller per trigger: a second start is refused by the workflow id.
    let (code, refused) = run(start()).await;
    assert_eq!(
        (code, refused["error"]["kind"].as_str()),
        (1, Some("already_polling")),
        "{refused}"
    );

    // kill -9 the worker that is running a poll, as soon as one is.
    let deadline = Instant::now() + Duration::from_secs(60);
    let killed = loop {
        if let Some(pid) = worker_running_the_poll(&client, &workflow_id).await
            && workers.pids().contains(&pid)
        {
            workers.kill(pid);
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "no poll activity was seen running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "killed worker {killed} in the middle of a poll after {:?}",
        began.elapsed()
    );

    let expected = expected_events(&stage, trigger, &input).await;
    assert!(
        expected.len() >= 250,
        "the backlog: {} events",
        expected.len()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = delivered(&client, trigger).await;
        let repeated: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            repeated.is_empty(),
            "delivered more than once: {repeated:?}"
        );
        let got: BTreeSet<String> = got.into_keys().collect();
        if got == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 120 s {} of {} events arrived; missing e.g. {:?}, unexpected {:?}",
            got.len(),
            expected.len(),
            expected.difference(&got).take(3).collect::<Vec<_>>(),
            got.difference(&expected).take(3).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "all {} events arrived after {:?}",
        expected.len(),
        began.elapsed()
    );
    // Polls go on meanwhile: a duplicate would arrive now if any was going to.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = delivered(&client, trigger).await;
    assert!(
        after.values().all(|n| *n == 1),
        "an event was delivered again"
    );
    assert_eq!(after.len(), expected.len());

    // The killed worker's poll was retried by another worker (the attempt that completed).
    let first_run = WorkflowExecutionInfo::builder()
        .namespace("default")
        .workflow_id(workflow_id.as_str())
        .run_id(started["run_id"].as_str().unwrap())
        .build()
        .bind_untyped(client.clone())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .unwrap();
    let retried_elsewhere = first_run.iter().any(|e| {
        matches!(
            &e.attributes,
            Some(Attributes::ActivityTaskStartedEventAttributes(a))
                if a.attempt >= 2 && !a.identity.starts_with(&format!("{killed}@"))
        )
    });
    assert!(
        retried_elsewhere,
        "the killed poll was not retried by another worker"
    );

    // The cursor lives in the workflow and moved: the current run (continued as new several
    // times) knows where the trigger is.
    let status: TriggerStatus = client
        .get_workflow_handle::<TriggerWorkflow>(workflow_id.as_str())
        .query(TriggerWorkflow::status, (), WorkflowQueryOptions::default())
        .await
        .unwrap();
    assert!(status.cursor.is_some(), "{status:?}");
    eprintln!(
        "the trigger's current run: {} polls, {} delivered, {} already delivered",
        status.polls, status.delivered, status.already_delivered
    );
    let runs = count(&client, &format!("WorkflowId = '{workflow_id}'")).await;
    assert!(runs > 1, "the trigger continued as new ({runs} runs)");
    // The run ends: the poller is stopped, the surviving workers go on without errors.
    terminate(&client, &workflow_id).await;
    workers.assert_running(&stage.dir);
    stage.assert_no_secret_in_any_history().await;
    let _ = std::fs::remove_dir_all(&stage.dir);
}

/// Stop a workflow the test started, once it has seen what it needed.
async fn terminate(client: &Client, workflow_id: &str) {
    client
        .get_workflow_handle::<UntypedWorkflow>(workflow_id)
        .terminate(
            WorkflowTerminateOptions::builder()
                .reason("test done")
                .build(),
        )
        .await
        .unwrap();
}

async fn count(client: &Client, query: &str) -> usize {
    let mut list = client.list_workflows(query.to_string(), Default::default());
    let mut n = 0;
    while let Some(execution) = list.next().await {
        execution.unwrap();
        n += 1;
    }
    n
}
