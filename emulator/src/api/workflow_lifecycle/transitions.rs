//! State changes (`pause`, `resume`, `cancel`, `revert-to-review`, the end of Archive) and
//! metadata updates (`PATCH attributes`).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::collaboration::{self, CommentRequest};
use super::store::{self, RequestStatus};
use super::{json_body, with_workflow};
use crate::api::launch;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::seed::{StepState, Template, Workflow};
use crate::{api::workflows, store::time};

pub const PAUSE_AND_RESUME: &str = "public.workflows.pauseAndResume";
pub const CANCEL: &str = "public.workflows.cancel";
pub const REVERT_TO_REVIEW: &str = "public.workflows.revertToReview";
pub const UPDATE_WORKFLOWS: &str = "public.workflows.updateWorkflows";

const CANCELLED_MESSAGE: &str = "This workflow has been cancelled";

fn invalid_state(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message, None)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub async fn pause(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(PAUSE_AND_RESUME)?;
    let body = json_body(&body)?;
    with_workflow(&emu, &id, |mut ctx| {
        let comment = collaboration::prepare_comment_model(&ctx, &actor.user, &body)?;
        if !(ctx.workflow.status == "active" && ctx.workflow.step == "Review") {
            return Err(invalid_state(
                "Only active workflows in the review step can be paused.",
            ));
        }
        ctx.workflow.status = "paused".into();
        ctx.workflow.last_updated = time::format_ms(ctx.now);
        store::close_requests(ctx.extras, None, RequestStatus::Paused, ctx.now);
        ctx.events.push(Event::workflow(Kind::Paused, ctx.workflow));
        collaboration::post_comment(&mut ctx, comment);
        Ok(no_content())
    })
}

pub async fn resume(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(PAUSE_AND_RESUME)?;
    let body = json_body(&body)?;
    with_workflow(&emu, &id, |mut ctx| {
        let comment = collaboration::prepare_comment_model(&ctx, &actor.user, &body)?;
        if !(ctx.workflow.status == "paused" && ctx.workflow.step == "Review") {
            return Err(invalid_state(
                "Only paused workflows in the review step can be resumed.",
            ));
        }
        ctx.workflow.status = "active".into();
        ctx.workflow.last_updated = time::format_ms(ctx.now);
        store::open_requests(ctx.workflow, ctx.extras, ctx.now);
        store::pass_turn(ctx.workflow, ctx.extras, ctx.now, "approval");
        ctx.events
            .push(Event::workflow(Kind::Resumed, ctx.workflow));
        collaboration::post_comment(&mut ctx, comment);
        Ok(no_content())
    })
}

pub async fn cancel(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(CANCEL)?;
    let body = json_body(&body)?;
    with_workflow(&emu, &id, |mut ctx| {
        let comment = collaboration::prepare_comment_model(&ctx, &actor.user, &body)?;
        match ctx.workflow.status.as_str() {
            "cancelled" => return Err(invalid_state("workflow is already cancelled")),
            "completed" => return Err(invalid_state("completed workflows cannot be cancelled")),
            _ => {}
        }
        let w = &mut *ctx.workflow;
        w.status = "cancelled".into();
        w.is_cancelled = true;
        w.approvals = StepState::NotApplicable {
            message: CANCELLED_MESSAGE.into(),
        };
        w.signatures = StepState::NotApplicable {
            message: CANCELLED_MESSAGE.into(),
        };
        w.is_revertible_to_review = false;
        w.last_updated = time::format_ms(ctx.now);
        store::close_requests(ctx.extras, None, RequestStatus::Canceled, ctx.now);
        store::close_turn(ctx.extras, ctx.now);
        ctx.events
            .push(Event::workflow(Kind::Cancelled, ctx.workflow));
        collaboration::post_comment(&mut ctx, comment);
        Ok(no_content())
    })
}

