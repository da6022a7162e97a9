//! Deriving one catalog row from one OpenAPI operation.
//!
//! Every fact in a row comes from the spec. The only knowledge added here is policy (which
//! params the connector supplies itself, how actions are keyed, which hints follow from a
//! method, how a file travels in an action input) and a short list of operations the spec is
//! known to mislabel (`FILE_DOWNLOADS`).

use crate::schema::{Cleaner, is_object};
use crate::spec::{OperationRef, Spec};
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value, json};

/// Headers the connector sets from the connection (the acting user), never from input.
const IMPERSONATION_HEADERS: &[&str] = &["x-as-user-email", "x-as-user-id"];

/// Query params the paginating executor drives itself: Ironclad's `page`/`pageSize`, and
/// SCIM's `startIndex`/`count` (RFC 7644 §3.4.2.4).
const PAGE_PARAMS: &[&str] = &["page", "pageSize"];
const SCIM_PAGE_PARAMS: &[&str] = &["startIndex", "count"];

/// Words dropped from operationIds to form action keys: they carry no meaning in a key.
const FILLER_WORDS: &[&str] = &["a", "an", "the", "all"];

/// Operation-id fragments that mark an operation as destructive even when it is not a DELETE.
const DESTRUCTIVE_WORDS: &[&str] = &["cancel", "delete", "revert", "replace"];

/// Operations whose 2xx the spec declares as `application/json` (an empty object) although
/// Ironclad answers with file bytes — a readme.io export artefact, recorded in the research
/// digest (`ironclad-clm-api.md` §3.7 and §4). A JSON row would try to parse the file.
const FILE_DOWNLOADS: &[&str] = &[
    "retrieve-a-workflow-document",
    "retrieve-attachment-from-email-thread",
    "retrieve-an-attachment-on-a-record",
    "retrieve-xlsx-export-file-of-all-records",
    "export-job-download",
];

const JSON: &str = "application/json";
const MULTIPART: &str = "multipart/form-data";

/// The input schema of a file part (`format: binary`): the file travels base64-encoded in the
/// action input and is sent as raw bytes. `content_type` defaults from the file extension.
const FILE_INPUT_DESCRIPTION: &str = "A file: its name, its bytes in standard base64 and \
optionally its media type (default from the extension). The connector sends the bytes as binary.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    CommaList,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRow {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub style: Style,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Json {
        required: bool,
    },
    /// `multipart/form-data`: one input property per part, named as the part.
    Multipart {
        parts: Vec<PartRow>,
    },
}

/// What one form-data part carries, from its schema in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// `format: binary`: a file object in the input, raw bytes on the wire.
    File,
    /// An object (or a part encoded as `application/json`): serialised JSON text.
    Json,
    /// A scalar sent as plain text.
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub name: String,
    pub kind: PartKind,
    pub required: bool,
    /// Sent when the part is required and the input omits it (like `ParamRow::default`).
    pub default: Option<String>,
}

/// How a listing pages, from the query params it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Zero-based `page` + `pageSize`; `has_count` when the envelope reports the total.
    PageSize { has_count: bool },
    /// SCIM: one-based `startIndex` + `count`, envelope `{totalResults, Resources}`.
    ScimIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    JsonObject,
    JsonValue,
    Empty,
    /// File bytes, returned base64-encoded with their name and media type.
    Binary,
    /// A `text/*` body, returned as a string.
    Text,
}

/// Everything `render.rs` needs for one `Operation`, in catalog terms.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub operation_id: String,
    pub title: String,
    pub description: String,
    pub area: String,
    pub method: Method,
    pub path: String,
    pub params: Vec<ParamRow>,
    pub body: BodyKind,
    pub response: ResponseKind,
    /// `Some` for listings the executor pages through.
    pub pagination: Option<Paging>,
    pub scopes: Vec<String>,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub input_schema: Value,
    pub output_schema: Value,
}

