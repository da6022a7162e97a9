//! Clickwrap's collection paging: 1-based `page` and `per_page`, an envelope
//! `{count, has_more, page, per_page, total_count, data}`, read until `has_more` is false or
//! `max_items` items are collected.

use serde_json::Value;

use super::catalog::PER_PAGE;
use crate::error::ConnectorError;
use crate::pagination::Gathered;

/// Fetch pages with `fetch(page, per_page)` (page from 1) until `max_items` items are collected
/// or the collection ends. Returns `{items, count?, truncated}`; `count` is `total_count`,
/// absent when Clickwrap does not send it (`no_count=true`).
pub fn collect(
    max_items: u64,
    mut fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    // One exact-size page when the caller wants fewer than a full page.
    let per_page = max_items.clamp(1, PER_PAGE);
    let mut gathered = Gathered::new(max_items);
    let mut count = None;
    let mut page = 1;
    let truncated = loop {
        let mut envelope = fetch(page, per_page)?;
        let Some(Value::Array(data)) = envelope.get_mut("data").map(Value::take) else {
            return Err(ConnectorError::internal(
                "a Clickwrap collection answered without a `data` array",
            ));
        };
        count = envelope
            .get("total_count")
            .and_then(crate::integer::as_u64)
            .or(count);
        let has_more = more_after(&envelope, data.len(), per_page);
        if let Some(truncated) = gathered.page(data, has_more) {
            break truncated;
        }
        page += 1;
    };
    Ok(gathered.output(truncated, count))
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
