//! Clickwrap's pagination strategy: 1-based `page` and `per_page`, an envelope
//! `{count, has_more, page, per_page, total_count, data}`, read until `has_more` is false;
//! `total_count` is the listing's `count`, absent when Clickwrap does not send it
//! (`no_count=true`).

use serde_json::Value;

use super::catalog::PER_PAGE;
use crate::error::ConnectorError;
use crate::pages::{Page, PageStrategy};

/// `page`/`per_page` collections.
pub struct PerPage;

pub static PER_PAGE_PAGES: PerPage = PerPage;

impl PageStrategy for PerPage {
    fn first(&self) -> u64 {
        1
    }

    fn largest_page(&self) -> u64 {
        PER_PAGE
    }

    fn query(&self, at: u64, size: u64) -> [(&'static str, String); 2] {
        [("page", at.to_string()), ("per_page", size.to_string())]
    }

    fn read(&self, mut envelope: Value, page: u64, per_page: u64) -> Result<Page, ConnectorError> {
        let Some(Value::Array(items)) = envelope.get_mut("data").map(Value::take) else {
            return Err(ConnectorError::internal(
                "a Clickwrap collection answered without a `data` array",
            ));
        };
        let has_more = more_after(&envelope, items.len(), per_page);
        Ok(Page {
            total: envelope.get("total_count").and_then(crate::integer::as_u64),
            items,
            more_upstream: has_more,
            next: has_more.then_some(page + 1),
        })
    }
}

/// Does the collection go on after this page? A page shorter than the size the answer
/// states (Clickwrap may cap `per_page`; its maximum is UNCONFIRMED) is the last, whatever
/// `has_more` says; without `has_more` (UNCONFIRMED with `lean`) a full page may have more.
pub fn more_after(envelope: &Value, items: usize, asked: u64) -> bool {
    let size = envelope
        .get("per_page")
        .and_then(crate::integer::as_u64)
        .unwrap_or(asked);
    items as u64 >= size
        && envelope
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Follow a collection with the strategy; `fetch(page, per_page)`.
    fn collect(
        max_items: u64,
        mut fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
    ) -> Result<Value, ConnectorError> {
        crate::pages::collect(&PER_PAGE_PAGES, 1, max_items, |query| {
            fetch(query[0].1.parse().unwrap(), query[1].1.parse().unwrap())
        })
    }

    /// A collection of `total` numbered items; records the pages asked for.
    fn collection(total: u64, max_items: u64, with_count: bool) -> (Value, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let out = collect(max_items, |page, per_page| {
            calls.push((page, per_page));
            let start = (page - 1) * per_page;
            let data: Vec<u64> = (start..(start + per_page).min(total)).collect();
            let mut env = json!({ "data": data, "page": page, "per_page": per_page,
                                  "count": data.len(), "has_more": start + per_page < total });
            if with_count {
                env["total_count"] = json!(total);
            }
            Ok(env)
        })
        .unwrap();
        (out, calls)
    }

    #[test]
    fn follows_has_more_from_page_one() {
        let (out, calls) = collection(250, 1000, true);
        assert_eq!(calls, vec![(1, 100), (2, 100), (3, 100)]);
        assert_eq!(out["items"].as_array().unwrap().len(), 250);
        assert_eq!(
            (out["count"].clone(), out["truncated"].clone()),
            (json!(250), json!(false))
        );
    }

    #[test]
    fn an_exact_multiple_stops_on_has_more() {
        let (_, calls) = collection(200, 1000, true);
        assert_eq!(calls.len(), 2);
    }

    #[test]
    fn max_items_truncates_with_small_pages() {
        let (out, calls) = collection(45, 5, false);
        assert_eq!(calls, vec![(1, 5)]);
        assert_eq!(out["items"], json!([0, 1, 2, 3, 4]));
        assert_eq!(out["truncated"], true);
        assert!(out.get("count").is_none(), "no_count: no count");
        let (out, _) = collection(5, 5, true);
        assert_eq!(out["truncated"], false);
    }

    #[test]
    fn a_short_page_ends_the_listing_and_a_capped_page_size_does_not() {
        let mut calls = 0;
        let out = collect(300, |_, _| {
            calls += 1;
            Ok(json!({ "data": [{"id": calls}], "per_page": 100, "has_more": true }))
        })
        .unwrap();
        assert_eq!((calls, out["truncated"].clone()), (1, json!(false)));
        // The server serves 50 a page although 100 were asked: still followed to the end.
        let mut pages = Vec::new();
        let out = collect(1000, |page, _| {
            pages.push(page);
            let data: Vec<u64> = (0..50).collect();
            Ok(json!({ "data": data, "per_page": 50, "has_more": page < 3 }))
        })
        .unwrap();
        assert_eq!(pages, [1, 2, 3]);
        assert_eq!(out["items"].as_array().unwrap().len(), 150);
    }

    #[test]
    fn an_envelope_without_data_is_an_error() {
        let err = collect(10, |_, _| Ok(json!({ "items": [] }))).unwrap_err();
        assert_eq!(err.kind(), "internal");
    }
}
