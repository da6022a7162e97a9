//! The WIT boundary: converts between the generated bindings and the native logic.
//! Nothing here decides anything.

wit_bindgen::generate!({ path: "wit/v0.4", world: "connector" });

use exports::ipaas::connector::{actions, builder, connection, metadata, triggers};
use ipaas::connector::http as wit_http;
use ipaas::connector::log as wit_log;
use ipaas::connector::types::{self as wit, ConnectorError as WitError};

use crate::error::{ConnectorError, Rejection};
use crate::http::{HttpClient, Request, Response, TransportError};

struct Component;

export!(Component);

/// The host's HTTP import as an [`HttpClient`].
struct HostHttp;

impl HttpClient for HostHttp {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let method = match request.method.as_str() {
            "GET" => wit_http::Method::Get,
            "HEAD" => wit_http::Method::Head,
            "POST" => wit_http::Method::Post,
            "PUT" => wit_http::Method::Put,
            "PATCH" => wit_http::Method::Patch,
            "DELETE" => wit_http::Method::Delete,
            other => {
                return Err(TransportError::InvalidRequest(format!(
                    "method {other} is not supported"
                )));
            }
        };
        let wire = wit_http::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            authenticate: request.authenticate,
            timeout_ms: request.timeout_ms,
        };
        let line = format!("{} {}", request.method, path_and_query(&wire.url));
        let result = wit_http::send(&wire);
        let outcome = match &result {
            Ok(r) => r.status.to_string(),
            Err(e) => format!("{e:?}"),
        };
        wit_log::log(wit_log::Level::Debug, &format!("{line} -> {outcome}"));
        result
            .map(|r| Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                wit_http::HttpError::Denied(m) => TransportError::Denied(m),
                wit_http::HttpError::InvalidRequest(m) => TransportError::InvalidRequest(m),
                wit_http::HttpError::Connect(m) => TransportError::Connect(m),
                wit_http::HttpError::Timeout => TransportError::Timeout,
                wit_http::HttpError::TooLarge(n) => TransportError::TooLarge(n),
                wit_http::HttpError::Unauthenticated(m) => TransportError::Unauthenticated(m),
            })
    }
}

/// Logs show where a request went, not the host (which the host knows) — and never headers.
fn path_and_query(url: &str) -> &str {
    url.find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]))
        .unwrap_or(url)
}

