//! `/public/api/v1/obligations/**`: obligations on contract records, by id or `OB-n`: list
//! (paged, filtered — `Equals([parentId], '<record id>')` — and sorted), create (201, under an
//! existing record, exactly one obligation type), retrieve and update.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::api::body::{
    json_object, non_empty, optional_object, optional_string, reject_unknown, required_string,
};
use crate::api::catalog::{ListQuery, one_type_key};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::obligations::{Obligation, Obligations};
use crate::store::properties::check_properties;
use crate::store::repository::{Record, Repository};
use crate::{store::ids, store::time};

pub const READ_OBLIGATIONS: &str = "public.obligations.readObligations";
pub const CREATE_OBLIGATIONS: &str = "public.obligations.createObligations";
pub const UPDATE_OBLIGATIONS: &str = "public.obligations.updateObligations";

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: list_obligations, create_obligation
        .route("/public/api/v1/obligations", get(list).post(create))
        // action: retrieve_obligation, update_obligation
        .route(
            "/public/api/v1/obligations/{id}",
            get(retrieve).patch(update),
        )
}

/// `obligationTypeKey`: exactly one known key.
fn obligation_type(obligations: &Obligations, value: &Value) -> Result<String, ApiError> {
    one_type_key(value, "obligationTypeKey", "obligation type", |key| {
        obligations.types.iter().any(|t| t.key == key)
    })
}

/// `ObligationModel`; the parent's readable id and name while the record exists.
fn render(repo: &Repository, o: &Obligation) -> Value {
    let named: Vec<&str> = repo
        .obligations
        .types
        .iter()
        .filter(|t| t.key == o.kind)
        .map(|t| t.id.as_str())
        .collect();
    let mut v = json!({
        "id": o.id,
        "ironcladId": o.ironclad_id,
        "name": o.name,
        "properties": o.properties,
        "lastUpdated": o.last_updated,
        "namedTypeIds": named,
    });
    if let Some(parent) = repo.record(&o.parent_id) {
        v["parentReadableId"] = json!(parent.ironclad_id);
        v["parentRecordName"] = json!(parent.name);
    }
    v
}

/// A `[property]` of an obligation for filters: its properties' values, then `parentId` (the
/// parent record's id), `obligationType` (the key) and the served fields.
fn lookup(o: &Obligation, rendered: &Value, property: &str) -> Option<Value> {
    if let Some(p) = o.properties.get(property) {
        return Some(p["value"].clone());
    }
    match property {
        "parentId" => Some(json!(o.parent_id)),
        "obligationType" | "obligationTypeKey" => Some(json!(o.kind)),
        other => rendered.get(other).cloned(),
    }
}

fn obligation_not_found(key: &str) -> ApiError {
    ApiError::not_found(
        format!("Record id {key} doesn't exist, or no access"),
        Some("id"),
    )
}

fn parent_record<'a>(repo: &'a Repository, key: &str) -> Result<&'a Record, ApiError> {
    repo.record(key).ok_or_else(|| {
        ApiError::invalid_param(
            format!("Record id {key} doesn't exist, or no access"),
            "parentId",
        )
    })
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_OBLIGATIONS)?;
    let query = ListQuery::parse(&params)?;
    let data = emu.data();
    let repo = &data.repository;
    Ok(query.answer(&repo.obligations.list, |o| render(repo, o), lookup))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_OBLIGATIONS)?;
    let data = emu.data();
    let repo = &data.repository;
    let index = repo
        .obligations
        .find(&key)
        .ok_or_else(|| obligation_not_found(&key))?;
    Ok(Json(render(repo, &repo.obligations.list[index])))
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(CREATE_OBLIGATIONS)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &["name", "properties", "obligationTypeKey", "parentId"],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let name = non_empty(required_string(&body, "name")?, "name")?;
    let parent_key = required_string(&body, "parentId")?;
    let kind = match body.get("obligationTypeKey") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "obligationTypeKey",
            ));
        }
        Some(v) => obligation_type(&repo.obligations, v)?,
    };
    let parent_id = parent_record(repo, &parent_key)?.id.clone();
    let properties = match optional_object(&body, "properties")? {
        None => Map::new(),
        Some(p) => check_properties(&repo.obligations.properties, p, "properties")?,
    };
    let obligation = Obligation {
        id: ids::uuid(),
        ironclad_id: repo.obligations.allocate_ironclad_id(),
        name,
        last_updated: time::format_ms(now),
        kind,
        parent_id,
        properties,
    };
    let rendered = render(repo, &obligation);
    repo.obligations.list.push(obligation);
    Ok((StatusCode::CREATED, Json(rendered)).into_response())
}

async fn update(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_OBLIGATIONS)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &[
            "name",
            "addProperties",
            "removeProperties",
            "obligationTypeKey",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let index = repo
        .obligations
        .find(&key)
        .ok_or_else(|| obligation_not_found(&key))?;
    let mut next = repo.obligations.list[index].clone();
    if let Some(name) = optional_string(&body, "name")? {
        next.name = non_empty(name, "name")?;
    }
    if let Some(add) = optional_object(&body, "addProperties")? {
        let checked = check_properties(&repo.obligations.properties, add, "addProperties")?;
        next.properties.extend(checked);
    }
    match body.get("removeProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            for p in items.iter().filter_map(Value::as_str) {
                next.properties.remove(p);
            }
        }
        Some(_) => {
            return Err(ApiError::invalid_param(
                "removeProperties must be a non-empty array of property keys",
                "removeProperties",
            ));
        }
    }
    if let Some(v) = body.get("obligationTypeKey").filter(|v| !v.is_null()) {
        next.kind = obligation_type(&repo.obligations, v)?;
    }
    next.last_updated = time::format_ms(now);
    let rendered = render(repo, &next);
    repo.obligations.list[index] = next;
    Ok(Json(rendered))
}
