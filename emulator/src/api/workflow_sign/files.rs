//! Workflow files: `POST /workflows/{id}/upload-signed` (a fully or partially signed PDF, in
//! the Sign step), `POST /workflows/{id}/documents/{attributeId}` (a document, or a new version
//! of a draft) and `GET /workflows/{id}/document/{key}/download` (its bytes).
//!
//! A fully signed upload (no `metadata`, or no `signerRoleNames`, or every signer named) marks
//! every signer signed, completes the packet and moves the workflow to Archive; the PDF becomes
//! the workflow's `signed` attribute and the `signedCopy` of a new record (type from the
//! template, name = title, properties from matching attributes, `source` = the workflow) whose
//! id joins the workflow's `recordIds`. A partial one marks the named signers signed.
//!
//! `create-a-workflow-document` answers its errors as bare JSON strings, as Ironclad documents
//! (`"missing required form-data part 'attachment'"`, `"Workflow does not exists"`, sic).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Access, on_sign, signer_views, workflow_index};
use crate::api::files::{self, extension, generate};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::multipart::UPLOAD_BODY_LIMIT;
use crate::store::events::{Event, Kind};
use crate::store::files::Blob;
use crate::store::repository::{NewRecord, Repository};
use crate::store::seed::{Seed, StepState, Workflow};
use crate::{store::ids, store::time};

pub const UPLOAD_SIGNED: &str = "public.workflows.uploadSignedDocuments";
pub const CREATE_DOCUMENTS: &str = "public.workflows.createDocuments";
pub const READ_DOCUMENTS: &str = super::documents::READ_DOCUMENTS;

pub fn routes() -> Router<Emulator> {
    const W: &str = "/public/api/v1/workflows/{id}";
    let upload_limit = || DefaultBodyLimit::max(UPLOAD_BODY_LIMIT);
    Router::new()
        // action: workflow_upload_signed_document
        .route(
            &format!("{W}/upload-signed"),
            post(upload_signed).layer(upload_limit()),
        )
        // action: create_workflow_document
        .route(
            &format!("{W}/documents/{{attributeId}}"),
            post(create_document).layer(upload_limit()),
        )
        // action: retrieve_workflow_document
        .route(&format!("{W}/document/{{key}}/download"), get(download))
}

/// `ActivityFeedAuthor` for the acting user.
fn author(seed: &Seed, actor: &Actor) -> Value {
    json!({
        "type": "internalUser",
        "companyName": seed.company.display_name,
        "displayName": actor.user.display_name(),
        "email": actor.user.email,
        "userId": actor.user.id,
    })
}

// --- upload-signed -------------------------------------------------------------------------------

async fn upload_signed(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPLOAD_SIGNED)?;
    let form = files::form(&headers, &body, "attachment")?;
    let attachment = form.get("attachment").ok_or_else(|| {
        // `attachments` (sic) is the param Ironclad documents for this error.
        ApiError::missing_param(
            "missing required form-data part 'attachment'",
            "attachments",
        )
    })?;
    let roles: Vec<String> = match form.get("metadata") {
        None => Vec::new(),
        Some(part) => match files::json_part(part)?.remove("signerRoleNames") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(invalid_signers)?,
            Some(_) => return Err(invalid_signers()),
        },
    };
    let mut blob = files::uploaded(attachment, "Signed Document.pdf");
    if blob.content_type != "application/pdf" && extension(&blob.filename).as_deref() != Some("pdf")
    {
        return Err(ApiError::invalid_param(
            format!(
                "the signed document must be a PDF (application/pdf), not {}",
                blob.content_type
            ),
            "attachment",
        ));
    }
    blob.content_type = "application/pdf".into();
    let seed = emu.seed();
    let mut data = emu.data();
    let now = data.tick();
    let data = &mut *data;
    // The packet and workflow change first; the files and the record follow.
    let (snapshot, document, partial) = {
        let (workflow, packet) = on_sign(data, seed, &id, Access::Write)?;
        if roles
            .iter()
            .any(|r| !packet.signers.iter().any(|s| &s.role_name == r))
        {
            return Err(invalid_signers());
        }
        let document = files::new_document(&workflow.id, &blob.filename, now, author(seed, &actor));
        for s in &mut packet.signers {
            if roles.contains(&s.role_name) {
                s.status = "signed".into();
            }
        }
        workflow.last_updated = time::format_ms(now);
        if roles.is_empty() || packet.signers.iter().all(|s| s.status == "signed") {
            for s in &mut packet.signers {
                s.status = "signed".into();
            }
            packet.status = "complete".into();
            packet.scheduled = None;
            packet.reminded_ms.clear();
            workflow.step = "Archive".into();
            workflow.signatures = StepState::Completed;
            workflow
                .attributes
                .insert("signed".into(), json!([document.clone()]));
            (workflow.clone(), document, None)
        } else {
            if packet.status == "sent" {
                packet.advance();
            }
            let signers = signer_views(packet);
            (workflow.clone(), document, Some(signers))
        }
    };
    let key = document["key"].as_str().unwrap_or_default().to_owned();
    data.files
        .documents
        .insert((snapshot.id.clone(), key), blob.clone());
    let uploaded = Event::workflow(Kind::SignaturePacketUploaded, &snapshot);
    if let Some(signers) = partial {
        data.emit([uploaded]);
        return Ok(Json(json!({
            "workflowId": snapshot.id,
            "title": snapshot.title,
            "signers": signers,
            "partiallySigned": document,
        })));
    }
    let record_id = record_from_workflow(&mut data.repository, seed, &snapshot, &blob, now);
    data.files
        .attachments
        .insert((record_id.clone(), "signedCopy".into()), blob);
    let index = workflow_index(data, &snapshot.id)?;
    data.workflows[index].record_ids.push(record_id);
    data.emit(std::iter::once(uploaded).chain(super::fully_signed(&snapshot)));
    Ok(Json(json!({
        "workflowId": snapshot.id,
        "title": snapshot.title,
        "signed": document,
    })))
}

