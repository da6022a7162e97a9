//! `/public/api/v1/entities/**`: counterparty master data. Relationship types (a bare array),
//! and entities by id or `ENTITY-n`: list (paged, filtered, sorted), create (201), update,
//! delete (204). Requests say `ACTIVE`/`INACTIVE`; responses say `active`/`inactive`, as
//! Ironclad's own examples do.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::api::body::{
    flag, json_object, non_empty, optional_object, optional_string, reject_unknown,
    required_string, string_list,
};
use crate::api::catalog::{ListQuery, one_type_key};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::entities::{Entities, Entity};
use crate::store::properties::check_properties;
use crate::{store::ids, store::time};

pub const READ_RELATIONSHIP_TYPES: &str = "public.entities.readRelationshipTypes";
pub const READ_ENTITIES: &str = "public.entities.readEntities";
pub const CREATE_ENTITIES: &str = "public.entities.createEntities";
pub const UPDATE_ENTITIES: &str = "public.entities.updateEntities";
pub const DELETE_ENTITIES: &str = "public.entities.deleteEntities";

const STATUSES: [&str; 2] = ["ACTIVE", "INACTIVE"];

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: get_entity_relationship_types
        .route(
            "/public/api/v1/entities/relationship-types",
            get(relationship_types),
        )
        // action: list_entities, create_entity
        .route("/public/api/v1/entities", get(list).post(create))
        // action: delete_entity, retrieve_entity, update_entity
        .route(
            "/public/api/v1/entities/{id}",
            get(retrieve).patch(update).delete(remove),
        )
}

impl Entities {
    fn render(&self, e: &Entity) -> Value {
        let named: Vec<&str> = e
            .relationship_type
            .iter()
            .filter_map(|key| self.types.iter().find(|r| &r.name == key))
            .map(|r| r.id.as_str())
            .collect();
        let mut v = json!({
            "id": e.id,
            "ironcladId": e.ironclad_id,
            "name": e.name,
            "status": e.status,
            "lastUpdated": e.last_updated,
            "properties": e.properties,
            "namedTypeIds": named,
        });
        if let Some(p) = &e.parent_id {
            v["parentId"] = json!(p);
        }
        v
    }

    /// `relationshipTypeKey`: exactly one known key.
    fn relationship_type(&self, value: &Value) -> Result<String, ApiError> {
        one_type_key(value, "relationshipTypeKey", "relationship type", |key| {
            self.types.iter().any(|r| r.name == key)
        })
    }

    /// `{recordId}` naming another entity (id or `ENTITY-n`) as parent of `self_id`.
    fn parent(&self, value: &Value, param: &str, self_id: &str) -> Result<String, ApiError> {
        let here = format!("{param}.recordId");
        let key = value
            .get("recordId")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing_param("missing required parameter", &here))?;
        let parent = self.find(key).map(|i| &self.list[i]).ok_or_else(|| {
            ApiError::invalid_param(
                format!("couldn't find an entity matching the id {key}"),
                &here,
            )
        })?;
        // No cycles: walk up from the proposed parent.
        let mut current = Some(parent.id.clone());
        let mut steps = 0;
        while let Some(id) = current {
            if id == self_id || steps > self.list.len() {
                return Err(ApiError::invalid_param(
                    "an entity cannot be its own parent or the parent of its ancestors",
                    &here,
                ));
            }
            steps += 1;
            current = self
                .list
                .iter()
                .find(|e| e.id == id)
                .and_then(|e| e.parent_id.clone());
        }
        Ok(parent.id.clone())
    }
}

fn status(value: &Value) -> Result<String, ApiError> {
    match value.as_str() {
        Some(s) if STATUSES.contains(&s) => Ok(s.to_ascii_lowercase()),
        _ => Err(ApiError::invalid_param(
            format!(
                "invalid status {value}; value must be one of [{}]",
                STATUSES.join(", ")
            ),
            "status",
        )),
    }
}

fn entity_not_found(key: &str) -> ApiError {
    ApiError::not_found(
        format!("couldn't find an entity matching the id {key}"),
        Some("id"),
    )
}

async fn relationship_types(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_RELATIONSHIP_TYPES)?;
    let types = emu.data().repository.entities.types.clone();
    Ok(Json(serde_json::to_value(types).expect("types serialise")))
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_ENTITIES)?;
    let query = ListQuery::parse(&params)?;
    let data = emu.data();
    let entities = &data.repository.entities;
    Ok(query.answer(&entities.list, |e| entities.render(e), lookup))
}

