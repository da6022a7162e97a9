//! Actions that are not one upstream operation: they compose catalog operations or give
//! raw access. Each is a row here plus a `run` function in its own module; the manifest and
//! the dispatcher treat them like catalog rows.

mod launch_and_wait;
mod launch_with_files;
mod raw_request;

use serde_json::Value;

use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::HttpClient;

pub struct CustomAction {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub group: &'static str,
    pub scopes: &'static [&'static str],
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// JSON Schema of the input, derived when asked where it extends a catalog row (a call
    /// builds only its own; `describe` renders them as text).
    pub input_schema: fn() -> Value,
    pub output_schema: fn() -> Value,
    /// Runs with an input already validated against `input_schema`.
    pub run: fn(&dyn HttpClient, &Connection, &Value) -> Result<Value, ConnectorError>,
}

pub static CUSTOM: &[CustomAction] = &[
    launch_and_wait::ACTION,
    launch_with_files::ACTION,
    raw_request::ACTION,
];

pub fn find(key: &str) -> Option<&'static CustomAction> {
    CUSTOM.iter().find(|a| a.key == key)
}

/// Validate against the action's schema, then run it.
pub fn execute(
    client: &dyn HttpClient,
    conn: &Connection,
    action: &CustomAction,
    input: &Value,
) -> Result<Value, ConnectorError> {
    let schema = (action.input_schema)();
    crate::schema::validate(&schema, input)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    (action.run)(client, conn, input)
}