fn invalid_signers() -> ApiError {
    ApiError::invalid_param(
        "The signer field contains invalid signers, please check.",
        "metadata.signerRoleNames",
    )
}

/// The record type a template's contracts get: the type whose display name (or id) is the
/// template's name, else `contract`, else `imported`, else the first type.
fn record_type_for(repo: &Repository, template_name: &str) -> String {
    let wanted = template_name.to_lowercase();
    let squashed = wanted.replace(' ', "");
    let types = &repo.schema.record_types;
    types
        .iter()
        .find(|(id, t)| {
            t["displayName"]
                .as_str()
                .is_some_and(|d| d.to_lowercase() == wanted)
                || id.to_lowercase() == squashed
        })
        .map(|(id, _)| id.clone())
        .or_else(|| {
            ["contract", "imported"]
                .into_iter()
                .find(|t| types.contains_key(*t))
                .map(str::to_owned)
        })
        .or_else(|| types.keys().next().cloned())
        .unwrap_or_else(|| "contract".into())
}

/// The record a fully signed workflow produces; returns its id.
fn record_from_workflow(
    repo: &mut Repository,
    seed: &Seed,
    workflow: &Workflow,
    signed: &Blob,
    now: i64,
) -> String {
    let template_name = seed
        .template(&workflow.template)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let mut properties = Map::new();
    for (attribute, value) in &workflow.attributes {
        let Some(def) = repo.schema.properties.get(attribute) else {
            continue;
        };
        let property = json!({ "type": def.kind, "value": value });
        if let Ok(checked) = crate::store::properties::check_property(
            &format!("properties.{attribute}"),
            &property,
            &def.kind,
        ) {
            properties.insert(attribute.clone(), checked);
        }
    }
    let mut attachments = Map::new();
    attachments.insert(
        "signedCopy".into(),
        json!({ "filename": signed.filename, "contentType": signed.content_type }),
    );
    let id = ids::uuid();
    repo.add_record(
        id.clone(),
        NewRecord {
            kind: record_type_for(repo, &template_name),
            name: workflow.title.clone(),
            properties,
            attachments,
            parent: None,
            properties_to_amend: Vec::new(),
            source: Some(
                json!({ "type": "workflow", "workflowId": format!("workflow:{}", workflow.id) }),
            ),
        },
        now,
    );
    id
}

// --- documents -----------------------------------------------------------------------------------

/// This operation's errors are bare JSON strings.
fn text_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(Value::String(message.into()))).into_response()
}

/// Whether the workflow's attribute holds documents: `(is it, is it an array)`.
fn document_attribute(workflow: &Workflow, attribute: &str) -> Option<bool> {
    let schema = workflow.schema.get(attribute)?;
    match schema["type"].as_str()? {
        "document" => Some(false),
        "array" if schema["elementType"]["type"] == "document" => Some(true),
        _ => None,
    }
}

