//! The Ironclad connector.
//!
//! A WebAssembly component implementing the `ipaas:connector` world (see `wit/`). The logic
//! here is plain Rust over an [`http::HttpClient`] so it also runs natively in unit tests;
//! `component.rs` binds it to the WIT exports when built for `wasm32-wasip2`.
//!
//! Layout, and which way dependencies point:
//! - This file is the dispatcher: it parses the connection, finds the action or trigger,
//!   refuses one of another API type (`same_api`) and hands the call to its API type
//!   through the table, [`api_types::spec`].
//! - [`api_types`] — one folder per API type (`clm_public`, `clm_scim`, and `clickwrap` for
//!   both `clickwrap_rest` and `clickwrap_activity`), each owning its hosts and auth plan,
//!   actions, triggers, pick lists, identity, pagination strategy and error bodies, given to
//!   the rest of the crate as one [`api_types::ApiTypeSpec`]. Folders depend on the core and
//!   never on each other.
//! - The shared core depends on no folder (it asks the table when it needs one): the
//!   connection form ([`config`]), the manifest ([`manifest`], [`catalog`]'s row types), the
//!   one executor of generated rows ([`executor`], [`schema`], [`upstream`], [`download`],
//!   [`multipart`]), the pagination abstraction ([`pages`]), what triggers share
//!   ([`triggers`]), pick lists ([`options`]), structured filters ([`formula`]) and the rules
//!   every part keeps: integers read as the schema validates them ([`integer`]), cursors bound
//!   to their action or trigger and connection ([`owner`]), and errors that quote input as an
//!   excerpt ([`error::excerpt`]).
//!
//! `tests/layering.rs` keeps this layering: it fails when the core names a folder, a folder
//! names another, or an `ApiType` variant is matched outside the table, this file and
//! `config.rs`.

pub mod api_types;
pub mod base64;
pub mod catalog;
pub mod config;
pub mod download;
pub mod error;
pub mod executor;
pub mod formula;
pub mod http;
pub mod identity;
pub mod integer;
pub mod json_text;
pub mod manifest;
pub mod multipart;
pub mod options;
pub mod owner;
pub mod pages;
pub mod schema;
pub mod time;
pub mod triggers;
pub mod upstream;

#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod component;

use serde_json::Value;

use api_types::ApiTypeSpec;
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

impl Plan {
    /// The host runs the connection's OAuth client against the instance's token and
    /// authorize URLs, and requests go to `base_url` on the connection's one origin.
    pub fn oauth(conn: &Connection, base_url: String) -> Plan {
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
        Plan {
            auth,
            allowed_origins: vec![conn.origin.clone()],
            base_url,
        }
    }
}

pub fn plan(config: &str) -> Result<Plan, ConnectorError> {
    let conn = Connection::parse(config)?;
    Ok((api_types::spec(conn.api_type).plan)(&conn))
}

pub fn test_connection(
    client: &dyn http::HttpClient,
    config: &str,
) -> Result<identity::Identity, ConnectorError> {
    let conn = Connection::parse(config)?;
    (api_types::spec(conn.api_type).identity)(client, &conn)
}

