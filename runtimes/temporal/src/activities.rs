//! The activities this worker serves: one action through the host, and one poll of a trigger
//! with the delivery of its events. They run on the activity worker, the only place that
//! holds connection forms and tokens; their inputs and outputs, which Temporal records,
//! carry connection names, action inputs and outputs, events and cursors, nothing secret.

use std::sync::Arc;
use std::time::Duration;

use connector_host::{Runtime, Session, TokenStore};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::connections::Connections;
use crate::downstream::{self, Delivery, Downstream};
use crate::failure;

/// How often a running activity tells the cluster its worker is alive. The workflows set a
/// heartbeat timeout a few times this, so the attempt of a worker that died (`kill -9`, a
/// lost machine) is retried elsewhere within seconds, not after the whole start-to-close
/// timeout, while a slow API call that is still being made is left to finish.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// Downstream workflow starts one poll has in flight at once.
const DELIVERIES_AT_ONCE: usize = 16;

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

/// A loaded connector package and what it needs to act for a connection.
pub struct ConnectorActivities {
    runtime: Runtime,
    connections: Connections,
    tokens: TokenStore,
}

impl ConnectorActivities {
    pub fn new(runtime: Runtime, connections: Connections, tokens: TokenStore) -> Self {
        ConnectorActivities {
            runtime,
            connections,
            tokens,
        }
    }

    /// A session for the referenced connection. A session per activity: connecting only runs
    /// the connector's `plan` (the token lives in the token store, not in the session), and
    /// nothing of one tenant's call stays in memory for the next.
    async fn session(&self, connection: &str) -> Result<Session<'_>, ActivityError> {
        let form = self
            .connections
            .resolve(connection)
            .map_err(|e| failure::non_retryable("unknown_connection", e.to_string()))?;
        self.runtime
            .connect(form, self.tokens.clone())
            .await
            .map_err(failure::activity_error)
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
            let client = ctx.client();
            // Starts go out a few at a time: each is a round trip to the cluster, and their
            // order does not matter (each event has its own workflow id).
            let outcomes: Vec<Result<Delivery, downstream::DeliveryError>> =
                futures::stream::iter(polled.events)
                    .map(|event| {
                        let (client, request) = (&client, &request);
                        async move {
                            downstream::deliver(
                                client,
                                &request.downstream,
                                &request.trigger,
                                &request.connection,
                                &event,
                            )
                            .await
                        }
                    })
                    .buffer_unordered(DELIVERIES_AT_ONCE)
                    .collect()
                    .await;
            let (mut delivered, mut already_delivered) = (0, 0);
            for outcome in outcomes {
                // A failed start fails the attempt, and the poll is retried from the same
                // cursor: Temporal's own errors here (unavailable, throttled) are transient.
                match outcome.map_err(|e| ActivityError::from(anyhow::Error::from(e)))? {
                    Delivery::Started => delivered += 1,
                    Delivery::AlreadyDelivered => already_delivered += 1,
                }
            }
            Ok(PollOutcome {
                // A poll that returns no cursor leaves the trigger where it was.
                cursor: polled.cursor.or(request.cursor.clone()),
                has_more: polled.has_more,
                delivered,
                already_delivered,
            })
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
