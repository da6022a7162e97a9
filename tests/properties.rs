//! Property tests of everything that reads untrusted text: the connection form, action
//! input (validated against every action's schema, and percent-encoded into paths),
//! Ironclad's webhook signature header, and Ironclad's answers. None may panic; each must
//! answer with a typed error that names the field.
//!
//! Bounded for CI: each property runs a fixed number of cases (`PROPTEST_CASES` raises it
//! for a longer local run). The corpus is twofold: the hostile literals every strategy mixes
//! in (`nasty_string`), and `tests/proptest-regressions/properties.txt`, where proptest records
//! the seed of any failure it finds; it is committed, so a failure once found is replayed
//! on every run.

mod common;

use common::config;
use std::cell::RefCell;

use ironclad_connector::api_types::clm_public::triggers::signature::{
    Body, PublicKey, Verification,
};
use ironclad_connector::config::{ApiType, Connection};
use ironclad_connector::error::ConnectorError;
use ironclad_connector::formula::{self, Formula, Operator};
use ironclad_connector::http::{HttpClient, Request, Response, TransportError};
use ironclad_connector::{download, manifest, schema, upstream};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Strings that have broken parsers before: path tricks, encodings, unicode, controls.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", ".", "..", "/", "a/b", "../..", "%2e%2e", "%2F", "?x=1", "#frag", "a b",
            "ü", "😀", "\u{0}", "\u{202e}", "\\", "//evil.example", "https://169.254.169.254/",
            "IC-1001", "null", "{}", "[", "\"", "'", "<html>", "-1", "1e309",
            "c79ff93b-3bc8-42a7-99a4-bd34fd407e2a",
        ])
        .prop_map(str::to_string),
        2 => any::<String>(),
        1 => "[a-z]{1,12}",
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(nasty_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object whose keys are mostly `known` (so validation goes deep), values anything.
fn object_with_keys(known: Vec<String>) -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => prop::sample::select(known), 1 => nasty_string()];
    prop::collection::vec((key, json_value()), 0..6)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

/// Records what is sent and answers every request the same way.
struct Recorder {
    sent: RefCell<Vec<Request>>,
    answer: Response,
}

impl Recorder {
    fn answering(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Recorder {
            sent: RefCell::new(Vec::new()),
            answer: Response {
                status,
                headers,
                body,
            },
        }
    }
}

impl HttpClient for Recorder {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.sent.borrow_mut().push(request);
        Ok(self.answer.clone())
    }
}

