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
use connector_temporal::subscription::{WebhookWorkflow, webhook_workflow_id};
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

/// Executions of the stand-in for `trigger` by event id (its workflow id less the
/// `{trigger}:` prefix).
async fn delivered(client: &Client, trigger: &str) -> BTreeMap<String, usize> {
    let mut list = client.list_workflows("WorkflowType = 'EventRecorder'", Default::default());
    let mut counts = BTreeMap::new();
    while let Some(execution) = list.next().await {
        let execution = execution.unwrap();
        if let Some(id) = execution.id().strip_prefix(&format!("{trigger}:")) {
            *counts.entry(id.to_string()).or_default() += 1;
        }
    }
    counts
}

/// The host, loaded directly (no Temporal), to compute what a run should deliver and to act
/// on the emulator the way a user would.
struct Direct {
    runtime: connector_host::Runtime,
    config: connector_host::ConnectionConfig,
    tokens: connector_host::TokenStore,
}

impl Direct {
    fn new(stage: &Stage) -> Direct {
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
        Direct {
            runtime,
            config: connector_host::ConnectionConfig::from_value(form(&stage.emu)).unwrap(),
            tokens: connector_host::TokenStore::new(stage.dir.join("direct/tokens.json")),
        }
    }

    async fn session(&self) -> connector_host::Session<'_> {
        self.runtime
            .connect(&self.config, self.tokens.clone())
            .await
            .unwrap()
    }

    /// The ids a poller should deliver: the trigger drained from the same `since`.
    async fn expected_events(&self, trigger: &str, input: &Value) -> BTreeSet<String> {
        let session = self.session().await;
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

    /// `launch_new_workflow`'s input for the first template, its required fields filled in.
    async fn launch_input(&self, counterparty: &str) -> Value {
        let schemas = self
            .session()
            .await
            .execute("list_workflow_schemas", &json!({}))
            .await
            .unwrap();
        let template = &schemas["list"][0];
        let mut attributes = serde_json::Map::new();
        for (key, field) in template["schema"].as_object().unwrap() {
            if field["required"] == "always" {
                let value = match field["type"].as_str() {
                    Some("number") => json!(1),
                    Some("boolean") => json!(true),
                    Some("date") => json!("2026-02-01T00:00:00.000Z"),
                    Some("email") => json!("contracts@acme.example"),
                    Some("monetaryAmount") => json!({ "currency": "EUR", "amount": 900 }),
                    _ => field["options"]["values"][0].clone(),
                };
                let value = if value.is_null() {
                    json!("Acme")
                } else {
                    value
                };
                attributes.insert(key.clone(), value);
            }
        }
        attributes.insert("counterpartyName".into(), json!(counterparty));
        json!({ "body": { "template": template["id"], "attributes": attributes } })
    }
}

/// The worker currently running the trigger workflow's poll, by the pid in its identity
/// (`{pid}@{host}`, as `connector-temporal worker` names itself).
async fn worker_running_the_poll(client: &Client, workflow_id: &str) -> Option<(u32, String)> {
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
    // The run the activity belongs to: the trigger continues as new every few polls, so the
    // interrupted poll is in whichever run is current now, not necessarily the first.
    let run_id = description
        .raw_description
        .workflow_execution_info
        .as_ref()?
        .execution
        .as_ref()?
        .run_id
        .clone();
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
        .map(|pid| (pid, run_id))
}

/// Start a polling trigger's workflow from the command line.
fn start_trigger(
    stage: &Stage,
    queue: &str,
    trigger: &str,
    since: &Value,
) -> std::process::Command {
    let mut cmd = connector_temporal(&stage.server, queue);
    cmd.args([
        "start-trigger",
        "--connection",
        "acme",
        "--trigger",
        trigger,
    ])
    .args(["--input", &since.to_string(), "--interval", "1"])
    .args(["--downstream-workflow", "EventRecorder"])
    .args(["--downstream-task-queue", DOWNSTREAM])
    // Continue as new often, so the run crosses runs with its cursor.
    .args(["--polls-per-run", "3"]);
    cmd
}

/// The downstream stand-in's task queue.
const DOWNSTREAM: &str = "downstream";