impl Method {
    fn parse(method: &str) -> Result<Method> {
        Ok(match method {
            "get" => Method::Get,
            "post" => Method::Post,
            "put" => Method::Put,
            "patch" => Method::Patch,
            "delete" => Method::Delete,
            other => bail!("unsupported HTTP method `{other}`"),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The operationId of an operation, or an error naming its path.
pub fn operation_id<'a>(op: &OperationRef<'a>) -> Result<&'a str> {
    op.op
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("{} {} has no operationId", op.method, op.path))
}

/// Derive the row for one operation; errors name the operation.
pub fn derive(spec: &Spec, op: &OperationRef<'_>) -> Result<Row> {
    let id = operation_id(op)?;
    derive_inner(spec, op, id).map_err(|err| {
        // `NeedsSpecialModule` already names the operation; keep it the outermost error.
        if err.is::<NeedsSpecialModule>() {
            err
        } else {
            err.context(format!("operation {id}"))
        }
    })
}

fn derive_inner(spec: &Spec, op: &OperationRef<'_>, id: &str) -> Result<Row> {
    let method = Method::parse(op.method)?;
    let mut cleaner = Cleaner::new(spec);
    let all_params = resolved_params(spec, op)?;
    let declares = |names: &[&str]| {
        names
            .iter()
            .all(|name| all_params.iter().any(|p| is_query(p, name)))
    };
    let page_params: &[&str] = if declares(PAGE_PARAMS) {
        PAGE_PARAMS
    } else if declares(SCIM_PAGE_PARAMS) {
        SCIM_PAGE_PARAMS
    } else {
        &[]
    };
    // The executor drives the page params of a listing; they are not inputs.
    let params: Vec<&Value> = all_params
        .into_iter()
        .filter(|p| !page_params.iter().any(|name| is_query(p, name)))
        .collect();
    let (body, body_inputs) = match request_body(spec, op.op, id)? {
        None => (BodyKind::None, Vec::new()),
        Some(RequestBody::Json { schema, required }) => (
            BodyKind::Json { required },
            vec![BodyInput {
                name: "body".into(),
                schema: defaults_optional(cleaner.clean(schema)?),
                required,
            }],
        ),
        Some(RequestBody::Multipart { schema, encoding }) => {
            let (parts, inputs) = multipart_parts(&mut cleaner, schema, encoding)?;
            (BodyKind::Multipart { parts }, inputs)
        }
    };
    let (response, response_schema) = success_response(&mut cleaner, spec, op.op, id)?;
    let pagination = match page_params.first() {
        None => None,
        Some(&"startIndex") => Some(Paging::ScimIndex),
        Some(_) => Some(Paging::PageSize {
            has_count: has_count(&response_schema),
        }),
    };
    Ok(Row {
        key: action_key(id),
        operation_id: id.to_string(),
        title: text(op.op, "summary")?.to_string(),
        description: strip_scope_sentence(
            op.op
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        area: first_tag(op.op)?,
        method,
        path: op.path.to_string(),
        params: params
            .iter()
            .map(|p| param_row(spec, p))
            .collect::<Result<_>>()?,
        body,
        response,
        pagination,
        scopes: scopes(op.op),
        read_only: method == Method::Get,
        destructive: method == Method::Delete || DESTRUCTIVE_WORDS.iter().any(|w| id.contains(w)),
        idempotent: matches!(method, Method::Get | Method::Put | Method::Delete),
        input_schema: input_schema(&mut cleaner, &params, body_inputs, pagination)?,
        output_schema: output_schema(response, response_schema, pagination)?,
    })
}

/// A body whose required top-level properties have a default (SCIM's `schemas`, always the
/// one URN the operation takes) may leave them out: the executor sends the default.
fn defaults_optional(mut schema: Value) -> Value {
    let Some(required) = schema.get("required").and_then(Value::as_array) else {
        return schema;
    };
    let has_default = |name: &Value| {
        let token = pointer_token(name.as_str().unwrap_or_default());
        schema
            .pointer(&format!("/properties/{token}/default"))
            .is_some()
    };
    let kept: Vec<Value> = required
        .iter()
        .filter(|n| !has_default(n))
        .cloned()
        .collect();
    if kept.len() == required.len() {
        return schema;
    }
    if kept.is_empty() {
        schema.as_object_mut().map(|m| m.remove("required"));
    } else {
        schema["required"] = Value::Array(kept);
    }
    schema
}

fn is_query(param: &Value, name: &str) -> bool {
    param["in"] == "query" && param["name"] == name
}

/// OpenAPI: path params are always required, whatever the spec says.
fn is_required(param: &Value) -> bool {
    param["in"] == "path" || param.get("required") == Some(&Value::Bool(true))
}

/// `list-all-workflows` → `list_workflows`: snake_case without filler words.
pub fn action_key(operation_id: &str) -> String {
    operation_id
        .split('-')
        .filter(|w| !w.is_empty() && !FILLER_WORDS.contains(w))
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether a key is a valid action key: `^[a-z][a-z0-9_]{0,47}$`.
pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The description without its "**OAuth Scope(s) required:** `a`, `b`" sentence, which
/// repeats the `security` block (exposed as `scopes`). The sentence sits at the end or between
/// paragraphs, so what is left gets its blank lines normalised.
pub fn strip_scope_sentence(description: &str) -> String {
    let mut text = description.to_string();
    while let Some(start) = text.find("**OAuth Scope") {
        let end = scope_sentence_end(&text, start);
        text.replace_range(start..end, "");
    }
    normalise_paragraphs(&text)
}

/// End of the scope sentence starting at `start`: past the bold label, then past the list of
/// backticked scope names and the separators between them.
fn scope_sentence_end(text: &str, start: usize) -> usize {
    let after_label = text[start + 2..]
        .find("**")
        .map_or(text.len(), |i| start + 2 + i + 2);
    let mut end = after_label;
    loop {
        let rest = &text[end..];
        let trimmed = rest.trim_start_matches([' ', ',']);
        let trimmed = trimmed.strip_prefix("and ").unwrap_or(trimmed);
        let Some(inner) = trimmed.strip_prefix('`') else {
            return end;
        };
        let Some(close) = inner.find('`') else {
            return end;
        };
        end = text.len() - inner.len() + close + 1;
    }
}

/// Trim trailing spaces on every line, collapse runs of blank lines, trim the ends.
fn normalise_paragraphs(text: &str) -> String {
    let mut out = String::new();
    let mut blank_run = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        blank_run = 0;
    }
    out
}

/// OAuth2 scopes across the operation's security requirements, deduplicated in order.
/// Other schemes (Ironclad's legacy `sec0` API key) carry no scopes: the SCIM spec declares
/// only `sec0` and names each operation's scope in its description's "**OAuth Scope
/// required:**" sentence, which is then the source.
fn scopes(op: &Value) -> Vec<String> {
    let declared = security_scopes(op);
    if !declared.is_empty() {
        return declared;
    }
    let description = op.get("description").and_then(Value::as_str).unwrap_or("");
    description_scopes(description)
}

/// The backticked names of the description's scope sentence(s), in order.
pub fn description_scopes(description: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    let mut rest = description;
    while let Some(start) = rest.find("**OAuth Scope") {
        let end = scope_sentence_end(rest, start);
        for name in rest[start..end].split('`').skip(1).step_by(2) {
            if !scopes.iter().any(|s| s == name) {
                scopes.push(name.to_string());
            }
        }
        rest = &rest[end..];
    }
    scopes
}

fn security_scopes(op: &Value) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    let requirements = op
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let listed = requirements
        .filter_map(|r| r.get("OAuth2").and_then(Value::as_array))
        .flatten();
    for scope in listed.filter_map(Value::as_str) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

fn text<'a>(op: &'a Value, field: &str) -> Result<&'a str> {
    op.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("no `{field}`"))
}

