//! Clickwrap API keys at CLM's `/oauth/token`, and the mark on Clickwrap answers. Both hosts
//! share the emulator's origin, so the OAuth server and the contract layer need to tell
//! Clickwrap's traffic from CLM's.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::infra::errors::OAuthError;

/// Marks an answer given as Clickwrap, whose hosts share the emulator's origin: Ironclad's CLM
/// contracts do not judge it (Clickwrap has no OpenAPI document of its own here).
#[derive(Debug, Clone, Copy)]
pub struct ClickwrapAnswer;

/// `POST /oauth/token` for Clickwrap API keys: `None` when `client_id` is not one (CLM's
/// OAuth server answers then). Tokens are long-lived (no `expires_in`), as Clickwrap's look.
/// A key has one token: the new one revokes the previous one, the registration's included.
pub fn exchange(
    emu: &Emulator,
    grant_type: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Option<Result<Value, OAuthError>> {
    let client_id = client_id?;
    let mut data = emu.data();
    let store = &mut data.clickwrap;
    let key = store.keys.iter_mut().find(|k| k.client_id == client_id)?;
    if grant_type.is_some_and(|g| g != "client_credentials") {
        return Some(Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Clickwrap API keys use client_credentials",
        )));
    }
    if client_secret != Some(key.client_secret.as_str()) {
        return Some(Err(OAuthError::invalid_client()));
    }
    let token = crate::store::ids::token();
    let revoked = std::mem::replace(&mut key.access_token, token.clone());
    let user_id = key.user_id;
    store.tokens.remove(&revoked);
    store.tokens.insert(token.clone(), user_id);
    Some(Ok(json!({ "token_type": "Bearer", "access_token": token })))
}
