//! Connector errors as the CLI and embedders see them: `{"kind", "message", "field", ...}`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::bindings::ConnectorError;
use crate::bindings::RejectionReason;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorReport {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Case-specific facts (missing scope, retry-after, upstream status/code/param).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl ErrorReport {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ErrorReport {
            kind,
            message: message.into(),
            field: None,
            details: Value::Null,
        }
    }

    /// A webhook delivery refused: `kind: webhook_rejected`, `details.reason` one of
    /// `unsigned`, `malformed`, `bad_signature`, `stale`, `replayed`.
    pub fn rejected(reason: &'static str, message: impl Into<String>) -> Self {
        ErrorReport {
            details: json!({ "reason": reason }),
            ..ErrorReport::new("webhook_rejected", message)
        }
    }

    /// The rejection reason, when this reports a refused webhook delivery.
    pub fn rejection(&self) -> Option<&str> {
        (self.kind == "webhook_rejected")
            .then(|| self.details["reason"].as_str())
            .flatten()
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}): {}", self.kind, field, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl From<ConnectorError> for ErrorReport {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::InvalidConfig(f) => {
                ErrorReport::new("invalid_config", f.message).with_field(f.field)
            }
            ConnectorError::InvalidInput(f) => {
                ErrorReport::new("invalid_input", f.message).with_field(f.field)
            }
            ConnectorError::Unauthenticated(m) => ErrorReport::new("unauthenticated", m),
            ConnectorError::Forbidden(f) => ErrorReport {
                details: f
                    .missing_scope
                    .as_ref()
                    .map(|s| json!({ "missing_scope": s }))
                    .unwrap_or_default(),
                ..ErrorReport::new("forbidden", f.message)
            },
            ConnectorError::NotFound(m) => ErrorReport::new("not_found", m),
            ConnectorError::Conflict(m) => ErrorReport::new("conflict", m),
            ConnectorError::RateLimited(r) => ErrorReport {
                details: json!({ "retry_after_ms": r.retry_after_ms }),
                ..ErrorReport::new("rate_limited", r.message)
            },
            ConnectorError::Upstream(u) => ErrorReport {
                field: u.param.clone(),
                details: json!({ "status": u.status, "code": u.code, "param": u.param, "request_id": u.request_id }),
                ..ErrorReport::new("upstream", u.message)
            },
            ConnectorError::Timeout(m) => ErrorReport::new("timeout", m),
            ConnectorError::Unsupported(m) => ErrorReport::new("unsupported", m),
            ConnectorError::Internal(m) => ErrorReport::new("internal", m),
            ConnectorError::WebhookRejected(r) => {
                ErrorReport::rejected(rejection_reason(r.reason), r.message)
            }
        }
    }
}

fn rejection_reason(r: RejectionReason) -> &'static str {
    match r {
        RejectionReason::Unsigned => "unsigned",
        RejectionReason::Malformed => "malformed",
        RejectionReason::BadSignature => "bad_signature",
        RejectionReason::Stale => "stale",
        RejectionReason::Replayed => "replayed",
    }
}

/// A call either fails in the connector (a typed report) or in the host (load, trap, I/O).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Connector(Box<ErrorReport>),
    #[error("{0:#}")]
    Host(#[from] anyhow::Error),
}

impl CallError {
    /// The JSON printed on stdout by the CLI. Host failures are reported as `internal`.
    pub fn to_json(&self) -> Value {
        let report = match self {
            CallError::Connector(r) => (**r).clone(),
            CallError::Host(e) => ErrorReport::new("internal", format!("{e:#}")),
        };
        json!({ "error": report })
    }
}

/// A trap or host failure inside a call.
impl From<wasmtime::Error> for CallError {
    fn from(e: wasmtime::Error) -> Self {
        CallError::Host(e.into())
    }
}

impl From<ConnectorError> for CallError {
    fn from(e: ConnectorError) -> Self {
        CallError::Connector(Box::new(e.into()))
    }
}

impl From<ErrorReport> for CallError {
    fn from(r: ErrorReport) -> Self {
        CallError::Connector(Box::new(r))
    }
}
