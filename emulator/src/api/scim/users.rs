//! `/scim/v2/Users`: list (filter, paging), create, retrieve, replace (PUT), patch (PatchOp)
//! and delete. `active: false` removes the user, as Ironclad documents.

use axum::Router;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::ScimError;
use super::resource::{Resource, create, invalid, list, patch, remove, replace, retrieve};
use super::schemas::{ENTERPRISE, IRONCLAD, USER};
use crate::emulator::{Data, Emulator};
use crate::store::scim::ScimStore;
use crate::{store::ids, store::time};

/// `/scim/v2/Users`, through the handlers every SCIM resource shares. `active: false` removes
/// the user (`put`).
pub struct Users;

impl Resource for Users {
    const PLURAL: &'static str = "Users";
    const READ: &'static str = "scim.users.readUsers";
    const CREATE: &'static str = "scim.users.createUsers";
    const UPDATE: &'static str = "scim.users.updateUsers";
    const DELETE: &'static str = "scim.users.deleteUsers";
    const FILTERABLE: &'static [&'static str] = &[
        "id",
        "username",
        "name.givenname",
        "name.familyname",
        "title",
        "active",
        "emails",
        "emails.value",
        "meta.created",
        "meta.lastmodified",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
    ];

    fn all(store: &ScimStore) -> &Vec<Value> {
        &store.users
    }

    fn all_mut(store: &mut ScimStore) -> &mut Vec<Value> {
        &mut store.users
    }

    fn create(body: &Map<String, Value>, data: &mut Data) -> Result<Value, ScimError> {
        if body.get("active") == Some(&Value::Bool(false)) {
            return Err(ScimError::bad(
                "invalidValue",
                "Invalid value at active: a new user is active",
            ));
        }
        let now = time::format_ms(data.tick());
        user_from(body, &ids::object_id(), &now, &now, &data.scim.users)
    }

    fn replace(
        body: &Map<String, Value>,
        current: &Value,
        data: &mut Data,
    ) -> Result<Value, ScimError> {
        let id = current["id"].as_str().unwrap_or_default();
        let created = current["meta"]["created"].as_str().unwrap_or_default();
        let now = time::format_ms(data.tick());
        let others = others(&data.scim.users, id);
        let mut user = user_from(body, id, created, &now, &others)?;
        if body.get("active") == Some(&Value::Bool(false)) {
            user["active"] = json!(false);
        }
        Ok(user)
    }

    fn patch(mut user: Value, operations: &[Value], data: &mut Data) -> Result<Value, ScimError> {
        for operation in operations {
            apply(&mut user, operation)?;
        }
        // Re-validate the patched user as a whole, as a PUT would be.
        let id = user["id"].as_str().unwrap_or_default();
        let others = others(&data.scim.users, id);
        let mut as_body = user.as_object().cloned().unwrap_or_default();
        as_body.remove("meta");
        let created = user["meta"]["created"].as_str().unwrap_or_default();
        let now = time::format_ms(data.tick());
        let mut patched = user_from(&as_body, id, created, &now, &others)?;
        patched["active"] = user["active"].clone();
        Ok(patched)
    }

    /// Keep `user` in place of its old version, or remove it when it is no longer active.
    fn put(store: &mut ScimStore, user: Value) {
        let id = user["id"].as_str().unwrap_or_default().to_string();
        if user["active"] == json!(false) {
            Self::delete(store, &id);
        } else if let Some(slot) = store.users.iter_mut().find(|u| u["id"] == id.as_str()) {
            *slot = user;
        }
    }

    /// The user leaves the company and every group.
    fn delete(store: &mut ScimStore, id: &str) {
        store.users.retain(|u| u["id"] != id);
        for group in &mut store.groups {
            if let Some(members) = group["members"].as_array_mut() {
                members.retain(|m| m["value"] != id);
            }
        }
    }
}

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: scim_list_users, scim_create_user
        .route("/scim/v2/Users", get(list::<Users>).post(create::<Users>))
        // action: scim_delete_user, scim_retrieve_user, scim_patch_user, scim_replace_user
        .route(
            "/scim/v2/Users/{id}",
            get(retrieve::<Users>)
                .put(replace::<Users>)
                .patch(patch::<Users>)
                .delete(remove::<Users>),
        )
}

/// Every user but `id` (what a changed user must not collide with).
fn others(users: &[Value], id: &str) -> Vec<Value> {
    users.iter().filter(|u| u["id"] != id).cloned().collect()
}

