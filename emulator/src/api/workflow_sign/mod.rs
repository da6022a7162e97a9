//! The Sign step and what surrounds it, under `/public/api/v1/workflows/{id}/…`:
//!
//! - `sign-status` and its actions (send, scheduled send, cancel, update/delete/remind a signer
//!   by role name), `signatures` (the signers list) and `signatures/recipient-urls[/embedded]`
//!   (this module);
//! - `documents` and `signature-packet` (module `documents`);
//! - `emails`, `emails/{emailThreadId}` and its attachments (module `emails`);
//! - `upload-signed`, `documents/{attributeId}` and `document/{key}/download` (module `files`).
//!
//! Every `{id}` is a workflow id or Ironclad id, resolved as `GET /workflows/{id}` does. Sign
//! routes answer `400 INVALID_STATE` unless the workflow is in the Sign step. Each workflow's
//! signature packet lives in [`SignStore`] (one field of `state::Data`), keyed by workflow id:
//! seeded from `fixtures/emulator/workflow-sign.json`, or built from its template's default the
//! first time a workflow that reached Sign later is asked about. Signing itself happens outside
//! the API (the signer's link); [`Emulator::sign_packet`] stands in for it. When every signer has
//! signed, the packet is complete and the workflow moves from Sign to Archive. Changes raise
//! their webhook events (`workflow_signature_packet_*`, `workflow_signer_*`, …).

mod documents;
mod emails;
mod files;

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::emulator::{Data, Emulator};
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::events::{Event, Kind};
use crate::store::seed::{Seed, StepState, Workflow};
use crate::{api::workflows, store::ids, store::time};

const FIXTURE: &str = include_str!("../../../../fixtures/emulator/workflow-sign.json");

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

/// Recipient URLs work only with this provider.
const IRONCLAD_SIGNATURE: &str = "Ironclad Signature";

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

// ---------------------------------------------------------------------------------------------
// State

/// This area's state: signature packets, signature-packet document order and email threads,
/// each keyed by workflow id.
#[derive(Debug, Default)]
pub struct SignStore {
    packets: HashMap<String, Packet>,
    /// The packet a template's workflows get on reaching Sign, by template id.
    defaults: HashMap<String, PacketSeed>,
    /// Document keys in signature-packet order, once set by `PATCH signature-packet`.
    packet_order: HashMap<String, Vec<String>>,
    /// `ActivityFeedEmail`s by workflow id.
    emails: HashMap<String, Vec<Value>>,
}

impl SignStore {
    /// The store as `fixtures/emulator/workflow-sign.json` describes it, for `seed`'s workflows.
    pub fn from_seed(seed: &Seed) -> Self {
        let fixture = fixture();
        let packets = fixture
            .packets
            .iter()
            .filter_map(|(id, p)| {
                let w = seed.workflows.iter().find(|w| &w.id == id)?;
                Some((id.clone(), p.build(w, seed)))
            })
            .collect();
        Self {
            packets,
            defaults: fixture.default_packets.into_iter().collect(),
            packet_order: HashMap::new(),
            emails: fixture.emails.into_iter().collect(),
        }
    }