fn first_tag(op: &Value) -> Result<String> {
    op.get("tags")
        .and_then(Value::as_array)
        .and_then(|tags| tags.first())
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no tags"))
}

/// The operation's parameters with `$ref`s resolved: path-level ones first, overridden by
/// operation-level ones with the same name and location; impersonation headers left out.
fn resolved_params<'a>(spec: &'a Spec, op: &OperationRef<'a>) -> Result<Vec<&'a Value>> {
    let mut params: Vec<&Value> = Vec::new();
    let lists = [op.path_item.get("parameters"), op.op.get("parameters")];
    for raw in lists
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
    {
        let param = spec.resolve(raw)?;
        let same = |p: &&Value| p["name"] == param["name"] && p["in"] == param["in"];
        params.retain(|p| !same(p));
        params.push(param);
    }
    params.retain(|p| {
        !(p["in"] == "header" && IMPERSONATION_HEADERS.iter().any(|h| p["name"] == *h))
    });
    Ok(params)
}

fn param_row(spec: &Spec, param: &Value) -> Result<ParamRow> {
    let name = text(param, "name")?;
    let location = match text(param, "in")? {
        "path" => Location::Path,
        "query" => Location::Query,
        "header" => Location::Header,
        other => bail!("parameter `{name}` is in `{other}`, which the executor cannot send"),
    };
    let schema = param_schema(spec, param)?;
    let style = if schema.get("type") == Some(&json!("array")) {
        Style::CommaList
    } else {
        Style::Plain
    };
    let required = is_required(param);
    let default = schema.get("default").filter(|_| required).map(default_text);
    Ok(ParamRow {
        name: name.to_string(),
        location,
        required,
        style,
        default,
    })
}

