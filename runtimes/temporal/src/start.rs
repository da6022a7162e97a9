//! Starting work on the cluster from the command line: one action as a workflow, and a
//! polling trigger's workflow. What they send is a connection reference and the action's or
//! trigger's input, never a form.

use serde_json::{Value, json};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowStartError};
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
    WorkflowStartOptions,
};
use temporalio_common::protos::temporal::api::failure::v1::{Failure, failure::FailureInfo};

use crate::activities::ActionRequest;
use crate::downstream::Downstream;
use crate::workflows::{
    ActionWorkflow, POLLS_PER_RUN, TriggerRequest, TriggerWorkflow, trigger_workflow_id,
};

#[derive(Debug, Clone, clap::Args)]
pub struct RunActionArgs {
    /// The connection reference (a name in the workers' connections file).
    #[arg(long)]
    pub connection: String,
    /// The action's key (`describe` lists them).
    #[arg(long)]
    pub action: String,
    /// The action's input, JSON.
    #[arg(long, default_value = "{}", value_parser = parse_json)]
    pub input: Value,
    /// The workflow id (default: `action:{action}:{random}`). Reusing one refuses a second
    /// run of the same request.
    #[arg(long)]
    pub workflow_id: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StartTriggerArgs {
    /// The connection reference.
    #[arg(long)]
    pub connection: String,
    /// The trigger's key; it must support polling.
    #[arg(long)]
    pub trigger: String,
    /// The trigger's input, JSON.
    #[arg(long, default_value = "{}", value_parser = parse_json)]
    pub input: Value,
    /// Seconds between polls that found nothing more to read.
    #[arg(long, default_value_t = 60)]
    pub interval: u64,
    /// The workflow type each event starts (with the id `{trigger}:{event id}`).
    #[arg(long)]
    pub downstream_workflow: String,
    /// The task queue of the downstream workflows.
    #[arg(long)]
    pub downstream_task_queue: String,
    /// Polls per workflow run before it continues as new.
    #[arg(long, default_value_t = POLLS_PER_RUN)]
    pub polls_per_run: u32,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The one poller of this (connection, trigger) runs already: nothing was started.
    #[error("trigger workflow `{workflow_id}` is already running: one poller per trigger")]
    AlreadyPolling { workflow_id: String },
    #[error("starting workflow `{workflow_id}`: {reason}")]
    Start { workflow_id: String, reason: String },
    /// The action failed; `kind` is the connector's error kind when it was one.
    #[error("{kind}: {message}")]
    Failed { kind: String, message: String },
    #[error("waiting for workflow `{workflow_id}`: {reason}")]
    Result { workflow_id: String, reason: String },
}

impl StartError {
    /// `{"error": {"kind", "message"}}`, as `connector-harness` prints a failed call.
    pub fn to_json(&self) -> Value {
        let (kind, message) = match self {
            StartError::Failed { kind, message } => (kind.as_str(), message.clone()),
            StartError::AlreadyPolling { .. } => ("already_polling", self.to_string()),
            _ => ("temporal", self.to_string()),
        };
        json!({ "error": { "kind": kind, "message": message } })
    }
}

/// Run one action as a workflow on `task_queue` and wait for its output.
pub async fn run_action(
    client: &Client,
    task_queue: &str,
    args: RunActionArgs,
) -> Result<Value, StartError> {
    let workflow_id = args
        .workflow_id
        .unwrap_or_else(|| format!("action:{}:{}", args.action, uuid::Uuid::new_v4()));
    let request = ActionRequest {
        connection: args.connection,
        action: args.action,
        input: args.input,
    };
    let options = WorkflowStartOptions::new(task_queue.to_string(), workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .build();
    let handle = client
        .start_workflow(ActionWorkflow::run, request, options)
        .await
        .map_err(|e| StartError::Start {
            workflow_id: workflow_id.clone(),
            reason: e.to_string(),
        })?;
    match handle.get_result(WorkflowGetResultOptions::default()).await {
        Ok(output) => Ok(output),
        Err(WorkflowGetResultError::Failed(e)) => {
            let (kind, message) = application_failure(e.failure());
            Err(StartError::Failed { kind, message })
        }
        Err(e) => Err(StartError::Result {
            workflow_id,
            reason: e.to_string(),
        }),
    }
}

/// Start the trigger's poller unless it runs already. Its id is derived from (connection,
/// trigger), so this is refused while it runs; a trigger stopped before may start again.
pub async fn start_trigger(
    client: &Client,
    task_queue: &str,
    args: StartTriggerArgs,
) -> Result<Value, StartError> {
    let workflow_id = trigger_workflow_id(&args.connection, &args.trigger);
    let request = TriggerRequest {
        connection: args.connection,
        trigger: args.trigger,
        input: args.input,
        interval_secs: args.interval,
        downstream: Downstream {
            workflow_type: args.downstream_workflow,
            task_queue: args.downstream_task_queue,
        },
        cursor: None,
        polls_per_run: args.polls_per_run,
    };
    let options = WorkflowStartOptions::new(task_queue.to_string(), workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .build();
    match client
        .start_workflow(TriggerWorkflow::run, request, options)
        .await
    {
        Ok(handle) => Ok(json!({ "workflow_id": workflow_id, "run_id": handle.run_id() })),
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            Err(StartError::AlreadyPolling { workflow_id })
        }
        Err(e) => Err(StartError::Start {
            workflow_id,
            reason: e.to_string(),
        }),
    }
}

/// The innermost application failure's type and message (the connector's error kind, set by
/// [`crate::failure`]); else the outermost message.
fn application_failure(failure: &Failure) -> (String, String) {
    let mut found = None;
    let mut next = Some(failure);
    while let Some(f) = next {
        if let Some(FailureInfo::ApplicationFailureInfo(info)) = &f.failure_info {
            found = Some((info.r#type.clone(), f.message.clone()));
        }
        next = f.cause.as_deref();
    }
    found.unwrap_or_else(|| ("failed".to_string(), failure.message.clone()))
}
