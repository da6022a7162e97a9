//! Webhook triggers: register (or re-point) Ironclad's one webhook per target URL, verify
//! every delivery against Ironclad's signing key, and turn it into an event, optionally
//! hydrated with the object it is about.
//!
//! The subscription state is JSON the host keeps: the webhook id, target, events and the
//! verification key (PEM). A delivery that fails with the kept key triggers one re-fetch of
//! the key (Ironclad may rotate it); if the new key verifies, the replacement state goes
//! back to the host with the events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::signature::{EVENT_ID_HEADER, PublicKey, Refusal, VERIFICATION_HEADER, Verification};
use super::{Event, WebhookRequest, WebhookResult};
use crate::api;
use crate::config::Connection;
use crate::error::{ConnectorError, Rejection};
use crate::http::{HttpClient, Method, encode_path_segment};
use crate::pagination::PAGE_SIZE;
use crate::time::{self, Millis};
use crate::upstream;

pub const SCOPES: [&str; 4] = [
    "public.webhooks.createWebhooks",
    "public.webhooks.readWebhooks",
    "public.webhooks.updateWebhooks",
    "public.webhooks.deleteWebhooks",
];

/// Deliveries signed longer ago than this are refused unless the trigger says otherwise.
/// Ironclad retries a failing delivery for up to 13.6 hours; a day covers that.
pub const DEFAULT_MAX_AGE_MINUTES: u64 = 24 * 60;
/// Clock skew tolerated for timestamps in the future.
const MAX_SKEW_MS: Millis = 5 * 60_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub webhook_id: String,
    pub target_url: String,
    pub events: Vec<String>,
    /// Ironclad's PEM public key at subscription time (or the last rotation).
    pub verification_key: String,
    pub key_fetched_at: String,
}

impl Subscription {
    fn from_json(value: &Value) -> Result<Self, ConnectorError> {
        serde_json::from_value(value.clone()).map_err(|e| {
            ConnectorError::input(
                "subscription",
                format!("not a subscription this connector made ({e}); subscribe again"),
            )
        })
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a subscription serialises")
    }

    fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event)
    }
}

pub fn subscribe(
    client: &dyn HttpClient,
    conn: &Connection,
    events: Vec<String>,
    target_url: &str,
) -> Result<Value, ConnectorError> {
    check_target(target_url)?;
    let body = json!({ "events": events, "targetURL": target_url, "status": "enabled" });
    // Ironclad keeps one registration per target URL: re-point it instead of failing.
    let webhook = match find_by_target(client, conn, target_url)? {
        Some(id) => api::send_json(
            client,
            conn,
            Method::PATCH,
            &format!("/webhooks/{}", encode_path_segment(&id)),
            Some(&body),
            &SCOPES[2..3],
        )?,
        None => api::send_json(
            client,
            conn,
            Method::POST,
            "/webhooks",
            Some(&body),
            &SCOPES[..1],
        )?,
    };
    let webhook_id = webhook["id"]
        .as_str()
        .ok_or_else(|| ConnectorError::internal("Ironclad's webhook answer had no `id`"))?;
    let verification_key = fetch_key(client, conn)?;
    Ok(Subscription {
        webhook_id: webhook_id.to_string(),
        target_url: target_url.to_string(),
        events,
        verification_key,
        key_fetched_at: time::format(time::now()),
    }
    .to_json())
}

