//! Record files: attachments on a record (`POST|GET|DELETE /records/{id}/attachments/{key}`),
//! smart import (`POST /records/smart-import[/{importId}]`) and the XLSX records export
//! (`GET /records/export`).
//!
//! Attachment keys are the records schema's (`signedCopy`); the record's `attachments[key]`
//! holds `{filename, contentType}` and is served with an `href` to the download route. A smart
//! import spends one AI Contract Credit and creates a record of the requested (or a new) type
//! holding the file as its `signedCopy`, with a `ready` prediction.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::api::files::{content_type_for, download, extension, form, generate, json_part};
use crate::api::records::{self};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::multipart::{Form, MAX_FILE_BYTES, UPLOAD_BODY_LIMIT};
use crate::infra::query::Params;
use crate::store::files::{Blob, FileStore};
use crate::store::repository::{NewRecord, Prediction, Repository};
use crate::{store::ids, store::time};

pub const CREATE_ATTACHMENTS: &str = "public.records.createAttachments";
pub const READ_ATTACHMENTS: &str = "public.records.readAttachments";
pub const DELETE_ATTACHMENTS: &str = "public.records.deleteAttachments";
pub const CREATE_SMART_IMPORT: &str = "public.records.createSmartImportRecords";

/// Extensions a record attachment may have, as Ironclad's error lists them (`.tif` twice, sic).
const ATTACHMENT_EXTENSIONS: [&str; 25] = [
    "adoc", "asice", "bdoc", "csv", "ddoc", "doc", "docx", "edoc", "eml", "gif", "htm", "jpeg",
    "jpg", "msg", "pdf", "png", "ppt", "pptx", "rtf", "tif", "tif", "txt", "xls", "xlsx", "xml",
];

/// Extensions smart import accepts.
const IMPORT_EXTENSIONS: [&str; 13] = [
    "pdf", "docx", "doc", "xls", "xlsx", "eml", "tif", "jpg", "png", "jpeg", "txt", "ppt", "pptx",
];

/// The record type a smart import gets when none is named.
const DEFAULT_IMPORT_TYPE: &str = "imported";

pub fn routes() -> Router<Emulator> {
    let upload_limit = || DefaultBodyLimit::max(UPLOAD_BODY_LIMIT);
    Router::new()
        // action: delete_attachment_on_record, retrieve_attachment_on_record, create_attachment_on_record
        .route(
            "/public/api/v1/records/{id}/attachments/{key}",
            post(create_attachment)
                .layer(upload_limit())
                .get(retrieve_attachment)
                .delete(delete_attachment),
        )
        // action: create_smart_import_record
        .route(
            "/public/api/v1/records/smart-import",
            post(smart_import).layer(upload_limit()),
        )
        // action: create_smart_import_record_to_import
        .route(
            "/public/api/v1/records/smart-import/{importId}",
            post(smart_import_to).layer(upload_limit()),
        )
        // action: retrieve_xlsx_export_file_of_records
        .route("/public/api/v1/records/export", get(export))
}

// --- multipart plumbing shared by the records routes ------------------------------------------

/// Ironclad's records wording for an absent part (`INVALID_PARAM`).
fn missing_part(name: &str) -> ApiError {
    ApiError::invalid_param(format!("missing required form-data part '{name}'"), name)
}