/// A stored user from a create/replace body (the spec's UserCreateRequestBody).
fn user_from(
    body: &Map<String, Value>,
    id: &str,
    created: &str,
    modified: &str,
    others: &[Value],
) -> Result<Value, ScimError> {
    super::require_schema(body, USER)?;
    let user_name = body
        .get("userName")
        .and_then(Value::as_str)
        .filter(|u| u.contains('@') && !u.contains(char::is_whitespace))
        .ok_or_else(|| invalid("userName", "an email address is required"))?;
    if others.iter().any(|u| {
        u["userName"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(user_name))
    }) {
        return Err(ScimError::conflict());
    }
    let name = body.get("name").and_then(Value::as_object).ok_or_else(|| {
        invalid(
            "name",
            "an object with givenName and familyName is required",
        )
    })?;
    let mut clean_name = Map::new();
    for part in ["givenName", "familyName"] {
        match name.get(part) {
            None => {}
            Some(Value::String(s)) => {
                clean_name.insert(part.into(), json!(s));
            }
            Some(other) => return Err(invalid(&format!("name.{part}"), other)),
        }
    }
    if let Some(password) = body.get("password") {
        check_password(password)?;
    }
    let mut user = json!({
        "schemas": [USER, ENTERPRISE, IRONCLAD],
        "id": id, "userName": user_name, "name": clean_name,
        "emails": [{ "value": user_name, "type": "work", "primary": true }],
        "active": true,
    });
    match body.get("title") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) => user["title"] = json!(t),
        Some(other) => return Err(invalid("title", other)),
    }
    let department = body.get(ENTERPRISE).and_then(|e| e.get("department"));
    match department {
        None | Some(Value::Null) => user[ENTERPRISE] = json!({}),
        Some(Value::String(d)) => user[ENTERPRISE] = json!({ "department": d }),
        Some(other) => return Err(invalid("department", other)),
    }
    let ironclad = body.get(IRONCLAD).cloned().unwrap_or(json!({}));
    let mut ext = json!({ "provider": "local", "allowProviderConversion": false });
    match &ironclad["departmentHead"] {
        Value::Null => {}
        Value::String(head) => {
            if !others.iter().any(|u| {
                u["userName"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(head))
            }) {
                return Err(invalid(
                    "departmentHead",
                    format!("no user `{head}` in the company"),
                ));
            }
            ext["departmentHead"] = json!(head);
        }
        other => return Err(invalid("departmentHead", other)),
    }
    match &ironclad["allowProviderConversion"] {
        Value::Null => {}
        Value::Bool(b) => ext["allowProviderConversion"] = json!(b),
        other => return Err(invalid("allowProviderConversion", other)),
    }
    user[IRONCLAD] = ext;
    user["meta"] = json!({ "resourceType": "User", "created": created, "lastModified": modified });
    Ok(user)
}

/// Ironclad's password rules: 16+ characters with a lower-case letter, an upper-case letter,
/// a digit and a special character.
fn check_password(password: &Value) -> Result<(), ScimError> {
    let p = password
        .as_str()
        .ok_or_else(|| invalid("password", "a string is required"))?;
    let ok = p.chars().count() >= 16
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| c.is_ascii_punctuation());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "password",
            "16+ characters with a lower-case and an upper-case letter, a number and a special character",
        ))
    }
}

/// Apply one PatchOp operation (`op` add | replace | remove, `path` required as the spec says,
/// `value` a string: identity providers send booleans as "True"/"False").
fn apply(user: &mut Value, operation: &Value) -> Result<(), ScimError> {
    let op = operation["op"].as_str().map(str::to_ascii_lowercase);
    let path = operation["path"]
        .as_str()
        .ok_or_else(|| ScimError::bad("invalidPath", "each operation needs a `path`"))?;
    let value = &operation["value"];
    let target = target(path)?;
    match op.as_deref() {
        Some("add" | "replace") => {
            if value.is_null() {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("`{path}` needs a value"),
                ));
            }
            let value = match (target.boolean, value) {
                (true, Value::Bool(b)) => json!(b),
                (true, Value::String(s)) if s.eq_ignore_ascii_case("true") => json!(true),
                (true, Value::String(s)) if s.eq_ignore_ascii_case("false") => json!(false),
                (true, other) => return Err(invalid(path, other)),
                (false, Value::String(s)) => json!(s),
                (false, other) => return Err(invalid(path, other)),
            };
            set(user, &target.pointer, Some(value));
        }
        Some("remove") => {
            if target.required {
                return Err(ScimError::bad(
                    "mutability",
                    format!("`{path}` cannot be removed"),
                ));
            }
            set(user, &target.pointer, None);
        }
        _ => {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!(
                    "`op` must be add, replace or remove, got {}",
                    operation["op"]
                ),
            ));
        }
    }
    Ok(())
}

struct Target {
    /// Keys from the user's root.
    pointer: Vec<&'static str>,
    boolean: bool,
    required: bool,
}

fn target(path: &str) -> Result<Target, ScimError> {
    let t = |pointer: Vec<&'static str>, boolean, required| Target {
        pointer,
        boolean,
        required,
    };
    let lower = path.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "username" => t(vec!["userName"], false, true),
        "name.givenname" => t(vec!["name", "givenName"], false, false),
        "name.familyname" => t(vec!["name", "familyName"], false, false),
        "title" => t(vec!["title"], false, false),
        "active" => t(vec!["active"], true, true),
        p if p == format!("{}:department", ENTERPRISE.to_ascii_lowercase()) => {
            t(vec![ENTERPRISE, "department"], false, false)
        }
        p if p == format!("{}:departmenthead", IRONCLAD.to_ascii_lowercase()) => {
            t(vec![IRONCLAD, "departmentHead"], false, false)
        }
        p if p == format!("{}:allowproviderconversion", IRONCLAD.to_ascii_lowercase()) => {
            t(vec![IRONCLAD, "allowProviderConversion"], true, true)
        }
        _ => {
            return Err(ScimError::bad(
                "invalidPath",
                format!("`{path}` is not a patchable User attribute"),
            ));
        }
    })
}

fn set(user: &mut Value, pointer: &[&str], value: Option<Value>) {
    let (last, parents) = pointer.split_last().expect("paths are never empty");
    let mut node = user;
    for key in parents {
        if !node[*key].is_object() {
            node[*key] = json!({});
        }
        node = &mut node[*key];
    }
    let map = node.as_object_mut().expect("made an object above");
    match value {
        Some(v) => {
            map.insert(last.to_string(), v);
        }
        None => {
            map.remove(*last);
        }
    }
}
