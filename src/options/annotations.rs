//! Where action and trigger schemas take their values from a pick list: `x-options` on a
//! property, `{"provider": KEY, "params": {NAME: VALUE}}`, where a VALUE is either literal JSON
//! or `{"$input": "/json/pointer"}`, the value the user gave at that pointer of the same
//! input (the dropdown of `userId` lists the assignees of the workflow in `/id` and the role
//! in `/roleName`). A schema whose concrete form depends on the input lists the pointers it
//! depends on in `x-schema-depends-on` at its root (`[]`: only on the connection); a builder
//! calls `builder.input-schema` when one of them changes.
//!
//! Added when `describe` builds the manifest, so the generated catalog stays the spec's.

use serde_json::{Value, json};

/// One annotation: in the schema of `action`, the property at `at` (a JSON Pointer into the
/// schema) takes its values from `provider` with `params`.
struct Pick {
    actions: &'static [&'static str],
    at: &'static str,
    provider: &'static str,
    params: fn() -> Value,
    /// For a string holding several values: the separator (`x-options.join`).
    join: Option<&'static str>,
}

fn none() -> Value {
    json!({})
}

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
const SCIM_USER_IDS: &[&str] = &[
    "scim_retrieve_user",
    "scim_patch_user",
    "scim_replace_user",
    "scim_delete_user",
];
const SCIM_GROUP_IDS: &[&str] = &[
    "scim_retrieve_group",
    "scim_patch_group",
    "scim_replace_group",
    "scim_delete_group",
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
    Pick {
        actions: SCIM_USER_IDS,
        at: "/properties/userId",
        provider: "scim_users",
        params: none,
        join: None,
    },
    Pick {
        actions: SCIM_GROUP_IDS,
        at: "/properties/groupId",
        provider: "scim_groups",
        params: none,
        join: None,
    },
    Pick {
        actions: &["scim_create_group", "scim_replace_group"],
        at: "/properties/body/properties/members/items/properties/value",
        provider: "scim_users",
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
fn workflow_id(key: &str) -> bool {
    crate::catalog::find(key).is_some_and(|op| op.path.starts_with("/workflows/{id}"))
}

/// List operations with Ironclad's `filter` formula parameter, which also take the
/// structured formula (`crate::formula`).
pub fn takes_filter(key: &str) -> bool {
    crate::catalog::find(key).is_some_and(|op| op.params.iter().any(|p| p.name == "filter"))
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

/// The schema text with this key's `x-options` and `x-schema-depends-on` added.
pub fn annotate(key: &str, original: &str) -> String {
    // Everything this key gets, decided before parsing: most schemas get nothing and are not
    // parsed at all (`describe` builds every one).
    let mut marks: Vec<(String, Value)> = PICKS
        .iter()
        .filter(|p| p.actions.contains(&key))
        .map(|pick| {
            let mut options = json!({ "provider": pick.provider, "params": (pick.params)() });
            if let Some(separator) = pick.join {
                options["join"] = json!(separator);
            }
            (pick.at.to_string(), options)
        })
        .collect();
    if workflow_id(key) {
        marks.push((
            "/properties/id".into(),
            json!({ "provider": "workflows", "params": {} }),
        ));
    }
    // Marks an API type adds from its own rows (Clickwrap's ids).
    for (_, spec) in crate::api_types::all() {
        marks.extend((spec.option_marks)(key));
    }
    let filter = takes_filter(key);
    let depends = depends_on(key);
    if marks.is_empty() && !filter && depends.is_none() {
        return original.to_string();
    }
    let Ok(mut schema) = serde_json::from_str::<Value>(original) else {
        return original.to_string();
    };
    let mut changed = false;
    for (at, options) in marks {
        if let Some(Value::Object(slot)) = schema.pointer_mut(&at) {
            slot.insert("x-options".into(), options);
            changed = true;
        }
    }
    if filter && let Some(slot) = schema.pointer_mut("/properties/filter") {
        let description = slot["description"].as_str().unwrap_or_default().to_string();
        *slot = crate::formula::schema(&description, filter_fields(key));
        changed = true;
    }
    if let (Some(pointers), Some(root)) = (depends, schema.as_object_mut()) {
        root.insert("x-schema-depends-on".into(), json!(pointers));
        changed = true;
    }
    if changed {
        serde_json::to_string(&schema).expect("a Value always serialises")
    } else {
        // Untouched schemas keep their text byte for byte.
        original.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(key: &str) -> Value {
        let m = crate::describe();
        let text = m
            .actions
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.input_schema.clone())
            .or_else(|| {
                m.triggers
                    .iter()
                    .find(|t| t.key == key)
                    .map(|t| t.input_schema.clone())
            })
            .unwrap_or_else(|| panic!("{key} is not described"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn every_pick_lands_on_a_property_and_names_a_provider() {
        for pick in PICKS {
            assert!(
                super::super::find(pick.provider).is_some(),
                "{}",
                pick.provider
            );
            for key in pick.actions {
                let schema = described(key);
                let slot = schema
                    .pointer(pick.at)
                    .unwrap_or_else(|| panic!("{key}: no {}", pick.at));
                assert_eq!(
                    slot["x-options"]["provider"], pick.provider,
                    "{key} {}",
                    pick.at
                );
            }
        }
    }

    #[test]
    fn clickwrap_and_scim_ids_take_their_providers() {
        let options =
            |key: &str, at: &str| described(key).pointer(at).unwrap()["x-options"].clone();
        assert_eq!(
            options("clickwrap_get_site", "/properties/site_id"),
            json!({ "provider": "clickwrap_sites", "params": {} })
        );
        assert_eq!(
            options("clickwrap_list_groups", "/properties/site_id")["provider"],
            "clickwrap_sites"
        );
        assert_eq!(
            options("clickwrap_update_group", "/properties/group_id"),
            json!({ "provider": "clickwrap_groups", "params": {} })
        );
        assert_eq!(
            options("clickwrap_publish_version", "/properties/contract_id")["provider"],
            "clickwrap_contracts"
        );
        assert!(
            described("clickwrap_activity_published")["properties"]["gkey"]
                .get("x-options")
                .is_none()
        );
        assert_eq!(
            options("scim_delete_user", "/properties/userId")["provider"],
            "scim_users"
        );
        assert_eq!(
            options("scim_patch_group", "/properties/groupId")["provider"],
            "scim_groups"
        );
        // Every annotated property lands on a provider of the action's own API type.
        for action in crate::describe().actions {
            let schema: Value = serde_json::from_str(&action.input_schema).unwrap();
            let mut providers = Vec::new();
            collect_providers(&schema, &mut providers);
            for key in providers {
                let (provider_api, _) = super::super::find(&key).unwrap();
                if let Some(api_type) = provider_api {
                    assert_eq!(api_type, action.api_type, "{} {key}", action.key);
                }
            }
        }
    }

    fn collect_providers(schema: &Value, out: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(p) = map.get("x-options").and_then(|o| o["provider"].as_str()) {
                    out.push(p.to_string());
                }
                map.values().for_each(|v| collect_providers(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_providers(v, out)),
            _ => {}
        }
    }

    #[test]
    fn workflow_ids_dependencies_and_params() {
        assert_eq!(
            described("retrieve_workflow")["properties"]["id"]["x-options"]["provider"],
            "workflows"
        );
        assert_eq!(
            described("launch_new_workflow")["x-schema-depends-on"],
            json!(["/body/template", "/useDefaultValues"])
        );
        let user = &described("update_workflow_role_assignment")["properties"]["body"]["properties"]
            ["userId"];
        assert_eq!(
            user["x-options"]["params"]["role"],
            json!({ "$input": "/roleName" })
        );
        assert!(
            described("list_entities")
                .get("x-schema-depends-on")
                .is_none()
        );
        let filter = &described("list_workflows")["properties"]["filter"];
        assert_eq!(
            filter["anyOf"][1]["properties"]["field"]["x-options"]["provider"],
            "template_fields"
        );
        assert!(described("list_obligations")["properties"]["filter"]["anyOf"].is_array());
    }
}
