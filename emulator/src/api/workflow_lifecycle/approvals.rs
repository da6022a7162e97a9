//! Approvals (`GET approvals`, `PATCH approvals/{roleId}`), `GET approval-requests` and
//! `GET turn-history`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use serde_json::{Value, json};

use super::store::{self, ApprovalRequest, Extras, RequestStatus};
use super::{json_body, with_workflow};
use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::events::{Event, Kind};
use crate::store::seed::{StepState, Workflow};
use crate::store::time;

pub const READ_APPROVALS: &str = "public.workflows.readApprovals";
pub const UPDATE_APPROVALS: &str = "public.workflows.updateApprovals";
pub const READ_TURN_HISTORY: &str = "public.workflows.readTurnHistory";

const REQUEST_TYPES: [&str; 2] = ["role", "user"];

pub async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_APPROVALS)?;
    with_workflow(&emu, &id, |ctx| {
        let w = &*ctx.workflow;
        let groups: Vec<Value> = store::groups(w, ctx.extras)
            .into_iter()
            .map(|g| {
                let reviewers: Vec<Value> = g
                    .reviewers
                    .iter()
                    .map(|(role, done)| {
                        let name = store::role(w, role).map(|r| r.display_name.as_str());
                        json!({
                            "role": role,
                            "displayName": name.unwrap_or(role),
                            "reviewerType": "role",
                            "status": if *done { "approved" } else { "pending" },
                        })
                    })
                    .collect();
                json!({ "reviewers": reviewers, "status": g.status, "order": g.order })
            })
            .collect();
        let roles: Vec<&crate::store::seed::Role> = w
            .roles
            .iter()
            .filter(|r| store::is_approver(w, &r.id))
            .collect();
        Ok(Json(json!({
            "workflowId": w.id,
            "title": w.title,
            "approvalGroups": groups,
            "roles": roles,
        })))
    })
}

pub async fn update(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_APPROVALS)?;
    let body = json_body(&body)?;
    let approve = match body.get("status") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "status",
            ));
        }
        Some(Value::String(s)) if s == "approved" => true,
        Some(Value::String(s)) if s == "pending" => false,
        Some(other) => {
            return Err(ApiError::invalid_param(
                format!("invalid status {other}; value must be one of [approved, pending]"),
                "status",
            ));
        }
    };
    // `user` names the approver for legacy tokens only; OAuth uses the acting user. Its shape
    // is still checked.
    if let Some(user) = body.get("user")
        && !valid_user(user)
    {
        return Err(invalid_approval("invalid user for user attribute"));
    }
    with_workflow(&emu, &id, |ctx| {
        let w = &*ctx.workflow;
        let Some(role) = store::role(w, &role_id).filter(|_| store::is_approver(w, &role_id))
        else {
            return Err(invalid_approval(
                "This role does not exist in this workflow",
            ));
        };
        // Outside an active Review no approval is requested (the spec's own wording; its
        // INVALID_STATE is reserved for out-of-order approvals).
        let requested = w.step == "Review" && w.status == "active";
        if !requested || !role.assignees.iter().any(|a| a.user_id == actor.user.id) {
            return Err(invalid_approval(
                "This approval either was not requested or this user was not assigned to this approval",
            ));
        }
        let groups = store::groups(w, ctx.extras);
        let group = groups
            .iter()
            .find(|g| g.reviewers.iter().any(|(r, _)| r == &role_id))
            .expect("an approver is in a group");
        let done = ctx.extras.approved.contains_key(&role_id);
        let changed = Event::workflow(Kind::ApprovalStatusChanged, w)
            .with("approvalID", role_id.as_str())
            .with("approvalName", role.display_name.as_str())
            .with("status", if approve { "approved" } else { "pending" })
            .with("userEmail", actor.user.email.as_str())
            .by(&actor.user);
        match (approve, group.status, done) {
            // Already so: nothing changes.
            (true, _, true) | (false, _, false) => return Ok(Json(json!(true))),
            (true, "active", false) => {
                store::approve(w, ctx.extras, &role_id, &actor.user.id, ctx.now);
                ctx.events.push(changed);
                if store::all_approved(w, ctx.extras) {
                    enter_sign(ctx.workflow, ctx.extras, ctx.now);
                    ctx.events
                        .push(Event::workflow(Kind::StepUpdated, ctx.workflow));
                }
            }
            // Withdrawing an approval while its group is still collecting approvals.
            (false, "active", true) => {
                ctx.extras.approved.remove(&role_id);
                store::open_requests(w, ctx.extras, ctx.now);
                store::pass_turn(w, ctx.extras, ctx.now, "approval");
                ctx.events.push(changed);
            }
            _ => {
                return Err(ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "INVALID_STATE",
                    "This approval cannot be approved out of order",
                    Some("approval"),
                ));
            }
        }
        ctx.workflow.last_updated = time::format_ms(ctx.now);
        Ok(Json(json!(true)))
    })
}

