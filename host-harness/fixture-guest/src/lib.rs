//! A connector component that misbehaves on request, so the host's sandbox can be tested
//! against a real guest: it spins forever, blocks in a WASI clock wait, grows its memory
//! without bound, traps, probes what WASI grants it, and sends whatever request it is told
//! to. Built for `wasm32-wasip2` by `scripts/test`; natively it is an empty crate.
//!
//! Actions (input JSON in, JSON out):
//! - `echo` — returns its input (proves the next call after a failure works).
//! - `spin` — loops forever in pure wasm (only epoch interruption can stop it).
//! - `sleep` — waits `{"ms": N}` in a WASI monotonic-clock poll (a host-side wait).
//! - `grow` — allocates 16 MiB blocks until an allocation is refused.
//! - `trap` — executes `unreachable`.
//! - `probe` — reports what WASI grants: environment, arguments, files, sockets; writes a
//!   marker to stdout and stderr, which must go nowhere.
//! - `fetch` — `{"method", "url", "authenticate"?, "body"? | "body_size"?}` through the
//!   host's `http` import; returns `{status, headers, body}` or `{error}`.
//! - `fetch_many` — `{"url", "count"}`: that many GETs; returns how many were answered and
//!   the first error.

#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ path: "../../wit/v0.4", world: "connector" });

use exports::ipaas::connector::{actions, builder, connection, metadata, triggers};
use ipaas::connector::http;
use ipaas::connector::types::ConnectorError;
use serde_json::{Value, json};

struct Fixture;

export!(Fixture);

const ACTIONS: &[&str] = &[
    "echo",
    "spin",
    "sleep",
    "grow",
    "trap",
    "probe",
    "fetch",
    "fetch_many",
];

fn unsupported<T>() -> Result<T, ConnectorError> {
    Err(ConnectorError::Unsupported(
        "the fixture guest has no such operation".into(),
    ))
}

impl metadata::Guest for Fixture {
    fn describe() -> metadata::Manifest {
        let object = r#"{"type":"object"}"#.to_string();
        metadata::Manifest {
            id: "fixture-guest".into(),
            name: "Fixture guest".into(),
            version: "0.0.0".into(),
            description: "Misbehaves on request, for sandbox tests.".into(),
            // `client_secret` is a secret field: the host masks it and sends it only to a
            // token URL its egress allows.
            connection_schema: r#"{"type":"object","properties":{"client_secret":{"type":"string","x-secret":true}}}"#.into(),
            actions: ACTIONS
                .iter()
                .map(|key| metadata::ActionDef {
                    key: key.to_string(),
                    title: key.to_string(),
                    description: String::new(),
                    group: "Fixture".into(),
                    operation: None,
                    scopes: Vec::new(),
                    api_type: "fixture".into(),
                    input_schema: object.clone(),
                    output_schema: object.clone(),
                    hints: metadata::ActionHints {
                        read_only: false,
                        destructive: false,
                        idempotent: false,
                    },
                })
                .collect(),
            triggers: Vec::new(),
        }
    }
}

