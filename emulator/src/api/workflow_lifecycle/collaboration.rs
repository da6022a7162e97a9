//! The activity feed (`comments`, deprecated `comment`), `participants`, and role assignment
//! (`roles/{roleName}`, `roles/{roleName}/eligible-assignees`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::store::{self, Extras, RequestStatus};
use super::{Ctx, json_body, with_workflow};
use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::events::{Event, Kind};
use crate::store::seed::{Seed, User, Workflow};
use crate::store::time;

pub const READ_COMMENTS: &str = "public.workflows.readComments";
/// `POST /comments`: the spec's `security` names the records scope, its text the workflows
/// one; either is accepted.
pub const CREATE_COMMENTS: &str = "public.records.createComments";
pub const CREATE_WORKFLOW_COMMENTS: &str = "public.workflows.createComments";
pub const READ_PARTICIPANTS: &str = "public.workflows.readParticipants";
pub const UPDATE_ROLE_ASSIGNMENT: &str = "public.workflows.updateRoleAssignment";
pub const READ_ROLE_ASSIGNEES: &str = "public.workflows.readRoleAssignees";

/// A validated comment, ready to be added to the feed.
pub struct NewComment {
    comment: Value,
    added: Vec<(String, String)>,
}

/// The parts of a comment request, named by the params errors should point at.
pub struct CommentRequest<'a> {
    pub message: Option<&'a Value>,
    /// `comment` (comments endpoints) or `comment.message` (cancel/pause/resume/…).
    pub message_param: &'a str,
    pub add_users: Option<&'a Value>,
    pub add_users_param: &'a str,
    pub replied_to: Option<&'a Value>,
}

/// Check a comment against the workflow (mentions, reply target) without changing anything.
pub fn prepare_comment(
    seed: &Seed,
    w: &Workflow,
    extras: &Extras,
    author: &User,
    now: i64,
    req: CommentRequest<'_>,
) -> Result<NewComment, ApiError> {
    let message = match req.message {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                req.message_param,
            ));
        }
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "comment must be a non-empty string",
                req.message_param,
            ));
        }
    };
    let add_users = match req.add_users {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "addUsersToWorkflow must be a boolean",
                req.add_users_param,
            ));
        }
    };
    let replied_to = match req.replied_to {
        None | Some(Value::Null) => None,
        Some(Value::String(parent)) => Some(
            extras
                .comments
                .iter()
                .find(|c| c["id"] == parent.as_str())
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        "the comment to reply to does not exist on this workflow",
                        "repliedToActivityFeedMessageId",
                    )
                })?,
        ),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "repliedToActivityFeedMessageId must be a string",
                "repliedToActivityFeedMessageId",
            ));
        }
    };
    let mut mentioned: Vec<&User> = Vec::new();
    for who in store::mentions(&message) {
        let user = seed
            .user_by_email(&who)
            .or_else(|| seed.user_by_id(&who))
            .ok_or_else(|| {
                ApiError::invalid_param(
                    format!("mentioned user '{who}' does not exist in the company"),
                    req.message_param,
                )
            })?;
        if !mentioned.iter().any(|u| u.id == user.id) {
            mentioned.push(user);
        }
    }
    let outsiders: Vec<&User> = mentioned
        .iter()
        .copied()
        .filter(|u| u.id != author.id && !store::is_participant(w, extras, &u.id))
        .collect();
    if !outsiders.is_empty() && !add_users {
        let names: Vec<&str> = outsiders.iter().map(|u| u.email.as_str()).collect();
        return Err(ApiError::invalid_param(
            format!(
                "addUsersToWorkflow must be true to mention users who are not participants on the workflow: {}",
                names.join(", ")
            ),
            req.add_users_param,
        ));
    }
    let mut comment = json!({
        "id": store::comment_id(extras),
        "commentMessage": message,
        "timestamp": time::format_ms(now),
        "isExternal": false,
        "author": store::internal_author(seed, author),
        "mentionedUserDetails": mentioned
            .iter()
            .map(|u| json!({ "id": u.id, "displayName": u.display_name(), "email": u.email }))
            .collect::<Vec<_>>(),
        "addedParticipants": outsiders.iter().map(|u| u.display_name()).collect::<Vec<_>>(),
        "reactions": [],
    });
    if let Some(parent) = replied_to {
        comment["repliedTo"] = json!({ "item": parent["id"], "itemAuthor": parent["author"] });
    }
    Ok(NewComment {
        comment,
        added: outsiders
            .iter()
            .map(|u| (u.id.clone(), u.email.clone()))
            .collect(),
    })
}

