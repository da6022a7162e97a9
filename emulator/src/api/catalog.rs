//! What the catalog areas' handlers share (entities, obligations: `store::catalog`): the
//! listing (paged, filtered, sorted by `name` or `lastUpdated`) and the "exactly one known type
//! key" rule. Each area keeps its routes, rendering and filter lookups.

use axum::Json;
use serde_json::Value;

use crate::api::body::{SORT_DIRECTIONS, SortKey, enum_param, parse_filter, sort_order};
use crate::api::pagination::PageRequest;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::catalog::Item;
use crate::store::filter::Filter;

const SORT_FIELDS: [&str; 2] = ["name", "lastUpdated"];

/// A list request's paging, filter and order, read before the data is locked.
pub struct ListQuery {
    page: PageRequest,
    filter: Option<Filter>,
    /// Sorted by `lastUpdated`, else by `name`.
    by_last_updated: bool,
    descending: bool,
}

impl ListQuery {
    pub fn parse(params: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            page: PageRequest::from_params(params)?,
            filter: parse_filter(params)?,
            by_last_updated: enum_param(params, "sortField", &SORT_FIELDS, "name")?
                == "lastUpdated",
            descending: enum_param(params, "sortDirection", &SORT_DIRECTIONS, "DESC")? == "DESC",
        })
    }

    /// The page of `items`, each rendered; a filter's `[property]` is read by `lookup` (given
    /// the item and its rendering). Ties are broken by id, so pages are stable.
    pub fn answer<T: Item>(
        &self,
        items: &[T],
        render: impl Fn(&T) -> Value,
        lookup: impl Fn(&T, &Value, &str) -> Option<Value>,
    ) -> Json<Value> {
        let mut found: Vec<(&T, Value)> = items
            .iter()
            .map(|item| (item, render(item)))
            .filter(|(item, v)| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&|p| lookup(item, v, p)))
            })
            .collect();
        let key = |item: &T| {
            if self.by_last_updated {
                SortKey::from_time(Some(item.last_updated()))
            } else {
                SortKey::Text(item.name().to_lowercase())
            }
        };
        found.sort_by(|(a, _), (b, _)| {
            sort_order(&key(a), &key(b), self.descending).then_with(|| a.id().cmp(b.id()))
        });
        Json(
            self.page
                .envelope(found.into_iter().map(|(_, v)| v).collect()),
        )
    }
}

/// `{param}` (`relationshipTypeKey`, `obligationTypeKey`): an array of exactly one key that
/// `known` accepts; `noun` names the type in errors (`relationship type`).
pub fn one_type_key(
    value: &Value,
    param: &str,
    noun: &str,
    known: impl Fn(&str) -> bool,
) -> Result<String, ApiError> {
    let keys = match value {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    match keys.as_deref() {
        Some([key]) => known(key)
            .then(|| key.clone())
            .ok_or_else(|| ApiError::invalid_param(format!("unknown {noun} {key}"), param)),
        _ => Err(ApiError::invalid_param(
            format!("{param} must be an array with exactly one {noun} key"),
            param,
        )),
    }
}
