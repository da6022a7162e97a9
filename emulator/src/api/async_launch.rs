//! `/public/api/v1/workflows/async`: launch a workflow asynchronously and poll the job.
//!
//! The body is checked like a synchronous launch (`launch`): a malformed body is a 400 at
//! once; a launch the form rejects (unknown template, bad or missing attributes) becomes a
//! `failed` job. A job reports `in_progress` on its first status poll and settles on the
//! next: `success` with the new workflow (created then, and from then on retrievable and
//! listed) or `failed` with `error {code, message, param}`. The status route needs the
//! *create* scope, as the spec says.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::api::launch::{self, Files, LaunchRequest};
use crate::api::workflows::{self, CREATE_WORKFLOWS};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::ids;
use crate::store::webhooks_and_jobs::{AsyncJob, AsyncOutcome};

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: create_new_workflow_async, launch_workflow_and_wait
        .route("/public/api/v1/workflows/async", post(submit))
        // action: retrieve_asynchronous_workflow_status, launch_workflow_and_wait
        .route("/public/api/v1/workflows/async/{asyncJobId}", get(status))
}

async fn submit(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_WORKFLOWS)?;
    let use_defaults = params.flag("useDefaultValues", false)?;
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let request = LaunchRequest::parse(&headers, &body)?;
    if let Files::Multipart(_) = request.files {
        // The spec declares only application/json for this route.
        return Err(ApiError::invalid_param(
            "the async launch takes application/json; launch with files through POST /workflows",
            "content-type",
        ));
    }
    let outcome = match emu.seed().template(&request.template) {
        None => AsyncOutcome::Failed(
            ApiError::invalid_param("template does not exist or is not published", "template")
                .body(),
        ),
        Some(template) => {
            match launch::validate_attributes(
                template,
                request.attributes,
                use_defaults,
                &Files::Json,
            ) {
                Ok(attributes) => AsyncOutcome::Launch {
                    template: template.id.clone(),
                    attributes,
                    user: actor.user.clone(),
                },
                Err(e) => AsyncOutcome::Failed(e.body()),
            }
        }
    };
    let id = format!("jobId{}", ids::hex(16));
    emu.data().platform.async_jobs.push(AsyncJob {
        id: id.clone(),
        payload,
        polls: 0,
        outcome,
    });
    Ok(Json(json!({
        "asyncJobId": id,
        "asyncJobStatusUrl": format!("{}/public/api/v1/workflows/async/{id}", emu.base_url()),
    })))
}

async fn status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_WORKFLOWS)?;
    let base = emu.base_url().to_owned();
    let mut data = emu.data();
    let index = data
        .platform
        .async_jobs
        .iter()
        .position(|j| j.id == job_id)
        .ok_or_else(|| ApiError::not_found("not found", Some("asyncJobId")))?;
    let job = &mut data.platform.async_jobs[index];
    job.polls += 1;
    let payload = job.payload.clone();
    if job.polls == 1 {
        return Ok(Json(
            json!({ "status": "in_progress", "requestPayload": payload }),
        ));
    }
    // Settle: create the workflow on the first poll after `in_progress`.
    if let AsyncOutcome::Launch {
        template,
        attributes,
        user,
    } = job.outcome.clone()
    {
        let template = emu
            .seed()
            .template(&template)
            .expect("validated at submission");
        let workflow_id = launch::launch(
            &mut data,
            emu.seed(),
            template,
            attributes,
            &Files::Json,
            &user,
        )
        .id;
        data.platform.async_jobs[index].outcome = AsyncOutcome::Launched { workflow_id };
    }
    match &data.platform.async_jobs[index].outcome {
        AsyncOutcome::Failed(error) => Ok(Json(json!({
            "status": "failed",
            "requestPayload": payload,
            "error": error,
        }))),
        AsyncOutcome::Launched { workflow_id } => {
            let workflow = workflows::find(&data.workflows, workflow_id).ok_or_else(|| {
                ApiError::not_found("the launched workflow no longer exists", Some("asyncJobId"))
            })?;
            Ok(Json(json!({
                "status": "success",
                "requestPayload": payload,
                "workflowUrls": {
                    "browserUrl": format!("{base}/workflows/{workflow_id}"),
                    "apiUrl": format!("{base}/public/api/v1/workflows/{workflow_id}"),
                },
                "workflow": workflows::launched(workflow, &base),
            })))
        }
        AsyncOutcome::Launch { .. } => unreachable!("settled above"),
    }
}
