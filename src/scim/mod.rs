//! The CLM SCIM API (`api_type: clm_scim`): Ironclad's SCIM 2.0 user and group provisioning at
//! `{instance}/scim/v2`, with the same OAuth client as the Public API and `scim.*` scopes.
//!
//! Its 14 operations are catalog rows (`catalog::SCIM_OPERATIONS`, generated from the official
//! SCIM OpenAPI) run by the one executor; this module holds what SCIM does differently:
//! - [`paging`] — `startIndex`/`count`/`totalResults` listings;
//! - [`errors`] — SCIM error bodies (`schemas`, `status`, `scimType`, `detail`);
//! - [`identity`] — test-connection;
//! - [`trigger`] — the "new or changed user" polling trigger;
//! - [`complete_body`] — the `schemas` URN every SCIM request body carries.

pub mod errors;
pub mod identity;
pub mod paging;
pub mod trigger;

use serde_json::Value;

use crate::config::Connection;

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
        let op = crate::catalog::find("scim_patch_user").unwrap();
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