fn param_schema<'a>(spec: &'a Spec, param: &'a Value) -> Result<&'a Value> {
    let schema = param.get("schema").ok_or_else(|| {
        anyhow!(
            "parameter `{}` has no `schema` (content-typed params unsupported)",
            param["name"]
        )
    })?;
    spec.resolve(schema)
}

/// A default as the text sent on the wire: strings bare, arrays comma-joined, the rest as JSON.
fn default_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(default_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A request body as the spec declares it. JSON wins when both are offered
/// (`launch-a-new-workflow` takes JSON or multipart).
enum RequestBody<'a> {
    Json {
        schema: &'a Value,
        required: bool,
    },
    Multipart {
        schema: &'a Value,
        encoding: Option<&'a Value>,
    },
}

/// One input property a body contributes: `body` for JSON, one per part for multipart.
struct BodyInput {
    name: String,
    schema: Value,
    required: bool,
}

/// The operation's request body, or `None` without one. Media types other than JSON and
/// `multipart/form-data` need code of their own.
fn request_body<'a>(spec: &'a Spec, op: &'a Value, id: &str) -> Result<Option<RequestBody<'a>>> {
    let Some(raw) = op.get("requestBody") else {
        return Ok(None);
    };
    let body = spec.resolve(raw)?;
    let content = body.get("content").and_then(Value::as_object);
    if let Some(media) = content.and_then(|c| c.get(JSON)) {
        let schema = media.get("schema").unwrap_or(&Value::Bool(true));
        let required = body.get("required") == Some(&Value::Bool(true));
        return Ok(Some(RequestBody::Json { schema, required }));
    }
    if let Some(media) = content.and_then(|c| c.get(MULTIPART)) {
        let schema = media
            .get("schema")
            .ok_or_else(|| anyhow!("the multipart body has no `schema`"))?;
        return Ok(Some(RequestBody::Multipart {
            schema: spec.resolve(schema)?,
            encoding: media.get("encoding"),
        }));
    }
    let types = content
        .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    bail!(special_module(id, &format!("`{types}` body")));
}

/// The parts of a multipart body, in the schema's order, and the input property of each.
///
/// A part's kind follows its schema: `format: binary` is a file (whatever its `type`: the
/// spec types `upload-signed`'s attachment as an object), an object or a part the `encoding`
/// declares as JSON is JSON text, anything else is plain text. Required parts are the schema's
/// `required`, plus every file part: an upload without its file cannot succeed, and the spec
/// omits `required` altogether on `create-an-attachment-on-a-record`.
fn multipart_parts(
    cleaner: &mut Cleaner<'_>,
    schema: &Value,
    encoding: Option<&Value>,
) -> Result<(Vec<PartRow>, Vec<BodyInput>)> {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| anyhow!("the multipart schema declares no parts"))?;
    let listed: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    for (name, raw) in properties {
        let mut part_schema = cleaner.clean(raw)?;
        let encoded_json = encoding
            .and_then(|e| e.pointer(&format!("/{}/contentType", pointer_token(name))))
            .and_then(Value::as_str)
            .is_some_and(|t| t.contains(JSON));
        let kind = if part_schema.get("format") == Some(&json!("binary")) {
            PartKind::File
        } else if encoded_json || is_object(&part_schema) {
            PartKind::Json
        } else {
            PartKind::Text
        };
        let required = kind == PartKind::File || listed.contains(&name.as_str());
        let default = match part_schema.get("default") {
            Some(value) if required && kind == PartKind::Text => Some(default_text(value)),
            _ => None,
        };
        if kind == PartKind::File {
            part_schema = file_input_schema();
        }
        inputs.push(BodyInput {
            name: name.clone(),
            schema: part_schema,
            // A required part with a default may be omitted: the executor sends the default.
            required: required && default.is_none(),
        });
        parts.push(PartRow {
            name: name.clone(),
            kind,
            required,
            default,
        });
    }
    Ok((parts, inputs))
}

