//! Requests to the CLM Public API outside the generated catalog (triggers, composed actions):
//! the same base URL, acting-user header and error mapping as catalog operations.

use serde_json::Value;

use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component};
use crate::upstream;

/// A request to `path` (starting with `/`, query included) under the Public API base.
pub fn request(conn: &Connection, method: Method, path: &str) -> Request {
    let mut request = Request::new(method, format!("{}{path}", conn.public_api_base()))
        .header("accept", "application/json");
    if let Some(imp) = &conn.impersonation {
        let (name, value) = imp.header();
        request = request.header(name, value);
    }
    request
}

/// `?a=1&b=x%20y` from pairs (values percent-encoded); empty without pairs.
pub fn query(pairs: &[(&str, String)]) -> String {
    let joined: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    if joined.is_empty() {
        String::new()
    } else {
        format!("?{}", joined.join("&"))
    }
}

/// GET a JSON document; non-2xx answers become typed errors naming `scopes` on 403.
pub fn get_json(
    client: &dyn HttpClient,
    conn: &Connection,
    path: &str,
    scopes: &[&str],
) -> Result<Value, ConnectorError> {
    let response = upstream::send_ok(client, request(conn, Method::GET, path), scopes)?;
    upstream::json(&response, path)
}

/// Send an optional JSON body; the JSON answer (`Null` for an empty 2xx body).
pub fn send_json(
    client: &dyn HttpClient,
    conn: &Connection,
    method: Method,
    path: &str,
    body: Option<&Value>,
    scopes: &[&str],
) -> Result<Value, ConnectorError> {
    let mut req = request(conn, method, path);
    if let Some(body) = body {
        req = req.json_body(body);
    }
    let response = upstream::send_ok(client, req, scopes)?;
    upstream::json(&response, path)
}