    /// The packet of a workflow in Sign, built from its template's default the first time.
    fn packet(&mut self, w: &Workflow, seed: &Seed) -> &mut Packet {
        let defaults = &self.defaults;
        self.packets
            .entry(w.id.clone())
            .or_insert_with(|| match defaults.get(&w.template) {
                Some(p) => p.build(w, seed),
                None => PacketSeed::creator_signs().build(w, seed),
            })
    }
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixtures/emulator/workflow-sign.json parses")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Fixture {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    default_packets: BTreeMap<String, PacketSeed>,
    packets: BTreeMap<String, PacketSeed>,
    emails: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PacketSeed {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    #[serde(default = "not_sent")]
    status: String,
    #[serde(default = "parallel")]
    routing: String,
    #[serde(default = "ironclad_signature")]
    provider: String,
    #[serde(default)]
    require_signed_document_upload: bool,
    #[serde(default)]
    scheduled_send: Option<ScheduledSeed>,
    signers: Vec<SignerSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScheduledSeed {
    notify_at: String,
    #[serde(default)]
    reminder_days_before: Option<i64>,
}

/// A signer as the fixture gives it: internal signers name a seed user (`userEmail`, else the
/// workflow's creator); external ones give `name`/`email` or take them from attributes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignerSeed {
    role_name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    user_email: Option<String>,
    #[serde(default)]
    name_attribute: Option<String>,
    #[serde(default)]
    email_attribute: Option<String>,
    #[serde(default)]
    fallback_email: Option<String>,
    #[serde(default = "pending")]
    status: String,
    #[serde(default = "first")]
    routing_order: i64,
    #[serde(default)]
    is_wet_signed: bool,
    #[serde(default)]
    delegates: Vec<Delegate>,
}

fn not_sent() -> String {
    "not_sent".into()
}
fn parallel() -> String {
    "parallel".into()
}
fn ironclad_signature() -> String {
    IRONCLAD_SIGNATURE.into()
}
fn pending() -> String {
    "pending".into()
}
fn first() -> i64 {
    1
}

impl PacketSeed {
    /// For templates without a default: the workflow's creator signs alone.
    fn creator_signs() -> Self {
        Self {
            _comment: None,
            status: not_sent(),
            routing: parallel(),
            provider: ironclad_signature(),
            require_signed_document_upload: false,
            scheduled_send: None,
            signers: vec![SignerSeed {
                role_name: "Company Signer".into(),
                kind: "internal".into(),
                name: None,
                email: None,
                user_email: None,
                name_attribute: None,
                email_attribute: None,
                fallback_email: None,
                status: pending(),
                routing_order: 1,
                is_wet_signed: false,
                delegates: Vec::new(),
            }],
        }
    }

    fn build(&self, w: &Workflow, seed: &Seed) -> Packet {
        let attr = |name: &Option<String>| {
            name.as_ref()
                .and_then(|n| w.attributes.get(n))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let signers = self
            .signers
            .iter()
            .map(|s| {
                let (name, email, user_id) = if s.kind == "internal" {
                    match s.user_email.as_deref().and_then(|e| seed.user_by_email(e)) {
                        Some(u) => (u.display_name(), u.email.clone(), Some(u.id.clone())),
                        None => (
                            w.creator.display_name.clone(),
                            w.creator.email.clone(),
                            Some(w.creator.id.clone()),
                        ),
                    }
                } else {
                    let name = s
                        .name
                        .clone()
                        .or_else(|| attr(&s.name_attribute))
                        .unwrap_or_else(|| "Counterparty Signatory".into());
                    let email = s
                        .email
                        .clone()
                        .or_else(|| attr(&s.email_attribute))
                        .or_else(|| s.fallback_email.clone())
                        .unwrap_or_else(|| "signatory@counterparty.example".into());
                    (name, email, None)
                };
                Signer {
                    name,
                    email,
                    role_name: s.role_name.clone(),
                    status: s.status.clone(),
                    kind: s.kind.clone(),
                    user_id,
                    is_wet_signed: s.is_wet_signed,
                    delegates: s.delegates.clone(),
                    routing_order: s.routing_order,
                }
            })
            .collect();
        Packet {
            routing: self.routing.clone(),
            status: self.status.clone(),
            provider: self.provider.clone(),
            require_signed_document_upload: self.require_signed_document_upload,
            signers,
            scheduled: self.scheduled_send.as_ref().and_then(|s| {
                Some(Scheduled {
                    notify_at_ms: time::parse(&s.notify_at)?,
                    reminder_days: s.reminder_days_before,
                })
            }),
            reminded_ms: HashMap::new(),
        }
    }
}

/// A workflow's signature packet.
#[derive(Debug, Clone)]
struct Packet {
    /// `sequential` | `parallel`.
    routing: String,
    /// `not_sent` | `sent` | `action_required` | `complete`.
    status: String,
    provider: String,
    require_signed_document_upload: bool,
    signers: Vec<Signer>,
    scheduled: Option<Scheduled>,
    /// When each role was last reminded.
    reminded_ms: HashMap<String, i64>,
}

#[derive(Debug, Clone, Copy)]
struct Scheduled {
    notify_at_ms: i64,
    reminder_days: Option<i64>,
}

/// `SignStatusInternalSigner` | `SignStatusExternalSigner`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Signer {
    name: String,
    email: String,
    role_name: String,
    /// `pending` | `sent` | `viewed` | `signed` | `declined`.
    status: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    is_wet_signed: bool,
    delegates: Vec<Delegate>,
    routing_order: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delegate {
    name: String,
    email: String,
}

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

