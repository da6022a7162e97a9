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

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use connector_host::report::CallError;
use connector_host::session::Session;
use connector_host::triggers::{self, Subscription};

pub const PATH: &str = "/ironclad-webhook";

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
    reply: oneshot::Sender<(StatusCode, String)>,
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
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });

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
        let answer = match session
            .handle_webhook(&mut sub, delivery.headers, delivery.body)
            .await
        {
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
                persist(&options, &sub)
                    .map(|_| (StatusCode::OK, json!({ "received": events.len() })))
            }
            Err(e) => Ok(refusal(&e)),
        };
        drop(lock);
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(e) => break Err(e),
        };
        let _ = delivery.reply.send((status, body.to_string()));
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
fn refusal(e: &CallError) -> (StatusCode, Value) {
    let reason = match e {
        CallError::Connector(r) => r.rejection(),
        CallError::Host(_) => None,
    };
    eprintln!("delivery refused: {e}");
    let status = match reason {
        Some("replayed") => StatusCode::OK,
        Some("unsigned" | "bad_signature") => StatusCode::UNAUTHORIZED,
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, e.to_json())
}

fn persist(options: &Options, sub: &Subscription) -> Result<(), CallError> {
    match &options.subscription_file {
        Some(path) => triggers::save(path, sub).map_err(CallError::Host),
        None => Ok(()),
    }
}

async fn receive(
    State(tx): State<mpsc::Sender<Delivery>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let (reply, answer) = oneshot::channel();
    let delivery = Delivery {
        headers,
        body: body.to_vec(),
        reply,
    };
    if tx.send(delivery).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".into());
    }
    answer
        .await
        .unwrap_or((StatusCode::SERVICE_UNAVAILABLE, "shutting down".into()))
}
