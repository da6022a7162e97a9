//! What `describe` returns: the connection form, every action (straight from the catalog) and
//! every trigger.

use serde_json::Value;

use crate::api_types;
use crate::catalog::{self, Method, Operation};
use crate::config::{ApiType, CONNECTION_SCHEMA};
use crate::error::{ConnectorError, excerpt};
use crate::options::annotations::annotate;

pub const CONNECTOR_ID: &str = "ironclad";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub id: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub connection_schema: &'static str,
    pub actions: Vec<ActionDef>,
    pub triggers: Vec<TriggerDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDef {
    pub key: &'static str,
    /// The connection `api_type` the trigger runs on.
    pub api_type: ApiType,
    pub title: &'static str,
    pub description: &'static str,
    pub polls: bool,
    pub webhooks: bool,
    pub scopes: Vec<&'static str>,
    pub input_schema: String,
    pub output_schema: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDef {
    pub key: &'static str,
    /// The connection `api_type` the action runs on.
    pub api_type: ApiType,
    pub title: &'static str,
    pub description: String,
    pub group: &'static str,
    pub operation: Option<&'static str>,
    pub scopes: &'static [&'static str],
    /// With `x-options` and `x-schema-depends-on` (see `options::annotations`).
    pub input_schema: String,
    pub output_schema: String,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

impl ActionDef {
    fn from_operation(op: &'static Operation) -> Self {
        debug_assert!(op.read_only == (op.method == Method::Get));
        ActionDef {
            key: op.key,
            api_type: op.api_type,
            title: op.title,
            description: op.description.to_string(),
            group: op.area,
            operation: Some(op.operation_id),
            scopes: op.scopes,
            input_schema: annotate(op.key, &op.input_schema.text()),
            output_schema: op.output_schema.text().into_owned(),
            read_only: op.read_only,
            destructive: op.destructive,
            idempotent: op.idempotent,
        }
    }
}

pub fn describe() -> Manifest {
    Manifest {
        id: CONNECTOR_ID,
        name: "Ironclad",
        version: env!("CARGO_PKG_VERSION"),
        description: "Ironclad contract lifecycle management (workflows, approvals, signatures, \
                      records and more, through Ironclad's public API; users and groups through \
                      its SCIM API) and Ironclad Clickwrap (sites, contracts, groups, signers, \
                      acceptances).",
        connection_schema: CONNECTION_SCHEMA,
        actions: catalog::all()
            .map(ActionDef::from_operation)
            .chain(api_types::all().flat_map(|(api_type, spec)| {
                spec.actions
                    .all()
                    .into_iter()
                    .map(move |a| a.describe(api_type))
            }))
            .collect(),
        triggers: api_types::all()
            .flat_map(|(api_type, spec)| spec.triggers.describe(api_type))
            .collect(),
    }
}

/// One action's definition as `describe` gives it.
pub fn action(key: &str) -> Option<ActionDef> {
    if let Some(op) = catalog::find(key) {
        return Some(ActionDef::from_operation(op));
    }
    api_types::all()
        .find_map(|(api_type, spec)| spec.actions.find(key).map(|a| a.describe(api_type)))
}

/// An action's input and output schemas, concrete for one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Schemas {
    pub input: Value,
    pub output: Value,
}

/// The schemas `describe` gives `action`, parsed.
pub fn schemas(action: &str) -> Result<Schemas, ConnectorError> {
    let def = self::action(action).ok_or_else(|| {
        ConnectorError::input(
            "",
            format!(
                "unknown action `{}`; `describe` lists the actions",
                excerpt(action)
            ),
        )
    })?;
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| ConnectorError::internal(format!("schema of {action}: {e}")))
    };
    Ok(Schemas {
        input: parse(&def.input_schema)?,
        output: parse(&def.output_schema)?,
    })
}