    /// The routing order whose signers are due: the lowest among unsigned signers when routing
    /// is sequential; every order when parallel.
    fn due_order(&self) -> Option<i64> {
        (self.routing == "sequential")
            .then(|| {
                self.signers
                    .iter()
                    .filter(|s| s.status != "signed")
                    .map(|s| s.routing_order)
                    .min()
            })
            .flatten()
    }

    /// Out for signature: pending signers whose turn it is get the request.
    fn advance(&mut self) {
        let due = self.due_order();
        for s in &mut self.signers {
            if s.status == "pending" && due.is_none_or(|o| o == s.routing_order) {
                s.status = "sent".into();
            }
        }
    }

    /// Back to not sent: collected signatures are void, reminders forgotten.
    fn withdraw(&mut self) {
        self.status = "not_sent".into();
        for s in &mut self.signers {
            s.status = "pending".into();
            s.is_wet_signed = false;
        }
        self.reminded_ms.clear();
    }
}

// ---------------------------------------------------------------------------------------------
// Shared request plumbing

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

// ---------------------------------------------------------------------------------------------
// Sign status and its actions

async fn sign_status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SIGN_STATUS)?;
    let mut data = emu.data();
    let (_, packet) = on_sign(&mut data, emu.seed(), &id, Access::Read)?;
    Ok(Json(packet.render()))
}

async fn send_signature_request(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(SEND_SIGNATURE_REQUESTS)?;
    let mut data = emu.data();
    let now = data.tick();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    match packet.status.as_str() {
        "sent" => {
            return Err(invalid_state(
                "The signature packet is already out for signature",
            ));
        }
        "action_required" => {
            return Err(invalid_state(
                "Every signer needs a signature or initials tag before the packet can be sent",
            ));
        }
        _ if packet.signers.is_empty() => {
            return Err(invalid_state("The signature packet has no signers"));
        }
        _ => {}
    }
    packet.status = "sent".into();
    packet.scheduled = None;
    packet.reminded_ms.clear();
    packet.advance();
    let out = packet.render();
    touch(now, workflow);
    let sent = Event::workflow(Kind::SignaturePacketSent, workflow);
    data.emit([sent]);
    Ok(Json(out))
}

/// A `{daysBefore}` reminder (1..=7).
fn reminder_days(value: &Value) -> Result<i64, ApiError> {
    let Value::Object(reminder) = value else {
        return Err(ApiError::invalid_param(
            "reminder must be an object with daysBefore",
            "reminder",
        ));
    };
    match reminder.get("daysBefore") {
        None | Some(Value::Null) => Err(missing("reminder.daysBefore")),
        Some(v) => v.as_i64().filter(|d| (1..=7).contains(d)).ok_or_else(|| {
            ApiError::invalid_param(
                "daysBefore must be an integer between 1 and 7",
                "reminder.daysBefore",
            )
        }),
    }
}

/// A future `notifyAt`.
fn notify_at(value: &Value, now: i64) -> Result<i64, ApiError> {
    let at = value.as_str().and_then(time::parse).ok_or_else(|| {
        ApiError::invalid_param("notifyAt must be an ISO-8601 date-time", "notifyAt")
    })?;
    if at <= now {
        return Err(ApiError::invalid_param(
            "notifyAt must be in the future",
            "notifyAt",
        ));
    }
    Ok(at)
}

/// Scheduling needs a packet that is not out for signature (nor complete) and can be sent.
fn schedulable(packet: &Packet) -> Result<(), ApiError> {
    match packet.status.as_str() {
        "not_sent" => Ok(()),
        "action_required" => Err(invalid_state(
            "Every signer needs a signature or initials tag before the packet can be sent",
        )),
        _ => Err(invalid_state(
            "The signature packet is already out for signature",
        )),
    }
}

fn no_schedule() -> ApiError {
    ApiError::not_found(
        "scheduled signature request does not exist",
        Some("scheduledSend"),
    )
}

