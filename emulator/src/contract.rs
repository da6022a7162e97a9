//! Contract validation: every request under an API base (the Public API's, SCIM's) is checked
//! against Ironclad's official OpenAPI document for that API before any handler runs — operation (method + path template),
//! query/path/header parameters, content type and JSON body schema. A request that breaks the
//! contract is answered `400 {"code":"CONTRACT_VIOLATION","message":"<operationId>: <what>",
//! "param":"<where>"}` and kept in a list served at `GET /_emulator/contract-violations`
//! (`DELETE` clears it). The contract is optional: see [`Emulator::with_contract`] and
//! `start_with_contract`.
//!
//! `param` names where the problem is: a parameter's name (`status`, `id`, `x-as-user-email`),
//! `body` or `body/<json pointer>` for the body, `content-type`, or `path` when no operation
//! matches. Schemas are the spec's, with `$ref`s inlined and OpenAPI 3.0's `nullable` turned
//! into a JSON Schema type union; `format` is an annotation only (as in JSON Schema 2020-12).
//!
//! Known mistakes of the official document are corrected before it is parsed, each one an
//! entry of [`ERRATA`] saying where, what and why. An entry whose spot no longer holds the
//! mistaken value (Ironclad fixed it) does not apply, [`Contract::errata`] lists those that
//! did, and a test fails while the committed contract leaves an entry unused.
//!
//! `multipart/form-data` bodies are parsed (module `multipart`): the content type needs a
//! boundary, the schema's `required` parts must be there, parts it does not declare are refused
//! unless it says `additionalProperties: true` (or declares none), and parts with JSON content
//! (an `application/json` encoding, or an object schema, like `metadata`) must be JSON matching
//! the part's schema (`param` `body/<part>[/<json pointer>]`). File parts (`format: binary`) are
//! not judged; text parts are judged as JSON strings.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, anyhow, bail};
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::state::Emulator;
use crate::{multipart, query};

/// Most violations kept (oldest dropped first).
const VIOLATION_CAP: usize = 10_000;

/// Largest body the check buffers (the request log's limit).
const BODY_LIMIT: usize = crate::multipart::UPLOAD_BODY_LIMIT;

/// `$ref` nesting beyond which a schema is accepted as-is (the spec has no cycles).
const MAX_REF_DEPTH: usize = 64;

/// Routes the emulator serves under the API base that Ironclad documents elsewhere than in the
/// Public API OpenAPI (the older userinfo location); never judged by the contract.
const EXEMPT: [&str; 1] = ["/oauth/userinfo"];

/// A correction of the official document: the value at `pointer` (a JSON Pointer into the
/// document) is replaced by `corrected` when it is `mistaken` (both JSON text).
pub struct Erratum {
    pub pointer: &'static str,
    pub mistaken: &'static str,
    pub corrected: &'static str,
    /// What is wrong, and the evidence.
    pub why: &'static str,
}

/// The official document's known mistakes.
pub const ERRATA: &[Erratum] = &[Erratum {
    pointer: "/components/schemas/WorkflowLaunchMultipartModel/properties/data/required",
    mistaken: r#"["template", "attribute"]"#,
    corrected: r#"["template", "attributes"]"#,
    why: "the multipart launch's `data` part requires `attribute`, a property it does not \
          declare: its properties are `template`, `attributes` and `creator`, and the JSON \
          launch (WorkflowLaunchModel) requires `attributes`. As written no launch with files \
          could pass; `attributes` is meant.",
}];

/// Ironclad's Public API contract, parsed from its OpenAPI document. Cheap to clone.
#[derive(Clone)]
pub struct Contract {
    inner: Arc<Inner>,
}

struct Inner {
    /// The API base path from `servers[0].url`, e.g. `/public/api/v1`.
    base_path: String,
    operations: Vec<Operation>,
    /// The [`ERRATA`] this document needed.
    errata: Vec<&'static Erratum>,
}

struct Operation {
    id: String,
    /// Upper-case.
    method: String,
    template: String,
    segments: Vec<Segment>,
    params: Vec<ParamSpec>,
    body: Option<BodySpec>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
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

struct ParamSpec {
    name: String,
    location: Location,
    required: bool,
    schema: Checked,
}

struct BodySpec {
    required: bool,
    /// Media type (lower-case) → schema.
    content: Vec<(String, Option<Checked>)>,
    /// The parts a `multipart/form-data` body may hold, when that media type has a schema.
    multipart: Option<MultipartSpec>,
}

/// What a `multipart/form-data` body must hold: its schema's properties are the part names.
struct MultipartSpec {
    required: Vec<String>,
    parts: Vec<(String, PartRule)>,
    /// Undeclared parts allowed: `additionalProperties: true`, or no properties declared.
    open: bool,
}

enum PartRule {
    /// A file (`format: binary`): any bytes.
    File,
    /// JSON content (an `application/json` encoding, or an object schema).
    Json(Checked),
    /// Text, judged as a JSON string.
    Text(Checked),
}

impl MultipartSpec {
    /// From the media type's prepared schema and its `encoding` map.
    fn new(schema: &Value, encoding: Option<&Value>) -> Self {
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

/// A resolved JSON Schema, compiled on first use.
struct Checked {
    schema: Value,
    validator: OnceLock<Result<jsonschema::Validator, String>>,
}

impl Checked {
    fn new(schema: Value) -> Self {
        Self {
            schema,
            validator: OnceLock::new(),
        }
    }

    fn kind(&self) -> Option<&str> {
        match self.schema.get("type") {
            Some(Value::String(t)) => Some(t),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        }
    }

    /// The first error of `value` against the schema: `(pointer, message)`.
    fn first_error(&self, value: &Value) -> Option<(String, String)> {
        let validator = self.validator.get_or_init(|| {
            jsonschema::draft202012::options()
                .should_validate_formats(false)
                .build(&self.schema)
                .map_err(|e| e.to_string())
        });
        match validator {
            // A schema the validator cannot compile is the spec's problem, not the request's.
            Err(_) => None,
            Ok(v) => v
                .iter_errors(value)
                .next()
                .map(|e| (e.instance_path().as_str().to_owned(), e.to_string())),
        }
    }
}

/// One broken rule: the operation (its `operationId`, or `METHOD path` when none matched),
/// what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub operation: String,
    pub message: String,
    pub param: String,
}

impl Violation {
    fn new(operation: &str, message: impl Into<String>, param: impl Into<String>) -> Self {
        Self {
            operation: operation.to_owned(),
            message: message.into(),
            param: param.into(),
        }
    }