/// An action the connector offers, by where its definition lives, with its API type.
#[derive(Clone, Copy)]
enum Action {
    /// A generated catalog row, run by the one executor.
    Catalog(&'static catalog::Operation),
    /// A hand-written action of an API type.
    HandWritten(ApiType, &'static dyn api_types::Action),
}

impl Action {
    fn find(key: &str) -> Result<Action, ConnectorError> {
        if let Some(op) = catalog::find(key) {
            return Ok(Action::Catalog(op));
        }
        api_types::all()
            .find_map(|(api_type, spec)| {
                spec.actions
                    .find(key)
                    .map(|action| Action::HandWritten(api_type, action))
            })
            .ok_or_else(|| {
                ConnectorError::input(
                    "",
                    format!(
                        "unknown action `{}`; `describe` lists the actions",
                        error::excerpt(key)
                    ),
                )
            })
    }

    fn api_type(self) -> ApiType {
        match self {
            Action::Catalog(op) => op.api_type,
            Action::HandWritten(api_type, _) => api_type,
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
            Action::HandWritten(_, action) => action.run(client, conn, input),
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
    if let Some(dynamic) = api_types::spec(conn.api_type).dynamic {
        dynamic.check(client, &conn, action, &input)?;
    }
    Ok((conn, found, input))
}

/// The action's schemas for the input filled in so far (`partial`, a JSON object).
pub fn input_schema(
    client: &dyn http::HttpClient,
    config: &str,
    action: &str,
    partial: &str,
) -> Result<manifest::Schemas, ConnectorError> {
    let conn = Connection::parse(config)?;
    same_api("action", action, Action::find(action)?.api_type(), &conn)?;
    let partial: Value = if partial.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(partial).map_err(|e| {
            ConnectorError::input("/", format!("the partial input is not valid JSON: {e}"))
        })?
    };
    match api_types::spec(conn.api_type).dynamic {
        Some(dynamic) => dynamic.schemas(client, &conn, action, &partial),
        None => manifest::schemas(action),
    }
}

/// One page of a pick list. A provider reading an API runs only on a connection of its
/// API type (the one whose spec lists it), refused before any request.
pub fn list_options(
    client: &dyn http::HttpClient,
    config: &str,
    provider: &str,
    params: &str,
    cursor: Option<&str>,
) -> Result<options::ChoicePage, ConnectorError> {
    let conn = Connection::parse(config)?;
    if let Some((Some(api_type), _)) = options::find(provider) {
        same_api("options provider", provider, api_type, &conn)?;
    }
    options::list(client, &conn, provider, params, cursor)
}

/// The API type whose triggers include `key`, with its spec.
fn trigger_owner(key: &str) -> Result<(ApiType, &'static ApiTypeSpec), ConnectorError> {
    api_types::all()
        .find(|(_, spec)| spec.triggers.owns(key))
        .ok_or_else(|| api_types::unknown_trigger(key))
}

pub fn poll(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    cursor: Option<&str>,
) -> Result<triggers::PollResult, ConnectorError> {
    let conn = Connection::parse(config)?;
    let (api_type, spec) = trigger_owner(trigger)?;
    same_api("trigger", trigger, api_type, &conn)?;
    spec.triggers.poll(client, &conn, trigger, input, cursor)
}

pub fn subscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    target_url: &str,
) -> Result<Value, ConnectorError> {
    let (conn, webhooks) = webhook_connection(config, trigger)?;
    webhooks.subscribe(client, &conn, trigger, input, target_url)
}

pub fn unsubscribe(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    subscription: &str,
) -> Result<(), ConnectorError> {
    let (conn, webhooks) = webhook_connection(config, trigger)?;
    webhooks.unsubscribe(client, &conn, trigger, subscription)
}

pub fn handle_webhook(
    client: &dyn http::HttpClient,
    config: &str,
    trigger: &str,
    input: &str,
    subscription: &str,
    request: &triggers::WebhookRequest,
) -> Result<triggers::WebhookResult, ConnectorError> {
    let (conn, webhooks) = webhook_connection(config, trigger)?;
    webhooks.handle(client, &conn, trigger, input, subscription, request)
}

/// A served connection for a webhook trigger, with its API type's webhooks: only the CLM
/// Public API has them (the SCIM and Clickwrap triggers are polled).
fn webhook_connection(
    config: &str,
    trigger: &str,
) -> Result<(Connection, &'static dyn api_types::Webhooks), ConnectorError> {
    let conn = Connection::parse(config)?;
    let (api_type, spec) = trigger_owner(trigger)?;
    same_api("trigger", trigger, api_type, &conn)?;
    match spec.triggers.webhooks() {
        Ok(webhooks) => Ok((conn, webhooks)),
        Err(why) => Err(ConnectorError::Unsupported(format!(
            "trigger `{trigger}` is polled{why}"
        ))),
    }
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