async fn schedule_send(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(SCHEDULE_SEND)?;
    let body = object_body(&body)?;
    let mut data = emu.data();
    let now = data.tick();
    let notify_at_ms = match body.get("notifyAt") {
        None | Some(Value::Null) => return Err(missing("notifyAt")),
        Some(v) => notify_at(v, now)?,
    };
    let reminder = match body.get("reminder") {
        None | Some(Value::Null) => None,
        Some(v) => Some(reminder_days(v)?),
    };
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    schedulable(packet)?;
    if packet.scheduled.is_some() {
        return Err(invalid_state(
            "A send is already scheduled for this signature packet; update or delete it",
        ));
    }
    packet.scheduled = Some(Scheduled {
        notify_at_ms,
        reminder_days: reminder,
    });
    let out = packet.render();
    touch(now, workflow);
    let updated = Event::workflow(Kind::Updated, workflow);
    data.emit([updated]);
    Ok(Json(out))
}

async fn update_scheduled_send(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_SCHEDULED_SEND)?;
    let body = object_body(&body)?;
    let mut data = emu.data();
    let now = data.tick();
    let new_notify_at = match body.get("notifyAt") {
        None | Some(Value::Null) => None,
        Some(v) => Some(notify_at(v, now)?),
    };
    // Omitted: unchanged; null: removed; object: set.
    let new_reminder = match body.get("reminder") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(reminder_days(v)?)),
    };
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    schedulable(packet)?;
    let scheduled = packet.scheduled.as_mut().ok_or_else(no_schedule)?;
    if let Some(at) = new_notify_at {
        scheduled.notify_at_ms = at;
    }
    if let Some(reminder) = new_reminder {
        scheduled.reminder_days = reminder;
    }
    let out = packet.render();
    touch(now, workflow);
    let updated = Event::workflow(Kind::Updated, workflow);
    data.emit([updated]);
    Ok(Json(out))
}

async fn delete_scheduled_send(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(DELETE_SCHEDULED_SEND)?;
    let mut data = emu.data();
    let now = data.tick();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    schedulable(packet)?;
    packet.scheduled.take().ok_or_else(no_schedule)?;
    let out = packet.render();
    touch(now, workflow);
    let updated = Event::workflow(Kind::Updated, workflow);
    data.emit([updated]);
    Ok(Json(out))
}

async fn cancel_signature_request(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CANCEL_SIGNATURE_REQUESTS)?;
    let body = object_body(&body)?;
    required_string(&body, "reason", "reason")?;
    let mut data = emu.data();
    let now = data.tick();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    if packet.status != "sent" {
        return Err(invalid_state(
            "The signature packet is not out for signature",
        ));
    }
    packet.withdraw();
    let out = packet.render();
    touch(now, workflow);
    let cancelled = Event::workflow(Kind::SignaturePacketCancelled, workflow);
    data.emit([cancelled]);
    Ok(Json(out))
}

/// `InternalAssignment` | `ExternalAssignment`, validated.
enum Assignment {
    Internal { user_id: String },
    External { email: String, name: String },
}

fn assignment(body: &Map<String, Value>) -> Result<Assignment, ApiError> {
    required_string(body, "reason", "reason")?;
    let assigned = match body.get("assigned") {
        None | Some(Value::Null) => return Err(missing("assigned")),
        Some(Value::Object(a)) => a,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "assigned must be an object",
                "assigned",
            ));
        }
    };
    match required_string(assigned, "type", "assigned.type")?.as_str() {
        "internal" => Ok(Assignment::Internal {
            user_id: required_string(assigned, "userId", "assigned.userId")?,
        }),
        "external" => {
            let email = required_string(assigned, "email", "assigned.email")?;
            if !is_email(&email) {
                return Err(ApiError::invalid_param(
                    "assigned.email must be an email address",
                    "assigned.email",
                ));
            }
            let name = required_string(assigned, "name", "assigned.name")?;
            Ok(Assignment::External { email, name })
        }
        other => Err(ApiError::invalid_param(
            format!("invalid assignment type '{other}'; value must be one of [internal, external]"),
            "assigned.type",
        )),
    }
}