/// The emulator's delivery attempts to `target`.
async fn attempts(stage: &Stage, target: &str) -> Vec<Value> {
    let log: Value = reqwest::get(format!("{}/_emulator/deliveries", stage.emu.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["target_url"] == target)
        .cloned()
        .collect()
}

/// Wait until `done` holds, checking every 250 ms, or fail after `limit` saying `what`.
async fn eventually<F: Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "after {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_deliver_every_event_once_though_one_dies_mid_poll_and_one_mid_delivery() {
    let Some(stage) = Stage::new("kill").await else {
        return;
    };
    let queue = "connector";
    // Backlogs of several polls' worth (100 events a poll) for two polling triggers, so polls
    // are running and delivering while the test looks for one to interrupt.
    admin(&stage.emu, "bulk-records", json!({ "count": 250 })).await;
    admin(&stage.emu, "bulk-workflows", json!({ "count": 150 })).await;
    // A failed webhook delivery is retried after 200 ms (doubling) rather than 1 s.
    admin(
        &stage.emu,
        "webhook-delivery",
        json!({ "base_delay_ms": 200 }),
    )
    .await;
    let since = json!({ "since": "2020-01-01T00:00:00Z" });
    let polled = ["record_updated", "workflow_updated"];
    let hooked = "workflow_launched";

    let began = Instant::now();
    let client = stage.server.client().await;
    start_recorder(client.clone(), DOWNSTREAM);
    let mut workers = Workers::start_with_ingress(&stage.server, queue, &stage.dir, 3);
    let balancer = Balancer::start(workers.ingress.clone()).await;
    let direct = Direct::new(&stage);

    // The webhook subscription: a workflow that subscribes Ironclad to the workers' ingress,
    // behind the balancer. One per (connection, trigger).
    let start_webhook = || {
        let mut cmd = connector_temporal(&stage.server, queue);
        cmd.args(["start-webhook", "--connection", "acme", "--trigger", hooked])
            .args([
                "--ingress-url",
                &format!("http://127.0.0.1:{}", balancer.port),
            ])
            .args(["--downstream-workflow", "EventRecorder"])
            .args(["--downstream-task-queue", DOWNSTREAM]);
        cmd
    };
    let (code, subscribed) = run(start_webhook()).await;
    assert_eq!(code, 0, "{subscribed}");
    let target = format!("http://127.0.0.1:{}/webhooks/acme/{hooked}", balancer.port);
    assert_eq!(subscribed["target_url"], target.as_str());
    let (code, refused) = run(start_webhook()).await;
    assert_eq!(
        (code, refused["error"]["kind"].as_str()),
        (1, Some("already_subscribed")),
        "{refused}"
    );
    let webhook_id = webhook_workflow_id("acme", hooked);
    let subscription = || async {
        client
            .get_workflow_handle::<WebhookWorkflow>(webhook_id.as_str())
            .query(
                WebhookWorkflow::subscription,
                (),
                WorkflowQueryOptions::default(),
            )
            .await
            .unwrap()
    };
    eventually(
        Duration::from_secs(60),
        "the webhook was not subscribed",
        || async { subscription().await.request.state.is_some() },
    )
    .await;

    // Two polling triggers; one poller per trigger, refused by its workflow id.
    for trigger in polled {
        let (code, started) = run(start_trigger(&stage, queue, trigger, &since)).await;
        assert_eq!(code, 0, "{started}");
        assert_eq!(
            started["workflow_id"],
            trigger_workflow_id("acme", trigger).as_str()
        );
        assert!(started["run_id"].is_string(), "{started}");
    }
    let (code, refused) = run(start_trigger(&stage, queue, polled[0], &since)).await;
    assert_eq!(
        (code, refused["error"]["kind"].as_str()),
        (1, Some("already_polling")),
        "{refused}"
    );

    // Workflows are launched through the action activity, as a recipe would: each launch is
    // an Ironclad event delivered to the webhook, and later a `workflow_updated` event.
    let launch = |n: usize| {
        let (client, direct) = (&client, &direct);
        async move {
            let input = direct.launch_input(&format!("Launch {n}")).await;
            let request = ActionRequest {
                connection: "acme".into(),
                action: "launch_new_workflow".into(),
                input,
            };
            let handle = client
                .start_workflow(
                    ActionWorkflow::run,
                    request,
                    WorkflowStartOptions::new(queue, format!("launch-{n}")).build(),
                )
                .await
                .unwrap();
            // Bounded: with no worker left (one that never started, say) the run must fail
            // rather than wait for CI's limit.
            tokio::time::timeout(
                Duration::from_secs(180),
                handle.get_result(Default::default()),
            )
            .await
            .unwrap_or_else(|_| panic!("launch {n} did not finish in 3 minutes"))
            .unwrap_or_else(|e| panic!("launch {n}: {e}"));
        }
    };
    let launches = 24;
    futures::future::join_all((0..launches / 2).map(launch)).await;

    // kill -9 the worker that is running a poll, as soon as one is.
    let poll_workflow = trigger_workflow_id("acme", polled[0]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (killed_mid_poll, killed_run) = loop {
        if let Some((pid, run)) = worker_running_the_poll(&client, &poll_workflow).await
            && workers.pids().contains(&pid)
        {
            workers.kill(pid);
            break (pid, run);
        }
        assert!(
            Instant::now() < deadline,
            "no poll activity was seen running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "killed worker {killed_mid_poll} in the middle of a poll after {:?}",
        began.elapsed()
    );
    // And kill the worker that accepts the next delivery, after its starts are durable and
    // before its 200 reaches the emulator: the emulator retries, another worker verifies the
    // delivery again, and its starts are refused as started before.
    balancer.kill_at_the_next_accepted_delivery();
    futures::future::join_all((launches / 2..launches).map(launch)).await;
    eventually(
        Duration::from_secs(30),
        "no delivery was accepted after arming the kill",
        || async { balancer.killed().is_some() },
    )
    .await;
    let killed_mid_delivery = balancer.killed().unwrap();
    assert_ne!(killed_mid_delivery, killed_mid_poll);
    workers.kill(killed_mid_delivery);
    eprintln!(
        "killed worker {killed_mid_delivery} between a delivery's durable start and its answer after {:?}",
        began.elapsed()
    );

    // Every event arrives downstream once: the polled ones as a direct drain finds them, the
    // delivered ones as the emulator's delivery log lists them.
    let mut expected = BTreeMap::new();
    for trigger in polled {
        expected.insert(trigger, direct.expected_events(trigger, &since).await);
    }
    assert!(
        expected[polled[0]].len() >= 250,
        "{}",
        expected[polled[0]].len()
    );
    assert!(
        expected[polled[1]].len() >= 150,
        "{}",
        expected[polled[1]].len()
    );
    let webhook_events = || async {
        attempts(&stage, &target)
            .await
            .iter()
            .map(|a| a["event_id"].as_str().unwrap().to_string())
            .collect::<BTreeSet<String>>()
    };
    let all_arrived = || async {
        let mut everything = expected.clone();
        everything.insert(hooked, webhook_events().await);
        let mut all = true;
        for (trigger, want) in &everything {
            let got = delivered(&client, trigger).await;
            let repeated: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
            assert!(
                repeated.is_empty(),
                "{trigger}: delivered more than once: {repeated:?}"
            );
            let got: BTreeSet<String> = got.into_keys().collect();
            // The emulator logs an attempt once it is answered, after its start: a delivered
            // event may be missing from the log for a moment, never a polled one.
            assert!(
                *trigger == hooked || got.is_subset(want),
                "{trigger}: unexpected events, e.g. {:?}",
                got.difference(want).take(3).collect::<Vec<_>>()
            );
            all &= &got == want;
        }
        all
    };
    eventually(
        Duration::from_secs(120),
        "not every event arrived downstream",
        all_arrived,
    )
    .await;
    let hooked_events = webhook_events().await;
    assert!(
        hooked_events.len() >= launches,
        "{} webhook events",
        hooked_events.len()
    );
    eprintln!(
        "all {} + {} polled and {} delivered events arrived after {:?}",
        expected[polled[0]].len(),
        expected[polled[1]].len(),
        hooked_events.len(),
        began.elapsed()
    );
    // Polls go on meanwhile: a duplicate would arrive now if any was going to.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(all_arrived().await, "an event was delivered again");

    // The killed delivery was retried and accepted by a worker that lived: an attempt with no
    // answer at all (the dropped connection), then a 200 for the same event.
    let log = attempts(&stage, &target).await;
    let dropped: Vec<&str> = log
        .iter()
        .filter(|a| a["status"].is_null())
        .map(|a| a["event_id"].as_str().unwrap())
        .collect();
    assert!(!dropped.is_empty(), "no delivery lost its answer: {log:#?}");
    for event in &dropped {
        assert!(
            log.iter()
                .any(|a| a["event_id"] == *event && a["status"] == 200),
            "{event} was not delivered again"
        );
    }

    // The killed worker's poll was retried by another worker (the attempt that completed),
    // in the run it belonged to.
    let killed_run_history = WorkflowExecutionInfo::builder()
        .namespace("default")
        .workflow_id(poll_workflow.as_str())
        .run_id(killed_run.as_str())
        .build()
        .bind_untyped(client.clone())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .unwrap();
    let retried_elsewhere = killed_run_history.iter().any(|e| {
        matches!(
            &e.attributes,
            Some(Attributes::ActivityTaskStartedEventAttributes(a))
                if a.attempt >= 2 && !a.identity.starts_with(&format!("{killed_mid_poll}@"))
        )
    });
    assert!(
        retried_elsewhere,
        "the killed poll was not retried by another worker"
    );

    // The cursor lives in the workflow and moved: the current run (continued as new several
    // times) knows where the trigger is.
    let status: TriggerStatus = client
        .get_workflow_handle::<TriggerWorkflow>(poll_workflow.as_str())
        .query(TriggerWorkflow::status, (), WorkflowQueryOptions::default())
        .await
        .unwrap();
    assert!(status.cursor.is_some(), "{status:?}");
    let runs = count(&client, &format!("WorkflowId = '{poll_workflow}'")).await;
    assert!(runs > 1, "the trigger continued as new ({runs} runs)");

    // The ingress refuses what Ironclad did not sign, and what is too large to read.
    let port = workers
        .ingress
        .iter()
        .find(|(pid, _)| workers.pids().contains(pid))
        .map(|(_, port)| *port)
        .unwrap();
    let survivor = format!("http://127.0.0.1:{port}/webhooks/acme/{hooked}");
    let post = |body: Vec<u8>| {
        let survivor = survivor.clone();
        async move {
            reqwest::Client::new()
                .post(survivor)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(br#"{"payload": {}}"#.to_vec()).await, 401, "unsigned");
    // Declared too large: answered from the head alone, before any of the body is sent (a
    // client still writing it would see the connection close under it).
    let oversized = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let head = format!(
            "POST /webhooks/acme/{hooked} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\n\r\n",
            (1 << 20) + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 64];
        let n = stream.read(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    };
    assert!(
        oversized.starts_with("HTTP/1.1 413"),
        "oversized: {oversized}"
    );

    // Stopping the subscription unsubscribes from Ironclad and ends its workflow.
    let mut stop = connector_temporal(&stage.server, queue);
    stop.args(["stop-webhook", "--connection", "acme", "--trigger", hooked]);
    let (code, stopped) = run(stop).await;
    assert_eq!(
        (code, &stopped["unsubscribed"]),
        (0, &json!(true)),
        "{stopped}"
    );
    let hooks = direct
        .session()
        .await
        .execute("list_webhooks", &json!({}))
        .await
        .unwrap();
    assert!(
        !hooks.to_string().contains(&target),
        "the webhook is still registered: {hooks}"
    );
    // A delivery for a subscription that does not run is answered 410 Gone, which makes
    // Ironclad disable an orphaned webhook. (A stopped one's path answers so once the
    // ingress's 30 s keep of it has passed.)
    let orphan = reqwest::Client::new()
        .post(survivor.replace(hooked, "workflow_completed"))
        .body(r#"{"payload": {}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(orphan.status().as_u16(), 410);

    // The run ends: the pollers are stopped, the surviving worker goes on without errors.
    for trigger in polled {
        terminate(&client, &trigger_workflow_id("acme", trigger)).await;
    }
    workers.assert_running(&stage.dir);
    stage.assert_no_secret_in_any_history().await;
    let _ = std::fs::remove_dir_all(&stage.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_prints_the_temporal_path_against_direct_calls() {
    let Some(stage) = Stage::new("bench").await else {
        return;
    };
    // Small for CI; docs/scale.md's figures come from a larger run of this test, optimised:
    // TEMPORAL_BENCH_RECORDS=1000 TEMPORAL_BENCH_CALLS=30 cargo test --profile perf -p
    // connector-temporal --test temporal bench -- --nocapture
    let size = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (records, calls) = (
        size("TEMPORAL_BENCH_RECORDS", 120),
        size("TEMPORAL_BENCH_CALLS", 3),
    );
    admin(&stage.emu, "bulk-records", json!({ "count": records })).await;
    let mut cmd = connector_temporal(&stage.server, "unused");
    cmd.arg("bench");
    with_worker_files(&mut cmd, &stage.dir)
        .args(["--connection", "acme", "--calls", &calls.to_string()])
        .args(["--trigger", "record_updated"]);
    let (code, figures) = run(cmd).await;
    assert_eq!(code, 0, "{figures}");
    eprintln!("{figures:#}");
    let action = &figures["action"];
    assert_eq!(action["calls"], calls);
    for key in ["direct_median_ms", "workflow_median_ms"] {
        assert!(action[key].as_f64().unwrap() > 0.0, "{key}: {action}");
    }
    // A workflow runs the same call and more: its median cannot be below the direct one's by
    // more than noise.
    assert!(
        action["overhead_per_activity_ms"].as_f64().is_some(),
        "{action}"
    );
    let trigger = &figures["trigger"];
    let events = trigger["events"].as_u64().unwrap();
    assert!(events >= records, "{trigger}");
    // A fresh server: every event was started by this run, none refused as seen before.
    assert_eq!(trigger["delivered"].as_u64(), Some(events), "{trigger}");
    for key in [
        "direct_events_per_s",
        "workflow_events_per_s",
        "workflow_vs_direct",
    ] {
        assert!(trigger[key].as_f64().unwrap() > 0.0, "{key}: {trigger}");
    }
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