async fn create_document(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, attribute)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = actor.require_scope(CREATE_DOCUMENTS) {
        return e.into_response();
    }
    let bad = |m: String| text_error(StatusCode::BAD_REQUEST, m);
    let form = match crate::infra::multipart::Form::from_request(&headers, &body) {
        Ok(form) => form,
        Err(e) => return bad(e.to_string()),
    };
    let Some(attachment) = form.get("attachment") else {
        return bad("missing required form-data part 'attachment'".into());
    };
    let Some(metadata) = form.get("metadata") else {
        return bad("missing required form-data part 'metadata'".into());
    };
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(&metadata.data) else {
        return bad("form-data part 'metadata' must be a JSON object".into());
    };
    match metadata.get("comment") {
        None | Some(Value::Null) => return bad("missing required property 'comment'".into()),
        Some(Value::Object(c)) if c["message"].as_str().is_some_and(|m| !m.trim().is_empty()) => {}
        Some(Value::Object(_)) => {
            return bad("comment.message is required and must be a non-empty string".into());
        }
        Some(_) => return bad("comment must be an object with a message".into()),
    }
    let key = match metadata.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
        Some(_) => return bad("key must be a document key".into()),
    };
    let fallback = format!(
        "{attribute}.{}",
        match attachment.content_type.as_deref() {
            Some("application/msword") => "doc",
            Some(t) if t.contains("wordprocessingml") => "docx",
            _ => "pdf",
        }
    );
    let blob = files::uploaded(attachment, &fallback);
    let seed = emu.seed();
    let mut data = emu.data();
    let now = data.tick();
    let data = &mut *data;
    let Ok(index) = workflow_index(data, &id) else {
        return text_error(StatusCode::NOT_FOUND, "Workflow does not exists");
    };
    let workflow = &mut data.workflows[index];
    if workflow.status == "cancelled" || workflow.status == "completed" {
        return bad(format!(
            "This workflow is {} and its documents cannot be changed",
            workflow.status
        ));
    }
    let Some(is_array) = document_attribute(workflow, &attribute) else {
        return bad(format!(
            "attribute '{attribute}' is not a document attribute of this workflow"
        ));
    };
    let author = author(seed, &actor);
    let new_version = key.filter(|_| attribute == "draft");
    let kind = if new_version.is_some() {
        Kind::DocumentsUpdated
    } else {
        Kind::DocumentsAdded
    };
    let document = match new_version {
        Some(key) => {
            let existing = workflow
                .attributes
                .get_mut(&attribute)
                .and_then(|v| match v {
                    Value::Array(items) => items.iter_mut().find(|d| d["key"] == key.as_str()),
                    single if single["key"] == key.as_str() => Some(single),
                    _ => None,
                });
            let Some(existing) = existing else {
                return text_error(StatusCode::NOT_FOUND, "Document does not exists");
            };
            let number = existing["versionNumber"].as_i64().unwrap_or(1) + 1;
            existing["version"] = json!(ids::slug(9));
            existing["versionNumber"] = json!(number);
            existing["filename"] = json!(blob.filename);
            existing["lastModified"] =
                json!({ "timestamp": time::format_ms(now), "author": author });
            existing.clone()
        }
        None => {
            let document = files::new_document(&workflow.id, &blob.filename, now, author);
            if is_array {
                let slot = workflow
                    .attributes
                    .entry(attribute.clone())
                    .or_insert_with(|| json!([]));
                if !slot.is_array() {
                    *slot = json!([]);
                }
                slot.as_array_mut()
                    .expect("an array")
                    .push(document.clone());
            } else {
                workflow
                    .attributes
                    .insert(attribute.clone(), document.clone());
            }
            document
        }
    };
    workflow.last_updated = time::format_ms(now);
    let key = document["key"].as_str().unwrap_or_default().to_owned();
    let event = Event::workflow(kind, workflow)
        .documents([&key])
        .by(&actor.user);
    let workflow_id = workflow.id.clone();
    data.files.documents.insert((workflow_id, key), blob);
    data.emit([event]);
    StatusCode::NO_CONTENT.into_response()
}

async fn download(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    actor.require_scope(READ_DOCUMENTS)?;
    let data = emu.data();
    let workflow = &data.workflows[workflow_index(&data, &id)?];
    let stored = data
        .files
        .documents
        .get(&(workflow.id.clone(), key.clone()));
    let filename = super::documents::documents(workflow)
        .into_iter()
        .find(|d| d["key"] == key.as_str())
        .and_then(|d| d["filename"].as_str().map(str::to_owned))
        .or_else(|| stored.map(|b| b.filename.clone()))
        .ok_or_else(|| ApiError::not_found("document does not exist", Some("key")))?;
    Ok(match stored {
        Some(blob) => files::download(&filename, &blob.content_type, blob.data.clone()),
        None => files::download(
            &filename,
            files::content_type_for(&filename),
            generate::placeholder(&filename),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_from_template_names() {
        let repo = Repository::seeded();
        assert_eq!(record_type_for(&repo, "Mutual NDA"), "mutualNDA");
        assert_eq!(
            record_type_for(&repo, "consulting agreement"),
            "consultingAgreement"
        );
        assert_eq!(record_type_for(&repo, "Vendor Agreement"), "contract");
    }

    #[test]
    fn uploaded_signed_copy_becomes_a_record() {
        let seed = crate::store::seed::default_seed();
        let mut repo = Repository::seeded();
        let w = seed
            .workflows
            .iter()
            .find(|w| w.ironclad_id == "IC-5")
            .unwrap();
        let blob = Blob {
            filename: "signed.pdf".into(),
            content_type: "application/pdf".into(),
            data: Bytes::from_static(b"%PDF-"),
        };
        let id = record_from_workflow(&mut repo, &seed, w, &blob, 0);
        let r = repo.record(&id).unwrap();
        assert_eq!(r.kind, "mutualNDA");
        assert_eq!(r.name, w.title);
        assert_eq!(r.properties["counterpartyName"]["value"], "Hooli Inc.");
        assert_eq!(r.attachments["signedCopy"]["filename"], "signed.pdf");
        assert_eq!(
            r.source.as_ref().unwrap()["workflowId"],
            format!("workflow:{}", w.id)
        );
    }
}
