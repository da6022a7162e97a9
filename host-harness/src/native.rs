//! The connector compiled natively into the host and called directly, over the same HTTP path
//! as the component ([`HttpPath`]: policy, credentials, pacing, retries). It is the baseline
//! `connector-harness bench` compares the component with; an iPaaS runs connectors as
//! components, because they are code it does not trust.
//!
//! The connector's `HttpClient` is blocking, so a native call runs on a blocking section of a
//! multi-threaded tokio runtime (`block_in_place`) and drives each request to completion there.

use std::sync::Mutex;

use ironclad_connector::ConnectorError as Native;
use ironclad_connector::error::Rejection;
use ironclad_connector::http::{HttpClient, Request, Response, TransportError};
use serde_json::Value;

use connector_host::bindings::ConnectorError as Wit;
use connector_host::bindings::http::{self as wire, HttpError, Method};
use connector_host::bindings::ipaas::connector::types as wit;
use connector_host::http_import::HttpPath;
use connector_host::report::CallError;
use connector_host::session::Session;

/// [`Session::execute`], run by the natively compiled connector instead of the component.
pub trait ExecuteNative {
    /// The benchmark's baseline. Needs a multi-threaded tokio runtime.
    fn execute_native(
        &self,
        action: &str,
        input: &Value,
    ) -> impl std::future::Future<Output = Result<Value, CallError>>;
}

impl ExecuteNative for Session<'_> {
    async fn execute_native(&self, action: &str, input: &Value) -> Result<Value, CallError> {
        let runtime = self.runtime();
        let deadline = std::time::Instant::now() + runtime.options().limits.call_timeout;
        let path = HttpPath::new(
            runtime.http_client().clone(),
            self.route(),
            runtime.options().retry.clone(),
            deadline,
        )
        .with_request_cap(runtime.options().limits.requests_per_call);
        let client = NativeHttp {
            path: Mutex::new(path),
            runtime: tokio::runtime::Handle::current(),
        };
        let input = connector_host::session::json_text(input);
        // The connector's own entry point for hosts, as the component runs it: the output as
        // JSON text, read by the host like the component's.
        let output = tokio::task::block_in_place(|| {
            ironclad_connector::execute_text(&client, self.guest_config(), action, &input)
        })
        .map_err(|e| CallError::from(wit_error(e)))?;
        connector_host::session::output_json(action, &output)
    }
}

/// The host's HTTP path as the connector's blocking `HttpClient`.
struct NativeHttp {
    path: Mutex<HttpPath>,
    runtime: tokio::runtime::Handle,
}

impl HttpClient for NativeHttp {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let method = match request.method.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => {
                return Err(TransportError::InvalidRequest(format!(
                    "method {other} is not supported"
                )));
            }
        };
        let request = wire::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            authenticate: request.authenticate,
            timeout_ms: request.timeout_ms,
        };
        let mut path = self.path.lock().unwrap_or_else(|p| p.into_inner());
        match self.runtime.block_on(path.send(request)) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(match e {
                HttpError::Denied(m) => TransportError::Denied(m),
                HttpError::InvalidRequest(m) => TransportError::InvalidRequest(m),
                HttpError::Connect(m) => TransportError::Connect(m),
                HttpError::Timeout => TransportError::Timeout,
                HttpError::TooLarge(n) => TransportError::TooLarge(n),
                HttpError::Unauthenticated(m) => TransportError::Unauthenticated(m),
            }),
        }
    }
}

/// The error as the component would have returned it, so both paths report alike.
fn wit_error(e: Native) -> Wit {
    match e {
        Native::InvalidConfig { field, message } => {
            Wit::InvalidConfig(wit::FieldError { field, message })
        }
        Native::InvalidInput { field, message } => {
            Wit::InvalidInput(wit::FieldError { field, message })
        }
        Native::Unauthenticated(m) => Wit::Unauthenticated(m),
        Native::Forbidden {
            message,
            missing_scope,
        } => Wit::Forbidden(wit::ForbiddenError {
            message,
            missing_scope,
        }),
        Native::NotFound(m) => Wit::NotFound(m),
        Native::Conflict(m) => Wit::Conflict(m),
        Native::RateLimited {
            message,
            retry_after_ms,
        } => Wit::RateLimited(wit::RateLimit {
            message,
            retry_after_ms,
        }),
        Native::Upstream(u) => Wit::Upstream(wit::UpstreamError {
            status: u.status,
            code: u.code,
            message: u.message,
            param: u.param,
            request_id: u.request_id,
        }),
        Native::Timeout(m) => Wit::Timeout(m),
        Native::Unsupported(m) => Wit::Unsupported(m),
        Native::Internal(m) => Wit::Internal(m),
        Native::WebhookRejected { reason, message } => {
            Wit::WebhookRejected(wit::WebhookRejection {
                reason: match reason {
                    Rejection::Unsigned => wit::RejectionReason::Unsigned,
                    Rejection::Malformed => wit::RejectionReason::Malformed,
                    Rejection::BadSignature => wit::RejectionReason::BadSignature,
                    Rejection::Stale => wit::RejectionReason::Stale,
                    Rejection::Replayed => wit::RejectionReason::Replayed,
                },
                message,
            })
        }
    }
}