/// A text part, trimmed; empty counts as absent.
fn text_part(form: &Form, name: &str) -> Option<String> {
    form.get(name)
        .map(|p| p.text().trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn record_missing(key: &str, status: StatusCode) -> ApiError {
    ApiError::new(
        status,
        "NOT_FOUND",
        format!("couldn't find a record matching the id {key}"),
        None,
    )
}

/// The bytes of a record attachment: uploaded, else generated from its file name.
fn attachment_blob(store: &FileStore, record_id: &str, key: &str, meta: &Value) -> Blob {
    if let Some(blob) = store
        .attachments
        .get(&(record_id.to_owned(), key.to_owned()))
    {
        return blob.clone();
    }
    let filename = meta["filename"].as_str().unwrap_or(key).to_owned();
    let content_type = meta["contentType"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| content_type_for(&filename).to_owned());
    Blob {
        data: generate::placeholder(&filename).into(),
        filename,
        content_type,
    }
}

// --- attachments -------------------------------------------------------------------------------

async fn create_attachment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, key)): Path<(String, String)>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_ATTACHMENTS)?;
    let as_object = params.flag("addressAsObject", false)?;
    let form = form(&headers, &body, "attachment")?;
    let mut data = emu.data();
    let now = data.tick();
    let data = &mut *data;
    let repo = &mut data.repository;
    // The spec documents this not-found under 400.
    let index = repo
        .find_record(&id)
        .ok_or_else(|| record_missing(&id, StatusCode::BAD_REQUEST))?;
    if !repo.schema.attachments.contains_key(&key) {
        return Err(ApiError::invalid_param(
            format!("unknown record attachment key '{key}'"),
            "attachmentKey",
        ));
    }
    let metadata = json_part(
        form.get("metadata")
            .ok_or_else(|| missing_part("metadata"))?,
    )?;
    let attachment = form
        .get("attachment")
        .ok_or_else(|| missing_part("attachment"))?;
    let filename = match metadata.get("filename") {
        Some(Value::String(f)) if !f.trim().is_empty() => f.clone(),
        None | Some(Value::Null) => attachment
            .filename
            .clone()
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| {
                ApiError::missing_param("missing required property 'filename'", "metadata.filename")
            })?,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "filename must be a non-empty string",
                "metadata.filename",
            ));
        }
    };
    if !extension(&filename).is_some_and(|e| ATTACHMENT_EXTENSIONS.contains(&e.as_str())) {
        let allowed: Vec<String> = ATTACHMENT_EXTENSIONS
            .iter()
            .map(|e| format!(".{e}"))
            .collect();
        return Err(ApiError::invalid_param(
            format!(
                "filename \"{filename}\" does not have an accepted extension. Only the following extensions are allowed: {}",
                allowed.join(", ")
            ),
            "metadata.filename",
        ));
    }
    let record = &mut repo.records[index];
    if record.attachments.contains_key(&key) {
        return Err(ApiError::invalid_param(
            format!("record attachment key '{key}' already exists for record"),
            "attachmentKey",
        ));
    }
    let content_type = content_type_for(&filename).to_owned();
    record.attachments.insert(
        key.clone(),
        json!({ "filename": filename, "contentType": content_type }),
    );
    record.last_updated = time::format_ms(now);
    let record_id = record.id.clone();
    data.files.attachments.insert(
        (record_id.clone(), key),
        Blob {
            filename,
            content_type,
            data: attachment.data.clone(),
        },
    );
    let rendered = data
        .repository
        .render_record(&record_id, emu.base_url(), now, as_object)
        .expect("still there");
    Ok(Json(rendered))
}

async fn retrieve_attachment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    actor.require_scope(READ_ATTACHMENTS)?;
    let data = emu.data();
    let record = data
        .repository
        .record(&id)
        .ok_or_else(|| record_missing(&id, StatusCode::NOT_FOUND))?;
    let meta = record
        .attachments
        .get(&key)
        .ok_or_else(|| attachment_missing(&key, &record.id))?;
    Ok(attachment_blob(&data.files, &record.id, &key, meta).into_response())
}

fn attachment_missing(key: &str, record_id: &str) -> ApiError {
    ApiError::not_found(
        format!(
            "couldn't find an attachment matching the key {key} for record with id {record_id}"
        ),
        None,
    )
}

async fn delete_attachment(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    actor.require_scope(DELETE_ATTACHMENTS)?;
    let mut data = emu.data();
    let now = data.tick();
    let data = &mut *data;
    let index = data
        .repository
        .find_record(&id)
        .ok_or_else(|| record_missing(&id, StatusCode::NOT_FOUND))?;
    let record = &mut data.repository.records[index];
    if record.attachments.remove(&key).is_none() {
        return Err(attachment_missing(&key, &record.id));
    }
    record.last_updated = time::format_ms(now);
    data.files.attachments.remove(&(record.id.clone(), key));
    Ok(StatusCode::NO_CONTENT)
}

// --- smart import ------------------------------------------------------------------------------

async fn smart_import(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    run_smart_import(&emu, &actor, None, &headers, &body)
}

