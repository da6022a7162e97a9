//! The hostile probe of issue #23, replayed through the connector's public API: integers are
//! read as validation reads them, an over-long id is refused by name, no error grows with its
//! input, cursors belong to their action (or trigger) and connection, webhook deliveries are
//! judged before any key fetch, and a write without an answer may have been processed. Each
//! case failed before its fix.

mod common;

use common::config;
use std::cell::RefCell;

use ironclad_connector::error::ConnectorError;
use ironclad_connector::http::{HttpClient, Request, Response, TransportError};
use ironclad_connector::triggers::WebhookRequest;
use ironclad_connector::{manifest, time};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Sha256;

type Answer = Box<dyn Fn(&Request) -> Result<Response, TransportError>>;

/// Answers each request with `answer(request)`; records the requests.
struct Ironclad {
    sent: RefCell<Vec<Request>>,
    answer: Answer,
}

fn json_response(status: u16, body: &Value) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

impl Ironclad {
    fn answering(status: u16, body: Value) -> Self {
        Ironclad {
            sent: RefCell::new(Vec::new()),
            answer: Box::new(move |_| Ok(json_response(status, &body))),
        }
    }

    fn failing(error: TransportError) -> Self {
        Ironclad {
            sent: RefCell::new(Vec::new()),
            answer: Box::new(move |_| Err(error.clone())),
        }
    }

    fn requests(&self) -> usize {
        self.sent.borrow().len()
    }
}

impl HttpClient for Ironclad {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let answer = (self.answer)(&request);
        self.sent.borrow_mut().push(request);
        answer
    }
}

