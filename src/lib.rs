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
//! - [`input_schema`], [`list_options`] — for recipe builders: schemas for the input so far
//!   ([`dynamic`]) and pick lists ([`options`]); structured filters ([`formula`]).
//! - Rules every part keeps: integers read as the schema validates them ([`integer`]),
//!   cursors bound to their action or trigger and connection ([`owner`]), and errors that
//!   quote input as an excerpt ([`error::excerpt`]).
//! - API types: `clm_public`, `clm_scim` ([`scim`]), `clickwrap_rest` and
//!   `clickwrap_activity` ([`clickwrap`]); every action and trigger belongs to one and is
//!   refused on a connection of another.

pub mod api;
pub mod base64;
pub mod catalog;
pub mod clickwrap;
pub mod config;
pub mod custom;
pub mod download;
pub mod dynamic;
pub mod error;
pub mod executor;
pub mod formula;
pub mod http;
pub mod identity;
pub mod integer;
pub mod manifest;
pub mod multipart;
pub mod options;
pub mod owner;
pub mod pagination;
pub mod schema;
pub mod scim;
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
    pub auth: AuthPlan,
    pub allowed_origins: Vec<String>,
    pub base_url: String,
}

/// WIT `auth-plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthPlan {
    None,
    OAuth(OAuthPlan),
    /// The host sends the secret form field `token_field` as a bearer token, as it is.
    Bearer {
        token_field: &'static str,
    },
}

impl AuthPlan {
    pub fn oauth(&self) -> Option<&OAuthPlan> {
        match self {
            AuthPlan::OAuth(o) => Some(o),
            AuthPlan::None | AuthPlan::Bearer { .. } => None,
        }
    }
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
    let conn = Connection::parse(config)?;
    if clickwrap::is_clickwrap(conn.api_type) {
        return Ok(clickwrap::plan(&conn));
    }
    let auth = match conn.oauth() {
        Some(o) => AuthPlan::OAuth(OAuthPlan {
            grant: o.grant,
            token_url: conn.token_url(),
            authorize_url: conn.authorize_url(),
            client_id: o.client_id.clone(),
            scopes: o.scopes(),
            client_secret_field: "client_secret",
        }),
        None => AuthPlan::None,
    };
    Ok(Plan {
        auth,
        allowed_origins: vec![conn.origin.clone()],
        base_url: match conn.api_type {
            ApiType::ClmScim => scim::base_url(&conn),
            _ => conn.public_api_base(),
        },
    })
}

pub fn test_connection(
    client: &dyn http::HttpClient,
    config: &str,
) -> Result<identity::Identity, ConnectorError> {
    let conn = Connection::parse(config)?;
    match conn.api_type {
        ApiType::ClmScim => scim::identity::test(client, &conn),
        ApiType::ClickwrapRest | ApiType::ClickwrapActivity => clickwrap::test(client, &conn),
        ApiType::ClmPublic => identity::test(client, &conn),
    }
}

