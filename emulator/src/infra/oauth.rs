//! Ironclad's OAuth 2.0 server on the same host: `/oauth/authorize` (auto-consent),
//! `/oauth/token` (client credentials, authorization code with optional PKCE, rotating
//! refresh tokens), `/oauth/userinfo` and `/oauth/company-info`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::OAuthError;
use crate::infra::query::{Params, decode, parse_pairs, with_query};
use crate::store::ids;
use crate::store::seed::OAuthClient;
use crate::store::tokens::{AccessToken, AuthCode, Grant, RefreshGrant};

const UUID_EXPECTED: &str = "Invalid value for client_id, expected type UUID";

// ---------------------------------------------------------------------------------------------
// GET /oauth/authorize

pub async fn authorize(State(emu): State<Emulator>, params: Params) -> Response {
    match begin_authorization(&emu, &params) {
        Ok(location) | Err(Redirectable::Redirect(location)) => {
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err(Redirectable::Direct(e)) => e.into_response(),
    }
}

/// Errors before the redirect URI is trusted are answered directly; later ones go back to
/// the client on its redirect URI.
enum Redirectable {
    Direct(OAuthError),
    Redirect(String),
}

impl From<OAuthError> for Redirectable {
    fn from(e: OAuthError) -> Self {
        Self::Direct(e)
    }
}

fn begin_authorization(emu: &Emulator, params: &Params) -> Result<String, Redirectable> {
    let client_id = params
        .get("client_id")
        .filter(|id| ids::is_uuid(id))
        .ok_or_else(|| OAuthError::bad_parameter(UUID_EXPECTED))?;
    let client = emu
        .seed()
        .client(client_id)
        .ok_or_else(|| OAuthError::unauthorized_client("unauthorized"))?;
    if !client.allows_grant("authorization_code") {
        return Err(OAuthError::grant_not_allowed().into());
    }
    let redirect_uri = params
        .get("redirect_uri")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("missing redirect uri"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(
            OAuthError::bad_parameter("redirect_uri is not registered for this client").into(),
        );
    }
    if params.get("response_type") != Some("code") {
        return Err(OAuthError::bad_parameter(
            "Invalid value for response_type, expected one of [code]",
        )
        .into());
    }
    let state = params.get("state");
    let back = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        pairs.extend(state.map(|s| ("state", s)));
        Redirectable::Redirect(with_query(redirect_uri, &pairs))
    };
    let scopes = granted_scopes(params.get("scope"), &client.scopes)
        .map_err(|bad| back("invalid_scope", &format!("invalid scope: {bad}")))?;
    let pkce = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (Some(challenge), method) if !challenge.is_empty() => match method.unwrap_or("plain") {
            m @ ("S256" | "plain") => Some((m.to_owned(), challenge.to_owned())),
            _ => {
                return Err(back(
                    "invalid_request",
                    "unsupported code_challenge_method, expected S256",
                ));
            }
        },
        _ => return Err(back("invalid_request", "missing code_challenge")),
    };
    let user = client
        .consent_user
        .as_deref()
        .and_then(|e| emu.seed().user_by_email(e))
        .unwrap_or(&emu.seed().users[0]);
    let code = ids::token();
    {
        let mut data = emu.data();
        let expires_at_ms = data.now() + emu.seed().auth_code_ttl_seconds as i64 * 1000;
        data.auth_codes.insert(
            code.clone(),
            AuthCode {
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.to_owned(),
                user_id: user.id.clone(),
                scopes,
                pkce,
                expires_at_ms,
            },
        );
    }
    let mut pairs = vec![("code", code.as_str())];
    pairs.extend(state.map(|s| ("state", s)));
    Ok(with_query(redirect_uri, &pairs))
}

// ---------------------------------------------------------------------------------------------
// POST /oauth/token

pub async fn token(State(emu): State<Emulator>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match TokenForm::parse(&headers, &body) {
        Ok(form) => form,
        Err(e) => return e.into_response(),
    };
    // Clickwrap's token endpoint lives on its own host; here the same path serves its API keys.
    if let Some(issued) = crate::infra::clickwrap_keys::exchange(
        &emu,
        form.get("grant_type"),
        form.get("client_id"),
        form.get("client_secret"),
    ) {
        let mut answer = token_answer(issued);
        answer
            .extensions_mut()
            .insert(crate::infra::clickwrap_keys::ClickwrapAnswer);
        return answer;
    }
    token_answer(exchange(&emu, &headers, &form))
}

