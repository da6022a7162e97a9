//! Schemas that depend on the tenant and on the input so far (WIT `builder.input-schema`):
//! a launch's `attributes` are the chosen template's launch form, a metadata update's paths
//! are the workflow's template fields, record properties and types come from the records
//! schema. The launch actions and the metadata update are also validated against these
//! schemas before they send anything ([`check`]).

mod fields;
mod records;

use serde_json::{Value, json};

use super::api;
use crate::config::Connection;
use crate::error::{ConnectorError, excerpt};
use crate::http::{HttpClient, encode_path_segment};
use crate::schema;
use fields::Documents;

pub use crate::manifest::Schemas;

/// What makes an action's schema vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `body.template` picks the launch form of `body.attributes`.
    Launch(Documents),
    /// `id` names a workflow whose template's fields the updates set.
    MetadataUpdate,
    /// Record types and properties of the repository, where the input or output has them.
    Records(RecordShape),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordShape {
    /// `body.type` + `body.properties` in, a record out.
    Write,
    /// `body.type`, `body.addProperties`, `body.removeProperties` in, a record out.
    Update,
    /// A record out.
    Read,
    /// A list of records out.
    List,
}

fn shape(action: &str) -> Option<Shape> {
    Some(match action {
        "launch_new_workflow" | "create_new_workflow_async" | "launch_workflow_and_wait" => {
            Shape::Launch(Documents::Url)
        }
        "launch_workflow_with_files" => Shape::Launch(Documents::Part),
        "update_workflow_metadata" => Shape::MetadataUpdate,
        "create_record" | "replace_record" => Shape::Records(RecordShape::Write),
        "update_record_metadata" => Shape::Records(RecordShape::Update),
        "retrieve_record" => Shape::Records(RecordShape::Read),
        "list_records" => Shape::Records(RecordShape::List),
        _ => return None,
    })
}

/// The schemas of `action` for `partial` input (any JSON object; missing fields are fine).
/// Actions whose schemas do not vary get their static ones, without a request.
pub fn schemas(
    client: &dyn HttpClient,
    conn: &Connection,
    action: &str,
    partial: &Value,
) -> Result<Schemas, ConnectorError> {
    let mut s = crate::manifest::schemas(action)?;
    match shape(action) {
        None => {}
        Some(Shape::Launch(documents)) => {
            if let Some(template) = template_of(partial) {
                let form = launch_form(client, conn, template, "/body/template")?;
                let use_defaults = partial["useDefaultValues"] == Value::Bool(true);
                set(
                    &mut s.input,
                    "/properties/body/properties/attributes",
                    fields::attributes_schema(&form, documents, use_defaults),
                )?;
                if let Some(at) = launched_attributes_at(action) {
                    set(&mut s.output, at, fields::launched_attributes_schema(&form))?;
                }
            }
        }
        Some(Shape::MetadataUpdate) => {
            if let Some(id) = partial["id"].as_str().filter(|s| !s.is_empty()) {
                let form = workflow_form(client, conn, id)?;
                set(
                    &mut s.input,
                    "/properties/body/properties/updates/items",
                    update_schema(&form),
                )?;
            }
        }
        Some(Shape::Records(kind)) => {
            let meta = api::get_json(
                client,
                conn,
                "/records/metadata",
                &["public.records.readSchemas"],
            )?;
            apply_records(&mut s, kind, &meta)?;
        }
    }
    Ok(s)
}

/// Refuse an input that breaks its dynamic schema, naming the field, before the action sends
/// anything but the reads the schema needs. Only the template-driven actions are checked here
/// (records are checked by Ironclad, which would need the same read per write). Without the
/// scope to read schemas, Ironclad's own validation is all there is.
pub fn check(
    client: &dyn HttpClient,
    conn: &Connection,
    action: &str,
    input: &Value,
) -> Result<(), ConnectorError> {
    let depends = match shape(action) {
        Some(Shape::Launch(_)) => template_of(input).is_some(),
        Some(Shape::MetadataUpdate) => input["id"].is_string(),
        _ => false,
    };
    if !depends {
        return Ok(());
    }
    // What is wrong whatever the template is reported without a request.
    let def = crate::manifest::action(action).expect("shaped actions are in the manifest");
    let static_schema: Value = serde_json::from_str(&def.input_schema)
        .map_err(|e| ConnectorError::internal(format!("schema of {action}: {e}")))?;
    invalid(schema::validate(&static_schema, input))?;
    let schemas = match schemas(client, conn, action, input) {
        Err(ConnectorError::Forbidden { .. }) => return Ok(()),
        other => other?,
    };
    if shape(action) == Some(Shape::MetadataUpdate) {
        check_updates(&schemas.input, input)?;
    }
    invalid(schema::validate(&schemas.input, input))
}

fn invalid(result: Result<(), schema::Violation>) -> Result<(), ConnectorError> {
    result.map_err(|v| ConnectorError::input(v.pointer, v.message))
}

