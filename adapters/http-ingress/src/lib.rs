//! The connector's way in from a `wasi:http` runtime: `wasi:http/incoming-handler` requests
//! routed to the connector's exports, answers as JSON.
//!
//! | Request | Calls | Body in | 200 body |
//! |---|---|---|---|
//! | `POST /connection/test` | `connection.test` | — | the identity |
//! | `POST /actions/{key}` | `actions.execute` | the input object | the output object |
//! | `POST /triggers/{key}/poll` | `triggers.poll` | `{"input"?, "cursor"?}` | `{"events", "cursor", "has_more"}` |
//! | `POST /webhooks/{key}` | `triggers.handle-webhook` | the delivery as sent | `{"events", "subscription"?}` |
//!
//! A connector error is answered with the status its kind means (400 for bad input, 401,
//! 403, 404, 409, 429 with `Retry-After`, 502, 504, …) and `{"error": {"kind", "message",
//! "field"?}}`. Settings come from `wasi:config`, whose values `wasmtime serve -S config-var`
//! cannot give commas: the connection form one field per key (`connection.api_type`,
//! `connection.client_id`, …; a secret field holds `<secret>`, the credentials component
//! holds the real one), and per webhook trigger the subscription state and trigger input as
//! base64 JSON (`webhook.{key}.subscription`, `webhook.{key}.input`, the input optional).

// A component only: exported symbols named `ipaas:…`/`wasi:…` do not link natively, where
// the workspace's `cargo build` compiles nothing of this crate.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: ["../../wit/v0.4", "../wit"],
    world: "ipaas:adapters/http-ingress",
    generate_all,
});

use std::io::{Read, Write};

use base64::Engine as _;
use ipaas::connector::types::{ConnectorError, RejectionReason};
use ipaas::connector::{actions, connection, triggers};
use serde_json::{Value, json};
use wasi::config::store;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

/// Request bodies larger than this are refused with 413 (inputs carry files as base64).
const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

struct Ingress;

wasip2::http::proxy::export!(Ingress);

/// What goes back: a status, extra headers and a JSON body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }

    fn fail(status: u16, kind: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: json!({ "error": { "kind": kind, "message": message.into() } }),
        }
    }
}

impl wasip2::exports::http::incoming_handler::Guest for Ingress {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let answer = route(&request).unwrap_or_else(|answer| answer);
        respond(out, answer);
    }
}

