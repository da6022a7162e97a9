//! `GET /workflows/{id}/documents` and `PATCH /workflows/{id}/signature-packet`: a workflow's
//! documents (the `WorkflowDocumentModel`s held by its document attributes, such as `draft`)
//! split into the signature packet, in packet order, and the rest.
//!
//! Until the packet is set, it holds every editable document (.doc, .docx, .pdf) in attribute
//! order (`draft` first). A set order is kept in `SignStore::packet_order`; documents added
//! afterwards start outside the packet.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{invalid_state, object_body, workflow_index};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::seed::Workflow;
use crate::store::time;

pub const READ_DOCUMENTS: &str = "public.workflows.readDocuments";
pub const UPDATE_SIGNATURE_PACKET: &str = "public.workflows.updateSignaturePacket";

const PARAM: &str = "signaturePacketDocumentKeys";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: retrieve_workflow_documents
        .route("/public/api/v1/workflows/{id}/documents", get(retrieve))
        // action: update_workflow_signature_packet
        .route(
            "/public/api/v1/workflows/{id}/signature-packet",
            patch(update_packet),
        )
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_DOCUMENTS)?;
    let data = emu.data();
    let workflow = &data.workflows[workflow_index(&data, &id)?];
    Ok(Json(view(
        workflow,
        data.sign.packet_order.get(&workflow.id),
    )))
}

async fn update_packet(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_SIGNATURE_PACKET)?;
    let body = object_body(&body)?;
    let keys: Vec<String> = match body.get(PARAM) {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                format!("missing required property '{PARAM}'"),
                PARAM,
            ));
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| k.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                ApiError::invalid_param(format!("{PARAM} must be an array of strings"), PARAM)
            })?,
        Some(_) => {
            return Err(ApiError::invalid_param(
                format!("{PARAM} must be an array of document keys"),
                PARAM,
            ));
        }
    };
    let mut data = emu.data();
    let now = data.tick();
    let index = workflow_index(&data, &id)?;
    let workflow = &data.workflows[index];
    if workflow.step != "Review" {
        return Err(invalid_state(format!(
            "The signature packet can only be changed at the Review step; this workflow is at the {} step",
            workflow.step
        )));
    }
    if workflow.status == "cancelled" || workflow.status == "completed" {
        return Err(invalid_state(format!(
            "This workflow is {} and its signature packet cannot be changed",
            workflow.status
        )));
    }
    // Every template here has a Sign step, so the packet cannot be emptied.
    if keys.is_empty() {
        return Err(ApiError::invalid_param(
            format!("{PARAM} cannot be empty: this workflow has a sign step"),
            PARAM,
        ));
    }
    let documents = documents(workflow);
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(ApiError::invalid_param(
                format!("document key '{key}' is listed more than once"),
                PARAM,
            ));
        }
        let document = documents
            .iter()
            .find(|d| d["key"] == key.as_str())
            .ok_or_else(|| {
                ApiError::invalid_param(
                    format!("document key '{key}' does not exist on this workflow"),
                    PARAM,
                )
            })?;
        if !editable(document) {
            return Err(ApiError::invalid_param(
                format!(
                    "document '{}' is not an editable file type (.doc, .docx, .pdf)",
                    document["filename"].as_str().unwrap_or(key)
                ),
                PARAM,
            ));
        }
    }
    let workflow_id = workflow.id.clone();
    let moved = Event::workflow(Kind::SignaturePacketDocumentMoved, workflow).documents(&keys);
    data.sign.packet_order.insert(workflow_id.clone(), keys);
    let workflow = &mut data.workflows[index];
    workflow.last_updated = time::format_ms(now);
    data.emit([moved]);
    let workflow = &data.workflows[index];
    Ok(Json(view(
        workflow,
        data.sign.packet_order.get(&workflow_id),
    )))
}

/// `{signaturePacketDocuments, excludedFromSignaturePacketDocuments}`.
fn view(workflow: &Workflow, order: Option<&Vec<String>>) -> Value {
    let documents = documents(workflow);
    let in_packet: Vec<&Value> = match order {
        Some(keys) => keys
            .iter()
            .filter_map(|k| documents.iter().copied().find(|d| d["key"] == k.as_str()))
            .collect(),
        None => documents.iter().copied().filter(|d| editable(d)).collect(),
    };
    let excluded: Vec<&Value> = documents
        .iter()
        .copied()
        .filter(|d| !in_packet.iter().any(|p| std::ptr::eq(*p, *d)))
        .collect();
    json!({
        "signaturePacketDocuments": in_packet,
        "excludedFromSignaturePacketDocuments": excluded,
    })
}

/// The workflow's `WorkflowDocumentModel`s: every attribute holding one or an array of them,
/// `draft` first, then the others in attribute order.
pub fn documents(workflow: &Workflow) -> Vec<&Value> {
    let is_document = |v: &Value| v["key"].is_string() && v["download"].is_string();
    let mut attributes: Vec<(&String, &Value)> = workflow.attributes.iter().collect();
    attributes.sort_by_key(|(name, _)| name.as_str() != "draft");
    attributes
        .into_iter()
        .flat_map(|(_, value)| match value {
            Value::Array(items) => items.iter().filter(|v| is_document(v)).collect(),
            single if is_document(single) => vec![single],
            _ => Vec::new(),
        })
        .collect()
}

/// Only .doc, .docx and .pdf files can be in a signature packet.
fn editable(document: &Value) -> bool {
    let name = document["filename"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    [".doc", ".docx", ".pdf"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::seed::default_seed;

    #[test]
    fn default_packet_holds_the_editable_drafts() {
        let seed = default_seed();
        let mut w = seed
            .workflows
            .iter()
            .find(|w| w.ironclad_id == "IC-5")
            .unwrap()
            .clone();
        let draft = w.attributes["draft"][0].clone();
        let mut image = draft.clone();
        image["key"] = json!("img1");
        image["filename"] = json!("logo.PNG");
        w.attributes["draft"].as_array_mut().unwrap().push(image);
        let v = view(&w, None);
        assert_eq!(v["signaturePacketDocuments"], json!([draft]));
        assert_eq!(v["excludedFromSignaturePacketDocuments"][0]["key"], "img1");
        let v = view(&w, Some(&vec!["gone".into()]));
        assert_eq!(v["signaturePacketDocuments"], json!([]));
        assert_eq!(
            v["excludedFromSignaturePacketDocuments"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
