//! Request reading every Public API area shares: JSON object bodies and their fields, the list
//! `filter` formula, enum query parameters and sort keys, each refusal an Ironclad 400.

use std::cmp::Ordering;

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::filter::Filter;
use crate::store::time;

/// `sortDirection` values.
pub const SORT_DIRECTIONS: [&str; 2] = ["ASC", "DESC"];

/// A JSON object body; an empty body counts as `{}`.
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        )),
    }
}

/// 400 naming the first key not in `allowed` (`additionalProperties: false`).
pub fn reject_unknown(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(ApiError::invalid_param(
            format!(
                "unknown parameter '{unknown}'; expected one of [{}]",
                allowed.join(", ")
            ),
            unknown,
        )),
    }
}

pub fn optional_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be a string"),
            key,
        )),
    }
}

pub fn required_string(body: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    optional_string(body, key)?
        .ok_or_else(|| ApiError::missing_param("missing required parameter", key))
}

pub fn non_empty(value: String, param: &str) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        Err(ApiError::invalid_param(
            format!("{param} must not be empty"),
            param,
        ))
    } else {
        Ok(value)
    }
}

pub fn optional_object<'a>(
    body: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be an object"),
            key,
        )),
    }
}

/// An optional array of strings.
/// An optional boolean body field (absent or null = false).
pub fn flag(body: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be a boolean"),
            key,
        )),
    }
}

pub fn string_list(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_param(format!("{key} must be an array of strings"), key)
            }),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be an array of strings"),
            key,
        )),
    }
}

/// The list `filter` formula, 400 `param: filter` when it does not parse.
pub fn parse_filter(params: &Params) -> Result<Option<Filter>, ApiError> {
    match params.get("filter").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => Filter::parse(raw)
            .map(Some)
            .map_err(|why| ApiError::invalid_param(format!("invalid filter: {why}"), "filter")),
    }
}

pub fn parse_since(params: &Params) -> Result<Option<i64>, ApiError> {
    match params.get("lastUpdated").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => time::parse(raw).map(Some).ok_or_else(|| {
            ApiError::invalid_param(
                format!("invalid query value '{raw}'; value must be an ISO-8601 UTC date"),
                "lastUpdated",
            )
        }),
    }
}

/// An enum query parameter (`sortField`, `sortDirection`), `default` when absent.
pub fn enum_param<'a>(
    params: &'a Params,
    name: &str,
    allowed: &[&'a str],
    default: &'a str,
) -> Result<&'a str, ApiError> {
    match params.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => allowed
            .iter()
            .find(|a| **a == v)
            .copied()
            .ok_or_else(|| ApiError::invalid_query_enum(name, v, allowed)),
    }
}

/// A sort key; absent values sort last in either direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Text(String),
    Time(i64),
    Missing,
}

impl SortKey {
    pub fn from_time(text: Option<&str>) -> Self {
        text.and_then(time::parse)
            .map(SortKey::Time)
            .unwrap_or(SortKey::Missing)
    }
}

pub fn sort_order(a: &SortKey, b: &SortKey, descending: bool) -> Ordering {
    match (a, b) {
        (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
        (SortKey::Missing, _) => Ordering::Greater,
        (_, SortKey::Missing) => Ordering::Less,
        _ if descending => b.cmp(a),
        _ => a.cmp(b),
    }
}