fn route(request: &IncomingRequest) -> Result<Answer, Answer> {
    let path = request.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let known = matches!(
        segments.as_slice(),
        ["connection", "test"] | ["actions", _] | ["triggers", _, "poll"] | ["webhooks", _]
    );
    if !known {
        return Err(Answer::fail(
            404,
            "not_found",
            format!(
                "no route {path}: POST /connection/test, /actions/{{key}}, /triggers/{{key}}/poll or /webhooks/{{key}}"
            ),
        ));
    }
    if !matches!(request.method(), Method::Post) {
        return Err(Answer::fail(
            405,
            "method_not_allowed",
            "only POST is served",
        ));
    }
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body = read_body(request)?;
    let config = connection_form()?;
    match segments.as_slice() {
        ["connection", "test"] => connection::test(&config)
            .map(|id| {
                Answer::ok(json!({
                    "user_id": id.user_id,
                    "user_email": id.user_email,
                    "user_name": id.user_name,
                    "company_id": id.company_id,
                    "company_name": id.company_name,
                    "scopes": id.scopes,
                }))
            })
            .map_err(failure),
        ["actions", key] => {
            let input = json_body(&body, json!({}))?;
            actions::execute(&config, key, &input.to_string())
                .map(|output| Answer::ok(parse_guest(&output)))
                .map_err(failure)
        }
        ["triggers", key, "poll"] => {
            let request = json_body(&body, json!({}))?;
            let input = request.get("input").cloned().unwrap_or_else(|| json!({}));
            let cursor = request
                .get("cursor")
                .filter(|c| !c.is_null())
                .map(Value::to_string);
            triggers::poll(&config, key, &input.to_string(), cursor.as_deref())
                .map(|polled| {
                    Answer::ok(json!({
                        "events": events(polled.events),
                        "cursor": polled.cursor.as_deref().map(parse_guest),
                        "has_more": polled.has_more,
                    }))
                })
                .map_err(failure)
        }
        ["webhooks", key] => {
            let subscription = base64_json(&format!("webhook.{key}.subscription"), true)?;
            let input = base64_json(&format!("webhook.{key}.input"), false)?;
            let delivery = triggers::WebhookRequest { headers, body };
            triggers::handle_webhook(
                &config,
                key,
                &input.to_string(),
                &subscription.to_string(),
                &delivery,
            )
            .map(|handled| {
                let mut body = json!({ "events": events(handled.events) });
                if let Some(replaced) = handled.subscription {
                    // The API rotated its key: the operator stores this as the new
                    // `webhook.{key}.subscription`.
                    body["subscription"] = parse_guest(&replaced);
                }
                Answer::ok(body)
            })
            .map_err(failure)
        }
        _ => unreachable!("routes are matched above"),
    }
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, Answer> {
    let unreadable = || Answer::fail(400, "bad_request", "the request body could not be read");
    let body = request.consume().map_err(|()| unreadable())?;
    let mut bytes = Vec::new();
    {
        let stream = body.stream().map_err(|()| unreadable())?;
        stream
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| unreadable())?;
    }
    if bytes.len() as u64 > MAX_BODY_BYTES {
        return Err(Answer::fail(
            413,
            "too_large",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

fn json_body(body: &[u8], empty: Value) -> Result<Value, Answer> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(empty);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Answer::fail(400, "bad_request", format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Answer::fail(
            400,
            "bad_request",
            "the body must be a JSON object",
        ));
    }
    Ok(value)
}

fn config_error(message: String) -> Answer {
    Answer::fail(500, "configuration", message)
}

fn setting(key: &str) -> Result<Option<String>, Answer> {
    store::get(key)
        .map_err(|e| config_error(format!("reading `{key}` from wasi:config failed: {e:?}")))
}

/// A JSON setting given as base64 (`base64 -w0 FILE`); absent is `{}` unless `required`.
fn base64_json(key: &str, required: bool) -> Result<Value, Answer> {
    let Some(text) = setting(key)? else {
        if required {
            return Err(config_error(format!(
                "the ingress has no `{key}`: pass `-S config-var={key}=$(base64 -w0 FILE)`"
            )));
        }
        return Ok(json!({}));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| config_error(format!("`{key}` is not base64: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| config_error(format!("`{key}` is not base64 of JSON: {e}")))
}

/// The connection form from its `connection.{field}` settings, refused when a secret-looking
/// field holds more than the `"<secret>"` placeholder: the connector must never see a
/// credential.
fn connection_form() -> Result<String, Answer> {
    let all =
        store::get_all().map_err(|e| config_error(format!("reading wasi:config failed: {e:?}")))?;
    let mut form = serde_json::Map::new();
    for (key, value) in all {
        let Some(field) = key.strip_prefix("connection.") else {
            continue;
        };
        let secret = ["secret", "token", "password"]
            .iter()
            .any(|word| field.to_ascii_lowercase().ends_with(word));
        if secret && value != "<secret>" {
            return Err(config_error(format!(
                "`connection.{field}` holds a value: write <secret> there and give the credentials component the real one"
            )));
        }
        form.insert(field.to_owned(), Value::String(value));
    }
    if form.is_empty() {
        return Err(config_error(
            "the ingress has no connection: pass the form field by field, `-S config-var=connection.api_type=…`".into(),
        ));
    }
    Ok(Value::Object(form).to_string())
}

/// JSON the connector returned; not JSON is its bug, passed on as a string.
fn parse_guest(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn events(events: Vec<triggers::Event>) -> Value {
    events
        .into_iter()
        .map(|e| json!({ "id": e.id, "payload": parse_guest(&e.payload) }))
        .collect()
}

/// A connector error as the status its kind means and a JSON body naming the kind.
fn failure(error: ConnectorError) -> Answer {
    let field = |status, kind, e: ipaas::connector::types::FieldError| Answer {
        status,
        headers: Vec::new(),
        body: json!({ "error": { "kind": kind, "message": e.message, "field": e.field } }),
    };
    match error {
        ConnectorError::InvalidConfig(e) => field(400, "invalid_config", e),
        ConnectorError::InvalidInput(e) => field(400, "invalid_input", e),
        ConnectorError::Unauthenticated(m) => Answer::fail(401, "unauthenticated", m),
        ConnectorError::Forbidden(e) => Answer {
            status: 403,
            headers: Vec::new(),
            body: json!({ "error": { "kind": "forbidden", "message": e.message, "missing_scope": e.missing_scope } }),
        },
        ConnectorError::NotFound(m) => Answer::fail(404, "not_found", m),
        ConnectorError::Conflict(m) => Answer::fail(409, "conflict", m),
        ConnectorError::RateLimited(r) => {
            let mut answer = Answer::fail(429, "rate_limited", r.message);
            if let Some(ms) = r.retry_after_ms {
                answer
                    .headers
                    .push(("retry-after".into(), ms.div_ceil(1000).to_string()));
            }
            answer
        }
        ConnectorError::Upstream(e) => Answer {
            status: 502,
            headers: Vec::new(),
            body: json!({ "error": {
                "kind": "upstream", "message": e.message, "status": e.status,
                "code": e.code, "param": e.param, "request_id": e.request_id,
            } }),
        },
        ConnectorError::Timeout(m) => Answer::fail(504, "timeout", m),
        ConnectorError::Unsupported(m) => Answer::fail(501, "unsupported", m),
        ConnectorError::Internal(m) => Answer::fail(500, "internal", m),
        ConnectorError::WebhookRejected(r) => {
            let (status, reason) = match r.reason {
                RejectionReason::Unsigned => (401, "unsigned"),
                RejectionReason::BadSignature => (401, "bad_signature"),
                RejectionReason::Stale => (401, "stale"),
                RejectionReason::Replayed => (409, "replayed"),
                RejectionReason::Malformed => (400, "malformed"),
            };
            Answer {
                status,
                headers: Vec::new(),
                body: json!({ "error": { "kind": "webhook_rejected", "reason": reason, "message": r.message } }),
            }
        }
    }
}

fn respond(out: ResponseOutparam, answer: Answer) {
    let mut headers = vec![("content-type".to_string(), b"application/json".to_vec())];
    headers.extend(answer.headers.into_iter().map(|(k, v)| (k, v.into_bytes())));
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(answer.status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(mut stream) = body.write() {
        let _ = stream
            .write_all(answer.body.to_string().as_bytes())
            .and_then(|()| Write::flush(&mut stream));
    }
    let _ = OutgoingBody::finish(body, None);
}
