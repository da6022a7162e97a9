//! Test controls for the emulated Clickwrap (not part of Clickwrap), under `/_emulator/`:
//! `POST /_emulator/clickwrap/unknown-sid` `{"answer": "refused" | "unrecorded"}` chooses how
//! the Activity API answers a Site Access ID it does not know. Which one Clickwrap gives is
//! UNCONFIRMED, and a connector must be right under both.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::store::clickwrap::UnknownSid;

pub fn routes() -> Router<Emulator> {
    Router::new().route("/_emulator/clickwrap/unknown-sid", post(unknown_sid))
}

async fn unknown_sid(
    State(emu): State<Emulator>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let answer = match body["answer"].as_str() {
        Some("refused") => UnknownSid::Refused,
        Some("unrecorded") => UnknownSid::Unrecorded,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": "`answer` must be `refused` or `unrecorded`" })),
            );
        }
    };
    emu.data().clickwrap.unknown_sid = answer;
    (StatusCode::OK, Json(json!({ "answer": body["answer"] })))
}
