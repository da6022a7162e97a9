//! One executor for every catalog operation: validate the input against the operation's
//! schema, build the request from the row (path, query, headers, JSON body), send it through
//! the host, and shape the answer into the output object.

use serde_json::{Map, Value, json};

use crate::catalog::{Body, Operation, Pagination, Param, ParamIn, ParamStyle, Response};
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component, encode_path_segment};
use crate::{pagination, schema, upstream};

pub fn execute(
    client: &dyn HttpClient,
    conn: &Connection,
    op: &Operation,
    input: &Value,
) -> Result<Value, ConnectorError> {
    let input_schema: Value = serde_json::from_str(op.input_schema).map_err(|e| {
        ConnectorError::internal(format!("catalog schema of {} is invalid: {e}", op.key))
    })?;
    schema::validate(&input_schema, input)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    let input = input.as_object().expect("the schema requires an object");
    let call = Call::new(conn, op, input)?;
    match op.pagination {
        Pagination::None => call.single(client),
        Pagination::PageSize { has_count } => {
            let max_items = max_items(&input_schema, input);
            pagination::collect(has_count, max_items, |page, page_size| {
                let response = call.send(
                    client,
                    &[
                        ("page", page.to_string()),
                        ("pageSize", page_size.to_string()),
                    ],
                )?;
                upstream::json(&response, op.key)
            })
        }
    }
}

/// `max_items` from the input, else the schema default.
fn max_items(input_schema: &Value, input: &Map<String, Value>) -> u64 {
    input
        .get("max_items")
        .or_else(|| input_schema.pointer("/properties/max_items/default"))
        .and_then(Value::as_u64)
        .unwrap_or(pagination::PAGE_SIZE)
}

/// A request prepared from an operation row and a validated input, sendable several times
/// (pages) with extra query pairs.
struct Call<'a> {
    op: &'a Operation,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<&'a Value>,
}

impl<'a> Call<'a> {
    fn new(
        conn: &Connection,
        op: &'a Operation,
        input: &'a Map<String, Value>,
    ) -> Result<Self, ConnectorError> {
        let mut path = op.path.to_string();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        for param in op.params {
            let Some(value) = param_value(param, input)? else {
                continue;
            };
            match param.location {
                ParamIn::Path => {
                    path =
                        path.replace(&format!("{{{}}}", param.name), &encode_path_segment(&value));
                }
                ParamIn::Query => query.push((param.name.to_string(), value)),
                ParamIn::Header => headers.push((param.name.to_string(), value)),
            }
        }
        if let Some(imp) = &conn.impersonation {
            let (name, value) = imp.header();
            headers.push((name.to_string(), value.to_string()));
        }
        let body = match op.body {
            Body::None => None,
            Body::Json { .. } => input.get("body"),
        };
        Ok(Call {
            op,
            url: format!("{}{path}", conn.public_api_base()),
            query,
            headers,
            body,
        })
    }

    fn send(
        &self,
        client: &dyn HttpClient,
        extra_query: &[(&str, String)],
    ) -> Result<crate::http::Response, ConnectorError> {
        let pairs = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra_query.iter().map(|(k, v)| (*k, v.as_str())));
        let query: Vec<String> = pairs
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        let url = if query.is_empty() {
            self.url.clone()
        } else {
            format!("{}?{}", self.url, query.join("&"))
        };
        let mut request =
            Request::new(method(self.op.method), url).header("accept", "application/json");
        request.headers.extend(self.headers.iter().cloned());
        if let Some(body) = self.body {
            request = request.json_body(body);
        }
        upstream::send_ok(client, request, self.op.scopes)
    }

    fn single(&self, client: &dyn HttpClient) -> Result<Value, ConnectorError> {
        let response = self.send(client, &[])?;
        let body = upstream::json(&response, self.op.key)?;
        match (self.op.response, body) {
            (_, Value::Object(obj)) => Ok(Value::Object(obj)),
            (Response::Empty, Value::Null) => Ok(json!({ "status": response.status })),
            (_, value) => Ok(json!({ "result": value })),
        }
    }
}

/// The text to send for a parameter, or None when absent and optional.
fn param_value(
    param: &Param,
    input: &Map<String, Value>,
) -> Result<Option<String>, ConnectorError> {
    let Some(value) = input.get(param.name) else {
        return Ok(param.default.filter(|_| param.required).map(str::to_string));
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(ConnectorError::input(
            format!("/{}", param.name),
            format!("must be a scalar, got {other}"),
        )),
    };
    let text = match (param.style, value) {
        (ParamStyle::CommaList, Value::Array(items)) => items
            .iter()
            .map(scalar)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        (_, v) => scalar(v)?,
    };
    Ok(Some(text))
}

fn method(m: crate::catalog::Method) -> Method {
    match m {
        crate::catalog::Method::Get => Method::GET,
        crate::catalog::Method::Post => Method::POST,
        crate::catalog::Method::Put => Method::PUT,
        crate::catalog::Method::Patch => Method::PATCH,
        crate::catalog::Method::Delete => Method::DELETE,
    }
}
