//! The workflows: one action as a workflow (for callers that do not run their own), and a
//! polling trigger as one long-running workflow per (connection, trigger).
//!
//! Workflow code is replayed from history on any worker, so it only decides: every effect
//! (the connector, the API, starting downstream workflows) happens in an activity, and the
//! trigger's cursor lives in the workflow's state and the input it continues as new with,
//! never in a file.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ContinueAsNewOptions, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use crate::activities::{
    ActionRequest, ConnectorActivities, HEARTBEAT_EVERY, PollOutcome, PollRequest,
};
use crate::downstream::Downstream;

/// Workflow type names, as other SDKs and `temporal workflow start --type` name them.
pub const ACTION_WORKFLOW: &str = "connector_action";
pub const TRIGGER_WORKFLOW: &str = "connector_trigger";

/// Polls per trigger workflow run before it continues as new: each poll adds about a dozen
/// history events (activity, timer, workflow tasks), so a run stays near 2,500, well below
/// the point where Temporal warns (10,240) and replaying a run costs anything.
pub const POLLS_PER_RUN: u32 = 200;

/// How long one attempt of an activity may take. The host bounds a single guest call far
/// below this; a poll that starts many downstream workflows takes longer.
const START_TO_CLOSE: Duration = Duration::from_secs(300);

fn heartbeat_timeout() -> Duration {
    HEARTBEAT_EVERY * 5
}

/// Activity options that heartbeat and retry with exponential backoff from 1 s up to
/// `max_interval`, at most `attempts` times (0: without end). Every activity of this crate is
/// started with them; what differs is how long an attempt may take and how often to try.
pub(crate) fn retried(
    start_to_close: Duration,
    max_interval: Duration,
    attempts: u32,
) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(start_to_close)
        .heartbeat_timeout(heartbeat_timeout())
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .backoff_coefficient(2.0)
                .maximum_interval(max_interval)
                .maximum_attempts(attempts)
                .build(),
        )
        .build()
}

/// An action's attempts: a few, backing off to a minute. Caller errors fail at once
/// (non-retryable failures); a `rate_limited` answer sets the next delay itself.
fn action_options() -> ActivityOptions {
    retried(START_TO_CLOSE, Duration::from_secs(60), 5)
}

/// A poll's attempts: without end while the failure is transient (an outage must not stop a
/// trigger), backing off to the poll interval; a non-retryable failure (forbidden, invalid
/// input) ends the trigger workflow as failed, for the operator to see.
fn poll_options(interval: Duration) -> ActivityOptions {
    retried(START_TO_CLOSE, interval.max(Duration::from_secs(1)), 0)
}

/// Runs one action and returns its output.
#[workflow]
#[derive(Default)]
pub struct ActionWorkflow;

#[workflow_methods]
impl ActionWorkflow {
    #[run(name = ACTION_WORKFLOW)]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        request: ActionRequest,
    ) -> WorkflowResult<Value> {
        Ok(ctx
            .execute_activity(ConnectorActivities::run_action, request, action_options())
            .await?)
    }
}

/// A trigger workflow's input, and what it continues as new with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerRequest {
    /// A connection reference.
    pub connection: String,
    pub trigger: String,
    #[serde(default)]
    pub input: Value,
    /// Seconds between polls that found nothing more to read.
    pub interval_secs: u64,
    pub downstream: Downstream,
    /// Where the previous run stopped.
    #[serde(default)]
    pub cursor: Option<Value>,
    #[serde(default = "polls_per_run")]
    pub polls_per_run: u32,
}

fn polls_per_run() -> u32 {
    POLLS_PER_RUN
}

/// The one workflow id of a (connection, trigger): a second start is refused while this one
/// runs, so a trigger has one poller however many workers and starters there are.
pub fn trigger_workflow_id(connection: &str, trigger: &str) -> String {
    format!("trigger:{connection}:{trigger}")
}

/// What a trigger workflow's `status` query answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerStatus {
    pub cursor: Option<Value>,
    /// Polls and deliveries of the current run.
    pub polls: u64,
    pub delivered: u64,
    pub already_delivered: u64,
}

/// Polls a trigger for as long as it runs: a poll, then a timer unless the poll said more
/// is waiting, and after [`TriggerRequest::polls_per_run`] polls (or when Temporal suggests
/// it) it continues as new with the cursor.
#[workflow]
#[derive(Default)]
pub struct TriggerWorkflow {
    status: TriggerStatus,
}

#[workflow_methods]
impl TriggerWorkflow {
    #[run(name = TRIGGER_WORKFLOW)]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        request: TriggerRequest,
    ) -> WorkflowResult<()> {
        let interval = Duration::from_secs(request.interval_secs);
        let mut cursor = request.cursor.clone();
        ctx.state_mut(|s| s.status.cursor = cursor.clone());
        for _ in 0..request.polls_per_run.max(1) {
            let poll = PollRequest {
                connection: request.connection.clone(),
                trigger: request.trigger.clone(),
                input: request.input.clone(),
                cursor: cursor.clone(),
                downstream: request.downstream.clone(),
            };
            let outcome: PollOutcome = ctx
                .execute_activity(
                    ConnectorActivities::poll_trigger,
                    poll,
                    poll_options(interval),
                )
                .await?;
            cursor = outcome.cursor.clone();
            ctx.state_mut(|s| {
                s.status.cursor = outcome.cursor.clone();
                s.status.polls += 1;
                s.status.delivered += u64::from(outcome.delivered);
                s.status.already_delivered += u64::from(outcome.already_delivered);
            });
            if ctx.continue_as_new_suggested() {
                break;
            }
            if !outcome.has_more {
                ctx.timer(interval).await;
            }
        }
        match ctx.continue_as_new(
            TriggerRequest { cursor, ..request },
            ContinueAsNewOptions::default(),
        )? {}
    }

    #[query]
    pub fn status(&self, _ctx: &WorkflowContextView) -> TriggerStatus {
        self.status.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_has_one_workflow_id_per_connection() {
        assert_eq!(
            trigger_workflow_id("acme", "workflow_launched"),
            "trigger:acme:workflow_launched"
        );
        assert_ne!(
            trigger_workflow_id("acme", "workflow_launched"),
            trigger_workflow_id("beta", "workflow_launched")
        );
    }

    #[test]
    fn a_continued_run_keeps_everything_but_the_cursor() {
        let request: TriggerRequest = serde_json::from_value(serde_json::json!({
            "connection": "acme", "trigger": "record_created", "interval_secs": 5,
            "downstream": { "workflow_type": "onRecord", "task_queue": "recipes" }
        }))
        .unwrap();
        assert_eq!(request.polls_per_run, POLLS_PER_RUN);
        assert_eq!(request.cursor, None);
        assert_eq!(request.input, Value::Null);
    }
}
