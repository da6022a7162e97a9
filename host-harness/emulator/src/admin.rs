//! Test-only controls under `/_emulator/` (not part of Ironclad): expire tokens, read or
//! clear the request log, reset to the seed, inject rate limiting. These routes are neither
//! authenticated nor logged.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::Emulator;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/expire-tokens", post(expire_tokens))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/reset-request-log", post(clear_requests))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/throttle", post(throttle))
}

/// `{"count": N, "retry_after_seconds": S}`: the next N Public API requests answer 429.
async fn throttle(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let count = body["count"].as_u64().unwrap_or(1) as u32;
    let seconds = body["retry_after_seconds"].as_u64().unwrap_or(1);
    emu.data().throttle = Some((count, seconds));
    Json(json!({ "throttled": count, "retry_after_seconds": seconds }))
}

/// Answers 429 while an injected throttle lasts, as Ironclad does when a bucket is empty.
pub async fn enforce_throttle(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/public/api/v1") {
        let retry_after = {
            let mut data = emu.data();
            match data.throttle {
                Some((left, seconds)) if left > 0 => {
                    data.throttle = (left > 1).then_some((left - 1, seconds));
                    Some(seconds)
                }
                _ => None,
            }
        };
        if let Some(seconds) = retry_after {
            let body = json!({ "code": "TOO_MANY_REQUESTS", "message": "rate limit exceeded; retry later" });
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
            return response;
        }
    }
    next.run(req).await
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
