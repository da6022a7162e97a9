//! The API types a connection can be of, one folder each, behind one table.
//!
//! Each folder owns everything its API does differently: hosts and auth plan, the actions
//! (generated catalog rows or hand-written ones), triggers, pick-list providers, the
//! test-connection identity, its pagination strategy and its error bodies. It hands them to
//! the rest of the crate as one [`ApiTypeSpec`] value, and [`spec`] is the only place that
//! maps an [`ApiType`] to its folder.
//!
//! Dependencies point one way: folders use the shared core (`config`, `executor`, `pages`,
//! `upstream`, `triggers`, `options` …); the core reaches a folder only through this table;
//! no folder names another (`tests/layering.rs` keeps it so). A new API type is a new folder
//! with a `SPEC`, a variant in `config::ApiType`, and a row in [`spec`].

pub mod clickwrap;
pub mod clm_public;
pub mod clm_scim;

use serde_json::{Map, Value};

use crate::Plan;
use crate::catalog::{Operation, Pagination};
use crate::config::{ApiType, Connection, Credential};
use crate::error::ConnectorError;
use crate::http::{HttpClient, Response};
use crate::identity::Identity;
use crate::manifest::{ActionDef, Built, Schemas, TriggerDef};
use crate::options::Provider;
use crate::options::annotations::Annotations;
use crate::pages::PageStrategy;
use crate::triggers::{PollResult, WebhookRequest, WebhookResult};

/// What one API type brings, as data and functions the dispatcher and the core consult.
pub struct ApiTypeSpec {
    /// Regions to origins: `Ok(None)` for `custom` (the form's `instance_url`), an error
    /// naming `region` for one the API is not hosted in.
    pub origin: fn(region: &str) -> Result<Option<&'static str>, ConnectorError>,
    /// How the host authenticates, from the form (the API type is passed through for the
    /// OAuth client, whose default scopes are the type's).
    pub credential: fn(&Map<String, Value>, ApiType) -> Result<Credential, ConnectorError>,
    /// Whether requests may act as a user (`impersonate_user`).
    pub acting_user: ActingUser,
    /// The form's `site_access_id`, checked where the API needs one.
    pub site_access_id: fn(Option<&str>) -> Result<Option<String>, ConnectorError>,
    /// Scopes requested when the form leaves `scopes` empty.
    pub default_scopes: fn() -> Vec<String>,
    pub plan: fn(&Connection) -> Plan,
    /// Test-connection: one harmless authenticated read that says who the connection is.
    pub identity: fn(&dyn HttpClient, &Connection) -> Result<Identity, ConnectorError>,

    /// Rows generated from the API's OpenAPI document, run by the one executor.
    pub generated: Option<&'static Generated>,
    /// Hand-written actions (composed, or a hand-kept catalog).
    pub actions: &'static dyn Actions,
    /// An action's schemas for the input so far, and the check against them before it runs;
    /// `None` where every schema is static.
    pub dynamic: Option<&'static dyn DynamicSchemas>,

    pub triggers: &'static dyn Triggers,
    pub providers: &'static [Provider],
    /// Where its schemas take values from its pick lists, and what else `describe` adds.
    pub annotations: &'static Annotations,
    /// The API's own error format, when it has one.
    pub error_body: Option<ErrorBody>,
}

/// The typed error for a refusal in an API's own error format (given the scopes the request
/// needed), or `None` when the answer is not in that format and the generic mapping applies.
pub type ErrorBody = fn(&Response, &[&str]) -> Option<ConnectorError>;

/// An API's generated catalog and what the executor needs to run its rows.
pub struct Generated {
    pub operations: &'static [Operation],
    /// Where the rows' paths are appended.
    pub base: fn(&Connection) -> String,
    /// A JSON body completed before it is sent (SCIM's `schemas` URN).
    pub complete_body: Option<fn(&Operation, &mut Value)>,
    /// How a listing row pages (`None`: the row does not).
    pub paginator: fn(Pagination) -> Option<&'static dyn PageStrategy>,
}