fn token_answer(issued: Result<Value, OAuthError>) -> Response {
    match issued {
        Ok(grant) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(grant),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn exchange(emu: &Emulator, headers: &HeaderMap, form: &TokenForm) -> Result<Value, OAuthError> {
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("missing grant type"))?;
    let client = authenticate_client(emu, headers, form)?;
    if !["client_credentials", "authorization_code", "refresh_token"].contains(&grant_type) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("unsupported grant type {grant_type}"),
        ));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::grant_not_allowed());
    }
    match grant_type {
        "client_credentials" => {
            let scopes = granted_scopes(form.get("scope"), &client.scopes)
                .map_err(|bad| OAuthError::invalid_scope(format!("invalid scope: {bad}")))?;
            Ok(mint(emu, client, Grant::ClientCredentials, None, scopes))
        }
        "authorization_code" => redeem_code(emu, client, form),
        _ => refresh(emu, client, form),
    }
}

fn redeem_code(
    emu: &Emulator,
    client: &OAuthClient,
    form: &TokenForm,
) -> Result<Value, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("missing authorization code"))?;
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("missing redirect uri"))?;
    let grant = {
        let mut data = emu.data();
        match data.auth_codes.get(code) {
            None => return Err(OAuthError::invalid_grant("invalid authorization code")),
            Some(g) if g.client_id != client.client_id => {
                return Err(OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client associated with the initial authorization request does not match the client requesting the token",
                ));
            }
            Some(_) => {}
        }
        // Single use: presented once by its client, it is spent whatever happens next.
        let grant = data.auth_codes.remove(code).expect("checked above");
        if grant.expires_at_ms <= data.now() {
            return Err(OAuthError::invalid_grant("authorization code has expired"));
        }
        grant
    };
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant("invalid redirect uri"));
    }
    if let Some((method, challenge)) = &grant.pkce {
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| OAuthError::invalid_grant("missing code verifier"))?;
        let derived = if method == "S256" {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        if &derived != challenge {
            return Err(OAuthError::invalid_grant("invalid code verifier"));
        }
    }
    Ok(mint(
        emu,
        client,
        Grant::AuthorizationCode,
        Some(grant.user_id),
        grant.scopes,
    ))
}

fn refresh(emu: &Emulator, client: &OAuthClient, form: &TokenForm) -> Result<Value, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("missing refresh token"))?;
    let mut data = emu.data();
    let grant = data
        .refresh_tokens
        .get(presented)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_grant("invalid refresh token"))?;
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_client());
    }
    let scopes = granted_scopes(form.get("scope"), &grant.scopes)
        .map_err(|bad| OAuthError::invalid_scope(format!("invalid scope: {bad}")))?;
    // Rotation: the presented refresh token is spent.
    data.refresh_tokens.remove(presented);
    drop(data);
    let issued = mint(
        emu,
        client,
        Grant::AuthorizationCode,
        Some(grant.user_id.clone()),
        scopes,
    );
    // The new refresh token carries the original grant, so a narrowed refresh can widen back.
    if let Some(new) = issued["refresh_token"].as_str() {
        emu.data().refresh_tokens.insert(
            new.to_owned(),
            RefreshGrant {
                scopes: grant.scopes.clone(),
                ..grant
            },
        );
    }
    Ok(issued)
}

/// Store a new access token (plus a refresh token for user grants) and render the response.
fn mint(
    emu: &Emulator,
    client: &OAuthClient,
    grant: Grant,
    user_id: Option<String>,
    scopes: Vec<String>,
) -> Value {
    let ttl = emu.seed().token_ttl_seconds;
    let access_token = ids::token();
    let mut data = emu.data();
    let expires_at_ms = data.now() + ttl as i64 * 1000;
    let scope = scopes.join(" ");
    let mut body = json!({ "token_type": "Bearer", "access_token": access_token, "expires_in": ttl, "scope": scope });
    if let (Grant::AuthorizationCode, Some(user)) = (grant, &user_id) {
        let refresh_token = ids::token();
        data.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshGrant {
                client_id: client.client_id.clone(),
                user_id: user.clone(),
                scopes: scopes.clone(),
            },
        );
        body["refresh_token"] = json!(refresh_token);
    }
    data.access_tokens.insert(
        access_token,
        AccessToken {
            client_id: client.client_id.clone(),
            grant,
            user_id,
            scopes,
            expires_at_ms,
        },
    );
    body
}

