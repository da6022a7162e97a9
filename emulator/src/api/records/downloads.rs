//! Bulk attachment download-URL jobs (`/records/attachments/download-urls[/{jobId}]`) and
//! smart-import predictions (`GET /records/smart-import`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{READ_ATTACHMENTS, READ_SMART_IMPORT};
use crate::api::body::{json_object, reject_unknown};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::{self, Params};
use crate::store::repository::{DownloadJob, Prediction, Repository};
use crate::{store::ids, store::time};

/// How long a signed attachment download URL lives (the spec's example says 1200 s).
const DOWNLOAD_URL_TTL_MS: i64 = 1_200_000;

pub(super) async fn create_download_job(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(READ_ATTACHMENTS)?;
    let body = json_object(&body)?;
    reject_unknown(&body, &["identifiers", "type"])?;
    let identifiers = match body.get("identifiers") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "identifiers",
            ));
        }
        Some(Value::Array(items)) if (1..=100).contains(&items.len()) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ApiError::invalid_param(
                            "identifiers must be record ids or Ironclad ids",
                            "identifiers",
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "identifiers must be an array of 1 to 100 record ids or Ironclad ids",
                "identifiers",
            ));
        }
    };
    match body.get("type") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "type",
            ));
        }
        Some(Value::String(t)) if t == "latestSignedCopy" => {}
        Some(other) => {
            return Err(ApiError::invalid_param(
                format!("invalid type {other}; value must be one of [latestSignedCopy]"),
                "type",
            ));
        }
    }
    let job_id = ids::uuid();
    emu.data().repository.download_jobs.insert(
        job_id.clone(),
        DownloadJob {
            identifiers,
            result: None,
        },
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "jobId": job_id, "status": "processing" })),
    )
        .into_response())
}

pub(super) async fn download_job_status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_ATTACHMENTS)?;
    let mut data = emu.data();
    let now = data.now();
    let repo = &mut data.repository;
    let job = repo
        .download_jobs
        .get(&job_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("not found", Some("jobId")))?;
    let result = match job.result {
        Some(done) => done,
        None => {
            let done = resolve_download_job(repo, &job_id, &job.identifiers, emu.seed(), now);
            if let Some(j) = repo.download_jobs.get_mut(&job_id) {
                j.result = Some(done.clone());
            }
            done
        }
    };
    Ok(Json(result))
}

/// The finished job: a signed URL per record with a signed copy, a failure per other identifier.
fn resolve_download_job(
    repo: &Repository,
    job_id: &str,
    identifiers: &[String],
    seed: &crate::store::seed::Seed,
    now: i64,
) -> Value {
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for identifier in identifiers {
        let Some(record) = repo.record(identifier) else {
            failed.push(json!({
                "identifier": identifier,
                "errorCode": "RECORD_NOT_FOUND",
                "errorMessage": format!("couldn't find a record matching the id {identifier}"),
            }));
            continue;
        };
        let Some(filename) = record
            .attachments
            .get("signedCopy")
            .and_then(|a| a["filename"].as_str())
        else {
            failed.push(json!({
                "identifier": identifier,
                "ironcladId": record.ironclad_id,
                "recordId": record.id,
                "errorCode": "NO_ATTACHMENT_FOUND",
                "errorMessage": "the record has no signed copy attachment",
            }));
            continue;
        };
        let hash = hex(&Sha256::digest(format!("{}:{filename}", record.id)));
        let file_id = format!(
            "{}-{}-{}-{}-{}",
            &hash[..8],
            &hash[8..12],
            &hash[12..16],
            &hash[16..20],
            &hash[20..32]
        );
        let url = query::with_query(
            &format!(
                "https://storage.googleapis.com/ic_record_attachments/{}/{}/{hash}",
                seed.company.id, record.id
            ),
            &[
                ("X-Goog-Algorithm", "GOOG4-RSA-SHA256"),
                ("X-Goog-Expires", "1200"),
                ("X-Goog-SignedHeaders", "host"),
                (
                    "response-content-disposition",
                    &format!("attachment; filename=\"{filename}\""),
                ),
                ("X-Goog-Signature", &ids::hex(64)),
            ],
        );
        succeeded.push(json!({
            "identifier": identifier,
            "ironcladId": record.ironclad_id,
            "recordId": record.id,
            "downloadUrl": url,
            "filename": filename,
            "fileKey": "signedCopy",
            "fileId": file_id,
            "fileHash": hash,
            "expiration": time::format_ms(now + DOWNLOAD_URL_TTL_MS),
        }));
    }
    json!({ "jobId": job_id, "status": "complete", "succeeded": succeeded, "failed": failed })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// --- smart-import predictions ----------------------------------------------------------------

pub(super) async fn predictions(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SMART_IMPORT)?;
    let record_id = params.get("recordId").filter(|s| !s.is_empty());
    let import_id = params.get("importId").filter(|s| !s.is_empty());
    let data = emu.data();
    let repo = &data.repository;
    let record_uuid = record_id.map(|k| repo.record(k).map(|r| r.id.as_str()).unwrap_or(k));
    let element = |p: &Prediction| json!({ "recordId": p.record_id, "status": p.status });
    match (record_uuid, import_id) {
        (None, None) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAM",
            "missing required form-data part 'recordId' or 'importId",
            None,
        )),
        (record, Some(import)) => {
            let found: Vec<Value> = repo
                .predictions
                .iter()
                .filter(|p| p.import_id == import && record.is_none_or(|r| p.record_id == r))
                .map(element)
                .collect();
            if found.is_empty() {
                Err(ApiError::not_found(
                    format!("couldn't find predictions for the import: {import}"),
                    None,
                ))
            } else {
                Ok(Json(Value::Array(found)))
            }
        }
        (Some(record), None) => repo
            .predictions
            .iter()
            .find(|p| p.record_id == record)
            .map(|p| Json(element(p)))
            .ok_or_else(|| {
                ApiError::not_found(
                    format!(
                        "couldn't find predictions for the record: {}",
                        record_id.unwrap_or(record)
                    ),
                    None,
                )
            }),
    }
}