impl ApiTypeSpec {
    /// The generated rows, none where the API has no generated catalog.
    pub fn operations(&self) -> &'static [Operation] {
        self.generated.map_or(&[], |g| g.operations)
    }
}

/// Whether a connection's requests may act as another user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActingUser {
    /// The API has no such header: `impersonate_user` is ignored.
    Never,
    /// Optional.
    Optional,
    /// Required with the client-credentials grant, where no user signed in.
    RequiredWithClientCredentials,
}

/// An API type's hand-written actions.
pub trait Actions: Sync {
    fn find(&self, key: &str) -> Option<&'static dyn Action>;
    /// Every one, in `describe` order.
    fn all(&self) -> Vec<&'static dyn Action>;
}

/// An API type without hand-written actions.
pub struct NoActions;

impl Actions for NoActions {
    fn find(&self, _: &str) -> Option<&'static dyn Action> {
        None
    }

    fn all(&self) -> Vec<&'static dyn Action> {
        Vec::new()
    }
}

/// A hand-written action.
pub trait Action: Sync {
    /// Its `describe` entry, with the schemas of the generated manifest
    /// (`manifest::action_schemas`).
    fn describe(&self, api_type: ApiType) -> ActionDef;
    /// Its key and schemas as its code builds them: what the generated manifest is made of.
    fn schemas(&self) -> Built;
    /// Validates `input` against its own schema, then runs.
    fn run(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        input: &Value,
    ) -> Result<Value, ConnectorError>;
}

/// Schemas that depend on the tenant and the input so far.
pub trait DynamicSchemas: Sync {
    fn schemas(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        action: &str,
        partial: &Value,
    ) -> Result<Schemas, ConnectorError>;
    fn check(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        action: &str,
        input: &Value,
    ) -> Result<(), ConnectorError>;
}

/// An API type's triggers.
pub trait Triggers: Sync {
    fn owns(&self, key: &str) -> bool;
    /// Their `describe` entries, with the schemas of the generated manifest
    /// (`TriggerDef::described`).
    fn describe(&self, api_type: ApiType) -> Vec<TriggerDef>;
    /// Each one's key and schemas as its code builds them (see [`Action::schemas`]).
    fn schemas(&self) -> Vec<Built>;
    fn poll(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        cursor: Option<&str>,
    ) -> Result<PollResult, ConnectorError>;
    /// Webhook delivery, or why the API has none (the rest of "trigger `…` is polled").
    fn webhooks(&self) -> Result<&dyn Webhooks, &'static str>;
}

/// Webhook subscriptions and deliveries of an API type's triggers.
pub trait Webhooks {
    fn subscribe(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        target_url: &str,
    ) -> Result<Value, ConnectorError>;
    fn unsubscribe(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        subscription: &str,
    ) -> Result<(), ConnectorError>;
    fn handle(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        subscription: &str,
        request: &WebhookRequest,
    ) -> Result<WebhookResult, ConnectorError>;
}

/// The error for a trigger key no API type has.
pub fn unknown_trigger(key: &str) -> ConnectorError {
    ConnectorError::input(
        "trigger",
        format!(
            "unknown trigger `{}`; `describe` lists the triggers",
            crate::error::excerpt(key)
        ),
    )
}

/// The table: each API type's folder. Clickwrap's REST and Activity APIs share a folder
/// and differ in hosts, credential and rows.
// Not inlined: the optimiser would otherwise see which spec each loop over [`all`] reads and
// copy every API type's lookups into each caller (about 20 KB of the component).
#[inline(never)]
pub fn spec(api_type: ApiType) -> &'static ApiTypeSpec {
    match api_type {
        ApiType::ClmPublic => &clm_public::SPEC,
        ApiType::ClmScim => &clm_scim::SPEC,
        ApiType::ClickwrapRest => &clickwrap::REST,
        ApiType::ClickwrapActivity => &clickwrap::ACTIVITY,
    }
}

/// Every API type with its spec, in the order `describe` lists their actions and triggers.
pub fn all() -> impl Iterator<Item = (ApiType, &'static ApiTypeSpec)> {
    ApiType::all().map(|api_type| (api_type, spec(api_type)))
}
