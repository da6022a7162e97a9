//! `/scim/v2/Groups`: list (filter, paging), create, retrieve, replace (PUT), patch
//! (membership: `add` / `remove` on `members`, as the spec documents) and delete.

use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::ScimError;
use super::resource::{Resource, create, invalid, list, patch, remove, replace, retrieve};
use super::schemas::GROUP;
use crate::emulator::{Data, Emulator};
use crate::store::ids;
use crate::store::scim::ScimStore;

/// `/scim/v2/Groups`, through the handlers every SCIM resource shares.
pub struct Groups;

impl Resource for Groups {
    const PLURAL: &'static str = "Groups";
    const READ: &'static str = "scim.groups.readGroups";
    const CREATE: &'static str = "scim.groups.createGroups";
    const UPDATE: &'static str = "scim.groups.updateGroups";
    const DELETE: &'static str = "scim.groups.deleteGroups";
    const FILTERABLE: &'static [&'static str] = &[
        "id",
        "displayname",
        "externalid",
        "members",
        "members.value",
    ];

    fn all(store: &ScimStore) -> &Vec<Value> {
        &store.groups
    }

    fn all_mut(store: &mut ScimStore) -> &mut Vec<Value> {
        &mut store.groups
    }

    fn create(body: &Map<String, Value>, data: &mut Data) -> Result<Value, ScimError> {
        group_from(body, &ids::uuid(), &data.scim, None)
    }

    fn replace(
        body: &Map<String, Value>,
        current: &Value,
        data: &mut Data,
    ) -> Result<Value, ScimError> {
        let id = current["id"].as_str().unwrap_or_default();
        group_from(body, id, &data.scim, Some(id))
    }

    fn patch(mut group: Value, operations: &[Value], data: &mut Data) -> Result<Value, ScimError> {
        for operation in operations {
            apply(&mut group, operation, &data.scim)?;
        }
        Ok(group)
    }
}

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: scim_list_groups, scim_create_group
        .route(
            "/scim/v2/Groups",
            get(list::<Groups>).post(create::<Groups>),
        )
        // action: scim_delete_group, scim_retrieve_group, scim_patch_group, scim_replace_group
        .route(
            "/scim/v2/Groups/{id}",
            get(retrieve::<Groups>)
                .put(replace::<Groups>)
                .patch(patch::<Groups>)
                .delete(remove::<Groups>),
        )
}

/// A stored group from a create/replace body (the spec's GroupCreateRequestBody); `replacing`
/// is the id of the group a PUT replaces (its own name is no conflict).
fn group_from(
    body: &Map<String, Value>,
    id: &str,
    store: &ScimStore,
    replacing: Option<&str>,
) -> Result<Value, ScimError> {
    super::require_schema(body, GROUP)?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| invalid("displayName", "a non-empty string is required"))?;
    let taken = store.groups.iter().any(|g| {
        Some(g["id"].as_str().unwrap_or_default()) != replacing
            && g["displayName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    if taken {
        return Err(ScimError::conflict());
    }
    let mut group = json!({
        "schemas": [GROUP], "id": id, "displayName": name,
        "members": members(body.get("members").unwrap_or(&json!([])), store, "members")?,
        "meta": { "resourceType": "Group" },
    });
    match body.get("externalId") {
        None | Some(Value::Null) => {}
        Some(Value::String(e)) => group["externalId"] = json!(e),
        Some(other) => return Err(invalid("externalId", other)),
    }
    Ok(group)
}

/// `[{value: userId}]` → `[{type: "User", value}]`, every id a user of the company.
fn members(value: &Value, store: &ScimStore, at: &str) -> Result<Vec<Value>, ScimError> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid(at, "an array of {value: userId}"))?;
    let mut out: Vec<Value> = Vec::new();
    for member in list {
        let id = member["value"]
            .as_str()
            .ok_or_else(|| invalid(at, member))?;
        if !store.users.iter().any(|u| u["id"] == id) {
            return Err(invalid(at, format!("no user `{id}` in the company")));
        }
        if !out.iter().any(|m| m["value"] == id) {
            out.push(json!({ "type": "User", "value": id }));
        }
    }
    Ok(out)
}

/// One membership operation: `add` with `value: [{value}]`; `remove` with `value: [{value}]`,
/// or a `members[value eq "id"]` path (how Okta and Entra ID remove one member), or neither
/// (every member).
fn apply(group: &mut Value, operation: &Value, store: &ScimStore) -> Result<(), ScimError> {
    let op = operation["op"].as_str().map(str::to_ascii_lowercase);
    let path = operation["path"]
        .as_str()
        .ok_or_else(|| ScimError::bad("invalidPath", "each operation needs a `path`"))?;
    let one = path
        .strip_prefix("members[value eq \"")
        .and_then(|rest| rest.strip_suffix("\"]"));
    if one.is_none() && !path.eq_ignore_ascii_case("members") {
        return Err(ScimError::bad(
            "invalidPath",
            format!("`{path}`: only `members` can be patched on a group"),
        ));
    }
    let current = group["members"].as_array().cloned().unwrap_or_default();
    let updated = match (op.as_deref(), one) {
        (Some("add"), None) => {
            let mut all = current;
            for m in members(&operation["value"], store, "value")? {
                if !all.iter().any(|c| c["value"] == m["value"]) {
                    all.push(m);
                }
            }
            all
        }
        (Some("remove"), Some(id)) => current.into_iter().filter(|m| m["value"] != id).collect(),
        (Some("remove"), None) if operation["value"].is_null() => Vec::new(),
        (Some("remove"), None) => {
            let gone = operation["value"]
                .as_array()
                .ok_or_else(|| invalid("value", "an array of {value: userId}"))?;
            current
                .into_iter()
                .filter(|m| !gone.iter().any(|g| g["value"] == m["value"]))
                .collect()
        }
        _ => {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!(
                    "`op` must be add or remove for `{path}`, got {}",
                    operation["op"]
                ),
            ));
        }
    };
    group["members"] = Value::Array(updated);
    Ok(())
}