/// Where a launch action's output holds the launched workflow's attributes (the async launch
/// answers with a job, not a workflow).
fn launched_attributes_at(action: &str) -> Option<&'static str> {
    match action {
        "launch_new_workflow" | "launch_workflow_with_files" => Some("/properties/attributes"),
        "launch_workflow_and_wait" => Some("/properties/workflow/properties/attributes"),
        _ => None,
    }
}

fn template_of(input: &Value) -> Option<&str> {
    input
        .pointer("/body/template")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

/// A template's launch form (`GET /workflow-schemas/{id}?form=launch`). Ironclad answers an
/// unknown template with 400 `NOT_FOUND`; that is the caller's mistake, named at `field`.
pub fn launch_form(
    client: &dyn HttpClient,
    conn: &Connection,
    template: &str,
    field: &str,
) -> Result<Value, ConnectorError> {
    let path = format!(
        "/workflow-schemas/{}?form=launch",
        encode_path_segment(template)
    );
    match api::get_json(client, conn, &path, &["public.workflows.readSchemas"]) {
        Err(ConnectorError::Upstream(u)) if u.code.as_deref() == Some("NOT_FOUND") => {
            Err(ConnectorError::input(
                field,
                format!(
                    "`{}` is not a published workflow template; the `templates` pick list has them",
                    excerpt(template)
                ),
            ))
        }
        Err(ConnectorError::NotFound(_)) => Err(ConnectorError::input(
            field,
            format!(
                "`{}` is not a published workflow template",
                excerpt(template)
            ),
        )),
        other => other,
    }
}

/// The launch form of the template a workflow was launched from.
fn workflow_form(
    client: &dyn HttpClient,
    conn: &Connection,
    workflow: &str,
) -> Result<Value, ConnectorError> {
    let path = format!("/workflows/{}", encode_path_segment(workflow));
    let wf = api::get_json(client, conn, &path, &["public.workflows.readWorkflows"])?;
    let template = wf["template"].as_str().ok_or_else(|| {
        ConnectorError::internal(format!("workflow {} has no `template`", excerpt(workflow)))
    })?;
    launch_form(client, conn, template, "/id")
}

/// One update of `PATCH /workflows/{id}/attributes` for this form: `set` a field to a value
/// of its type, or `remove` a field the template does not require.
fn update_schema(form: &Value) -> Value {
    let fields = form["schema"].as_object();
    let mut branches: Vec<Value> = fields
        .into_iter()
        .flatten()
        .map(|(id, f)| {
            json!({ "title": format!("set {id}"), "properties": {
                "action": { "const": "set" }, "path": { "const": id },
                "value": fields::field_schema(id, f, Documents::Url) } })
        })
        .collect();
    let removable: Vec<&String> = fields
        .into_iter()
        .flatten()
        .filter(|(_, f)| f["required"] != "always")
        .map(|(id, _)| id)
        .collect();
    branches.push(json!({ "title": "remove a field", "properties": {
        "action": { "const": "remove" }, "path": { "enum": removable } } }));
    let ids: Vec<&String> = fields.into_iter().flat_map(|f| f.keys()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["action", "path"],
        "properties": {
            "action": { "type": "string", "enum": ["set", "remove"], "default": "set" },
            "path": { "type": "string", "enum": ids, "description": "A field of the workflow's template.",
                      "x-options": { "provider": "template_fields",
                                     "params": { "template": form["id"] } } },
            "value": { "description": "A value of the field's type (see the branch for its path)." },
        },
        "oneOf": branches,
    })
}

/// Each update names a field of the template, sets a value of its type and removes only what
/// the template does not require; errors name the update (`/body/updates/1/value`), which
/// the schema's `oneOf` alone could not.
fn check_updates(input_schema: &Value, input: &Value) -> Result<(), ConnectorError> {
    let Some(branches) = input_schema
        .pointer("/properties/body/properties/updates/items/oneOf")
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    for (i, update) in input
        .pointer("/body/updates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("/body/updates/{i}");
        let path = update["path"].as_str().unwrap_or_default();
        let action = update["action"].as_str().unwrap_or("set");
        let set = branches
            .iter()
            .find(|b| b["properties"]["path"]["const"] == path);
        let Some(set) = set else {
            return Err(ConnectorError::input(
                format!("{at}/path"),
                format!(
                    "`{}` is not a field of this workflow's template",
                    excerpt(path)
                ),
            ));
        };
        match action {
            "remove" => {
                let removable = branches.last().expect("the remove branch");
                if !removable["properties"]["path"]["enum"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|id| id == path))
                {
                    return Err(ConnectorError::input(
                        format!("{at}/path"),
                        format!(
                            "`{}` is required by the template and cannot be removed",
                            excerpt(path)
                        ),
                    ));
                }
            }
            _ => {
                let value = update.get("value").unwrap_or(&Value::Null);
                schema::validate(&set["properties"]["value"], value).map_err(|v| {
                    let inner = v.pointer.trim_end_matches('/');
                    ConnectorError::input(format!("{at}/value{inner}"), v.message)
                })?;
            }
        }
    }
    Ok(())
}

