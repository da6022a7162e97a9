//! Launch-form validation: attributes against the template's `FieldSchema`s (unknown ids,
//! value types, required and conditionally required fields, uploads named by the request), and
//! the workflow's `schema` view of a template.

use serde_json::{Map, Value, json};

use super::Files;
use crate::infra::errors::ApiError;
use crate::store::seed::{FieldSchema, Template, ironclad_number};
use crate::{store::ids, store::time};

/// Check `attributes` against the launch form: unknown ids, value types, then required fields
/// (after defaults when `use_defaults`). Returns the attributes normalised (dates canonical).
pub fn validate_attributes(
    template: &Template,
    mut attributes: Map<String, Value>,
    use_defaults: bool,
    files: &Files,
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
        normalised.insert(id.clone(), check(&id, field, value, files)?);
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

fn check(id: &str, field: &FieldSchema, value: Value, files: &Files) -> Result<Value, ApiError> {
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
        "document" => upload(id, value, files),
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
                .map(|item| element.map_or(Ok(item.clone()), |e| check(id, e, item.clone(), files)))
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
                out.insert(k.clone(), check(id, child, v.clone(), files)?);
            }
            Ok(Value::Object(out))
        }
        _ => Ok(value),
    }
}

/// A file reference: `{url}` in a JSON launch, `{file: <part name>}` in a multipart one, whose
/// part the request must hold.
fn upload(id: &str, value: Value, files: &Files) -> Result<Value, ApiError> {
    let only = |key: &str| {
        value
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get(key))
            .and_then(Value::as_str)
    };
    let invalid = |expected: &str| {
        ApiError::invalid_param(
            format!("invalid value for attribute '{id}': expected {expected}"),
            id,
        )
    };
    match files {
        Files::Json => match only("url") {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(value),
            _ => Err(invalid(
                "{url: string} (file parts need a multipart/form-data request)",
            )),
        },
        Files::Multipart(parts) => match only("file") {
            Some(part) if parts.contains_key(part) => Ok(value),
            Some(part) => Err(ApiError::missing_param(
                format!(
                    "missing required form-data part '{part}' (referenced by attribute '{id}')"
                ),
                id,
            )),
            None => Err(invalid(
                "{file: '<form-data part name>'} (a multipart request takes files, not urls)",
            )),
        },
    }
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