    /// The 400 body: `{"code":"CONTRACT_VIOLATION","message":"<op>: <what>","param":"<where>"}`.
    pub fn body(&self) -> Value {
        json!({
            "code": "CONTRACT_VIOLATION",
            "message": format!("{}: {}", self.operation, self.message),
            "param": self.param,
        })
    }
}

/// A request as the contract sees it.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The URL path, still percent-encoded.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Contract {
    /// Parse the OpenAPI document at `path`: the committed contract (`.json`, see
    /// `fixtures/contract/`) or an official YAML file.
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the OpenAPI document {}", path.display()))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str::<Value>(&text)
                .map_err(anyhow::Error::from)
                .and_then(|root| Self::from_value(&root))
        } else {
            Self::from_yaml(&text)
        };
        parsed.with_context(|| format!("parsing the OpenAPI document {}", path.display()))
    }

    pub fn from_yaml(text: &str) -> anyhow::Result<Self> {
        let root: Value = serde_yaml::from_str(text)?;
        Self::from_value(&root)
    }

    pub fn from_value(root: &Value) -> anyhow::Result<Self> {
        let mut root = root.clone();
        let errata = correct(&mut root, ERRATA);
        let root = &root;
        let server = root
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("the document has no servers[0].url"))?;
        let base_path = base_path(server);
        let paths = root
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("the document has no paths"))?;
        let mut operations = Vec::new();
        for (template, item) in paths {
            let item = resolve_ref(root, item, 0)?;
            let shared = item.get("parameters").cloned().unwrap_or(json!([]));
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if ![
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ]
                .contains(&method.as_str())
                {
                    continue;
                }
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{} {template}", method.to_uppercase()));
                let operation = parse_operation(root, template, method, &id, op, &shared)
                    .with_context(|| format!("operation {id}"))?;
                operations.push(operation);
            }
        }
        if operations.is_empty() {
            bail!("the document declares no operations");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                base_path,
                operations,
                errata,
            }),
        })
    }

    /// The API base path requests are judged under, e.g. `/public/api/v1`.
    pub fn base_path(&self) -> &str {
        &self.inner.base_path
    }

    /// The [`ERRATA`] this document needed (applied before parsing).
    pub fn errata(&self) -> &[&'static Erratum] {
        &self.inner.errata
    }

    pub fn operation_count(&self) -> usize {
        self.inner.operations.len()
    }

    /// The `operationId` serving `method` on `path` (a full URL path, base included), if any.
    pub fn operation_id(&self, method: &str, path: &str) -> Option<&str> {
        let rest = path.strip_prefix(self.base_path())?;
        self.find(method, rest).map(|(op, _)| op.id.as_str())
    }

    /// Judge one request. Requests outside the API base, and the exempt routes, always pass.
    pub fn check(&self, req: &RequestParts<'_>) -> Result<(), Violation> {
        let Some(rest) = req.path.strip_prefix(self.base_path()) else {
            return Ok(());
        };
        if !(rest.is_empty() || rest.starts_with('/')) || EXEMPT.contains(&rest) {
            return Ok(());
        }
        let Some((op, path_values)) = self.find(req.method, rest) else {
            let what = if self.matches_path(rest) {
                format!("{} is not an operation of this path", req.method)
            } else {
                "no operation has this path".to_owned()
            };
            return Err(Violation::new(
                &format!("{} {}", req.method, req.path),
                what,
                "path",
            ));
        };
        check_query(op, req.query.unwrap_or_default())?;
        check_path(op, &path_values)?;
        check_headers(op, req.headers)?;
        check_body(op, req.headers, req.body)
    }

    fn matches_path(&self, rest: &str) -> bool {
        let parts = split(rest);
        self.inner
            .operations
            .iter()
            .any(|op| match_segments(&op.segments, &parts).is_some())
    }

    /// The operation for `method` on `rest` (path below the base) and its path values. Among
    /// templates that match, the one with a literal where the others have a parameter wins,
    /// comparing segments left to right (`/records/metadata` before `/records/{id}`).
    fn find(&self, method: &str, rest: &str) -> Option<(&Operation, Vec<(String, String)>)> {
        let parts = split(rest);
        self.inner
            .operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method))
            .filter_map(|op| match_segments(&op.segments, &parts).map(|values| (op, values)))
            .max_by(|(a, _), (b, _)| specificity(&a.segments).cmp(&specificity(&b.segments)))
    }
}

