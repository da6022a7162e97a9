//! Resource-request authentication: the bearer token, the acting user (`x-as-user-email` /
//! `x-as-user-id`, required for client-credentials tokens) and per-operation scopes.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::emulator::Emulator;
use crate::infra::errors::ApiError;
use crate::store::seed::User;
use crate::store::tokens::{AccessToken, Grant};

pub const AS_USER_EMAIL: &str = "x-as-user-email";
pub const AS_USER_ID: &str = "x-as-user-id";

/// Who a request acts as and what its token may do; put in the request extensions by
/// the `authenticate` middleware, taken by handlers with `Extension<Actor>`.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub scopes: Vec<String>,
    pub grant: Grant,
    pub client_id: String,
}

impl Actor {
    /// The operation's OAuth scope (its `security` entry), or 403 naming it.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::missing_scope(scope))
        }
    }
}

/// Middleware for every authenticated route: 401 without a live token, 400 without a valid
/// acting user for client-credentials tokens; otherwise the [`Actor`] goes to the handler.
pub async fn authenticate(State(emu): State<Emulator>, mut req: Request, next: Next) -> Response {
    match resolve(&emu, req.headers()) {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// The live access token of `Authorization: Bearer`, or 401.
pub fn live_token(emu: &Emulator, headers: &HeaderMap) -> Result<AccessToken, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::invalid_token)?;
    let data = emu.data();
    let access = data
        .access_tokens
        .get(token)
        .cloned()
        .ok_or_else(ApiError::invalid_token)?;
    if access.expires_at_ms <= data.now() {
        return Err(ApiError::expired_token());
    }
    Ok(access)
}

pub fn resolve(emu: &Emulator, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let access = live_token(emu, headers)?;
    let user = match access.grant {
        Grant::AuthorizationCode => {
            let id = access.user_id.as_deref().unwrap_or_default();
            emu.seed()
                .user_by_id(id)
                .cloned()
                .ok_or_else(ApiError::invalid_token)?
        }
        Grant::ClientCredentials => acting_user(emu, headers)?,
    };
    Ok(Actor {
        user,
        scopes: access.scopes,
        grant: access.grant,
        client_id: access.client_id,
    })
}

/// The user named by `x-as-user-email` / `x-as-user-id` (both may be sent if they agree).
fn acting_user(emu: &Emulator, headers: &HeaderMap) -> Result<User, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let by_email = header(AS_USER_EMAIL)
        .map(|email| {
            emu.seed().user_by_email(email).ok_or_else(|| {
                ApiError::invalid_param(
                    "no user with this email exists in the company",
                    AS_USER_EMAIL,
                )
            })
        })
        .transpose()?;
    let by_id = header(AS_USER_ID)
        .map(|id| {
            emu.seed().user_by_id(id).ok_or_else(|| {
                ApiError::invalid_param("no user with this id exists in the company", AS_USER_ID)
            })
        })
        .transpose()?;
    match (by_email, by_id) {
        (Some(a), Some(b)) if a.id != b.id => Err(ApiError::invalid_param(
            "x-as-user-email and x-as-user-id name different users",
            AS_USER_ID,
        )),
        (Some(user), _) | (None, Some(user)) => Ok(user.clone()),
        (None, None) => Err(ApiError::missing_param(
            "x-as-user-email or x-as-user-id header is required for client credentials tokens",
            AS_USER_EMAIL,
        )),
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
