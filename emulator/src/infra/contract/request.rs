//! Judging a request: parameters (query, path, header) and the body (JSON or multipart).

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::errata::TOLERATED;
use super::schema::Checked;
use super::{Operation, Violation};
use crate::{infra::multipart, infra::query};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Location {
    Query,
    Path,
    Header,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Location::Query => "query",
            Location::Path => "path",
            Location::Header => "header",
        }
    }
}

pub(super) struct ParamSpec {
    pub(super) name: String,
    pub(super) location: Location,
    pub(super) required: bool,
    pub(super) schema: Checked,
}

pub(super) struct BodySpec {
    pub(super) required: bool,
    /// Media type (lower-case) → schema.
    pub(super) content: Vec<(String, Option<Checked>)>,
    /// The parts a `multipart/form-data` body may hold, when that media type has a schema.
    pub(super) multipart: Option<MultipartSpec>,
}

impl BodySpec {
    /// Its schemas, each with where it is (`application/json`, `multipart/form-data part data`).
    pub(super) fn schemas(&self) -> impl Iterator<Item = (String, &Checked)> {
        let whole = self
            .content
            .iter()
            .filter_map(|(media, schema)| schema.as_ref().map(|s| (media.clone(), s)));
        let parts = self
            .multipart
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|(name, rule)| match rule {
                PartRule::File => None,
                PartRule::Json(s) | PartRule::Text(s) => {
                    Some((format!("{MULTIPART} part {name}"), s))
                }
            });
        whole.chain(parts)
    }
}

/// What a `multipart/form-data` body must hold: its schema's properties are the part names.
pub(super) struct MultipartSpec {
    pub(super) required: Vec<String>,
    pub(super) parts: Vec<(String, PartRule)>,
    /// Undeclared parts allowed: `additionalProperties: true`, or no properties declared.
    pub(super) open: bool,
}

pub(super) enum PartRule {
    /// A file (`format: binary`): any bytes.
    File,
    /// JSON content (an `application/json` encoding, or an object schema).
    Json(Checked),
    /// Text, judged as a JSON string.
    Text(Checked),
}

impl MultipartSpec {
    /// From the media type's prepared schema and its `encoding` map.
    pub(super) fn new(schema: &Value, encoding: Option<&Value>) -> Self {
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let open =
            properties.is_empty() || schema.get("additionalProperties") == Some(&json!(true));
        let parts = properties
            .into_iter()
            .map(|(name, prop)| {
                let encoded_json = encoding
                    .and_then(|e| e.pointer(&format!("/{name}/contentType")))
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.contains("json"));
                let rule = if prop.get("format") == Some(&json!("binary")) {
                    PartRule::File
                } else if encoded_json || prop.get("type") == Some(&json!("object")) {
                    PartRule::Json(Checked::new(prop))
                } else {
                    PartRule::Text(Checked::new(prop))
                };
                (name, rule)
            })
            .collect();
        Self {
            required,
            parts,
            open,
        }
    }
}

pub(super) fn check_query(op: &Operation, raw: &str) -> Result<(), Violation> {
    let pairs = query::parse_pairs(raw);
    for (name, _) in &pairs {
        let declared = op
            .params
            .iter()
            .any(|p| p.location == Location::Query && &p.name == name);
        let tolerated = TOLERATED
            .iter()
            .any(|t| t.operation == op.id && t.parameter == name);
        if !declared && !tolerated {
            return Err(Violation::new(
                &op.id,
                format!("query parameter '{name}' is not declared by the operation"),
                name.as_str(),
            ));
        }
    }
    for spec in op.params.iter().filter(|p| p.location == Location::Query) {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == &spec.name)
            .map(|(_, v)| v.as_str())
            .collect();
        if values.is_empty() {
            if spec.required {
                return Err(Violation::new(
                    &op.id,
                    format!("required query parameter '{}' is missing", spec.name),
                    spec.name.as_str(),
                ));
            }
            continue;
        }
        let value = if spec.schema.kind() == Some("array") {
            // Ironclad's arrays are comma-separated (`status=active,paused`); repeats add up.
            let items = spec
                .schema
                .schema
                .get("items")
                .cloned()
                .unwrap_or(json!({}));
            let item = Checked::new(items);
            let mut out = Vec::new();
            for raw in values.iter().flat_map(|v| v.split(',')) {
                out.push(coerce(op, spec, &item, raw)?);
            }
            Value::Array(out)
        } else {
            if values.len() > 1 {
                return Err(Violation::new(
                    &op.id,
                    format!("query parameter '{}' is sent more than once", spec.name),
                    spec.name.as_str(),
                ));
            }
            coerce(op, spec, &spec.schema, values[0])?
        };
        check_value(op, spec, &value)?;
    }
    Ok(())
}