/// Add a prepared comment (and the participants it brings) to the feed.
pub fn post_comment(ctx: &mut Ctx<'_>, new: NewComment) -> Value {
    let extras = &mut *ctx.extras;
    for added in new.added {
        if !extras.added_participants.contains(&added) {
            extras.added_participants.push(added);
        }
    }
    extras.comments.push(new.comment.clone());
    ctx.events
        .push(Event::workflow(Kind::CommentAdded, ctx.workflow));
    new.comment
}

/// The comment a `CommentModel` (`{message, addUsersToWorkflow}`) under `comment` asks for.
pub fn prepare_comment_model(
    ctx: &Ctx<'_>,
    author: &User,
    body: &Map<String, Value>,
) -> Result<NewComment, ApiError> {
    let model = match body.get("comment") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "comment",
            ));
        }
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "comment must be an object with a message",
                "comment",
            ));
        }
    };
    prepare_comment(
        ctx.seed,
        ctx.workflow,
        ctx.extras,
        author,
        ctx.now,
        CommentRequest {
            message: model.get("message"),
            message_param: "comment.message",
            add_users: model.get("addUsersToWorkflow"),
            add_users_param: "comment.addUsersToWorkflow",
            replied_to: None,
        },
    )
}

fn require_any_scope(actor: &Actor, scopes: &[&str]) -> Result<(), ApiError> {
    if scopes.iter().any(|s| actor.scopes.iter().any(|t| t == s)) {
        Ok(())
    } else {
        actor.require_scope(scopes[0])
    }
}

/// The `creator` of legacy-token comments: ignored for OAuth, its shape still checked.
fn check_creator(body: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(creator) = body.get("creator") else {
        return Ok(());
    };
    let ok = match creator["type"].as_str() {
        Some("email") | None if creator["email"].is_string() => true,
        Some("id") | None if creator["id"].is_string() => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_param(
            "creator must be {type: 'email', email} or {type: 'id', id}",
            "creator",
        ))
    }
}

fn create(emu: &Emulator, actor: &Actor, id: &str, body: &Bytes) -> Result<Value, ApiError> {
    let body = json_body(body)?;
    check_creator(&body)?;
    with_workflow(emu, id, |mut ctx| {
        let new = prepare_comment(
            ctx.seed,
            ctx.workflow,
            ctx.extras,
            &actor.user,
            ctx.now,
            CommentRequest {
                message: body.get("comment"),
                message_param: "comment",
                add_users: body.get("addUsersToWorkflow"),
                add_users_param: "addUsersToWorkflow",
                replied_to: body.get("repliedToActivityFeedMessageId"),
            },
        )?;
        Ok(post_comment(&mut ctx, new))
    })
}

pub async fn create_comment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_any_scope(&actor, &[CREATE_COMMENTS, CREATE_WORKFLOW_COMMENTS])?;
    create(&emu, &actor, &id, &body).map(Json)
}

/// `POST /workflows/{id}/comment`: the same comment, answered 204.
pub async fn create_comment_deprecated(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(CREATE_WORKFLOW_COMMENTS)?;
    create(&emu, &actor, &id, &body)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_comments(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_COMMENTS)?;
    let page = PageRequest::from_params(&params)?;
    with_workflow(&emu, &id, |ctx| {
        Ok(Json(page.envelope(ctx.extras.comments.clone())))
    })
}

pub async fn retrieve_comment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, comment_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_COMMENTS)?;
    with_workflow(&emu, &id, |ctx| {
        ctx.extras
            .comments
            .iter()
            .find(|c| c["id"] == comment_id.as_str())
            .cloned()
            .map(Json)
            .ok_or_else(|| ApiError::not_found("commentId does not exist", Some("commentId")))
    })
}

