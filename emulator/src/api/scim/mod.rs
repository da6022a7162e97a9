//! Ironclad's SCIM 2.0 API under `/scim/v2` (the official `ironclad-scim-api-openapi.yml`):
//! Users and Groups kept statefully, Schemas served from a table.
//!
//! - Auth: the same bearer tokens as the Public API; each operation requires the scope the
//!   spec names (`scim.users.readUsers`, …) and answers 403 naming it, as the Public API
//!   emulation does. `x-as-user-email` / `x-as-user-id` are optional (the SCIM spec and digest
//!   mark them so); when sent they must name a user of the company.
//! - Errors are SCIM's (`schemas: [urn:ietf:params:scim:api:messages:2.0:Error]`, `status` as a
//!   string, `scimType`, `detail`); 403 and 409 carry only `schemas` and `status`, as the
//!   spec's examples show — the emulator adds a `detail` to 403 naming the scope.
//! - Listings page per RFC 7644 §3.4.2.4 (`startIndex` one-based, `count` default 25, at most
//!   1000) and take `filter` (module `filter`) and `excludedAttributes`.
//! - Users start as the seed's users; one group (`Legal Ops Group`) holds two of them.
//!   Deleting a user (or PATCHing `active` to false) removes it and its group memberships.

mod filter;
mod groups;
mod resource;
mod schemas;
mod users;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::infra::auth::{AS_USER_EMAIL, AS_USER_ID};
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::tokens::Grant;

pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Test control (not Ironclad): `POST /_emulator/scim-page-limit` `{"max": N}` caps SCIM pages
/// at N resources (`{"max": null}` lifts it), so a client's paging can be seen across pages
/// without creating a thousand users.
pub fn admin_routes() -> Router<Emulator> {
    Router::new().route(
        "/_emulator/scim-page-limit",
        axum::routing::post(page_limit),
    )
}

async fn page_limit(State(emu): State<Emulator>, Json(body): Json<Value>) -> Json<Value> {
    let max = body["max"].as_u64().map(|n| n.max(1) as usize);
    emu.data().scim.page_limit = max;
    Json(json!({ "max": max }))
}

pub fn routes(emu: &Emulator) -> Router<Emulator> {
    Router::new()
        .merge(users::routes())
        .merge(groups::routes())
        // action: scim_list_schemas
        .route("/scim/v2/Schemas", get(list_schemas))
        // action: scim_retrieve_schema
        .route("/scim/v2/Schemas/{id}", get(retrieve_schema))
        .route("/scim/v2", axum::routing::any(unknown))
        .route("/scim/v2/{*rest}", axum::routing::any(unknown))
        .method_not_allowed_fallback(unknown)
        .route_layer(from_fn_with_state(emu.clone(), authenticate))
}

/// A SCIM error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: Option<String>,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: Option<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail,
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some(scim_type),
            Some(detail.into()),
        )
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            Some(format!("Resource {id} not found")),
        )
    }

    /// Ironclad's 409 carries no detail.
    pub fn conflict() -> Self {
        Self::new(StatusCode::CONFLICT, None, None)
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status, None, Some(e.message))
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body =
            json!({ "schemas": [ERROR_URN], "status": self.status.as_u16().to_string() });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        if let Some(d) = self.detail {
            body["detail"] = json!(d);
        }
        (self.status, Json(body)).into_response()
    }
}

/// What a SCIM request may do: its token's scopes.
#[derive(Debug, Clone)]
pub struct ScimActor {
    pub scopes: Vec<String>,
}

impl ScimActor {
    pub fn require(&self, scope: &str) -> Result<(), ScimError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ScimError::new(
                StatusCode::FORBIDDEN,
                None,
                Some(format!("token is missing required scope {scope}")),
            ))
        }
    }
}

/// 401 without a live token; 400 when an acting-user header names no user of the company.
async fn authenticate(State(emu): State<Emulator>, mut req: Request, next: Next) -> Response {
    match actor(&emu, req.headers()) {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

fn actor(emu: &Emulator, headers: &HeaderMap) -> Result<ScimActor, ScimError> {
    let access = crate::infra::auth::live_token(emu, headers)?;
    if access.grant == Grant::ClientCredentials {
        let data = emu.data();
        for (name, attribute) in [(AS_USER_EMAIL, "userName"), (AS_USER_ID, "id")] {
            let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
                continue;
            };
            let known = data.scim.users.iter().any(|u| {
                u[attribute]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(value.trim()))
            });
            if !known {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("{name}: no user `{value}` exists in the company"),
                ));
            }
        }
    }
    Ok(ScimActor {
        scopes: access.scopes,
    })
}

async fn unknown() -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, Some("not found".into()))
}

/// The body of a write: a JSON object, or 400 `invalidSyntax`.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScimError::bad(
            "invalidSyntax",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ScimError::bad(
            "invalidSyntax",
            format!("the request body is not JSON: {e}"),
        )),
    }
}

