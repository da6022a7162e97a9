//! The contract in force on a running emulator: the middleware that judges traffic, and the
//! list of violations tests read.

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::redact::{ANSWERED_SECRETS, SENT_SECRETS, secrets_in};
use super::{AnswerParts, Contract, RequestParts, Violation};
use crate::emulator::{Emulator, Judge};

/// Most violations kept (oldest dropped first).
const VIOLATION_CAP: usize = 10_000;

/// Largest body the check buffers (the request log's limit).
const BODY_LIMIT: usize = crate::infra::multipart::UPLOAD_BODY_LIMIT;

/// Largest answer judged: bigger than any the emulator gives (file downloads included).
const ANSWER_LIMIT: usize = 256 * 1024 * 1024;

/// The contracts in force on an emulator (one per API base: the Public API, SCIM), with the
/// violations they have seen.
pub struct Enforced {
    contracts: Vec<Contract>,
    violations: Mutex<Vec<Value>>,
    /// Whether refused requests are printed (answers that break the contract always are).
    print_refusals: bool,
}

impl Enforced {
    pub fn new(contracts: Vec<Contract>) -> Self {
        Self {
            contracts,
            violations: Mutex::new(Vec::new()),
            print_refusals: true,
        }
    }

    /// The contract judging `path`: the one whose API base it is under.
    fn for_path(&self, path: &str) -> Option<&Contract> {
        self.contracts
            .iter()
            .find(|c| path.starts_with(c.base_path()))
    }

    fn violations(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.violations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The contracts in force on `emu`, as installed by [`Emulator::with_contract`].
fn enforced(emu: &Emulator) -> Option<&Enforced> {
    let judge: &dyn std::any::Any = emu.contract.as_deref()?;
    judge.downcast_ref()
}

impl Emulator {
    /// The same tenant with `contract` enforced on every request under its API base, beside
    /// the contracts already in force (a second document for the same base replaces the first).
    pub fn with_contract(mut self, contract: Contract) -> Self {
        let previous = enforced(&self);
        let mut contracts: Vec<Contract> =
            previous.map(|e| e.contracts.clone()).unwrap_or_default();
        let print_refusals = previous.is_none_or(|e| e.print_refusals);
        contracts.retain(|c| c.base_path() != contract.base_path());
        contracts.push(contract);
        let mut enforced = Enforced::new(contracts);
        enforced.print_refusals = print_refusals;
        self.contract = Some(Arc::new(enforced));
        self
    }

    /// The same tenant, refusing requests that break the contract without printing each one
    /// (they are still kept): for a test that sends thousands on purpose, like the fuzzer.
    pub fn with_quiet_refusals(mut self) -> Self {
        if let Some(previous) = enforced(&self) {
            let mut enforced = Enforced::new(previous.contracts.clone());
            enforced.print_refusals = false;
            self.contract = Some(Arc::new(enforced));
        }
        self
    }

    /// The first contract in force (the Public API's, as tests set them up), if any.
    pub fn contract(&self) -> Option<&Contract> {
        enforced(self).and_then(|e| e.contracts.first())
    }

    /// Every contract in force.
    pub fn contracts(&self) -> Vec<Contract> {
        enforced(self)
            .map(|e| e.contracts.clone())
            .unwrap_or_default()
    }

    /// Every contract violation seen so far, oldest first:
    /// `{side, method, path, query, operation, message, param}`, `side` being `request` (the
    /// client broke the contract) or `response` (the emulator did).
    pub fn contract_violations(&self) -> Vec<Value> {
        enforced(self)
            .map(|e| e.violations().clone())
            .unwrap_or_default()
    }
}

/// Which way a violation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The client sent a request the spec does not allow: answered 400 in its place.
    Request,
    /// The emulator answered what the spec does not allow: the answer is sent as it is, the
    /// violation is kept, and a test emulator refuses to stop quietly (see `RunningEmulator`).
    Response,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Request => "request",
            Side::Response => "response",
        }
    }
}