/// An action the connector offers, by where its definition lives.
#[derive(Clone, Copy)]
enum Action {
    Catalog(&'static catalog::Operation),
    Custom(&'static custom::CustomAction),
    Clickwrap(&'static clickwrap::catalog::Action),
}

impl Action {
    fn find(key: &str) -> Result<Action, ConnectorError> {
        if let Some(op) = catalog::find(key) {
            return Ok(Action::Catalog(op));
        }
        if let Some(custom) = custom::find(key) {
            return Ok(Action::Custom(custom));
        }
        if let Some(row) = clickwrap::catalog::find(key) {
            return Ok(Action::Clickwrap(row));
        }
        Err(ConnectorError::input(
            "",
            format!(
                "unknown action `{}`; `describe` lists the actions",
                error::excerpt(key)
            ),
        ))
    }

    fn api_type(self) -> ApiType {
        match self {
            Action::Catalog(op) => op.api_type,
            Action::Custom(custom) => custom.api_type,
            Action::Clickwrap(row) => row.api.api_type(),
        }
    }

    fn run(
        self,
        client: &dyn http::HttpClient,
        conn: &Connection,
        input: &Value,
    ) -> Result<Value, ConnectorError> {
        match self {
            Action::Catalog(op) => executor::execute(client, conn, op, input),
            Action::Custom(custom) => custom::execute(client, conn, custom, input),
            Action::Clickwrap(row) => clickwrap::executor::execute(client, conn, row, input),
        }
    }
}

pub fn execute(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    input: &str,
) -> Result<Value, ConnectorError> {
    let (conn, found, input) = prepare(client, config, action, input)?;
    found.run(client, &conn, &input)
}

/// [`execute`], answering the output as JSON text (what the component returns): a JSON
/// object Ironclad answered is passed through rather than parsed and written again.
pub fn execute_text(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    input: &str,
) -> Result<String, ConnectorError> {
    let (conn, found, input) = prepare(client, config, action, input)?;
    match found {
        Action::Catalog(op) => executor::execute_text(client, &conn, op, &input),
        other => other
            .run(client, &conn, &input)
            .map(|output| executor::json_text(&output)),
    }
}

/// Everything before an action runs: the connection and input parsed, the action found and
/// matched to the connection's API type, a structured filter rendered, and the input checked
/// against the schema the customer's own configuration gives it (templates, record types).
fn prepare(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    input: &str,
) -> Result<(Connection, Action, Value), ConnectorError> {
    let conn = Connection::parse(config)?;
    let mut input: Value = serde_json::from_str(input)
        .map_err(|e| ConnectorError::input("/", format!("the input is not valid JSON: {e}")))?;
    let found = Action::find(action)?;
    same_api("action", action, found.api_type(), &conn)?;
    if options::annotations::takes_filter(action) {
        formula::expand(&mut input)?;
    }
    dynamic::check(client, &conn, action, &input)?;
    Ok((conn, found, input))
}

/// The action's schemas for the input filled in so far (`partial`, a JSON object).
pub fn input_schema(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    partial: &str,
) -> Result<dynamic::Schemas, ConnectorError> {
    let conn = Connection::parse(config)?;
    same_api("action", action, Action::find(action)?.api_type(), &conn)?;
    let partial: Value = if partial.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(partial).map_err(|e| {
            ConnectorError::input("/", format!("the partial input is not valid JSON: {e}"))
        })?
    };
    dynamic::schemas(client, &conn, action, &partial)
}

/// One page of a pick list. A provider reading an API runs only on a connection of its
/// API type (`options::Provider::api_type`), refused before any request.
pub fn list_options(
    client: &dyn http::HttpClient,
    config: &str,
    provider: &str,
    params: &str,
    cursor: Option<&str>,
) -> Result<options::ChoicePage, ConnectorError> {
    let conn = Connection::parse(config)?;
    if let Some(api_type) = options::find(provider).and_then(|p| p.api_type) {
        same_api("options provider", provider, api_type, &conn)?;
    }
    options::list(client, &conn, provider, params, cursor)
}

pub fn poll(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    cursor: Option<&str>,
) -> Result<triggers::PollResult, ConnectorError> {
    let conn = Connection::parse(config)?;
    if let Some(scim_trigger) = scim::trigger::find(trigger) {
        same_api("trigger", trigger, ApiType::ClmScim, &conn)?;
        return scim::trigger::poll(client, &conn, scim_trigger, input, cursor);
    }
    if let Some(t) = clickwrap::trigger::find(trigger) {
        same_api("trigger", trigger, t.api.api_type(), &conn)?;
        return t.poll(client, &conn, input, cursor);
    }
    if triggers::find(trigger).is_ok() {
        same_api("trigger", trigger, ApiType::ClmPublic, &conn)?;
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

/// A served connection for a webhook trigger: only the CLM Public API has webhooks (the
/// SCIM and Clickwrap triggers are polled).
fn webhook_connection(config: &str, trigger: &str) -> Result<Connection, ConnectorError> {
    let conn = Connection::parse(config)?;
    if clickwrap::trigger::find(trigger).is_some() {
        return Err(ConnectorError::Unsupported(format!(
            "trigger `{trigger}` is polled; Clickwrap has no webhooks"
        )));
    }
    if scim::trigger::find(trigger).is_some() {
        same_api("trigger", trigger, ApiType::ClmScim, &conn)?;
        return Err(ConnectorError::Unsupported(format!(
            "trigger `{trigger}` is polled: Ironclad's SCIM API sends no webhooks"
        )));
    }
    same_api("trigger", trigger, ApiType::ClmPublic, &conn)?;
    Ok(conn)
}

/// An action or trigger runs only on a connection of its own API type: a SCIM action on a
/// CLM Public connection would send SCIM bodies to the wrong base (and the reverse), a
/// Clickwrap action would go to another host altogether.
fn same_api(
    what: &str,
    key: &str,
    api_type: ApiType,
    conn: &Connection,
) -> Result<(), ConnectorError> {
    if conn.api_type == api_type {
        return Ok(());
    }
    Err(ConnectorError::config(
        "api_type",
        format!(
            "{what} `{key}` belongs to api_type `{}`, but this connection's api_type is `{}`; \
             use a `{}` connection for it",
            api_type.as_str(),
            conn.api_type.as_str(),
            api_type.as_str()
        ),
    ))
}
