//! `signatures/recipient-urls[/embedded]`: signing links on the emulator's own host.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    Access, CREATE_EMBEDDABLE_URLS, CREATE_RECIPIENT_URLS, invalid_state, is_email, object_body,
    on_sign, required_string,
};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::ids;
use crate::store::signatures::IRONCLAD_SIGNATURE;

// Recipient URLs

/// Who a recipient URL is for.
pub(super) enum Recipient {
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

pub(super) async fn create_recipient_url(
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
pub(super) fn valid_frame_ancestor(value: &str) -> bool {
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

pub(super) async fn create_embeddable_recipient_url(
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
