//! Long listings read one page per call, the host driving the loop: every list action takes
//! a `cursor` (`""` for the first page) and returns the `next` one, each page is its own
//! invocation, and its items go to the caller before the next page is asked for. The guest
//! never holds more than one page, whatever the listing's length, and the session's pacer
//! keeps the read within Ironclad's rate limits across the invocations.

use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::report::{CallError, ErrorReport};
use crate::session::Session;

/// What a paged read did and cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub pages: u32,
    pub items: u64,
    /// The listing's total, when Ironclad reports one.
    pub count: Option<u64>,
    /// Where to resume (`cursor`) when the sink stopped the read early; None at the end.
    pub next: Option<String>,
    pub requests: u32,
    /// 429 answers met (each waited out and retried by the host).
    pub rate_limited: u32,
    /// Time the pacer held requests back.
    pub paced: Duration,
    /// The largest guest linear memory of any page's call, in bytes.
    pub peak_memory: usize,
}

impl Session<'_> {
    /// Run list action `action` page by page from `input` (its `cursor`, when given, says
    /// where to resume), handing each page's items to `sink` until the listing ends or the
    /// sink breaks.
    pub async fn read_pages(
        &self,
        action: &str,
        input: &Value,
        mut sink: impl FnMut(Vec<Value>) -> ControlFlow<()>,
    ) -> Result<ReadSummary, CallError> {
        let mut input: Map<String, Value> = match input {
            Value::Object(map) => map.clone(),
            _ => return Err(invalid_input("/", "the input must be a JSON object")),
        };
        input
            .entry("cursor")
            .or_insert_with(|| Value::String(String::new()));
        let mut summary = ReadSummary::default();
        loop {
            let (result, stats) = self
                .execute_measured(action, &Value::Object(input.clone()))
                .await;
            summary.requests += stats.requests.requests;
            summary.rate_limited += stats.requests.rate_limited;
            summary.paced += stats.requests.paced;
            summary.peak_memory = summary.peak_memory.max(stats.peak_memory);
            let Value::Object(mut page) = result? else {
                return Err(not_paged(action));
            };
            let Some(Value::Array(items)) = page.remove("items") else {
                return Err(not_paged(action));
            };
            summary.pages += 1;
            summary.items += items.len() as u64;
            summary.count = page.get("count").and_then(Value::as_u64);
            let next = match page.remove("next") {
                // A cursor that does not move would read the same page forever.
                Some(Value::String(next))
                    if input.get("cursor").and_then(Value::as_str) != Some(next.as_str()) =>
                {
                    Some(next)
                }
                Some(Value::Null) => None,
                _ => return Err(not_paged(action)),
            };
            let flow = sink(items);
            summary.next = next.clone();
            match (flow, next) {
                (ControlFlow::Continue(()), Some(next)) => {
                    input.insert("cursor".into(), Value::String(next));
                }
                _ => return Ok(summary),
            }
        }
    }
}

fn invalid_input(field: &str, message: &str) -> CallError {
    ErrorReport::new("invalid_input", message)
        .with_field(field)
        .into()
}

fn not_paged(action: &str) -> CallError {
    CallError::Host(anyhow::anyhow!(
        "`{action}` did not answer a page (`items` and a `next` cursor); only list actions can be read page by page"
    ))
}