/// A `[property]` of an entity for filters: its properties' values, then top-level fields
/// (`relationshipType` is the key).
fn lookup(e: &Entity, rendered: &Value, property: &str) -> Option<Value> {
    if let Some(p) = e.properties.get(property) {
        return Some(p["value"].clone());
    }
    match property {
        "relationshipType" | "relationshipTypeKey" => e.relationship_type.clone().map(Value::from),
        other => rendered.get(other).cloned(),
    }
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_ENTITIES)?;
    let data = emu.data();
    let entities = &data.repository.entities;
    let index = entities.find(&key).ok_or_else(|| entity_not_found(&key))?;
    Ok(Json(entities.render(&entities.list[index])))
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(CREATE_ENTITIES)?;
    let body = json_object(&body)?;
    // `removeParent` appears in the spec's own create example; it is accepted and ignored.
    reject_unknown(
        &body,
        &[
            "name",
            "relationshipTypeKey",
            "status",
            "properties",
            "parent",
            "removeParent",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let entities = &mut data.repository.entities;
    let id = ids::uuid();
    let name = non_empty(required_string(&body, "name")?, "name")?;
    let relationship_type = match body.get("relationshipTypeKey") {
        None | Some(Value::Null) => None,
        Some(v) => Some(entities.relationship_type(v)?),
    };
    let status = match body.get("status") {
        None | Some(Value::Null) => "active".to_owned(),
        Some(v) => status(v)?,
    };
    let properties = match optional_object(&body, "properties")? {
        None => Map::new(),
        Some(p) => check_properties(&entities.properties, p, "properties")?,
    };
    let parent_id = match body.get("parent") {
        None | Some(Value::Null) => None,
        Some(v) => Some(entities.parent(v, "parent", &id)?),
    };
    let entity = Entity {
        id,
        ironclad_id: entities.allocate_ironclad_id(),
        name,
        status,
        last_updated: time::format_ms(now),
        relationship_type,
        parent_id,
        properties,
    };
    let rendered = entities.render(&entity);
    entities.list.push(entity);
    Ok((StatusCode::CREATED, Json(rendered)).into_response())
}

async fn update(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_ENTITIES)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &[
            "name",
            "relationshipTypeKey",
            "status",
            "addProperties",
            "removeProperties",
            "setParent",
            "removeParent",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let entities = &mut data.repository.entities;
    let index = entities.find(&key).ok_or_else(|| entity_not_found(&key))?;
    let mut next = entities.list[index].clone();
    if let Some(name) = optional_string(&body, "name")? {
        next.name = non_empty(name, "name")?;
    }
    if let Some(v) = body.get("relationshipTypeKey").filter(|v| !v.is_null()) {
        next.relationship_type = Some(entities.relationship_type(v)?);
    }
    if let Some(v) = body.get("status").filter(|v| !v.is_null()) {
        next.status = status(v)?;
    }
    if let Some(add) = optional_object(&body, "addProperties")? {
        let checked = check_properties(&entities.properties, add, "addProperties")?;
        next.properties.extend(checked);
    }
    for p in string_list(&body, "removeProperties")?.unwrap_or_default() {
        next.properties.remove(&p);
    }
    let remove_parent = flag(&body, "removeParent")?;
    match body.get("setParent") {
        None | Some(Value::Null) => {}
        Some(_) if remove_parent => {
            return Err(ApiError::invalid_param(
                "setParent and removeParent cannot be combined",
                "removeParent",
            ));
        }
        Some(v) => next.parent_id = Some(entities.parent(v, "setParent", &next.id)?),
    }
    if remove_parent {
        next.parent_id = None;
    }
    next.last_updated = time::format_ms(now);
    let rendered = entities.render(&next);
    entities.list[index] = next;
    Ok(Json(rendered))
}

async fn remove(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    actor.require_scope(DELETE_ENTITIES)?;
    let mut data = emu.data();
    let entities = &mut data.repository.entities;
    let index = entities.find(&key).ok_or_else(|| entity_not_found(&key))?;
    let gone = entities.list.remove(index);
    for e in &mut entities.list {
        if e.parent_id.as_deref() == Some(gone.id.as_str()) {
            e.parent_id = None;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