/// `a/b~c` → `a~1b~0c` (RFC 6901).
fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The input shape of one file: `{file_name, content_type?, content_base64}`.
pub fn file_input_schema() -> Value {
    json!({
        "type": "object",
        "description": FILE_INPUT_DESCRIPTION,
        "additionalProperties": false,
        "required": ["file_name", "content_base64"],
        "properties": {
            "file_name": {"type": "string", "minLength": 1, "description": "The file name sent in the part's Content-Disposition, e.g. `NDA.pdf`."},
            "content_type": {"type": "string", "minLength": 1, "description": "The part's media type; default from the extension (pdf, doc, docx, txt, csv, xlsx, png, jpg), else application/octet-stream."},
            "content_base64": {"type": "string", "contentEncoding": "base64", "description": "The file's bytes in standard base64 (RFC 4648 §4, padded)."}
        }
    })
}

/// The output of a binary download.
fn file_output_schema() -> Value {
    json!({
        "type": "object",
        "required": ["file_name", "content_type", "size", "content_base64"],
        "properties": {
            "file_name": {"type": "string", "description": "From Content-Disposition, else the last path segment"},
            "content_type": {"type": "string", "description": "The response's media type"},
            "size": {"type": "integer", "minimum": 0, "description": "Length of the file in bytes"},
            "content_base64": {"type": "string", "contentEncoding": "base64", "description": "The file's bytes in standard base64"}
        }
    })
}

/// The kind of the lowest 2xx response and its cleaned schema (`Null` when empty).
fn success_response(
    cleaner: &mut Cleaner<'_>,
    spec: &Spec,
    op: &Value,
    id: &str,
) -> Result<(ResponseKind, Value)> {
    // The spec types these as JSON; Ironclad answers with the file.
    if FILE_DOWNLOADS.contains(&id) {
        return Ok((ResponseKind::Binary, Value::Null));
    }
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("no `responses`"))?;
    let (code, raw) = responses
        .iter()
        .filter(|(code, _)| code.len() == 3 && code.starts_with('2'))
        .min_by_key(|(code, _)| code.as_str())
        .ok_or_else(|| anyhow!("no 2xx response"))?;
    // 204 cannot carry a body (RFC 9110 §15.3.5), whatever content the spec attaches to it.
    if code == "204" {
        return Ok((ResponseKind::Empty, Value::Null));
    }
    let response = spec.resolve(raw)?;
    let content = response
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty());
    let Some(content) = content else {
        return Ok((ResponseKind::Empty, Value::Null));
    };
    let Some(media) = content.get(JSON) else {
        // No JSON variant: text when every media type is `text/*`, else file bytes.
        let kind = if content.keys().all(|t| t.starts_with("text/")) {
            ResponseKind::Text
        } else {
            ResponseKind::Binary
        };
        return Ok((kind, Value::Null));
    };
    // A JSON response without a schema may be anything.
    let schema = cleaner.clean(media.get("schema").unwrap_or(&json!({})))?;
    let kind = if is_object(&schema) {
        ResponseKind::JsonObject
    } else {
        ResponseKind::JsonValue
    };
    Ok((kind, schema))
}

fn special_module(id: &str, what: &str) -> NeedsSpecialModule {
    NeedsSpecialModule {
        operation_id: id.to_string(),
        what: what.to_string(),
    }
}

/// An operation the generic executor cannot run (a request body in a media type other than
/// JSON and `multipart/form-data`): it needs code of its own, so generating a row for it would
/// be wrong. A type, so `--all` can skip exactly these.
#[derive(Debug)]
pub struct NeedsSpecialModule {
    pub operation_id: String,
    pub what: String,
}

