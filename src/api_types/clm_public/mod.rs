//! The CLM Public API (`api_type: clm_public`): an Ironclad instance's `/public/api/v1`, with
//! an OAuth client the host runs and the acting user's header.
//!
//! This folder owns everything the API does its own way:
//! - [`OPERATIONS`] — the generated catalog (`generated.rs`, written by `tools/catalog-gen`),
//!   run by the shared executor; [`paging`] — its `page`/`pageSize` strategy;
//! - [`custom`] — the composed actions; [`dynamic`] — schemas that follow the tenant;
//! - [`triggers`] — the workflow, record, entity and obligation triggers, polled or
//!   delivered by Ironclad's webhooks;
//! - `options` — its pick lists; [`identity`] — test-connection; [`api`] — requests
//!   outside the catalog.
//!
//! It depends on the shared core only; the core reaches it through [`SPEC`] in the table
//! (`api_types::spec`).

mod annotations;
pub mod api;
pub mod custom;
pub mod dynamic;
mod generated;
pub mod identity;
mod options;
pub mod paging;
pub mod triggers;

use serde_json::Value;

use crate::api_types::{self, ActingUser, ApiTypeSpec, Generated};
// The row types, in scope for `generated.rs` (it says `use super::*`).
use crate::Plan;
use crate::catalog::*;
use crate::config::{ApiType, Connection};
use crate::error::ConnectorError;
use crate::http::HttpClient;
use crate::manifest::{ActionDef, Built, Schemas, TriggerDef};
use crate::pages::PageStrategy;
use crate::triggers::{PollResult, WebhookRequest, WebhookResult};
use custom::CustomAction;

pub use generated::OPERATIONS;

pub static SPEC: ApiTypeSpec = ApiTypeSpec {
    origin: crate::config::clm_origin,
    credential: crate::config::oauth_credential,
    acting_user: ActingUser::RequiredWithClientCredentials,
    site_access_id: |given| Ok(given.map(str::to_string)),
    default_scopes: all_scopes,
    plan: |conn| Plan::oauth(conn, conn.public_api_base()),
    identity: identity::test,
    generated: Some(&Generated {
        operations: OPERATIONS,
        base: Connection::public_api_base,
        complete_body: None,
        paginator,
    }),
    actions: &Composed,
    dynamic: Some(&Dynamic),
    triggers: &Triggers,
    providers: options::PROVIDERS,
    annotations: &annotations::ANNOTATIONS,
    error_body: None,
};

fn paginator(pagination: Pagination) -> Option<&'static dyn PageStrategy> {
    match pagination {
        Pagination::PageSize { has_count: true } => Some(&paging::COUNTED),
        Pagination::PageSize { has_count: false } => Some(&paging::UNCOUNTED),
        Pagination::None | Pagination::ScimIndex => None,
    }
}

/// Every scope some operation needs, in catalog order without repeats: the default request
/// when a connection leaves `scopes` empty.
fn all_scopes() -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in OPERATIONS.iter().flat_map(|op| op.scopes) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

/// The composed actions ([`custom::CUSTOM`]).
struct Composed;

impl api_types::Actions for Composed {
    fn find(&self, key: &str) -> Option<&'static dyn api_types::Action> {
        custom::find(key).map(|a| a as &dyn api_types::Action)
    }

    fn all(&self) -> Vec<&'static dyn api_types::Action> {
        custom::CUSTOM
            .iter()
            .map(|a| a as &dyn api_types::Action)
            .collect()
    }
}

impl api_types::Action for CustomAction {
    fn describe(&self, api_type: ApiType) -> ActionDef {
        let (input_schema, output_schema) = crate::manifest::action_schemas(self.key);
        ActionDef {
            key: self.key,
            api_type,
            title: self.title,
            description: self.description.to_string(),
            group: self.group,
            operation: None,
            scopes: self.scopes,
            input_schema,
            output_schema,
            read_only: self.read_only,
            destructive: self.destructive,
            idempotent: self.idempotent,
        }
    }

    fn schemas(&self) -> Built {
        Built {
            key: self.key,
            input: (self.input_schema)(),
            output: (self.output_schema)(),
        }
    }

    fn run(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        input: &Value,
    ) -> Result<Value, ConnectorError> {
        custom::execute(client, conn, self, input)
    }
}

struct Dynamic;

impl api_types::DynamicSchemas for Dynamic {
    fn schemas(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        action: &str,
        partial: &Value,
    ) -> Result<Schemas, ConnectorError> {
        dynamic::schemas(client, conn, action, partial)
    }

    fn check(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        action: &str,
        input: &Value,
    ) -> Result<(), ConnectorError> {
        dynamic::check(client, conn, action, input)
    }
}

/// The rows of [`triggers::TRIGGERS`].
struct Triggers;

impl api_types::Triggers for Triggers {
    fn owns(&self, key: &str) -> bool {
        triggers::find(key).is_ok()
    }

    fn describe(&self, api_type: ApiType) -> Vec<TriggerDef> {
        triggers::TRIGGERS
            .iter()
            .map(|t| {
                TriggerDef::described(
                    api_type,
                    (t.key, t.title, t.description),
                    (t.polls(), t.webhooks()),
                    t.scopes(),
                )
            })
            .collect()
    }

    fn schemas(&self) -> Vec<Built> {
        triggers::TRIGGERS
            .iter()
            .map(|t| Built {
                key: t.key,
                input: t.input_schema(),
                output: t.output_schema(),
            })
            .collect()
    }

    fn poll(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        cursor: Option<&str>,
    ) -> Result<PollResult, ConnectorError> {
        triggers::poll(client, conn, key, input, cursor)
    }

    fn webhooks(&self) -> Result<&dyn api_types::Webhooks, &'static str> {
        Ok(self)
    }
}

impl api_types::Webhooks for Triggers {
    fn subscribe(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        target_url: &str,
    ) -> Result<Value, ConnectorError> {
        triggers::subscribe(client, conn, key, input, target_url)
    }

    fn unsubscribe(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        subscription: &str,
    ) -> Result<(), ConnectorError> {
        triggers::unsubscribe(client, conn, key, subscription)
    }

    fn handle(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        subscription: &str,
        request: &WebhookRequest,
    ) -> Result<WebhookResult, ConnectorError> {
        triggers::handle_webhook(client, conn, key, input, subscription, request)
    }
}
