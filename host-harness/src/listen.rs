//! `connector-harness listen`: subscribe a webhook trigger to a loopback receiver, verify
//! each delivery through the connector, print verified events as JSON lines, and
//! unsubscribe on Ctrl-C (or after `--max-events`).
//!
//! Deliveries are handled one at a time, in arrival order, by the task that owns the
//! session; the HTTP handler only forwards them and answers what the session decided
//! (`connector_receiver`: connections and bodies bounded, 200 for events and replays,
//! 401 forged, 400 malformed or stale, 500 when the host or the API failed so that Ironclad
//! retries later and nothing is lost).

use std::io::Write;
use std::path::PathBuf;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use connector_host::report::CallError;
use connector_host::session::Session;
use connector_host::triggers::{self, Subscription};
use connector_receiver::Answer;

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

/// A delivery on its way to the task that owns the session, and where its answer goes.
struct Delivery {
    delivery: connector_receiver::Delivery,
    reply: oneshot::Sender<Answer>,
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
    let server = tokio::spawn(connector_receiver::serve(listener, app, async {
        let _ = stop_rx.await;
    }));

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
            .handle_webhook(&mut sub, delivery.delivery.headers, delivery.delivery.body)
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
                Answer::received(events.len())
            }
            Err(e) => {
                eprintln!("delivery refused: {e}");
                Answer::refusal(&e)
            }
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

fn persist(options: &Options, sub: &Subscription) -> Result<(), CallError> {
    match &options.subscription_file {
        Some(path) => triggers::save(path, sub).map_err(CallError::Host),
        None => Ok(()),
    }
}

async fn receive(State(tx): State<mpsc::Sender<Delivery>>, request: Request) -> Answer {
    let delivery = match connector_receiver::read_delivery(request).await {
        Ok(delivery) => delivery,
        Err(refused) => return refused,
    };
    let (reply, answer) = oneshot::channel();
    let shutting_down = || Answer::new(StatusCode::SERVICE_UNAVAILABLE, json!("shutting down"));
    if tx.send(Delivery { delivery, reply }).await.is_err() {
        return shutting_down();
    }
    answer.await.unwrap_or_else(|_| shutting_down())
}
