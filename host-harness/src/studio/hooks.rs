//! Webhook deliveries: the receiver the page's subscriptions point at (`/hooks/{trigger}`),
//! and the log of what arrived, which the page reads with `GET /api/deliveries?after=N`.
//!
//! A delivery is verified by the connector (`handle-webhook`) with the subscription's state;
//! the answer follows what the sender should do next (`connector_receiver::Answer`). Both
//! verified deliveries and refused ones are logged: a reviewer wants to see a forgery refused.

use std::collections::VecDeque;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use serde::Deserialize;
use serde_json::{Value, json};

use connector_receiver::Answer;

use super::api::State as Studio;

/// Deliveries kept for the page; older ones are dropped first.
const KEPT: usize = 500;

/// What arrived, oldest first, each with its sequence number.
#[derive(Default)]
pub struct Log {
    next: u64,
    entries: VecDeque<Value>,
}

impl Log {
    fn push(&mut self, trigger: &str, outcome: Result<Value, Value>) {
        self.next += 1;
        let (events, refused) = match outcome {
            Ok(events) => (events, Value::Null),
            Err(refused) => (Value::Null, refused),
        };
        self.entries.push_back(json!({
            "seq": self.next,
            "trigger": trigger,
            "received_at": jiff::Timestamp::now().to_string(),
            "events": events,
            "refused": refused,
        }));
        if self.entries.len() > KEPT {
            self.entries.pop_front();
        }
    }

    fn after(&self, seq: u64) -> Value {
        let deliveries: Vec<&Value> = self
            .entries
            .iter()
            .filter(|e| e["seq"].as_u64().is_some_and(|s| s > seq))
            .collect();
        json!({ "deliveries": deliveries, "next": self.next })
    }
}

/// `POST /hooks/{trigger}`: verify one delivery through the connector and log it.
pub async fn receive(
    State(studio): State<&'static Studio>,
    Path(trigger): Path<String>,
    request: Request,
) -> Answer {
    let delivery = match connector_receiver::read_delivery(request).await {
        Ok(delivery) => delivery,
        Err(refused) => return refused,
    };
    let outcome = studio
        .handle_delivery(&trigger, delivery.headers, delivery.body)
        .await;
    let (answer, logged) = match outcome {
        Ok(events) => (
            Answer::received(events.len()),
            Ok(json!(
                events
                    .iter()
                    .map(|e| json!({ "id": e.id, "payload": e.payload }))
                    .collect::<Vec<_>>()
            )),
        ),
        Err(e) => (Answer::refusal(&e), Err(e.to_json()["error"].clone())),
    };
    studio.deliveries().push(&trigger, logged);
    answer
}

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

/// `GET /api/deliveries?after=N`: the deliveries logged after sequence number N.
pub async fn list(State(studio): State<&'static Studio>, Query(q): Query<After>) -> Json<Value> {
    Json(studio.deliveries().after(q.after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_answers_what_came_after_and_stays_bounded() {
        let mut log = Log::default();
        log.push("t", Ok(json!([{ "id": "a" }])));
        log.push("t", Err(json!({ "kind": "webhook_rejected" })));
        let after_one = log.after(1);
        assert_eq!(after_one["next"], 2);
        assert_eq!(after_one["deliveries"].as_array().unwrap().len(), 1);
        assert_eq!(
            after_one["deliveries"][0]["refused"]["kind"],
            "webhook_rejected"
        );
        assert_eq!(log.after(2)["deliveries"], json!([]));
        for _ in 0..KEPT + 10 {
            log.push("t", Ok(json!([])));
        }
        assert_eq!(log.entries.len(), KEPT);
        assert_eq!(log.after(0)["deliveries"][0]["seq"], 13);
    }
}
