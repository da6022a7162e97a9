//! `/public/api/v1/webhooks`: register, list (paged, no `count`), retrieve, update and delete
//! webhook subscriptions. One registration per target URL.
//!
//! Targets must be HTTPS, as in Ironclad — with one emulator-only allowance: plain
//! `http://127.0.0.1:<port>/…` and `http://localhost:<port>/…`, so a test can receive
//! deliveries on a local port without TLS. Deliveries (`infra::deliveries`) go to loopback
//! targets only; others are accepted and listed but never called.

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::ids;
use crate::store::time;
use crate::store::webhooks_and_jobs::Webhook;
use crate::store::webhooks_and_jobs::{EVENTS, Target};

pub const CREATE_WEBHOOKS: &str = "public.webhooks.createWebhooks";
pub const READ_WEBHOOKS: &str = "public.webhooks.readWebhooks";
pub const UPDATE_WEBHOOKS: &str = "public.webhooks.updateWebhooks";
pub const DELETE_WEBHOOKS: &str = "public.webhooks.deleteWebhooks";

/// Statuses a client may set (`disabledBySystem` is the system's).
const SETTABLE_STATUSES: [&str; 2] = ["enabled", "disabled"];

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: list_webhooks, create_webhook
        .route("/public/api/v1/webhooks", get(list).post(create))
        // action: delete_webhook, retrieve_webhook, update_webhook
        .route(
            "/public/api/v1/webhooks/{id}",
            get(retrieve).patch(update).delete(remove),
        )
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    actor.require_scope(CREATE_WEBHOOKS)?;
    let body = object(&body)?;
    let events = match body.get("events") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "events",
            ));
        }
        Some(v) => events(v)?,
    };
    let target_url = match body.get("targetURL") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "targetURL",
            ));
        }
        Some(v) => target_url(v)?,
    };
    let status = match body.get("status") {
        None | Some(Value::Null) => "enabled".to_owned(),
        Some(v) => status(v)?,
    };
    let mut data = emu.data();
    if let Some(existing) = data
        .platform
        .webhooks
        .iter()
        .find(|w| w.target_url == target_url)
    {
        return Err(duplicate(existing, &events, &target_url));
    }
    let now = time::format_ms(data.tick());
    let webhook = Webhook {
        id: loop {
            let id = ids::object_id();
            if !data.platform.webhooks.iter().any(|w| w.id == id) {
                break id;
            }
        },
        events,
        target_url,
        status,
        status_last_updated_at: Some(now),
        status_last_updated_by: Some(actor.user.id.clone()),
        consecutive_failure_count: 0,
        first_consecutive_failure: None,
    };
    data.platform.webhooks.push(webhook.clone());
    Ok((StatusCode::CREATED, Json(render(&emu, &webhook))))
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_WEBHOOKS)?;
    let page = PageRequest::from_params(&params)?;
    let all: Vec<Value> = emu
        .data()
        .platform
        .webhooks
        .iter()
        .map(|w| render(&emu, w))
        .collect();
    // The spec's envelope for webhooks has no `count`.
    let mut envelope = page.envelope(all);
    if let Some(fields) = envelope.as_object_mut() {
        fields.remove("count");
    }
    Ok(Json(envelope))
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_WEBHOOKS)?;
    let data = emu.data();
    let webhook = find(&data.platform.webhooks, &id)?;
    Ok(Json(render(&emu, webhook)))
}

async fn update(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_WEBHOOKS)?;
    let mut data = emu.data();
    find(&data.platform.webhooks, &id)?;
    let body = object(&body)?;
    let events = body
        .get("events")
        .filter(|v| !v.is_null())
        .map(events)
        .transpose()?;
    let target = body
        .get("targetURL")
        .filter(|v| !v.is_null())
        .map(target_url)
        .transpose()?;
    let status = body
        .get("status")
        .filter(|v| !v.is_null())
        .map(status)
        .transpose()?;
    if let Some(target) = &target
        && let Some(other) = data
            .platform
            .webhooks
            .iter()
            .find(|w| &w.target_url == target && w.id != id)
    {
        let events = events.clone().unwrap_or_else(|| other.events.clone());
        return Err(duplicate(other, &events, target));
    }
    let now = time::format_ms(data.tick());
    let webhook = data
        .platform
        .webhooks
        .iter_mut()
        .find(|w| w.id == id)
        .expect("found above");
    if let Some(events) = events {
        webhook.events = events;
    }
    if let Some(target) = target {
        webhook.target_url = target;
    }
    if let Some(status) = status
        && status != webhook.status
    {
        // Re-enabling starts the failure count afresh.
        if status == "enabled" {
            webhook.consecutive_failure_count = 0;
            webhook.first_consecutive_failure = None;
        }
        webhook.status = status;
        webhook.status_last_updated_at = Some(now);
        webhook.status_last_updated_by = Some(actor.user.id.clone());
    }
    let webhook = webhook.clone();
    Ok(Json(render(&emu, &webhook)))
}

async fn remove(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    actor.require_scope(DELETE_WEBHOOKS)?;
    let mut data = emu.data();
    find(&data.platform.webhooks, &id)?;
    data.platform.webhooks.retain(|w| w.id != id);
    Ok(StatusCode::NO_CONTENT)
}

