//! The Sign step and what surrounds it, under `/public/api/v1/workflows/{id}/…`:
//!
//! - `sign-status` and its actions (send, scheduled send, cancel, update/delete/remind a signer
//!   by role name: modules `sign_status`, `signers`), `signatures` (the signers list) and
//!   `signatures/recipient-urls[/embedded]` (module `recipient_urls`); the routes and the
//!   plumbing they share are here;
//! - `documents` and `signature-packet` (module `documents`);
//! - `emails`, `emails/{emailThreadId}` and its attachments (module `emails`);
//! - `upload-signed`, `documents/{attributeId}` and `document/{key}/download` (module `files`).
//!
//! Every `{id}` is a workflow id or Ironclad id, resolved as `GET /workflows/{id}` does. Sign
//! routes answer `400 INVALID_STATE` unless the workflow is in the Sign step. Each workflow's
//! signature packet lives in [`SignStore`] (one field of `Data`), keyed by workflow id:
//! seeded from `fixtures/emulator/workflow-sign.json`, or built from its template's default the
//! first time a workflow that reached Sign later is asked about. Signing itself happens outside
//! the API (the signer's link); [`Emulator::sign_packet`] stands in for it. When every signer has
//! signed, the packet is complete and the workflow moves from Sign to Archive. Changes raise
//! their webhook events (`workflow_signature_packet_*`, `workflow_signer_*`, …).

mod documents;
mod emails;
mod files;

mod recipient_urls;
mod sign_status;
mod signers;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use self::recipient_urls::{create_embeddable_recipient_url, create_recipient_url};
use self::sign_status::{
    cancel_signature_request, delete_scheduled_send, schedule_send, send_signature_request,
    sign_status, update_scheduled_send,
};
use self::signers::{delete_signer, list_signers, remind_signer, update_signer};
use crate::emulator::{Data, Emulator};
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::seed::{Seed, Workflow};
use crate::store::signatures::{Packet, Scheduled};
use crate::{api::workflows, store::time};

pub const READ_SIGN_STATUS: &str = "public.workflows.readSignStatus";
pub const SEND_SIGNATURE_REQUESTS: &str = "public.workflows.sendSignatureRequests";
pub const SCHEDULE_SEND: &str = "public.workflows.scheduleSendSignatureRequest";
pub const UPDATE_SCHEDULED_SEND: &str = "public.workflows.updateScheduledSignatureRequest";
pub const DELETE_SCHEDULED_SEND: &str = "public.workflows.deleteScheduledSignatureRequest";
pub const CANCEL_SIGNATURE_REQUESTS: &str = "public.workflows.cancelSignatureRequests";
pub const UPDATE_SIGNERS: &str = "public.workflows.updateSigners";
pub const DELETE_SIGNERS: &str = "public.workflows.deleteSigners";
pub const REMIND_SIGNERS: &str = "public.workflows.remindSigners";
pub const READ_SIGNATURES: &str = "public.workflows.readSignatures";
pub const CREATE_RECIPIENT_URLS: &str = "public.workflows.createSignatureRecipientUrls";
pub const CREATE_EMBEDDABLE_URLS: &str = "public.workflows.createEmbeddableSignerUrls";

/// One reminder per signer per hour.
pub const REMINDER_INTERVAL_MS: i64 = 3_600_000;

pub fn routes() -> Router<Emulator> {
    const W: &str = "/public/api/v1/workflows/{id}";
    let sign_status_routes = Router::new()
        // action: get_sign_status
        .route(&format!("{W}/sign-status"), get(sign_status))
        // action: send_signature_request
        .route(
            &format!("{W}/sign-status/send-signature-request"),
            post(send_signature_request),
        )
        // action: delete_scheduled_signature_request, update_scheduled_signature_request, schedule_send_signature_request
        .route(
            &format!("{W}/sign-status/scheduled-send"),
            post(schedule_send)
                .patch(update_scheduled_send)
                .delete(delete_scheduled_send),
        )
        // action: cancel_signature_request
        .route(
            &format!("{W}/sign-status/cancel-signature-request"),
            post(cancel_signature_request),
        )
        // action: delete_signer, update_signer
        .route(
            &format!("{W}/sign-status/signers/{{signerRoleName}}"),
            patch(update_signer).delete(delete_signer),
        )
        // action: remind_signer
        .route(
            &format!("{W}/sign-status/signers/{{signerRoleName}}/remind"),
            post(remind_signer),
        )
        .route_layer(axum::middleware::map_response(state_coded));
    Router::new()
        .merge(sign_status_routes)
        // action: list_workflow_signers
        .route(&format!("{W}/signatures"), get(list_signers))
        // action: create_recipient_url
        .route(
            &format!("{W}/signatures/recipient-urls"),
            post(create_recipient_url),
        )
        // action: create_embeddable_recipient_url
        .route(
            &format!("{W}/signatures/recipient-urls/embedded"),
            post(create_embeddable_recipient_url),
        )
        .merge(documents::routes())
        .merge(emails::routes())
        .merge(files::routes())
}

