//! The catalog row type: one row per upstream operation, generated from Ironclad's official
//! OpenAPI documents by `tools/catalog-gen` into each API type's folder (CLM Public's
//! `api_types/clm_public/generated.rs`, CLM SCIM's `api_types/clm_scim/generated.rs`). The
//! executor is driven entirely by these rows; only genuinely special operations get code of
//! their own.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

pub use crate::config::ApiType;

/// Embedded schemas parsed so far in this process (an instance, in the component).
static SCHEMAS_PARSED: AtomicU64 = AtomicU64::new(0);

/// Parse one of the catalog's embedded JSON Schemas. Schemas stay text until a call needs
/// one, and are counted so `connector-harness bench` can show what a call parses.
pub fn schema(text: SchemaText) -> Value {
    SCHEMAS_PARSED.fetch_add(1, Ordering::Relaxed);
    // The generator writes these from parsed JSON, and a test parses every one of them.
    serde_json::from_str(&text.text()).expect("catalog schemas are JSON")
}

/// An embedded JSON Schema as compact JSON text, stored in pieces: a subtree that several
/// schemas repeat (a record, an entity, a property's variants) is one shared piece, so the
/// component carries it once (the CLM schemas are about 720 KB written out, 160 KB stored).
#[derive(Clone, Copy)]
pub struct SchemaText(pub &'static [Piece]);

#[derive(Clone, Copy)]
pub enum Piece {
    Text(&'static str),
    Shared(&'static [Piece]),
}

impl std::fmt::Debug for SchemaText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SchemaText({} bytes)", len(self.0))
    }
}

impl SchemaText {
    /// The schema's text: borrowed when it is one piece, put together otherwise.
    pub fn text(self) -> Cow<'static, str> {
        match self.0 {
            [Piece::Text(text)] => Cow::Borrowed(text),
            pieces => {
                let mut out = String::with_capacity(len(pieces));
                append(pieces, &mut out);
                Cow::Owned(out)
            }
        }
    }
}

impl SchemaText {
    /// The length of its text.
    pub fn len(self) -> usize {
        len(self.0)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Its text, piece by piece in order, to copy without putting it together first.
    pub fn for_each_chunk(self, f: &mut impl FnMut(&'static str)) {
        chunks(self.0, f);
    }
}

fn chunks(pieces: &'static [Piece], f: &mut impl FnMut(&'static str)) {
    for piece in pieces {
        match piece {
            Piece::Text(text) => f(text),
            Piece::Shared(inner) => chunks(inner, f),
        }
    }
}

fn len(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(text) => text.len(),
            Piece::Shared(inner) => len(inner),
        })
        .sum()
}

fn append(pieces: &[Piece], out: &mut String) {
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Shared(inner) => append(inner, out),
        }
    }
}

/// How many embedded schemas [`schema`] has parsed in this process.
pub fn schemas_parsed() -> u64 {
    SCHEMAS_PARSED.load(Ordering::Relaxed)
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
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

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Header,
}

/// How a parameter value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// A scalar rendered as text.
    Plain,
    /// An array joined with commas into one value (Ironclad's `status=active,paused`).
    CommaList,
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The spec's parameter name; also the input property name.
    pub name: &'static str,
    pub location: ParamIn,
    pub required: bool,
    pub style: ParamStyle,
    /// Sent when the parameter is required and the input omits it (e.g. `form=launch`).
    /// Such parameters are optional in the input schema for that reason.
    pub default: Option<&'static str>,
}

/// The request body an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// A JSON body, carried in the input under `body`.
    Json {
        required: bool,
    },
    /// A `multipart/form-data` body: each part is an input property of the same name.
    Multipart {
        parts: &'static [Part],
    },
}

/// One form-data part of a multipart body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The spec's part name; also the input property name.
    pub name: &'static str,
    pub kind: PartKind,
    pub required: bool,
    /// Sent when the part is required and the input omits it (e.g. `recordType=imported`).
    pub default: Option<&'static str>,
}

/// What a part carries and how the input gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// A file object `{file_name, content_type?, content_base64}`, sent as raw bytes with a
    /// `filename` and its media type.
    File,
    /// A JSON value, sent as JSON text (`application/json`).
    Json,
    /// A scalar, sent as plain text.
    Text,
}

/// What a successful response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// A JSON object, returned as the output.
    JsonObject,
    /// A JSON value that is not an object, returned as `{"result": value}`.
    JsonValue,
    /// No body (204, or any 2xx the spec gives no content), returned as `{"status": code}`.
    Empty,
    /// File bytes, returned as `{file_name, content_type, size, content_base64}`.
    Binary,
    /// A `text/*` body, returned as `{content_type, text}`.
    Text,
}

/// How a list operation pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    None,
    /// Zero-based `page` + `pageSize` (max 100); the envelope has `page`, `pageSize`,
    /// `list` and, when `has_count`, the total `count`.
    PageSize {
        has_count: bool,
    },
    /// SCIM (RFC 7644 §3.4.2.4): one-based `startIndex` + `count` (max 1000); the envelope has
    /// `totalResults`, `startIndex`, `itemsPerPage` and `Resources`.
    ScimIndex,
}

/// One upstream operation exposed as an action.
#[derive(Debug)]
pub struct Operation {
    /// Stable snake_case action key.
    pub key: &'static str,
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// The connection `api_type` the operation belongs to: it runs only on such connections
    /// (`describe` reports it per action, so a host offers it only there). Rows generated from
    /// the CLM Public API spec say `ClmPublic`; rows of another API's spec name theirs.
    pub api_type: ApiType,
    pub title: &'static str,
    pub description: &'static str,
    /// The OpenAPI tag (area), e.g. `Workflows`.
    pub area: &'static str,
    pub method: Method,
    /// Path template under the API base, e.g. `/workflows/{id}`.
    pub path: &'static str,
    pub params: &'static [Param],
    pub body: Body,
    pub response: Response,
    pub pagination: Pagination,
    pub scopes: &'static [&'static str],
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// JSON Schema 2020-12 of the action input (params by name, `body` or one property per
    /// multipart part, `max_items`).
    pub input_schema: SchemaText,
    /// JSON Schema 2020-12 of the action output.
    pub output_schema: SchemaText,
}

/// Every operation of every API type, in the table's order (CLM Public first).
pub fn all() -> impl Iterator<Item = &'static Operation> {
    crate::api_types::all().flat_map(|(_, spec)| spec.operations())
}

/// Find an operation by action key (keys are unique across API types).
pub fn find(key: &str) -> Option<&'static Operation> {
    all().find(|op| op.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_is_a_json_object_and_counted() {
        let before = schemas_parsed();
        for op in all() {
            for text in [op.input_schema, op.output_schema] {
                assert!(schema(text).is_object(), "{}", op.key);
            }
        }
        // Other tests may parse at the same time: at least these were counted.
        assert!(schemas_parsed() >= before + 2 * all().count() as u64);
    }
}
