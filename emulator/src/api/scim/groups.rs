//! `/scim/v2/Groups`: list (filter, paging), create, retrieve, replace (PUT), patch
//! (membership: `add` / `remove` on `members`, as the spec documents) and delete.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::schemas::GROUP;
use super::{ScimActor, ScimError, find};
use crate::emulator::Emulator;
use crate::infra::query::Params;
use crate::store::ids;
use crate::store::scim::ScimStore;

const READ: &str = "scim.groups.readGroups";
const CREATE: &str = "scim.groups.createGroups";
const UPDATE: &str = "scim.groups.updateGroups";
const DELETE: &str = "scim.groups.deleteGroups";

const FILTERABLE: &[&str] = &[
    "id",
    "displayname",
    "externalid",
    "members",
    "members.value",
];

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: scim_list_groups, scim_create_group
        .route("/scim/v2/Groups", get(list).post(create))
        // action: scim_delete_group, scim_retrieve_group, scim_patch_group, scim_replace_group
        .route(
            "/scim/v2/Groups/{id}",
            get(retrieve).put(replace).patch(patch).delete(remove),
        )
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    params: Params,
) -> Result<Json<Value>, ScimError> {
    actor.require(READ)?;
    let all = emu.data().scim.groups.clone();
    super::listing(&emu, &params, &all, FILTERABLE, "Groups")
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    params: Params,
    body: Bytes,
) -> Result<Response, ScimError> {
    actor.require(CREATE)?;
    let body = super::json_object(&body)?;
    let mut data = emu.data();
    let group = group_from(&body, &ids::uuid(), &data.scim, None)?;
    data.scim.groups.push(group.clone());
    drop(data);
    Ok(super::created(&emu, &group, "Groups", &params))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ScimError> {
    actor.require(READ)?;
    let group = find(&emu.data().scim.groups, &id)?.clone();
    Ok(super::served(&emu, &group, "Groups", &params))
}

async fn replace(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ScimError> {
    actor.require(UPDATE)?;
    let body = super::json_object(&body)?;
    let mut data = emu.data();
    find(&data.scim.groups, &id)?;
    let group = group_from(&body, &id, &data.scim, Some(&id))?;
    put(&mut data.scim, group.clone());
    drop(data);
    Ok(super::served(&emu, &group, "Groups", &params))
}

async fn patch(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ScimError> {
    actor.require(UPDATE)?;
    let operations = super::patch_operations(&body)?;
    let mut data = emu.data();
    let mut group = find(&data.scim.groups, &id)?.clone();
    for operation in &operations {
        apply(&mut group, operation, &data.scim)?;
    }
    put(&mut data.scim, group.clone());
    drop(data);
    Ok(super::served(&emu, &group, "Groups", &params))
}

async fn remove(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
) -> Result<StatusCode, ScimError> {
    actor.require(DELETE)?;
    let mut data = emu.data();
    find(&data.scim.groups, &id)?;
    data.scim.groups.retain(|g| g["id"] != id.as_str());
    Ok(StatusCode::NO_CONTENT)
}

fn put(store: &mut ScimStore, group: Value) {
    if let Some(slot) = store.groups.iter_mut().find(|g| g["id"] == group["id"]) {
        *slot = group;
    }
}

fn invalid(at: &str, why: impl std::fmt::Display) -> ScimError {
    ScimError::bad("invalidValue", format!("Invalid value at {at}: {why}"))
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