/// How the API shows and addresses a packet.
impl Packet {
    /// `SignStatusModel`.
    fn render(&self) -> Value {
        let mut out = json!({
            "signers": self.signers,
            "routing": self.routing,
            "status": self.status,
            "requireSignedDocumentUpload": self.require_signed_document_upload,
            "provider": self.provider,
        });
        if let (Some(s), "not_sent" | "action_required") = (&self.scheduled, self.status.as_str()) {
            let mut scheduled = json!({ "notifyAt": time::format_ms(s.notify_at_ms) });
            if let Some(days) = s.reminder_days {
                scheduled["reminder"] = json!({
                    "daysBefore": days,
                    "reminderDate": time::format_ms(s.notify_at_ms - days * time::DAY_MS),
                });
            }
            out["scheduledSend"] = scheduled;
        }
        out
    }

    fn signer_index(&self, role_name: &str) -> Result<usize, ApiError> {
        self.signers
            .iter()
            .position(|s| s.role_name == role_name)
            .ok_or_else(|| ApiError::not_found("signer does not exist", Some("signerRoleName")))
    }
}

// ---------------------------------------------------------------------------------------------
// Shared request plumbing

/// The packet's signers as `GET …/signatures` and a signed upload's answer list them.
fn signer_views(packet: &Packet) -> Vec<Value> {
    packet
        .signers
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "email": s.email,
                "roleName": s.role_name,
                "signatureStatus": { "status": s.status },
                "delegates": s.delegates,
            })
        })
        .collect()
}

/// `400 INVALID_STATE` with Ironclad's not-on-sign-step wording.
fn not_on_sign_step(step: &str) -> ApiError {
    invalid_state(format!(
        "This workflow is not at the Sign step, and is currently at the {step} step"
    ))
}

pub(crate) fn invalid_state(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message, None)
}

pub(crate) fn workflow_not_found() -> ApiError {
    ApiError::not_found("workflow does not exist", Some("workflowId"))
}

/// The index in `data.workflows` of the workflow `key` names (id or Ironclad id).
pub(crate) fn workflow_index(data: &Data, key: &str) -> Result<usize, ApiError> {
    let found = workflows::find(&data.workflows, key).ok_or_else(workflow_not_found)?;
    Ok(data
        .workflows
        .iter()
        .position(|w| std::ptr::eq(w, found))
        .expect("found in the same list"))
}

/// What a handler may do with a Sign-step workflow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    /// Also refuses cancelled (or otherwise inactive) workflows.
    Write,
}

/// The workflow `key` names, required to be in Sign, with its packet.
fn on_sign<'a>(
    data: &'a mut Data,
    seed: &Seed,
    key: &str,
    access: Access,
) -> Result<(&'a mut Workflow, &'a mut Packet), ApiError> {
    let index = workflow_index(data, key)?;
    let workflow = &mut data.workflows[index];
    if workflow.step != "Sign" {
        return Err(not_on_sign_step(&workflow.step));
    }
    if access == Access::Write && workflow.status != "active" {
        return Err(invalid_state(format!(
            "This workflow is {} and its signature packet cannot be changed",
            workflow.status
        )));
    }
    let packet = data.sign.packet(workflow, seed);
    Ok((workflow, packet))
}

/// Ironclad documents one kind of 400 for every sign-status route: `INVALID_STATE`
/// (`NotOnSignStep400`, its `code` an enum of that one value). The emulator's own checks of a
/// body there (a missing `reason`, a `notifyAt` in the past) answer that code too, keeping
/// their message and `param`, so a client never sees a code the spec rules out.
async fn state_coded(response: Response) -> Response {
    if response.status() != StatusCode::BAD_REQUEST {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut error: Value = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => return Response::from_parts(parts, axum::body::Body::from(bytes)),
    };
    error["code"] = json!("INVALID_STATE");
    (parts.status, Json(error)).into_response()
}

