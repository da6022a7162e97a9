//! SCIM's pagination strategy (RFC 7644 §3.4.2.4): one-based `startIndex`, `count` per page
//! (Ironclad's maximum is 1000), and a `ListResponse` envelope with `totalResults` and
//! `Resources`. A collected listing reports `totalResults` as its `count`.

use serde_json::Value;

use crate::error::ConnectorError;
use crate::pages::{Page, PageStrategy};

/// Ironclad's largest SCIM page (`count` maximum in the spec).
pub const MAX_COUNT: u64 = 1000;

/// `startIndex`/`count` listings.
pub struct StartIndex;

pub static START_INDEX: StartIndex = StartIndex;

impl PageStrategy for StartIndex {
    fn first(&self) -> u64 {
        1
    }

    fn largest_page(&self) -> u64 {
        MAX_COUNT
    }

    fn query(&self, at: u64, size: u64) -> [(&'static str, String); 2] {
        [("startIndex", at.to_string()), ("count", size.to_string())]
    }

    /// A SCIM server may return fewer resources than `count` asked for without the listing
    /// being over (§3.4.2.4), so the next page starts after what actually came back, and the
    /// end is `totalResults` reached — or, should an answer lack `totalResults`, an empty or
    /// short page.
    fn read(&self, mut envelope: Value, start: u64, count: u64) -> Result<Page, ConnectorError> {
        // `Resources` may be omitted when there are none (RFC 7644 §3.4.2: "MAY be omitted"
        // when totalResults is 0).
        let items = match envelope.get_mut("Resources").map(Value::take) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(ConnectorError::internal(
                    "a SCIM list response had a `Resources` that is not an array",
                ));
            }
        };
        let total = envelope
            .get("totalResults")
            .and_then(crate::integer::as_u64);
        let fetched = items.len() as u64;
        let seen = start - 1 + fetched;
        let more_upstream = match total {
            Some(total) => seen < total && fetched > 0,
            None => fetched == count,
        };
        Ok(Page {
            items,
            total,
            more_upstream,
            next: Some(start + fetched),
        })
    }

    /// `totalResults`, or what was collected when no answer had it.
    fn count(&self, total: Option<u64>, collected: u64) -> Option<u64> {
        Some(total.unwrap_or(collected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(startIndex, count)` of a request.
    fn asked(query: &[(&str, String)]) -> (u64, u64) {
        (query[0].1.parse().unwrap(), query[1].1.parse().unwrap())
    }

    fn collect_from(
        first: u64,
        max_items: u64,
        mut fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
    ) -> Result<Value, ConnectorError> {
        crate::pages::collect(&START_INDEX, first, max_items, |query| {
            let (start, count) = asked(query);
            fetch(start, count)
        })
    }

    fn collect(
        max_items: u64,
        fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
    ) -> Result<Value, ConnectorError> {
        collect_from(1, max_items, fetch)
    }

    /// A listing of `total` numbered resources that returns at most `server_max` per page;
    /// records the `(startIndex, count)` pairs asked for.
    fn listing(total: u64, server_max: u64, max_items: u64) -> (Value, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let out = collect(max_items, |start, count| {
            calls.push((start, count));
            let first = start - 1;
            let last = (first + count.min(server_max)).min(total);
            let resources: Vec<u64> = (first..last).collect();
            Ok(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": total, "startIndex": start,
                "itemsPerPage": resources.len(), "Resources": resources
            }))
        })
        .unwrap();
        (out, calls)
    }

    #[test]
    fn follows_pages_by_start_index() {
        let (out, calls) = listing(2500, 1000, 5000);
        assert_eq!(calls, vec![(1, 1000), (1001, 1000), (2001, 1000)]);
        assert_eq!(out["items"].as_array().unwrap().len(), 2500);
        assert_eq!(out["items"][2499], 2499);
        assert_eq!(
            (out["count"].clone(), out["truncated"].clone()),
            (json!(2500), json!(false))
        );
    }

    #[test]
    fn short_pages_from_the_server_do_not_end_the_listing() {
        let (out, calls) = listing(60, 25, 1000);
        assert_eq!(calls, vec![(1, 1000), (26, 1000), (51, 1000)]);
        assert_eq!(out["items"].as_array().unwrap().len(), 60);
        assert_eq!(out["truncated"], false);
    }

    #[test]
    fn max_items_limits_the_page_and_truncates() {
        let (out, calls) = listing(45, 1000, 5);
        assert_eq!(calls, vec![(1, 5)]);
        assert_eq!(out["items"], json!([0, 1, 2, 3, 4]));
        assert_eq!(out["truncated"], true);
        let (out, calls) = listing(5, 1000, 5);
        assert_eq!((calls.len(), out["truncated"].clone()), (1, json!(false)));
    }

    #[test]
    fn a_window_starts_where_asked_and_fills_across_short_pages() {
        let mut calls = Vec::new();
        let out = collect_from(101, 100, |start, count| {
            calls.push((start, count));
            let first = start - 1;
            let resources: Vec<u64> = (first..(first + count.min(60)).min(230)).collect();
            Ok(json!({ "totalResults": 230, "Resources": resources }))
        })
        .unwrap();
        assert_eq!(calls, vec![(101, 100), (161, 100)]);
        let items = out["items"].as_array().unwrap();
        assert_eq!((items.len(), &items[0]), (100, &json!(100)));
        assert_eq!(out["truncated"], true, "30 more follow");
    }

    #[test]
    fn empty_listing_without_resources() {
        let mut calls = 0;
        let out = collect(10, |_, _| {
            calls += 1;
            Ok(json!({"totalResults": 0, "itemsPerPage": 0, "startIndex": 1}))
        })
        .unwrap();
        assert_eq!(calls, 1);
        assert_eq!(out, json!({"items": [], "count": 0, "truncated": false}));
        let err = collect(10, |_, _| Ok(json!({"Resources": {}}))).unwrap_err();
        assert_eq!(err.kind(), "internal");
    }
}