/// Review is over: the workflow goes to Sign (the Sign step itself belongs to another area).
fn enter_sign(w: &mut Workflow, extras: &mut Extras, now: i64) {
    w.step = "Sign".into();
    w.approvals = StepState::Completed;
    w.signatures = StepState::InProgress {
        url: format!("/public/api/v1/workflows/{}/signatures", w.id),
    };
    w.is_revertible_to_review = true;
    store::pass_turn(w, extras, now, "approval");
}

fn valid_user(user: &Value) -> bool {
    user.as_object().is_some_and(|u| {
        u.get("email").is_some_and(Value::is_string) && u.get("type").is_none_or(|t| t == "email")
    })
}

fn invalid_approval(message: &str) -> ApiError {
    ApiError::invalid_param(message, "approval")
}

pub async fn requests(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_APPROVALS)?;
    let page = PageRequest::from_params(&params)?;
    let details = params.flag("actorDetails", false)?;
    let by_role = match params.get("requestType").unwrap_or("user") {
        "user" => false,
        "role" => true,
        other => {
            return Err(ApiError::invalid_query_enum(
                "requestType",
                other,
                &REQUEST_TYPES,
            ));
        }
    };
    with_workflow(&emu, &id, |ctx| {
        let w = &*ctx.workflow;
        let mut items: Vec<&ApprovalRequest> = ctx.extras.requests.iter().collect();
        items.sort_by_key(|r| r.start_ms);
        if by_role {
            // One request per role and period, whoever of its assignees held it.
            let mut seen: Vec<(&str, i64)> = Vec::new();
            items.retain(|r| {
                let key = (r.role.as_str(), r.start_ms);
                let first = !seen.contains(&key);
                seen.push(key);
                first
            });
        }
        let all: Vec<Value> = items
            .iter()
            .map(|r| render_request(ctx.seed, w, ctx.extras, r, details))
            .collect();
        Ok(Json(page.envelope(all)))
    })
}

fn render_request(
    seed: &crate::store::seed::Seed,
    w: &Workflow,
    extras: &Extras,
    r: &ApprovalRequest,
    details: bool,
) -> Value {
    let mut item = json!({
        "startTime": time::format_ms(r.start_ms),
        "status": r.status.as_str(),
        "actorId": r.actor_id,
        "actorType": "User",
        "role": r.role,
        "roleName": store::role(w, &r.role).map_or(r.role.as_str(), |x| x.display_name.as_str()),
        "approvalType": "Workflow",
    });
    if let Some(end) = r.end_ms {
        item["endTime"] = json!(time::format_ms(end));
        let duration = end - r.start_ms;
        item["duration"] = json!(duration);
        if r.status == RequestStatus::Approved {
            // This request plus the earlier ones of the same approver that a pause interrupted
            // since their previous approval.
            let paused: i64 = extras
                .requests
                .iter()
                .filter(|p| {
                    p.role == r.role
                        && p.actor_id == r.actor_id
                        && p.start_ms < r.start_ms
                        && p.status == RequestStatus::Paused
                        && !extras.requests.iter().any(|a| {
                            a.role == r.role
                                && a.status == RequestStatus::Approved
                                && a.end_ms.is_some_and(|e| e > p.start_ms && e <= r.start_ms)
                        })
                })
                .filter_map(|p| p.end_ms.map(|e| e - p.start_ms))
                .sum();
            item["aggregateDuration"] = json!(duration + paused);
        }
    }
    if details && let Some(u) = seed.user_by_id(&r.actor_id) {
        item["actorDetails"] = json!({ "userName": u.display_name(), "userEmail": u.email });
    }
    item
}

pub async fn turn_history(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_TURN_HISTORY)?;
    let page = PageRequest::from_params(&params)?;
    with_workflow(&emu, &id, |ctx| {
        let all: Vec<Value> = ctx
            .extras
            .turns
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut turn = json!({
                    "turnParty": "internal",
                    "turnStartTime": time::format_ms(t.start_ms),
                    "turnLocation": t.location,
                    "turnUserId": t.user_id,
                    "turnNumber": i + 1,
                    "turnUserEmail": t.email,
                });
                if let Some(end) = t.end_ms {
                    turn["turnEndTime"] = json!(time::format_ms(end));
                }
                turn
            })
            .collect();
        Ok(Json(page.envelope(all)))
    })
}
