//! CLM Public's pick-list providers. They read the Public API; `workflow_steps` and
//! `webhook_event_types` need no request but only describe CLM Public actions, so they are
//! this API type's too.

use serde_json::Value;

use super::api;
use super::paging::COUNTED;
use crate::error::ConnectorError;
use crate::http::encode_path_segment;
use crate::options::providers::{NO_PARAMS, text};
use crate::options::{Choice, Page, Provider, Request};
use crate::pages::{self, PAGE_SIZE};

const READ_SCHEMAS: &[&str] = &["public.workflows.readSchemas"];
const READ_WORKFLOWS: &[&str] = &["public.workflows.readWorkflows"];
const READ_RECORD_SCHEMAS: &[&str] = &["public.records.readSchemas"];

const TEMPLATE_PARAM: &str = r#"{"type":"object","additionalProperties":false,"required":["template"],"properties":{"template":{"type":"string","minLength":1,"description":"A workflow template id (provider `templates`)."}}}"#;

/// Ironclad's workflow statuses; `GET /workflows` lists only `active` ones unless asked.
const ALL_STATUSES: &str = "active,paused,completed,cancelled";

pub static PROVIDERS: &[Provider] = &[
    Provider {
        key: "templates",
        description: "Published workflow templates (launch forms).",
        params: NO_PARAMS,
        scopes: READ_SCHEMAS,
        list: templates,
    },
    Provider {
        key: "template_fields",
        description: "A template's launch-form fields; a table's columns are nested under it (`parent`).",
        params: TEMPLATE_PARAM,
        scopes: READ_SCHEMAS,
        list: template_fields,
    },
    Provider {
        key: "workflow_roles",
        description: "The roles of a template's workflows (the public API lists roles on workflows, not on templates).",
        params: TEMPLATE_PARAM,
        scopes: READ_WORKFLOWS,
        list: workflow_roles,
    },
    Provider {
        key: "workflow_steps",
        description: "The steps a workflow moves through (the same for every template).",
        params: NO_PARAMS,
        scopes: &[],
        list: workflow_steps,
    },
    Provider {
        key: "workflows",
        description: "Workflows, one upstream page per page; optionally of one template and statuses.",
        params: r#"{"type":"object","additionalProperties":false,"properties":{"template":{"type":"string","minLength":1},"status":{"type":"string","description":"Comma-separated statuses (default: all)."}}}"#,
        scopes: READ_WORKFLOWS,
        list: workflows,
    },
    Provider {
        key: "workflow_participants",
        description: "The users taking part in a workflow.",
        params: r#"{"type":"object","additionalProperties":false,"required":["workflow"],"properties":{"workflow":{"type":"string","minLength":1}}}"#,
        scopes: &["public.workflows.readParticipants"],
        list: workflow_participants,
    },
    Provider {
        key: "role_assignees",
        description: "The users who may be assigned a role on a workflow.",
        params: r#"{"type":"object","additionalProperties":false,"required":["workflow","role"],"properties":{"workflow":{"type":"string","minLength":1},"role":{"type":"string","minLength":1}}}"#,
        scopes: &["public.workflows.readRoleAssignees"],
        list: role_assignees,
    },
    Provider {
        key: "record_types",
        description: "Record types of the repository.",
        params: NO_PARAMS,
        scopes: READ_RECORD_SCHEMAS,
        list: record_types,
    },
    Provider {
        key: "record_properties",
        description: "Record properties (Ironclad's records schema does not tie them to a type).",
        params: NO_PARAMS,
        scopes: READ_RECORD_SCHEMAS,
        list: record_properties,
    },
    Provider {
        key: "entity_relationship_types",
        description: "Entity relationship types (customer, vendor, ...).",
        params: NO_PARAMS,
        scopes: &["public.entities.readRelationshipTypes"],
        list: relationship_types,
    },
    Provider {
        key: "webhook_event_types",
        description: "The event types a webhook can subscribe to (`*` = all).",
        params: NO_PARAMS,
        scopes: &[],
        list: webhook_event_types,
    },
];

fn launch_form(req: &Request, template: &str) -> Result<Value, ConnectorError> {
    super::dynamic::launch_form(req.client, req.conn, template, "/template")
}

