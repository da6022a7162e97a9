//! `/public/api/v1/exports`: submit a data export (`DataExportRequestModel`) and poll its job.
//! A job answers `pending` when submitted, then advances one step per status poll:
//! `running`, then `done`. Errors here use the spec's `{"error": "..."}` body, not
//! `{code, message, param}`; scope and token failures are the usual API errors.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::store::ids;
use crate::store::time;
use crate::store::webhooks_and_jobs::ExportJob;

pub const CREATE_REPORTS: &str = "public.export.createReports";
pub const READ_REPORTS: &str = "public.export.readReports";

const EXPORT_TYPES: [&str; 2] = ["workflow_activities", "audit_log"];
const FORMATS: [&str; 2] = ["CSV", "JSON"];
const EVENT_CATEGORIES: [&str; 2] = ["user_entitlement", "integration_errors"];
const UNKNOWN_JOB: &str = "Could not retrieve job status. Please verify the job id and try again.";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: export
        .route("/public/api/v1/exports", post(submit))
        // action: export_job
        .route("/public/api/v1/exports/{jobId}", get(status))
}

/// An exports 400: `{"error": message}`.
struct ExportError(String);

impl IntoResponse for ExportError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

async fn submit(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Response {
    if let Err(e) = actor.require_scope(CREATE_REPORTS) {
        return e.into_response();
    }
    let request = match validate(&body) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let job = ExportJob {
        job_id: ids::uuid(),
        job_status: "pending".into(),
        request: Value::Object(request),
    };
    let answer = json!({ "jobId": job.job_id, "jobStatus": job.job_status });
    emu.data().platform.exports.push(job);
    Json(answer).into_response()
}

async fn status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(job_id): Path<String>,
) -> Response {
    if let Err(e) = actor.require_scope(READ_REPORTS) {
        return e.into_response();
    }
    let mut data = emu.data();
    let Some(job) = data
        .platform
        .exports
        .iter_mut()
        .find(|j| j.job_id.eq_ignore_ascii_case(&job_id))
    else {
        return ExportError(UNKNOWN_JOB.into()).into_response();
    };
    job.job_status = match job.job_status.as_str() {
        "pending" => "running",
        "running" => "done",
        settled => settled,
    }
    .to_owned();
    Json(json!({ "jobId": job.job_id, "jobStatus": job.job_status })).into_response()
}

/// A `DataExportRequestModel` (`additionalProperties: false`, `exportType` required), with
/// `exportConfigs` matching the export type.
fn validate(body: &[u8]) -> Result<Map<String, Value>, ExportError> {
    let bad = |m: &str| ExportError(m.to_owned());
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("request body must be a JSON object"));
    };
    const KNOWN: [&str; 6] = [
        "exportType",
        "startDate",
        "endDate",
        "exportFormat",
        "signedUrlEnabled",
        "exportConfigs",
    ];
    if let Some(unknown) = request.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ExportError(format!(
            "unknown property '{unknown}'; expected one of {}",
            KNOWN.join(", ")
        )));
    }
    let export_type = match request.get("exportType") {
        None | Some(Value::Null) => return Err(bad("exportType is required")),
        Some(v) => v
            .as_str()
            .filter(|t| EXPORT_TYPES.contains(t))
            .ok_or_else(|| {
                ExportError(format!(
                    "exportType must be one of {}",
                    EXPORT_TYPES.join(", ")
                ))
            })?,
    };
    let date = |key: &str| -> Result<Option<i64>, ExportError> {
        match request.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(time::parse)
                .map(Some)
                .ok_or_else(|| ExportError(format!("{key} must be an ISO-8601 date"))),
        }
    };
    if let (Some(start), Some(end)) = (date("startDate")?, date("endDate")?)
        && start > end
    {
        return Err(bad("startDate must not be after endDate"));
    }
    if let Some(format) = request.get("exportFormat")
        && !format.as_str().is_some_and(|f| FORMATS.contains(&f))
    {
        return Err(ExportError(format!(
            "exportFormat must be one of {}",
            FORMATS.join(", ")
        )));
    }
    if let Some(signed) = request.get("signedUrlEnabled")
        && !signed.is_boolean()
    {
        return Err(bad("signedUrlEnabled must be a boolean"));
    }
    if let Some(configs) = request.get("exportConfigs") {
        check_configs(export_type, configs)?;
    }
    Ok(request)
}

fn check_configs(export_type: &str, configs: &Value) -> Result<(), ExportError> {
    let Some(configs) = configs.as_object() else {
        return Err(ExportError("exportConfigs must be an object".into()));
    };
    let strings = |v: &Value, allowed: Option<&[&str]>| {
        v.as_array().is_some_and(|items| {
            items.iter().all(|i| {
                i.as_str()
                    .is_some_and(|s| allowed.is_none_or(|a| a.contains(&s)))
            })
        })
    };
    let ok = match export_type {
        "workflow_activities" => configs.iter().all(|(k, v)| match k.as_str() {
            "metadataProperties" => strings(v, None),
            "includeCommentDetail" => v.is_boolean(),
            _ => false,
        }),
        _ => configs.iter().all(|(k, v)| match k.as_str() {
            "eventCategories" => strings(v, Some(&EVENT_CATEGORIES)),
            _ => false,
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(ExportError(match export_type {
            "workflow_activities" => "exportConfigs for workflow_activities takes metadataProperties (strings) and includeCommentDetail (boolean)".into(),
            _ => format!(
                "exportConfigs for audit_log takes eventCategories, each one of {}",
                EVENT_CATEGORIES.join(", ")
            ),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_requests() {
        let ok = |v: Value| {
            validate(v.to_string().as_bytes())
                .map(|_| ())
                .map_err(|e| e.0)
        };
        assert_eq!(ok(json!({"exportType": "workflow_activities"})), Ok(()));
        assert_eq!(
            ok(
                json!({"exportType": "audit_log", "exportFormat": "JSON", "signedUrlEnabled": true,
                "startDate": "2025-01-01T00:00:00.000Z", "endDate": "2025-02-01",
                "exportConfigs": {"eventCategories": ["user_entitlement"]}})
            ),
            Ok(())
        );
        for bad in [
            json!({}),
            json!({"exportType": "records"}),
            json!({"exportType": "audit_log", "extra": 1}),
            json!({"exportType": "audit_log", "exportFormat": "XML"}),
            json!({"exportType": "audit_log", "startDate": "soon"}),
            json!({"exportType": "audit_log", "startDate": "2025-03-01", "endDate": "2025-02-01"}),
            json!({"exportType": "audit_log", "exportConfigs": {"includeCommentDetail": true}}),
            json!({"exportType": "workflow_activities", "exportConfigs": {"eventCategories": []}}),
            json!({"exportType": "audit_log", "exportConfigs": {"eventCategories": ["logins"]}}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
        assert!(validate(b"[1]").is_err());
    }
}
