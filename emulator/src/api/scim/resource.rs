//! The six SCIM handlers every resource type has (list, create, retrieve, replace, patch,
//! delete), written once: Users and Groups differ only in their scopes, what they filter on and
//! how a body becomes a stored resource ([`Resource`]). Each type's `routes()` stays in its own
//! module, so the routes keep their `// action:` tags.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::{ScimActor, ScimError, find};
use crate::emulator::{Data, Emulator};
use crate::infra::query::Params;
use crate::store::scim::ScimStore;

/// What one SCIM resource type is: its endpoint and scopes, and how bodies become resources.
pub trait Resource: 'static {
    /// The endpoint (`/scim/v2/{PLURAL}`) and the plural `meta.location` names.
    const PLURAL: &'static str;
    const READ: &'static str;
    const CREATE: &'static str;
    const UPDATE: &'static str;
    const DELETE: &'static str;
    /// Attributes a filter may name (lower case).
    const FILTERABLE: &'static [&'static str];

    /// Every stored resource of the type.
    fn all(store: &ScimStore) -> &Vec<Value>;
    fn all_mut(store: &mut ScimStore) -> &mut Vec<Value>;
    /// A new resource from a create body.
    fn create(body: &Map<String, Value>, data: &mut Data) -> Result<Value, ScimError>;
    /// The resource a PUT body makes of `current`.
    fn replace(
        body: &Map<String, Value>,
        current: &Value,
        data: &mut Data,
    ) -> Result<Value, ScimError>;
    /// `current` after the PatchOp `operations`.
    fn patch(current: Value, operations: &[Value], data: &mut Data) -> Result<Value, ScimError>;
    /// Keep `resource` in place of its previous version.
    fn put(store: &mut ScimStore, resource: Value) {
        let all = Self::all_mut(store);
        if let Some(slot) = all.iter_mut().find(|r| r["id"] == resource["id"]) {
            *slot = resource;
        }
    }
    /// Remove the resource `id` (and whatever refers to it).
    fn delete(store: &mut ScimStore, id: &str) {
        Self::all_mut(store).retain(|r| r["id"] != id);
    }
}

pub async fn list<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    params: Params,
) -> Result<Json<Value>, ScimError> {
    actor.require(R::READ)?;
    let all = R::all(&emu.data().scim).clone();
    super::listing(&emu, &params, &all, R::FILTERABLE, R::PLURAL)
}

pub async fn create<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    params: Params,
    body: Bytes,
) -> Result<Response, ScimError> {
    actor.require(R::CREATE)?;
    let body = super::json_object(&body)?;
    let mut data = emu.data();
    let resource = R::create(&body, &mut data)?;
    R::all_mut(&mut data.scim).push(resource.clone());
    drop(data);
    Ok(super::created(&emu, &resource, R::PLURAL, &params))
}

pub async fn retrieve<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ScimError> {
    actor.require(R::READ)?;
    let resource = find(R::all(&emu.data().scim), &id)?.clone();
    Ok(super::served(&emu, &resource, R::PLURAL, &params))
}

pub async fn replace<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ScimError> {
    actor.require(R::UPDATE)?;
    let body = super::json_object(&body)?;
    let mut data = emu.data();
    let current = find(R::all(&data.scim), &id)?.clone();
    let resource = R::replace(&body, &current, &mut data)?;
    R::put(&mut data.scim, resource.clone());
    drop(data);
    Ok(super::served(&emu, &resource, R::PLURAL, &params))
}

pub async fn patch<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ScimError> {
    actor.require(R::UPDATE)?;
    let operations = super::patch_operations(&body)?;
    let mut data = emu.data();
    let current = find(R::all(&data.scim), &id)?.clone();
    let resource = R::patch(current, &operations, &mut data)?;
    R::put(&mut data.scim, resource.clone());
    drop(data);
    Ok(super::served(&emu, &resource, R::PLURAL, &params))
}

pub async fn remove<R: Resource>(
    State(emu): State<Emulator>,
    Extension(actor): Extension<ScimActor>,
    Path(id): Path<String>,
) -> Result<StatusCode, ScimError> {
    actor.require(R::DELETE)?;
    let mut data = emu.data();
    find(R::all(&data.scim), &id)?;
    R::delete(&mut data.scim, &id);
    Ok(StatusCode::NO_CONTENT)
}

/// `Invalid value at {at}: {why}`, SCIM's `invalidValue`.
pub fn invalid(at: &str, why: impl std::fmt::Display) -> ScimError {
    ScimError::bad("invalidValue", format!("Invalid value at {at}: {why}"))
}
