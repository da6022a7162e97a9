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
//! - [`execute`] — run one action: a catalog row ([`executor`], [`pagination`], [`schema`],
//!   [`upstream`]) or a composed one ([`custom`]).
//! - [`poll`], [`subscribe`], [`unsubscribe`], [`handle_webhook`] — triggers ([`triggers`]).
//! - [`input_schema`], [`list_options`] — for recipe builders: schemas for the input so far
//!   ([`dynamic`]) and pick lists ([`options`]); structured filters ([`formula`]).

pub mod api;
pub mod base64;
pub mod catalog;
pub mod config;
pub mod custom;
pub mod download;
pub mod dynamic;
pub mod error;
pub mod executor;
pub mod formula;
pub mod http;
pub mod identity;
pub mod manifest;
pub mod multipart;
pub mod options;
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
    let conn = clm_public(config)?;
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
    identity::test(client, &clm_public(config)?)
}

pub fn execute(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    input: &str,
) -> Result<Value, ConnectorError> {
    let conn = clm_public(config)?;
    let mut input: Value = serde_json::from_str(input)
        .map_err(|e| ConnectorError::input("/", format!("the input is not valid JSON: {e}")))?;
    if options::annotations::takes_filter(action) {
        formula::expand(&mut input)?;
    }
    dynamic::check(client, &conn, action, &input)?;
    if let Some(op) = catalog::find(action) {
        return executor::execute(client, &conn, op, &input);
    }
    if let Some(custom) = custom::find(action) {
        return custom::execute(client, &conn, custom, &input);
    }
    Err(ConnectorError::input(
        "",
        format!("unknown action `{action}`; `describe` lists the actions"),
    ))
}

/// The action's schemas for the input filled in so far (`partial`, a JSON object).
pub fn input_schema(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    partial: &str,
) -> Result<dynamic::Schemas, ConnectorError> {
    let conn = clm_public(config)?;
    let partial: Value = if partial.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(partial).map_err(|e| {
            ConnectorError::input("/", format!("the partial input is not valid JSON: {e}"))
        })?
    };
    dynamic::schemas(client, &conn, action, &partial)
}

/// One page of a pick list.
pub fn list_options(
    client: &dyn http::HttpClient,
    config: &str,
    provider: &str,
    params: &str,
    cursor: Option<&str>,
) -> Result<options::ChoicePage, ConnectorError> {
    options::list(client, &clm_public(config)?, provider, params, cursor)
}

pub fn poll(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    cursor: Option<&str>,
) -> Result<triggers::PollResult, ConnectorError> {
    triggers::poll(client, &clm_public(config)?, trigger, input, cursor)
}

pub fn subscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    target_url: &str,
) -> Result<Value, ConnectorError> {
    triggers::subscribe(client, &clm_public(config)?, trigger, input, target_url)
}

pub fn unsubscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    subscription: &str,
) -> Result<(), ConnectorError> {
    triggers::unsubscribe(client, &clm_public(config)?, trigger, subscription)
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
        &clm_public(config)?,
        trigger,
        input,
        subscription,
        request,
    )
}

/// A validated connection whose API type this version serves. The other API types are
/// validated in full, then refused.
fn clm_public(config: &str) -> Result<Connection, ConnectorError> {
    let conn = Connection::parse(config)?;
    match conn.api_type {
        ApiType::ClmPublic => Ok(conn),
        other => Err(unsupported_api(other)),
    }
}

fn unsupported_api(api_type: ApiType) -> ConnectorError {
    ConnectorError::Unsupported(format!(
        "api_type `{}` is not supported by this connector version yet; use `clm_public`",
        api_type.as_str()
    ))
}
