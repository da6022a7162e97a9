//! The studio's JSON API. Every call of the connector answers `{"ok": …, "trace": […]}` or
//! `{"error": {kind, message, field?}, "trace": […]}` with status 200: a connector's refusal
//! is something to show, not a failed request. The trace lists the HTTP exchanges of that
//! call and of no other: calls go through the connection one at a time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use axum::extract::{DefaultBodyLimit, Path, State as Extract};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use connector_host::trace::Exchange;
use connector_host::triggers::{self, Event, PollState, Subscription};

use super::assets::{self, Assets};
use super::guard;
use super::hooks;
use super::presets::{MASK, Preset};
use crate::{CallError, ConnectionConfig, ErrorReport, Runtime, Session, TokenStore};

/// Action inputs carry files as base64.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

pub struct State {
    runtime: &'static Runtime,
    pub(super) addr: SocketAddr,
    pub(super) token: String,
    pub(super) assets: Assets,
    /// `describe`, as the page reads it.
    manifest: Value,
    secret_fields: Vec<String>,
    presets: Vec<Preset>,
    /// A private directory for the token store, removed when the studio stops.
    private: PathBuf,
    connection: Mutex<Option<Connected>>,
    deliveries: std::sync::Mutex<hooks::Log>,
}

/// The connection the page tested last, with what its calls keep between them.
struct Connected {
    session: Session<'static>,
    /// As filled in, secrets included: a reconnect may leave them masked.
    form: Map<String, Value>,
    /// Per trigger: the cursor and the ids delivered, so "poll" continues where it stopped.
    polls: HashMap<String, PollState>,
    /// Per webhook trigger.
    subscriptions: HashMap<String, Subscription>,
}

impl State {
    pub async fn new(
        runtime: &'static Runtime,
        addr: SocketAddr,
        token: String,
        presets: Vec<Preset>,
        assets: Assets,
    ) -> anyhow::Result<State> {
        let manifest = runtime.describe().await?;
        let secret_fields = runtime.secret_fields().await?;
        let private = std::env::temp_dir().join(format!(
            "connector-studio-{}-{}",
            std::process::id(),
            addr.port()
        ));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&private)?;
        Ok(State {
            runtime,
            addr,
            token,
            assets,
            manifest,
            secret_fields,
            presets,
            private,
            connection: Mutex::new(None),
            deliveries: Default::default(),
        })
    }

    pub(super) fn deliveries(&self) -> std::sync::MutexGuard<'_, hooks::Log> {
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verify a delivery for `trigger`'s subscription (kept up to date: rotated key, ids
    /// delivered, forgeries counted).
    pub(super) async fn handle_delivery(
        &self,
        trigger: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Vec<Event>, CallError> {
        let mut connection = self.connection.lock().await;
        let Some(Connected {
            session,
            subscriptions,
            ..
        }) = connection.as_mut()
        else {
            return Err(no_subscription(trigger));
        };
        let Some(subscription) = subscriptions.get_mut(trigger) else {
            return Err(no_subscription(trigger));
        };
        let handled = session.handle_webhook(subscription, headers, body).await;
        // Not an answer to any page call: the next call's trace starts clean.
        session.take_trace();
        handled
    }

    /// Delete every webhook the page subscribed (the studio is stopping).
    pub(super) async fn unsubscribe_all(&self) {
        if let Some(connected) = self.connection.lock().await.take() {
            connected.unsubscribe_all().await;
        }
        let _ = std::fs::remove_dir_all(&self.private);
    }

    /// `form` with every secret field that reads [`MASK`] filled from the preset it came
    /// from, or else from the connection it replaces.
    fn unmasked(
        &self,
        mut form: Map<String, Value>,
        preset: Option<&str>,
        previous: Option<&Connected>,
    ) -> Result<Map<String, Value>, CallError> {
        let preset = match preset {
            Some(id) => Some(self.presets.iter().find(|p| p.id == id).ok_or_else(|| {
                CallError::from(ErrorReport::new(
                    "invalid_config",
                    format!("there is no preset `{id}`"),
                ))
            })?),
            None => None,
        };
        for field in &self.secret_fields {
            if form.get(field) != Some(&json!(MASK)) {
                continue;
            }
            let kept = preset
                .and_then(|p| p.form.get(field))
                .or_else(|| previous.and_then(|c| c.form.get(field)))
                .cloned();
            match kept {
                Some(value) => {
                    form.insert(field.clone(), value);
                }
                None => {
                    return Err(ErrorReport::new(
                        "invalid_config",
                        "enter this secret: the studio holds no value for it",
                    )
                    .with_field(field.clone())
                    .into());
                }
            }
        }
        Ok(form)
    }

    /// Run `call` on the connection and answer with its outcome and trace.
    async fn with_connection(
        &self,
        call: impl AsyncFnOnce(&mut Connected) -> Result<Value, CallError>,
    ) -> Json<Value> {
        let mut connection = self.connection.lock().await;
        let Some(connected) = connection.as_mut() else {
            return answer(
                Err(ErrorReport::new(
                    "invalid_config",
                    "no connection yet: fill in the connection form and test it first",
                )
                .into()),
                Vec::new(),
            );
        };
        let outcome = call(connected).await;
        answer(outcome, connected.session.take_trace())
    }
}