async fn update_signer(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_SIGNERS)?;
    let assignment = assignment(&object_body(&body)?)?;
    let (name, email, kind, user_id) = match assignment {
        Assignment::Internal { user_id } => {
            let user = emu.seed().user_by_id(&user_id).ok_or_else(|| {
                ApiError::invalid_param(
                    "no user with this id exists in the company",
                    "assigned.userId",
                )
            })?;
            (
                user.display_name(),
                user.email.clone(),
                "internal",
                Some(user.id.clone()),
            )
        }
        Assignment::External { email, name } => (name, email, "external", None),
    };
    let mut data = emu.data();
    let now = data.tick();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    let index = packet.signer_index(&role_name)?;
    if packet.signers[index].status == "signed" {
        return Err(invalid_state(
            "You cannot update a signer who has already signed",
        ));
    }
    let sent = packet.status == "sent";
    {
        let signer = &mut packet.signers[index];
        signer.name = name;
        signer.email = email;
        signer.kind = kind.into();
        signer.user_id = user_id;
        signer.delegates.clear();
        signer.status = "pending".into();
    }
    packet.reminded_ms.remove(&role_name);
    let mut events = vec![Event::workflow(Kind::SignerReassigned, workflow)];
    if sent && packet.provider == "Adobe Sign" {
        // Adobe Sign cancels the request when a signer changes.
        packet.withdraw();
        events.push(Event::workflow(Kind::SignaturePacketCancelled, workflow));
    } else if sent {
        packet.advance();
    }
    let out = serde_json::to_value(&packet.signers[index]).expect("signers serialise");
    touch(now, workflow);
    data.emit(events);
    Ok(Json(out))
}

async fn delete_signer(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    actor.require_scope(DELETE_SIGNERS)?;
    let mut data = emu.data();
    let now = data.tick();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    let index = packet.signer_index(&role_name)?;
    packet.signers.remove(index);
    packet.reminded_ms.remove(&role_name);
    let mut events = vec![Event::workflow(Kind::SignerRemoved, workflow)];
    // Removing a signer cancels the packet that is out collecting signatures.
    if packet.status == "sent" {
        packet.withdraw();
        events.push(Event::workflow(Kind::SignaturePacketCancelled, workflow));
    }
    touch(now, workflow);
    data.emit(events);
    Ok(StatusCode::NO_CONTENT)
}

