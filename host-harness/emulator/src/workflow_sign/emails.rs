//! `GET /workflows/{id}/emails` (paged) and `GET /workflows/{id}/emails/{emailThreadId}`: the
//! email threads on a workflow's activity feed (`ActivityFeedEmail`s), oldest first, as
//! `fixtures/emulator/workflow-sign.json` seeds them. A thread is found by its `emailThreadId`
//! (inbound emails) or, for outbound emails, which carry none, by its `id`.

use axum::extract::{Extension, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::workflow_index;
use crate::auth::Actor;
use crate::errors::ApiError;
use crate::pagination::PageRequest;
use crate::query::Params;
use crate::state::Emulator;
use crate::time;

pub const READ_EMAILS: &str = "public.workflows.readEmailCommunications";

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/public/api/v1/workflows/{id}/emails", get(list))
        .route(
            "/public/api/v1/workflows/{id}/emails/{emailThreadId}",
            get(retrieve),
        )
}

/// The workflow's emails, oldest first.
fn threads(emu: &Emulator, key: &str) -> Result<Vec<Value>, ApiError> {
    let data = emu.data();
    let workflow = &data.workflows[workflow_index(&data, key)?];
    let mut emails = data
        .sign
        .emails
        .get(&workflow.id)
        .cloned()
        .unwrap_or_default();
    emails.sort_by_key(|e| time::parse(e["timestamp"].as_str().unwrap_or_default()));
    Ok(emails)
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_EMAILS)?;
    let page = PageRequest::from_params(&params)?;
    Ok(Json(page.envelope(threads(&emu, &id)?)))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, thread_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_EMAILS)?;
    threads(&emu, &id)?
        .into_iter()
        .find(|e| match e.get("emailThreadId").and_then(Value::as_str) {
            Some(thread) => thread == thread_id,
            None => e["id"] == thread_id.as_str(),
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found("emailThreadId does not exist", Some("emailThreadId")))
}
