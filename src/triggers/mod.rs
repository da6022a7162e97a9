//! What every API type's triggers share: the events and results a poll or a webhook
//! delivery answers ([`Event`], [`PollResult`], [`WebhookResult`]), the watermark cursor
//! ([`cursor`]) and the bounded reading of a time-stamped backlog ([`slices`]). The trigger
//! tables themselves live with their API type (`api_types::*`); nothing here names one.

pub mod cursor;
pub mod slices;

use serde_json::{Map, Value};

use crate::error::{ConnectorError, excerpt};
use crate::time::{self, Millis};

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PollResult {
    pub events: Vec<Event>,
    pub cursor: Option<Value>,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookResult {
    pub events: Vec<Event>,
    pub subscription: Option<Value>,
}

/// `since` from the input, else now: a new trigger starts from the present.
pub fn since(input: &Map<String, Value>) -> Result<Millis, ConnectorError> {
    match input.get("since").and_then(Value::as_str) {
        None => Ok(time::now()),
        Some(text) => time::parse(text).ok_or_else(|| {
            ConnectorError::input(
                "/since",
                format!(
                    "`{}` is not an ISO-8601 date-time with a time zone (e.g. 2026-01-31T00:00:00Z)",
                    excerpt(text)
                ),
            )
        }),
    }
}