pub async fn revert_to_review(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(REVERT_TO_REVIEW)?;
    let body = json_body(&body)?;
    // `user` names the reverting user for legacy tokens only; OAuth uses the acting user.
    if let Some(user) = body.get("user") {
        let ok = user.as_object().is_some_and(|u| {
            u.get("email").is_some_and(Value::is_string)
                && u.get("type").is_none_or(|t| t == "email")
        });
        if !ok {
            return Err(ApiError::invalid_param(
                "invalid user for user attribute",
                "user",
            ));
        }
    }
    with_workflow(&emu, &id, |ctx| {
        let w = &mut *ctx.workflow;
        if !(w.status == "active" && w.step == "Sign") {
            return Err(invalid_state(
                "workflow cannot be reverted to review as it is not in the sign stage",
            ));
        }
        if !w.is_revertible_to_review {
            return Err(invalid_state(
                "workflow was not built in workflow designer and cannot be reverted to review via the API",
            ));
        }
        if !store::is_participant(w, ctx.extras, &actor.user.id) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "user is not a participant on the workflow",
                Some("user"),
            ));
        }
        w.step = "Review".into();
        w.approvals = StepState::InProgress {
            url: format!("/public/api/v1/workflows/{}/approvals", w.id),
        };
        w.signatures = StepState::NotStarted;
        w.is_revertible_to_review = false;
        w.last_updated = time::format_ms(ctx.now);
        ctx.extras.approved.clear();
        store::pass_turn(w, ctx.extras, ctx.now, "revert to review");
        store::open_requests(w, ctx.extras, ctx.now);
        ctx.events.push(Event::workflow(Kind::StepUpdated, w));
        Ok(no_content())
    })
}

impl Emulator {
    /// Emulator control, not an Ironclad route: the Archive step of workflow `key` (id or
    /// Ironclad id) finishes, as in Ironclad once the signed contract is filed, and the
    /// workflow is completed (`workflow_completed`). Returns the `WorkflowResponseModel`.
    pub fn complete_workflow(&self, key: &str) -> Result<Value, ApiError> {
        let base_url = self.base_url().to_owned();
        with_workflow(self, key, |ctx| {
            let w = &mut *ctx.workflow;
            if !(w.step == "Archive" && w.status == "active") {
                return Err(invalid_state(&format!(
                    "Only active workflows in the Archive step can be completed; this one is {} at the {} step",
                    w.status, w.step
                )));
            }
            w.step = "Complete".into();
            w.status = "completed".into();
            w.is_complete = true;
            w.is_revertible_to_review = false;
            w.last_updated = time::format_ms(ctx.now);
            store::close_turn(ctx.extras, ctx.now);
            ctx.events.push(Event::workflow(Kind::StepUpdated, w));
            ctx.events.push(Event::workflow(Kind::Completed, w));
            Ok(workflows::render(w, &base_url))
        })
    }
}

#[derive(Debug)]
struct Update {
    remove: bool,
    path: String,
    value: Option<Value>,
}

fn parse_updates(body: &Map<String, Value>) -> Result<Vec<Update>, ApiError> {
    let items = match body.get("updates") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "updates",
            ));
        }
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "updates must be a non-empty array of {action, path, value}",
                "updates",
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let bad =
                |what: &str| ApiError::invalid_param(format!("updates[{i}]: {what}"), "updates");
            let item = item.as_object().ok_or_else(|| bad("must be an object"))?;
            let remove = match item.get("action").and_then(Value::as_str) {
                None if item.get("action").is_none_or(Value::is_null) => false,
                Some("set") => false,
                Some("remove") => true,
                _ => return Err(bad("action must be one of [set, remove]")),
            };
            let path = match item.get("path") {
                Some(Value::String(p)) if !p.is_empty() => p.clone(),
                None | Some(Value::Null) => {
                    return Err(ApiError::missing_param(
                        format!("updates[{i}]: missing required property 'path'"),
                        "updates",
                    ));
                }
                Some(_) => return Err(bad("path must be an attribute id")),
            };
            Ok(Update {
                remove,
                path,
                value: item.get("value").filter(|v| !v.is_null()).cloned(),
            })
        })
        .collect()
}

fn attributes_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid_param(message, "attributes")
}

fn form_validation_failed() -> ApiError {
    attributes_error("form validation failed, please check schema")
}

/// Whether a workflow schema entry holds documents (managed by the documents endpoints).
fn holds_documents(entry: &Value) -> bool {
    entry["type"] == "document"
        || (entry["type"] == "array" && entry["elementType"]["type"] == "document")
}