fn templates(req: &Request) -> Result<Page, ConnectorError> {
    let listing = api::get_json(
        req.client,
        req.conn,
        "/workflow-schemas?form=launch",
        READ_SCHEMAS,
    )?;
    let all = listing["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let fields = t["schema"].as_object().map_or(0, |s| s.len());
            Choice::new(text(t, "id"), text(t, "name"))
                .describe(format!("{fields} launch-form fields"))
        })
        .collect();
    Ok(Page::slice(all, req.page))
}

fn template_fields(req: &Request) -> Result<Page, ConnectorError> {
    let form = launch_form(req, req.param("template").unwrap_or_default())?;
    let mut all = Vec::new();
    for (id, field) in form["schema"].as_object().into_iter().flatten() {
        all.push(field_choice(id, field));
        // A table (an array of objects) or an object nests its columns under itself.
        let columns = match field["type"].as_str() {
            Some("array") => field["elementType"]["schema"].as_object(),
            Some("object") => field["schema"].as_object(),
            _ => None,
        };
        for (column, column_field) in columns.into_iter().flatten() {
            all.push(field_choice(column, column_field).under(id.as_str()));
        }
    }
    Ok(Page::slice(all, req.page))
}

fn field_choice(id: &str, field: &Value) -> Choice {
    let label = field["displayName"].as_str().unwrap_or(id);
    let kind = match (text(field, "type"), text(&field["elementType"], "type")) {
        ("array", element) if !element.is_empty() => format!("array of {element}"),
        (kind, _) => kind.to_string(),
    };
    let required = field["required"].as_str().unwrap_or("never");
    Choice::new(id, label).describe(format!("{kind}; required: {required}"))
}

