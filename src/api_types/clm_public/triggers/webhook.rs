//! Webhook triggers: register (or re-point) Ironclad's one webhook per target URL, verify
//! every delivery against Ironclad's signing key, and turn it into an event, optionally
//! hydrated with the object it is about.
//!
//! The subscription state is JSON the host keeps: the webhook id, target, events and the
//! verification key (PEM). A delivery is checked in both forms its body may have been signed
//! in (as received, and re-serialised as JavaScript would: [`Body`]) with a key before that key
//! is judged stale. A delivery that fails with the kept key triggers one re-fetch of
//! the key (Ironclad may rotate it), as does a kept key that is no usable RSA key (so such
//! state heals rather than fails for ever); if the new key verifies, the replacement state
//! goes back to the host with the events. Only a delivery that is otherwise well formed and
//! fresh can cause that fetch: what can be judged without the key is judged first, so a
//! forged or replayed delivery costs no request to Ironclad.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::super::api;
use super::signature::{
    Body, EVENT_ID_HEADER, PublicKey, Refusal, VERIFICATION_HEADER, Verification,
};
use crate::config::Connection;
use crate::error::{ConnectorError, Rejection, excerpt};
use crate::http::{HttpClient, Method, encode_path_segment};
use crate::pages::PAGE_SIZE;
use crate::time::{self, Millis};
use crate::triggers::{Event, WebhookRequest, WebhookResult};
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
    /// Ironclad's PEM public key at subscription time (or the last rotation). Missing or
    /// unusable, it is fetched again on the next delivery.
    #[serde(default)]
    pub verification_key: String,
    #[serde(default)]
    pub key_fetched_at: String,
}

impl Subscription {
    fn from_json(value: &Value) -> Result<Self, ConnectorError> {
        serde_json::from_value(value.clone()).map_err(|e| {
            ConnectorError::input(
                "subscription",
                format!(
                    "not a subscription this connector made ({}); subscribe again",
                    excerpt(&e.to_string())
                ),
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
    let (verification_key, _) = fetch_key(client, conn)?;
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
    // Judged before the signature, so that only a well-formed, fresh delivery can cost a
    // key fetch; nothing of it is used before the signature verifies.
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
                "the delivery is for webhook {}; this subscription is {}",
                excerpt(other),
                sub.webhook_id
            ),
        ));
    }
    let replaced = verify_with_rotation(
        client,
        conn,
        &mut sub,
        &verification,
        event_id,
        &request.body,
    )?;
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

/// Verify with the kept key; on a mismatch (in both forms of the body) fetch the current key
/// once and retry with it. A kept key that is no usable key (not PEM, not RSA, under 2048
/// bits: state from an older version, or edited) is a key problem too, healed by the same one
/// fetch. Returns whether the subscription's key was replaced.
fn verify_with_rotation(
    client: &dyn HttpClient,
    conn: &Connection,
    sub: &mut Subscription,
    verification: &Verification,
    event_id: &str,
    body: &[u8],
) -> Result<bool, ConnectorError> {
    let body = Body::new(body);
    let kept = PublicKey::from_pem(&sub.verification_key).ok();
    if let Some(kept) = &kept {
        match verification.verify(kept, event_id, &body) {
            Ok(()) => return Ok(false),
            Err(Refusal::Mismatch) => {}
            Err(other) => return Err(refusal(other)),
        }
    }
    let (current, key) = fetch_key(client, conn)?;
    if kept.is_some() && current.trim() == sub.verification_key.trim() {
        return Err(refusal(Refusal::Mismatch));
    }
    verification
        .verify(&key, event_id, &body)
        .map_err(refusal)?;
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
        ConnectorError::rejected(
            Rejection::Malformed,
            format!("bad `timestamp` `{}`", excerpt(stamp)),
        )
    })?;
    let max_age_min = input
        .get("max_age_minutes")
        .and_then(crate::integer::as_u64)
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
        format!(
            "`{}` must be an https:// URL (Ironclad delivers over HTTPS only)",
            excerpt(url)
        ),
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