pub async fn update_metadata(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_WORKFLOWS)?;
    let body = json_body(&body)?;
    let updates = parse_updates(&body)?;
    let base_url = emu.base_url().to_owned();
    with_workflow(&emu, &id, |mut ctx| {
        let w = &*ctx.workflow;
        if w.step != "Review" || matches!(w.status.as_str(), "cancelled" | "completed") {
            return Err(invalid_state(
                "The workflow must be in the Review step in order for its data to be updated.",
            ));
        }
        let unknown: Vec<&str> = updates
            .iter()
            .map(|u| u.path.as_str())
            .filter(|p| !w.schema.contains_key(*p))
            .collect();
        if !unknown.is_empty() {
            return Err(attributes_error(format!(
                "non-existent attribute(s) specified: {}",
                unknown.join(", ")
            )));
        }
        for u in &updates {
            let entry = &w.schema[&u.path];
            if entry["readOnly"] == true {
                return Err(attributes_error(format!(
                    "Cannot patch read-only attribute {}",
                    u.path
                )));
            }
            if holds_documents(entry) {
                return Err(attributes_error(format!(
                    "Cannot patch document attribute {}; use the workflow document endpoints",
                    u.path
                )));
            }
            if !u.remove && u.value.is_none() {
                return Err(form_validation_failed());
            }
        }
        let mut attributes = w.attributes.clone();
        for u in &updates {
            match (&u.value, u.remove) {
                (Some(v), false) => {
                    attributes.insert(u.path.clone(), v.clone());
                }
                _ => {
                    attributes.remove(&u.path);
                }
            }
        }
        if let Some(template) = ctx.seed.template(&w.template) {
            let updated: Vec<&str> = updates.iter().map(|u| u.path.as_str()).collect();
            attributes = validate(template, w, attributes, &updated)?;
        }
        if attributes == w.attributes {
            return Err(attributes_error(
                "No information changed. The updates provided did not introduce any new values",
            ));
        }
        let comment = match body.get("comment") {
            None | Some(Value::Null) => None,
            message => Some(collaboration::prepare_comment(
                ctx.seed,
                w,
                ctx.extras,
                &actor.user,
                ctx.now,
                CommentRequest {
                    message,
                    message_param: "comment",
                    add_users: None,
                    add_users_param: "comment",
                    replied_to: None,
                },
            )?),
        };
        ctx.workflow.attributes = attributes;
        ctx.workflow.last_updated = time::format_ms(ctx.now);
        ctx.events
            .push(Event::workflow(Kind::AttributeUpdated, ctx.workflow));
        if let Some(comment) = comment {
            collaboration::post_comment(&mut ctx, comment);
        }
        Ok(Json(workflows::render(ctx.workflow, &base_url)))
    })
}

/// Form validation of the updated attributes against the launch form: value types, required
/// and conditionally required fields. Document attributes (not updatable here) stand in as
/// placeholders. Updated values come back normalised (dates canonical). A workflow whose stored
/// values the form would not accept gets the updated values type-checked only.
fn validate(
    template: &Template,
    w: &Workflow,
    attributes: Map<String, Value>,
    updated: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let with_placeholders = |attrs: &Map<String, Value>| {
        let mut out = attrs.clone();
        for (id, value) in out.iter_mut() {
            if w.schema.get(id).is_some_and(holds_documents) {
                let placeholder = json!({ "url": "https://emulator.invalid/document.pdf" });
                *value = if value.is_array() {
                    json!([placeholder])
                } else {
                    placeholder
                };
            }
        }
        out
    };
    let whole_form = launch::validate_attributes(
        template,
        with_placeholders(&w.attributes),
        false,
        &launch::Files::Json,
    )
    .is_ok();
    let checked = if whole_form {
        launch::validate_attributes(
            template,
            with_placeholders(&attributes),
            false,
            &launch::Files::Json,
        )
        .map_err(|_| form_validation_failed())?
    } else {
        let fields: BTreeMap<String, _> = template
            .schema
            .iter()
            .filter(|(id, _)| updated.contains(&id.as_str()) && attributes.contains_key(*id))
            .map(|(id, f)| {
                let mut f = f.clone();
                f.required = None;
                (id.clone(), f)
            })
            .collect();
        let subset: Map<String, Value> = attributes
            .iter()
            .filter(|(id, _)| fields.contains_key(*id))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let partial = Template {
            schema: fields,
            ..template.clone()
        };
        launch::validate_attributes(&partial, subset, false, &launch::Files::Json)
            .map_err(|_| form_validation_failed())?
    };
    let mut out = attributes;
    for id in updated {
        if let (Some(value), true) = (checked.get(*id), out.contains_key(*id)) {
            out.insert((*id).to_owned(), value.clone());
        }
    }
    Ok(out)
}
