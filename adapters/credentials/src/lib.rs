//! The trusted component between a connector and the network in a `wasi:http` runtime.
//!
//! A connector is assumed hostile, so in `adapters/ironclad-http.wac` its `ipaas:connector/http`
//! import is this component's export, and this component alone reads the OAuth client
//! secret (from `wasi:config`, which the connector cannot import: `scripts/wasi-http`
//! refuses a connector that asks for it). For each request it
//! 1. refuses an origin outside `allowed_origins`, so nothing — least of all a token —
//!    leaves for a host the operator did not name;
//! 2. for a request marked `authenticate`, refuses an `Authorization` header set by the
//!    connector, fetches a token with the client credentials grant (kept for the instance's
//!    life, fetched again once after a 401) and adds `Authorization: Bearer …`;
//! 3. hands the request on, no longer marked, to the egress adapter.
//!
//! Settings (`wasi:config`): `allowed_origins` (space-separated `scheme://host[:port]`),
//! `token_url`, `client_id`, `client_secret` and `scopes` (space-separated, optional).

// A component only: exported symbols named `ipaas:…`/`wasi:…` do not link natively, where
// the workspace's `cargo build` compiles nothing of this crate.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: ["../../wit/v0.4", "../wit"],
    world: "ipaas:adapters/credentials",
    generate_all,
});

use std::cell::RefCell;

use exports::ipaas::connector::http as exported;
use ipaas::connector::http as upstream;
use wasi::config::store;

struct Credentials;

export!(Credentials);

thread_local! {
    /// The token this instance fetched. A `wasi:http` runtime makes an instance per incoming
    /// request, so it lives as long as one request's work.
    static TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

impl exported::Guest for Credentials {
    fn send(req: exported::Request) -> Result<exported::Response, exported::HttpError> {
        let allowed = setting("allowed_origins")?;
        let origin = origin(&req.url)?;
        if !allowed
            .split_whitespace()
            .any(|o| o.eq_ignore_ascii_case(origin))
        {
            return Err(exported::HttpError::Denied(format!(
                "{origin} is not in allowed_origins"
            )));
        }
        if !req.authenticate {
            return upstream::send(&forward(req, None))
                .map(response)
                .map_err(error);
        }
        if req
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        {
            return Err(exported::HttpError::InvalidRequest(
                "an authenticated request may not set its own Authorization header".into(),
            ));
        }
        let first = upstream::send(&forward(req.clone(), Some(token(false)?)))
            .map(response)
            .map_err(error)?;
        if first.status != 401 {
            return Ok(first);
        }
        // The token may have been revoked or expired early: one fresh one, then the answer
        // stands (the connector reports it as `unauthenticated`).
        upstream::send(&forward(req, Some(token(true)?)))
            .map(response)
            .map_err(error)
    }
}

/// A setting from `wasi:config`; missing is the operator's error, named.
fn setting(key: &str) -> Result<String, exported::HttpError> {
    match store::get(key) {
        Ok(Some(value)) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(exported::HttpError::Denied(format!(
            "the credentials component has no `{key}`: pass `-S config-var={key}=…`"
        ))),
        Err(e) => Err(exported::HttpError::Denied(format!(
            "reading `{key}` from wasi:config failed: {e:?}"
        ))),
    }
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> Result<&str, exported::HttpError> {
    let scheme_end = url.find("://").ok_or_else(|| {
        exported::HttpError::InvalidRequest(format!("not an absolute URL: {url}"))
    })?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Ok(&url[..scheme_end + 3 + end])
}

fn forward(req: exported::Request, bearer: Option<String>) -> upstream::Request {
    let mut headers = req.headers;
    if let Some(token) = bearer {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    upstream::Request {
        method: match req.method {
            exported::Method::Get => upstream::Method::Get,
            exported::Method::Head => upstream::Method::Head,
            exported::Method::Post => upstream::Method::Post,
            exported::Method::Put => upstream::Method::Put,
            exported::Method::Patch => upstream::Method::Patch,
            exported::Method::Delete => upstream::Method::Delete,
        },
        url: req.url,
        headers,
        body: req.body,
        authenticate: false,
        timeout_ms: req.timeout_ms,
    }
}

/// The access token, fetched when there is none or `renew` says the last one was refused.
fn token(renew: bool) -> Result<String, exported::HttpError> {
    if !renew && let Some(token) = TOKEN.with_borrow(Clone::clone) {
        return Ok(token);
    }
    let token_url = setting("token_url")?;
    // A JSON body, as Ironclad's token endpoint documents it (fixtures/contract/oauth.json).
    let mut grant = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": setting("client_id")?,
        "client_secret": setting("client_secret")?,
    });
    if let Ok(Some(scopes)) = store::get("scopes")
        && !scopes.trim().is_empty()
    {
        grant["scope"] = scopes.into();
    }
    let answer = upstream::send(&upstream::Request {
        method: upstream::Method::Post,
        url: token_url.clone(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: Some(grant.to_string().into_bytes()),
        authenticate: false,
        timeout_ms: Some(30_000),
    })
    .map_err(error)?;
    let refused = |why: String| {
        exported::HttpError::Unauthenticated(format!("the token endpoint {token_url} {why}"))
    };
    if answer.status != 200 {
        // The endpoint's own error code only: its body may echo what was sent.
        let code = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_default();
        return Err(refused(format!("answered {} {code}", answer.status)));
    }
    let token = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v.get("access_token")?.as_str().map(str::to_owned))
        .ok_or_else(|| refused("answered without an access_token".into()))?;
    TOKEN.set(Some(token.clone()));
    Ok(token)
}

fn response(r: upstream::Response) -> exported::Response {
    exported::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

fn error(e: upstream::HttpError) -> exported::HttpError {
    match e {
        upstream::HttpError::Denied(m) => exported::HttpError::Denied(m),
        upstream::HttpError::InvalidRequest(m) => exported::HttpError::InvalidRequest(m),
        upstream::HttpError::Connect(m) => exported::HttpError::Connect(m),
        upstream::HttpError::Timeout => exported::HttpError::Timeout,
        upstream::HttpError::TooLarge(n) => exported::HttpError::TooLarge(n),
        upstream::HttpError::Unauthenticated(m) => exported::HttpError::Unauthenticated(m),
    }
}
