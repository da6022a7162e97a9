//! Deriving one catalog row from one OpenAPI operation.
//!
//! Every fact in a row comes from the spec. The only knowledge added here is policy (which
//! params the connector supplies itself, how actions are keyed, which hints follow from a
//! method) and a short list of operations the spec is known to mislabel (`FILE_DOWNLOADS`).

use crate::schema::{Cleaner, is_object};
use crate::spec::{OperationRef, Spec};
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value, json};

/// Headers the connector sets from the connection (the acting user), never from input.
const IMPERSONATION_HEADERS: &[&str] = &["x-as-user-email", "x-as-user-id"];

/// Query params the paginating executor drives itself.
const PAGE_PARAMS: &[&str] = &["page", "pageSize"];

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Json { required: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    JsonObject,
    JsonValue,
    Empty,
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
    /// `Some(has_count)` for page/pageSize listings.
    pub pagination: Option<bool>,
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
    let paginated = PAGE_PARAMS
        .iter()
        .all(|name| all_params.iter().any(|p| is_query(p, name)));
    // The executor drives `page`/`pageSize` of a listing; they are not inputs.
    let params: Vec<&Value> = all_params
        .into_iter()
        .filter(|p| !(paginated && PAGE_PARAMS.iter().any(|name| is_query(p, name))))
        .collect();
    let body = match request_body(spec, op.op, id)? {
        Some((schema, required)) => Some((cleaner.clean(schema)?, required)),
        None => None,
    };
    let (response, response_schema) = success_response(&mut cleaner, spec, op.op, id)?;
    let pagination = paginated.then(|| has_count(&response_schema));
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
        body: match body {
            Some((_, required)) => BodyKind::Json { required },
            None => BodyKind::None,
        },
        response,
        pagination,
        scopes: scopes(op.op),
        read_only: method == Method::Get,
        destructive: method == Method::Delete || DESTRUCTIVE_WORDS.iter().any(|w| id.contains(w)),
        idempotent: matches!(method, Method::Get | Method::Put | Method::Delete),
        input_schema: input_schema(&mut cleaner, &params, body, paginated)?,
        output_schema: output_schema(response, response_schema, pagination)?,
    })
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
/// Other schemes (Ironclad's legacy `sec0` API key) carry no scopes.
fn scopes(op: &Value) -> Vec<String> {
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

/// The JSON request body schema and whether the body is required, or `None` without a body.
/// A body with no JSON variant (multipart uploads) needs code of its own.
fn request_body<'a>(spec: &'a Spec, op: &'a Value, id: &str) -> Result<Option<(&'a Value, bool)>> {
    let Some(raw) = op.get("requestBody") else {
        return Ok(None);
    };
    let body = spec.resolve(raw)?;
    let content = body.get("content").and_then(Value::as_object);
    let Some(media) = content.and_then(|c| c.get(JSON)) else {
        let types = content
            .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let what = if types.contains("multipart/") {
            "multipart body".to_string()
        } else {
            format!("`{types}` body")
        };
        bail!(special_module(id, &what));
    };
    let schema = media.get("schema").unwrap_or(&Value::Bool(true));
    let required = body.get("required") == Some(&Value::Bool(true));
    Ok(Some((schema, required)))
}

/// The kind of the lowest 2xx response and its cleaned schema (`Null` when empty).
fn success_response(
    cleaner: &mut Cleaner<'_>,
    spec: &Spec,
    op: &Value,
    id: &str,
) -> Result<(ResponseKind, Value)> {
    if FILE_DOWNLOADS.contains(&id) {
        bail!(special_module(
            id,
            "binary file download (the spec mislabels it as JSON)"
        ));
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
        let types = content.keys().cloned().collect::<Vec<_>>().join(", ");
        bail!(special_module(id, &format!("`{types}` response")));
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

/// An operation the generic executor cannot run (uploads, files, text): it needs code of its
/// own, so generating a row for it would be wrong. A type, so `--all` can skip exactly these.
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

/// Whether a page envelope reports the total (`list-all-webhooks` does not).
fn has_count(envelope: &Value) -> bool {
    envelope.pointer("/properties/count").is_some()
}

/// The input: every param by its spec name, then `body`, then `max_items` for listings.
fn input_schema(
    cleaner: &mut Cleaner<'_>,
    params: &[&Value],
    body: Option<(Value, bool)>,
    paginated: bool,
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
        }
        // A required param with a default may be omitted: the executor sends the default.
        if is_required(param) && !map.contains_key("default") {
            required.push(json!(name));
        }
        properties.insert(name.to_string(), schema);
    }
    if let Some((body, body_required)) = body {
        properties.insert("body".into(), body);
        if body_required {
            required.push(json!("body"));
        }
    }
    if paginated {
        properties.insert(
            "max_items".into(),
            json!({"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000,
                   "description": "Stop after this many items; pages of 100 are fetched as needed."}),
        );
    }
    let mut schema =
        json!({"type": "object", "additionalProperties": false, "properties": properties});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    Ok(schema)
}

/// The output: the collected listing, the object itself, a wrapped value, or a status.
fn output_schema(response: ResponseKind, schema: Value, pagination: Option<bool>) -> Result<Value> {
    if let Some(has_count) = pagination {
        let item = list_item_schema(&schema)?.clone();
        let mut properties = Map::new();
        properties.insert("items".into(), json!({"type": "array", "items": item}));
        if has_count {
            let count = json!({"type": "integer", "description": "Total matching items reported by Ironclad"});
            properties.insert("count".into(), count);
        }
        let truncated = json!({"type": "boolean", "description": "true when max_items stopped the listing early"});
        properties.insert("truncated".into(), truncated);
        return Ok(
            json!({"type": "object", "properties": properties, "required": ["items", "truncated"]}),
        );
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
    })
}

/// The schema of one element of a page envelope's `list`.
fn list_item_schema(envelope: &Value) -> Result<&Value> {
    envelope
        .pointer("/properties/list/items")
        .ok_or_else(|| anyhow!("paginated, but the 2xx schema has no `list` array with `items`"))
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
