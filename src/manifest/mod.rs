//! What `describe` returns: the connection form, every action (straight from the catalog) and
//! every trigger. Their schemas come from the generated manifest ([`stored`]): nothing in
//! them depends on the connection, so they are made once, at build time, from the code that
//! builds and annotates them ([`generate`] writes `generated.rs`, and a test fails when it
//! is stale).

#[cfg(test)]
mod generate;
#[rustfmt::skip]
mod generated;
pub mod stored;

use serde_json::Value;

use crate::api_types;
use crate::catalog::{self, Method, Operation};
use crate::config::{ApiType, CONNECTION_SCHEMA};
use crate::error::{ConnectorError, excerpt};

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

/// An action's or trigger's key and schemas as its own code builds them, before `describe`'s
/// annotations (`options::annotations`): what the generated manifest is made from.
pub struct Built {
    pub key: &'static str,
    pub input: Value,
    pub output: Value,
}

/// A hand-written action's schemas (input, output) as `describe` gives them.
pub fn action_schemas(key: &str) -> (String, String) {
    schemas_of(&generated::ACTIONS, key, None)
}

/// A trigger's schemas (input, output) as `describe` gives them.
fn trigger_schemas(key: &str) -> (String, String) {
    schemas_of(&generated::TRIGGERS, key, None)
}

impl TriggerDef {
    /// A trigger as `describe` lists it: what its API type's folder knows of it, with the
    /// schemas generated for its key. `modes` is (polls, webhooks).
    pub fn described(
        api_type: ApiType,
        (key, title, description): (&'static str, &'static str, &'static str),
        (polls, webhooks): (bool, bool),
        scopes: Vec<&'static str>,
    ) -> TriggerDef {
        let (input_schema, output_schema) = trigger_schemas(key);
        TriggerDef {
            key,
            api_type,
            title,
            description,
            polls,
            webhooks,
            scopes,
            input_schema,
            output_schema,
        }
    }
}

fn schemas_of(
    table: &'static [stored::Entry],
    key: &str,
    row: Option<&Operation>,
) -> (String, String) {
    // `generate`'s test keeps the table complete.
    let (_, input, output) =
        stored::find(table, key).unwrap_or_else(|| panic!("`{key}` is not in generated.rs"));
    (
        input.text(row.map(|op| op.input_schema)),
        output.text(row.map(|op| op.output_schema)),
    )
}

impl ActionDef {
    fn from_operation(op: &'static Operation) -> Self {
        debug_assert!(op.read_only == (op.method == Method::Get));
        let (input_schema, output_schema) = schemas_of(&generated::ACTIONS, op.key, Some(op));
        ActionDef {
            key: op.key,
            api_type: op.api_type,
            title: op.title,
            description: op.description.to_string(),
            group: op.area,
            operation: Some(op.operation_id),
            scopes: op.scopes,
            input_schema,
            output_schema,
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

/// `describe`'s time natively: its first call in the process (what a fresh instance pays,
/// roughly), then the median and best of 200 more. Run in release:
/// `cargo test --release -p ironclad-connector --lib describe_timing -- --ignored --nocapture`.
#[cfg(test)]
#[test]
#[ignore = "a timing, not a check; run in release with --nocapture"]
fn describe_timing() {
    use std::time::{Duration, Instant};
    // Minor page faults so far (field 10 of /proc/self/stat): a fresh instance's first
    // touch of its heap and of the static text.
    let faults = || {
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(7)?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0)
    };
    let before = faults();
    let started = Instant::now();
    let m = std::hint::black_box(describe());
    let first = started.elapsed();
    let first_faults = faults() - before;
    let mut runs: Vec<Duration> = (0..200)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(describe());
            started.elapsed()
        })
        .collect();
    runs.sort();
    let text: usize = m
        .actions
        .iter()
        .map(|a| a.input_schema.len() + a.output_schema.len())
        .chain(
            m.triggers
                .iter()
                .map(|t| t.input_schema.len() + t.output_schema.len()),
        )
        .sum();
    println!(
        "describe: first {first:?} ({first_faults} page faults), median {:?}, best {:?}; \
         {text} bytes of schemas",
        runs[runs.len() / 2],
        runs[0]
    );
}
