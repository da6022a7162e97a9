//! `connector-temporal bench`: what the Temporal path costs, against the host called
//! directly, on the cluster it is pointed at. Figures, no targets (issue #22 reports them).
//!
//! It serves a worker of its own, in this process, on a task queue no other worker polls,
//! then measures, interleaved:
//! - **per action**: one action through the host directly (a session per call, as the
//!   activity makes) against the same action as the `connector_action` workflow (start, one
//!   activity, result). The difference is what each activity costs on top of the call.
//! - **per event**: a polling trigger's backlog drained directly (`poll` until `has_more` is
//!   false) against the trigger workflow delivering it, each event a downstream workflow start.
//!
//! The downstream workflows it starts are left on the task queue `{queue}-events`, where no
//! worker runs them, and their ids (`{trigger}:{event.id}`) stay taken: point the bench at a
//! development cluster. A second run on the same namespace finds the events delivered
//! (`already_delivered`) and measures refused starts instead.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowQueryOptions, WorkflowStartOptions,
    WorkflowTerminateOptions,
};
use temporalio_common::UntypedWorkflow;

use crate::activities::ActionRequest;
use crate::connector::Connector;
use crate::downstream::Downstream;
use crate::frontend::Frontend;
use crate::start::{StartError, parse_json};
use crate::worker::{self, WorkerArgs};
use crate::workflows::{ActionWorkflow, TriggerRequest, TriggerStatus, TriggerWorkflow};

/// Calls made and thrown away before timing: the first compile their code paths, fill the
/// worker's caches and obtain the connection's token.
const WARM_UP: usize = 3;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub worker: WorkerArgs,
    /// The connection reference to measure with.
    #[arg(long)]
    pub connection: String,
    /// A small action, timed directly and as a workflow.
    #[arg(long, default_value = "list_workflow_schemas")]
    pub action: String,
    #[arg(long, default_value = "{}", value_parser = parse_json)]
    pub action_input: Value,
    /// Timed calls of each kind.
    #[arg(long, default_value_t = 30)]
    pub calls: usize,
    /// A polling trigger with a backlog to drain.
    #[arg(long, default_value = "record_updated")]
    pub trigger: String,
    #[arg(long, default_value = r#"{"since": "2020-01-01T00:00:00Z"}"#, value_parser = parse_json)]
    pub trigger_input: Value,
    /// How long the trigger workflow may take to deliver the backlog.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

fn failed(kind: &str, e: impl std::fmt::Display) -> StartError {
    StartError::Failed {
        kind: kind.to_string(),
        message: e.to_string(),
    }
}

/// Run the bench and return its figures.
pub async fn run(
    frontend: &Frontend,
    client: &Client,
    args: BenchArgs,
) -> Result<Value, StartError> {
    let (connector, _package) = worker::load(&args.worker).map_err(|e| failed("worker", e))?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let queue = format!("connector-bench-{run_id}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = {
        let (frontend, queue, worker_args) = (frontend.clone(), queue.clone(), args.worker.clone());
        // The SDK's worker future is not `Send`: it runs on a runtime of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the bench's worker");
            runtime.block_on(worker::serve(&frontend, &queue, &worker_args, async move {
                let _ = stopped.await;
            }))
        })
    };
    let figures = async {
        let action = per_action(&connector, client, &queue, &run_id, &args).await?;
        let trigger = per_event(&connector, client, &queue, &run_id, &args).await?;
        Ok(json!({ "task_queue": queue, "action": action, "trigger": trigger }))
    }
    .await;
    let _ = stop.send(());
    match served.join() {
        Ok(Ok(())) => figures,
        Ok(Err(e)) => Err(failed("worker", e)),
        Err(_) => Err(failed("worker", "the bench's worker panicked")),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e3).round() / 1e3
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn per_action(
    connector: &Connector,
    client: &Client,
    queue: &str,
    run_id: &str,
    args: &BenchArgs,
) -> Result<Value, StartError> {
    let (mut direct, mut temporal) = (Vec::new(), Vec::new());
    for i in 0..WARM_UP + args.calls.max(1) {
        let began = Instant::now();
        let session = connector
            .session(&args.connection)
            .await
            .map_err(|e| failed("connection", e))?;
        session
            .execute(&args.action, &args.action_input)
            .await
            .map_err(|e| failed("action", e))?;
        let direct_took = began.elapsed();

        let began = Instant::now();
        let request = ActionRequest {
            connection: args.connection.clone(),
            action: args.action.clone(),
            input: args.action_input.clone(),
        };
        let workflow_id = format!("bench:{run_id}:action:{i}");
        let handle = client
            .start_workflow(
                ActionWorkflow::run,
                request,
                WorkflowStartOptions::new(queue.to_string(), workflow_id.clone()).build(),
            )
            .await
            .map_err(|e| StartError::start(&workflow_id, e))?;
        handle
            .get_result(WorkflowGetResultOptions::default())
            .await
            .map_err(|e| StartError::Result {
                workflow_id,
                reason: e.to_string(),
            })?;
        let temporal_took = began.elapsed();
        if i >= WARM_UP {
            direct.push(direct_took);
            temporal.push(temporal_took);
        }
    }
    let (direct, temporal) = (median(direct), median(temporal));
    Ok(json!({
        "action": args.action,
        "calls": args.calls.max(1),
        "direct_median_ms": ms(direct),
        "workflow_median_ms": ms(temporal),
        "overhead_per_activity_ms": ms(temporal.saturating_sub(direct)),
    }))
}