/// Client authentication: `Authorization: Basic` or `client_id`/`client_secret` in the body.
fn authenticate_client<'a>(
    emu: &'a Emulator,
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<&'a OAuthClient, OAuthError> {
    let (id, secret) = match basic_credentials(headers)? {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").map(str::to_owned),
            form.get("client_secret").map(str::to_owned),
        ),
    };
    let id = id.ok_or_else(|| OAuthError::bad_parameter("missing client_id"))?;
    if !ids::is_uuid(&id) {
        return Err(OAuthError::bad_parameter(UUID_EXPECTED));
    }
    let client = emu
        .seed()
        .client(&id)
        .ok_or_else(OAuthError::invalid_client)?;
    match secret {
        Some(s) if same_secret(&s, &client.client_secret) => Ok(client),
        _ => Err(OAuthError::invalid_client()),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(OAuthError::invalid_client)?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(OAuthError::invalid_client)?;
    // RFC 6749 §2.3.1: both parts are form-encoded before base64.
    Ok(Some((decode(id), decode(secret))))
}

fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// The requested space-separated scopes if all are within `allowed` (all of `allowed` when
/// none are requested), else the first scope that is not.
fn granted_scopes(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in requested.unwrap_or_default().split_whitespace() {
        if !allowed.iter().any(|a| a == s) {
            return Err(s.to_owned());
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    Ok(if scopes.is_empty() {
        allowed.to_vec()
    } else {
        scopes
    })
}

/// The token request's parameters, from a JSON or form-encoded body.
struct TokenForm(HashMap<String, String>);

impl TokenForm {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = std::str::from_utf8(body)
            .map_err(|_| OAuthError::invalid_request("malformed request body"))?;
        let json_body = content_type.contains("json")
            || (!content_type.contains("form") && text.trim_start().starts_with('{'));
        if !json_body {
            return Ok(Self(
                parse_pairs(text.trim())
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .collect(),
            ));
        }
        let object: serde_json::Map<String, Value> = serde_json::from_str(text)
            .map_err(|_| OAuthError::invalid_request("malformed request body"))?;
        let mut form = HashMap::new();
        for (k, v) in object {
            let text = match v {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.join(" "))
                    .ok_or_else(|| OAuthError::bad_parameter(&format!("Invalid value for {k}")))?,
                Value::Object(_) => {
                    return Err(OAuthError::bad_parameter(&format!("Invalid value for {k}")));
                }
            };
            if !text.is_empty() {
                form.insert(k, text);
            }
        }
        Ok(Self(form))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

// ---------------------------------------------------------------------------------------------
// GET /oauth/userinfo, GET /oauth/company-info (authenticated like resource calls, no scope)

pub async fn userinfo(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
) -> Json<Value> {
    let u = &actor.user;
    let company = &emu.seed().company;
    Json(json!({
        "sub": u.id, "id": u.id, "email": u.email, "username": u.username,
        "firstName": u.first_name, "lastName": u.last_name, "displayName": u.display_name(), "title": u.title,
        "companyId": company.id, "companyName": company.name, "scopes": actor.scopes,
    }))
}

pub async fn company_info(
    State(emu): State<Emulator>,
    Extension(_actor): Extension<Actor>,
) -> Json<Value> {
    let c = &emu.seed().company;
    Json(
        json!({ "companyId": c.id, "companyName": c.name, "companyDisplayName": c.display_name, "entitlements": c.entitlements }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_subsets() {
        let allowed = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(granted_scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(granted_scopes(Some("  "), &allowed).unwrap(), allowed);
        assert_eq!(granted_scopes(Some("b b"), &allowed).unwrap(), ["b"]);
        assert_eq!(granted_scopes(Some("a c"), &allowed).unwrap_err(), "c");
    }
}
