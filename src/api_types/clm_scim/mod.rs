//! The CLM SCIM API (`api_type: clm_scim`): Ironclad's SCIM 2.0 user and group provisioning at
//! `{instance}/scim/v2`, with the same OAuth client as the Public API and `scim.*` scopes.
//!
//! Its 14 operations are catalog rows ([`SCIM_OPERATIONS`], `generated.rs`, written by
//! `tools/catalog-gen` from the official SCIM OpenAPI) run by the shared executor; this folder
//! owns what SCIM does differently:
//! - [`paging`] — the `startIndex`/`count`/`totalResults` strategy;
//! - [`errors`] — SCIM error bodies (`schemas`, `status`, `scimType`, `detail`);
//! - [`identity`] — test-connection; `options` — the user and group pick lists;
//! - [`trigger`] — the "new or changed user" polling trigger;
//! - [`complete_body`] — the `schemas` URN every SCIM request body carries.
//!
//! It depends on the shared core only; the core reaches it through [`SPEC`] in the table
//! (`api_types::spec`).

pub mod errors;
mod generated;
pub mod identity;
mod options;
pub mod paging;
pub mod trigger;

use serde_json::Value;

use crate::api_types::{self, ActingUser, ApiTypeSpec, Generated};
// The row types, in scope for `generated.rs` (it says `use super::*`).
use crate::Plan;
use crate::catalog::*;
use crate::config::{ApiType, Connection};
use crate::error::ConnectorError;
use crate::http::HttpClient;
use crate::manifest::{Built, TriggerDef};
use crate::pages::PageStrategy;
use crate::triggers::PollResult;

pub use generated::SCIM_OPERATIONS;

pub static SPEC: ApiTypeSpec = ApiTypeSpec {
    origin: crate::config::clm_origin,
    credential: crate::config::oauth_credential,
    acting_user: ActingUser::Optional,
    site_access_id: |given| Ok(given.map(str::to_string)),
    default_scopes: || {
        vec![
            "scim.users.readUsers".into(),
            "scim.groups.readGroups".into(),
        ]
    },
    plan: |conn| Plan::oauth(conn, base_url(conn)),
    identity: identity::test,
    generated: Some(&Generated {
        operations: SCIM_OPERATIONS,
        base: base_url,
        complete_body: Some(complete_row_body),
        paginator,
    }),
    actions: &api_types::NoActions,
    dynamic: None,
    triggers: &Triggers,
    providers: options::PROVIDERS,
    annotations: &options::ANNOTATIONS,
    error_body: Some(errors::status_error),
};

fn paginator(pagination: Pagination) -> Option<&'static dyn PageStrategy> {
    match pagination {
        Pagination::ScimIndex => Some(&paging::START_INDEX),
        Pagination::None | Pagination::PageSize { .. } => None,
    }
}

/// [`complete_body`] with the row's own input schema.
fn complete_row_body(op: &Operation, body: &mut Value) {
    let schema = serde_json::from_str(&op.input_schema.text()).unwrap_or_default();
    complete_body(&schema, body);
}

/// The "new or changed user" trigger ([`trigger::SCIM_TRIGGERS`]); SCIM sends no webhooks.
struct Triggers;

impl api_types::Triggers for Triggers {
    fn owns(&self, key: &str) -> bool {
        trigger::find(key).is_some()
    }

    fn describe(&self, api_type: ApiType) -> Vec<TriggerDef> {
        trigger::SCIM_TRIGGERS
            .iter()
            .map(|t| {
                TriggerDef::described(
                    api_type,
                    (t.key, t.title, t.description),
                    (true, false),
                    trigger::SCOPES.to_vec(),
                )
            })
            .collect()
    }

    fn schemas(&self) -> Vec<Built> {
        trigger::SCIM_TRIGGERS
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
        let t = trigger::find(key).ok_or_else(|| api_types::unknown_trigger(key))?;
        trigger::poll(client, conn, t, input, cursor)
    }

    fn webhooks(&self) -> Result<&dyn api_types::Webhooks, &'static str> {
        Err(": Ironclad's SCIM API sends no webhooks")
    }
}

/// The SCIM base URL of the connection's instance (the SCIM spec's `servers` are
/// `https://{na1,eu1,demo}.ironcladapp.com/scim/v2`).
pub fn base_url(conn: &Connection) -> String {
    format!("{}/scim/v2", conn.origin)
}

/// RFC 7644 §3.1/§3.5.2: every request body names its `schemas`; each operation takes exactly
/// one, the spec's default (`…:core:2.0:User`, `…:core:2.0:Group`, `…:api:messages:2.0:PatchOp`).
/// A body that leaves `schemas` out gets it, so callers write only the resource.
pub fn complete_body(input_schema: &Value, body: &mut Value) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    if object.contains_key("schemas") {
        return;
    }
    if let Some(default) = input_schema.pointer("/properties/body/properties/schemas/default") {
        object.insert("schemas".into(), default.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_get_the_operation_schema_urn() {
        let op = SCIM_OPERATIONS
            .iter()
            .find(|op| op.key == "scim_patch_user")
            .unwrap();
        let schema: Value = serde_json::from_str(&op.input_schema.text()).unwrap();
        let mut body = json!({"Operations": [{"op": "replace", "path": "title", "value": "VP"}]});
        complete_body(&schema, &mut body);
        assert_eq!(
            body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:PatchOp"])
        );
        // What the caller sent is kept.
        let mut body = json!({"schemas": ["x"]});
        complete_body(&schema, &mut body);
        assert_eq!(body["schemas"], json!(["x"]));
    }

    #[test]
    fn base_url_is_under_the_instance() {
        let conn = crate::test_support::conn();
        assert_eq!(base_url(&conn), "https://na1.ironcladapp.com/scim/v2");
    }
}
