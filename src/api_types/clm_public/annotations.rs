//! Where CLM Public's action and trigger schemas take their values from pick lists
//! ([`super::options`]), which of them `builder.input-schema` makes more precise
//! ([`super::dynamic`]), and where a structured filter's fields come from.

use serde_json::{Value, json};

use super::OPERATIONS;
use crate::options::annotations::{Annotations, Pick, none};

pub static ANNOTATIONS: Annotations = Annotations {
    picks: PICKS,
    derived: workflow_id,
    filter_fields,
    depends_on,
};

const LAUNCHES: &[&str] = &[
    "launch_new_workflow",
    "create_new_workflow_async",
    "launch_workflow_and_wait",
    "launch_workflow_with_files",
];
const RECORD_WRITES: &[&str] = &["create_record", "replace_record", "update_record_metadata"];
const ENTITY_WRITES: &[&str] = &["create_entity", "update_entity"];
const TEMPLATE_TRIGGERS: &[&str] = &[
    "workflow_launched",
    "workflow_updated",
    "workflow_completed",
    "workflow_step_changed",
    "workflow_approval_changed",
];
static PICKS: &[Pick] = &[
    Pick {
        actions: LAUNCHES,
        at: "/properties/body/properties/template",
        provider: "templates",
        params: none,
        join: None,
    },
    Pick {
        actions: &["list_workflows"],
        at: "/properties/template",
        provider: "templates",
        params: none,
        join: None,
    },
    Pick {
        actions: &["retrieve_workflow_schema"],
        at: "/properties/id",
        provider: "templates",
        params: none,
        join: None,
    },
    Pick {
        actions: TEMPLATE_TRIGGERS,
        at: "/properties/template",
        provider: "templates",
        params: none,
        join: None,
    },
    Pick {
        actions: &["workflow_step_changed"],
        at: "/properties/step",
        provider: "workflow_steps",
        params: none,
        join: None,
    },
    Pick {
        actions: &["update_workflow_role_assignment"],
        at: "/properties/body/properties/userId",
        provider: "role_assignees",
        params: || json!({ "workflow": { "$input": "/id" }, "role": { "$input": "/roleName" } }),
        join: None,
    },
    Pick {
        actions: RECORD_WRITES,
        at: "/properties/body/properties/type",
        provider: "record_types",
        params: none,
        join: None,
    },
    Pick {
        actions: &["list_records"],
        at: "/properties/types",
        provider: "record_types",
        params: none,
        join: Some(","),
    },
    Pick {
        actions: &["record_created", "record_updated"],
        at: "/properties/types/items",
        provider: "record_types",
        params: none,
        join: None,
    },
    Pick {
        actions: &["update_record_metadata"],
        at: "/properties/body/properties/removeProperties/items",
        provider: "record_properties",
        params: none,
        join: None,
    },
    Pick {
        actions: &["retrieve_xlsx_export_file_of_records"],
        at: "/properties/types",
        provider: "record_types",
        params: none,
        join: Some(","),
    },
    Pick {
        actions: ENTITY_WRITES,
        at: "/properties/body/properties/relationshipTypeKey",
        provider: "entity_relationship_types",
        params: none,
        join: None,
    },
    Pick {
        actions: &["create_webhook", "update_webhook"],
        at: "/properties/body/properties/events/items",
        provider: "webhook_event_types",
        params: none,
        join: None,
    },
    Pick {
        actions: &["webhook_event"],
        at: "/properties/events/items",
        provider: "webhook_event_types",
        params: none,
        join: None,
    },
];

/// Actions whose `builder.input-schema` is more precise than `describe`'s, and what it
/// depends on.
fn depends_on(key: &str) -> Option<&'static [&'static str]> {
    match key {
        k if LAUNCHES.contains(&k) => Some(&["/body/template", "/useDefaultValues"]),
        "update_workflow_metadata" => Some(&["/id"]),
        k if RECORD_WRITES.contains(&k) || k == "retrieve_record" || k == "list_records" => {
            Some(&[])
        }
        _ => None,
    }
}

/// Workflow-scoped operations take the workflow in `id`: a `workflows` dropdown.
fn workflow_id(key: &str) -> Vec<(String, Value)> {
    let scoped = OPERATIONS
        .iter()
        .any(|op| op.key == key && op.path.starts_with("/workflows/{id}"));
    if !scoped {
        return Vec::new();
    }
    vec![(
        "/properties/id".into(),
        json!({ "provider": "workflows", "params": {} }),
    )]
}

/// Where a structured filter's `field` dropdown comes from: workflow attributes are the
/// template's fields, record properties the records schema's (entities and obligations have
/// no schema endpoint in the public API).
fn filter_fields(key: &str) -> Option<Value> {
    match key {
        "list_workflows" => Some(json!({ "provider": "template_fields",
                                          "params": { "template": { "$input": "/template" } } })),
        "list_records" => Some(json!({ "provider": "record_properties", "params": {} })),
        _ => None,
    }
}
