//! Test-only controls under `/_emulator/` (not part of Ironclad): expire tokens, read or
//! clear the request log, reset to the seed. These routes are neither authenticated nor logged.

use axum::extract::State;
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