/// Apply the errata whose spot holds the mistaken value; returns them.
fn correct(root: &mut Value, errata: &'static [Erratum]) -> Vec<&'static Erratum> {
    let text = |json: &str| -> Value { serde_json::from_str(json).expect("errata are JSON") };
    errata
        .iter()
        .filter_map(|e| {
            let spot = root.pointer_mut(e.pointer)?;
            (*spot == text(e.mistaken)).then(|| {
                *spot = text(e.corrected);
                e
            })
        })
        .collect()
}

fn base_path(server_url: &str) -> String {
    let after_scheme = server_url
        .split_once("://")
        .map_or(server_url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.trim_end_matches('/').to_owned()
}

fn split(rest: &str) -> Vec<&str> {
    rest.strip_prefix('/').unwrap_or(rest).split('/').collect()
}

fn match_segments(template: &[Segment], parts: &[&str]) -> Option<Vec<(String, String)>> {
    if template.len() != parts.len() {
        return None;
    }
    let mut values = Vec::new();
    for (segment, part) in template.iter().zip(parts) {
        match segment {
            Segment::Literal(lit) if lit == part => {}
            Segment::Literal(_) => return None,
            Segment::Param(_) if part.is_empty() => return None,
            Segment::Param(name) => values.push((name.clone(), path_decode(part))),
        }
    }
    Some(values)
}

/// Literal segments as 1s, left to right: compares lexicographically.
fn specificity(segments: &[Segment]) -> Vec<u8> {
    segments
        .iter()
        .map(|s| u8::from(matches!(s, Segment::Literal(_))))
        .collect()
}

/// Percent-decoding for a path segment (`+` stays a plus).
fn path_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_operation(
    root: &Value,
    template: &str,
    method: &str,
    id: &str,
    op: &Value,
    shared: &Value,
) -> anyhow::Result<Operation> {
    let segments = split(template)
        .into_iter()
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect();
    // Operation parameters override path-item ones with the same name and location.
    let mut declared: Vec<Value> = Vec::new();
    for list in [op.get("parameters"), Some(shared)].into_iter().flatten() {
        for p in list.as_array().into_iter().flatten() {
            let p = resolve_ref(root, p, 0)?.clone();
            let same = |q: &Value| q.get("name") == p.get("name") && q.get("in") == p.get("in");
            if !declared.iter().any(same) {
                declared.push(p);
            }
        }
    }
    let mut params = Vec::new();
    for p in declared {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("a parameter has no name"))?;
        let location = match p.get("in").and_then(Value::as_str) {
            Some("query") => Location::Query,
            Some("path") => Location::Path,
            Some("header") => Location::Header,
            // Cookie parameters are not judged.
            _ => continue,
        };
        let schema = prepare(root, p.get("schema").unwrap_or(&json!({})), 0)?;
        params.push(ParamSpec {
            // Header names are case-insensitive.
            name: if location == Location::Header {
                name.to_ascii_lowercase()
            } else {
                name.to_owned()
            },
            location,
            required: location == Location::Path
                || p.get("required").and_then(Value::as_bool).unwrap_or(false),
            schema: Checked::new(schema),
        });
    }
    let body = match op.get("requestBody") {
        None => None,
        Some(rb) => {
            let rb = resolve_ref(root, rb, 0)?;
            let mut content = Vec::new();
            let mut multipart = None;
            for (media, entry) in rb
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let schema = match entry.get("schema") {
                    Some(s) => Some(Checked::new(prepare(root, s, 0)?)),
                    None => None,
                };
                let media = media.to_ascii_lowercase();
                if media == MULTIPART
                    && let Some(schema) = &schema
                {
                    multipart = Some(MultipartSpec::new(&schema.schema, entry.get("encoding")));
                }
                content.push((media, schema));
            }
            Some(BodySpec {
                required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
                content,
                multipart,
            })
        }
    };
    Ok(Operation {
        id: id.to_owned(),
        method: method.to_ascii_uppercase(),
        template: template.to_owned(),
        segments,
        params,
        body,
    })
}

/// Follow a `$ref` chain (component objects: parameters, request bodies).
fn resolve_ref<'a>(root: &'a Value, value: &'a Value, depth: usize) -> anyhow::Result<&'a Value> {
    match value.get("$ref").and_then(Value::as_str) {
        None => Ok(value),
        Some(_) if depth > MAX_REF_DEPTH => bail!("$ref chain too deep"),
        Some(reference) => {
            let target = pointer(root, reference)?;
            resolve_ref(root, target, depth + 1)
        }
    }
}

fn pointer<'a>(root: &'a Value, reference: &str) -> anyhow::Result<&'a Value> {
    let fragment = reference
        .strip_prefix('#')
        .ok_or_else(|| anyhow!("only local $refs are supported, not {reference}"))?;
    root.pointer(fragment)
        .ok_or_else(|| anyhow!("$ref {reference} points nowhere"))
}

