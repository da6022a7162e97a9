//! What `describe` returns: the connection form, every action (straight from the catalog) and
//! every trigger.

use crate::catalog::{self, Method, Operation};
use crate::clickwrap;
use crate::config::{ApiType, CONNECTION_SCHEMA};
use crate::custom::{CUSTOM, CustomAction};
use crate::options::annotations::annotate;
use crate::scim::trigger::{SCIM_TRIGGERS, ScimTrigger};
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

impl TriggerDef {
    fn from_trigger(t: &'static Trigger) -> Self {
        TriggerDef {
            key: t.key,
            api_type: t.api_type,
            title: t.title,
            description: t.description,
            polls: t.polls(),
            webhooks: t.webhooks(),
            scopes: t.scopes(),
            input_schema: annotate(t.key, &t.input_schema().to_string()),
            output_schema: t.output_schema().to_string(),
        }
    }
}

impl TriggerDef {
    fn from_scim(t: &'static ScimTrigger) -> Self {
        TriggerDef {
            key: t.key,
            api_type: ApiType::ClmScim,
            title: t.title,
            description: t.description,
            polls: true,
            webhooks: false,
            scopes: crate::scim::trigger::SCOPES.to_vec(),
            input_schema: t.input_schema().to_string(),
            output_schema: t.output_schema().to_string(),
        }
    }
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
    fn from_custom(a: &'static CustomAction) -> Self {
        ActionDef {
            key: a.key,
            api_type: a.api_type,
            title: a.title,
            description: a.description.to_string(),
            group: a.group,
            operation: None,
            scopes: a.scopes,
            input_schema: annotate(a.key, &(a.input_schema)().to_string()),
            output_schema: (a.output_schema)().to_string(),
            read_only: a.read_only,
            destructive: a.destructive,
            idempotent: a.idempotent,
        }
    }

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

    fn from_clickwrap(a: &'static clickwrap::catalog::Action) -> Self {
        ActionDef {
            key: a.key,
            api_type: a.api.api_type(),
            title: a.title,
            description: a.full_description(),
            group: a.group,
            operation: None,
            scopes: &[],
            input_schema: annotate(a.key, &a.input_schema().to_string()),
            output_schema: a.output_schema().to_string(),
            read_only: a.hints.read_only,
            destructive: a.hints.destructive,
            idempotent: a.hints.idempotent,
        }
    }
}

impl TriggerDef {
    fn from_clickwrap(t: &'static clickwrap::trigger::Trigger) -> Self {
        TriggerDef {
            key: t.key,
            api_type: t.api.api_type(),
            title: t.title,
            description: t.description,
            polls: true,
            webhooks: false,
            scopes: Vec::new(),
            input_schema: t.input_schema().to_string(),
            output_schema: t.output_schema().to_string(),
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
            .chain(CUSTOM.iter().map(ActionDef::from_custom))
            .chain(
                clickwrap::catalog::ACTIONS
                    .iter()
                    .map(ActionDef::from_clickwrap),
            )
            .collect(),
        triggers: TRIGGERS
            .iter()
            .map(TriggerDef::from_trigger)
            .chain(SCIM_TRIGGERS.iter().map(TriggerDef::from_scim))
            .chain(
                clickwrap::trigger::TRIGGERS
                    .iter()
                    .map(TriggerDef::from_clickwrap),
            )
            .collect(),
    }
}

/// One action's definition as `describe` gives it.
pub fn action(key: &str) -> Option<ActionDef> {
    if let Some(op) = crate::catalog::find(key) {
        return Some(ActionDef::from_operation(op));
    }
    if let Some(custom) = crate::custom::find(key) {
        return Some(ActionDef::from_custom(custom));
    }
    clickwrap::catalog::find(key).map(ActionDef::from_clickwrap)
}
