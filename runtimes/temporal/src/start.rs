//! Starting work on the cluster from the command line: one action as a workflow, a polling
//! trigger's workflow, and a webhook subscription's workflow (and stopping it). What they send is a connection reference and the action's or
//! trigger's input, never a form.

use serde_json::{Value, json};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowStartError};
use temporalio_client::{
    Client, Url, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
    WorkflowSignalOptions, WorkflowStartOptions,
};
use temporalio_common::protos::temporal::api::failure::v1::{Failure, failure::FailureInfo};

use crate::activities::ActionRequest;
use crate::downstream::Downstream;
use crate::subscription::{WebhookRequest, WebhookWorkflow, webhook_workflow_id};
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

/// Which trigger of which connection, and what each of its events starts: what every trigger
/// workflow, polling or webhook, is started with.
#[derive(Debug, Clone, clap::Args)]
pub struct TriggerArgs {
    /// The connection reference.
    #[arg(long)]
    pub connection: String,
    /// The trigger's key; it must support the mode started (polling or webhook).
    #[arg(long)]
    pub trigger: String,
    /// The trigger's input, JSON.
    #[arg(long, default_value = "{}", value_parser = parse_json)]
    pub input: Value,
    /// The workflow type each event starts (with the id `{trigger}:{event id}`).
    #[arg(long)]
    pub downstream_workflow: String,
    /// The task queue of the downstream workflows.
    #[arg(long)]
    pub downstream_task_queue: String,
}

