//! What a call sent and got back over HTTP, for a person reading it (`connector-harness
//! --trace`, the studio's trace panel): every exchange the host made for the connector —
//! redirect hops and retries each on their own line — with its timing, and nothing secret.
//!
//! A session records only when asked ([`Session::traced`](crate::Session::traced)); the
//! sink is shared by its calls, and [`Session::take_trace`](crate::Session::take_trace)
//! empties it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::bindings::http::{HttpError, Request, Response};
use crate::http_import::http_method;
use crate::secret::Redactor;

/// One request and its answer (or why there was none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    /// The HTTP status; `None` when no answer came, and `error` says why.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// From sending the request to the end of the answer's body (pacing waits excluded).
    pub duration_ms: f64,
    /// 0 for a first attempt, n for the n-th retry of the same request.
    pub retry: u32,
    /// The connector's headers, and `authorization: Bearer <redacted>` when the host
    /// attached a token.
    pub request_headers: Vec<(String, String)>,
    pub request_bytes: usize,
    /// The answer's headers (`set-cookie` values withheld).
    pub response_headers: Vec<(String, String)>,
    pub response_bytes: usize,
}

/// Where a session's calls put their exchanges.
pub type TraceSink = Arc<Mutex<Vec<Exchange>>>;

/// The exchange `request` → `outcome`, with secrets masked by `redactor`.
pub(crate) fn exchange(
    request: &Request,
    authenticated: bool,
    outcome: Result<&Response, &HttpError>,
    took: Duration,
    retry: u32,
    redactor: &Redactor,
) -> Exchange {
    let mut request_headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), redactor.redact(v)))
        .collect();
    if authenticated {
        request_headers.push(("authorization".into(), "Bearer <redacted>".into()));
    }
    let (status, error, response_headers, response_bytes) = match outcome {
        Ok(response) => (
            Some(response.status),
            None,
            response
                .headers
                .iter()
                .map(|(k, v)| {
                    let value = if k.eq_ignore_ascii_case("set-cookie") {
                        "<withheld>".to_string()
                    } else {
                        redactor.redact(v)
                    };
                    (k.to_ascii_lowercase(), value)
                })
                .collect(),
            response.body.len(),
        ),
        Err(error) => (None, Some(redactor.redact(&describe(error))), Vec::new(), 0),
    };
    Exchange {
        method: http_method(request.method).to_string(),
        url: redactor.redact(&request.url),
        status,
        error,
        duration_ms: took.as_secs_f64() * 1000.0,
        retry,
        request_headers,
        request_bytes: request.body.as_ref().map_or(0, Vec::len),
        response_headers,
        response_bytes,
    }
}

fn describe(error: &HttpError) -> String {
    match error {
        HttpError::Denied(why) => format!("denied: {why}"),
        HttpError::InvalidRequest(why) => format!("invalid request: {why}"),
        HttpError::Connect(why) => format!("no connection: {why}"),
        HttpError::Timeout => "timed out".into(),
        HttpError::TooLarge(limit) => format!("answer over {limit} bytes"),
        HttpError::Unauthenticated(why) => format!("unauthenticated: {why}"),
    }
}

impl Exchange {
    /// One line for a terminal: `GET https://… → 200 (12.3 ms, 1,024 B)`.
    pub fn line(&self) -> String {
        let outcome = match (self.status, &self.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".into(),
        };
        let retry = if self.retry > 0 {
            format!(", retry {}", self.retry)
        } else {
            String::new()
        };
        format!(
            "{} {} → {outcome} ({:.1} ms, {} B{retry})",
            self.method, self.url, self.duration_ms, self.response_bytes
        )
    }
}
