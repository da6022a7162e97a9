//! Error bodies as Ironclad sends them: the Public API's `{code, message, param?}` and the
//! OAuth server's RFC 6749 `{error, error_description}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::store::properties::PropertyError;

/// A Public API error (`/public/api/v1/**`, `/oauth/userinfo`, `/oauth/company-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
}

/// A refused `{type, value}` property is a 400 naming it.
impl From<PropertyError> for ApiError {
    fn from(err: PropertyError) -> Self {
        if err.missing {
            Self::missing_param(err.message, err.param.as_deref().unwrap_or_default())
        } else {
            Self::invalid_param(err.message, err.param.as_deref().unwrap_or_default())
        }
    }
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, None)
    }

    pub fn invalid_token() -> Self {
        Self::unauthorized("invalid authentication token")
    }

    pub fn expired_token() -> Self {
        Self::unauthorized("token has expired")
    }

    pub fn missing_param(message: impl Into<String>, param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MISSING_PARAM",
            message,
            Some(param),
        )
    }

    pub fn invalid_param(message: impl Into<String>, param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAM",
            message,
            Some(param),
        )
    }

    pub fn missing_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!("token is missing required scope {scope}"),
            Some("scope"),
        )
    }

    pub fn not_found(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message, param)
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NOT_IMPLEMENTED",
            message,
            None,
        )
    }

    /// The value `invalid query value '<v>'; value must be one of [a, b]` Ironclad's query
    /// validation produces, with its `/?name` param.
    pub fn invalid_query_enum(name: &str, value: &str, allowed: &[&str]) -> Self {
        Self::invalid_param(
            format!(
                "invalid query value '{value}'; value must be one of [{}]",
                allowed.join(", ")
            ),
            &format!("/?{name}"),
        )
    }

    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            body.insert("param".into(), json!(param));
        }
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Unknown routes under `/public/api/v1` (reached only after authentication).
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("not found", None)
}

/// Anything outside the emulated hosts' routes.
pub async fn not_found() -> ApiError {
    ApiError::not_found("not found", None)
}

/// An OAuth server error (`/oauth/authorize` direct errors and `/oauth/token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// `Invalid or missing parameters: …`, the authorize/token wording for bad parameters.
    pub fn bad_parameter(detail: &str) -> Self {
        Self::invalid_request(format!("Invalid or missing parameters: {detail}"))
    }

    pub fn invalid_client() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "invalid client")
    }

    pub fn unauthorized_client(description: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "unauthorized_client", description)
    }

    pub fn grant_not_allowed() -> Self {
        Self::unauthorized_client("client not authorized to use this oauth grant type")
    }

    pub fn invalid_grant(description: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "invalid_grant", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let headers = [("cache-control", "no-store"), ("pragma", "no-cache")];
        (
            self.status,
            headers,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response()
    }
}
