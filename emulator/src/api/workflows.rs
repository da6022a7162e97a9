//! `/public/api/v1/workflows`: list (paged, filtered), retrieve by id or Ironclad id, and
//! synchronous launch (JSON, or multipart with files: module `launch`).

use std::cmp::Reverse;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::api::launch::{self, LaunchRequest};
use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::multipart::UPLOAD_BODY_LIMIT;
use crate::infra::query::Params;
use crate::store::filter::Filter;
use crate::store::seed::{STATUSES, StepState, Workflow};
use crate::store::time;

pub const READ_WORKFLOWS: &str = "public.workflows.readWorkflows";
pub const CREATE_WORKFLOWS: &str = "public.workflows.createWorkflows";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // A launch may carry files (multipart): the upload routes' body limit.
        // action: list_workflows, launch_new_workflow, launch_workflow_with_files
        .route(
            "/public/api/v1/workflows",
            get(list)
                .post(create)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        // action: retrieve_workflow
        .route("/public/api/v1/workflows/{id}", get(retrieve))
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_WORKFLOWS)?;
    let page = PageRequest::from_params(&params)?;
    let query = ListQuery::from_params(&params)?;
    params.flag("hydrateEntities", false)?;
    let data = emu.data();
    let mut found: Vec<(i64, &Workflow)> = data
        .workflows
        .iter()
        .map(|w| (time::parse(&w.last_updated).unwrap_or(0), w))
        .filter(|(at, w)| query.matches(*at, w))
        .collect();
    found.sort_by(|(a, wa), (b, wb)| (Reverse(a), &wa.id).cmp(&(Reverse(b), &wb.id)));
    // Only the page is rendered: a backlog test lists tens of thousands of workflows.
    let list = found[page.window(found.len())]
        .iter()
        .map(|(_, w)| render(w, emu.base_url()))
        .collect();
    Ok(Json(page.envelope_of(found.len(), list)))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_WORKFLOWS)?;
    params.flag("hydrateEntities", false)?;
    let data = emu.data();
    let workflow = find(&data.workflows, &id)
        .ok_or_else(|| ApiError::not_found("workflow does not exist", Some("workflowId")))?;
    Ok(Json(render(workflow, emu.base_url())))
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_WORKFLOWS)?;
    let use_defaults = params.flag("useDefaultValues", false)?;
    let request = LaunchRequest::parse(&headers, &body)?;
    let template = emu.seed().template(&request.template).ok_or_else(|| {
        ApiError::invalid_param("template does not exist or is not published", "template")
    })?;
    let attributes =
        launch::validate_attributes(template, request.attributes, use_defaults, &request.files)?;
    let workflow = launch::launch(
        &mut emu.data(),
        emu.seed(),
        template,
        attributes,
        &request.files,
        &actor.user,
    );
    Ok(Json(launched(&workflow, emu.base_url())))
}

/// A workflow by its id or Ironclad id (`IC-12`, case-insensitive).
pub fn find<'a>(workflows: &'a [Workflow], key: &str) -> Option<&'a Workflow> {
    workflows
        .iter()
        .find(|w| w.id == key || w.ironclad_id.eq_ignore_ascii_case(key))
}

/// `WorkflowResponseModel` as served: in-progress approval/signature links made absolute.
pub fn render(workflow: &Workflow, base_url: &str) -> Value {
    let absolute = |state: &StepState| match state {
        StepState::InProgress { url } if url.starts_with('/') => StepState::InProgress {
            url: format!("{base_url}{url}"),
        },
        other => other.clone(),
    };
    let served = Workflow {
        approvals: absolute(&workflow.approvals),
        signatures: absolute(&workflow.signatures),
        ..workflow.clone()
    };
    serde_json::to_value(served).expect("workflows serialise")
}

/// `LaunchedWorkflow`: the same fields, with the short `{id, email, displayName}` creator.
pub fn launched(workflow: &Workflow, base_url: &str) -> Value {
    let mut value = render(workflow, base_url);
    let c = &workflow.creator;
    value["creator"] = json!({ "id": c.id, "email": c.email, "displayName": c.display_name });
    value
}

/// The list query's `status`, `template`, `lastUpdated` and `filter`.
struct ListQuery {
    statuses: Vec<String>,
    template: Option<String>,
    since_ms: Option<i64>,
    filter: Option<Filter>,
}

impl ListQuery {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        let statuses = params
            .list("status")
            .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default();
        let statuses = if statuses.is_empty() {
            vec!["active".to_owned()]
        } else {
            statuses
        };
        if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
            return Err(ApiError::invalid_param(
                format!(
                    "invalid query value '{bad}'; value must be one of [{}]",
                    STATUSES.join(", ")
                ),
                "status",
            ));
        }
        let since_ms = match params.get("lastUpdated").filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(time::parse(raw).ok_or_else(|| {
                ApiError::invalid_param(
                    format!("invalid query value '{raw}'; value must be an ISO-8601 UTC date"),
                    "lastUpdated",
                )
            })?),
        };
        let filter = match params.get("filter").filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(Filter::parse(raw).map_err(|why| {
                ApiError::invalid_param(format!("invalid filter: {why}"), "filter")
            })?),
        };
        let template = params
            .get("template")
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Ok(Self {
            statuses,
            template,
            since_ms,
            filter,
        })
    }

    /// Whether `w`, last updated at `updated_ms`, is listed.
    fn matches(&self, updated_ms: i64, w: &Workflow) -> bool {
        self.statuses.contains(&w.status)
            && self.template.as_ref().is_none_or(|t| &w.template == t)
            && self.since_ms.is_none_or(|since| updated_ms >= since)
            && self
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&|property| property_of(w, property)))
    }
}

/// A `[property]` of a workflow for filters: its attributes first, then top-level fields.
fn property_of(w: &Workflow, property: &str) -> Option<Value> {
    if let Some(v) = w.attributes.get(property) {
        return Some(v.clone());
    }
    Some(match property {
        "id" => json!(w.id),
        "ironcladId" => json!(w.ironclad_id),
        "title" => json!(w.title),
        "template" => json!(w.template),
        "step" => json!(w.step),
        "status" => json!(w.status),
        "created" => json!(w.created),
        "lastUpdated" => json!(w.last_updated),
        "isCancelled" => json!(w.is_cancelled),
        "isComplete" => json!(w.is_complete),
        "isRevertibleToReview" => json!(w.is_revertible_to_review),
        "creator" => json!(w.creator.email),
        _ => return None,
    })
}
