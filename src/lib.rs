//! The Ironclad connector.
//!
//! A WebAssembly component implementing the `ipaas:connector` world (see `wit/`). The logic
//! here is plain Rust over an [`http::HttpClient`] so it also runs natively in unit tests;
//! `component.rs` binds it to the WIT exports when built for `wasm32-wasip2`.
//!
//! Table of contents:
//! - [`describe`] — the manifest: connection form, actions ([`manifest`], [`catalog`]).
//! - [`plan`] — validate a connection form and say how the host authenticates ([`config`]).
//! - [`test_connection`] — who the connection acts as ([`identity`]).
//! - [`clickwrap`] — the Clickwrap REST and Activity API types: hosts, action rows, trigger.
//! - [`execute`] — run one action: a catalog row ([`executor`], [`pagination`], [`schema`],
//!   [`upstream`]) or a composed one ([`custom`]).
//! - [`poll`], [`subscribe`], [`unsubscribe`], [`handle_webhook`] — triggers ([`triggers`]).

pub mod api;
pub mod base64;
pub mod catalog;
pub mod clickwrap;
pub mod config;
pub mod custom;
pub mod download;
pub mod error;
pub mod executor;
pub mod http;
pub mod identity;
pub mod manifest;
pub mod multipart;
pub mod pagination;
pub mod schema;
pub mod time;
pub mod triggers;
pub mod upstream;

#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod component;

use serde_json::Value;

use config::{ApiType, Connection, Grant};
pub use error::ConnectorError;

pub use manifest::describe;

/// How the host must authenticate a connection, and where it may send requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub oauth: Option<OAuthPlan>,
    pub allowed_origins: Vec<String>,
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthPlan {
    pub grant: Grant,
    pub token_url: String,
    pub authorize_url: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub client_secret_field: &'static str,
}

pub fn plan(config: &str) -> Result<Plan, ConnectorError> {
    let conn = served(config)?;
    if clickwrap::is_clickwrap(conn.api_type) {
        return Ok(clickwrap::plan(&conn));
    }
    let oauth = conn.oauth.as_ref().map(|o| OAuthPlan {
        grant: o.grant,
        token_url: conn.token_url(),
        authorize_url: conn.authorize_url(),
        client_id: o.client_id.clone(),
        scopes: o.scopes.clone(),
        client_secret_field: "client_secret",
    });
    Ok(Plan {
        oauth,
        allowed_origins: vec![conn.origin.clone()],
        base_url: conn.public_api_base(),
    })
}

pub fn test_connection(
    client: &dyn http::HttpClient,
    config: &str,
) -> Result<identity::Identity, ConnectorError> {
    let conn = served(config)?;
    if clickwrap::is_clickwrap(conn.api_type) {
        return clickwrap::test(client, &conn);
    }
    identity::test(client, &conn)
}

pub fn execute(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    input: &str,
) -> Result<Value, ConnectorError> {
    let conn = served(config)?;
    let input: Value = serde_json::from_str(input)
        .map_err(|e| ConnectorError::input("/", format!("the input is not valid JSON: {e}")))?;
    if let Some(row) = clickwrap::catalog::find(action) {
        for_api_type(&conn, row.api.api_type(), "action", action)?;
        return clickwrap::executor::execute(client, &conn, row, &input);
    }
    if let Some(op) = catalog::find(action) {
        for_api_type(&conn, ApiType::ClmPublic, "action", action)?;
        return executor::execute(client, &conn, op, &input);
    }
    if let Some(custom) = custom::find(action) {
        for_api_type(&conn, ApiType::ClmPublic, "action", action)?;
        return custom::execute(client, &conn, custom, &input);
    }
    Err(ConnectorError::input(
        "",
        format!("unknown action `{action}`; `describe` lists the actions"),
    ))
}

pub fn poll(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    cursor: Option<&str>,
) -> Result<triggers::PollResult, ConnectorError> {
    let conn = served(config)?;
    if let Some(t) = clickwrap::trigger::find(trigger) {
        for_api_type(&conn, t.api.api_type(), "trigger", trigger)?;
        return t.poll(client, &conn, input, cursor);
    }
    if triggers::find(trigger).is_ok() {
        for_api_type(&conn, ApiType::ClmPublic, "trigger", trigger)?;
    }
    triggers::poll(client, &conn, trigger, input, cursor)
}

pub fn subscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    target_url: &str,
) -> Result<Value, ConnectorError> {
    triggers::subscribe(
        client,
        &webhook_connection(config, trigger)?,
        trigger,
        input,
        target_url,
    )
}

pub fn unsubscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    subscription: &str,
) -> Result<(), ConnectorError> {
    triggers::unsubscribe(
        client,
        &webhook_connection(config, trigger)?,
        trigger,
        subscription,
    )
}

pub fn handle_webhook(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    subscription: &str,
    request: &triggers::WebhookRequest,
) -> Result<triggers::WebhookResult, ConnectorError> {
    triggers::handle_webhook(
        client,
        &webhook_connection(config, trigger)?,
        trigger,
        input,
        subscription,
        request,
    )
}

/// A validated connection whose API type this version serves. The other API types are
/// validated in full, then refused.
fn served(config: &str) -> Result<Connection, ConnectorError> {
    let conn = Connection::parse(config)?;
    match conn.api_type {
        ApiType::ClmPublic | ApiType::ClickwrapRest | ApiType::ClickwrapActivity => Ok(conn),
        other => Err(unsupported_api(other)),
    }
}

/// A CLM Public connection: webhook triggers exist for it only (Clickwrap's are polled).
fn webhook_connection(config: &str, trigger: &str) -> Result<Connection, ConnectorError> {
    let conn = served(config)?;
    if clickwrap::trigger::find(trigger).is_some() {
        return Err(ConnectorError::Unsupported(format!(
            "trigger `{trigger}` is polled; Clickwrap has no webhooks"
        )));
    }
    for_api_type(&conn, ApiType::ClmPublic, "webhook trigger", trigger)?;
    Ok(conn)
}

fn unsupported_api(api_type: ApiType) -> ConnectorError {
    ConnectorError::Unsupported(format!(
        "api_type `{}` is not supported by this connector version yet; use `clm_public`, \
         `clickwrap_rest` or `clickwrap_activity`",
        api_type.as_str()
    ))
}

/// Refuse an action or trigger of one API type on a connection of another, naming both.
fn for_api_type(
    conn: &Connection,
    needed: ApiType,
    what: &str,
    key: &str,
) -> Result<(), ConnectorError> {
    if conn.api_type == needed {
        return Ok(());
    }
    Err(ConnectorError::config(
        "api_type",
        format!(
            "{what} `{key}` runs on `{}` connections; this connection's api_type is `{}`: use a \
             connection of api_type `{}`",
            needed.as_str(),
            conn.api_type.as_str(),
            needed.as_str()
        ),
    ))
}
