//! `GET /exports/{jobId}/download` (the finished data export, CSV or JSON per the job's
//! `exportFormat`) and `GET /webhooks/verification-key` (the PEM public key of the test key
//! webhooks are signed with now — `store::webhook_keys` —, `text/plain`, no scope).
//!
//! Export contents are made from the tenant's state when downloaded: `workflow_activities` has
//! a row per workflow (launched within `startDate`..`endDate` when given, plus the attributes
//! `exportConfigs.metadataProperties` names); `audit_log` has a `user_entitlement` row per user.
//! Errors use the exports' `{"error": "..."}` body.

use axum::Json;
use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::download;
use crate::api::exports::READ_REPORTS;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::store::time;
use crate::store::webhooks_and_jobs::ExportJob;

const UNKNOWN_JOB: &str = "Could not retrieve job status. Please verify the job id and try again.";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: export_job_download
        .route(
            "/public/api/v1/exports/{jobId}/download",
            get(export_download),
        )
        // action: retrieve_webhook_verification_key
        .route(
            "/public/api/v1/webhooks/verification-key",
            get(verification_key),
        )
}

/// Any authenticated caller may read it: the operation lists no scope.
async fn verification_key(
    State(emu): State<Emulator>,
    Extension(_actor): Extension<Actor>,
) -> Response {
    let pem = emu.data().deliveries.key.verification_pem();
    ([(header::CONTENT_TYPE, "text/plain")], pem).into_response()
}

fn export_error(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

async fn export_download(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(job_id): Path<String>,
) -> Response {
    if let Err(e) = actor.require_scope(READ_REPORTS) {
        return e.into_response();
    }
    let data = emu.data();
    let Some(job) = data
        .platform
        .exports
        .iter()
        .find(|j| j.job_id.eq_ignore_ascii_case(&job_id))
    else {
        return export_error(UNKNOWN_JOB);
    };
    match job.job_status.as_str() {
        "done" => {}
        "failed" => return export_error("The export job failed; there is no file to download."),
        status => {
            return export_error(format!(
                "The export job is not done yet (status {status}). Please check the job status and try again when it is done."
            ));
        }
    }
    let rows = rows(&emu, &data.workflows, job);
    let export_type = job.request["exportType"].as_str().unwrap_or("export");
    let name = format!("{export_type}_{}", job.job_id);
    if job.request["exportFormat"] == "JSON" {
        let body = serde_json::to_vec_pretty(&rows).expect("rows serialise");
        download(&format!("{name}.json"), "application/json", body)
    } else {
        download(&format!("{name}.csv"), "text/csv", csv(&rows))
    }
}

/// The export's rows, each an object with the same keys in the same order.
fn rows(emu: &Emulator, workflows: &[crate::store::seed::Workflow], job: &ExportJob) -> Vec<Value> {
    let request = &job.request;
    let date = |key: &str| request[key].as_str().and_then(time::parse);
    let (start, end) = (date("startDate"), date("endDate"));
    match request["exportType"].as_str() {
        Some("workflow_activities") => {
            let metadata: Vec<&str> = request["exportConfigs"]["metadataProperties"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            workflows
                .iter()
                .filter(|w| {
                    let at = time::parse(&w.created);
                    start.is_none_or(|s| at.is_some_and(|a| a >= s))
                        && end.is_none_or(|e| at.is_some_and(|a| a <= e))
                })
                .map(|w| {
                    let mut row = Map::new();
                    for (k, v) in [
                        ("workflowId", &w.id),
                        ("ironcladId", &w.ironclad_id),
                        ("title", &w.title),
                        ("template", &w.template),
                        ("step", &w.step),
                        ("status", &w.status),
                        ("created", &w.created),
                        ("lastUpdated", &w.last_updated),
                    ] {
                        row.insert(k.into(), json!(v));
                    }
                    for m in &metadata {
                        row.insert(
                            (*m).into(),
                            w.attributes.get(*m).cloned().unwrap_or(Value::Null),
                        );
                    }
                    Value::Object(row)
                })
                .collect()
        }
        _ => emu
            .seed()
            .users
            .iter()
            .map(|u| {
                json!({
                    "eventCategory": "user_entitlement",
                    "eventType": "user_active",
                    "userId": u.id,
                    "email": u.email,
                    "displayName": u.display_name(),
                })
            })
            .collect(),
    }
}

/// RFC 4180 CSV: a header row from the first row's keys, CRLF line ends, quoting as needed.
fn csv(rows: &[Value]) -> Vec<u8> {
    let field = |v: &Value| -> String {
        let text = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if text.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    let Some(first) = rows.first().and_then(Value::as_object) else {
        return Vec::new();
    };
    let keys: Vec<&String> = first.keys().collect();
    let mut out = String::new();
    out.push_str(
        &keys
            .iter()
            .map(|k| field(&json!(k)))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for row in rows {
        out.push_str(
            &keys
                .iter()
                .map(|k| field(&row[k.as_str()]))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_orders() {
        let rows = vec![
            json!({"a": 1, "b": "x,y"}),
            json!({"a": null, "b": "say \"hi\""}),
        ];
        assert_eq!(
            String::from_utf8(csv(&rows)).unwrap(),
            "a,b\r\n1,\"x,y\"\r\n,\"say \"\"hi\"\"\"\r\n"
        );
        assert!(csv(&[]).is_empty());
    }
}
