//! A webhook trigger's subscription as a workflow that owns its lifetime: it subscribes (an
//! activity), keeps the connector's subscription state (webhook id, verification key) for the
//! ingress to read, takes a rotated key from the ingress, and unsubscribes (an activity) when
//! told to stop. One per (connection, trigger), by its workflow id.
//!
//! The subscription state is in workflow history: for Ironclad it is the webhook's id, target
//! and events and Ironclad's public key, nothing secret. Deliveries themselves never enter
//! this workflow: the ingress verifies them and starts each event's workflow directly.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ContinueAsNewOptions, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};

use connector_host::triggers::{Forgeries, SeenIds, Subscription};

use crate::activities::ConnectorActivities;
use crate::downstream::Downstream;
use crate::workflows::retried;

/// The workflow type, as other SDKs and `temporal workflow start --type` name it.
pub const WEBHOOK_WORKFLOW: &str = "connector_webhook";

/// Key rotations taken before the workflow continues as new (each adds a signal to history).
const ROTATIONS_PER_RUN: u32 = 500;

/// The one workflow id of a webhook subscription: a second start is refused while it runs,
/// and the ingress finds the subscription of a delivery by it.
pub fn webhook_workflow_id(connection: &str, trigger: &str) -> String {
    format!("webhook:{connection}:{trigger}")
}

/// A webhook subscription: which trigger of which connection, delivered where, and what each
/// event starts. The input of the workflow and of its activities, and what the ingress reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRequest {
    /// A connection reference.
    pub connection: String,
    pub trigger: String,
    #[serde(default)]
    pub input: Value,
    /// The ingress URL Ironclad delivers to (`{ingress}/webhooks/{connection}/{trigger}`).
    pub target_url: String,
    pub downstream: Downstream,
    /// The connector's subscription state once subscribed (kept across continue-as-new).
    #[serde(default)]
    pub state: Option<Value>,
}

impl WebhookRequest {
    /// The subscription as the host's `handle_webhook` and `unsubscribe` take it, once
    /// subscribed. No seen ids: duplicates are refused by the events' workflow ids instead,
    /// which hold across workers and restarts.
    pub fn host_subscription(&self) -> Option<Subscription> {
        Some(Subscription {
            trigger: self.trigger.clone(),
            input: self.input.clone(),
            target_url: self.target_url.clone(),
            state: self.state.clone()?,
            seen: SeenIds::default(),
            forgeries: Forgeries::default(),
        })
    }
}

/// What the `subscription` query answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookStatus {
    pub request: WebhookRequest,
    /// Told to stop: unsubscribing, or unsubscribed.
    pub stopping: bool,
}

/// Subscribing and unsubscribing: a few attempts; the connector re-points an existing
/// registration of the same target, so a repeated subscribe makes no second webhook.
fn options() -> ActivityOptions {
    retried(Duration::from_secs(120), Duration::from_secs(60), 10)
}

#[workflow]
pub struct WebhookWorkflow {
    request: WebhookRequest,
    stop: bool,
    rotations: u32,
}

#[workflow_methods]
impl WebhookWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, request: WebhookRequest) -> Self {
        WebhookWorkflow {
            request,
            stop: false,
            rotations: 0,
        }
    }

    /// Subscribe unless a previous run did, hold the subscription until told to stop, then
    /// unsubscribe.
    #[run(name = WEBHOOK_WORKFLOW)]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let request = ctx.state(|s| s.request.clone());
        if request.state.is_none() {
            let state: Value = ctx
                .execute_activity(
                    ConnectorActivities::subscribe_webhook,
                    request.clone(),
                    options(),
                )
                .await?;
            ctx.state_mut(|s| s.request.state = Some(state));
        }
        ctx.wait_condition(|s| s.stop || s.rotations >= ROTATIONS_PER_RUN)
            .await?;
        let request = ctx.state(|s| s.request.clone());
        if !ctx.state(|s| s.stop) {
            match ctx.continue_as_new(request, ContinueAsNewOptions::default())? {}
        }
        ctx.execute_activity(ConnectorActivities::unsubscribe_webhook, request, options())
            .await?;
        Ok(())
    }

    /// Unsubscribe and end.
    #[signal(name = "stop")]
    pub fn stop(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.stop = true;
    }

    /// The connector re-fetched a rotated verification key while verifying a delivery: keep
    /// its replacement state, so that the next ingress to read it does not fetch it again.
    #[signal(name = "key_rotated")]
    pub fn key_rotated(&mut self, _ctx: &mut SyncWorkflowContext<Self>, state: Value) {
        if self.request.state.is_some() {
            self.request.state = Some(state);
            self.rotations += 1;
        }
    }

    #[query]
    pub fn subscription(&self, _ctx: &WorkflowContextView) -> WebhookStatus {
        WebhookStatus {
            request: self.request.clone(),
            stopping: self.stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_subscription_reaches_the_host_only_once_subscribed() {
        let mut request: WebhookRequest = serde_json::from_value(json!({
            "connection": "acme", "trigger": "workflow_launched",
            "target_url": "https://hooks.example.com/webhooks/acme/workflow_launched",
            "downstream": { "workflow_type": "onLaunch", "task_queue": "recipes" }
        }))
        .unwrap();
        assert_eq!(request.host_subscription(), None);
        request.state = Some(json!({ "webhook_id": "wh1" }));
        let sub = request.host_subscription().unwrap();
        assert_eq!(
            (sub.trigger.as_str(), &sub.state),
            ("workflow_launched", &json!({ "webhook_id": "wh1" }))
        );
        assert_eq!(sub.seen, SeenIds::default());
        assert_eq!(
            webhook_workflow_id("acme", "workflow_launched"),
            "webhook:acme:workflow_launched"
        );
    }
}