async fn per_event(
    connector: &Connector,
    client: &Client,
    queue: &str,
    run_id: &str,
    args: &BenchArgs,
) -> Result<Value, StartError> {
    let began = Instant::now();
    let (mut events, mut cursor) = (0u64, None);
    loop {
        let session = connector
            .session(&args.connection)
            .await
            .map_err(|e| failed("connection", e))?;
        let polled = session
            .poll(&args.trigger, &args.trigger_input, cursor.as_ref())
            .await
            .map_err(|e| failed("poll", e))?;
        events += polled.events.len() as u64;
        cursor = polled.cursor.or(cursor);
        if !polled.has_more {
            break;
        }
    }
    let direct = began.elapsed();
    if events == 0 {
        return Err(failed(
            "empty_backlog",
            format!("trigger `{}` has no events to drain", args.trigger),
        ));
    }

    let workflow_id = format!("bench:{run_id}:trigger");
    let request = TriggerRequest {
        connection: args.connection.clone(),
        trigger: args.trigger.clone(),
        input: args.trigger_input.clone(),
        interval_secs: 3600,
        downstream: Downstream {
            workflow_type: "connector_bench_event".to_string(),
            task_queue: format!("{queue}-events"),
        },
        cursor: None,
        polls_per_run: 10_000,
    };
    let began = Instant::now();
    client
        .start_workflow(
            TriggerWorkflow::run,
            request,
            WorkflowStartOptions::new(queue.to_string(), workflow_id.clone()).build(),
        )
        .await
        .map_err(|e| StartError::start(&workflow_id, e))?;
    let handle = client.get_workflow_handle::<TriggerWorkflow>(workflow_id.as_str());
    let deadline = began + Duration::from_secs(args.timeout_secs);
    let status = loop {
        let status: TriggerStatus = handle
            .query(TriggerWorkflow::status, (), WorkflowQueryOptions::default())
            .await
            .unwrap_or_default();
        if status.delivered + status.already_delivered >= events {
            break status;
        }
        if Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let temporal = began.elapsed();
    let _ = client
        .get_workflow_handle::<UntypedWorkflow>(workflow_id.as_str())
        .terminate(
            WorkflowTerminateOptions::builder()
                .reason("bench done")
                .build(),
        )
        .await;
    let seen = status.delivered + status.already_delivered;
    if seen < events {
        return Err(failed(
            "timeout",
            format!(
                "the trigger workflow delivered {seen} of {events} events within {} s",
                args.timeout_secs
            ),
        ));
    }
    let per_s = |d: Duration| (events as f64 / d.as_secs_f64()).round();
    Ok(json!({
        "trigger": args.trigger,
        "events": events,
        "delivered": status.delivered,
        "already_delivered": status.already_delivered,
        "direct_s": secs(direct),
        "workflow_s": secs(temporal),
        "direct_events_per_s": per_s(direct),
        "workflow_events_per_s": per_s(temporal),
        "workflow_vs_direct": ((direct.as_secs_f64() / temporal.as_secs_f64()) * 1000.0).round() / 1000.0,
    }))
}