fn workflow_roles(req: &Request) -> Result<Page, ConnectorError> {
    let template = req.param("template").unwrap_or_default();
    // Roles live on workflows, so every page of the template's workflows is read; the cap
    // bounds one dropdown's cost on a very large tenant (the first 10,000 workflows' roles).
    let listing = pages::collect(&COUNTED, 0, 10_000, |paging| {
        let mut pairs = vec![
            ("template", template.to_string()),
            ("status", ALL_STATUSES.to_string()),
        ];
        pairs.extend(paging.iter().cloned());
        let query = api::query(&pairs);
        api::get_json(
            req.client,
            req.conn,
            &format!("/workflows{query}"),
            READ_WORKFLOWS,
        )
    })?;
    let mut all: Vec<Choice> = Vec::new();
    for role in listing["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|w| w["roles"].as_array().into_iter().flatten())
    {
        let id = text(role, "id");
        if !id.is_empty() && !all.iter().any(|c| c.value == id) {
            all.push(Choice::new(id, role["displayName"].as_str().unwrap_or(id)));
        }
    }
    Ok(Page::slice(all, req.page))
}

fn workflow_steps(req: &Request) -> Result<Page, ConnectorError> {
    // The `step` enum of Ironclad's workflow model.
    let all = [
        ("Review", "Approvals, comments and edits"),
        ("Sign", "Out for signature"),
        ("Archive", "Signed, being filed"),
        ("Complete", "Filed"),
    ]
    .into_iter()
    .map(|(step, what)| Choice::new(step, step).describe(what))
    .collect();
    Ok(Page::slice(all, req.page))
}

/// One upstream page (`page`, `pageSize` = [`PAGE_SIZE`]) of a paged list endpoint.
fn upstream_page(
    req: &Request,
    path: &str,
    query: &[(&str, String)],
    scopes: &[&str],
) -> Result<(Vec<Value>, bool), ConnectorError> {
    let mut pairs = query.to_vec();
    pairs.push(("page", req.page.to_string()));
    pairs.push(("pageSize", PAGE_SIZE.to_string()));
    let envelope = api::get_json(
        req.client,
        req.conn,
        &format!("{path}{}", api::query(&pairs)),
        scopes,
    )?;
    let list = envelope["list"].as_array().cloned().ok_or_else(|| {
        ConnectorError::internal(format!("GET {path} answered without a `list` array"))
    })?;
    let seen = req.page * PAGE_SIZE + list.len() as u64;
    let more = match crate::integer::as_u64(&envelope["count"]) {
        Some(total) => seen < total,
        None => list.len() as u64 == PAGE_SIZE,
    };
    Ok((list, more))
}

fn workflows(req: &Request) -> Result<Page, ConnectorError> {
    let mut query = vec![(
        "status",
        req.param("status").unwrap_or(ALL_STATUSES).to_string(),
    )];
    if let Some(template) = req.param("template") {
        query.push(("template", template.to_string()));
    }
    let (list, more) = upstream_page(req, "/workflows", &query, READ_WORKFLOWS)?;
    let choices = list
        .iter()
        .map(|w| {
            Choice::new(
                text(w, "id"),
                format!("{} {}", text(w, "ironcladId"), text(w, "title")),
            )
            .describe(format!("{}, {}", text(w, "status"), text(w, "step")))
        })
        .collect();
    Ok(Page { choices, more })
}

fn users(list: &[Value]) -> Vec<Choice> {
    list.iter()
        .map(|u| {
            let email = text(u, "email");
            let label = u["displayName"].as_str().unwrap_or(email);
            Choice::new(text(u, "userId"), label).describe(email)
        })
        .collect()
}

fn workflow_participants(req: &Request) -> Result<Page, ConnectorError> {
    let path = format!(
        "/workflows/{}/participants",
        encode_path_segment(req.param("workflow").unwrap_or_default())
    );
    let (list, more) = upstream_page(req, &path, &[], &["public.workflows.readParticipants"])?;
    Ok(Page {
        choices: users(&list),
        more,
    })
}

fn role_assignees(req: &Request) -> Result<Page, ConnectorError> {
    let path = format!(
        "/workflows/{}/roles/{}/eligible-assignees",
        encode_path_segment(req.param("workflow").unwrap_or_default()),
        encode_path_segment(req.param("role").unwrap_or_default())
    );
    let (list, more) = upstream_page(req, &path, &[], &["public.workflows.readRoleAssignees"])?;
    Ok(Page {
        choices: users(&list),
        more,
    })
}

fn records_schema(req: &Request) -> Result<Value, ConnectorError> {
    api::get_json(
        req.client,
        req.conn,
        "/records/metadata",
        READ_RECORD_SCHEMAS,
    )
}

fn record_types(req: &Request) -> Result<Page, ConnectorError> {
    let schema = records_schema(req)?;
    let all = schema["recordTypes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, t)| Choice::new(key, t["displayName"].as_str().unwrap_or(key)))
        .collect();
    Ok(Page::slice(all, req.page))
}

fn record_properties(req: &Request) -> Result<Page, ConnectorError> {
    let schema = records_schema(req)?;
    let all = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, p)| {
            let hidden = if p["visible"] == Value::Bool(false) {
                ", hidden"
            } else {
                ""
            };
            Choice::new(key, p["displayName"].as_str().unwrap_or(key))
                .describe(format!("{}{hidden}", text(p, "type")))
        })
        .collect();
    Ok(Page::slice(all, req.page))
}

fn relationship_types(req: &Request) -> Result<Page, ConnectorError> {
    let types = api::get_json(
        req.client,
        req.conn,
        "/entities/relationship-types",
        &["public.entities.readRelationshipTypes"],
    )?;
    let all = types
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let name = text(t, "name");
            let choice = Choice::new(name, t["displayName"].as_str().unwrap_or(name));
            match t["description"].as_str() {
                Some(d) => choice.describe(d),
                None => choice,
            }
        })
        .collect();
    Ok(Page::slice(all, req.page))
}

fn webhook_event_types(req: &Request) -> Result<Page, ConnectorError> {
    // The enum of the official create-webhook schema, so the list follows the spec.
    let op = crate::catalog::find("create_webhook")
        .ok_or_else(|| ConnectorError::internal("create_webhook is not in the catalog"))?;
    let schema: Value = serde_json::from_str(&op.input_schema.text())
        .map_err(|e| ConnectorError::internal(format!("create_webhook schema: {e}")))?;
    let all = schema
        .pointer("/properties/body/properties/events/items/enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|e| {
            let label = if e == "*" { "All events" } else { e };
            Choice::new(e, label)
        })
        .collect();
    Ok(Page::slice(all, req.page))
}