/// Ironclad's current verification key, as PEM and parsed. A key that is no usable RSA key
/// (under 2048 bits included) is an error: no delivery can be trusted with it.
fn fetch_key(
    client: &dyn HttpClient,
    conn: &Connection,
) -> Result<(String, PublicKey), ConnectorError> {
    let mut request = api::request(conn, Method::GET, "/webhooks/verification-key");
    request.headers.retain(|(name, _)| name != "accept");
    let request = request.header("accept", "text/plain");
    let response = upstream::send_ok(client, request, &[])?;
    let pem = String::from_utf8(response.body)
        .map_err(|_| ConnectorError::internal("Ironclad's verification key is not UTF-8 text"))?;
    let key = PublicKey::from_pem(&pem).map_err(|e| {
        ConnectorError::internal(format!(
            "Ironclad's webhook verification key cannot be used ({e}); no delivery is \
             accepted until Ironclad serves a usable key"
        ))
    })?;
    Ok((pem, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Request, Response};
    use crate::test_support::{Scripted, conn, scripted};
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use sha2::Sha256;

    // The emulator's test-only keys, and a test-only 1024-bit pair for what a short key must
    // not be trusted with.
    const SIGNING_KEY: &str = include_str!("../../../../fixtures/emulator/webhook-signing-key.pem");
    const KEY: &str = include_str!("../../../../fixtures/emulator/webhook-verification-key.pem");
    const OTHER_SIGNING_KEY: &str =
        include_str!("../../../../fixtures/emulator/webhook-signing-key-2.pem");
    const OTHER_KEY: &str =
        include_str!("../../../../fixtures/emulator/webhook-verification-key-2.pem");
    const WEAK_SIGNING_KEY: &str = include_str!("testdata/weak-1024-signing-key.pem");
    const WEAK_KEY: &str = include_str!("testdata/weak-1024-verification-key.pem");
    const EC_KEY: &str = include_str!("testdata/ec-p256-verification-key.pem");
    const WEBHOOK: &str = "5928719b30182d3700364a75";

    /// `body` as Ironclad delivers it, signed with `signing_key` (PKCS#8 PEM).
    fn signed(body: &[u8], signing_key: &str) -> WebhookRequest {
        signed_over(body, body, signing_key)
    }

    /// `wire` as it arrives, with the signature `signing_key` (PKCS#8 PEM) made over `text`.
    fn signed_over(wire: &[u8], text: &[u8], signing_key: &str) -> WebhookRequest {
        let (event_id, nonce) = ("webhookEvent0123", "9f86d081");
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(signing_key).unwrap();
        let mut message = event_id.as_bytes().to_vec();
        message.extend_from_slice(text);
        message.extend_from_slice(nonce.as_bytes());
        let signature = SigningKey::<Sha256>::new(key).sign(&message).to_vec();
        let verification = json!({ "nonce": nonce, "signAlgorithm": "sha256",
                                   "signature": crate::base64::encode(&signature), "encoding": "base64" });
        WebhookRequest {
            headers: vec![
                (EVENT_ID_HEADER.into(), event_id.into()),
                (VERIFICATION_HEADER.into(), verification.to_string()),
            ],
            body: wire.to_vec(),
        }
    }

    fn envelope(timestamp: &str) -> Value {
        json!({ "companyID": "c1", "webhookID": WEBHOOK, "timestamp": timestamp,
                "payload": { "event": "workflow_launched", "workflowID": "w1" } })
    }

    /// A `workflow_launched` delivery signed `minutes_ago` with `signing_key`.
    fn delivery(minutes_ago: i64, signing_key: &str) -> WebhookRequest {
        let at = time::format(time::now() - minutes_ago * 60_000);
        signed(envelope(&at).to_string().as_bytes(), signing_key)
    }

    fn subscription(key: &str) -> Value {
        json!({ "webhook_id": WEBHOOK, "target_url": "https://hooks.example/ironclad",
                "events": ["workflow_launched"], "verification_key": key,
                "key_fetched_at": "2026-01-01T00:00:00.000Z" })
    }

    /// Ironclad serving `key` as its verification key (deliveries are not hydrated here, so
    /// every request is a key fetch).
    fn ironclad(key: &'static str) -> Scripted<impl Fn(&Request) -> Response> {
        scripted(move |request| {
            assert!(
                request.url.ends_with("/webhooks/verification-key"),
                "{}",
                request.url
            );
            Response {
                status: 200,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: key.as_bytes().to_vec(),
            }
        })
    }

    fn handled(
        client: &dyn HttpClient,
        input: Value,
        kept_key: &str,
        request: &WebhookRequest,
    ) -> Result<WebhookResult, ConnectorError> {
        let mut input = input.as_object().cloned().unwrap_or_default();
        input.insert("hydrate".into(), json!(false));
        handle(client, &conn(), &input, &subscription(kept_key), request)
    }

    fn rejection(result: Result<WebhookResult, ConnectorError>) -> Rejection {
        match result {
            Err(ConnectorError::WebhookRejected { reason, .. }) => reason,
            other => panic!("not a rejection: {other:?}"),
        }
    }

    /// Whatever can be judged without the key is judged first: a delivery that is malformed
    /// or stale is refused without a request, even when its signature does not match the
    /// kept key (which used to fetch the key for every forged delivery).
    #[test]
    fn a_malformed_or_stale_delivery_costs_no_request() {
        let client = ironclad(KEY);
        let other = |body: Value| signed(body.to_string().as_bytes(), OTHER_SIGNING_KEY);
        let mut no_event = envelope(&time::format(time::now()));
        no_event["payload"] = json!({});
        let mut other_webhook = envelope(&time::format(time::now()));
        other_webhook["webhookID"] = json!("ffffffffffffffffffffffff");
        let mut short_signature = delivery(0, OTHER_SIGNING_KEY);
        short_signature.headers[1].1 =
            json!({ "nonce": "n", "signature": crate::base64::encode(&[7; 10]) }).to_string();
        let mut unsigned = delivery(0, OTHER_SIGNING_KEY);
        unsigned.headers.remove(1);
        let cases = [
            (
                "stale",
                json!({}),
                delivery(25 * 60, OTHER_SIGNING_KEY),
                Rejection::Stale,
            ),
            (
                "future",
                json!({}),
                delivery(-60, OTHER_SIGNING_KEY),
                Rejection::Stale,
            ),
            // `max_age_minutes: 1.0` is the integer 1, as validation says.
            (
                "older than 1.0 minute",
                json!({ "max_age_minutes": 1.0 }),
                delivery(2, OTHER_SIGNING_KEY),
                Rejection::Stale,
            ),
            (
                "not JSON",
                json!({}),
                signed(b"{\"payload\":", OTHER_SIGNING_KEY),
                Rejection::Malformed,
            ),
            ("no event", json!({}), other(no_event), Rejection::Malformed),
            (
                "bad timestamp",
                json!({}),
                other(envelope("yesterday")),
                Rejection::Malformed,
            ),
            (
                "another webhook",
                json!({}),
                other(other_webhook),
                Rejection::Malformed,
            ),
            (
                "short signature",
                json!({}),
                short_signature,
                Rejection::Malformed,
            ),
            ("unsigned", json!({}), unsigned, Rejection::Unsigned),
        ];
        for (name, input, request, reason) in cases {
            let result = handled(&client, input, KEY, &request);
            assert_eq!(rejection(result), reason, "{name}");
            assert!(client.sent.borrow().is_empty(), "{name}: no key fetch");
        }
        // Well formed and fresh, signed with another key: one fetch, then refused.
        let result = handled(&client, json!({}), KEY, &delivery(0, OTHER_SIGNING_KEY));
        assert_eq!(rejection(result), Rejection::BadSignature);
        assert_eq!(client.sent.borrow().len(), 1);
    }

    /// A kept key that is no RSA public key (an EC key, garbage, nothing) heals with one
    /// fetch on the next genuine delivery instead of failing every delivery for ever.
    #[test]
    fn a_kept_key_that_is_no_usable_key_heals_with_one_fetch() {
        for kept in [
            EC_KEY,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "",
        ] {
            let client = ironclad(KEY);
            let out = handled(&client, json!({}), kept, &delivery(0, SIGNING_KEY)).unwrap();
            assert_eq!(out.events.len(), 1, "{kept}");
            let healed = out
                .subscription
                .expect("the fetched key replaces the kept one");
            assert_eq!(healed["verification_key"], KEY);
            assert_eq!(client.sent.borrow().len(), 1, "{kept}");
        }
        // A subscription saved without a key heals the same way.
        let mut keyless = subscription(KEY);
        keyless.as_object_mut().unwrap().remove("verification_key");
        let client = ironclad(KEY);
        let out = handle(
            &client,
            &conn(),
            &Map::from_iter([("hydrate".to_string(), json!(false))]),
            &keyless,
            &delivery(0, SIGNING_KEY),
        )
        .unwrap();
        assert_eq!(out.events.len(), 1);
    }

    /// An RSA key under 2048 bits is no key: what it signs is refused (its signature is too
    /// short for any acceptable key, so nothing is fetched), a kept one is replaced on the
    /// next genuine delivery, and one Ironclad serves is a clear error, not a new key.
    #[test]
    fn rsa_keys_under_2048_bits_are_refused() {
        let client = ironclad(KEY);
        let result = handled(&client, json!({}), WEAK_KEY, &delivery(0, WEAK_SIGNING_KEY));
        assert_eq!(rejection(result), Rejection::Malformed);
        assert!(client.sent.borrow().is_empty());
        // Kept weak key, genuine delivery: healed with one fetch.
        let out = handled(&client, json!({}), WEAK_KEY, &delivery(0, SIGNING_KEY)).unwrap();
        assert_eq!(out.subscription.unwrap()["verification_key"], KEY);
        assert_eq!(client.sent.borrow().len(), 1);
        // Ironclad serving a weak key: refused once fetched, and the kept key stays.
        let client = ironclad(WEAK_KEY);
        let err = handled(&client, json!({}), KEY, &delivery(0, OTHER_SIGNING_KEY)).unwrap_err();
        assert_eq!(err.kind(), "internal");
        assert!(err.to_string().contains("1024-bit"), "{err}");
        assert_eq!(client.sent.borrow().len(), 1, "fetched once");
    }

    #[test]
    fn a_genuine_delivery_with_the_kept_key_needs_no_request() {
        let client = ironclad(KEY);
        let out = handled(&client, json!({}), KEY, &delivery(0, SIGNING_KEY)).unwrap();
        assert_eq!(out.events[0].id, "webhookEvent0123");
        assert_eq!(out.events[0].payload["event"], "workflow_launched");
        assert!(out.subscription.is_none());
        assert!(client.sent.borrow().is_empty());
    }

    /// Deliveries as a proxy may pass them on, each with the text Ironclad signed:
    /// `JSON.stringify` of the body (what Node.js 20 printed for each wire body, checked once).
    /// `NOW` stands for a fresh timestamp.
    const RE_SERIALISED: &[(&str, &str, &str)] = &[
        (
            "pretty-printed, with escapes",
            r#"{
  "companyID": "c1",
  "webhookID": "5928719b30182d3700364a75",
  "timestamp": "NOW",
  "payload": {
    "event": "workflow_launched",
    "workflowID": "w1",
    "title": "Caf\u00e9 \u5951\u7d04 \/ a\nb \u2028 \"q\" \u0007"
  }
}"#,
            "{\"companyID\":\"c1\",\"webhookID\":\"5928719b30182d3700364a75\",\"timestamp\":\"NOW\",\
             \"payload\":{\"event\":\"workflow_launched\",\"workflowID\":\"w1\",\
             \"title\":\"Café 契約 / a\\nb \u{2028} \\\"q\\\" \\u0007\"}}",
        ),
        (
            "numbers",
            r#"{"companyID":"c1","webhookID":"5928719b30182d3700364a75","timestamp":"NOW","payload":{"event":"workflow_launched","workflowID":"w1","amounts":[1e21,0.1,1.0,-0,1E-7,12345678901234567890]}}"#,
            r#"{"companyID":"c1","webhookID":"5928719b30182d3700364a75","timestamp":"NOW","payload":{"event":"workflow_launched","workflowID":"w1","amounts":[1e+21,0.1,1,0,1e-7,12345678901234567000]}}"#,
        ),
        (
            "non-ASCII, keys in the order sent",
            r#"{"webhookID": "5928719b30182d3700364a75", "payload": {"workflowID": "w1", "event": "workflow_launched", "counterparty": "Société Générale – 契約 😀"}, "timestamp": "NOW", "companyID": "c1"}"#,
            r#"{"webhookID":"5928719b30182d3700364a75","payload":{"workflowID":"w1","event":"workflow_launched","counterparty":"Société Générale – 契約 😀"},"timestamp":"NOW","companyID":"c1"}"#,
        ),
    ];

    /// A re-serialised delivery, signed with `signing_key` over its JavaScript form, and a
    /// copy with one value changed (`w1` → `w2`) under the same signature.
    fn re_serialised(
        wire: &str,
        text: &str,
        signing_key: &str,
    ) -> (WebhookRequest, WebhookRequest) {
        let now = time::format(time::now());
        let (wire, text) = (wire.replace("NOW", &now), text.replace("NOW", &now));
        let genuine = signed_over(wire.as_bytes(), text.as_bytes(), signing_key);
        let mut tampered = genuine.clone();
        tampered.body = wire.replace("\"w1\"", "\"w2\"").into_bytes();
        assert_ne!(tampered.body, genuine.body);
        (genuine, tampered)
    }

    /// Ironclad signs `JSON.stringify(body)`: a body re-serialised on the way still verifies
    /// with the kept key (no fetch); the same with one value changed does not.
    #[test]
    fn a_re_serialised_delivery_verifies_and_a_tampered_one_does_not() {
        for (name, wire, text) in RE_SERIALISED {
            let (genuine, tampered) = re_serialised(wire, text, SIGNING_KEY);
            let client = ironclad(KEY);
            let out = handled(&client, json!({}), KEY, &genuine).unwrap();
            assert_eq!(out.events.len(), 1, "{name}");
            assert_eq!(
                out.events[0].payload["webhook"]["payload"]["workflowID"],
                "w1"
            );
            assert!(out.subscription.is_none(), "{name}");
            assert!(client.sent.borrow().is_empty(), "{name}: no key fetch");

            let result = handled(&client, json!({}), KEY, &tampered);
            assert_eq!(rejection(result), Rejection::BadSignature, "{name}");
            assert_eq!(client.sent.borrow().len(), 1, "{name}: one key fetch");
        }
    }

    /// A rotated key is tried on both forms too: one fetch, then the delivery verifies and the
    /// new key is kept.
    #[test]
    fn a_re_serialised_delivery_verifies_with_a_rotated_key() {
        let (_, wire, text) = RE_SERIALISED[0];
        let (genuine, _) = re_serialised(wire, text, SIGNING_KEY);
        let client = ironclad(KEY);
        let out = handled(&client, json!({}), OTHER_KEY, &genuine).unwrap();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.subscription.unwrap()["verification_key"], KEY);
        assert_eq!(client.sent.borrow().len(), 1);
    }

    /// The bytes received are still checked first: signed as they are (pretty-printed, not
    /// what `JSON.stringify` writes), they verify.
    #[test]
    fn the_raw_bytes_verify_when_they_are_what_was_signed() {
        let at = time::format(time::now());
        let pretty = serde_json::to_vec_pretty(&envelope(&at)).unwrap();
        let client = ironclad(KEY);
        let out = handled(&client, json!({}), KEY, &signed(&pretty, SIGNING_KEY)).unwrap();
        assert_eq!(out.events.len(), 1);
        assert!(client.sent.borrow().is_empty());
    }
}
