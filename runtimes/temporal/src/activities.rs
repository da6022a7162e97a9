//! The activities this worker serves: one action through the host, one poll of a trigger
//! with the delivery of its events, and subscribing or unsubscribing a webhook. They run on the activity worker, the only place that
//! holds connection forms and tokens; their inputs and outputs, which Temporal records,
//! carry connection names, action inputs and outputs, events and cursors, nothing secret.

use std::sync::Arc;
use std::time::Duration;

use connector_host::Session;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::connector::{Connector, SessionError};
use crate::downstream::{self, Downstream};
use crate::failure;
use crate::subscription::WebhookRequest;

/// How often a running activity tells the cluster its worker is alive. The workflows set a
/// heartbeat timeout a few times this, so the attempt of a worker that died (`kill -9`, a
/// lost machine) is retried elsewhere within seconds, not after the whole start-to-close
/// timeout, while a slow API call that is still being made is left to finish.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// `run_action`'s input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// A connection reference: a name in the worker's connections file.
    pub connection: String,
    pub action: String,
    #[serde(default)]
    pub input: Value,
}

/// `poll_trigger`'s input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollRequest {
    pub connection: String,
    pub trigger: String,
    #[serde(default)]
    pub input: Value,
    /// Where the previous poll stopped; none on a trigger's first poll.
    pub cursor: Option<Value>,
    pub downstream: Downstream,
}

/// What one poll did. The cursor is the trigger workflow's state from here on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollOutcome {
    pub cursor: Option<Value>,
    pub has_more: bool,
    /// Events whose downstream workflow this poll started.
    pub delivered: u32,
    /// Events whose downstream workflow existed already (a retried poll, a cursor boundary).
    pub already_delivered: u32,
}

/// The activities of one worker, over its [`Connector`].
pub struct ConnectorActivities {
    connector: Arc<Connector>,
}

impl ConnectorActivities {
    pub fn new(connector: Arc<Connector>) -> Self {
        ConnectorActivities { connector }
    }

    /// A session for the referenced connection; an unknown name is a non-retryable
    /// `unknown_connection` failure (another attempt would find the same file).
    async fn session(&self, connection: &str) -> Result<Session<'_>, ActivityError> {
        self.connector
            .session(connection)
            .await
            .map_err(|e| match e {
                SessionError::Unknown(e) => {
                    failure::non_retryable("unknown_connection", e.to_string())
                }
                SessionError::Connect(e) => failure::activity_error(e),
            })
    }
}

#[activities]
impl ConnectorActivities {
    /// Run one action of the connector for a connection, through the host: egress policy,
    /// OAuth and the token store, the host's own retries of safe requests and pacing.
    #[activity(name = "run_action")]
    pub async fn run_action(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: ActionRequest,
    ) -> Result<Value, ActivityError> {
        let work = async {
            let session = self.session(&request.connection).await?;
            session
                .execute(&request.action, &request.input)
                .await
                .map_err(failure::activity_error)
        };
        while_heartbeating(&ctx, work).await
    }

    /// Poll a trigger once from the cursor and start every event's downstream workflow.
    /// A failed attempt is retried from the same cursor: events it delivered already are
    /// refused by their workflow ids, so none is delivered twice and none is skipped.
    #[activity(name = "poll_trigger")]
    pub async fn poll_trigger(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: PollRequest,
    ) -> Result<PollOutcome, ActivityError> {
        let work = async {
            let session = self.session(&request.connection).await?;
            let polled = session
                .poll(&request.trigger, &request.input, request.cursor.as_ref())
                .await
                .map_err(failure::activity_error)?;
            // A failed start fails the attempt, and the poll is retried from the same
            // cursor: Temporal's own errors here (unavailable, throttled) are transient.
            let tally = downstream::deliver_all(
                &ctx.client(),
                &request.downstream,
                &request.trigger,
                &request.connection,
                polled.events,
            )
            .await
            .map_err(|e| ActivityError::from(anyhow::Error::from(e)))?;
            Ok(PollOutcome {
                // A poll that returns no cursor leaves the trigger where it was.
                cursor: polled.cursor.or(request.cursor.clone()),
                has_more: polled.has_more,
                delivered: tally.started,
                already_delivered: tally.already_delivered,
            })
        };
        while_heartbeating(&ctx, work).await
    }

    /// Register the webhook of a trigger with the API, delivering to the request's target
    /// (the ingress), and return the connector's subscription state.
    #[activity(name = "subscribe_webhook")]
    pub async fn subscribe_webhook(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: WebhookRequest,
    ) -> Result<Value, ActivityError> {
        let work = async {
            let session = self.session(&request.connection).await?;
            session
                .subscribe(&request.trigger, &request.input, &request.target_url)
                .await
                .map(|sub| sub.state)
                .map_err(failure::activity_error)
        };
        while_heartbeating(&ctx, work).await
    }

    /// Remove the webhook registration the subscription state names.
    #[activity(name = "unsubscribe_webhook")]
    pub async fn unsubscribe_webhook(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: WebhookRequest,
    ) -> Result<(), ActivityError> {
        let work = async {
            let Some(sub) = request.host_subscription() else {
                return Ok(()); // never subscribed: nothing to remove
            };
            let session = self.session(&request.connection).await?;
            session
                .unsubscribe(&sub)
                .await
                .map_err(failure::activity_error)
        };
        while_heartbeating(&ctx, work).await
    }
}

/// Run `work`, heartbeating every [`HEARTBEAT_EVERY`] until it ends.
async fn while_heartbeating<T>(
    ctx: &ActivityContext,
    work: impl Future<Output = Result<T, ActivityError>>,
) -> Result<T, ActivityError> {
    let mut work = std::pin::pin!(work);
    let mut ticks = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticks.tick() => {
                // A heartbeat that cannot be recorded only costs liveness information: the
                // work goes on, and the cluster's timeout decides.
                let _ = ctx.record_heartbeat(()).await;
            }
        }
    }
}