impl Connected {
    async fn unsubscribe_all(self) {
        for subscription in self.subscriptions.values() {
            if let Err(e) = self.session.unsubscribe(subscription).await {
                eprintln!("studio: unsubscribing {}: {e}", subscription.trigger);
            }
        }
    }
}

fn no_subscription(trigger: &str) -> CallError {
    ErrorReport::rejected(
        "malformed",
        format!("no subscription of the studio's for `{trigger}`"),
    )
    .into()
}

/// `{ok, trace}` or `{error, trace}`.
fn answer(outcome: Result<Value, CallError>, trace: Vec<Exchange>) -> Json<Value> {
    let mut body = match outcome {
        Ok(value) => json!({ "ok": value }),
        Err(e) => e.to_json(),
    };
    body["trace"] = json!(trace);
    Json(body)
}

/// A request the page should not have sent: answered at once, nothing called.
fn bad_request(why: impl Into<String>) -> Json<Value> {
    answer(
        Err(ErrorReport::new("invalid_input", why.into()).into()),
        Vec::new(),
    )
}

pub fn router(state: &'static State) -> Router {
    Router::new()
        .route("/", get(assets::page))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/manifest", get(manifest))
        .route("/api/presets", get(presets))
        .route("/api/connection", post(connect))
        .route("/api/actions/{key}/schema", post(schema))
        .route("/api/actions/{key}/run", post(run))
        .route("/api/options/{provider}", post(options))
        .route("/api/triggers/{key}/poll", post(poll))
        .route("/api/triggers/{key}/subscribe", post(subscribe))
        .route("/api/triggers/{key}/unsubscribe", post(unsubscribe))
        .route("/api/deliveries", get(hooks::list))
        .route("/hooks/{trigger}", post(hooks::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state, guard::check))
        .with_state(state)
}

type Studio = Extract<&'static State>;

async fn manifest(Extract(s): Studio) -> Json<Value> {
    Json(s.manifest.clone())
}

async fn presets(Extract(s): Studio) -> Json<Value> {
    let presets: Vec<Value> = s
        .presets
        .iter()
        .map(|p| p.public(&s.secret_fields))
        .collect();
    Json(json!({ "presets": presets }))
}

