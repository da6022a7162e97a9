//! Schemas of the OpenAPI document as self-contained JSON Schema 2020-12, compiled once.

use std::sync::OnceLock;

use anyhow::{anyhow, bail};
use serde_json::{Map, Value, json};

/// `$ref` nesting beyond which a schema is accepted as-is (the spec has no cycles).
pub(super) const MAX_REF_DEPTH: usize = 64;

/// Whether `format` is judged. Requests keep it an annotation (JSON Schema 2020-12's default,
/// so a connector is not refused for a spelling of a date the service accepts); answers are
/// judged with it, because a client parses what the spec promises (`date-time`, `email`, `uri`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Formats {
    Annotate,
    Assert,
}

/// A resolved JSON Schema, compiled on first use.
pub(super) struct Checked {
    pub(super) schema: Value,
    formats: Formats,
    validator: OnceLock<Result<jsonschema::Validator, String>>,
}

impl Checked {
    /// A schema that judges requests (`format` annotates).
    pub(super) fn new(schema: Value) -> Self {
        Self::with_formats(schema, Formats::Annotate)
    }

    pub(super) fn with_formats(schema: Value, formats: Formats) -> Self {
        Self {
            schema,
            formats,
            validator: OnceLock::new(),
        }
    }

    pub(super) fn kind(&self) -> Option<&str> {
        match self.schema.get("type") {
            Some(Value::String(t)) => Some(t),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        }
    }

    /// Compile the schema (once); the error says why the document's schema is unusable.
    pub(super) fn compile(&self) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| {
                jsonschema::draft202012::options()
                    .should_validate_formats(self.formats == Formats::Assert)
                    .build(&self.schema)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The first error of `value` against the schema: `(pointer, message)`. A schema the
    /// validator cannot compile is reported as an error at the root rather than passing
    /// everything: a check that cannot run must not look like a pass.
    pub(super) fn first_error(&self, value: &Value) -> Option<(String, String)> {
        match self.compile() {
            Err(why) => Some((
                String::new(),
                format!("the document's schema does not compile ({why})"),
            )),
            Ok(v) => v
                .iter_errors(value)
                .next()
                .map(|e| (e.instance_path().as_str().to_owned(), e.to_string())),
        }
    }
}

/// Follow a `$ref` chain (component objects: parameters, request bodies).
pub(super) fn resolve_ref<'a>(
    root: &'a Value,
    value: &'a Value,
    depth: usize,
) -> anyhow::Result<&'a Value> {
    match value.get("$ref").and_then(Value::as_str) {
        None => Ok(value),
        Some(_) if depth > MAX_REF_DEPTH => bail!("$ref chain too deep"),
        Some(reference) => {
            let target = pointer(root, reference)?;
            resolve_ref(root, target, depth + 1)
        }
    }
}

pub(super) fn pointer<'a>(root: &'a Value, reference: &str) -> anyhow::Result<&'a Value> {
    let fragment = reference
        .strip_prefix('#')
        .ok_or_else(|| anyhow!("only local $refs are supported, not {reference}"))?;
    root.pointer(fragment)
        .ok_or_else(|| anyhow!("$ref {reference} points nowhere"))
}

/// An OpenAPI schema as a self-contained JSON Schema 2020-12: `$ref`s inlined, `nullable`
/// turned into a type union.
pub(super) fn prepare(root: &Value, schema: &Value, depth: usize) -> anyhow::Result<Value> {
    if depth > MAX_REF_DEPTH {
        return Ok(json!({}));
    }
    Ok(match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let target = prepare(root, pointer(root, reference)?, depth + 1)?;
                let siblings: Map<String, Value> = map
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "$ref" | "description" | "summary" | "example" | "title"
                        )
                    })
                    .map(|(k, v)| Ok((k.clone(), prepare(root, v, depth + 1)?)))
                    .collect::<anyhow::Result<_>>()?;
                if siblings.is_empty() {
                    return Ok(target);
                }
                let mut merged = siblings;
                merged.insert("allOf".into(), json!([target]));
                return Ok(Value::Object(merged));
            }
            let mut out = Map::new();
            for (k, v) in map {
                // `example(s)` and `default` are annotations that may hold anything.
                if matches!(k.as_str(), "example" | "examples" | "default" | "nullable") {
                    continue;
                }
                out.insert(k.clone(), prepare(root, v, depth)?);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = out.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| prepare(root, v, depth))
                .collect::<anyhow::Result<_>>()?,
        ),
        other => other.clone(),
    })
}

/// An OpenAPI `content` map (of a request body or an answer): each media type, lower-cased,
/// with its schema prepared and judged with `formats`, in the document's order.
pub(super) fn content<'h>(
    root: &Value,
    holder: &'h Value,
    formats: Formats,
) -> anyhow::Result<Vec<(String, &'h Value, Option<Checked>)>> {
    let mut out = Vec::new();
    for (media, entry) in holder
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let schema = match entry.get("schema") {
            Some(s) => Some(Checked::with_formats(prepare(root, s, 0)?, formats)),
            None => None,
        };
        out.push((media.to_ascii_lowercase(), entry, schema));
    }
    Ok(out)
}