pub(super) fn check_path(op: &Operation, values: &[(String, String)]) -> Result<(), Violation> {
    for spec in op.params.iter().filter(|p| p.location == Location::Path) {
        let Some((_, raw)) = values.iter().find(|(name, _)| name == &spec.name) else {
            return Err(Violation::new(
                &op.id,
                format!(
                    "path parameter '{}' is declared but not in the path template {}",
                    spec.name, op.template
                ),
                spec.name.as_str(),
            ));
        };
        let value = coerce(op, spec, &spec.schema, raw)?;
        check_value(op, spec, &value)?;
    }
    Ok(())
}

pub(super) fn check_headers(op: &Operation, headers: &HeaderMap) -> Result<(), Violation> {
    for spec in op.params.iter().filter(|p| p.location == Location::Header) {
        let values: Vec<_> = headers.get_all(spec.name.as_str()).iter().collect();
        if values.is_empty() {
            if spec.required {
                return Err(Violation::new(
                    &op.id,
                    format!("required header '{}' is missing", spec.name),
                    spec.name.as_str(),
                ));
            }
            continue;
        }
        if values.len() > 1 {
            return Err(Violation::new(
                &op.id,
                format!("header '{}' is sent more than once", spec.name),
                spec.name.as_str(),
            ));
        }
        let text = values[0].to_str().map_err(|_| {
            Violation::new(
                &op.id,
                format!("header '{}' is not visible ASCII", spec.name),
                spec.name.as_str(),
            )
        })?;
        let value = coerce(op, spec, &spec.schema, text)?;
        check_value(op, spec, &value)?;
    }
    Ok(())
}

/// A parameter's text as the JSON value its schema describes.
pub(super) fn coerce(
    op: &Operation,
    spec: &ParamSpec,
    schema: &Checked,
    raw: &str,
) -> Result<Value, Violation> {
    let bad = |expected: &str| {
        Violation::new(
            &op.id,
            format!(
                "{} parameter '{}' must be {expected}, got '{raw}'",
                spec.location.as_str(),
                spec.name
            ),
            spec.name.as_str(),
        )
    };
    Ok(match schema.kind() {
        Some("integer") => json!(raw.parse::<i64>().map_err(|_| bad("an integer"))?),
        Some("number") => {
            let n: f64 = raw.parse().map_err(|_| bad("a number"))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| bad("a finite number"))?
        }
        Some("boolean") => match raw {
            "true" => json!(true),
            "false" => json!(false),
            _ => return Err(bad("true or false")),
        },
        _ => json!(raw),
    })
}

pub(super) fn check_value(
    op: &Operation,
    spec: &ParamSpec,
    value: &Value,
) -> Result<(), Violation> {
    match spec.schema.first_error(value) {
        None => Ok(()),
        Some((_, message)) => Err(Violation::new(
            &op.id,
            format!(
                "{} parameter '{}': {message}",
                spec.location.as_str(),
                spec.name
            ),
            spec.name.as_str(),
        )),
    }
}