/// An OpenAPI schema as a self-contained JSON Schema 2020-12: `$ref`s inlined, `nullable`
/// turned into a type union.
fn prepare(root: &Value, schema: &Value, depth: usize) -> anyhow::Result<Value> {
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

fn check_query(op: &Operation, raw: &str) -> Result<(), Violation> {
    let pairs = query::parse_pairs(raw);
    for (name, _) in &pairs {
        if !op
            .params
            .iter()
            .any(|p| p.location == Location::Query && &p.name == name)
        {
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

fn check_path(op: &Operation, values: &[(String, String)]) -> Result<(), Violation> {
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

fn check_headers(op: &Operation, headers: &HeaderMap) -> Result<(), Violation> {
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
fn coerce(
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

fn check_value(op: &Operation, spec: &ParamSpec, value: &Value) -> Result<(), Violation> {
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

fn media_type(headers: &HeaderMap) -> Option<String> {
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

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

fn check_body(op: &Operation, headers: &HeaderMap, body: &[u8]) -> Result<(), Violation> {
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

const MULTIPART: &str = "multipart/form-data";

/// A `multipart/form-data` body: boundary, syntax, required and undeclared parts, and the
/// content of JSON and text parts.
fn check_multipart(
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

/// The contracts in force on an emulator (one per API base: the Public API, SCIM), with the
/// violations they have seen.
pub struct Enforced {
    contracts: Vec<Contract>,
    violations: Mutex<Vec<Value>>,
}

impl Enforced {
    pub fn new(contracts: Vec<Contract>) -> Self {
        Self {
            contracts,
            violations: Mutex::new(Vec::new()),
        }
    }

    /// The contract judging `path`: the one whose API base it is under.
    fn for_path(&self, path: &str) -> Option<&Contract> {
        self.contracts
            .iter()
            .find(|c| path.starts_with(c.base_path()))
    }

    fn violations(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.violations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Emulator {
    /// The same tenant with `contract` enforced on every request under its API base, beside
    /// the contracts already in force (a second document for the same base replaces the first).
    pub fn with_contract(mut self, contract: Contract) -> Self {
        let mut contracts: Vec<Contract> = self
            .contract
            .as_deref()
            .map(|e| e.contracts.clone())
            .unwrap_or_default();
        contracts.retain(|c| c.base_path() != contract.base_path());
        contracts.push(contract);
        self.contract = Some(Arc::new(Enforced::new(contracts)));
        self
    }

    /// The first contract in force (the Public API's, as tests set them up), if any.
    pub fn contract(&self) -> Option<&Contract> {
        self.contract.as_deref().and_then(|e| e.contracts.first())
    }

    /// Every contract in force.
    pub fn contracts(&self) -> Vec<Contract> {
        self.contract
            .as_deref()
            .map(|e| e.contracts.clone())
            .unwrap_or_default()
    }

    /// Every contract violation seen so far, oldest first:
    /// `{method, path, query, operation, message, param}`.
    pub fn contract_violations(&self) -> Vec<Value> {
        self.contract
            .as_deref()
            .map(|e| e.violations().clone())
            .unwrap_or_default()
    }
}

/// Middleware: judge Public API requests against the contract, when one is in force.
pub async fn enforce(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let Some(enforced) = emu.contract.clone() else {
        return next.run(req).await;
    };
    let Some(contract) = enforced.for_path(req.uri().path()).cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"code": "INVALID_PARAM", "message": "request body is too large", "param": "body"})),
        )
            .into_response();
    };
    let verdict = contract.check(&RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    });
    match verdict {
        Ok(()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(violation) => {
            let mut list = enforced.violations();
            if list.len() >= VIOLATION_CAP {
                list.remove(0);
            }
            list.push(json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "query": parts.uri.query().unwrap_or_default(),
                "operation": violation.operation,
                "message": violation.message,
                "param": violation.param,
            }));
            drop(list);
            // Shown with the output of the test that sent it.
            eprintln!(
                "emulator: contract violation by {} {}: {}",
                parts.method,
                parts.uri,
                violation.body()
            );
            (StatusCode::BAD_REQUEST, Json(violation.body())).into_response()
        }
    }
}

/// `GET /_emulator/contract-violations` (a list; empty without a contract), `DELETE` clears.
pub fn routes() -> Router<Emulator> {
    Router::new().route(
        "/_emulator/contract-violations",
        get(list_violations).delete(clear_violations),
    )
}

async fn list_violations(State(emu): State<Emulator>) -> Json<Value> {
    Json(Value::Array(emu.contract_violations()))
}

async fn clear_violations(State(emu): State<Emulator>) -> Json<Value> {
    let cleared = emu
        .contract
        .as_deref()
        .map(|e| std::mem::take(&mut *e.violations()).len())
        .unwrap_or(0);
    Json(json!({ "cleared": cleared }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A small document in the official one's style, exercising each rule.
    const MINI: &str = r##"
openapi: 3.1.0
info: { title: mini, version: '1' }
servers:
- url: https://na1.example.com/public/api/v1
paths:
  /workflows:
    get:
      operationId: list-all-workflows
      parameters:
      - $ref: '#/components/parameters/XAsUserEmail'
      - $ref: '#/components/parameters/QueryPageSize'
      - name: status
        in: query
        schema:
          type: array
          items: { type: string, enum: [active, paused, completed, cancelled] }
      - name: hydrateEntities
        in: query
        schema: { type: boolean }
  /workflow-schemas:
    get:
      operationId: list-all-workflow-schemas
      parameters:
      - name: form
        in: query
        required: true
        schema: { type: string, enum: [launch] }
  /records/{id}:
    get:
      operationId: retrieve-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
    delete:
      operationId: delete-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
  /records/metadata:
    get:
      operationId: list-all-records-metadata
  /webhooks:
    post:
      operationId: create-a-webhook
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                events:
                  type: array
                  minItems: 1
                  items: { $ref: '#/components/schemas/WebhookEvent' }
                targetURL: { type: string, format: https-url }
                note: { type: string, nullable: true }
              required: [events, targetURL]
  /records/{id}/attachments/{key}:
    post:
      operationId: create-an-attachment-on-a-record
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      - { name: key, in: path, required: true, schema: { type: string } }
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: { type: object }
  /workflows/{id}/upload-signed:
    post:
      operationId: workflow-upload-signed-document
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [attachment]
              properties:
                attachment: { type: object, format: binary }
                metadata:
                  type: object
                  properties:
                    signerRoleNames: { type: array, items: { type: string } }
                recordType: { type: string, enum: [imported, contract] }
            encoding:
              attachment: { contentType: application/pdf }
              metadata: { contentType: application/json }
  /workflows/launch-multipart:
    post:
      operationId: launch-multipart
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              additionalProperties: true
              properties:
                data: { type: object, required: [template] }
components:
  schemas:
    WebhookEvent:
      type: string
      enum: ['*', workflow_launched, workflow_completed]
  parameters:
    XAsUserEmail:
      name: x-as-user-email
      in: header
      required: false
      schema: { type: string }
    QueryPageSize:
      name: pageSize
      in: query
      schema: { type: integer, minimum: 1, maximum: 100 }
"##;

    fn mini() -> Contract {
        Contract::from_yaml(MINI).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn judge(
        c: &Contract,
        method: &str,
        target: &str,
        hdrs: &[(&'static str, &str)],
        body: &str,
    ) -> Result<(), Violation> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        c.check(&RequestParts {
            method,
            path,
            query,
            headers: &headers(hdrs),
            body: body.as_bytes(),
        })
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn valid_requests_pass() {
        let c = mini();
        assert_eq!(c.base_path(), "/public/api/v1");
        for (method, target, body) in [
            (
                "GET",
                "/public/api/v1/workflows?pageSize=100&status=active%2Cpaused&hydrateEntities=false",
                "",
            ),
            (
                "GET",
                "/public/api/v1/workflows?status=active&status=completed",
                "",
            ),
            ("GET", "/public/api/v1/workflow-schemas?form=launch", ""),
            ("GET", "/public/api/v1/records/IC-12", ""),
            ("DELETE", "/public/api/v1/records/metadata", ""),
            (
                "POST",
                "/public/api/v1/webhooks",
                r#"{"events":["*"],"targetURL":"https://h.example/x","note":null}"#,
            ),
            // Outside the API base and exempt routes are not judged.
            ("POST", "/oauth/token", "grant_type=client_credentials"),
            ("GET", "/public/api/v1/oauth/userinfo", ""),
        ] {
            let result = judge(
                &c,
                method,
                target,
                &[JSON, ("x-as-user-email", "a@b.example")],
                body,
            );
            assert_eq!(result, Ok(()), "{method} {target}");
        }
    }

    #[test]
    fn unknown_query_parameter() {
        let v = judge(
            &mini(),
            "GET",
            "/public/api/v1/workflows?pageSize=5&sort=name",
            &[],
            "",
        )
        .unwrap_err();
        assert_eq!(v.operation, "list-all-workflows");
        assert_eq!(v.param, "sort");
        assert!(v.message.contains("not declared"), "{}", v.message);
        assert_eq!(
            v.body(),
            json!({"code": "CONTRACT_VIOLATION", "message": format!("list-all-workflows: {}", v.message), "param": "sort"})
        );
    }

    #[test]
    fn missing_required_parameter() {
        let v = judge(&mini(), "GET", "/public/api/v1/workflow-schemas", &[], "").unwrap_err();
        assert_eq!(
            (v.operation.as_str(), v.param.as_str()),
            ("list-all-workflow-schemas", "form")
        );
        assert!(v.message.contains("required"), "{}", v.message);
    }

    #[test]
    fn bad_enum_integer_and_boolean_values() {
        let c = mini();
        let v = judge(
            &c,
            "GET",
            "/public/api/v1/workflows?status=active,archived",
            &[],
            "",
        )
        .unwrap_err();
        assert_eq!(v.param, "status");
        assert!(v.message.contains("archived"), "{}", v.message);
        let v = judge(
            &c,
            "GET",
            "/public/api/v1/workflow-schemas?form=edit",
            &[],
            "",
        )
        .unwrap_err();
        assert_eq!(v.param, "form");
        let v = judge(&c, "GET", "/public/api/v1/workflows?pageSize=101", &[], "").unwrap_err();
        assert_eq!(v.param, "pageSize");
        let v = judge(&c, "GET", "/public/api/v1/workflows?pageSize=ten", &[], "").unwrap_err();
        assert!(v.message.contains("an integer"), "{}", v.message);
        let v = judge(
            &c,
            "GET",
            "/public/api/v1/workflows?hydrateEntities=yes",
            &[],
            "",
        )
        .unwrap_err();
        assert_eq!(v.param, "hydrateEntities");
        let v = judge(
            &c,
            "GET",
            "/public/api/v1/workflows?pageSize=1&pageSize=2",
            &[],
            "",
        )
        .unwrap_err();
        assert!(v.message.contains("more than once"), "{}", v.message);
    }

    #[test]
    fn body_violating_the_schema() {
        let c = mini();
        let v = judge(
            &c,
            "POST",
            "/public/api/v1/webhooks",
            &[JSON],
            r#"{"events":["nope"],"targetURL":"https://h.example"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (v.operation.as_str(), v.param.as_str()),
            ("create-a-webhook", "body/events/0")
        );
        let v = judge(
            &c,
            "POST",
            "/public/api/v1/webhooks",
            &[JSON],
            r#"{"events":["*"]}"#,
        )
        .unwrap_err();
        assert_eq!(v.param, "body");
        assert!(v.message.contains("targetURL"), "{}", v.message);
        let v = judge(
            &c,
            "POST",
            "/public/api/v1/webhooks",
            &[JSON],
            r#"{"events":[],"targetURL":"x"}"#,
        )
        .unwrap_err();
        assert_eq!(v.param, "body/events");
        let v = judge(&c, "POST", "/public/api/v1/webhooks", &[JSON], "{not json").unwrap_err();
        assert!(v.message.contains("not valid JSON"), "{}", v.message);
        // A body where the operation takes none.
        let v = judge(&c, "GET", "/public/api/v1/records/x", &[JSON], "{}").unwrap_err();
        assert_eq!(v.param, "body");
    }

    #[test]
    fn wrong_content_type() {
        let c = mini();
        let body = r#"{"events":["*"],"targetURL":"https://h.example"}"#;
        let v = judge(
            &c,
            "POST",
            "/public/api/v1/webhooks",
            &[("content-type", "text/plain")],
            body,
        )
        .unwrap_err();
        assert_eq!(v.param, "content-type");
        assert!(v.message.contains("application/json"), "{}", v.message);
        let v = judge(&c, "POST", "/public/api/v1/webhooks", &[], body).unwrap_err();
        assert_eq!(v.param, "content-type");
        assert_eq!(
            judge(
                &c,
                "POST",
                "/public/api/v1/webhooks",
                &[("content-type", "application/json; charset=utf-8")],
                body
            ),
            Ok(())
        );
        // Multipart: the content type only; a required body must be there.
        let target = "/public/api/v1/records/r1/attachments/signedCopy";
        let multipart = ("content-type", "multipart/form-data; boundary=x");
        assert_eq!(judge(&c, "POST", target, &[multipart], "--x--"), Ok(()));
        assert_eq!(
            judge(&c, "POST", target, &[JSON], "{}").unwrap_err().param,
            "content-type"
        );
        assert_eq!(
            judge(&c, "POST", target, &[multipart], "")
                .unwrap_err()
                .param,
            "body"
        );
    }

    #[test]
    fn route_precedence_and_unknown_routes() {
        let c = mini();
        assert_eq!(
            c.operation_id("GET", "/public/api/v1/records/metadata"),
            Some("list-all-records-metadata")
        );
        assert_eq!(
            c.operation_id("GET", "/public/api/v1/records/IC-1"),
            Some("retrieve-a-record")
        );
        // No DELETE on the literal path: the templated one serves it.
        assert_eq!(
            c.operation_id("DELETE", "/public/api/v1/records/metadata"),
            Some("delete-a-record")
        );
        // An undeclared parameter names the literal route's operation.
        let v = judge(&c, "GET", "/public/api/v1/records/metadata?x=1", &[], "").unwrap_err();
        assert_eq!(v.operation, "list-all-records-metadata");
        let v = judge(&c, "GET", "/public/api/v1/nothing", &[], "").unwrap_err();
        assert_eq!(
            (v.operation.as_str(), v.param.as_str()),
            ("GET /public/api/v1/nothing", "path")
        );
        let v = judge(&c, "PUT", "/public/api/v1/workflows", &[], "").unwrap_err();
        assert!(
            v.message.contains("not an operation of this path"),
            "{}",
            v.message
        );
        assert!(judge(&c, "GET", "/public/api/v1/records/", &[], "").is_err());
    }

    #[test]
    fn percent_encoded_path_values_are_decoded() {
        let c = mini();
        assert_eq!(
            judge(
                &c,
                "GET",
                "/public/api/v1/records/Legal%20Approver",
                &[],
                ""
            ),
            Ok(())
        );
    }

    /// The official document, when the reference material is beside the repository.
    /// Judge a multipart request built from `(name, filename, content type, bytes)` parts.
    fn judge_form(
        c: &Contract,
        target: &str,
        parts: &[multipart::PartSpec<'_>],
    ) -> Result<(), Violation> {
        let (boundary, body) = multipart::encode(parts);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        c.check(&RequestParts {
            method: "POST",
            path: target,
            query: None,
            headers: &headers(&[("content-type", &content_type)]),
            body: &body,
        })
    }

    #[test]
    fn multipart_parts() {
        let c = mini();
        let target = "/public/api/v1/workflows/w1/upload-signed";
        let pdf: &[u8] = b"%PDF-1.4\n\xff\x00\r\n--";
        let file = ("attachment", Some("s.pdf"), Some("application/pdf"), pdf);
        let meta =
            |json: &'static str| ("metadata", None, Some("application/json"), json.as_bytes());
        assert_eq!(judge_form(&c, target, &[file]), Ok(()));
        assert_eq!(
            judge_form(
                &c,
                target,
                &[file, meta(r#"{"signerRoleNames":["Counterparty Signer"]}"#)]
            ),
            Ok(())
        );
        assert_eq!(
            judge_form(&c, target, &[file, ("recordType", None, None, b"imported")]),
            Ok(())
        );
        // A required part is missing.
        let v = judge_form(&c, target, &[meta("{}")]).unwrap_err();
        assert_eq!(
            (v.operation.as_str(), v.param.as_str()),
            ("workflow-upload-signed-document", "body/attachment")
        );
        assert!(
            v.message.contains("required form-data part 'attachment'"),
            "{}",
            v.message
        );
        // An undeclared part.
        let v = judge_form(&c, target, &[file, ("signers", None, None, b"x")]).unwrap_err();
        assert_eq!(v.param, "body/signers");
        assert!(v.message.contains("not declared"), "{}", v.message);
        // JSON content: not JSON, then not matching the part's schema.
        let v = judge_form(&c, target, &[file, meta("{oops")]).unwrap_err();
        assert_eq!(v.param, "body/metadata");
        assert!(v.message.contains("not valid JSON"), "{}", v.message);
        let v = judge_form(&c, target, &[file, meta(r#"{"signerRoleNames":[1]}"#)]).unwrap_err();
        assert_eq!(v.param, "body/metadata/signerRoleNames/0");
        // A text part outside its enum.
        let v = judge_form(&c, target, &[file, ("recordType", None, None, b"lease")]).unwrap_err();
        assert_eq!(v.param, "body/recordType");
        // Open schemas take any extra part; their declared JSON parts are still judged.
        let launch = "/public/api/v1/workflows/launch-multipart";
        assert_eq!(
            judge_form(
                &c,
                launch,
                &[
                    meta("{}"),
                    ("data", None, None, br#"{"template":"t"}"#),
                    file
                ]
            ),
            Ok(())
        );
        assert_eq!(
            judge_form(&c, launch, &[("data", None, None, b"{}")])
                .unwrap_err()
                .param,
            "body/data"
        );
    }

    #[test]
    fn multipart_content_type_and_syntax() {
        let c = mini();
        let target = "/public/api/v1/workflows/w1/upload-signed";
        let v = judge(
            &c,
            "POST",
            target,
            &[("content-type", "multipart/form-data")],
            "--x--",
        )
        .unwrap_err();
        assert_eq!(v.param, "content-type");
        assert!(v.message.contains("boundary"), "{}", v.message);
        let v = judge(
            &c,
            "POST",
            target,
            &[("content-type", "multipart/form-data; boundary=x")],
            "--x\r\nContent-Disposition: form-data; name=\"attachment\"\r\n\r\ntruncated",
        )
        .unwrap_err();
        assert_eq!(v.param, "body");
        assert!(v.message.contains("closing boundary"), "{}", v.message);
        let v = judge(&c, "POST", target, &[JSON], "{}").unwrap_err();
        assert_eq!(v.param, "content-type");
    }

    #[test]
    fn errata_apply_only_where_the_mistake_is() {
        static ERRATA_UNDER_TEST: [Erratum; 3] = [
            Erratum {
                pointer: "/a/required",
                mistaken: r#"["attribute"]"#,
                corrected: r#"["attributes"]"#,
                why: "typo",
            },
            Erratum {
                pointer: "/b/required",
                mistaken: r#"["x"]"#,
                corrected: r#"["y"]"#,
                why: "already fixed upstream",
            },
            Erratum {
                pointer: "/missing",
                mistaken: "1",
                corrected: "2",
                why: "gone",
            },
        ];
        let mut doc = json!({ "a": { "required": ["attribute"] }, "b": { "required": ["z"] } });
        let applied: Vec<&str> = correct(&mut doc, &ERRATA_UNDER_TEST)
            .iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(applied, ["/a/required"]);
        assert_eq!(
            doc,
            json!({ "a": { "required": ["attributes"] }, "b": { "required": ["z"] } })
        );
        // Every shipped erratum is JSON on both sides.
        for e in ERRATA {
            serde_json::from_str::<Value>(e.mistaken).unwrap();
            serde_json::from_str::<Value>(e.corrected).unwrap();
        }
        // The mini document has none of the mistakes.
        assert!(mini().errata().is_empty());
    }

    #[test]
    fn official_document_loads_and_routes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/contract/clm-public.json"
        );
        let c = Contract::load(path).unwrap();
        assert_eq!(c.base_path(), "/public/api/v1");
        assert!(c.operation_count() > 70, "{}", c.operation_count());
        // Every erratum still corrects the committed contract: once Ironclad fixes a mistake
        // and `catalog-gen` writes the fixed document, this fails until the entry is removed.
        assert_eq!(
            c.errata().len(),
            ERRATA.len(),
            "an erratum no longer applies; remove it from ERRATA"
        );
        assert_eq!(
            c.operation_id("GET", "/public/api/v1/records/metadata"),
            Some("list-all-records-metadata")
        );
        assert_eq!(
            c.operation_id("GET", "/public/api/v1/webhooks/verification-key"),
            Some("retrieve-webhook-verification-key")
        );
        assert_eq!(
            c.operation_id("GET", "/public/api/v1/workflows/async/jobId1"),
            Some("retrieve-asynchronous-workflow-status")
        );
        let email = ("x-as-user-email", "a@b.example");
        assert_eq!(
            judge(
                &c,
                "GET",
                "/public/api/v1/workflows?status=active%2Cpaused&page=0&pageSize=100",
                &[email],
                ""
            ),
            Ok(())
        );
        let launch = r#"{"template":"t1","attributes":{"counterpartyName":"Acme"}}"#;
        assert_eq!(
            judge(
                &c,
                "POST",
                "/public/api/v1/workflows",
                &[email, JSON],
                launch
            ),
            Ok(())
        );
        let v = judge(
            &c,
            "POST",
            "/public/api/v1/workflows",
            &[email, JSON],
            r#"{"template":"t1","attributes":{},"extra":1}"#,
        )
        .unwrap_err();
        assert_eq!(v.operation, "launch-a-new-workflow");
        let v = judge(&c, "GET", "/public/api/v1/workflow-schemas", &[email], "").unwrap_err();
        assert_eq!(v.param, "form");
        // Multipart operations: part names as the spec's schemas declare them.
        let pdf: &[u8] = b"%PDF-1.4\n\x00\xff";
        let file = ("attachment", Some("NDA.pdf"), Some("application/pdf"), pdf);
        let json_part = |name: &'static str, json: &'static str| {
            (name, None, Some("application/json"), json.as_bytes())
        };
        let text_part =
            |name: &'static str, text: &'static str| (name, None, None, text.as_bytes());
        for (target, parts) in [
            ("/public/api/v1/workflows/w1/upload-signed", vec![file]),
            (
                "/public/api/v1/workflows/w1/upload-signed",
                vec![
                    file,
                    json_part("metadata", r#"{"signerRoleNames":["Counterparty Signer"]}"#),
                ],
            ),
            (
                "/public/api/v1/workflows/w1/documents/draft",
                vec![
                    file,
                    json_part("metadata", r#"{"comment":{"message":"v2"},"key":"k1"}"#),
                ],
            ),
            (
                "/public/api/v1/records/IC-1/attachments/signedCopy",
                vec![file, json_part("metadata", r#"{"filename":"NDA.pdf"}"#)],
            ),
            (
                "/public/api/v1/records/smart-import",
                vec![file, text_part("recordType", "imported")],
            ),
            (
                "/public/api/v1/records/smart-import/imp1",
                vec![file, text_part("recordType", "contract")],
            ),
        ] {
            assert_eq!(judge_form(&c, target, &parts), Ok(()), "{target}");
        }
        let v = judge_form(
            &c,
            "/public/api/v1/workflows/w1/documents/draft",
            &[file, json_part("metadata", r#"{"key":"k1"}"#)],
        )
        .unwrap_err();
        assert_eq!(v.operation, "create-a-workflow-document");
        assert_eq!(v.param, "body/metadata");
        let v = judge_form(&c, "/public/api/v1/records/smart-import/imp1", &[file]).unwrap_err();
        assert_eq!(v.param, "body/recordType");
        let v = judge_form(
            &c,
            "/public/api/v1/records/smart-import",
            &[file, text_part("metadata", "{}")],
        )
        .unwrap_err();
        assert_eq!(v.param, "body/metadata");
        // The multipart launch, with the `attribute` typo corrected (ERRATA).
        let applied: Vec<&str> = c.errata().iter().map(|e| e.pointer).collect();
        assert_eq!(applied, [ERRATA[0].pointer]);
        let launch = "/public/api/v1/workflows";
        let data = r#"{"template":"t1","attributes":{"counterpartyName":"Acme","draft":[{"file":"contract"}]}}"#;
        let contract = ("contract", Some("MSA.pdf"), Some("application/pdf"), pdf);
        assert_eq!(
            judge_form(&c, launch, &[json_part("data", data), contract]),
            Ok(())
        );
        let v = judge_form(
            &c,
            launch,
            &[json_part("data", r#"{"template":"t1"}"#), contract],
        )
        .unwrap_err();
        assert_eq!(
            (v.operation.as_str(), v.param.as_str()),
            ("launch-a-new-workflow", "body/data")
        );
        assert!(v.message.contains("attributes"), "{}", v.message);
        // The async route declares JSON only.
        let v = judge_form(
            &c,
            "/public/api/v1/workflows/async",
            &[json_part("data", data), contract],
        )
        .unwrap_err();
        assert_eq!(v.param, "content-type");
        let export =
            r#"{"exportType":"workflow_activities","exportConfigs":{"includeCommentDetail":true}}"#;
        assert_eq!(
            judge(&c, "POST", "/public/api/v1/exports", &[JSON], export),
            Ok(())
        );
    }
}