pub fn unsubscribe(
    client: &dyn HttpClient,
    conn: &Connection,
    subscription: &Value,
) -> Result<(), ConnectorError> {
    let sub = Subscription::from_json(subscription)?;
    let path = format!("/webhooks/{}", encode_path_segment(&sub.webhook_id));
    match api::send_json(client, conn, Method::DELETE, &path, None, &SCOPES[3..]) {
        // Already gone (deleted in Ironclad's UI, or a repeated disable): the goal holds.
        Ok(_) | Err(ConnectorError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Verify, decode and (optionally) hydrate one delivery.
pub fn handle(
    client: &dyn HttpClient,
    conn: &Connection,
    input: &Map<String, Value>,
    subscription: &Value,
    request: &WebhookRequest,
) -> Result<WebhookResult, ConnectorError> {
    let mut sub = Subscription::from_json(subscription)?;
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let (Some(event_id), Some(verification)) =
        (header(EVENT_ID_HEADER), header(VERIFICATION_HEADER))
    else {
        return Err(ConnectorError::rejected(
            Rejection::Unsigned,
            format!("the delivery lacks `{EVENT_ID_HEADER}` or `{VERIFICATION_HEADER}`"),
        ));
    };
    let verification = Verification::parse(verification).map_err(refusal)?;
    let replaced = verify_with_rotation(
        client,
        conn,
        &mut sub,
        &verification,
        event_id,
        &request.body,
    )?;

    let envelope: Value = serde_json::from_slice(&request.body).map_err(|e| {
        ConnectorError::rejected(Rejection::Malformed, format!("the body is not JSON: {e}"))
    })?;
    let event = envelope["payload"]["event"].as_str().ok_or_else(|| {
        ConnectorError::rejected(Rejection::Malformed, "the body has no `payload.event`")
    })?;
    check_age(&envelope, input)?;
    if let Some(other) = envelope["webhookID"]
        .as_str()
        .filter(|w| *w != sub.webhook_id)
    {
        return Err(ConnectorError::rejected(
            Rejection::Malformed,
            format!(
                "the delivery is for webhook {other}; this subscription is {}",
                sub.webhook_id
            ),
        ));
    }
    let events = if sub.wants(event) {
        vec![Event {
            id: event_id.to_string(),
            payload: payload(client, conn, input, event_id, event, &envelope)?,
        }]
    } else {
        Vec::new()
    };
    Ok(WebhookResult {
        events,
        subscription: replaced.then(|| sub.to_json()),
    })
}

/// Verify with the kept key; on a mismatch fetch the current key once and retry with it.
/// Returns whether the subscription's key was replaced.
fn verify_with_rotation(
    client: &dyn HttpClient,
    conn: &Connection,
    sub: &mut Subscription,
    verification: &Verification,
    event_id: &str,
    body: &[u8],
) -> Result<bool, ConnectorError> {
    let kept = PublicKey::from_pem(&sub.verification_key)
        .map_err(|e| ConnectorError::input("subscription", e))?;
    match verification.verify(&kept, event_id, body) {
        Ok(()) => return Ok(false),
        Err(Refusal::Mismatch) => {}
        Err(other) => return Err(refusal(other)),
    }
    let current = fetch_key(client, conn)?;
    if current.trim() == sub.verification_key.trim() {
        return Err(refusal(Refusal::Mismatch));
    }
    let key = PublicKey::from_pem(&current).map_err(ConnectorError::internal)?;
    verification.verify(&key, event_id, body).map_err(refusal)?;
    sub.verification_key = current;
    sub.key_fetched_at = time::format(time::now());
    Ok(true)
}

fn refusal(r: Refusal) -> ConnectorError {
    match r {
        Refusal::Unsigned(m) => ConnectorError::rejected(Rejection::Unsigned, m),
        Refusal::Malformed(m) => ConnectorError::rejected(Rejection::Malformed, m),
        Refusal::Mismatch => ConnectorError::rejected(
            Rejection::BadSignature,
            "the signature does not verify with Ironclad's verification key",
        ),
    }
}

/// The signed `timestamp` must be recent: an old delivery replayed later is refused even by
/// a host that has forgotten the event id.
fn check_age(envelope: &Value, input: &Map<String, Value>) -> Result<(), ConnectorError> {
    let stamp = envelope["timestamp"].as_str().unwrap_or_default();
    let at = time::parse(stamp).ok_or_else(|| {
        ConnectorError::rejected(Rejection::Malformed, format!("bad `timestamp` `{stamp}`"))
    })?;
    let max_age_min = input
        .get("max_age_minutes")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_AGE_MINUTES);
    let now = time::now();
    let age = now - at;
    if age > max_age_min as Millis * 60_000 {
        return Err(ConnectorError::rejected(
            Rejection::Stale,
            format!("signed at {stamp}, more than {max_age_min} minutes ago"),
        ));
    }
    if -age > MAX_SKEW_MS {
        return Err(ConnectorError::rejected(
            Rejection::Stale,
            format!("signed at {stamp}, in the future"),
        ));
    }
    Ok(())
}

/// `{event, occurred_at, workflow|record, webhook}`: the same shape as the polled event
/// (the object under its noun when hydrated, else null) plus the delivery itself.
fn payload(
    client: &dyn HttpClient,
    conn: &Connection,
    input: &Map<String, Value>,
    event_id: &str,
    event: &str,
    envelope: &Value,
) -> Result<Value, ConnectorError> {
    let data = &envelope["payload"];
    let mut payload = json!({
        "event": event,
        "occurred_at": envelope["timestamp"],
        "webhook": {
            "event_id": event_id,
            "webhook_id": envelope["webhookID"],
            "company_id": envelope["companyID"],
            "payload": data,
        },
    });
    let hydrate = input
        .get("hydrate")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let targets = [
        (
            "workflow",
            "workflowID",
            "/workflows",
            "public.workflows.readWorkflows",
        ),
        (
            "record",
            "recordID",
            "/records",
            "public.records.readRecords",
        ),
    ];
    for (noun, field, base, scope) in targets {
        let Some(id) = data[field].as_str() else {
            continue;
        };
        payload[noun] = if hydrate {
            let path = format!("{base}/{}", encode_path_segment(id));
            match api::get_json(client, conn, &path, &[scope]) {
                Ok(object) => object,
                // Deleted since the event: the event still happened.
                Err(ConnectorError::NotFound(_)) => Value::Null,
                Err(e) => return Err(e),
            }
        } else {
            Value::Null
        };
    }
    Ok(payload)
}

/// HTTPS, or plain HTTP to this machine (local receivers and the emulator).
fn check_target(url: &str) -> Result<(), ConnectorError> {
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if url.starts_with("https://") && url.len() > "https://".len()
        || loopback.iter().any(|p| url.starts_with(p))
    {
        return Ok(());
    }
    Err(ConnectorError::input(
        "target_url",
        format!("`{url}` must be an https:// URL (Ironclad delivers over HTTPS only)"),
    ))
}

fn find_by_target(
    client: &dyn HttpClient,
    conn: &Connection,
    target_url: &str,
) -> Result<Option<String>, ConnectorError> {
    // `GET /webhooks` has no `count`: read until a short page.
    for page in 0.. {
        let q = [
            ("page", page.to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ];
        let envelope = api::get_json(
            client,
            conn,
            &format!("/webhooks{}", api::query(&q)),
            &SCOPES[1..2],
        )?;
        let list = envelope["list"].as_array().cloned().unwrap_or_default();
        if let Some(hook) = list
            .iter()
            .find(|h| h["targetURL"].as_str() == Some(target_url))
        {
            return Ok(hook["id"].as_str().map(str::to_string));
        }
        if (list.len() as u64) < PAGE_SIZE {
            break;
        }
    }
    Ok(None)
}

fn fetch_key(client: &dyn HttpClient, conn: &Connection) -> Result<String, ConnectorError> {
    let mut request = api::request(conn, Method::GET, "/webhooks/verification-key");
    request.headers.retain(|(name, _)| name != "accept");
    let request = request.header("accept", "text/plain");
    let response = upstream::send_ok(client, request, &[])?;
    let pem = String::from_utf8(response.body)
        .map_err(|_| ConnectorError::internal("Ironclad's verification key is not UTF-8 text"))?;
    PublicKey::from_pem(&pem).map_err(ConnectorError::internal)?;
    Ok(pem)
}
