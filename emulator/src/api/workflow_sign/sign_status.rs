//! `sign-status` and its actions: the packet's status, sending it for signature, scheduling that
//! send (with reminders) and cancelling it. The signer routes under `sign-status/signers` are
//! module `signers`.

use super::*;

pub(super) async fn sign_status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SIGN_STATUS)?;
    let mut data = emu.data();
    let (_, packet) = on_sign(&mut data, emu.seed(), &id, Access::Read)?;
    Ok(Json(packet.render()))
}

pub(super) async fn send_signature_request(
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

pub(super) async fn schedule_send(
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

pub(super) async fn update_scheduled_send(
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

pub(super) async fn delete_scheduled_send(
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

pub(super) async fn cancel_signature_request(
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
