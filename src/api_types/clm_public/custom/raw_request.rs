//! `raw_request`: any call under the public API base that the catalog does not cover yet,
//! still through the host's auth, impersonation, egress policy and error mapping.

use serde_json::{Map, Value, json};

use super::super::api;
use super::CustomAction;
use crate::config::Connection;
use crate::error::{ConnectorError, excerpt};
use crate::http::{HttpClient, Method, encode_component};
use crate::upstream;

pub const ACTION: CustomAction = CustomAction {
    key: "raw_request",
    title: "Raw API request",
    description: "Send a request to any path under the CLM Public API base (/public/api/v1). \
                  Authentication, the acting user and error handling are applied as for every action.",
    group: "Advanced",
    scopes: &[],
    read_only: false,
    destructive: true,
    idempotent: false,
    input_schema,
    output_schema,
    run,
};

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["method", "path"],
        "properties": {
            "method": { "type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"] },
            "path": {
                "type": "string", "minLength": 2,
                "description": "Path under /public/api/v1, e.g. /workflows/IC-12/comments. Query goes in `query`."
            },
            "query": {
                "type": "object",
                "description": "Query parameters; arrays are sent comma-separated as Ironclad expects.",
                "additionalProperties": { "type": ["string", "number", "boolean", "array"] }
            },
            "body": { "description": "JSON request body (POST, PUT, PATCH)." }
        }
    })
}

fn output_schema() -> Value {
    json!({
        "type": "object",
        "required": ["status", "body"],
        "properties": {
            "status": { "type": "integer" },
            "content_type": { "type": ["string", "null"] },
            "body": { "description": "The JSON body, or the text when it is not JSON; null when empty." }
        }
    })
}

fn run(client: &dyn HttpClient, conn: &Connection, input: &Value) -> Result<Value, ConnectorError> {
    let method = match input["method"].as_str().unwrap_or_default() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        _ => Method::DELETE,
    };
    let path = checked_path(input["path"].as_str().unwrap_or_default())?;
    let query = query_string(input.get("query").and_then(Value::as_object))?;
    let mut request = api::request(conn, method, &format!("{path}{query}"));
    if let Some(body) = input.get("body") {
        request = request.json_body(body);
    }
    let response = upstream::send_ok(client, request, &[])?;
    let body = match serde_json::from_slice::<Value>(&response.body) {
        _ if response.body.is_empty() => Value::Null,
        Ok(json) => json,
        Err(_) => Value::String(String::from_utf8_lossy(&response.body).into_owned()),
    };
    Ok(json!({
        "status": response.status,
        "content_type": response.header("content-type"),
        "body": body,
    }))
}

/// The path must stay under the API base: absolute, no traversal (also percent-encoded), no
/// query, fragment, scheme or backslash.
fn checked_path(path: &str) -> Result<&str, ConnectorError> {
    let bad = |why: &str| ConnectorError::input("/path", format!("`{}` {why}", excerpt(path)));
    if !path.starts_with('/') {
        return Err(bad("must start with `/`, e.g. /workflows"));
    }
    if path.contains(['?', '#', '\\']) || path.contains("://") {
        return Err(bad("must be a plain path; put query parameters in `query`"));
    }
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c"].iter().any(|enc| lower.contains(enc)) {
        return Err(bad("must not encode `.`, `/` or `\\`"));
    }
    let segments: Vec<&str> = path[1..].trim_end_matches('/').split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(bad("must not contain empty, `.` or `..` segments"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~%:@!$&'()*+,;=/".contains(c);
    if !path.chars().all(allowed) {
        return Err(bad("contains characters that must be percent-encoded"));
    }
    Ok(path)
}

fn query_string(query: Option<&Map<String, Value>>) -> Result<String, ConnectorError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(String::new());
    };
    let scalar = |k: &str, v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ConnectorError::input(
            format!("/query/{k}"),
            "arrays may hold only scalars",
        )),
    };
    // Sorted by name: serde_json's map order depends on crate features, the URL must not.
    let mut names: Vec<&String> = query.keys().collect();
    names.sort();
    let mut pairs = Vec::new();
    for (k, v) in names.into_iter().map(|k| (k, &query[k])) {
        let text = match v {
            Value::Array(items) => items
                .iter()
                .map(|i| scalar(k, i))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => scalar(k, other)?,
        };
        pairs.push(format!(
            "{}={}",
            encode_component(k),
            encode_component(&text)
        ));
    }
    Ok(format!("?{}", pairs.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_base() {
        for ok in [
            "/workflows",
            "/workflows/IC-1/comments",
            "/roles/Legal%20Approver/",
            "/records/metadata",
        ] {
            assert!(checked_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "workflows",
            "/../oauth/token",
            "/a/./b",
            "//evil.example/x",
            "/a%2F..%2Fb",
            "/a%2e%2e/b",
            "/x?y=1",
            "https://x/y",
            "/a b",
            "/a\\b",
        ] {
            assert!(checked_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_joins_arrays_with_commas() {
        let q = serde_json::json!({"status": ["active", "paused"], "pageSize": 5, "hydrateEntities": true});
        assert_eq!(
            query_string(q.as_object()).unwrap(),
            "?hydrateEntities=true&pageSize=5&status=active%2Cpaused"
        );
        assert_eq!(query_string(None).unwrap(), "");
    }
}
