//! A connection in use: the connector's plan for it, the credentials the host holds for it,
//! and calls made through a fresh instance each time.

use std::sync::Arc;

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::bindings::metadata::{Manifest, TriggerMode};
use crate::credential::Credential;
use crate::egress::Bound;
use crate::http_import::{RequestStats, Route};
use crate::oauth::Authenticator;
use crate::pacing::Pacer;
use crate::policy::{EgressPolicy, canonical_origin, shown};
use crate::report::{CallError, ErrorReport};
use crate::runtime::Runtime;
use crate::secret::{Redactor, Secret};
use crate::token_store::TokenStore;
use crate::trace::{Exchange, TraceSink};

/// What the guest sees in place of a secret value.
const SECRET_PLACEHOLDER: &str = "<secret>";

/// A connection form as filled in, secrets included. Only the host ever holds this.
#[derive(Clone)]
pub struct ConnectionConfig {
    form: Map<String, Value>,
}

impl ConnectionConfig {
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading connection config {}", path.display()))?;
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> anyhow::Result<Self> {
        match value {
            Value::Object(form) => Ok(ConnectionConfig { form }),
            _ => anyhow::bail!("a connection config must be a JSON object"),
        }
    }

    /// The form as filled in (secrets included): for the host's own use.
    pub fn form(&self) -> &Map<String, Value> {
        &self.form
    }

    /// The values of the secret fields that are filled in. A secret field holding anything
    /// but text is refused here, before the connector sees the form: the placeholder can
    /// only stand in for text, and a list or object would carry the secret to the guest.
    fn secrets(&self, secret_fields: &[String]) -> Result<Vec<Secret>, CallError> {
        let mut secrets = Vec::new();
        for field in secret_fields {
            match self.form.get(field) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(Value::String(s)) => secrets.push(Secret::new(s.as_str())),
                Some(other) => {
                    return Err(ErrorReport::new(
                        "invalid_config",
                        format!(
                            "must be text, got {} (the value is not shown: it is a secret)",
                            json_type(other)
                        ),
                    )
                    .with_field(field.clone())
                    .into());
                }
            }
        }
        Ok(secrets)
    }

    /// The form as the guest sees it: every secret value replaced by a placeholder wherever
    /// it appears, in its own field or pasted into another one.
    fn guest_view(&self, secrets: &[Secret]) -> String {
        let mut form = Value::Object(self.form.clone());
        mask(&mut form, secrets);
        form.to_string()
    }

    pub(crate) fn secret(&self, field: &str) -> Option<Secret> {
        self.form
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    }
}

/// Replace every secret inside `value`'s text (keys included) with the placeholder.
fn mask(value: &mut Value, secrets: &[Secret]) {
    let masked = |text: &str| {
        secrets
            .iter()
            .filter(|s| !s.expose().is_empty())
            .fold(text.to_string(), |acc, s| {
                acc.replace(s.expose(), SECRET_PLACEHOLDER)
            })
    };
    match value {
        Value::String(s) => *s = masked(s),
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, secrets)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                mask(&mut v, secrets);
                map.insert(masked(&k), v);
            }
        }
        _ => {}
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl std::fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionConfig(<fields not shown>)")
    }
}

pub struct Session<'r> {
    runtime: &'r Runtime,
    pub(crate) guest_config: String,
    policy: EgressPolicy,
    auth: Option<Arc<Credential>>,
    redactor: Redactor,
    /// Shared by every call of the session: rate-limit state outlives one invocation.
    pacer: Arc<Pacer>,
    /// Every exchange of the session's calls, when it traces ([`Session::traced`]).
    trace: Option<TraceSink>,
}

/// What one call cost: its requests, and the guest's peak linear memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    pub requests: RequestStats,
    pub peak_memory: usize,
}

impl Runtime {
    pub async fn manifest(&self) -> anyhow::Result<&Manifest> {
        self.manifest
            .get_or_try_init(|| async {
                self.describe_uncached()
                    .await
                    .map_err(|e| anyhow::anyhow!("describing the connector: {e}"))
            })
            .await
    }