/// The `Operations` of a PatchOp body (RFC 7644 §3.5.2), or 400.
pub fn patch_operations(body: &[u8]) -> Result<Vec<Value>, ScimError> {
    let body = json_object(body)?;
    require_schema(&body, PATCH_URN)?;
    body.get("Operations")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .cloned()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "`Operations` must be a non-empty array"))
}

/// The resource with `id`, or 404.
pub fn find<'a>(resources: &'a [Value], id: &str) -> Result<&'a Value, ScimError> {
    resources
        .iter()
        .find(|r| r["id"] == id)
        .ok_or_else(|| ScimError::not_found(id))
}

/// 201 Created with `Location`, the resource as served.
pub fn created(emu: &Emulator, resource: &Value, kind: &str, params: &Params) -> Response {
    let out = render(emu, resource, kind, &excluded(params));
    let location = out["meta"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        Json(out),
    )
        .into_response()
}

/// `schemas` must list `urn` (RFC 7644 §3.3, §3.5.2).
pub fn require_schema(body: &Map<String, Value>, urn: &str) -> Result<(), ScimError> {
    let listed = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s == urn));
    if listed {
        Ok(())
    } else {
        Err(ScimError::bad(
            "invalidSyntax",
            format!("`schemas` must contain {urn}"),
        ))
    }
}

/// A resource as served: `meta.location` absolute, `excludedAttributes` removed.
pub fn render(emu: &Emulator, resource: &Value, kind: &str, excluded: &[String]) -> Value {
    let mut out = resource.clone();
    let id = out["id"].as_str().unwrap_or_default().to_string();
    out["meta"]["location"] = json!(format!("{}/scim/v2/{kind}/{id}", emu.base_url()));
    if let Some(map) = out.as_object_mut() {
        // `id` and `schemas` are always returned (RFC 7643 §2.4 `returned: always`).
        map.retain(|k, _| {
            k == "id" || k == "schemas" || !excluded.iter().any(|x| x.eq_ignore_ascii_case(k))
        });
    }
    out
}

/// The JSON answer for one resource (`render` with the request's `excludedAttributes`).
pub fn served(emu: &Emulator, resource: &Value, kind: &str, params: &Params) -> Json<Value> {
    Json(render(emu, resource, kind, &excluded(params)))
}

/// A listing: `all` filtered by the request's `filter` over `attributes`, then paged.
pub fn listing(
    emu: &Emulator,
    params: &Params,
    all: &[Value],
    attributes: &[&str],
    kind: &str,
) -> Result<Json<Value>, ScimError> {
    let matching = filtered(params, all, attributes)?;
    Ok(Json(list_response(emu, params, matching, kind)?))
}

/// `excludedAttributes` as a list.
pub fn excluded(params: &Params) -> Vec<String> {
    params
        .get("excludedAttributes")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A ListResponse page of `matching` (already filtered) resources.
pub fn list_response(
    emu: &Emulator,
    params: &Params,
    matching: Vec<Value>,
    kind: &str,
) -> Result<Value, ScimError> {
    let int = |name: &str, default: i64| -> Result<i64, ScimError> {
        match params.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ScimError::bad(
                    "invalidValue",
                    format!("`{name}` must be an integer, got `{v}`"),
                )
            }),
        }
    };
    // RFC 7644 §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; Ironclad's maximum is 1000.
    let start = int("startIndex", 1)?.max(1) as usize;
    let count = int("count", 25)?.clamp(0, 1000) as usize;
    let count = emu
        .data()
        .scim
        .page_limit
        .map_or(count, |max| count.min(max));
    let excluded = excluded(params);
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|r| render(emu, r, kind, &excluded))
        .collect();
    Ok(json!({
        "schemas": [LIST_URN], "totalResults": total, "startIndex": start,
        "itemsPerPage": page.len(), "Resources": page,
    }))
}

/// The resources of `all` that match the request's `filter` (400 `invalidFilter` otherwise).
pub fn filtered(
    params: &Params,
    all: &[Value],
    attributes: &[&str],
) -> Result<Vec<Value>, ScimError> {
    let Some(text) = params.get("filter") else {
        return Ok(all.to_vec());
    };
    let filter =
        filter::Filter::parse(text, attributes).map_err(|d| ScimError::bad("invalidFilter", d))?;
    Ok(all.iter().filter(|r| filter.matches(r)).cloned().collect())
}

const READ_SCHEMAS: &str = "scim.schemas.readSchemas";

async fn list_schemas(
    State(emu): State<Emulator>,
    axum::Extension(actor): axum::Extension<ScimActor>,
) -> Result<Json<Value>, ScimError> {
    actor.require(READ_SCHEMAS)?;
    let all = schemas::all(emu.base_url());
    Ok(Json(
        json!({ "schemas": [LIST_URN], "totalResults": all.len(), "Resources": all }),
    ))
}

async fn retrieve_schema(
    State(emu): State<Emulator>,
    axum::Extension(actor): axum::Extension<ScimActor>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ScimError> {
    actor.require(READ_SCHEMAS)?;
    schemas::all(emu.base_url())
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(Json)
        .ok_or_else(|| ScimError::not_found(&id))
}
