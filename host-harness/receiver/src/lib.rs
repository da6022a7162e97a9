//! Receiving webhook deliveries over HTTP: the bounds every receiver needs before the
//! connector sees a byte, and what a sender is told about each delivery.
//!
//! The receivers (`connector-harness listen`, the Temporal worker's ingress) face whoever can
//! reach their port, so connections are bounded before any request is read: how many are
//! served at once, how soon a request head must arrive, how long a connection may live, how
//! large a body may be. `axum::serve` bounds none of these.
//!
//! Answers follow what the sender should do next: 200 for events and replays (delivered
//! already, so Ironclad may stop retrying), 401 for unsigned or forged deliveries, 400 for
//! malformed or stale ones, 429 with `Retry-After` while forgeries close a subscription, and
//! 500 when the host or the API failed, so that Ironclad retries later and nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use connector_host::report::CallError;

/// A delivery body larger than this is refused (413) before it is read: Ironclad's are a few
/// hundred bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Connections served at once; one more is closed on arrival, so idle or half-open
/// connections cannot pile up.
pub const MAX_CONNECTIONS: usize = 64;
/// A connection must send a request head this soon after it opens (or after its previous
/// answer), or it is closed.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(5);
/// No connection lives longer than this, however slowly it sends.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// One delivery as the connector's `handle-webhook` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Headers whose values are text; others cannot be part of a signature.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the sender is told about one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// Seconds, for a 429 or a 503: when to send again.
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn new(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }

    /// A delivery that was accepted: its events are delivered (or were before).
    pub fn received(events: usize) -> Self {
        Answer::new(StatusCode::OK, json!({ "received": events }))
    }

    /// The answer for a delivery that produced no events.
    pub fn refusal(e: &CallError) -> Self {
        let CallError::Connector(report) = e else {
            return Answer::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_json());
        };
        let status = match (report.kind, report.rejection()) {
            (_, Some("replayed")) => StatusCode::OK,
            (_, Some("unsigned" | "bad_signature")) => StatusCode::UNAUTHORIZED,
            (_, Some(_)) => StatusCode::BAD_REQUEST,
            ("rate_limited", None) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Answer {
            retry_after: report.details["retry_after_ms"]
                .as_u64()
                .map(|ms| ms.div_ceil(1000)),
            ..Answer::new(status, e.to_json())
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body.to_string()).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The delivery in `request`, or the answer refusing it: a body over [`MAX_BODY_BYTES`] is
/// refused on its declared length before a byte of it is read, and while it is read otherwise.
pub async fn read_delivery(request: Request) -> Result<Delivery, Answer> {
    let (parts, body) = request.into_parts();
    let too_large = || {
        Answer::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!(format!("a delivery is at most {MAX_BODY_BYTES} bytes")),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(too_large());
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    Ok(Delivery {
        headers,
        body: body.to_vec(),
    })
}

/// Serve `app` on `listener` until `stop` completes, within [`MAX_CONNECTIONS`],
/// [`HEADER_DEADLINE`] and [`CONNECTION_LIFETIME`].
pub async fn serve(listener: tokio::net::TcpListener, app: Router, stop: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A failed accept (out of descriptors, a reset before accept) ends nothing
                // but that connection.
                Err(_) => continue,
            },
            _ = &mut stop => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_host::report::ErrorReport;

    fn answer(report: ErrorReport) -> Answer {
        Answer::refusal(&CallError::Connector(Box::new(report)))
    }

    #[test]
    fn each_refusal_tells_the_sender_what_to_do() {
        let closed = answer(ErrorReport {
            details: json!({ "retry_after_ms": 12_500, "reason": "forged_deliveries" }),
            ..ErrorReport::new("rate_limited", "closed for a while")
        });
        assert_eq!(
            (closed.status, closed.retry_after),
            (StatusCode::TOO_MANY_REQUESTS, Some(13))
        );
        assert_eq!(closed.into_response().headers()[header::RETRY_AFTER], "13");
        for (reason, status) in [
            ("replayed", StatusCode::OK),
            ("bad_signature", StatusCode::UNAUTHORIZED),
            ("unsigned", StatusCode::UNAUTHORIZED),
            ("stale", StatusCode::BAD_REQUEST),
            ("malformed", StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(answer(ErrorReport::rejected(reason, "no")).status, status);
        }
        let failed = Answer::refusal(&CallError::Host(anyhow::anyhow!("disk full")));
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_by_its_declared_length() {
        let request = |declared: usize, actual: usize| {
            axum::http::Request::post("/hook")
                .header(header::CONTENT_LENGTH, declared)
                .header("x-bin", HeaderValue::from_bytes(b"\xff").unwrap())
                .header("x-text", "yes")
                .body(axum::body::Body::from(vec![b'a'; actual]))
                .unwrap()
        };
        let refused = read_delivery(request(MAX_BODY_BYTES + 1, 1)).await;
        assert_eq!(refused.unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
        let read = read_delivery(request(3, 3)).await.unwrap();
        assert_eq!(read.body, b"aaa");
        // A header that is not text cannot be part of a signature; the rest are kept.
        assert!(
            read.headers
                .iter()
                .any(|(k, v)| k == "x-text" && v == "yes")
        );
        assert!(!read.headers.iter().any(|(k, _)| k == "x-bin"));
    }
}