    /// The connection form's secret fields (`x-secret`): what the host keeps from the guest.
    pub async fn secret_fields(&self) -> anyhow::Result<Vec<String>> {
        secret_fields(self.manifest().await?)
    }

    /// `describe` as JSON (schemas parsed, so the output is one JSON document).
    pub async fn describe(&self) -> anyhow::Result<Value> {
        Ok(manifest_json(self.manifest().await?))
    }

    /// Validate the config through the connector, then set up credentials and policy.
    /// What the connection may reach comes from the package's egress declaration and the
    /// form ([`crate::egress`]); the connector's plan may only narrow it, and its token and
    /// authorization endpoints must fall inside it. Anything else refuses the connection
    /// before any request.
    pub async fn connect(
        &self,
        config: &ConnectionConfig,
        tokens: TokenStore,
    ) -> Result<Session<'_>, CallError> {
        let secret_fields = secret_fields(self.manifest().await?)?;
        let secrets = config.secrets(&secret_fields)?;
        // The redactor knows every secret before the connector runs at all.
        let mut redactor = Redactor::default();
        secrets.iter().for_each(|s| redactor.add(s));
        let guest_config = config.guest_view(&secrets);
        let plan = self
            .call_offline(async |store, guest| {
                guest
                    .connection(&mut *store)?
                    .call_plan(store, &guest_config)
                    .await
            })
            .await
            .map_err(|e| redacted(e, &redactor))?;
        let allow_loopback = self.options().allow_loopback;
        let allowed = self.options().egress.allowed(config.form(), allow_loopback);
        let origins = within(
            &plan.allowed_origins,
            &allowed,
            "the connector's plan asks to reach",
        )?;
        let policy = EgressPolicy::new(origins, allow_loopback);
        let auth = Credential::from_plan(
            &plan,
            config,
            &allowed,
            &secret_fields,
            tokens,
            self.http_client(),
            &mut redactor,
        )?;
        Ok(Session {
            runtime: self,
            guest_config,
            policy,
            auth,
            redactor,
            pacer: Arc::new(Pacer::new(
                &plan.base_url,
                self.options().rate_limits.clone(),
            )),
            trace: None,
        })
    }
}

/// The canonical origins of `urls`, when every one is among the allowed origins; otherwise
/// the connection is refused, naming the form field whose value could not be allowed.
pub(crate) fn within(
    urls: &[String],
    allowed: &Bound,
    what: &str,
) -> Result<Vec<String>, CallError> {
    let mut origins = Vec::new();
    for url in urls {
        let origin = canonical_origin(url).ok();
        match origin {
            Some(o) if allowed.origins.contains(&o) => origins.push(o),
            _ => {
                let why: Vec<String> = allowed
                    .refused
                    .iter()
                    .map(|(field, why)| format!("{field}: {why}"))
                    .collect();
                let allowed_list = if allowed.origins.is_empty() {
                    "none".to_string()
                } else {
                    allowed.origins.join(", ")
                };
                let mut report = ErrorReport::new(
                    "invalid_config",
                    format!(
                        "{what} `{}`, which the connector's package does not allow for this connection (allowed: {allowed_list}){}",
                        shown(origin.as_deref().unwrap_or(url)),
                        if why.is_empty() {
                            String::new()
                        } else {
                            format!("; {}", why.join("; "))
                        }
                    ),
                );
                if let Some((field, _)) = allowed.refused.first() {
                    report = report.with_field(field.clone());
                }
                return Err(report.into());
            }
        }
    }
    Ok(origins)
}

/// `error` with every secret the redactor knows masked.
pub(crate) fn redacted(error: CallError, redactor: &Redactor) -> CallError {
    match error {
        CallError::Connector(mut report) => {
            report.message = redactor.redact(&report.message);
            if let Some(field) = &report.field {
                report.field = Some(redactor.redact(field));
            }
            CallError::Connector(report)
        }
        CallError::Host(e) => CallError::Host(anyhow::anyhow!(redactor.redact(&format!("{e:#}")))),
    }
}

