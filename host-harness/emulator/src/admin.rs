//! Test-only controls under `/_emulator/` (not part of Ironclad): expire tokens, read or
//! clear the request log, reset to the seed, inject rate limiting, add generated records for
//! volume tests. These routes are neither authenticated nor logged.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::state::Emulator;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/expire-tokens", post(expire_tokens))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/reset-request-log", post(clear_requests))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/throttle", post(throttle))
        .route("/_emulator/rate-limits", post(rate_limits))
        .route("/_emulator/bulk-records", post(bulk_records))
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
    let total = crate::bulk::add_records(&mut data.repository, count as usize, now)?;
    Ok(Json(json!({ "added": count, "records": total })))
}

/// `{"enabled": true, "window_ms": 60000}`: enforce Ironclad's buckets (per minute by
/// default; a shorter window lets a test empty a bucket quickly).
async fn rate_limits(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let enabled = body["enabled"].as_bool().unwrap_or(true);
    let window_ms = body["window_ms"].as_i64();
    emu.data().rate_limits.configure(enabled, window_ms);
    Json(json!({ "enabled": enabled, "window_ms": window_ms.unwrap_or(60_000) }))
}

/// `{"count": N, "retry_after_seconds": S}`: the next N Public API requests answer 429.
async fn throttle(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let count = body["count"].as_u64().unwrap_or(1) as u32;
    let seconds = body["retry_after_seconds"].as_u64().unwrap_or(1);
    emu.data().rate_limits.inject(count, seconds);
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