/// The connection form's fields, as its schema declares them.
fn form_fields() -> Vec<String> {
    let schema: Value =
        serde_json::from_str(ironclad_connector::config::CONNECTION_SCHEMA).unwrap();
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// A connection of the API type `key` runs on, and the base every request must stay under.
fn config_for(key: &str) -> (String, &'static str) {
    let api_type = manifest::describe()
        .actions
        .into_iter()
        .find(|a| a.key == key)
        .map_or(ApiType::ClmPublic, |a| a.api_type);
    match api_type {
        ApiType::ClickwrapRest => (
            json!({ "api_type": "clickwrap_rest", "region": "na1", "access_token": "<secret>" })
                .to_string(),
            "https://api.pactsafe.com/v1.1/",
        ),
        ApiType::ClickwrapActivity => (
            json!({ "api_type": "clickwrap_activity", "region": "na1",
                    "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317" })
            .to_string(),
            "https://pactsafe.io/",
        ),
        ApiType::ClmScim => {
            let mut form: Value = serde_json::from_str(&config()).unwrap();
            form["api_type"] = json!("clm_scim");
            (form.to_string(), "https://na1.ironcladapp.com/scim/v2/")
        }
        ApiType::ClmPublic => (config(), "https://na1.ironcladapp.com/public/api/v1/"),
    }
}

/// Actions whose input can be fuzzed without waiting: `launch_workflow_and_wait` polls
/// on a clock, which a fake transport cannot advance.
fn fuzzable_actions() -> Vec<(String, Value)> {
    manifest::describe()
        .actions
        .into_iter()
        .filter(|a| a.key != "launch_workflow_and_wait")
        .map(|a| {
            let schema: Value = serde_json::from_str(&a.input_schema).unwrap();
            (a.key.to_string(), schema)
        })
        .collect()
}

fn property_names(schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.push("body".into());
    names
}

/// Does `pointer` ("" or "/a/0/b") lead into `value`, or name a missing member of an
/// object it leads to (a missing required property)?
fn points_into(value: &Value, pointer: &str) -> bool {
    if pointer.is_empty() || pointer == "/" || value.pointer(pointer).is_some() {
        return true;
    }
    let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
    value.pointer(parent).is_some_and(Value::is_object)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(text.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("tests/proptest-regressions/properties.txt"),
        )),
        ..ProptestConfig::default()
    })]

    /// Config parsing: never a panic; a refusal names a form field (one of the form's
    /// fields, or the unknown key it found), and nothing else.
    #[test]
    fn config_errors_name_a_form_field(
        form in object_with_keys(form_fields()),
        as_text in any::<bool>(),
        raw in any::<String>(),
    ) {
        let text = if as_text { raw } else { form.to_string() };
        match Connection::parse(&text) {
            Ok(conn) => prop_assert!(conn.origin.starts_with("http")),
            Err(ConnectorError::InvalidConfig { field, message }) => {
                prop_assert!(!message.is_empty());
                let known = form_fields().contains(&field);
                let present = form.get(&field).is_some() && !as_text;
                let whole = field.is_empty();
                prop_assert!(known || present || whole, "field `{field}`: {message}");
            }
            Err(other) => prop_assert!(false, "not invalid_config: {other:?}"),
        }
    }

    /// Input validation, through every action: no panic; invalid input names a JSON
    /// Pointer into the input and nothing is sent; whatever is sent stays under the API.
    #[test]
    fn every_action_validates_before_sending(
        (key, input) in prop::sample::select(fuzzable_actions()).prop_flat_map(|(key, schema)| {
            (Just(key), object_with_keys(property_names(&schema)))
        }),
    ) {
        let fake = Recorder::answering(404, Vec::new(), br#"{"code":"NOT_FOUND","message":"no"}"#.to_vec());
        let (config, base) = config_for(&key);
        let result = ironclad_connector::execute(&fake, &config, &key, &input.to_string());
        let sent = fake.sent.borrow();
        prop_assert!(
            !matches!(result, Err(ConnectorError::InvalidConfig { .. })),
            "{key}: {result:?}"
        );
        if let Err(ConnectorError::InvalidInput { field, message }) = &result {
            // Only the reads a dynamic schema needs (a template's launch form, the workflow
            // it belongs to) may precede a refusal; never a write.
            prop_assert!(
                sent.iter().all(|r| r.method == ironclad_connector::http::Method::GET
                    && (r.url.contains("/workflow-schemas/") || r.url.contains("/workflows/"))),
                "{key}: sent before refusing {field}: {message}"
            );
            prop_assert!(field.is_empty() || field.starts_with('/'), "{key}: {field}");
            prop_assert!(points_into(&input, field), "{key}: `{field}` is not in {input}");
        }
        for request in sent.iter() {
            prop_assert!(request.url.starts_with(base), "{key}: {}", request.url);
            let path = request.url.split(['?', '#']).next().unwrap();
            prop_assert!(
                !path.split('/').any(|s| s == ".." || s == "."),
                "{key}: {}", request.url
            );
        }
    }

    /// Strings in paths: any id is one percent-encoded segment that decodes back to itself.
    #[test]
    fn ids_are_one_encoded_path_segment(id in nasty_string().prop_filter("non-empty", |s| !s.is_empty())) {
        let fake = Recorder::answering(200, Vec::new(), br#"{"id":"x"}"#.to_vec());
        let input = json!({ "id": id });
        let _ = ironclad_connector::execute(&fake, &config(), "retrieve_record", &input.to_string());
        let sent = fake.sent.borrow();
        prop_assert_eq!(sent.len(), 1);
        let segment = sent[0]
            .url
            .strip_prefix("https://na1.ironcladapp.com/public/api/v1/records/")
            .unwrap();
        prop_assert!(
            segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "{segment}"
        );
        prop_assert!(segment != "." && segment != "..");
        prop_assert_eq!(percent_decode(segment), Some(id));
    }

    /// Schema validation on its own, against arbitrary values: no panic, and a violation
    /// points into the value.
    #[test]
    fn validation_points_into_the_value(
        (schema, value) in prop::sample::select(fuzzable_actions())
            .prop_flat_map(|(_, schema)| (Just(schema), json_value())),
    ) {
        if let Err(v) = schema::validate(&schema, &value) {
            prop_assert!(points_into(&value, &v.pointer), "{} not in {value}", v.pointer);
            prop_assert!(!v.message.is_empty());
        }
    }

    /// The webhook signature header: any text is parsed or refused as malformed.
    #[test]
    fn signature_headers_parse_or_are_malformed(
        header in prop_oneof![
            any::<String>(),
            (nasty_string(), nasty_string(), nasty_string(), nasty_string()).prop_map(
                |(nonce, algorithm, signature, encoding)| json!({
                    "nonce": nonce, "signAlgorithm": algorithm,
                    "signature": signature, "encoding": encoding,
                }).to_string()
            ),
            ("[0-9a-fA-F]{0,600}", prop::sample::select(vec!["hex", "HEX", "base64"])).prop_map(
                |(signature, encoding)| json!({
                    "nonce": "n", "signature": signature, "encoding": encoding,
                }).to_string()
            ),
        ],
        event_id in nasty_string(),
        // Pretty-printed JSON is re-serialised as JavaScript would before it is refused.
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            json_value().prop_map(|v| serde_json::to_vec_pretty(&v).unwrap()),
        ],
    ) {
        match Verification::parse(&header) {
            Ok(v) => {
                prop_assert!(!v.nonce.is_empty());
                // Random bytes never verify against a real key, and never panic trying.
                let key = PublicKey::from_pem(TEST_KEY).unwrap();
                prop_assert!(v.verify(&key, &event_id, &Body::new(&body)).is_err());
            }
            Err(ironclad_connector::api_types::clm_public::triggers::signature::Refusal::Malformed(m)) => {
                prop_assert!(!m.is_empty())
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    /// Ironclad's answers, whatever they are: typed errors, with Ironclad's own `code`,
    /// `message` and `param` surfaced when the body has them.
    #[test]
    fn answers_decode_to_typed_errors(
        status in 100u16..600,
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..128),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            (nasty_string(), nasty_string(), nasty_string()).prop_map(|(c, m, p)| {
                json!({ "code": c, "message": m, "param": p }).to_string().into_bytes()
            }),
        ],
        headers in prop::collection::vec(
            (prop::sample::select(vec!["retry-after", "content-type", "content-disposition", "x-ironclad-requestid"])
                .prop_map(str::to_string), nasty_string()),
            0..3,
        ),
    ) {
        let response = Response { status, headers, body };
        let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
        let error = upstream::status_error(&response, &["public.records.readRecords"]);
        prop_assert!(!error.kind().is_empty());
        if let (ConnectorError::Upstream(u), Some(Value::Object(o))) = (&error, &parsed) {
            if let Some(Value::String(code)) = o.get("code") {
                prop_assert_eq!(u.code.as_deref(), Some(code.as_str()));
            }
            if let Some(Value::String(param)) = o.get("param") {
                prop_assert_eq!(u.param.as_deref(), Some(param.as_str()));
            }
        }
        let _ = upstream::json(&response, "fuzz");
        let _ = download::file_output(&response, "/records/x/attachments/y");
        let _ = download::text_output(&response, "fuzz");
        for (_, value) in &response.headers {
            let _ = download::disposition_filename(value);
        }
    }

    /// Structured filters: no panic; a refusal names a pointer under `/filter`; a rendered
    /// formula reads back to the same conditions (values quoted and escaped, brackets only
    /// around property ids), so no value can end its quote early or inject a function.
    #[test]
    fn filter_formulas_render_and_read_back(input in structured_filter()) {
        match formula::parse(&input, "/filter") {
            Ok(f) => {
                let text = formula::render(&f);
                let back = read_formula(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
                prop_assert_eq!(back, collapsed(f), "{}", text);
            }
            Err(ConnectorError::InvalidInput { field, .. }) => {
                prop_assert!(field.starts_with("/filter"), "{field}");
                prop_assert!(points_into(&json!({ "filter": input }), &field) || field.ends_with("/value"), "{field}");
            }
            Err(other) => prop_assert!(false, "not invalid_input: {other:?}"),
        }
    }

    /// Whole actions over arbitrary answers: a result or a typed error, never a panic.
    #[test]
    fn actions_survive_any_answer(
        key in prop::sample::select(vec![
            "list_workflows", "list_records", "retrieve_record", "retrieve_workflow",
            "list_workflow_schemas", "retrieve_workflow_document", "create_record",
            "clickwrap_list_activity", "clickwrap_get_site", "clickwrap_activity_latest",
            "clickwrap_activity_send",
        ]),
        status in prop::sample::select(vec![200u16, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502]),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            Just(br#"{"list":[{"id":"w1"}],"page":0,"pageSize":100,"count":1}"#.to_vec()),
            Just(br#"{"list":[{"id":"w1"}],"page":0,"pageSize":100,"count":99999}"#.to_vec()),
            Just(br#"{"data":[{"id":"a1"}],"page":1,"per_page":100,"has_more":true,"total_count":99999}"#.to_vec()),
            Just(br#"{"error":{"message":"no","status":403,"name":"ForbiddenError"}}"#.to_vec()),
        ],
    ) {
        let fake = Recorder::answering(status, vec![("content-type".into(), "application/json".into())], body);
        let input = json!({
            "id": "IC-1", "key": "doc", "body": { "type": "contract", "name": "n", "properties": {} },
            "max_items": 300, "site_id": 1, "sig": "s", "gkey": "g", "vid": ["v"], "et": "agreed",
        });
        let op = manifest::describe().actions.into_iter().find(|a| a.key == key).unwrap();
        let schema: Value = serde_json::from_str(&op.input_schema).unwrap();
        let mut input = input;
        // Keep only what the action takes, so validation passes and the answer is decoded.
        if let (Some(props), Value::Object(i)) = (schema["properties"].as_object(), &mut input) {
            i.retain(|k, _| props.contains_key(k));
        }
        match ironclad_connector::execute(&fake, &config_for(key).0, key, &input.to_string()) {
            Ok(output) => prop_assert!(output.is_object(), "{output}"),
            Err(e) => prop_assert!(!e.kind().is_empty()),
        }
        // An acceptance sent is read back once per wait of its schedule, at most.
        let bound = match key {
            "clickwrap_activity_send" => 1 + ironclad_connector::api_types::clickwrap::recorded::WAITS_MS.len(),
            _ => 4,
        };
        prop_assert!(fake.sent.borrow().len() <= bound, "bounded paging and reading back");
    }
}

/// A structured filter, mostly well-formed (so rendering is reached), sometimes not.
fn structured_filter() -> impl Strategy<Value = Value> {
    let operator = prop_oneof![
        6 => prop::sample::select(Operator::ALL.iter().map(|e| e.0).collect::<Vec<_>>())
            .prop_map(str::to_string),
        1 => nasty_string(),
    ]
    .prop_map(Value::String);
    let value = prop_oneof![
        4 => nasty_string().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => json_value(),
    ];
    let field = prop_oneof![3 => "[a-zA-Z_]{1,12}", 1 => nasty_string()];
    let condition = (field, operator, prop::option::of(value)).prop_map(|(f, o, v)| {
        let mut c = json!({ "field": f, "operator": o });
        if let Some(v) = v {
            c["value"] = v;
        }
        c
    });
    condition.prop_recursive(4, 24, 4, |inner| {
        (
            prop::sample::select(vec!["and", "or"]),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(group, items)| json!({ group: items }))
    })
}

/// Reads a rendered formula back: `Fn(args)`, `[property]`, `'text'` with backslash escapes.
/// Written here, apart from the renderer, so a quoting mistake cannot cancel itself out.
fn read_formula(text: &str) -> Result<Formula, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let f = read_call(&chars, &mut at)?;
    if at != chars.len() {
        return Err(format!("trailing text at {at}: {text}"));
    }
    Ok(f)
}

enum Arg {
    Call(Formula),
    Property(String),
    Text(String),
}

fn read_call(chars: &[char], at: &mut usize) -> Result<Formula, String> {
    let start = *at;
    while *at < chars.len() && chars[*at].is_ascii_alphabetic() {
        *at += 1;
    }
    let name: String = chars[start..*at].iter().collect();
    expect(chars, at, '(')?;
    let mut args = Vec::new();
    loop {
        args.push(match chars.get(*at) {
            Some('[') => {
                let end = chars[*at..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or("unclosed [")?;
                let p: String = chars[*at + 1..*at + end].iter().collect();
                *at += end + 1;
                Arg::Property(p)
            }
            Some('\'') => {
                *at += 1;
                let mut t = String::new();
                loop {
                    match chars.get(*at) {
                        None => return Err("unterminated quote".into()),
                        Some('\\') => {
                            t.push(*chars.get(*at + 1).ok_or("dangling escape")?);
                            *at += 2;
                        }
                        Some('\'') => {
                            *at += 1;
                            break;
                        }
                        Some(c) => {
                            t.push(*c);
                            *at += 1;
                        }
                    }
                }
                Arg::Text(t)
            }
            _ => Arg::Call(read_call(chars, at)?),
        });
        match chars.get(*at) {
            Some(')') => {
                *at += 1;
                break;
            }
            Some(',') => {
                *at += 1;
                expect(chars, at, ' ')?;
            }
            other => return Err(format!("expected , or ) at {at}, got {other:?}")),
        }
    }
    let calls = |args: Vec<Arg>| {
        args.into_iter()
            .map(|a| match a {
                Arg::Call(f) => Ok(f),
                _ => Err("a group holds formulas".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
    };
    match name.as_str() {
        "And" => Ok(Formula::And(calls(args)?)),
        "Or" => Ok(Formula::Or(calls(args)?)),
        function => {
            let operator = Operator::ALL
                .iter()
                .find(|e| e.2 == function)
                .map(|e| e.1)
                .ok_or_else(|| format!("unknown function {function}"))?;
            match args.as_slice() {
                [Arg::Property(f)] => Ok(Formula::Condition {
                    field: f.clone(),
                    operator,
                    value: None,
                }),
                [Arg::Property(f), Arg::Text(v)] => Ok(Formula::Condition {
                    field: f.clone(),
                    operator,
                    value: Some(v.clone()),
                }),
                _ => Err(format!("bad arguments to {function}")),
            }
        }
    }
}

fn expect(chars: &[char], at: &mut usize, c: char) -> Result<(), String> {
    if chars.get(*at) == Some(&c) {
        *at += 1;
        Ok(())
    } else {
        Err(format!("expected {c:?} at {at}"))
    }
}

/// What rendering keeps: a group of one is its member.
fn collapsed(f: Formula) -> Formula {
    match f {
        Formula::And(mut p) | Formula::Or(mut p) if p.len() == 1 => collapsed(p.remove(0)),
        Formula::And(p) => Formula::And(p.into_iter().map(collapsed).collect()),
        Formula::Or(p) => Formula::Or(p.into_iter().map(collapsed).collect()),
        c => c,
    }
}

/// The emulator's test-only webhook signing key, public half.
const TEST_KEY: &str = include_str!("../fixtures/emulator/webhook-verification-key.pem");