impl std::fmt::Display for NeedsSpecialModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "operation {} needs a special module: {}",
            self.operation_id, self.what
        )
    }
}

impl std::error::Error for NeedsSpecialModule {}

/// The longest path parameter an input accepts (an email address is at most 254).
pub const PATH_PARAM_MAX_LENGTH: u64 = 256;

/// Whether a page envelope reports the total (`list-all-webhooks` does not).
fn has_count(envelope: &Value) -> bool {
    envelope.pointer("/properties/count").is_some()
}

/// The input: every param by its spec name, then `body` (JSON) or one property per part
/// (multipart), then `max_items` and `cursor` for listings.
fn input_schema(
    cleaner: &mut Cleaner<'_>,
    params: &[&Value],
    body: Vec<BodyInput>,
    pagination: Option<Paging>,
) -> Result<Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in params {
        let name = text(param, "name")?;
        let mut schema = cleaner.clean(param.get("schema").unwrap_or(&json!({})))?;
        let map = schema
            .as_object_mut()
            .ok_or_else(|| anyhow!("parameter `{name}` schema is not an object"))?;
        if let Some(description) = param.get("description") {
            map.insert("description".into(), description.clone());
        }
        if param["in"] == "path" {
            // An empty segment would change the URL's meaning (`/workflows/` lists).
            map.insert("type".into(), json!("string"));
            map.insert("minLength".into(), json!(1));
            // Path segments are ids, keys and names (24 hex digits, `IC-123`, UUIDs, emails);
            // a longer one is refused naming its field instead of failing as a URL.
            map.insert("maxLength".into(), json!(PATH_PARAM_MAX_LENGTH));
        }
        // A required param with a default may be omitted: the executor sends the default.
        if is_required(param) && !map.contains_key("default") {
            required.push(json!(name));
        }
        properties.insert(name.to_string(), schema);
    }
    for input in body {
        if properties.contains_key(&input.name) {
            bail!(
                "input property `{}` is both a parameter and a body part",
                input.name
            );
        }
        if input.required {
            required.push(json!(input.name));
        }
        properties.insert(input.name, input.schema);
    }
    if let Some(paging) = pagination {
        let description = match paging {
            Paging::PageSize { .. } => {
                "Stop after this many items; pages of 100 are fetched as needed. With `cursor`: the page size (at most 100)."
            }
            Paging::ScimIndex => {
                "Stop after this many items; pages of up to 1000 are fetched as needed."
            }
        };
        properties.insert(
            "max_items".into(),
            json!({"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000,
                   "description": description}),
        );
        // The host drives the loop when it streams a long listing, so the guest holds one
        // page at a time instead of the whole listing (page-numbered listings only).
        if matches!(paging, Paging::PageSize { .. }) {
            properties.insert(
                "cursor".into(),
                json!({"type": "string", "maxLength": 256,
                       "description": "Read one page per call instead of following every page: \"\" for the first page, then the previous output's `next`. The cursor is opaque, keeps the first call's page size, and belongs to this action and connection."}),
            );
        }
    }
    let mut schema =
        json!({"type": "object", "additionalProperties": false, "properties": properties});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    Ok(schema)
}

