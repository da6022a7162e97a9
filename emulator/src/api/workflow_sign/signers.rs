//! Signers by role name (`sign-status/signers/{signerRoleName}`: update, delete, remind), the
//! signers list (`signatures`), and signing itself, which Ironclad does outside the API:
//! [`Emulator::sign_packet`] stands in for the signer's link.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{
    Access, DELETE_SIGNERS, READ_SIGNATURES, REMIND_SIGNERS, REMINDER_INTERVAL_MS, UPDATE_SIGNERS,
    fully_signed, invalid_state, is_email, missing, object_body, on_sign, required_string,
    signer_views, touch,
};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::seed::StepState;

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

pub(super) async fn update_signer(
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

pub(super) async fn delete_signer(
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

pub(super) async fn remind_signer(
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

pub(super) async fn list_signers(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SIGNATURES)?;
    let mut data = emu.data();
    let (workflow, packet) = on_sign(&mut data, emu.seed(), &id, Access::Read)?;
    let signers = signer_views(packet);
    Ok(Json(
        json!({ "workflowId": workflow.id, "title": workflow.title, "signers": signers }),
    ))
}

// ---------------------------------------------------------------------------------------------

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
