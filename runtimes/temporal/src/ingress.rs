//! The webhook ingress: the HTTP endpoint a subscription's deliveries arrive at
//! (`POST /webhooks/{connection}/{trigger}`), served by any worker started with `--ingress`,
//! as many as a load balancer spreads deliveries over.
//!
//! A delivery is verified by the connector (`handle-webhook`: signature, freshness, a rotated
//! key fetched when needed), then each of its events starts its downstream workflow with the
//! id `"{trigger}:{event.id}"` and the reject-duplicate policy, as a polled event does. The
//! answer is 2xx only after every start is durable in Temporal (started now, or refused as
//! started before). Anything short of that answers 5xx: Ironclad retries, to whichever worker
//! the balancer picks, and the retry's starts collapse on the ids. A worker that dies between
//! the durable start and its answer leaves a retry that finds the workflows there already.
//!
//! The subscription a delivery belongs to is read from its workflow (`webhook:{connection}:
//! {trigger}`, the `subscription` query) and kept for [`KEEP_FOR`]; a rotated key the
//! connector fetched goes back to the workflow as a signal. Deliveries for a subscription
//! that no longer runs are answered 410, which makes Ironclad disable the orphaned webhook.
//! Connections, bodies and forged deliveries are bounded as in every receiver
//! (`connector_receiver`); the forged-delivery budget is per worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;
use temporalio_client::errors::WorkflowQueryError;
use temporalio_client::{
    Client, QueryRejectCondition, WorkflowQueryOptions, WorkflowSignalOptions,
};
use tokio::net::TcpListener;

use connector_host::triggers::Subscription;
use connector_receiver::{Answer, Delivery};

use crate::connector::Connector;
use crate::downstream;
use crate::subscription::{WebhookRequest, WebhookWorkflow, webhook_workflow_id};

/// How long a subscription read from its workflow is used before it is read again. A
/// subscription stopped meanwhile has been removed from the API, so nothing is delivered
/// to it in that time but the retries of deliveries sent before.
pub const KEEP_FOR: Duration = Duration::from_secs(30);
/// Subscriptions kept at once; past this the oldest half is dropped (and read again when
/// needed), so deliveries to many paths cannot grow the worker's memory without bound.
const KEPT_AT_MOST: usize = 10_000;
/// What a 503 asks the sender to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 5;

/// The path a subscription's deliveries are sent to, under the ingress's public URL.
pub const PATH: &str = "/webhooks/{connection}/{trigger}";

/// A subscription as this worker last read it, with its forged-delivery count.
struct Kept {
    request: WebhookRequest,
    subscription: Subscription,
    read_at: Instant,
}

pub struct Ingress {
    connector: Arc<Connector>,
    client: Client,
    kept: Mutex<HashMap<String, Kept>>,
}