/// A listing of 29 workflows, paged as asked.
fn twenty_nine_workflows() -> Ironclad {
    Ironclad {
        sent: RefCell::new(Vec::new()),
        answer: Box::new(|request| {
            let number = |name: &str| -> usize {
                let pair = format!("{name}=");
                let at = request.url.find(&pair).expect("paged") + pair.len();
                let digits: String = request.url[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().unwrap()
            };
            let (page, size) = (number("page"), number("pageSize"));
            let list: Vec<Value> = (page * size..((page + 1) * size).min(29))
                .map(|i| json!({ "id": format!("w{i}") }))
                .collect();
            Ok(json_response(
                200,
                &json!({ "list": list, "count": 29, "page": page, "pageSize": size }),
            ))
        }),
    }
}

fn execute(client: &Ironclad, action: &str, input: Value) -> Result<Value, ConnectorError> {
    ironclad_connector::execute(client, &config(), action, &input.to_string())
}

fn field_of(err: &ConnectorError) -> &str {
    match err {
        ConnectorError::InvalidInput { field, .. }
        | ConnectorError::InvalidConfig { field, .. } => field,
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn max_items_written_as_a_float_is_the_integer_it_validates_as() {
    let client = twenty_nine_workflows();
    let out = execute(&client, "list_workflows", json!({ "max_items": 3.0 })).unwrap();
    assert_eq!(out["items"].as_array().unwrap().len(), 3, "not 29");
    assert!(client.sent.borrow()[0].url.contains("pageSize=3"));
}

#[test]
fn an_over_long_id_is_refused_naming_it_before_any_request() {
    let client = Ironclad::answering(200, json!({ "id": "w" }));
    let err = execute(
        &client,
        "retrieve_workflow",
        json!({ "id": "w".repeat(65_000) }),
    )
    .unwrap_err();
    assert_eq!((err.kind(), field_of(&err)), ("invalid_input", "/id"));
    assert!(err.to_string().len() < 200, "{err}");
    assert_eq!(client.requests(), 0);
}

/// Every property of every action, and every connection field, given a megabyte of text:
/// whatever the outcome, no error message quotes it whole.
#[test]
fn no_error_grows_with_the_input() {
    const HUGE: usize = 1 << 20;
    let huge = "é".repeat(HUGE / 2);
    let bounded = |what: &str, err: &ConnectorError| {
        let text = err.to_string();
        assert!(
            text.len() < 4096,
            "{what}: {} bytes: {}…",
            text.len(),
            text.chars().take(200).collect::<String>()
        );
    };
    let answer = Ironclad::answering(404, json!({ "code": "NOT_FOUND", "message": "no" }));
    for action in manifest::describe().actions {
        let schema: Value = serde_json::from_str(&action.input_schema).unwrap();
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.push("no_such_property".into());
        let config = match action.api_type {
            ironclad_connector::config::ApiType::ClmPublic => config(),
            ironclad_connector::config::ApiType::ClmScim => {
                config().replace("clm_public", "clm_scim")
            }
            ironclad_connector::config::ApiType::ClickwrapRest => json!({
                "api_type": "clickwrap_rest", "region": "na1", "access_token": "<secret>" })
            .to_string(),
            ironclad_connector::config::ApiType::ClickwrapActivity => json!({
                "api_type": "clickwrap_activity", "region": "na1",
                "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317" })
            .to_string(),
        };
        for name in names {
            let input = json!({ name.clone(): huge });
            let result =
                ironclad_connector::execute(&answer, &config, action.key, &input.to_string());
            if let Err(err) = result {
                bounded(&format!("{} /{name}", action.key), &err);
            }
        }
    }
    let form: Value = serde_json::from_str(&config()).unwrap();
    for field in form.as_object().unwrap().keys() {
        let mut form = form.clone();
        form[field] = json!(huge);
        if let Err(err) = ironclad_connector::plan(&form.to_string()) {
            bounded(field, &err);
        }
    }
    for (trigger, input) in [
        ("workflow_updated", json!({ "since": huge })),
        ("workflow_updated", json!({ "status": [huge] })),
        ("scim_user_changed", json!({ "since": huge })),
        (huge.as_str(), json!({})),
    ] {
        let err = ironclad_connector::poll(&answer, &config(), trigger, &input.to_string(), None)
            .unwrap_err();
        bounded(&format!("poll {input}"), &err);
    }
    let err = ironclad_connector::poll(
        &answer,
        &config(),
        "workflow_updated",
        "{}",
        Some(&json!(huge).to_string()),
    )
    .unwrap_err();
    bounded("a huge cursor", &err);
}

/// The probe's case: `list_workflows`' cursor used to be read by `list_records` as its own
/// page 1.
#[test]
fn a_list_cursor_is_refused_by_another_action_before_any_request() {
    let client = twenty_nine_workflows();
    let first = execute(
        &client,
        "list_workflows",
        json!({ "cursor": "", "max_items": 2 }),
    )
    .unwrap();
    let next = first["next"].as_str().expect("more pages").to_string();
    execute(&client, "list_workflows", json!({ "cursor": next })).expect("its own action reads it");
    assert_eq!(client.requests(), 2);
    let err = execute(&client, "list_records", json!({ "cursor": next })).unwrap_err();
    assert_eq!(field_of(&err), "/cursor");
    assert!(err.to_string().contains("`list_workflows`"), "{err}");
    assert_eq!(client.requests(), 2, "refused before any request");
}

#[test]
fn a_trigger_cursor_is_refused_by_another_trigger_before_any_request() {
    let client = Ironclad::answering(200, json!({ "list": [], "count": 0 }));
    let first =
        ironclad_connector::poll(&client, &config(), "workflow_launched", "{}", None).unwrap();
    let cursor = first.cursor.unwrap().to_string();
    ironclad_connector::poll(&client, &config(), "workflow_launched", "{}", Some(&cursor)).unwrap();
    let sent = client.requests();
    let err = ironclad_connector::poll(&client, &config(), "record_updated", "{}", Some(&cursor))
        .unwrap_err();
    assert_eq!(field_of(&err), "cursor");
    assert!(err.to_string().contains("`workflow_launched`"), "{err}");
    assert_eq!(client.requests(), sent);
}

/// A delivery signed with a key other than the kept one, but stale: refused as stale without
/// fetching the key (which used to be fetched for every such delivery).
#[test]
fn a_stale_delivery_costs_no_key_fetch() {
    let kept = include_str!("../fixtures/emulator/webhook-verification-key.pem");
    let other = include_str!("../fixtures/emulator/webhook-signing-key-2.pem");
    let body =
        json!({ "companyID": "c1", "webhookID": "wh1", "timestamp": "2020-01-01T00:00:00.000Z",
                       "payload": { "event": "workflow_launched", "workflowID": "w1" } })
        .to_string();
    let (event_id, nonce) = ("webhookEvent1", "nonce1");
    let signed = [event_id.as_bytes(), body.as_bytes(), nonce.as_bytes()].concat();
    let key = SigningKey::<Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(other).unwrap());
    let signature = ironclad_connector::base64::encode(&key.sign(&signed).to_vec());
    let request = WebhookRequest {
        headers: vec![
            ("X-Ironclad-Webhook-Event-Id".into(), event_id.into()),
            (
                "X-Ironclad-Webhook-Verification".into(),
                json!({ "nonce": nonce, "signature": signature }).to_string(),
            ),
        ],
        body: body.into_bytes(),
    };
    let subscription = json!({ "webhook_id": "wh1", "target_url": "https://hooks.example/x",
                               "events": ["workflow_launched"], "verification_key": kept,
                               "key_fetched_at": time::format(time::now()) });
    let client = Ironclad::answering(200, json!({}));
    let err = ironclad_connector::handle_webhook(
        &client,
        &config(),
        "workflow_launched",
        "{}",
        &subscription.to_string(),
        &request,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "webhook_rejected");
    assert!(err.to_string().contains("(stale)"), "{err}");
    assert_eq!(client.requests(), 0);
}

#[test]
fn a_write_without_an_answer_may_have_been_processed() {
    let client = Ironclad::failing(TransportError::Timeout);
    let err = execute(&client, "delete_record", json!({ "id": "IC-1" })).unwrap_err();
    assert_eq!(err.kind(), "timeout");
    assert!(err.to_string().contains("may have been processed"), "{err}");
    let err = execute(&client, "retrieve_record", json!({ "id": "IC-1" })).unwrap_err();
    assert!(
        !err.to_string().contains("may have been processed"),
        "{err}"
    );
}
