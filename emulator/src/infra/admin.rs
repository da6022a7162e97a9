//! Test-only controls under `/_emulator/` (not part of Ironclad): expire tokens, read or
//! clear the request log, reset to the seed, inject rate limiting, watch and steer webhook
//! deliveries, finish a workflow's Archive step, and add generated records, workflows and
//! Clickwrap acceptances for volume tests.
//! These routes are neither authenticated nor logged.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::infra::errors::ApiError;
use crate::store::rate_limits::ResetFormat;

/// The longest `wait-deliveries` waits.
const MAX_WAIT_MS: u64 = 120_000;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/expire-tokens", post(expire_tokens))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/reset-request-log", post(clear_requests))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/throttle", post(throttle))
        .route("/_emulator/rate-limits", post(rate_limits))
        .route("/_emulator/deliveries", get(deliveries))
        .route("/_emulator/wait-deliveries", get(wait_deliveries))
        .route("/_emulator/webhook-delivery", post(webhook_delivery))
        .route("/_emulator/webhook-key/rotate", post(rotate_webhook_key))
        .route(
            "/_emulator/workflows/{id}/complete",
            post(complete_workflow),
        )
        .route("/_emulator/bulk-records", post(bulk_records))
        .route("/_emulator/bulk-workflows", post(bulk_workflows))
        .route("/_emulator/bulk-acceptances", post(bulk_acceptances))
}

async fn deliveries(State(emu): State<Emulator>) -> Json<Value> {
    Json(Value::Array(emu.deliveries()))
}

#[derive(Deserialize)]
struct WaitQuery {
    count: usize,
    timeout_ms: Option<u64>,
}

/// `?count=N&timeout_ms=T` (default 10 s, at most 120 s): 200 with every attempt once N are
/// logged, else 504 `{error, deliveries}` with those logged so far.
async fn wait_deliveries(
    State(emu): State<Emulator>,
    Query(q): Query<WaitQuery>,
) -> (StatusCode, Json<Value>) {
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(10_000).min(MAX_WAIT_MS));
    match emu.wait_for_deliveries(q.count, timeout).await {
        Ok(all) => (StatusCode::OK, Json(Value::Array(all))),
        Err(some) => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(json!({
                "error": format!(
                    "{} of {} delivery attempts logged within {} ms",
                    some.len(),
                    q.count,
                    timeout.as_millis()
                ),
                "deliveries": some,
            })),
        ),
    }
}

/// `{"base_delay_ms": N, "max_retries": M}` (either may be left out): the retry schedule.
async fn webhook_delivery(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let max_retries = body["max_retries"]
        .as_u64()
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    emu.configure_deliveries(body["base_delay_ms"].as_u64(), max_retries);
    let config = emu.data().deliveries.config;
    Json(json!(config))
}

/// Sign with the other committed test key; answers the new verification key.
async fn rotate_webhook_key(State(emu): State<Emulator>) -> Json<Value> {
    Json(json!({ "verification_key": emu.rotate_webhook_key() }))
}

/// The Archive step finishes (as Ironclad does once the signed contract is filed).
async fn complete_workflow(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    emu.complete_workflow(&id).map(Json)
}

/// `{"count": N}`: add N generated contracts (module `bulk`); answers the new total.
async fn bulk_records(
    State(emu): State<Emulator>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let count = body["count"].as_u64().ok_or_else(|| {
        ApiError::invalid_param("`count` (a positive integer) is required", "count")
    })?;
    let mut data = emu.data();
    let now = data.tick();
    let total = crate::infra::bulk::add_records(&mut data.repository, count as usize, now)?;
    Ok(Json(json!({ "added": count, "records": total })))
}

/// `{"count": N, "per_instant": K, "spacing_ms": S}`: add a backlog of N active workflows
/// stamped in the past (module `bulk`); answers `{added, first, last}`.
async fn bulk_workflows(
    State(emu): State<Emulator>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let backlog = crate::infra::bulk::Backlog::from_json(&body)?;
    Ok(Json(crate::infra::bulk::add_workflows(
        &mut emu.data(),
        emu.seed(),
        backlog,
    )))
}

/// The same for Clickwrap `agreed` activity in the fixture's site.
async fn bulk_acceptances(
    State(emu): State<Emulator>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let backlog = crate::infra::bulk::Backlog::from_json(&body)?;
    Ok(Json(crate::infra::bulk::add_acceptances(
        &mut emu.data(),
        backlog,
    )))
}

/// `{"enabled": true, "window_ms": 60000, "reset_format": "seconds"}`: enforce Ironclad's
/// buckets (per minute by default; a shorter window lets a test empty a bucket quickly),
/// writing `X-RateLimit-Reset` as `seconds`, `milliseconds`, `epoch_seconds`,
/// `epoch_milliseconds`, or sending no rate-limit headers (`none`).
async fn rate_limits(State(emu): State<Emulator>, Json(body): Json<Value>) -> Response {
    let enabled = body["enabled"].as_bool().unwrap_or(true);
    let window_ms = body["window_ms"].as_i64();
    let format = match body["reset_format"].as_str() {
        None => ResetFormat::default(),
        Some(name) => match ResetFormat::parse(name) {
            Some(format) => format,
            None => {
                let message = format!(
                    "unknown reset_format `{name}`: seconds, milliseconds, epoch_seconds, epoch_milliseconds or none"
                );
                return (StatusCode::BAD_REQUEST, Json(json!({ "error": message })))
                    .into_response();
            }
        },
    };
    emu.data().rate_limits.configure(enabled, window_ms, format);
    Json(json!({ "enabled": enabled, "window_ms": window_ms.unwrap_or(60_000) })).into_response()
}

/// `{"count": N, "retry_after_seconds": S, "after": A}`: after A more Public API requests
/// (default 0), the next N answer 429 — so a test can fail a call midway.
async fn throttle(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let count = body["count"].as_u64().unwrap_or(1) as u32;
    let seconds = body["retry_after_seconds"].as_u64().unwrap_or(1);
    let after = body["after"].as_u64().unwrap_or(0) as u32;
    emu.data().rate_limits.inject(after, count, seconds);
    Json(json!({ "throttled": count, "retry_after_seconds": seconds }))
}

async fn expire_tokens(State(emu): State<Emulator>) -> Json<Value> {
    Json(json!({ "expired": emu.expire_tokens() }))
}

async fn requests(State(emu): State<Emulator>) -> Json<Value> {
    Json(Value::Array(emu.requests()))
}

async fn clear_requests(State(emu): State<Emulator>) -> Json<Value> {
    emu.clear_requests();
    Json(json!({ "cleared": true }))
}

async fn reset(State(emu): State<Emulator>) -> Json<Value> {
    emu.reset();
    Json(json!({ "reset": true }))
}
