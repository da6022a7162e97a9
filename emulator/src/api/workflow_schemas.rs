//! `/public/api/v1/workflow-schemas`: the published templates' launch forms.

use axum::extract::{Extension, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::seed::Template;

pub const READ_SCHEMAS: &str = "public.workflows.readSchemas";

/// `launch` is the only form Ironclad serves.
const FORMS: [&str; 1] = ["launch"];

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: list_workflow_schemas
        .route("/public/api/v1/workflow-schemas", get(list))
        // action: retrieve_workflow_schema
        .route("/public/api/v1/workflow-schemas/{id}", get(retrieve))
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SCHEMAS)?;
    check_form(params.get("form").unwrap_or_default())?;
    Ok(Json(
        json!({ "list": emu.seed().templates.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SCHEMAS)?;
    if let Some(form) = params.get("form") {
        check_form(form)?;
    }
    // Ironclad answers an unknown template with 400 and a NOT_FOUND code (double space sic).
    let template = emu.seed().template(&id).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "NOT_FOUND",
            "workflow  template schema not found",
            Some("templateId"),
        )
    })?;
    Ok(Json(view(template)))
}

fn check_form(form: &str) -> Result<(), ApiError> {
    if FORMS.contains(&form) {
        Ok(())
    } else {
        Err(ApiError::invalid_query_enum("form", form, &FORMS))
    }
}

fn view(t: &Template) -> Value {
    json!({ "id": t.id, "name": t.name, "schema": t.schema, "permissions": t.permissions })
}
