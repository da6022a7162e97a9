//! Launching a workflow from a template: the launch body (`WorkflowLaunchModel` as JSON, or
//! `multipart/form-data` with the body in a `data` part and the files in parts of their own),
//! launch-form validation of attributes against the template's `FieldSchema`s (`attributes`), and the new
//! workflow, whose uploaded files become documents downloadable byte for byte.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use crate::api::files;
use crate::emulator::Data;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::files::Blob;
use crate::store::seed::{
    Creator, Role, RoleAssignee, Seed, StepState, Template, User, Workflow, ironclad_number,
};
use crate::{infra::query, store::ids, store::time};

mod attributes;
#[cfg(test)]
mod tests;

pub use attributes::{validate_attributes, workflow_schema};

/// The multipart part holding the launch body.
const DATA_PART: &str = "data";

/// A parsed launch body (`WorkflowLaunchModel`, `additionalProperties: false`).
#[derive(Debug)]
pub struct LaunchRequest {
    pub template: String,
    pub attributes: Map<String, Value>,
    pub files: Files,
}

/// How a launch's document attributes get their files. The spec: "we only support `url` for
/// json request and `multipartField` for multipart request".
#[derive(Debug, Default)]
pub enum Files {
    /// A JSON launch: documents are `{url}`s.
    #[default]
    Json,
    /// A multipart launch: documents are `{file: <part name>}`s naming these file parts.
    Multipart(BTreeMap<String, Blob>),
}

impl LaunchRequest {
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, ApiError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("multipart/") {
            return Self::parse_form(headers, body);
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::invalid_param(
                "request body must be a JSON object",
                "body",
            ));
        };
        Self::from_body(body, Files::Json)
    }

    /// `data` (the launch body as JSON) and the file parts, by name.
    fn parse_form(headers: &HeaderMap, body: &Bytes) -> Result<Self, ApiError> {
        let form = files::form(headers, body, DATA_PART)?;
        let data = form.get(DATA_PART).ok_or_else(|| {
            ApiError::missing_param(
                format!("missing required form-data part '{DATA_PART}'"),
                DATA_PART,
            )
        })?;
        let data = files::json_part(data)?;
        let mut uploads = BTreeMap::new();
        for part in form.parts.iter().filter(|p| p.name != DATA_PART) {
            let blob = files::uploaded(part, &part.name);
            if uploads.insert(part.name.clone(), blob).is_some() {
                return Err(ApiError::invalid_param(
                    format!("form-data part '{}' is sent more than once", part.name),
                    &part.name,
                ));
            }
        }
        Self::from_body(data, Files::Multipart(uploads))
    }

    fn from_body(mut body: Map<String, Value>, files: Files) -> Result<Self, ApiError> {
        if let Some(unknown) = body
            .keys()
            .find(|k| !["template", "attributes", "creator"].contains(&k.as_str()))
        {
            return Err(ApiError::invalid_param(
                format!("unknown property '{unknown}'; expected template, attributes, creator"),
                unknown,
            ));
        }
        let template = match body.remove("template") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required parameter",
                    "template",
                ));
            }
            Some(Value::String(t)) if !t.is_empty() => t,
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "template must be a template id string",
                    "template",
                ));
            }
        };
        let attributes = match body.remove("attributes") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required parameter",
                    "attributes",
                ));
            }
            Some(Value::Object(a)) => a,
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "attributes must be an object",
                    "attributes",
                ));
            }
        };
        // `creator` is only honoured for legacy tokens; OAuth launches use the acting user. Its
        // shape is still checked.
        if let Some(creator) = body.get("creator") {
            let ok = match creator["type"].as_str() {
                Some("email") => creator["email"].is_string(),
                Some("id") => creator["id"].is_string(),
                _ => false,
            };
            if !ok {
                return Err(ApiError::invalid_param(
                    "creator must be {type: 'email', email} or {type: 'id', id}",
                    "creator",
                ));
            }
        }
        Ok(Self {
            template,
            attributes,
            files,
        })
    }
}