impl connection::Guest for Fixture {
    /// `{"origins": [...]}` become the allowed origins; no credentials.
    fn plan(config: String) -> Result<connection::ConnectionPlan, ConnectorError> {
        let config: Value = serde_json::from_str(&config).unwrap_or_default();
        let origins: Vec<String> = config["origins"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        // A plan that sends the host's client secret wherever the form says: what a hostile
        // connector would ask for. The host must refuse a token URL outside the package's
        // declared egress before any request.
        let auth = match config["token_url"].as_str() {
            Some(token_url) => connection::AuthPlan::Oauth2(connection::Oauth2 {
                grant: connection::GrantType::ClientCredentials,
                token_url: token_url.to_string(),
                authorize_url: config["authorize_url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                client_id: "fixture".into(),
                client_secret_field: "client_secret".into(),
                scopes: Vec::new(),
            }),
            None => connection::AuthPlan::None,
        };
        Ok(connection::ConnectionPlan {
            auth,
            base_url: origins.first().cloned().unwrap_or_default(),
            allowed_origins: origins,
        })
    }

    fn test(_config: String) -> Result<connection::Identity, ConnectorError> {
        unsupported()
    }
}

impl actions::Guest for Fixture {
    fn execute(_config: String, action: String, input: String) -> Result<String, ConnectorError> {
        let input: Value = serde_json::from_str(&input).unwrap_or_default();
        let output = match action.as_str() {
            "echo" => input,
            "spin" => spin(),
            "sleep" => {
                let ms = input["ms"].as_u64().unwrap_or(60_000);
                std::thread::sleep(std::time::Duration::from_millis(ms));
                json!({ "slept_ms": ms })
            }
            "grow" => grow(),
            "trap" => core::arch::wasm32::unreachable(),
            "probe" => probe(),
            "fetch" => fetch(&input),
            "fetch_many" => fetch_many(&input),
            // Calls this instance has served, this one included: 1 when every call gets an
            // instance of its own.
            "count" => {
                static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                json!({ "calls": CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1 })
            }
            _ => return unsupported(),
        };
        Ok(output.to_string())
    }
}

impl builder::Guest for Fixture {
    fn input_schema(
        _: String,
        _: String,
        _: String,
    ) -> Result<builder::ActionSchemas, ConnectorError> {
        unsupported()
    }

    fn list_options(
        _: String,
        _: String,
        _: String,
        _: Option<String>,
    ) -> Result<builder::ChoicePage, ConnectorError> {
        unsupported()
    }
}

impl triggers::Guest for Fixture {
    fn poll(
        _: String,
        _: String,
        _: String,
        _: Option<String>,
    ) -> Result<triggers::PollResult, ConnectorError> {
        unsupported()
    }

    fn subscribe(_: String, _: String, _: String, _: String) -> Result<String, ConnectorError> {
        unsupported()
    }

    fn unsubscribe(_: String, _: String, _: String) -> Result<(), ConnectorError> {
        unsupported()
    }

    fn handle_webhook(
        _: String,
        _: String,
        _: String,
        _: String,
        _: triggers::WebhookRequest,
    ) -> Result<triggers::WebhookResult, ConnectorError> {
        unsupported()
    }
}

fn spin() -> Value {
    let mut n: u64 = 0;
    loop {
        // black_box keeps the loop a loop of real instructions.
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn grow() -> Value {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        blocks.push(std::hint::black_box(vec![1u8; 16 << 20]));
    }
}

fn probe() -> Value {
    println!("FIXTURE-GUEST-STDOUT-MARKER");
    eprintln!("FIXTURE-GUEST-STDERR-MARKER");
    let socket = std::net::TcpStream::connect("127.0.0.1:9").map(|_| ());
    let lookup = std::net::ToSocketAddrs::to_socket_addrs("localhost:80").map(|_| ());
    json!({
        "env": std::env::vars().count(),
        "args": std::env::args().count(),
        "root_dir": std::fs::read_dir("/").is_ok(),
        "cwd_dir": std::fs::read_dir(".").is_ok(),
        "tcp_connect": socket.is_ok(),
        "dns_lookup": lookup.is_ok(),
    })
}

fn method(name: &str) -> http::Method {
    match name {
        "HEAD" => http::Method::Head,
        "POST" => http::Method::Post,
        "PUT" => http::Method::Put,
        "PATCH" => http::Method::Patch,
        "DELETE" => http::Method::Delete,
        _ => http::Method::Get,
    }
}

fn request(input: &Value) -> http::Request {
    http::Request {
        method: method(input["method"].as_str().unwrap_or("GET")),
        url: input["url"].as_str().unwrap_or_default().to_string(),
        headers: Vec::new(),
        body: match input["body_size"].as_u64() {
            Some(n) => Some(vec![b'x'; n as usize]),
            None => input["body"].as_str().map(|b| b.as_bytes().to_vec()),
        },
        authenticate: input["authenticate"].as_bool().unwrap_or(false),
        timeout_ms: input["timeout_ms"].as_u64().map(|ms| ms as u32),
    }
}

fn fetch(input: &Value) -> Value {
    match http::send(&request(input)) {
        Ok(r) => json!({
            "status": r.status,
            "headers": r.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": String::from_utf8_lossy(&r.body),
        }),
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}

fn fetch_many(input: &Value) -> Value {
    let count = input["count"].as_u64().unwrap_or(1);
    let request = request(input);
    for i in 0..count {
        if let Err(e) = http::send(&request) {
            return json!({ "answered": i, "error": format!("{e:?}") });
        }
    }
    json!({ "answered": count, "error": null })
}
