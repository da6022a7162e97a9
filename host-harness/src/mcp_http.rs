//! `connector-harness mcp-serve --http PORT`: MCP's Streamable HTTP transport over the same
//! [`Server`] stdio uses. One endpoint, `/mcp`: a POSTed request is answered with one JSON
//! body, a notification with 202. The server keeps no session (each request stands alone),
//! never pushes (GET is 405), and answers only loopback origins, as the transport asks of
//! local servers: a web page the user visits cannot drive it through the browser.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use connector_host::mcp::{HANDSHAKE_VERSIONS, MODERN_VERSIONS, Server, rpc_error};

/// Tool arguments carry files as base64.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Serve `server` on `listener` until the process ends.
pub async fn serve(
    server: &'static Server<'static, 'static>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/mcp", post(message).get(no_stream).delete(no_stream))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(server);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Where the endpoint is, for the operator and for MCP clients' configuration.
pub fn endpoint(addr: SocketAddr) -> String {
    format!("http://{addr}/mcp")
}

async fn message(
    State(server): State<&'static Server<'static, 'static>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN)
        && !loopback_origin(origin.to_str().unwrap_or_default())
    {
        return (
            StatusCode::FORBIDDEN,
            "only loopback origins may use this server",
        )
            .into_response();
    }
    if let Some(version) = headers.get("mcp-protocol-version") {
        let version = version.to_str().unwrap_or_default();
        if !HANDSHAKE_VERSIONS.contains(&version) && !MODERN_VERSIONS.contains(&version) {
            let error = rpc_error(
                Value::Null,
                -32022,
                "unsupported protocol version",
                Some(json!({ "requested": version })),
            );
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
    }
    let message: Value = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(e) => {
            let error = rpc_error(Value::Null, -32700, &format!("parse error: {e}"), None);
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
    };
    match server.answer(&message).await {
        Some(reply) => axum::Json(reply).into_response(),
        // A notification, or a response to a request we never make.
        None => StatusCode::ACCEPTED.into_response(),
    }
}

/// This server sends nothing unasked: there is no stream to open, and no session to end.
async fn no_stream() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response()
}

/// `http(s)://127.0.0.1[:port]`, `localhost` or `[::1]`.
fn loopback_origin(origin: &str) -> bool {
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use super::loopback_origin;

    #[test]
    fn only_loopback_origins_pass() {
        for ok in [
            "http://127.0.0.1:8700",
            "http://localhost",
            "http://[::1]:9",
        ] {
            assert!(loopback_origin(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://127.0.0.1.evil.example",
            "null",
            "http://10.0.0.1",
        ] {
            assert!(!loopback_origin(bad), "{bad}");
        }
    }
}