/// A JSON object body; an empty body is an empty object.
pub(crate) fn object_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        )),
    }
}

fn missing(param: &str) -> ApiError {
    let name = param.rsplit('.').next().unwrap_or(param);
    ApiError::missing_param(format!("missing required property '{name}'"), param)
}

/// A required non-empty string property (`param` names it in errors).
fn required_string(
    object: &Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<String, ApiError> {
    match object.get(key) {
        None | Some(Value::Null) => Err(missing(param)),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be a non-empty string"),
            param,
        )),
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
}

fn touch(data_now: i64, workflow: &mut Workflow) {
    workflow.last_updated = time::format_ms(data_now);
}

/// The events of a packet completed (by its last signature or a signed upload): the workflow
/// moved from Sign to Archive.
pub(crate) fn fully_signed(workflow: &Workflow) -> Vec<Event> {
    vec![
        Event::workflow(Kind::SignaturePacketFullySigned, workflow),
        Event::workflow(Kind::StepUpdated, workflow),
    ]
}

#[cfg(test)]
mod tests {
    use super::recipient_urls::valid_frame_ancestor;
    use super::*;
    use crate::store::seed::default_seed;
    use crate::store::signatures::fixture;

    #[test]
    fn fixture_matches_the_seed() {
        let seed = default_seed();
        let fixture = fixture();
        for (id, packet) in &fixture.packets {
            let w = seed
                .workflows
                .iter()
                .find(|w| &w.id == id)
                .unwrap_or_else(|| panic!("packet for unknown workflow {id}"));
            assert_eq!(w.step, "Sign", "{id}");
            assert!(
                ["not_sent", "sent", "action_required"].contains(&packet.status.as_str()),
                "{id}"
            );
        }
        for (template, packet) in &fixture.default_packets {
            assert!(seed.template(template).is_some(), "{template}");
            assert_eq!(packet.status, "not_sent");
        }
        for packet in fixture
            .packets
            .values()
            .chain(fixture.default_packets.values())
        {
            assert!(["parallel", "sequential"].contains(&packet.routing.as_str()));
            for s in &packet.signers {
                assert!(["internal", "external"].contains(&s.kind.as_str()));
                if let Some(email) = &s.user_email {
                    assert!(seed.user_by_email(email).is_some(), "{email}");
                }
            }
        }
        for (id, emails) in &fixture.emails {
            assert!(seed.workflows.iter().any(|w| &w.id == id), "{id}");
            for e in emails {
                assert!(e["id"].is_string() && e["timestamp"].is_string());
                assert!(time::parse(e["timestamp"].as_str().unwrap()).is_some());
            }
        }
    }

    #[test]
    fn sequential_routing_sends_in_order() {
        let seed = default_seed();
        let w = seed
            .workflows
            .iter()
            .find(|w| w.ironclad_id == "IC-35")
            .unwrap();
        let mut p = fixture().default_packets["9ec768837d569ffeaab45be3"].build(w, &seed);
        p.status = "sent".into();
        p.advance();
        let statuses: Vec<&str> = p.signers.iter().map(|s| s.status.as_str()).collect();
        assert_eq!(statuses, ["sent", "pending"]);
        p.signers[0].status = "signed".into();
        p.advance();
        assert_eq!(p.signers[1].status, "sent");
        // An external default signer takes its name and email from the attributes.
        assert_eq!(p.signers[0].name, "Lucerne Publishing");
        assert_eq!(p.signers[0].email, "legal@lucernepublishin.example");
        assert_eq!(
            p.signers[1].user_id.as_deref(),
            Some("79730b0a787681fa8bf62456")
        );
    }

    #[test]
    fn frame_ancestors() {
        for ok in [
            "example.com",
            "https://example.com",
            "http://localhost:8080",
            "a-b.example.org/",
        ] {
            assert!(valid_frame_ancestor(ok), "{ok}");
        }
        for bad in [
            "",
            "https://",
            "exa mple.com",
            "example.com:",
            "ftp://example.com",
            "x.com:port",
        ] {
            assert!(!valid_frame_ancestor(bad), "{bad}");
        }
    }
}
