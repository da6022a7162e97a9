//! Cross-cutting middleware: every response gets an `x-ironclad-requestid`, and every request
//! outside `/_emulator/` is recorded (secrets redacted) for tests to inspect.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::infra::errors::ApiError;
use crate::infra::query::parse_pairs;
use crate::store::ids;

pub const REQUEST_ID: &str = "x-ironclad-requestid";

/// Largest request body accepted (and logged): the upload routes' limit.
const BODY_LIMIT: usize = crate::infra::multipart::UPLOAD_BODY_LIMIT;

/// Headers the log keeps (names lower-case).
const LOGGED_HEADERS: [&str; 6] = [
    "authorization",
    "x-as-user-email",
    "x-as-user-id",
    "content-type",
    "accept",
    "user-agent",
];

/// Body fields never logged in clear on OAuth routes.
const SECRET_FIELDS: [&str; 5] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
];

pub async fn observe(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let request_id = ids::uuid();
    let path = req.uri().path().to_owned();
    let mut response = if path.starts_with("/_emulator/") {
        next.run(req).await
    } else {
        let (parts, body) = req.into_parts();
        match to_bytes(body, BODY_LIMIT).await {
            Err(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "INVALID_PARAM",
                "request body is too large",
                Some("body"),
            )
            .into_response(),
            Ok(bytes) => {
                let mut entry = json!({
                    "method": parts.method.as_str(),
                    "path": path,
                    "query": parts.uri.query().unwrap_or_default(),
                    "headers": logged_headers(&parts.headers),
                    "body": logged_body(&parts.headers, &bytes, path.starts_with("/oauth/")),
                    "requestId": request_id,
                });
                let response = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                entry["status"] = json!(response.status().as_u16());
                emu.log_request(entry);
                response
            }
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

fn logged_headers(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in LOGGED_HEADERS {
        let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let shown = if name == "authorization" {
            match value.split_once(' ') {
                Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => {
                    "Bearer <redacted>".to_owned()
                }
                Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => {
                    "Basic <redacted>".to_owned()
                }
                _ => "<redacted>".to_owned(),
            }
        } else {
            value.to_owned()
        };
        out.insert(name.to_owned(), Value::String(shown));
    }
    Value::Object(out)
}

fn logged_body(headers: &HeaderMap, bytes: &[u8], oauth: bool) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut body = if content_type.contains("x-www-form-urlencoded") {
        let text = String::from_utf8_lossy(bytes);
        Value::Object(
            parse_pairs(text.trim())
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => v,
            Err(_) => {
                return json!(format!(
                    "<{} bytes of {}>",
                    bytes.len(),
                    if content_type.is_empty() {
                        "unknown type"
                    } else {
                        content_type
                    }
                ));
            }
        }
    };
    if let (true, Some(fields)) = (oauth, body.as_object_mut()) {
        for (k, v) in fields.iter_mut() {
            if SECRET_FIELDS.contains(&k.as_str()) {
                *v = json!("<redacted>");
            }
        }
    }
    body
}
