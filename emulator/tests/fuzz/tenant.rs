//! One fresh emulator driven in-process (`Emulator::router` + `oneshot`) with the three
//! contracts in force, and the credentials of a client-credentials token acting as a seed user,
//! obtained through `/oauth/token` like any client's.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use std::sync::LazyLock;

use ironclad_emulator::{Contract, Emulator, RequestParts, TOKEN_PREFIX, Violation, default_seed};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::spec::{Document, Operation};

/// The acting-user header: part of a resource call's credentials, never generated.
pub const ACTING_USER: &str = "x-as-user-email";

/// Headers that carry credentials: set by the tenant, not by the generator.
pub const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", ACTING_USER, "x-as-user-id"];

/// The seed's client secrets: never printed (the suite's output is scanned for them).
static SECRETS: LazyLock<Vec<String>> = LazyLock::new(|| {
    default_seed()
        .clients
        .into_iter()
        .map(|c| c.client_secret)
        .collect()
});

/// `text` with the seed's client secrets and emulator-issued tokens (`emu_` and 40 hex digits)
/// replaced by `<masked>`.
pub fn masked(text: &str) -> String {
    let mut out = text.to_owned();
    for secret in SECRETS.iter() {
        out = out.replace(secret.as_str(), "<masked>");
    }
    let mut rest = out.as_str();
    let mut clean = String::with_capacity(out.len());
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        let after = &rest[at + TOKEN_PREFIX.len()..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        clean.push_str(&rest[..at]);
        if hex >= 40 {
            clean.push_str("<masked>");
        } else {
            clean.push_str(TOKEN_PREFIX);
        }
        rest = &after[if hex >= 40 { hex } else { 0 }..];
    }
    clean.push_str(rest);
    clean
}

/// Where the emulator believes it is served (absolute links in its answers).
const BASE_URL: &str = "http://127.0.0.1:9";

#[derive(Debug, Clone)]
pub struct Request {
    /// Upper-case.
    pub method: String,
    /// The URL path, percent-encoded.
    pub path: String,
    /// Without the `?`; empty for none.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn uri(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// This request with its secrets masked (see [`masked`]).
    pub fn masked(&self) -> Request {
        let mut out = self.clone();
        out.body = masked(&String::from_utf8_lossy(&self.body)).into_bytes();
        out.query = masked(&self.query);
        out
    }

    /// The contract's verdict on this request.
    pub fn judged_by(&self, contract: &Contract) -> Result<(), Violation> {
        let headers = self.header_map();
        contract.check(&RequestParts {
            method: &self.method,
            path: &self.path,
            query: Some(&self.query)
                .filter(|q| !q.is_empty())
                .map(String::as_str),
            headers: &headers,
            body: &self.body,
        })
    }

    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The handler panicked (a served emulator would drop the connection): its message.
    pub panic: Option<String>,
}

impl Answer {
    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn succeeded(&self) -> bool {
        (200..400).contains(&self.status)
    }
}

pub struct Tenant {
    pub emulator: Emulator,
    router: Router,
    /// `authorization` and the acting user, for resource calls.
    pub credentials: Vec<(String, String)>,
}

impl Tenant {
    pub async fn new(contracts: &[Contract]) -> Tenant {
        let emulator = contracts
            .iter()
            .cloned()
            .fold(
                Emulator::new(default_seed(), BASE_URL),
                Emulator::with_contract,
            )
            .with_quiet_refusals();
        let router = emulator.router();
        let mut tenant = Tenant {
            emulator,
            router,
            credentials: Vec::new(),
        };
        let seed = tenant.emulator.seed().clone();
        // The client with the most scopes: the Public API's and SCIM's.
        let client = seed
            .clients
            .iter()
            .filter(|c| c.allows_grant("client_credentials"))
            .max_by_key(|c| c.scopes.len())
            .expect("the seed has a client-credentials client");
        let mut request = Request::new("POST", "/oauth/token");
        request
            .headers
            .push(("content-type".into(), "application/json".into()));
        request.body = json!({
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        })
        .to_string()
        .into_bytes();
        let answer = tenant.send(&request).await;
        let token = answer.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", String::from_utf8_lossy(&answer.body)))
            .to_owned();
        tenant.credentials = vec![
            ("authorization".into(), format!("Bearer {token}")),
            (ACTING_USER.into(), seed.users[0].email.clone()),
        ];
        tenant
    }

    pub async fn send(&self, request: &Request) -> Answer {
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.uri());
        for (name, value) in request.header_map().iter() {
            builder = builder.header(name, value);
        }
        let built = builder
            .body(Body::from(request.body.clone()))
            .expect("a generated request is well-formed HTTP");
        // On a task of its own, so that a panicking handler is one failed exchange.
        let response = match tokio::spawn(self.router.clone().oneshot(built)).await {
            Ok(response) => response.expect("the router is infallible"),
            Err(joined) => {
                let panic = joined.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Answer {
                    status: 500,
                    content_type: String::new(),
                    body: Vec::new(),
                    panic: Some(message),
                };
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the answer can be read")
            .to_vec();
        Answer {
            status,
            content_type,
            body,
            panic: None,
        }
    }

    /// What a call of `operation` carries: OAuth's own endpoints take client credentials, not
    /// a token; SCIM takes no acting user (optional in its document, and a SCIM call may
    /// delete the very user a header would name); resource calls of the others act as a user.
    pub fn credentials_for(
        &self,
        document: &Document,
        operation: &Operation,
    ) -> Vec<(String, String)> {
        if !document.secured && !operation.takes_acting_user() {
            return Vec::new();
        }
        let acting = document.name != "clm-scim";
        self.credentials
            .iter()
            .filter(|(name, _)| acting || name != ACTING_USER)
            .cloned()
            .collect()
    }

    /// The contract violations of the emulator's own answers, so far.
    pub fn answer_violations(&self) -> Vec<Value> {
        self.emulator
            .contract_violations()
            .into_iter()
            .filter(|v| v["side"] == "response")
            .collect()
    }
}