async fn smart_import_to(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(import_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    run_smart_import(&emu, &actor, Some(import_id), &headers, &body)
}

/// Whether `import_id` names an import: one smart import created, or one the seed's records
/// and predictions come from.
fn known_import(repo: &Repository, files: &FileStore, import_id: &str) -> bool {
    files.imports.contains(import_id)
        || repo.predictions.iter().any(|p| p.import_id == import_id)
        || repo.records.iter().any(|r| {
            r.source
                .as_ref()
                .is_some_and(|s| s["type"] == "import_project" && s["importId"] == import_id)
        })
}

/// The record type a smart import asks for: `(type id, display name if it is new)`.
fn import_type(
    repo: &Repository,
    form: &Form,
    type_param: &str,
) -> Result<(String, Option<String>), ApiError> {
    let record_type = text_part(form, "recordType");
    let new_id = text_part(form, "newRecordTypeId");
    let new_name = text_part(form, "newRecordTypeDisplayName");
    match (record_type, new_id, new_name) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::invalid_param(
            "recordType cannot be provided alongside newRecordTypeId and newRecordTypeDisplayName",
            "recordType",
        )),
        (None, Some(_), None) => Err(ApiError::missing_param(
            "newRecordTypeId must be provided along with a newRecordTypeDisplayName",
            "newRecordTypeDisplayName",
        )),
        (None, None, Some(_)) => Err(ApiError::missing_param(
            "newRecordTypeDisplayName must be provided along with a newRecordTypeId",
            "newRecordTypeId",
        )),
        (None, Some(id), Some(name)) => {
            if repo.schema.record_types.contains_key(&id) {
                Err(ApiError::invalid_param(
                    format!("record type {id} already exists"),
                    "newRecordTypeId",
                ))
            } else {
                Ok((id, Some(name)))
            }
        }
        (Some(kind), None, None) => {
            if repo.schema.record_types.contains_key(&kind) {
                Ok((kind, None))
            } else {
                Err(ApiError::invalid_param(
                    format!("unknown record type {kind}"),
                    type_param,
                ))
            }
        }
        (None, None, None) => Ok((
            DEFAULT_IMPORT_TYPE.to_owned(),
            (!repo.schema.record_types.contains_key(DEFAULT_IMPORT_TYPE))
                .then(|| "Imported".to_owned()),
        )),
    }
}

fn run_smart_import(
    emu: &Emulator,
    actor: &Actor,
    import_id: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_SMART_IMPORT)?;
    let form = form(headers, body, "attachment")?;
    let mut data = emu.data();
    let now = data.tick();
    let data = &mut *data;
    if let Some(import) = &import_id
        && !known_import(&data.repository, &data.files, import)
    {
        return Err(record_missing(import, StatusCode::NOT_FOUND));
    }
    let attachment = form.get("attachment").ok_or_else(|| {
        ApiError::missing_param("missing required form-data part 'attachment'", "attachment")
    })?;
    if attachment.data.len() > MAX_FILE_BYTES {
        return Err(ApiError::invalid_param(
            "parameter 'attachment' too large, please limit upload files less than 100MB",
            "attachment",
        ));
    }
    let blob = crate::api::files::uploaded(attachment, "attachment");
    if !extension(&blob.filename).is_some_and(|e| IMPORT_EXTENSIONS.contains(&e.as_str())) {
        let allowed: Vec<String> = IMPORT_EXTENSIONS.iter().map(|e| format!(".{e}")).collect();
        return Err(ApiError::invalid_param(
            format!(
                "filename {} does not have an accepted extension. Only the following extensions are allowed: {}.",
                blob.filename,
                allowed.join(", ")
            ),
            "metadata.filename",
        ));
    }
    // The spec's examples name the bad type `type` on a new import, `recordType` on an existing one.
    let type_param = if import_id.is_some() {
        "recordType"
    } else {
        "type"
    };
    let (kind, new_type) = import_type(&data.repository, &form, type_param)?;
    if data.files.credits == 0 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "No more AI Contract Credits available",
            None,
        ));
    }
    let repo = &mut data.repository;
    if let Some(display_name) = new_type {
        repo.schema
            .record_types
            .insert(kind.clone(), json!({ "displayName": display_name }));
    }
    let import_id = import_id.unwrap_or_else(ids::uuid);
    let name = blob
        .filename
        .rsplit_once('.')
        .map_or(blob.filename.as_str(), |(stem, _)| stem)
        .to_owned();
    let record_id = ids::uuid();
    let content_type = content_type_for(&blob.filename).to_owned();
    let mut attachments = Map::new();
    attachments.insert(
        "signedCopy".into(),
        json!({ "filename": blob.filename, "contentType": content_type }),
    );
    repo.add_record(
        record_id.clone(),
        NewRecord {
            kind,
            name,
            properties: Map::new(),
            attachments,
            parent: None,
            properties_to_amend: Vec::new(),
            source: Some(json!({ "type": "import_project", "importId": import_id })),
        },
        now,
    );
    repo.predictions.push(Prediction {
        import_id: import_id.clone(),
        record_id: record_id.clone(),
        status: "ready".into(),
    });
    data.files.credits -= 1;
    data.files.imports.insert(import_id.clone());
    data.files.attachments.insert(
        (record_id.clone(), "signedCopy".into()),
        Blob {
            content_type,
            ..blob
        },
    );
    Ok(Json(json!({
        "recordId": record_id,
        "importId": import_id,
        "remainingCredits": data.files.credits,
    })))
}