/// `{form, preset?}`: connect, and test the connection. The connection replaces the one
/// before (whose webhooks are deleted) only when its test succeeds.
async fn connect(Extract(s): Studio, Json(body): Json<Value>) -> Json<Value> {
    let Some(form) = body["form"].as_object().cloned() else {
        return bad_request("`form` must be the connection form, an object");
    };
    let mut connection = s.connection.lock().await;
    let form = match s.unmasked(form, body["preset"].as_str(), connection.as_ref()) {
        Ok(form) => form,
        Err(e) => return answer(Err(e), Vec::new()),
    };
    let config = match ConnectionConfig::from_value(Value::Object(form.clone())) {
        Ok(config) => config,
        Err(e) => return bad_request(e.to_string()),
    };
    let tokens = TokenStore::new(s.private.join("tokens.json"));
    let session = match s.runtime.connect(&config, tokens).await {
        Ok(session) => session.traced(),
        Err(e) => return answer(Err(e), Vec::new()),
    };
    let tested = session.test().await;
    let trace = session.take_trace();
    if tested.is_ok() {
        if let Some(previous) = connection.take() {
            previous.unsubscribe_all().await;
        }
        *connection = Some(Connected {
            session,
            form,
            polls: HashMap::new(),
            subscriptions: HashMap::new(),
        });
    }
    answer(tested, trace)
}

/// `{input}`: the action's schemas for the input filled in so far.
async fn schema(
    Extract(s): Studio,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let input = input_of(&body);
    s.with_connection(async |c| c.session.input_schema(&key, &input).await)
        .await
}

/// `{input}`: run the action.
async fn run(Extract(s): Studio, Path(key): Path<String>, Json(body): Json<Value>) -> Json<Value> {
    let input = input_of(&body);
    s.with_connection(async |c| c.session.execute(&key, &input).await)
        .await
}

/// `{params, cursor?}`: one page of a pick list.
async fn options(
    Extract(s): Studio,
    Path(provider): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let params = match &body["params"] {
        Value::Null => json!({}),
        params => params.clone(),
    };
    let cursor = body["cursor"].as_str().map(str::to_string);
    s.with_connection(async |c| {
        c.session
            .list_options(&provider, &params, cursor.as_deref())
            .await
    })
    .await
}

/// `{input, reset?}`: poll once from where the last poll of this trigger stopped.
async fn poll(Extract(s): Studio, Path(key): Path<String>, Json(body): Json<Value>) -> Json<Value> {
    let input = input_of(&body);
    let reset = body["reset"].as_bool().unwrap_or(false);
    s.with_connection(async |c| {
        let state = c.polls.entry(key.clone()).or_default();
        if reset {
            *state = PollState::default();
        }
        let polled = c.session.poll_with(&key, &input, state).await?;
        Ok(triggers::polled_json(&polled))
    })
    .await
}

/// `{input}`: subscribe the trigger's webhook to the studio's receiver (replacing an earlier
/// subscription of the same trigger).
async fn subscribe(
    Extract(s): Studio,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let input = input_of(&body);
    let target = format!("http://{}/hooks/{key}", s.addr);
    s.with_connection(async |c| {
        if let Some(earlier) = c.subscriptions.remove(&key) {
            c.session.unsubscribe(&earlier).await?;
        }
        let subscription = c.session.subscribe(&key, &input, &target).await?;
        let webhook_id = subscription.state.get("webhook_id").cloned();
        c.subscriptions.insert(key.clone(), subscription);
        Ok(json!({ "webhook_id": webhook_id, "target": target }))
    })
    .await
}

async fn unsubscribe(Extract(s): Studio, Path(key): Path<String>) -> Json<Value> {
    s.with_connection(async |c| {
        let Some(subscription) = c.subscriptions.remove(&key) else {
            return Err(ErrorReport::new(
                "not_found",
                format!("`{key}` has no subscription in this studio"),
            )
            .into());
        };
        c.session.unsubscribe(&subscription).await?;
        Ok(json!({}))
    })
    .await
}

fn input_of(body: &Value) -> Value {
    match &body["input"] {
        Value::Null => json!({}),
        input => input.clone(),
    }
}
