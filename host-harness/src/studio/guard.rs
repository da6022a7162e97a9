//! Who may use the studio. It acts with a connection's credentials for whoever reaches it, so:
//!
//! - it listens on 127.0.0.1 only (see [`super::Studio::start`]);
//! - every request must name it by its own `Host` (`127.0.0.1:PORT` or `localhost:PORT`): a
//!   page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name;
//! - a request from a browser page must come from the studio's own origin;
//! - the API and the page need the per-run token: `X-Studio-Token` on `/api`, `?token=` on
//!   the page. A custom header cannot be sent cross-origin without a preflight the studio
//!   never grants, and the token is in no page another site can read.
//!
//! `/hooks/*` takes no token (the API provider posts there); deliveries are verified by the
//! connector's signature check instead.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::State as Studio;

/// The header that carries the token on `/api` requests.
pub const TOKEN_HEADER: &str = "x-studio-token";

pub async fn check(
    State(studio): State<&'static Studio>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let port = studio.addr.port();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if host != format!("127.0.0.1:{port}") && host != format!("localhost:{port}") {
        return refuse(
            StatusCode::FORBIDDEN,
            "unknown Host: open the studio at the address it printed",
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && origin != format!("http://{host}")
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "requests from other sites are refused",
        );
    }
    let path = request.uri().path();
    let token = if path.starts_with("/api/") {
        header_token(headers)
    } else if path == "/" {
        query_token(request.uri().query().unwrap_or_default())
    } else {
        // The bundle and the webhook receiver hold nothing a token would protect.
        return next.run(request).await;
    };
    if !token.is_some_and(|t| same(t.as_bytes(), studio.token.as_bytes())) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong studio token: open the URL `connector-harness studio` printed",
        );
    }
    next.run(request).await
}

fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(TOKEN_HEADER)?.to_str().ok()
}

fn query_token(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

/// Equal in time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_its_own_query_parameter_only() {
        assert_eq!(query_token("token=abc"), Some("abc"));
        assert_eq!(query_token("x=1&token=abc"), Some("abc"));
        assert_eq!(query_token("mytoken=abc"), None);
        assert_eq!(query_token(""), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