impl Session<'_> {
    pub fn runtime(&self) -> &Runtime {
        self.runtime
    }

    /// Record every HTTP exchange of this session's calls, for [`Session::take_trace`].
    pub fn traced(mut self) -> Self {
        self.trace = Some(TraceSink::default());
        self
    }

    /// The exchanges recorded since the last take, oldest first; empty unless
    /// [`Session::traced`].
    pub fn take_trace(&self) -> Vec<Exchange> {
        self.trace
            .as_ref()
            .map(|sink| std::mem::take(&mut *sink.lock().expect("the trace lock")))
            .unwrap_or_default()
    }

    /// The OAuth client, when the connection uses one (a form's bearer token has no flows).
    pub fn authenticator(&self) -> Option<&Authenticator> {
        self.auth.as_deref().and_then(Credential::oauth)
    }

    /// Who the connection acts as.
    pub async fn test(&self) -> Result<Value, CallError> {
        let id = self
            .call(async |store, guest| {
                guest
                    .connection(&mut *store)?
                    .call_test(store, &self.guest_config)
                    .await
            })
            .await?;
        Ok(json!({
            "user": { "id": id.user_id, "email": id.user_email, "name": id.user_name },
            "company": { "id": id.company_id, "name": id.company_name },
            "scopes": id.scopes,
        }))
    }

    pub async fn execute(&self, action: &str, input: &Value) -> Result<Value, CallError> {
        self.execute_measured(action, input).await.0
    }

    /// [`Session::execute`], with what the call cost (also when it failed inside the guest).
    pub async fn execute_measured(
        &self,
        action: &str,
        input: &Value,
    ) -> (Result<Value, CallError>, CallStats) {
        let input = json_text(input);
        let mut stats = CallStats::default();
        let output = self
            .call(async |store, guest| {
                let output = guest
                    .actions(&mut *store)?
                    .call_execute(&mut *store, &self.guest_config, action, &input)
                    .await;
                stats = CallStats {
                    requests: store.data().http.stats(),
                    peak_memory: store.data().limiter.peak_memory(),
                };
                output
            })
            .await;
        (output.and_then(|text| output_json(action, &text)), stats)
    }

    /// The connection's side of one call's HTTP path (policy, credentials, the session's
    /// pacer).
    pub fn route(&self) -> Route {
        Route {
            policy: self.policy.clone(),
            auth: self.auth.clone(),
            redactor: self.redactor.clone(),
            pacer: Some(self.pacer.clone()),
            trace: self.trace.clone(),
        }
    }

    pub fn guest_config(&self) -> &str {
        &self.guest_config
    }

    /// The action's input and output schemas for the input filled in so far:
    /// `{"input_schema", "output_schema"}`.
    pub async fn input_schema(&self, action: &str, partial: &Value) -> Result<Value, CallError> {
        let partial = partial.to_string();
        let schemas = self
            .call(async |store, guest| {
                guest
                    .builder(&mut *store)?
                    .call_input_schema(store, &self.guest_config, action, &partial)
                    .await
            })
            .await?;
        let parse = |text: &str, what: &str| {
            serde_json::from_str::<Value>(text).map_err(|e| {
                CallError::Host(anyhow::anyhow!(
                    "the connector returned an invalid {what} schema for {action}: {e}"
                ))
            })
        };
        Ok(json!({
            "input_schema": parse(&schemas.input_schema, "input")?,
            "output_schema": parse(&schemas.output_schema, "output")?,
        }))
    }

    /// One page of a pick list: `{"options": [{value, label, description?, parent?}],
    /// "next_cursor"}`.
    pub async fn list_options(
        &self,
        provider: &str,
        params: &Value,
        cursor: Option<&str>,
    ) -> Result<Value, CallError> {
        let params = params.to_string();
        let page = self
            .call(async |store, guest| {
                guest
                    .builder(&mut *store)?
                    .call_list_options(store, &self.guest_config, provider, &params, cursor)
                    .await
            })
            .await?;
        let options: Vec<Value> = page
            .choices
            .iter()
            .map(|c| {
                let mut o = json!({ "value": c.value, "label": c.label });
                if let Some(d) = &c.description {
                    o["description"] = json!(d);
                }
                if let Some(p) = &c.parent {
                    o["parent"] = json!(p);
                }
                o
            })
            .collect();
        Ok(json!({ "options": options, "next_cursor": page.next_cursor }))
    }

    /// Every page of a pick list, following `next_cursor` (at most `max_pages`).
    pub async fn all_options(
        &self,
        provider: &str,
        params: &Value,
        max_pages: usize,
    ) -> Result<Value, CallError> {
        let mut options = Vec::new();
        let mut cursor: Option<String> = None;
        for pages in 1.. {
            let page = self
                .list_options(provider, params, cursor.as_deref())
                .await?;
            options.extend(page["options"].as_array().cloned().unwrap_or_default());
            cursor = page["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                return Ok(json!({ "options": options, "pages": pages }));
            }
            if pages >= max_pages {
                break;
            }
        }
        Err(CallError::Host(anyhow::anyhow!(
            "{provider} still had more options after {max_pages} pages; page with --cursor instead"
        )))
    }

    /// One call through a fresh instance with this connection's policy and credentials.
    pub(crate) async fn call<T>(
        &self,
        f: impl AsyncFnOnce(
            &mut wasmtime::Store<crate::host_state::HostState>,
            &crate::runtime::Guest<'_>,
        ) -> wasmtime::Result<Result<T, crate::bindings::ConnectorError>>,
    ) -> Result<T, CallError> {
        self.runtime.call(self.route(), f).await
    }
}