/// Launch a workflow: a new active workflow in Review, created by `user`, with the next
/// `IC-n`, stored and announced (`workflow_launched`). Every launch path goes through here.
pub fn launch(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    attributes: Map<String, Value>,
    files: &Files,
    user: &User,
) -> Workflow {
    let workflow = build(data, seed, template, attributes, files, user);
    data.workflows.push(workflow.clone());
    data.emit([Event::workflow(Kind::Launched, &workflow)]);
    workflow
}

fn build(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    mut attributes: Map<String, Value>,
    files: &Files,
    user: &User,
) -> Workflow {
    let now_ms = data.tick();
    let now = time::format_ms(now_ms);
    let id = loop {
        let id = ids::object_id();
        if !data.workflows.iter().any(|w| w.id == id) {
            break id;
        }
    };
    let number = data
        .workflows
        .iter()
        .filter_map(|w| ironclad_number(&w.ironclad_id).ok())
        .max()
        .unwrap_or(0)
        + 1;
    for (attr, field) in &template.schema {
        let holds_documents = field.kind == "document"
            || field
                .element_type
                .as_ref()
                .is_some_and(|e| e.kind == "document");
        if let (true, Some(value)) = (holds_documents, attributes.get_mut(attr)) {
            let mut add = |upload: &Value| {
                let (filename, blob) = match (upload.get("file").and_then(Value::as_str), files) {
                    (Some(part), Files::Multipart(parts)) => {
                        let blob = parts.get(part).expect("references checked at validation");
                        (blob.filename.clone(), Some(blob))
                    }
                    _ => (
                        url_filename(upload["url"].as_str().unwrap_or_default()),
                        None,
                    ),
                };
                let document = files::new_document(&id, &filename, now_ms, author(seed, user));
                if let Some(blob) = blob {
                    let key = document["key"].as_str().unwrap_or_default().to_owned();
                    data.files.documents.insert((id.clone(), key), blob.clone());
                }
                document
            };
            *value = match std::mem::take(value) {
                Value::Array(items) => Value::Array(items.iter().map(&mut add).collect()),
                single => add(&single),
            };
        }
    }
    let title = match attributes.get("counterpartyName").and_then(Value::as_str) {
        Some(counterparty) => format!("{} with {counterparty}", template.name),
        None => template.name.clone(),
    };
    let assignee = RoleAssignee {
        user_name: user.display_name(),
        user_id: user.id.clone(),
        email: user.email.clone(),
    };
    let mut roles: Vec<Role> = template.launch_roles.clone();
    roles.push(Role {
        id: "owner".into(),
        display_name: "Owner".into(),
        assignees: vec![assignee],
    });
    Workflow {
        ironclad_id: format!("IC-{number}"),
        title,
        template: template.id.clone(),
        step: "Review".into(),
        schema: workflow_schema(template),
        attributes,
        is_cancelled: false,
        is_complete: false,
        status: "active".into(),
        creator: Creator::from_user(user),
        created: now.clone(),
        last_updated: now,
        roles,
        approvals: StepState::InProgress {
            url: format!("/public/api/v1/workflows/{id}/approvals"),
        },
        signatures: StepState::NotStarted,
        is_revertible_to_review: false,
        record_ids: Vec::new(),
        id,
    }
}

/// The file name a `{url}` upload gets: the URL's last path segment, else `document.pdf`.
fn url_filename(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let filename = query::decode(path.rsplit('/').next().unwrap_or_default());
    if filename.is_empty()
        || !path
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .contains('/')
    {
        "document.pdf".to_owned()
    } else {
        filename
    }
}

/// The `ActivityFeedAuthor` of the launching user.
fn author(seed: &Seed, user: &User) -> Value {
    json!({ "type": "internalUser", "companyName": seed.company.name, "displayName": user.display_name(), "email": user.email, "userId": user.id })
}
