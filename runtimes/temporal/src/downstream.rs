//! Handing a trigger's events to the workflows that act on them, each event once.
//!
//! Every event starts one downstream workflow whose id is `"{trigger}:{event.id}"`, with a
//! reject-duplicate id policy: a poll retried after a worker died mid-delivery, or the same
//! event seen again at a cursor boundary, asks for a start that Temporal refuses, so the
//! event reaches the downstream workflow once, whichever worker delivered it and however
//! often. This holds while the first execution is within the namespace's retention period;
//! cursors move past an event long before that.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{
    Client, UntypedWorkflow, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::data_converters::{PayloadConverter, RawValue};

use connector_host::triggers::Event;

/// Which workflow each event starts, and on which task queue: chosen by whoever starts the
/// trigger (the platform's recipe runner), never by the connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downstream {
    pub workflow_type: String,
    pub task_queue: String,
}

/// The downstream workflow's input. `connection` is the reference name, as everywhere in
/// workflow history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveredEvent {
    pub trigger: String,
    pub connection: String,
    pub id: String,
    pub payload: Value,
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Started,
    /// The event's workflow exists already (running or closed): delivered before.
    AlreadyDelivered,
}

#[derive(Debug, thiserror::Error)]
#[error("starting workflow `{workflow_id}` ({workflow_type}) for the event: {reason}")]
pub struct DeliveryError {
    pub workflow_id: String,
    pub workflow_type: String,
    pub reason: String,
}

/// Downstream workflow starts one poll or delivery has in flight at once.
const STARTS_AT_ONCE: usize = 16;

/// What became of a batch of events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events whose downstream workflow this call started.
    pub started: u32,
    /// Events whose downstream workflow existed already.
    pub already_delivered: u32,
}

/// Start every event's downstream workflow unless it exists already. Starts go out a few at a
/// time: each is a round trip to the cluster, and their order does not matter (each event
/// has its own workflow id). Any failed start fails the whole batch, after every start has
/// been tried: the caller retries the batch, and the events started by this call are then
/// refused by their ids, so none is delivered twice and none is lost.
pub async fn deliver_all(
    client: &Client,
    downstream: &Downstream,
    trigger: &str,
    connection: &str,
    events: Vec<Event>,
) -> Result<Tally, DeliveryError> {
    let outcomes: Vec<Result<Delivery, DeliveryError>> = futures::stream::iter(events)
        .map(|event| async move { deliver(client, downstream, trigger, connection, &event).await })
        .buffer_unordered(STARTS_AT_ONCE)
        .collect()
        .await;
    let mut tally = Tally::default();
    for outcome in outcomes {
        match outcome? {
            Delivery::Started => tally.started += 1,
            Delivery::AlreadyDelivered => tally.already_delivered += 1,
        }
    }
    Ok(tally)
}

/// The downstream workflow id of an event.
pub fn event_workflow_id(trigger: &str, event_id: &str) -> String {
    format!("{trigger}:{event_id}")
}

/// Start the event's downstream workflow unless it exists already.
pub async fn deliver(
    client: &Client,
    downstream: &Downstream,
    trigger: &str,
    connection: &str,
    event: &Event,
) -> Result<Delivery, DeliveryError> {
    let workflow_id = event_workflow_id(trigger, &event.id);
    let input = DeliveredEvent {
        trigger: trigger.to_string(),
        connection: connection.to_string(),
        id: event.id.clone(),
        payload: event.payload.clone(),
    };
    let options = WorkflowStartOptions::new(downstream.task_queue.clone(), workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .build();
    let started = client
        .start_workflow(
            UntypedWorkflow::new(downstream.workflow_type.clone()),
            RawValue::from_value(&input, &PayloadConverter::serde_json()),
            options,
        )
        .await;
    match started {
        Ok(_) => Ok(Delivery::Started),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(Delivery::AlreadyDelivered),
        Err(e) => Err(DeliveryError {
            workflow_id,
            workflow_type: downstream.workflow_type.clone(),
            reason: e.to_string(),
        }),
    }
}