impl Enforced {
    fn record(&self, side: Side, parts: &axum::http::request::Parts, violation: &Violation) {
        let mut list = self.violations();
        if list.len() >= VIOLATION_CAP {
            list.remove(0);
        }
        list.push(json!({
            "side": side.as_str(),
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query().unwrap_or_default(),
            "operation": violation.operation,
            "message": violation.message,
            "param": violation.param,
        }));
        drop(list);
        if side == Side::Request && !self.print_refusals {
            return;
        }
        // Shown with the output of the test that caused it.
        eprintln!(
            "emulator: contract violation ({}) on {} {}: {}",
            side.as_str(),
            parts.method,
            parts.uri,
            violation.body()
        );
    }
}

impl Judge for Enforced {
    fn response_violations(&self) -> Vec<Value> {
        self.violations()
            .iter()
            .filter(|v| v["side"] == Side::Response.as_str())
            .cloned()
            .collect()
    }
}

/// Middleware: judge each request under a contract's API base, and the answer to each request
/// that passed.
pub async fn enforce(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let Some(judge) = emu.contract.clone() else {
        return next.run(req).await;
    };
    let Some(enforced) = (judge.as_ref() as &dyn std::any::Any).downcast_ref::<Enforced>() else {
        return next.run(req).await;
    };
    let Some(contract) = enforced.for_path(req.uri().path()).cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"code": "INVALID_PARAM", "message": "request body is too large", "param": "body"})),
        )
            .into_response();
    };
    let verdict = contract.check(&RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    });
    if let Err(violation) = verdict {
        let violation = violation.redacted(&secrets_in(&bytes, SENT_SECRETS));
        enforced.record(Side::Request, &parts, &violation);
        return (StatusCode::BAD_REQUEST, Json(violation.body())).into_response();
    }
    let sent_secrets = secrets_in(&bytes, SENT_SECRETS);
    let answer = next
        .run(Request::from_parts(parts.clone(), Body::from(bytes)))
        .await;
    if answer
        .extensions()
        .get::<crate::infra::clickwrap_keys::ClickwrapAnswer>()
        .is_some()
    {
        return answer;
    }
    let (answer_parts, answer_body) = answer.into_parts();
    let answer_bytes = match to_bytes(answer_body, ANSWER_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let violation = Violation::new(
                &format!("{} {}", parts.method, parts.uri.path()),
                format!("the answer could not be read whole: {e}"),
                "response",
            );
            enforced.record(Side::Response, &parts, &violation);
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(violation.body())).into_response();
        }
    };
    let judged = contract.check_response(
        parts.method.as_str(),
        parts.uri.path(),
        &AnswerParts {
            status: answer_parts.status.as_u16(),
            headers: &answer_parts.headers,
            body: &answer_bytes,
        },
    );
    if let Err(violation) = judged {
        let mut secrets = sent_secrets;
        secrets.extend(secrets_in(&answer_bytes, ANSWERED_SECRETS));
        let violation = violation.redacted(&secrets);
        enforced.record(Side::Response, &parts, &violation);
    }
    Response::from_parts(answer_parts, Body::from(answer_bytes))
}

/// `GET /_emulator/contract-violations` (a list; empty without a contract), `DELETE` clears.
pub fn routes() -> Router<Emulator> {
    Router::new().route(
        "/_emulator/contract-violations",
        get(list_violations).delete(clear_violations),
    )
}

async fn list_violations(State(emu): State<Emulator>) -> Json<Value> {
    Json(Value::Array(emu.contract_violations()))
}

async fn clear_violations(State(emu): State<Emulator>) -> Json<Value> {
    let cleared = enforced(&emu)
        .map(|e| std::mem::take(&mut *e.violations()).len())
        .unwrap_or(0);
    Json(json!({ "cleared": cleared }))
}
