//! What `describe` returns: the connection form, every action (straight from the catalog) and
//! every trigger.

use crate::catalog::{Method, OPERATIONS, Operation};
use crate::config::ApiType;
use crate::config::CONNECTION_SCHEMA;
use crate::custom::{CUSTOM, CustomAction};
use crate::options::annotations::annotate;
use crate::triggers::{TRIGGERS, Trigger};

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
    pub title: &'static str,
    pub description: &'static str,
    pub polls: bool,
    pub webhooks: bool,
    pub scopes: Vec<&'static str>,
    pub api_type: ApiType,
    pub input_schema: String,
    pub output_schema: String,
}

impl TriggerDef {
    fn from_trigger(t: &'static Trigger) -> Self {
        TriggerDef {
            key: t.key,
            title: t.title,
            description: t.description,
            polls: t.polls(),
            webhooks: t.webhooks(),
            scopes: t.scopes(),
            api_type: t.api_type,
            input_schema: annotate(t.key, &t.input_schema().to_string()),
            output_schema: t.output_schema().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDef {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub group: &'static str,
    pub operation: Option<&'static str>,
    pub scopes: &'static [&'static str],
    pub api_type: ApiType,
    /// With `x-options` and `x-schema-depends-on` (see `options::annotations`).
    pub input_schema: String,
    pub output_schema: String,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

impl ActionDef {
    fn from_custom(a: &'static CustomAction) -> Self {
        ActionDef {
            key: a.key,
            title: a.title,
            description: a.description,
            group: a.group,
            operation: None,
            scopes: a.scopes,
            api_type: a.api_type,
            input_schema: annotate(a.key, &(a.input_schema)()),
            output_schema: (a.output_schema)(),
            read_only: a.read_only,
            destructive: a.destructive,
            idempotent: a.idempotent,
        }
    }

    fn from_operation(op: &'static Operation) -> Self {
        debug_assert!(op.read_only == (op.method == Method::Get));
        ActionDef {
            key: op.key,
            title: op.title,
            description: op.description,
            group: op.area,
            operation: Some(op.operation_id),
            scopes: op.scopes,
            api_type: op.api_type,
            input_schema: annotate(op.key, op.input_schema),
            output_schema: op.output_schema.to_string(),
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
        description: "Ironclad contract lifecycle management: workflows, approvals, signatures, \
                      records and more, through Ironclad's public API.",
        connection_schema: CONNECTION_SCHEMA,
        actions: OPERATIONS
            .iter()
            .map(ActionDef::from_operation)
            .chain(CUSTOM.iter().map(ActionDef::from_custom))
            .collect(),
        triggers: TRIGGERS.iter().map(TriggerDef::from_trigger).collect(),
    }
}

/// One action's definition as `describe` gives it.
pub fn action(key: &str) -> Option<ActionDef> {
    if let Some(op) = crate::catalog::find(key) {
        return Some(ActionDef::from_operation(op));
    }
    crate::custom::find(key).map(ActionDef::from_custom)
}