impl TriggerArgs {
    fn downstream(&self) -> Downstream {
        Downstream {
            workflow_type: self.downstream_workflow.clone(),
            task_queue: self.downstream_task_queue.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct StartTriggerArgs {
    #[command(flatten)]
    pub trigger: TriggerArgs,
    /// Seconds between polls that found nothing more to read.
    #[arg(long, default_value_t = 60)]
    pub interval: u64,
    /// Polls per workflow run before it continues as new.
    #[arg(long, default_value_t = POLLS_PER_RUN)]
    pub polls_per_run: u32,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StartWebhookArgs {
    #[command(flatten)]
    pub trigger: TriggerArgs,
    /// The public URL of the workers' `--ingress` (a load balancer in front of them);
    /// deliveries go to `{URL}/webhooks/{connection}/{trigger}`.
    #[arg(long, value_parser = parse_url)]
    pub ingress_url: Url,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StopWebhookArgs {
    /// The connection reference.
    #[arg(long)]
    pub connection: String,
    /// The trigger's key.
    #[arg(long)]
    pub trigger: String,
}

fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        _ => Err("an http(s) URL with a host, e.g. https://hooks.example.com".to_string()),
    }
}

/// Where a subscription's deliveries go: `{ingress}/webhooks/{connection}/{trigger}`, each
/// name one percent-encoded path segment.
pub fn delivery_url(ingress: &Url, connection: &str, trigger: &str) -> String {
    let mut url = ingress.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .expect("an http(s) URL has a path")
        .pop_if_empty()
        .extend(["webhooks", connection, trigger]);
    url.to_string()
}

pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The one poller of this (connection, trigger) runs already: nothing was started.
    #[error("trigger workflow `{workflow_id}` is already running: one poller per trigger")]
    AlreadyPolling { workflow_id: String },
    /// The subscription of this (connection, trigger) exists already.
    #[error("webhook workflow `{workflow_id}` is already running: one subscription per trigger")]
    AlreadySubscribed { workflow_id: String },
    #[error("no webhook workflow `{workflow_id}` is running")]
    NotSubscribed { workflow_id: String },
    #[error("starting workflow `{workflow_id}`: {reason}")]
    Start { workflow_id: String, reason: String },
    /// The action failed; `kind` is the connector's error kind when it was one.
    #[error("{kind}: {message}")]
    Failed { kind: String, message: String },
    #[error("waiting for workflow `{workflow_id}`: {reason}")]
    Result { workflow_id: String, reason: String },
}

impl StartError {
    /// The cluster refused to start `workflow_id`.
    pub fn start(workflow_id: &str, reason: impl std::fmt::Display) -> Self {
        StartError::Start {
            workflow_id: workflow_id.to_string(),
            reason: reason.to_string(),
        }
    }

    /// `{"error": {"kind", "message"}}`, as `connector-harness` prints a failed call.
    pub fn to_json(&self) -> Value {
        let (kind, message) = match self {
            StartError::Failed { kind, message } => (kind.as_str(), message.clone()),
            StartError::AlreadyPolling { .. } => ("already_polling", self.to_string()),
            StartError::AlreadySubscribed { .. } => ("already_subscribed", self.to_string()),
            StartError::NotSubscribed { .. } => ("not_subscribed", self.to_string()),
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
        .map_err(|e| StartError::start(&workflow_id, e))?;
    handle
        .get_result(WorkflowGetResultOptions::default())
        .await
        .map_err(|e| result_error(&workflow_id, e))
}

/// Start options for a workflow that runs once per id: refused while one runs, allowed again
/// once it has ended.
fn one_per_id(task_queue: &str, workflow_id: &str) -> WorkflowStartOptions {
    WorkflowStartOptions::new(task_queue.to_string(), workflow_id.to_string())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .build()
}

/// Start the trigger's poller unless it runs already. Its id is derived from (connection,
/// trigger), so this is refused while it runs; a trigger stopped before may start again.
pub async fn start_trigger(
    client: &Client,
    task_queue: &str,
    args: StartTriggerArgs,
) -> Result<Value, StartError> {
    let t = args.trigger;
    let workflow_id = trigger_workflow_id(&t.connection, &t.trigger);
    let request = TriggerRequest {
        downstream: t.downstream(),
        connection: t.connection,
        trigger: t.trigger,
        input: t.input,
        interval_secs: args.interval,
        cursor: None,
        polls_per_run: args.polls_per_run,
    };
    match client
        .start_workflow(
            TriggerWorkflow::run,
            request,
            one_per_id(task_queue, &workflow_id),
        )
        .await
    {
        Ok(handle) => Ok(json!({ "workflow_id": workflow_id, "run_id": handle.run_id() })),
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            Err(StartError::AlreadyPolling { workflow_id })
        }
        Err(e) => Err(StartError::start(&workflow_id, e)),
    }
}

/// Start the subscription workflow of a webhook trigger unless it runs already; it
/// subscribes, then holds the subscription until `stop-webhook`.
pub async fn start_webhook(
    client: &Client,
    task_queue: &str,
    args: StartWebhookArgs,
) -> Result<Value, StartError> {
    let t = args.trigger;
    let workflow_id = webhook_workflow_id(&t.connection, &t.trigger);
    let target_url = delivery_url(&args.ingress_url, &t.connection, &t.trigger);
    let request = WebhookRequest {
        downstream: t.downstream(),
        connection: t.connection,
        trigger: t.trigger,
        input: t.input,
        target_url: target_url.clone(),
        state: None,
    };
    match client
        .start_workflow(
            WebhookWorkflow::run,
            request,
            one_per_id(task_queue, &workflow_id),
        )
        .await
    {
        Ok(handle) => Ok(json!({
            "workflow_id": workflow_id,
            "run_id": handle.run_id(),
            "target_url": target_url,
        })),
        Err(WorkflowStartError::AlreadyStarted { .. }) => {
            Err(StartError::AlreadySubscribed { workflow_id })
        }
        Err(e) => Err(StartError::start(&workflow_id, e)),
    }
}

/// Tell a subscription to unsubscribe, and wait until it has.
pub async fn stop_webhook(client: &Client, args: StopWebhookArgs) -> Result<Value, StartError> {
    let workflow_id = webhook_workflow_id(&args.connection, &args.trigger);
    let handle = client.get_workflow_handle::<WebhookWorkflow>(workflow_id.as_str());
    let signalled = handle
        .signal(WebhookWorkflow::stop, (), WorkflowSignalOptions::default())
        .await;
    if let Err(e) = signalled {
        let reason = e.to_string();
        return Err(
            if reason.to_lowercase().contains("not found") || reason.contains("already completed") {
                StartError::NotSubscribed { workflow_id }
            } else {
                StartError::start(&workflow_id, reason)
            },
        );
    }
    handle
        .get_result(WorkflowGetResultOptions::default())
        .await
        .map_err(|e| result_error(&workflow_id, e))?;
    Ok(json!({ "workflow_id": workflow_id, "unsubscribed": true }))
}

/// A workflow that failed (with the connector's error kind when it was one), or whose result
/// could not be read.
fn result_error(workflow_id: &str, e: WorkflowGetResultError) -> StartError {
    match e {
        WorkflowGetResultError::Failed(e) => {
            let (kind, message) = application_failure(e.failure());
            StartError::Failed { kind, message }
        }
        e => StartError::Result {
            workflow_id: workflow_id.to_string(),
            reason: e.to_string(),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_go_to_one_encoded_path_per_subscription() {
        let at = |base: &str, connection: &str| {
            delivery_url(&parse_url(base).unwrap(), connection, "workflow_launched")
        };
        assert_eq!(
            at("https://hooks.example.com", "acme"),
            "https://hooks.example.com/webhooks/acme/workflow_launched"
        );
        assert_eq!(
            at("https://hooks.example.com/ironclad/?x=1#f", "acme prod/eu"),
            "https://hooks.example.com/ironclad/webhooks/acme%20prod%2Feu/workflow_launched"
        );
        assert!(parse_url("ftp://hooks.example.com").is_err());
        assert!(parse_url("hooks.example.com").is_err());
    }
}
