//! Launching a workflow from a template: the `WorkflowLaunchModel` body, launch-form
//! validation of attributes against the template's `FieldSchema`s, and the new workflow.

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::events::{Event, Kind};
use crate::seed::{
    Creator, FieldSchema, Role, RoleAssignee, Seed, StepState, Template, User, Workflow,
    ironclad_number,
};
use crate::state::Data;
use crate::{ids, query, time};

/// A parsed `WorkflowLaunchModel` (`additionalProperties: false`).
#[derive(Debug)]
pub struct LaunchRequest {
    pub template: String,
    pub attributes: Map<String, Value>,
}

impl LaunchRequest {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("multipart/") {
            return Err(ApiError::not_implemented(
                "multipart/form-data launches are not emulated yet; send JSON with draft urls",
            ));
        }
        let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::invalid_param(
                "request body must be a JSON object",
                "body",
            ));
        };
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
        })
    }
}

/// Check `attributes` against the launch form: unknown ids, value types, then required fields
/// (after defaults when `use_defaults`). Returns the attributes normalised (dates canonical).
pub fn validate_attributes(
    template: &Template,
    mut attributes: Map<String, Value>,
    use_defaults: bool,
) -> Result<Map<String, Value>, ApiError> {
    attributes.retain(|_, v| !v.is_null());
    let unknown: Vec<&String> = attributes
        .keys()
        .filter(|k| !template.schema.contains_key(k.as_str()))
        .collect();
    if let Some(first) = unknown.first() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::invalid_param(
            format!("non-existent attribute(s) specified: {}", names.join(", ")),
            first,
        ));
    }
    if use_defaults {
        for (id, field) in &template.schema {
            if let (false, Some(default)) = (attributes.contains_key(id), &field.default) {
                attributes.insert(id.clone(), default.clone());
            }
        }
    }
    let mut normalised = Map::new();
    for (id, value) in attributes {
        let field = &template.schema[&id];
        normalised.insert(id.clone(), check(&id, field, value)?);
    }
    for (id, field) in &template.schema {
        if !normalised.contains_key(id)
            && (field.always_required() || conditionally_required(id, &normalised))
        {
            return Err(ApiError::missing_param("missing required attribute", id));
        }
    }
    Ok(normalised)
}

/// Counterparty paper needs the counterparty's draft (the spec's `paperSource` rule).
fn conditionally_required(id: &str, attributes: &Map<String, Value>) -> bool {
    id == "draft"
        && attributes.get("paperSource").and_then(Value::as_str) == Some("Counterparty paper")
}