impl From<ConnectorError> for WitError {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::InvalidConfig { field, message } => {
                WitError::InvalidConfig(wit::FieldError { field, message })
            }
            ConnectorError::InvalidInput { field, message } => {
                WitError::InvalidInput(wit::FieldError { field, message })
            }
            ConnectorError::Unauthenticated(m) => WitError::Unauthenticated(m),
            ConnectorError::Forbidden {
                message,
                missing_scope,
            } => WitError::Forbidden(wit::ForbiddenError {
                message,
                missing_scope,
            }),
            ConnectorError::NotFound(m) => WitError::NotFound(m),
            ConnectorError::Conflict(m) => WitError::Conflict(m),
            ConnectorError::RateLimited {
                message,
                retry_after_ms,
            } => WitError::RateLimited(wit::RateLimit {
                message,
                retry_after_ms,
            }),
            ConnectorError::Upstream(u) => WitError::Upstream(wit::UpstreamError {
                status: u.status,
                code: u.code,
                message: u.message,
                param: u.param,
                request_id: u.request_id,
            }),
            ConnectorError::Timeout(m) => WitError::Timeout(m),
            ConnectorError::Unsupported(m) => WitError::Unsupported(m),
            ConnectorError::Internal(m) => WitError::Internal(m),
            ConnectorError::WebhookRejected { reason, message } => {
                WitError::WebhookRejected(wit::WebhookRejection {
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
}

impl metadata::Guest for Component {
    fn describe() -> metadata::Manifest {
        let m = crate::describe();
        metadata::Manifest {
            id: m.id.into(),
            name: m.name.into(),
            version: m.version.into(),
            description: m.description.into(),
            connection_schema: m.connection_schema.into(),
            actions: m
                .actions
                .into_iter()
                .map(|a| metadata::ActionDef {
                    key: a.key.into(),
                    title: a.title.into(),
                    description: a.description,
                    group: a.group.into(),
                    operation: a.operation.map(Into::into),
                    scopes: a.scopes.iter().map(|s| s.to_string()).collect(),
                    api_type: a.api_type.as_str().into(),
                    input_schema: a.input_schema,
                    output_schema: a.output_schema,
                    hints: metadata::ActionHints {
                        read_only: a.read_only,
                        destructive: a.destructive,
                        idempotent: a.idempotent,
                    },
                })
                .collect(),
            triggers: m
                .triggers
                .into_iter()
                .map(|t| metadata::TriggerDef {
                    key: t.key.into(),
                    title: t.title.into(),
                    description: t.description.into(),
                    modes: [
                        (t.polls, metadata::TriggerMode::Poll),
                        (t.webhooks, metadata::TriggerMode::Webhook),
                    ]
                    .into_iter()
                    .filter_map(|(on, mode)| on.then_some(mode))
                    .collect(),
                    scopes: t.scopes.iter().map(|s| s.to_string()).collect(),
                    api_type: t.api_type.as_str().into(),
                    input_schema: t.input_schema,
                    output_schema: t.output_schema,
                })
                .collect(),
        }
    }
}

impl connection::Guest for Component {
    fn plan(config: String) -> Result<connection::ConnectionPlan, WitError> {
        let plan = crate::plan(&config)?;
        let auth = match plan.auth {
            crate::AuthPlan::None => connection::AuthPlan::None,
            crate::AuthPlan::Bearer { token_field } => {
                connection::AuthPlan::Bearer(connection::BearerToken {
                    token_field: token_field.into(),
                })
            }
            crate::AuthPlan::OAuth(o) => connection::AuthPlan::Oauth2(connection::Oauth2 {
                grant: match o.grant {
                    crate::config::Grant::ClientCredentials => {
                        connection::GrantType::ClientCredentials
                    }
                    crate::config::Grant::AuthorizationCode => {
                        connection::GrantType::AuthorizationCode
                    }
                },
                token_url: o.token_url,
                authorize_url: o.authorize_url,
                client_id: o.client_id,
                scopes: o.scopes,
                client_secret_field: o.client_secret_field.into(),
            }),
        };
        Ok(connection::ConnectionPlan {
            auth,
            allowed_origins: plan.allowed_origins,
            base_url: plan.base_url,
        })
    }

    fn test(config: String) -> Result<connection::Identity, WitError> {
        let id = crate::test_connection(&HostHttp, &config)?;
        Ok(connection::Identity {
            user_id: id.user_id,
            user_email: id.user_email,
            user_name: id.user_name,
            company_id: id.company_id,
            company_name: id.company_name,
            scopes: id.scopes,
        })
    }
}

impl actions::Guest for Component {
    fn execute(config: String, action: String, input: String) -> Result<String, WitError> {
        Ok(crate::execute_text(&HostHttp, &config, &action, &input)?)
    }
}

impl builder::Guest for Component {
    fn input_schema(
        config: String,
        action: String,
        partial_input: String,
    ) -> Result<builder::ActionSchemas, WitError> {
        let s = crate::input_schema(&HostHttp, &config, &action, &partial_input)?;
        Ok(builder::ActionSchemas {
            input_schema: s.input.to_string(),
            output_schema: s.output.to_string(),
        })
    }

    fn list_options(
        config: String,
        provider: String,
        params: String,
        cursor: Option<String>,
    ) -> Result<builder::ChoicePage, WitError> {
        let page = crate::list_options(&HostHttp, &config, &provider, &params, cursor.as_deref())?;
        Ok(builder::ChoicePage {
            choices: page
                .choices
                .into_iter()
                .map(|c| builder::Choice {
                    value: c.value,
                    label: c.label,
                    description: c.description,
                    parent: c.parent,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }
}

impl triggers::Guest for Component {
    fn poll(
        config: String,
        trigger: String,
        input: String,
        cursor: Option<String>,
    ) -> Result<triggers::PollResult, WitError> {
        let r = crate::poll(&HostHttp, &config, &trigger, &input, cursor.as_deref())?;
        Ok(triggers::PollResult {
            events: r.events.into_iter().map(event).collect(),
            cursor: r.cursor.map(|c| c.to_string()),
            has_more: r.has_more,
        })
    }

    fn subscribe(
        config: String,
        trigger: String,
        input: String,
        target_url: String,
    ) -> Result<String, WitError> {
        Ok(crate::subscribe(&HostHttp, &config, &trigger, &input, &target_url)?.to_string())
    }

    fn unsubscribe(config: String, trigger: String, subscription: String) -> Result<(), WitError> {
        Ok(crate::unsubscribe(
            &HostHttp,
            &config,
            &trigger,
            &subscription,
        )?)
    }

    fn handle_webhook(
        config: String,
        trigger: String,
        input: String,
        subscription: String,
        request: triggers::WebhookRequest,
    ) -> Result<triggers::WebhookResult, WitError> {
        let request = crate::triggers::WebhookRequest {
            headers: request.headers,
            body: request.body,
        };
        let r = crate::handle_webhook(
            &HostHttp,
            &config,
            &trigger,
            &input,
            &subscription,
            &request,
        )?;
        Ok(triggers::WebhookResult {
            events: r.events.into_iter().map(event).collect(),
            subscription: r.subscription.map(|s| s.to_string()),
        })
    }
}

fn event(e: crate::triggers::Event) -> triggers::Event {
    triggers::Event {
        id: e.id,
        payload: e.payload.to_string(),
    }
}