/// The output: the collected listing, the object itself, a wrapped value, or a status.
fn output_schema(
    response: ResponseKind,
    schema: Value,
    pagination: Option<Paging>,
) -> Result<Value> {
    if let Some(paging) = pagination {
        let (list, count) = match paging {
            Paging::PageSize { has_count } => (
                "list",
                has_count.then_some("Total matching items reported by Ironclad"),
            ),
            Paging::ScimIndex => (
                "Resources",
                Some("Total matching items reported by Ironclad (`totalResults`)"),
            ),
        };
        let item = list_item_schema(&schema, list)?.clone();
        let mut properties = Map::new();
        properties.insert("items".into(), json!({"type": "array", "items": item}));
        if let Some(description) = count {
            let count = json!({"type": "integer", "description": description});
            properties.insert("count".into(), count);
        }
        let truncated = json!({"type": "boolean", "description": "Without `cursor`: true when max_items stopped the listing early"});
        properties.insert("truncated".into(), truncated);
        if matches!(paging, Paging::PageSize { .. }) {
            let next = json!({"type": ["string", "null"], "description": "With `cursor`: the cursor of the following page; null after the last page"});
            properties.insert("next".into(), next);
        }
        return Ok(json!({"type": "object", "properties": properties, "required": ["items"]}));
    }
    Ok(match response {
        // A union of object shapes (update-signer) gets the root `type` every action output
        // promises, so hosts and MCP exporters can rely on it.
        ResponseKind::JsonObject => match schema {
            Value::Object(mut map) if !map.contains_key("type") => {
                let mut rooted = Map::new();
                rooted.insert("type".into(), json!("object"));
                rooted.append(&mut map);
                Value::Object(rooted)
            }
            other => other,
        },
        ResponseKind::JsonValue => {
            json!({"type": "object", "properties": {"result": schema}, "required": ["result"]})
        }
        ResponseKind::Empty => {
            json!({"type": "object", "properties": {"status": {"type": "integer"}}, "required": ["status"]})
        }
        ResponseKind::Binary => file_output_schema(),
        ResponseKind::Text => json!({
            "type": "object",
            "required": ["content_type", "text"],
            "properties": {
                "content_type": {"type": "string", "description": "The response's media type"},
                "text": {"type": "string", "description": "The response body"}
            }
        }),
    })
}

/// The schema of one element of a page envelope's `list` (or SCIM's `Resources`).
fn list_item_schema<'a>(envelope: &'a Value, list: &str) -> Result<&'a Value> {
    envelope
        .pointer(&format!("/properties/{list}/items"))
        .ok_or_else(|| anyhow!("paginated, but the 2xx schema has no `{list}` array with `items`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_drop_filler_words() {
        assert_eq!(action_key("list-all-workflows"), "list_workflows");
        assert_eq!(action_key("retrieve-a-workflow"), "retrieve_workflow");
        assert_eq!(action_key("launch-a-new-workflow"), "launch_new_workflow");
        assert_eq!(
            action_key("list-all-workflow-schemas"),
            "list_workflow_schemas"
        );
        assert_eq!(action_key("retrieve-an-entity"), "retrieve_entity");
        assert_eq!(
            action_key("get-all-entity-relationship-types"),
            "get_entity_relationship_types"
        );
        // Only whole words go: `all` inside a word stays.
        assert_eq!(action_key("install-the-allowance"), "install_allowance");
    }

    #[test]
    fn key_validation() {
        assert!(valid_key("list_workflows"));
        assert!(valid_key("x"));
        assert!(!valid_key("1st"));
        assert!(!valid_key("List"));
        assert!(!valid_key("a-b"));
        assert!(!valid_key(""));
        assert!(!valid_key(&"a".repeat(49)));
        assert!(valid_key(&"a".repeat(48)));
    }

    #[test]
    fn scope_sentence_is_stripped() {
        assert_eq!(
            strip_scope_sentence(
                "List all workflows. \n\n**OAuth Scope required:** `public.workflows.readWorkflows`"
            ),
            "List all workflows."
        );
        // Mid-text, with a trailing space and a note after it.
        assert_eq!(
            strip_scope_sentence(
                "Returns info. \n\n**OAuth Scope required:** `public.workflows.readSignStatus` \n\n**NOTE:** Sign step only."
            ),
            "Returns info.\n\n**NOTE:** Sign step only."
        );
        // Plural label with a list of scopes.
        assert_eq!(
            strip_scope_sentence("Ask.\n\n**OAuth Scopes required:** `a.b`, `c.d`, `e.f`"),
            "Ask."
        );
        assert_eq!(strip_scope_sentence("No scopes here. "), "No scopes here.");
        assert_eq!(strip_scope_sentence("**OAuth Scope required:** `x`"), "");
    }

    #[test]
    fn defaults_render_as_wire_text() {
        assert_eq!(default_text(&json!("launch")), "launch");
        assert_eq!(default_text(&json!(false)), "false");
        assert_eq!(default_text(&json!(20)), "20");
        assert_eq!(default_text(&json!(["active", "paused"])), "active,paused");
    }
}
