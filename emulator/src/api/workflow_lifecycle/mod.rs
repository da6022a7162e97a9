//! Workflow lifecycle and collaboration under `/public/api/v1/workflows/{id}/…`:
//!
//! - approvals (`approvals`, `approvals/{roleId}`, `approval-requests`) and `turn-history`
//!   (module `approvals`): approval groups come from the workflow's roles and the template's
//!   flow in `fixtures/emulator/workflow-lifecycle.json`; when every group has approved, the
//!   workflow moves from Review to Sign;
//! - state changes (`pause`, `resume`, `cancel`, `revert-to-review`, and the end of Archive,
//!   [`Emulator::complete_workflow`]) and metadata updates (`attributes`) (module
//!   `transitions`);
//! - comments (`comments`, deprecated `comment`), `participants` and role assignment
//!   (`roles/{roleName}`, `…/eligible-assignees`) (module `collaboration`).
//!
//! Every `{id}` is a workflow id or Ironclad id, resolved as `GET /workflows/{id}` does. The
//! area's own state lives in [`LifecycleStore`] (`store::lifecycle`, one field of `Data`), keyed by workflow
//! id; the shared `Workflow` is changed only where Ironclad's own view of it changes (step,
//! status, approvals/signatures state, roles, attributes, `lastUpdated`). Each change raises
//! its webhook events (`Ctx::events`).

mod approvals;
mod collaboration;
use crate::store::lifecycle as store;
mod transitions;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, patch, post};
use serde_json::{Map, Value};

use crate::api::workflows;
use crate::emulator::{Data, Emulator};
use crate::infra::errors::ApiError;
use crate::store::events::Event;
use crate::store::seed::{Seed, Workflow};

pub fn routes() -> Router<Emulator> {
    const W: &str = "/public/api/v1/workflows/{id}";
    Router::new()
        // action: list_workflow_approvals
        .route(&format!("{W}/approvals"), get(approvals::list))
        // action: update_workflow_approval
        .route(
            &format!("{W}/approvals/{{roleId}}"),
            patch(approvals::update),
        )
        // action: approval_requests
        .route(&format!("{W}/approval-requests"), get(approvals::requests))
        // action: turn_history
        .route(&format!("{W}/turn-history"), get(approvals::turn_history))
        // action: pause_workflow
        .route(&format!("{W}/pause"), post(transitions::pause))
        // action: resume_workflow
        .route(&format!("{W}/resume"), post(transitions::resume))
        // action: cancel_workflow
        .route(&format!("{W}/cancel"), post(transitions::cancel))
        // action: revert_to_review
        .route(
            &format!("{W}/revert-to-review"),
            patch(transitions::revert_to_review),
        )
        // action: update_workflow_metadata
        .route(
            &format!("{W}/attributes"),
            patch(transitions::update_metadata),
        )
        // action: list_comments_in_workflow, create_comment_on_workflow
        .route(
            &format!("{W}/comments"),
            get(collaboration::list_comments).post(collaboration::create_comment),
        )
        // action: deprecated_create_comment_on_workflow
        .route(
            &format!("{W}/comment"),
            post(collaboration::create_comment_deprecated),
        )
        // action: list_comment_from_workflow
        .route(
            &format!("{W}/comments/{{commentId}}"),
            get(collaboration::retrieve_comment),
        )
        // action: list_workflow_participants
        .route(
            &format!("{W}/participants"),
            get(collaboration::participants),
        )
        // action: update_workflow_role_assignment
        .route(
            &format!("{W}/roles/{{roleName}}"),
            patch(collaboration::assign_role),
        )
        // action: list_workflow_role_eligible_assignees
        .route(
            &format!("{W}/roles/{{roleName}}/eligible-assignees"),
            get(collaboration::eligible_assignees),
        )
}

/// One workflow and this area's state about it, with the clock, inside the data lock.
pub(crate) struct Ctx<'a> {
    pub seed: &'a Seed,
    pub workflow: &'a mut Workflow,
    pub extras: &'a mut store::Extras,
    pub now: i64,
    /// Webhook events of this change, emitted if it succeeds.
    pub events: &'a mut Vec<Event>,
}

/// Run `f` on the workflow named by `key` (id or Ironclad id), or answer 404. The events `f`
/// raises are emitted when it returns `Ok`.
pub(crate) fn with_workflow<R>(
    emu: &Emulator,
    key: &str,
    f: impl FnOnce(Ctx<'_>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let mut guard = emu.data();
    let id = workflows::find(&guard.workflows, key)
        .map(|w| w.id.clone())
        .ok_or_else(workflow_not_found)?;
    let data: &mut Data = &mut guard;
    let now = data.tick();
    let Data {
        workflows,
        workflow_lifecycle,
        ..
    } = data;
    let workflow = workflows
        .iter_mut()
        .find(|w| w.id == id)
        .ok_or_else(workflow_not_found)?;
    let extras = workflow_lifecycle.extras(emu.seed(), workflow);
    let mut events = Vec::new();
    let out = f(Ctx {
        seed: emu.seed(),
        workflow,
        extras,
        now,
        events: &mut events,
    })?;
    data.emit(events);
    Ok(out)
}

pub(crate) fn workflow_not_found() -> ApiError {
    ApiError::not_found("workflow does not exist", Some("workflowId"))
}

/// A JSON object body; an empty body is `{}`.
pub(crate) fn json_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        )),
    }
}

#[cfg(test)]
mod tests;