impl Ingress {
    pub fn new(connector: Arc<Connector>, client: Client) -> Self {
        Ingress {
            connector,
            client,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// Serve deliveries on `listener` until `stop` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, stop: impl Future<Output = ()>) {
        let app = Router::new().route(PATH, post(receive)).with_state(self);
        connector_receiver::serve(listener, app, stop).await;
    }

    /// Verify one delivery and start its events' workflows; the answer for the sender.
    pub async fn handle(&self, connection: &str, trigger: &str, delivery: Delivery) -> Answer {
        let (request, mut subscription, read_at) =
            match self.subscription(connection, trigger).await {
                Ok(found) => found,
                Err(answer) => return answer,
            };
        let session = match self.connector.session(connection).await {
            Ok(session) => session,
            // This worker cannot act for the connection (its connections file lacks it, or
            // the form is refused): another worker behind the balancer may.
            Err(e) => return unavailable("connection", &e),
        };
        let kept_state = subscription.state.clone();
        let handled = session
            .handle_webhook(&mut subscription, delivery.headers, delivery.body)
            .await;
        if subscription.state != kept_state {
            self.key_rotated(connection, trigger, &subscription).await;
        }
        let events = match handled {
            Ok(events) => events,
            Err(e) => {
                self.keep(connection, trigger, request, subscription, read_at);
                return Answer::refusal(&e);
            }
        };
        self.keep(connection, trigger, request.clone(), subscription, read_at);
        let received = events.len();
        match downstream::deliver_all(
            &self.client,
            &request.downstream,
            trigger,
            connection,
            events,
        )
        .await
        {
            Ok(tally) => Answer::new(
                StatusCode::OK,
                json!({
                    "received": received,
                    "started": tally.started,
                    "already_delivered": tally.already_delivered,
                }),
            ),
            Err(e) => unavailable("temporal", &e),
        }
    }

    /// The subscription of (connection, trigger), and when it was read from its workflow: kept,
    /// or read now.
    async fn subscription(
        &self,
        connection: &str,
        trigger: &str,
    ) -> Result<(WebhookRequest, Subscription, Instant), Answer> {
        let workflow_id = webhook_workflow_id(connection, trigger);
        let forgeries = {
            let kept = self.kept.lock().expect("the ingress's subscriptions");
            match kept.get(&workflow_id) {
                Some(k) if k.read_at.elapsed() < KEEP_FOR => {
                    return Ok((k.request.clone(), k.subscription.clone(), k.read_at));
                }
                Some(k) => k.subscription.forgeries.clone(),
                None => Default::default(),
            }
        };
        let options = WorkflowQueryOptions::builder()
            .reject_condition(QueryRejectCondition::NotOpen)
            .build();
        let read_at = Instant::now();
        let status = self
            .client
            .get_workflow_handle::<WebhookWorkflow>(workflow_id.as_str())
            .query(WebhookWorkflow::subscription, (), options)
            .await;
        let request = match status {
            Ok(status) => status.request,
            Err(WorkflowQueryError::NotFound(_) | WorkflowQueryError::Rejected { .. }) => {
                eprintln!(
                    "connector-temporal ingress: a delivery for `{workflow_id}`, which does not run: 410"
                );
                return Err(Answer::new(
                    StatusCode::GONE,
                    json!({ "error": { "kind": "not_subscribed" } }),
                ));
            }
            Err(e) => return Err(unavailable("temporal", &e)),
        };
        let Some(mut subscription) = request.host_subscription() else {
            // Registered with the API a moment ago, not yet recorded by the workflow.
            return Err(unavailable(
                "subscribing",
                &format!("workflow `{workflow_id}` is still subscribing"),
            ));
        };
        subscription.forgeries = forgeries;
        Ok((request, subscription, read_at))
    }

    fn keep(
        &self,
        connection: &str,
        trigger: &str,
        request: WebhookRequest,
        sub: Subscription,
        read_at: Instant,
    ) {
        let mut kept = self.kept.lock().expect("the ingress's subscriptions");
        if kept.len() >= KEPT_AT_MOST {
            let mut ages: Vec<Instant> = kept.values().map(|k| k.read_at).collect();
            ages.sort();
            let cut = ages[ages.len() / 2];
            kept.retain(|_, k| k.read_at > cut);
        }
        kept.insert(
            webhook_workflow_id(connection, trigger),
            Kept {
                request: WebhookRequest {
                    state: Some(sub.state.clone()),
                    ..request
                },
                subscription: sub,
                read_at,
            },
        );
    }

    /// Hand the connector's replacement state (a re-fetched key) to the subscription's
    /// workflow. Best effort: without it, the next worker to read the subscription fetches
    /// the key once more.
    async fn key_rotated(&self, connection: &str, trigger: &str, sub: &Subscription) {
        let workflow_id = webhook_workflow_id(connection, trigger);
        let signalled = self
            .client
            .get_workflow_handle::<WebhookWorkflow>(workflow_id.as_str())
            .signal(
                WebhookWorkflow::key_rotated,
                sub.state.clone(),
                WorkflowSignalOptions::default(),
            )
            .await;
        if let Err(e) = signalled {
            eprintln!(
                "connector-temporal ingress: keeping the rotated key of `{workflow_id}`: {e}"
            );
        }
    }
}

/// 503 with `Retry-After`: the delivery is not accepted yet, and a retry may be. The reason
/// goes to the worker's log; whoever can reach the ingress only learns its kind.
fn unavailable(kind: &str, reason: &dyn std::fmt::Display) -> Answer {
    eprintln!("connector-temporal ingress: a delivery is not accepted yet ({kind}): {reason}");
    Answer {
        retry_after: Some(RETRY_AFTER_SECS),
        ..Answer::new(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": { "kind": kind } }),
        )
    }
}

async fn receive(
    State(ingress): State<Arc<Ingress>>,
    Path((connection, trigger)): Path<(String, String)>,
    request: Request,
) -> Answer {
    match connector_receiver::read_delivery(request).await {
        Ok(delivery) => ingress.handle(&connection, &trigger, delivery).await,
        Err(refused) => refused,
    }
}
