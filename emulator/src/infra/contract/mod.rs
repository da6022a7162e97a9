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

mod enforce;
mod errata;
mod redact;
mod request;
mod response;
mod schema;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use axum::http::HeaderMap;
use serde_json::{Value, json};

pub use enforce::{enforce, routes};
use errata::correct;
pub use errata::{
    Correction, ERRATA, Erratum, TOLERATED, Tolerated, UNDECLARED_STATUSES, Undeclared,
    UndeclaredStatus, apply_errata,
};
use request::{BodySpec, Location, MULTIPART, MultipartSpec, ParamSpec};
use request::{check_body, check_headers, check_path, check_query};
pub use response::AnswerParts;
use schema::{Checked, Formats, prepare, resolve_ref};

/// Routes the emulator serves under the API base that Ironclad documents elsewhere than in the
/// Public API OpenAPI (the older userinfo location); never judged by the contract.
const EXEMPT: [&str; 1] = ["/oauth/userinfo"];

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
    responses: Vec<response::ResponseSpec>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
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
        let Some(rest) = self.judged(req.path) else {
            return Ok(());
        };
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

    /// Judge the answer to `method` on `path` (a request [`Contract::check`] let through):
    /// declared status, content type, and body schema with `format` asserted. Answers outside
    /// the API base, on exempt routes or to no operation are not judged.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        answer: &AnswerParts<'_>,
    ) -> Result<(), Violation> {
        let Some((op, _)) = self.judged(path).and_then(|rest| self.find(method, rest)) else {
            return Ok(());
        };
        response::check(op, answer)
    }

    /// The path below the API base, when the contract judges it.
    fn judged<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.base_path())?;
        ((rest.is_empty() || rest.starts_with('/')) && !EXEMPT.contains(&rest)).then_some(rest)
    }

    /// Every schema of the document that the validator cannot compile, as
    /// `operationId: where: why` (a schema that does not compile judges nothing).
    pub fn uncompilable(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for op in &self.inner.operations {
            let mut schemas: Vec<(String, &Checked)> = op
                .params
                .iter()
                .map(|p| (format!("parameter {}", p.name), &p.schema))
                .collect();
            if let Some(body) = &op.body {
                schemas.extend(body.schemas().map(|(at, s)| (format!("request {at}"), s)));
            }
            for r in &op.responses {
                schemas.extend(r.schemas().map(|(at, s)| (format!("answer {at}"), s)));
            }
            for (at, schema) in schemas {
                if let Err(why) = schema.compile() {
                    problems.push(format!("{}: {at}: {why}", op.id));
                }
            }
        }
        problems
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
            for (media, entry, schema) in schema::content(root, rb, Formats::Annotate)? {
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
        responses: response::parse(root, op.get("responses"))?,
    })
}