/// An action's output, as the connector returned it, as JSON.
pub fn output_json(action: &str, text: &str) -> Result<Value, CallError> {
    serde_json::from_str(text).map_err(|e| {
        CallError::Host(anyhow::anyhow!(
            "the connector returned invalid JSON for {action}: {e}"
        ))
    })
}

/// JSON text for the guest (`serde_json::to_string` skips the `fmt` machinery that
/// `Value::to_string` goes through).
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a Value always serialises")
}

/// Top-level connection-form properties marked `x-secret`.
fn secret_fields(manifest: &Manifest) -> anyhow::Result<Vec<String>> {
    let schema: Value = serde_json::from_str(&manifest.connection_schema)
        .context("the connector's connection schema is not JSON")?;
    Ok(schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p.get("x-secret") == Some(&Value::Bool(true)))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default())
}

fn manifest_json(m: &Manifest) -> Value {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.to_string()));
    json!({
        "id": m.id,
        "name": m.name,
        "version": m.version,
        "description": m.description,
        "connection_schema": parse(&m.connection_schema),
        "actions": m.actions.iter().map(|a| json!({
            "key": a.key,
            "title": a.title,
            "description": a.description,
            "group": a.group,
            "operation": a.operation,
            "scopes": a.scopes,
            "api_type": a.api_type,
            "input_schema": parse(&a.input_schema),
            "output_schema": parse(&a.output_schema),
            "hints": { "read_only": a.hints.read_only, "destructive": a.hints.destructive, "idempotent": a.hints.idempotent },
        })).collect::<Vec<_>>(),
        "triggers": m.triggers.iter().map(|t| json!({
            "key": t.key,
            "title": t.title,
            "description": t.description,
            "modes": t.modes.iter().map(|m| match m {
                TriggerMode::Poll => "poll",
                TriggerMode::Webhook => "webhook",
            }).collect::<Vec<_>>(),
            "scopes": t.scopes,
            "api_type": t.api_type,
            "input_schema": parse(&t.input_schema),
            "output_schema": parse(&t.output_schema),
        })).collect::<Vec<_>>(),
    })
}