pub async fn participants(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_PARTICIPANTS)?;
    let page = PageRequest::from_params(&params)?;
    let email = params
        .get("email")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    with_workflow(&emu, &id, |ctx| {
        let all: Vec<Value> = store::participants(ctx.workflow, ctx.extras)
            .into_iter()
            .filter(|(_, e)| {
                email
                    .as_ref()
                    .is_none_or(|want| e.eq_ignore_ascii_case(want))
            })
            .map(|(user_id, email)| json!({ "userId": user_id, "email": email }))
            .collect();
        Ok(Json(page.envelope(all)))
    })
}

/// A role by display name (`Legal`, as Ironclad names it in paths) or, failing that, by id.
fn find_role(w: &Workflow, name: &str) -> Result<usize, ApiError> {
    let name = name.trim();
    w.roles
        .iter()
        .position(|r| r.display_name == name)
        .or_else(|| {
            w.roles
                .iter()
                .position(|r| r.display_name.eq_ignore_ascii_case(name))
        })
        .or_else(|| w.roles.iter().position(|r| r.id == name))
        .ok_or_else(|| {
            ApiError::not_found("role does not exist on this workflow", Some("roleName"))
        })
}

fn person(user_id: &str, display_name: &str, email: &str) -> Value {
    json!({ "userId": user_id, "email": email, "displayName": display_name })
}

pub async fn eligible_assignees(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_name)): Path<(String, String)>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_ROLE_ASSIGNEES)?;
    let page = PageRequest::from_params(&params)?;
    with_workflow(&emu, &id, |ctx| {
        let role = &ctx.workflow.roles[find_role(ctx.workflow, &role_name)?];
        let all: Vec<Value> = store::eligible(ctx.seed, &role.id)
            .into_iter()
            .map(|u| person(&u.id, &u.display_name(), &u.email))
            .collect();
        let mut envelope = page.envelope(all);
        if let Some(current) = role.assignees.first() {
            envelope["defaultAssignee"] =
                person(&current.user_id, &current.user_name, &current.email);
        }
        Ok(Json(envelope))
    })
}

pub async fn assign_role(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_ROLE_ASSIGNMENT)?;
    let body = json_body(&body)?;
    with_workflow(&emu, &id, |ctx| {
        let index = find_role(ctx.workflow, &role_name)?;
        let user_id = body
            .get("userId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| ApiError::invalid_param("userId is required", "userId"))?;
        if matches!(ctx.workflow.status.as_str(), "completed" | "cancelled") {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_STATE",
                format!(
                    "workflow is {} and cannot be reassigned",
                    ctx.workflow.status
                ),
                None,
            ));
        }
        let role_id = ctx.workflow.roles[index].id.clone();
        let user = store::eligible(ctx.seed, &role_id)
            .into_iter()
            .find(|u| u.id == user_id)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN",
                    "user is not assignable to the role",
                    None,
                )
            })?;
        let role_name = ctx.workflow.roles[index].display_name.clone();
        reassign(ctx, index, user);
        Ok(Json(json!({
            "roleName": role_name,
            "assignee": { "userId": user.id, "displayName": user.display_name(), "email": user.email },
        })))
    })
}

/// Give the role to `user`; an approval it was waiting for moves to the new assignee.
fn reassign(ctx: Ctx<'_>, index: usize, user: &User) {
    let w = ctx.workflow;
    let role_id = w.roles[index].id.clone();
    let unchanged =
        w.roles[index].assignees.len() == 1 && w.roles[index].assignees[0].user_id == user.id;
    if unchanged {
        return;
    }
    w.roles[index].assignees = vec![store::assignee(user)];
    w.last_updated = time::format_ms(ctx.now);
    ctx.events.push(Event::workflow(Kind::RolesAssigned, w));
    let waiting = ctx
        .extras
        .requests
        .iter()
        .any(|r| r.role == role_id && r.end_ms.is_none());
    if waiting {
        store::close_requests(
            ctx.extras,
            Some(&role_id),
            RequestStatus::Reassigned,
            ctx.now,
        );
    }
    if w.step == "Review" && w.status == "active" {
        store::open_requests(w, ctx.extras, ctx.now);
        store::pass_turn(w, ctx.extras, ctx.now, "manual change");
    }
}