// --- XLSX export ---------------------------------------------------------------------------------

/// A comma-separated query list (empty items dropped), `None` when absent or empty.
fn comma_list(params: &Params, name: &str) -> Option<Vec<String>> {
    params
        .list(name)
        .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
}

/// A record property's value as a spreadsheet cell.
fn cell(property: &Value) -> String {
    let value = &property["value"];
    match (property["type"].as_str(), value) {
        (_, Value::Null) => String::new(),
        (_, Value::String(s)) => s.clone(),
        (Some("monetary_amount"), v) => format!(
            "{} {}",
            v["amount"],
            v["currency"].as_str().unwrap_or_default()
        )
        .trim()
        .to_owned(),
        (Some("address"), v) => records::address_text(v),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        (_, v) => v.to_string(),
    }
}

async fn export(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Response, ApiError> {
    actor.require_scope(records::READ_RECORDS)?;
    let data = emu.data();
    let repo = &data.repository;
    let types = comma_list(&params, "types");
    if let Some(bad) = types
        .iter()
        .flatten()
        .find(|t| !repo.schema.record_types.contains_key(*t))
    {
        return Err(ApiError::invalid_param(
            format!("unknown record type {bad}"),
            "types",
        ));
    }
    let columns: Vec<String> = match comma_list(&params, "properties") {
        Some(list) => {
            if let Some(bad) = list.iter().find(|p| {
                !repo.schema.properties.contains_key(*p)
                    && !repo.schema.attachments.contains_key(*p)
            }) {
                return Err(ApiError::invalid_param(
                    format!("unknown property {bad}"),
                    "properties",
                ));
            }
            list
        }
        None => repo
            .schema
            .properties
            .iter()
            .filter(|(_, def)| def.visible != Some(false))
            .map(|(id, _)| id.clone())
            .collect(),
    };
    let mut header = vec![
        "Ironclad ID".to_owned(),
        "Name".to_owned(),
        "Record Type".to_owned(),
    ];
    for id in &columns {
        header.push(match repo.schema.properties.get(id) {
            Some(def) => def.display_name.clone(),
            None => repo.schema.attachments[id]["displayName"]
                .as_str()
                .unwrap_or(id)
                .to_owned(),
        });
    }
    let mut records: Vec<_> = repo
        .records
        .iter()
        .filter(|r| types.as_ref().is_none_or(|t| t.contains(&r.kind)))
        .collect();
    records.sort_by_key(|r| crate::store::repository::readable_number(&r.ironclad_id, "IC-"));
    let mut rows = vec![header];
    for r in records {
        let mut row = vec![
            r.ironclad_id.clone(),
            r.name.clone(),
            repo.schema.record_types[&r.kind]["displayName"]
                .as_str()
                .unwrap_or(&r.kind)
                .to_owned(),
        ];
        for id in &columns {
            row.push(match r.properties.get(id) {
                Some(p) => cell(p),
                None => r.attachments.get(id).map_or_else(String::new, |a| {
                    a["filename"].as_str().unwrap_or_default().to_owned()
                }),
            });
        }
        rows.push(row);
    }
    Ok(download(
        "records_export.xlsx",
        content_type_for("x.xlsx"),
        generate::xlsx("Records", &rows),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert_eq!(cell(&json!({"type": "string", "value": "Acme"})), "Acme");
        assert_eq!(cell(&json!({"type": "number", "value": 12})), "12");
        assert_eq!(cell(&json!({"type": "boolean", "value": true})), "true");
        assert_eq!(
            cell(&json!({"type": "monetary_amount", "value": {"currency": "USD", "amount": 100}})),
            "100 USD"
        );
        assert_eq!(
            cell(
                &json!({"type": "address", "value": {"lines": ["1 Main St"], "locality": "Springfield"}})
            ),
            "1 Main St, Springfield"
        );
    }
}