pub(super) fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
}

pub(super) fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

pub(super) fn check_body(
    op: &Operation,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Violation> {
    let sent = !body.is_empty();
    let Some(spec) = &op.body else {
        return if sent {
            Err(Violation::new(
                &op.id,
                "the operation takes no request body",
                "body",
            ))
        } else {
            Ok(())
        };
    };
    if !sent {
        return if spec.required {
            Err(Violation::new(&op.id, "a request body is required", "body"))
        } else {
            Ok(())
        };
    }
    let accepted: Vec<&str> = spec.content.iter().map(|(m, _)| m.as_str()).collect();
    let Some(media) = media_type(headers) else {
        return Err(Violation::new(
            &op.id,
            format!(
                "a body was sent without a content-type; expected {}",
                accepted.join(" or ")
            ),
            "content-type",
        ));
    };
    let Some((_, schema)) = spec.content.iter().find(|(m, _)| *m == media) else {
        return Err(Violation::new(
            &op.id,
            format!(
                "content-type {media} is not accepted; expected {}",
                accepted.join(" or ")
            ),
            "content-type",
        ));
    };
    if media == MULTIPART {
        return check_multipart(op, spec.multipart.as_ref(), headers, body);
    }
    if !is_json(&media) {
        // Other bodies: the content type only.
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Violation::new(&op.id, format!("the body is not valid JSON: {e}"), "body"))?;
    match schema.as_ref().and_then(|s| s.first_error(&value)) {
        None => Ok(()),
        Some((pointer, message)) => Err(Violation::new(
            &op.id,
            format!("body{pointer}: {message}"),
            format!("body{pointer}"),
        )),
    }
}

pub(super) const MULTIPART: &str = "multipart/form-data";

/// A `multipart/form-data` body: boundary, syntax, required and undeclared parts, and the
/// content of JSON and text parts.
pub(super) fn check_multipart(
    op: &Operation,
    spec: Option<&MultipartSpec>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Violation> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multipart::boundary(content_type)
        .map_err(|e| Violation::new(&op.id, e.to_string(), "content-type"))?;
    let parts = multipart::parse(Bytes::copy_from_slice(body), &boundary)
        .map_err(|e| Violation::new(&op.id, e.to_string(), "body"))?;
    let Some(spec) = spec else {
        return Ok(());
    };
    if let Some(name) = spec
        .required
        .iter()
        .find(|name| !parts.iter().any(|p| &p.name == *name))
    {
        return Err(Violation::new(
            &op.id,
            format!("required form-data part '{name}' is missing"),
            format!("body/{name}"),
        ));
    }
    for part in &parts {
        let rule = spec.parts.iter().find(|(name, _)| name == &part.name);
        let value = match rule {
            None if spec.open => continue,
            None => {
                let declared: Vec<&str> = spec.parts.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Violation::new(
                    &op.id,
                    format!(
                        "form-data part '{}' is not declared by the operation (it takes {})",
                        part.name,
                        declared.join(", ")
                    ),
                    format!("body/{}", part.name),
                ));
            }
            Some((_, PartRule::File)) => continue,
            Some((_, PartRule::Json(schema))) => {
                let value: Value = serde_json::from_slice(&part.data).map_err(|e| {
                    Violation::new(
                        &op.id,
                        format!("form-data part '{}' is not valid JSON: {e}", part.name),
                        format!("body/{}", part.name),
                    )
                })?;
                (schema, value)
            }
            Some((_, PartRule::Text(schema))) => (
                schema,
                Value::String(String::from_utf8_lossy(&part.data).into_owned()),
            ),
        };
        let (schema, value) = value;
        if let Some((pointer, message)) = schema.first_error(&value) {
            return Err(Violation::new(
                &op.id,
                format!("form-data part '{}'{pointer}: {message}", part.name),
                format!("body/{}{pointer}", part.name),
            ));
        }
    }
    Ok(())
}
