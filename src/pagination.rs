//! Ironclad's page/pageSize pagination, followed until `max_items` or the end, with as few
//! requests as possible.

use serde_json::{Value, json};

use crate::error::ConnectorError;

/// Ironclad's largest page.
pub const PAGE_SIZE: u64 = 100;

/// Fetch pages (zero-based) with `fetch(page, page_size)` until `max_items` items are
/// collected or the listing ends. Returns `{items, count?, truncated}`.
///
/// The listing ends when a page is empty, shorter than asked, or — when the envelope has a
/// `count` — when everything counted has been seen, so a listing of 250 takes 3 requests, not 4.
pub fn collect(
    has_count: bool,
    max_items: u64,
    mut fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    // One exact-size page when the caller wants fewer than a full page.
    let page_size = max_items.clamp(1, PAGE_SIZE);
    let mut gathered = Gathered::new(max_items);
    let mut count = None;
    let mut page = 0;
    let truncated = loop {
        let envelope = fetch(page, page_size)?;
        let list = envelope
            .get("list")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ConnectorError::internal("a paged Ironclad response had no `list` array")
            })?;
        if has_count {
            count = envelope.get("count").and_then(Value::as_u64);
        }
        let fetched = list.len() as u64;
        let seen = page * page_size + fetched;
        let more_upstream = match count {
            Some(total) => seen < total,
            None => fetched == page_size,
        };
        if let Some(truncated) = gathered.page(list, more_upstream) {
            break truncated;
        }
        if fetched < page_size {
            break false;
        }
        page += 1;
    };
    Ok(gathered.output(truncated, count))
}

/// Items collected page by page up to `max_items`: the part every API's paging shares.
pub struct Gathered {
    items: Vec<Value>,
    max_items: u64,
}

impl Gathered {
    pub fn new(max_items: u64) -> Self {
        Gathered {
            items: Vec::new(),
            max_items,
        }
    }

    /// Take what fits of one page. `Some(truncated)` when the listing is done: `max_items`
    /// reached (truncated if more exists), or the page was empty or the last upstream.
    pub fn page(&mut self, list: &[Value], more_upstream: bool) -> Option<bool> {
        let room = (self.max_items - self.items.len() as u64) as usize;
        self.items.extend(list.iter().take(room).cloned());
        if self.items.len() as u64 >= self.max_items {
            return Some(more_upstream || list.len() > room);
        }
        (list.is_empty() || !more_upstream).then_some(false)
    }

    /// `{items, count?, truncated}`.
    pub fn output(self, truncated: bool, count: Option<u64>) -> Value {
        let mut out = json!({ "items": self.items, "truncated": truncated });
        if let Some(total) = count {
            out["count"] = json!(total);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake listing of `total` numbered items; records the pages asked for.
    fn listing(total: u64, has_count: bool, max_items: u64) -> (Value, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let out = collect(has_count, max_items, |page, size| {
            calls.push((page, size));
            let start = page * size;
            let list: Vec<u64> = (start..(start + size).min(total)).collect();
            let mut env = json!({"page": page, "pageSize": size, "list": list});
            if has_count {
                env["count"] = json!(total);
            }
            Ok(env)
        })
        .unwrap();
        (out, calls)
    }

    #[test]
    fn follows_pages_with_minimal_requests() {
        let (out, calls) = listing(250, true, 1000);
        assert_eq!(out["items"].as_array().unwrap().len(), 250);
        assert_eq!(out["count"], 250);
        assert_eq!(out["truncated"], false);
        assert_eq!(calls, vec![(0, 100), (1, 100), (2, 100)]);
    }

    #[test]
    fn exact_multiple_with_count_needs_no_empty_page() {
        let (_, calls) = listing(200, true, 1000);
        assert_eq!(calls.len(), 2);
    }

    #[test]
    fn without_count_an_exact_multiple_costs_one_empty_page() {
        let (out, calls) = listing(200, false, 1000);
        assert_eq!(calls.len(), 3);
        assert!(out.get("count").is_none());
        assert_eq!(out["truncated"], false);
    }

    #[test]
    fn small_max_items_uses_one_small_page() {
        let (out, calls) = listing(45, true, 5);
        assert_eq!(calls, vec![(0, 5)]);
        assert_eq!(out["items"], json!([0, 1, 2, 3, 4]));
        assert_eq!(out["truncated"], true);
    }

    #[test]
    fn max_items_mid_page_truncates() {
        let (out, calls) = listing(450, true, 150);
        assert_eq!(calls, vec![(0, 100), (1, 100)]);
        assert_eq!(out["items"].as_array().unwrap().len(), 150);
        assert_eq!(out["truncated"], true);
    }

    #[test]
    fn max_items_equal_to_total_is_not_truncated() {
        let (out, _) = listing(100, true, 100);
        assert_eq!(out["truncated"], false);
    }

    #[test]
    fn empty_listing() {
        let (out, calls) = listing(0, true, 1000);
        assert_eq!(calls.len(), 1);
        assert_eq!(out["items"], json!([]));
    }
}
