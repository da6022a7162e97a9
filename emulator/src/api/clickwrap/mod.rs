//! Ironclad Clickwrap (formerly PactSafe), emulated on the same server as CLM.
//!
//! Clickwrap lives on other hosts (`api.pactsafe.com` for REST, `pactsafe.io` for the
//! Activity API); here both share the emulator's origin, at the paths the real hosts use, none
//! of which CLM uses:
//! - Every API key has one access token, shown when the key is registered (seeded, see
//!   `store::clickwrap::Fixture`) and accepted by the REST API as it is. `POST /oauth/token` with the key's
//!   client id and secret issues a new one and revokes the one before, as Clickwrap's
//!   "Create/Regenerate Access Token" is feared to (`infra::oauth` hands such requests to
//!   `infra::clickwrap_keys`). The tokens never work on CLM routes, nor CLM tokens here.
//! - `/v1.1/**` ([`rest`]): the REST API; every request needs a Clickwrap token, and a token
//!   acts with its user's site permissions (`read`, `create`, `update`, `publish`).
//! - `/send`, `/latest`, `/retrieve`, `/published` ([`activity`]): the Activity API, keyed by
//!   the Site Access ID `sid`. An unknown or missing `sid` answers 401 by default; Clickwrap's
//!   answer is UNCONFIRMED, so [`controls`] can switch to the other reading: a 2xx with
//!   nothing recorded (`/send` an empty body, the reads `{}`).
//!
//! Errors have Clickwrap's shape `{"error": {message, status, name, code}}`; collections its
//! envelope `{count, has_more, page, per_page, total_count, data}` and `filter` language.
//! An acceptance sent to `/send` is answered by `/latest` and `/retrieve` and listed by REST
//! `/activity`; state starts from `store::clickwrap::seed` and is reset with the rest of the emulator.

mod activity;
mod controls;
mod rest;

use std::borrow::Borrow;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::emulator::Emulator;

/// Routes served without a CLM token: the Clickwrap REST API (its own bearer check), the
/// Activity API and the emulator's Clickwrap controls.
pub fn routes() -> Router<Emulator> {
    rest::routes()
        .merge(activity::routes())
        .merge(controls::routes())
}

/// A Clickwrap error answer.
#[derive(Debug)]
pub struct CwError {
    status: StatusCode,
    name: &'static str,
    message: String,
}

impl CwError {
    fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            name,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestError", message)
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
    }

    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "ForbiddenError", message)
    }

    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            format!("{what} not found"),
        )
    }
}

impl IntoResponse for CwError {
    fn into_response(self) -> Response {
        let status = self.status.as_u16();
        (
            self.status,
            axum::Json(
                json!({ "error": { "message": self.message, "status": status,
                                          "name": self.name, "code": status } }),
            ),
        )
            .into_response()
    }
}

/// Query parameters, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        Self(crate::infra::query::parse_pairs(raw.unwrap_or_default()))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    fn int(&self, name: &str, default: i64, max: i64) -> Result<i64, CwError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    CwError::bad_request(format!("`{name}` must be an integer from 1 to {max}"))
                }),
        }
    }
}

/// One page of `items` after `filter`, in Clickwrap's collection envelope. `per_page`
/// defaults to 10 and is at most 100 here (Clickwrap documents neither: UNCONFIRMED). Items
/// may be borrowed: only the page is copied (a backlog test lists 20,000 activities).
fn collection<T: Borrow<Value>>(items: Vec<T>, query: &Query) -> Result<Value, CwError> {
    let items = match query.get("filter") {
        Some(filter) => {
            let terms = parse_filter(filter)?;
            items
                .into_iter()
                .filter(|item| terms.iter().all(|t| t.matches(item.borrow())))
                .collect()
        }
        None => items,
    };
    let page = query.int("page", 1, i64::MAX)? as usize;
    let per_page = query.int("per_page", 10, 100)? as usize;
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    let data: Vec<&Value> = items[start..end].iter().map(Borrow::borrow).collect();
    let mut envelope = json!({ "count": data.len(), "has_more": end < items.len(),
                               "page": page, "per_page": per_page, "data": data });
    if !query.flag("no_count") {
        envelope["total_count"] = json!(items.len());
    }
    Ok(envelope)
}

/// One `field <op> value` term of a filter.
struct Term {
    field: String,
    op: &'static str,
    value: String,
}

/// `field==value and other>=value …`.
fn parse_filter(filter: &str) -> Result<Vec<Term>, CwError> {
    filter
        .split(" and ")
        .map(|term| {
            let term = term.trim();
            ["==", "!=", ">=", "<=", ">", "<"]
                .into_iter()
                .find_map(|op| {
                    term.split_once(op).map(|(f, v)| Term {
                        field: f.trim().to_string(),
                        op,
                        value: v.trim().to_string(),
                    })
                })
                .filter(|t| !t.field.is_empty())
                .ok_or_else(|| CwError::bad_request(format!("invalid filter term `{term}`")))
        })
        .collect()
}

impl Term {
    fn matches(&self, item: &Value) -> bool {
        let Some(actual) = item.get(&self.field) else {
            return false;
        };
        let ordering = match actual {
            Value::Number(n) => self
                .value
                .parse::<f64>()
                .ok()
                .and_then(|v| n.as_f64()?.partial_cmp(&v)),
            Value::Bool(b) => Some(b.to_string().cmp(&self.value)),
            Value::String(s) => match (
                crate::store::time::parse(s),
                crate::store::time::parse(&self.value),
            ) {
                (Some(a), Some(b)) if self.field.ends_with("_time") => Some(a.cmp(&b)),
                _ => Some(s.as_str().cmp(self.value.as_str())),
            },
            _ => None,
        };
        let Some(o) = ordering else {
            return false;
        };
        match self.op {
            "==" => o.is_eq(),
            "!=" => o.is_ne(),
            ">=" => o.is_ge(),
            "<=" => o.is_le(),
            ">" => o.is_gt(),
            _ => o.is_lt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compare_numbers_times_and_text() {
        let item =
            json!({"event_type": "agreed", "site": 3, "created_time": "2026-01-02T00:00:00.000Z"});
        let ok = |f: &str| parse_filter(f).unwrap().iter().all(|t| t.matches(&item));
        assert!(ok("event_type==agreed and site==3"));
        assert!(ok(
            "created_time>=2026-01-01 and created_time<2026-01-02T00:00:01Z"
        ));
        assert!(!ok("event_type==displayed"));
        assert!(!ok("missing==1"));
        assert!(parse_filter("nonsense").is_err());
    }

    #[test]
    fn collections_page_from_one() {
        let items: Vec<Value> = (0..25).map(|i| json!({ "id": i })).collect();
        let page = collection(items.clone(), &Query::parse(Some("page=3&per_page=10"))).unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), 5);
        assert_eq!(
            (page["has_more"].clone(), page["total_count"].clone()),
            (json!(false), json!(25))
        );
        let lean = collection(items, &Query::parse(Some("no_count=true"))).unwrap();
        assert!(lean.get("total_count").is_none());
        assert_eq!(lean["has_more"], true);
    }
}
