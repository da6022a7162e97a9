//! `connector-harness listen`: subscribe a webhook trigger to a loopback receiver, verify
//! each delivery through the connector, print verified events as JSON lines, and
//! unsubscribe on Ctrl-C (or after `--max-events`).
//!
//! Deliveries are handled one at a time, in arrival order, by the task that owns the
//! session; the HTTP handler only forwards them and answers what the session decided:
//! 200 for events and replays (already delivered: Ironclad may stop retrying), 401 for
//! unsigned or forged deliveries, 400 for malformed or stale ones, 500 when the host or the
//! API failed (Ironclad retries later, so nothing is lost).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot};

use connector_host::report::CallError;
use connector_host::session::Session;
use connector_host::triggers::{self, Subscription};

pub const PATH: &str = "/ironclad-webhook";

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

pub struct Options {
    pub trigger: String,
    pub input: Value,
    pub port: u16,
    /// Keep the subscription (and seen ids) here, rewritten after each delivery.
    pub subscription_file: Option<PathBuf>,
    /// Stop after this many events.
    pub max_events: Option<usize>,
}

struct Delivery {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    reply: oneshot::Sender<Answer>,
}

/// What the sender is told about one delivery.
struct Answer {
    status: StatusCode,
    body: Value,
    /// Seconds, for a 429: when this subscription takes deliveries again.
    retry_after: Option<u64>,
}

impl Answer {
    fn new(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            body,
            retry_after: None,
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

pub async fn run(session: &Session<'_>, options: Options) -> Result<(), CallError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| CallError::Host(anyhow::anyhow!("binding 127.0.0.1:{}: {e}", options.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| CallError::Host(e.into()))?
        .port();
    let target = format!("http://127.0.0.1:{port}{PATH}");
    let (tx, mut rx) = mpsc::channel::<Delivery>(64);
    let app = Router::new().route(PATH, post(receive)).with_state(tx);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, stop_rx));

    let mut sub = session
        .subscribe(&options.trigger, &options.input, &target)
        .await?;
    persist(&options, &sub)?;
    eprintln!(
        "listening on {target} (webhook {}); stop with Ctrl-C",
        sub.state["webhook_id"].as_str().unwrap_or("?")
    );
    let mut delivered = 0usize;
    let outcome = loop {
        if options.max_events.is_some_and(|max| delivered >= max) {
            break Ok(());
        }
        let delivery = tokio::select! {
            d = rx.recv() => match d { Some(d) => d, None => break Ok(()) },
            _ = tokio::signal::ctrl_c() => break Ok(()),
        };
        // With a subscription file, each delivery is handled under its lock against the
        // file's latest state: another process handling deliveries of the same subscription
        // (`webhook handle`) and this one never deliver an event twice.
        let lock = match &options.subscription_file {
            Some(path) => {
                let lock = triggers::lock(path).map_err(CallError::Host)?;
                sub = triggers::load_subscription(path).map_err(CallError::Host)?;
                Some(lock)
            }
            None => None,
        };
        let handled = session
            .handle_webhook(&mut sub, delivery.headers, delivery.body)
            .await;
        // Events are printed before the state that marks them delivered is saved (a crash
        // in between delivers them again, never loses them); the state is saved whatever
        // the outcome, since a refused delivery may have counted as a forgery.
        let answer = match handled {
            Ok(events) => {
                let mut out = std::io::stdout().lock();
                for event in &events {
                    let _ = writeln!(
                        out,
                        "{}",
                        json!({ "id": event.id, "payload": event.payload })
                    );
                }
                let _ = out.flush();
                delivered += events.len();
                Answer::new(StatusCode::OK, json!({ "received": events.len() }))
            }
            Err(e) => refusal(&e),
        };
        let saved = persist(&options, &sub);
        drop(lock);
        if let Err(e) = saved {
            break Err(e);
        }
        let _ = delivery.reply.send(answer);
    };
    let unsubscribed = session.unsubscribe(&sub).await;
    let _ = stop_tx.send(());
    let _ = server.await;
    outcome?;
    unsubscribed?;
    eprintln!("unsubscribed; {delivered} event(s) received");
    Ok(())
}

/// The answer for a delivery that produced no events.
fn refusal(e: &CallError) -> Answer {
    eprintln!("delivery refused: {e}");
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

fn persist(options: &Options, sub: &Subscription) -> Result<(), CallError> {
    match &options.subscription_file {
        Some(path) => triggers::save(path, sub).map_err(CallError::Host),
        None => Ok(()),
    }
}

/// Serve `app` on `listener` until `stop`, within [`MAX_CONNECTIONS`], [`HEADER_DEADLINE`]
/// and [`CONNECTION_LIFETIME`] (`axum::serve` bounds none of them).
async fn serve(listener: tokio::net::TcpListener, app: Router, mut stop: oneshot::Receiver<()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    eprintln!("listen: accepting a connection failed: {e}");
                    continue;
                }
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

async fn receive(State(tx): State<mpsc::Sender<Delivery>>, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let too_large = || {
        Answer::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!(format!("a delivery is at most {MAX_BODY_BYTES} bytes")),
        )
    };
    // Refused on its declared length before a byte of it is read.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return too_large();
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let (reply, answer) = oneshot::channel();
    let delivery = Delivery {
        headers,
        body: body.to_vec(),
        reply,
    };
    let shutting_down = || Answer::new(StatusCode::SERVICE_UNAVAILABLE, json!("shutting down"));
    if tx.send(delivery).await.is_err() {
        return shutting_down();
    }
    answer.await.unwrap_or_else(|_| shutting_down())
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_host::report::ErrorReport;

    fn answer(report: ErrorReport) -> Answer {
        refusal(&CallError::Connector(Box::new(report)))
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
        let failed = refusal(&CallError::Host(anyhow::anyhow!("disk full")));
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