async fn remind_signer(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path((id, role_name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    actor.require_scope(REMIND_SIGNERS)?;
    let mut data = emu.data();
    let now = data.tick();
    let (_, packet) = on_sign(&mut data, emu.seed(), &id, Access::Write)?;
    let index = packet.signer_index(&role_name)?;
    if packet.status != "sent" {
        return Err(invalid_state(
            "You can only send a reminder after the signature packet has been sent out for signature",
        ));
    }
    let signer = &packet.signers[index];
    match signer.status.as_str() {
        "signed" => return Err(invalid_state("This signer has already signed")),
        "pending" => {
            return Err(invalid_state(
                "This signer has not been sent the signature request yet",
            ));
        }
        _ => {}
    }
    if let Some(last) = packet.reminded_ms.get(&role_name)
        && now - last < REMINDER_INTERVAL_MS
    {
        let wait_s = (last + REMINDER_INTERVAL_MS - now + 999) / 1000;
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "You cannot remind the signer at this time (you can only send one reminder per hour). Please try again later.",
            None,
        );
        return Ok((
            [(header::RETRY_AFTER, wait_s.to_string())],
            error.into_response(),
        )
            .into_response());
    }
    // Adobe Sign reminds every signer who has not signed.
    let reminded: Vec<String> = if packet.provider == "Adobe Sign" {
        packet
            .signers
            .iter()
            .filter(|s| matches!(s.status.as_str(), "sent" | "viewed" | "declined"))
            .map(|s| s.role_name.clone())
            .collect()
    } else {
        vec![role_name]
    };
    for role in reminded {
        packet.reminded_ms.insert(role, now);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_signers(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SIGNATURES)?;
    let mut data = emu.data();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Read)?;
    let signers: Vec<Value> = packet
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
        .collect();
    Ok(Json(
        json!({ "workflowId": workflow.id, "title": workflow.title, "signers": signers }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Recipient URLs

/// Who a recipient URL is for.
enum Recipient {
    Signer(String),
    Viewer,
}

/// A recipient URL on the emulator's own host: `{base}/sign?r=<recipient>&s=<session>`.
fn issue_url(
    emu: &Emulator,
    id: &str,
    recipient: Recipient,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut data = emu.data();
    let (_, packet) = on_sign(&mut data, emu.seed(), id, Access::Write)?;
    if packet.provider != IRONCLAD_SIGNATURE {
        return Err(invalid_state(format!(
            "Recipient URLs are only available with Ironclad Signature; this packet uses {}",
            packet.provider
        )));
    }
    if packet.status != "sent" {
        return Err(invalid_state(
            "The signature request has not been sent out for signature",
        ));
    }
    if let Recipient::Signer(role_name) = &recipient
        && !packet.signers.iter().any(|s| &s.role_name == role_name)
    {
        return Err(ApiError::invalid_param(
            format!("no signer with role name '{role_name}' on this signature packet"),
            "roleName",
        ));
    }
    let url = format!(
        "{}/sign?r={}&s={}",
        emu.base_url(),
        ids::uuid(),
        ids::uuid()
    );
    Ok((StatusCode::CREATED, Json(json!({ "url": url }))))
}

async fn create_recipient_url(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    actor.require_scope(CREATE_RECIPIENT_URLS)?;
    let body = object_body(&body)?;
    let recipient = match required_string(&body, "type", "type")?.as_str() {
        "signer" => Recipient::Signer(required_string(&body, "roleName", "roleName")?),
        "viewer" => {
            let email = required_string(&body, "email", "email")?;
            if !is_email(&email) {
                return Err(ApiError::invalid_param(
                    "email must be an email address",
                    "email",
                ));
            }
            Recipient::Viewer
        }
        _ => {
            return Err(ApiError::invalid_param(
                "invalid recipient type; signer, viewer are acceptable recipient types",
                "type",
            ));
        }
    };
    issue_url(&emu, &id, recipient)
}

/// A frame ancestor: a host name with an optional `http(s)://` scheme and `:port`, no wildcard.
fn valid_frame_ancestor(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.bytes().all(|b| b.is_ascii_digit())
        && !(rest.contains(':') && port.is_empty())
}

async fn create_embeddable_recipient_url(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    actor.require_scope(CREATE_EMBEDDABLE_URLS)?;
    let body = object_body(&body)?;
    if required_string(&body, "type", "type")? != "signer" {
        return Err(ApiError::invalid_param(
            "invalid recipient type; signer is the only acceptable recipient type",
            "type",
        ));
    }
    let role_name = required_string(&body, "roleName", "roleName")?;
    let frame_ancestor = required_string(&body, "frameAncestor", "frameAncestor")?;
    if frame_ancestor.contains('*') {
        return Err(ApiError::invalid_param(
            "frameAncestor cannot contain wildcards",
            "frameAncestor",
        ));
    }
    if !valid_frame_ancestor(&frame_ancestor) {
        return Err(ApiError::invalid_param(
            "frameAncestor must be a host name, optionally with a scheme and port",
            "frameAncestor",
        ));
    }
    if body
        .get("allowMultipleUsages")
        .is_some_and(|v| !v.is_boolean() && !v.is_null())
    {
        return Err(ApiError::invalid_param(
            "allowMultipleUsages must be a boolean",
            "allowMultipleUsages",
        ));
    }
    issue_url(&emu, &id, Recipient::Signer(role_name))
}

// ---------------------------------------------------------------------------------------------
// Signing (outside the API)

impl Emulator {
    /// Emulator control, not an Ironclad route: the signer holding `role_name` on workflow `key`
    /// (id or Ironclad id) signs, as through their signing link. The packet must be out for
    /// signature and it must be that signer's turn. When every signer has signed, the packet is
    /// complete and the workflow moves from Sign to Archive. Returns the `SignStatusModel` after
    /// the signature.
    pub fn sign_packet(&self, key: &str, role_name: &str) -> Result<Value, ApiError> {
        let mut data = self.data();
        let now = data.tick();
        let (workflow, packet) = on_sign(&mut data, self.seed(), key, Access::Write)?;
        let index = packet.signer_index(role_name)?;
        if packet.status != "sent" {
            return Err(invalid_state(
                "The signature packet is not out for signature",
            ));
        }
        if !matches!(packet.signers[index].status.as_str(), "sent" | "viewed") {
            return Err(invalid_state(format!(
                "This signer cannot sign now (status {})",
                packet.signers[index].status
            )));
        }
        packet.signers[index].status = "signed".into();
        packet.advance();
        let mut events = vec![Event::workflow(Kind::Updated, workflow)];
        if packet.signers.iter().all(|s| s.status == "signed") {
            packet.status = "complete".into();
            packet.reminded_ms.clear();
            workflow.step = "Archive".into();
            workflow.signatures = StepState::Completed;
            events = fully_signed(workflow);
        }
        let out = packet.render();
        touch(now, workflow);
        data.emit(events);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::seed::default_seed;

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