fn apply_records(s: &mut Schemas, kind: RecordShape, meta: &Value) -> Result<(), ConnectorError> {
    let output_at = match kind {
        RecordShape::List => "/properties/items/items/properties/properties",
        _ => "/properties/properties",
    };
    set(
        &mut s.output,
        output_at,
        records::properties_schema(meta, true),
    )?;
    let properties_at = match kind {
        RecordShape::Write => "properties",
        RecordShape::Update => "addProperties",
        RecordShape::Read | RecordShape::List => return Ok(()),
    };
    let body = "/properties/body/properties";
    set(
        &mut s.input,
        &format!("{body}/type"),
        records::type_schema(meta),
    )?;
    set(
        &mut s.input,
        &format!("{body}/{properties_at}"),
        records::properties_schema(meta, false),
    )?;
    if kind == RecordShape::Update {
        set(
            &mut s.input,
            &format!("{body}/removeProperties/items"),
            records::property_ids(meta),
        )?;
    }
    Ok(())
}

/// Replace the schema at `pointer`, whose parent must exist: the static schemas have these
/// places, and a catalog change that moves one should fail loudly here (unit-tested).
fn set(schema: &mut Value, pointer: &str, value: Value) -> Result<(), ConnectorError> {
    let (parent, key) = pointer.rsplit_once('/').expect("pointers start with /");
    let slot = schema
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ConnectorError::internal(format!("the schema has no {parent}")))?;
    slot.insert(key.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{conn, fake};

    #[test]
    fn every_shaped_action_has_the_places_its_schema_changes() {
        let client = fake(
            200,
            &[("content-type", "application/json")],
            br#"{"recordTypes":{"contract":{"displayName":"Contract"}},"properties":{"a":{"type":"string"}}}"#,
        );
        for action in [
            "create_record",
            "replace_record",
            "update_record_metadata",
            "retrieve_record",
            "list_records",
        ] {
            let s = schemas(&client, &conn(), action, &json!({}))
                .unwrap_or_else(|e| panic!("{action}: {e}"));
            assert!(
                s.output.to_string().contains("Record property `a`"),
                "{action}"
            );
        }
        let form = json!({"id": "t", "name": "T", "schema": {"x": {"type": "number", "required": "always"}}});
        for action in [
            "launch_new_workflow",
            "create_new_workflow_async",
            "launch_workflow_and_wait",
            "launch_workflow_with_files",
        ] {
            let def = crate::manifest::action(action).unwrap();
            let mut input: Value = serde_json::from_str(&def.input_schema).unwrap();
            set(
                &mut input,
                "/properties/body/properties/attributes",
                fields::attributes_schema(&form, Documents::Url, false),
            )
            .unwrap_or_else(|e| panic!("{action}: {e}"));
            if let Some(at) = launched_attributes_at(action) {
                let mut output: Value = serde_json::from_str(&def.output_schema).unwrap();
                set(&mut output, at, fields::launched_attributes_schema(&form))
                    .unwrap_or_else(|e| panic!("{action} output: {e}"));
            }
        }
        let def = crate::manifest::action("update_workflow_metadata").unwrap();
        let mut input: Value = serde_json::from_str(&def.input_schema).unwrap();
        set(
            &mut input,
            "/properties/body/properties/updates/items",
            update_schema(&form),
        )
        .unwrap();
    }

    #[test]
    fn updates_name_the_update_that_is_wrong() {
        let form = json!({"id": "t", "name": "T", "schema": {
            "term": {"type": "number", "required": "always"},
            "email": {"type": "email", "required": "never"}}});
        let mut input_schema = json!({"properties": {"body": {"properties": {"updates": {}}}}});
        set(
            &mut input_schema,
            "/properties/body/properties/updates/items",
            update_schema(&form),
        )
        .unwrap();
        let run = |updates: Value| {
            check_updates(&input_schema, &json!({"body": {"updates": updates}})).map_err(
                |e| match e {
                    ConnectorError::InvalidInput { field, .. } => field,
                    other => panic!("{other}"),
                },
            )
        };
        assert_eq!(
            run(json!([{"action": "set", "path": "email", "value": "a@b.example"}])),
            Ok(())
        );
        assert_eq!(run(json!([{"action": "remove", "path": "email"}])), Ok(()));
        assert_eq!(
            run(
                json!([{"action": "set", "path": "email", "value": "a@b.example"}, {"action": "set", "path": "nope", "value": 1}])
            ),
            Err("/body/updates/1/path".into())
        );
        assert_eq!(
            run(json!([{"action": "set", "path": "email", "value": "nobody"}])),
            Err("/body/updates/0/value".into())
        );
        assert_eq!(
            run(json!([{"action": "remove", "path": "term"}])),
            Err("/body/updates/0/path".into())
        );
    }
}