fn find<'a>(webhooks: &'a [Webhook], id: &str) -> Result<&'a Webhook, ApiError> {
    webhooks
        .iter()
        .find(|w| w.id == id)
        .ok_or_else(|| ApiError::not_found("webhook does not exist", Some("webhookId")))
}

/// `WebhookModel`.
fn render(emu: &Emulator, webhook: &Webhook) -> Value {
    let mut value = serde_json::to_value(webhook).expect("webhooks serialise");
    value["companyId"] = json!(emu.seed().company.id);
    value
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        )),
    }
}

/// A non-empty list of known event types, repeats dropped.
fn events(value: &Value) -> Result<Vec<String>, ApiError> {
    let invalid = || {
        ApiError::invalid_param(
            format!(
                "invalid event type; {} are acceptable event types",
                EVENTS.join(", ")
            ),
            "events",
        )
    };
    let items = value.as_array().ok_or_else(invalid)?;
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            "events must contain at least one event type",
            "events",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let event = item
            .as_str()
            .filter(|e| EVENTS.contains(e))
            .ok_or_else(invalid)?;
        if !out.iter().any(|e| e == event) {
            out.push(event.to_owned());
        }
    }
    Ok(out)
}

/// An absolute `https://host[/…]` URL, or a loopback `http://` one (see the module doc).
fn target_url(value: &Value) -> Result<String, ApiError> {
    let url = value.as_str().map(str::trim).unwrap_or_default();
    let valid = !url.contains(char::is_whitespace)
        && match Target::parse(url) {
            Some(Target {
                https: true, host, ..
            }) => !host.is_empty(),
            Some(Target {
                https: false,
                host,
                port: Some(port),
            }) => {
                (host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost"))
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            }
            Some(_) | None => false,
        };
    if !valid {
        return Err(ApiError::invalid_param(
            "targetURL must be an HTTPS url (the emulator also accepts http://127.0.0.1:<port>/… and http://localhost:<port>/…)",
            "targetURL",
        ));
    }
    Ok(url.to_owned())
}

fn status(value: &Value) -> Result<String, ApiError> {
    match value.as_str() {
        Some(s) if SETTABLE_STATUSES.contains(&s) => Ok(s.to_owned()),
        other => Err(ApiError::invalid_param(
            format!(
                "invalid value '{}'; value must be one of [{}]",
                other.map_or_else(|| value.to_string(), str::to_owned),
                SETTABLE_STATUSES.join(", ")
            ),
            "status",
        )),
    }
}

/// Ironclad's duplicate-target error, with its misspelled `tagetURL` param.
fn duplicate(existing: &Webhook, events: &[String], target: &str) -> ApiError {
    let event = events
        .iter()
        .find(|e| existing.events.contains(e))
        .or_else(|| events.first())
        .map_or("*", String::as_str);
    ApiError::invalid_param(
        format!("webhook already exists for event {event} and target {target}"),
        "tagetURL",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::webhooks_and_jobs::is_loopback_target;

    #[test]
    fn validates_fields() {
        assert_eq!(
            events(&json!(["workflow_launched", "*", "workflow_launched"])).unwrap(),
            ["workflow_launched", "*"]
        );
        let e = events(&json!(["workflow_exploded"])).unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("events"))
        );
        assert!(
            e.message
                .starts_with("invalid event type; *, workflow_launched")
        );
        assert!(events(&json!([])).is_err());
        assert!(events(&json!("workflow_launched")).is_err());
        assert_eq!(
            target_url(&json!("https://h.example/x?y=1")).unwrap(),
            "https://h.example/x?y=1"
        );
        for bad in [
            json!("http://h.example"),
            json!("https://"),
            json!(3),
            json!("h.example"),
            json!("http://127.0.0.1/no-port"),
            json!("http://127.0.0.1:0/"),
            json!("http://127.0.0.1:99999/"),
            json!("http://10.0.0.1:8080/"),
            json!("http://user@127.0.0.1:8080/"),
            json!("http://127.0.0.1:8080@evil.example/"),
        ] {
            assert!(target_url(&bad).is_err(), "{bad}");
        }
        // The emulator-only allowance: plain http to a loopback port.
        for good in [
            "http://127.0.0.1:8976/hooks",
            "http://localhost:8976",
            "http://LOCALHOST:1/x?y",
        ] {
            assert_eq!(target_url(&json!(good)).unwrap(), good);
        }
        for (url, loopback) in [
            ("http://127.0.0.1:8976/hooks", true),
            ("https://localhost/x", true),
            ("https://[::1]:8443/x", true),
            ("https://hooks.acme.example/ironclad", false),
            ("https://127.0.0.1.evil.example/x", false),
            ("https://127.0.0.1@evil.example/x", false),
            ("https://127.0.0.1:80@evil.example/x", false),
            ("https://evil.example\\@127.0.0.1/x", false),
            ("https://evil.example/127.0.0.1", false),
        ] {
            assert_eq!(is_loopback_target(url), loopback, "{url}");
        }
        assert!(status(&json!("disabledBySystem")).is_err());
        assert_eq!(status(&json!("disabled")).unwrap(), "disabled");
    }
}
