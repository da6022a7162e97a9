//! `GET /workflows/{id}/emails` (paged) and `GET /workflows/{id}/emails/{emailThreadId}`: the
//! email threads on a workflow's activity feed (`ActivityFeedEmail`s), oldest first, as
//! `fixtures/emulator/workflow-sign.json` seeds them. A thread is found by its `emailThreadId`
//! (inbound emails) or, for outbound emails, which carry none, by its `id`.
//! `GET …/emails/{emailThreadId}/attachments/{attachmentId}` downloads an attachment whose
//! `download` path ends in that id, as an emulator-generated file of its name and type.

use axum::extract::{Extension, Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::workflow_index;
use crate::api::files::{self, generate};
use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::time;

pub const READ_EMAILS: &str = "public.workflows.readEmailCommunications";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: retrieve_email_threads_from_workflow
        .route("/public/api/v1/workflows/{id}/emails", get(list))
        // action: retrieve_email_thread_from_workflow
        .route(
            "/public/api/v1/workflows/{id}/emails/{emailThreadId}",
            get(retrieve),
        )
        // action: retrieve_attachment_from_email_thread
        .route(
            "/public/api/v1/workflows/{id}/emails/{emailThreadId}/attachments/{attachmentId}",
            get(attachment),
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

/// The thread `thread_id` names on workflow `key`.
fn thread(emu: &Emulator, key: &str, thread_id: &str) -> Result<Value, ApiError> {
    threads(emu, key)?
        .into_iter()
        .find(|e| match e.get("emailThreadId").and_then(Value::as_str) {
            Some(thread) => thread == thread_id,
            None => e["id"] == thread_id,
        })
        .ok_or_else(|| ApiError::not_found("emailThreadId does not exist", Some("emailThreadId")))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, thread_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_EMAILS)?;
    thread(&emu, &id, &thread_id).map(Json)
}

async fn attachment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, thread_id, attachment_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    actor.require_scope(READ_EMAILS)?;
    let thread = thread(&emu, &id, &thread_id)?;
    let suffix = format!("/attachments/{attachment_id}");
    let found = thread["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["download"].as_str().is_some_and(|d| d.ends_with(&suffix)))
        .ok_or_else(|| ApiError::not_found("attachmentId does not exist", Some("attachmentId")))?;
    let filename = found["filename"].as_str().unwrap_or(&attachment_id);
    let content_type = found["content-type"]
        .as_str()
        .unwrap_or_else(|| files::content_type_for(filename));
    Ok(files::download(
        filename,
        content_type,
        generate::placeholder(filename),
    ))
}
