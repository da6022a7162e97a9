//! The connector's typed errors. They mirror the WIT `connector-error` variant one to one, so
//! the native logic and the component boundary speak the same language.

use std::borrow::Cow;
use std::fmt;

/// Characters of caller-supplied text an error message quotes.
const EXCERPT_CHARS: usize = 80;

/// Caller-supplied text (an id, a URL built from one, a value) as an error message quotes
/// it: whole when short, else its first 80 characters and its size. Every message that
/// echoes input goes through here, so no error grows with the input (a 5-million-character
/// id once made a 120 MB message).
pub fn excerpt(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}… ({} bytes)", &text[..end], text.len())),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorError {
    /// The connection form is wrong. `field` is the form property.
    InvalidConfig {
        field: String,
        message: String,
    },
    /// The action input is wrong. `field` is a JSON Pointer into the input.
    InvalidInput {
        field: String,
        message: String,
    },
    Unauthenticated(String),
    Forbidden {
        message: String,
        missing_scope: Option<String>,
    },
    NotFound(String),
    Conflict(String),
    RateLimited {
        message: String,
        retry_after_ms: Option<u64>,
    },
    Upstream(Upstream),
    Timeout(String),
    Unsupported(String),
    Internal(String),
    /// A webhook delivery failed verification and must not become an event.
    WebhookRejected {
        reason: Rejection,
        message: String,
    },
}

/// Why a webhook delivery was refused (WIT `rejection-reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Unsigned,
    Malformed,
    BadSignature,
    Stale,
    /// Reported by hosts, which keep the delivery history.
    Replayed,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Unsigned => "unsigned",
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::Stale => "stale",
            Rejection::Replayed => "replayed",
        }
    }
}

/// An upstream answer (or the lack of one) that no more specific case describes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Upstream {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub param: Option<String>,
    pub request_id: Option<String>,
}

impl ConnectorError {
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        ConnectorError::InvalidConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConnectorError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ConnectorError::Internal(message.into())
    }

    pub fn rejected(reason: Rejection, message: impl Into<String>) -> Self {
        ConnectorError::WebhookRejected {
            reason,
            message: message.into(),
        }
    }

    /// The CLI's `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectorError::InvalidConfig { .. } => "invalid_config",
            ConnectorError::InvalidInput { .. } => "invalid_input",
            ConnectorError::Unauthenticated(_) => "unauthenticated",
            ConnectorError::Forbidden { .. } => "forbidden",
            ConnectorError::NotFound(_) => "not_found",
            ConnectorError::Conflict(_) => "conflict",
            ConnectorError::RateLimited { .. } => "rate_limited",
            ConnectorError::Upstream(_) => "upstream",
            ConnectorError::Timeout(_) => "timeout",
            ConnectorError::Unsupported(_) => "unsupported",
            ConnectorError::Internal(_) => "internal",
            ConnectorError::WebhookRejected { .. } => "webhook_rejected",
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorError::InvalidConfig { field, message } => {
                write!(f, "connection field `{field}`: {message}")
            }
            ConnectorError::InvalidInput { field, message } => {
                write!(f, "input `{field}`: {message}")
            }
            ConnectorError::Forbidden {
                message,
                missing_scope: Some(scope),
            } => write!(f, "{message} (add the scope `{scope}` to the connection)"),
            ConnectorError::Forbidden { message, .. } => f.write_str(message),
            ConnectorError::RateLimited { message, .. } => f.write_str(message),
            ConnectorError::Upstream(u) => match u.status {
                Some(status) => write!(f, "Ironclad answered {status}: {}", u.message),
                None => f.write_str(&u.message),
            },
            ConnectorError::WebhookRejected { reason, message } => {
                write!(
                    f,
                    "webhook delivery rejected ({}): {message}",
                    reason.as_str()
                )
            }
            ConnectorError::Unauthenticated(m)
            | ConnectorError::NotFound(m)
            | ConnectorError::Conflict(m)
            | ConnectorError::Timeout(m)
            | ConnectorError::Unsupported(m)
            | ConnectorError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConnectorError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_whatever_the_text() {
        assert_eq!(excerpt("IC-12"), "IC-12");
        let exact = "é".repeat(EXCERPT_CHARS);
        assert_eq!(
            excerpt(&exact),
            exact.as_str(),
            "80 characters are quoted whole"
        );
        let long = "é".repeat(5_000_000);
        let shown = excerpt(&long);
        assert!(shown.starts_with(&"é".repeat(EXCERPT_CHARS)), "{shown}");
        assert!(shown.ends_with("… (10000000 bytes)"), "{shown}");
        assert!(shown.chars().count() < EXCERPT_CHARS + 30);
    }
}