fn check(id: &str, field: &FieldSchema, value: Value) -> Result<Value, ApiError> {
    let invalid = |expected: &str| {
        ApiError::invalid_param(
            format!("invalid value for attribute '{id}': expected {expected}"),
            id,
        )
    };
    match field.kind.as_str() {
        "string" => {
            let s = value.as_str().ok_or_else(|| invalid("a string"))?;
            if let Some(options) = field.options.as_ref().filter(|o| !o.free_text_allowed)
                && !options.values.iter().any(|v| v == s)
            {
                return Err(invalid(&format!("one of [{}]", options.values.join(", "))));
            }
            Ok(value)
        }
        "number" => value
            .is_number()
            .then_some(value)
            .ok_or_else(|| invalid("a number")),
        "boolean" => value
            .is_boolean()
            .then_some(value)
            .ok_or_else(|| invalid("a boolean")),
        "date" => value
            .as_str()
            .and_then(time::normalize)
            .map(Value::String)
            .ok_or_else(|| invalid("an ISO-8601 date")),
        "email" => value
            .as_str()
            .filter(|s| is_email(s))
            .is_some()
            .then_some(value)
            .ok_or_else(|| invalid("an email address")),
        "monetaryAmount" => {
            let ok = value.as_object().is_some_and(|o| {
                o.keys().all(|k| k == "currency" || k == "amount")
                    && o.get("amount").is_some_and(Value::is_number)
                    && o.get("currency")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{currency: 'USD', amount: number}"))
        }
        "duration" => {
            let ok = value.as_object().is_some_and(|o| {
                !o.is_empty()
                    && o.iter().all(|(k, v)| {
                        ["years", "months", "weeks", "days"].contains(&k.as_str())
                            && v.as_u64().is_some()
                    })
                    && o.values().any(|v| v.as_u64() > Some(0))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{years, months, weeks, days} with at least one unit"))
        }
        "address" => {
            let ok = value.as_object().is_some_and(|o| {
                o.get("lines")
                    .and_then(Value::as_array)
                    .is_some_and(|l| l.len() <= 4 && l.iter().all(Value::is_string))
                    && ["locality", "region", "postcode", "country"]
                        .iter()
                        .all(|k| o.get(*k).is_none_or(Value::is_string))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{lines: [string], locality, region, postcode, country}"))
        }
        "document" => upload(&value).ok_or_else(|| invalid("{url: string}")),
        "linkedRecord" | "parentRecord" | "childRecord" => match value.as_str() {
            Some(v) if ids::is_uuid(v) => Ok(json!({ "recordId": v })),
            Some(v) if ironclad_number(v).is_ok() => Ok(json!({ "readableId": v })),
            _ => Err(invalid("a record id (UUID) or Ironclad id like IC-123")),
        },
        "array" => {
            let items = value.as_array().ok_or_else(|| invalid("an array"))?;
            let element = field.element_type.as_deref();
            items
                .iter()
                .map(|item| element.map_or(Ok(item.clone()), |e| check(id, e, item.clone())))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "object" => {
            let object = value.as_object().ok_or_else(|| invalid("an object"))?;
            let Some(schema) = &field.schema else {
                return Ok(value);
            };
            let mut out = Map::new();
            for (k, v) in object {
                let child = schema.get(k).ok_or_else(|| {
                    invalid(&format!(
                        "only the properties [{}]",
                        schema.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                out.insert(k.clone(), check(id, child, v.clone())?);
            }
            Ok(Value::Object(out))
        }
        _ => Ok(value),
    }
}

/// A JSON file reference: `{url}` only (`{file}` parts need a multipart request).
fn upload(value: &Value) -> Option<Value> {
    let o = value.as_object()?;
    (o.len() == 1
        && o.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://")))
    .then(|| value.clone())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// The workflow's `schema` view of a template: `{attrId: {type, displayName, propertyKey, readOnly, elementType?}}`.
pub fn workflow_schema(template: &Template) -> Map<String, Value> {
    template
        .schema
        .iter()
        .map(|(id, f)| {
            let mut entry = json!({ "type": f.kind, "displayName": f.display_name, "propertyKey": id, "readOnly": false });
            if let Some(element) = &f.element_type {
                entry["elementType"] = json!({ "type": element.kind, "displayName": element.display_name });
            }
            (id.clone(), entry)
        })
        .collect()
}

/// Launch a workflow: a new active workflow in Review, created by `user`, with the next
/// `IC-n`, stored and announced (`workflow_launched`). Every launch path goes through here.
pub fn launch(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    attributes: Map<String, Value>,
    user: &User,
) -> Workflow {
    let workflow = build(data, seed, template, attributes, user);
    data.workflows.push(workflow.clone());
    data.emit([Event::workflow(Kind::Launched, &workflow)]);
    workflow
}

fn build(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    mut attributes: Map<String, Value>,
    user: &User,
) -> Workflow {
    let now = time::format_ms(data.tick());
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
            let uploads = std::mem::take(value);
            *value = match uploads {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|u| document(u, &id, &now, user, seed))
                        .collect(),
                ),
                single => document(&single, &id, &now, user, seed),
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

/// `WorkflowDocumentModel` for an uploaded `{url}`.
fn document(upload: &Value, workflow_id: &str, now: &str, user: &User, seed: &Seed) -> Value {
    let url = upload["url"].as_str().unwrap_or_default();
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let filename = query::decode(path.rsplit('/').next().unwrap_or_default());
    let filename = if filename.is_empty()
        || !path
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .contains('/')
    {
        "document.pdf".to_owned()
    } else {
        filename
    };
    let key = ids::slug(8);
    json!({
        "version": ids::slug(9),
        "versionNumber": 1,
        "filename": filename,
        "key": key,
        "download": format!("/public/api/v1/workflows/{workflow_id}/document/{key}/download"),
        "lastModified": {
            "timestamp": now,
            "author": { "type": "internalUser", "companyName": seed.company.name, "displayName": user.display_name(), "email": user.email, "userId": user.id },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::default_seed;

    fn nda() -> Template {
        default_seed()
            .templates
            .into_iter()
            .find(|t| t.name == "Mutual NDA")
            .unwrap()
    }

    fn consulting() -> Template {
        default_seed()
            .templates
            .into_iter()
            .find(|t| t.name == "Consulting Agreement")
            .unwrap()
    }

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn launch_form_rules() {
        let t = nda();
        let ok = validate_attributes(&t, attrs(json!({ "counterpartyName": "Initech", "paperSource": "Our paper", "agreementDate": "2026-01-15" })), false).unwrap();
        assert_eq!(ok["agreementDate"], "2026-01-15T00:00:00.000Z");
        let e = validate_attributes(&t, attrs(json!({ "paperSource": "Our paper" })), false)
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str(), e.param.as_deref()),
            (
                "MISSING_PARAM",
                "missing required attribute",
                Some("counterpartyName")
            )
        );
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Counterparty paper" })),
            false,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("draft"));
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Napkin" })),
            false,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("paperSource"))
        );
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "bogus": 1 })),
            false,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("bogus"))
        );
        let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "counterpartyEmail": "nope" })), false).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("counterpartyEmail"));
        let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "draft": [{ "file": "part" }] })), false).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("draft"));
    }

    #[test]
    fn types_and_defaults() {
        let t = consulting();
        let base =
            json!({ "counterpartyName": "x", "fee": { "currency": "USD", "amount": 1200.5 } });
        let with_defaults = validate_attributes(&t, attrs(base.clone()), true).unwrap();
        assert_eq!(with_defaults["termMonths"], 12);
        assert_eq!(with_defaults["isRenewal"], false);
        assert!(
            !validate_attributes(&t, attrs(base.clone()), false)
                .unwrap()
                .contains_key("termMonths")
        );
        for (k, bad) in [
            ("fee", json!(1200)),
            ("fee", json!({ "currency": "usd", "amount": 1 })),
            ("termMonths", json!("12")),
            ("isRenewal", json!("yes")),
            ("startDate", json!("soon")),
        ] {
            let mut a = attrs(base.clone());
            a.insert(k.into(), bad);
            assert_eq!(
                validate_attributes(&t, a, false)
                    .unwrap_err()
                    .param
                    .as_deref(),
                Some(k)
            );
        }
    }
}
