//! Ironclad's page/pageSize pagination: followed until `max_items` or the end with as few
//! requests as possible, or one page per call behind an opaque cursor so the host can drive
//! a long read and stream it out while the guest holds a single page. A cursor names the
//! action and connection it was made for ([`Owner`]) and is refused by any other.

use serde_json::{Value, json};

use crate::base64;
use crate::error::{ConnectorError, excerpt};
use crate::owner::Owner;

/// Ironclad's largest page.
pub const PAGE_SIZE: u64 = 100;

/// One page of an envelope: its `list` and, when the envelope has one, the total `count`.
struct Page {
    list: Vec<Value>,
    count: Option<u64>,
}

impl Page {
    fn of(envelope: Value, has_count: bool) -> Result<Page, ConnectorError> {
        let Value::Object(mut envelope) = envelope else {
            return Err(no_list());
        };
        let count = envelope
            .get("count")
            .and_then(crate::integer::as_u64)
            .filter(|_| has_count);
        match envelope.remove("list") {
            Some(Value::Array(list)) => Ok(Page { list, count }),
            _ => Err(no_list()),
        }
    }

    /// Whether the listing goes on after this page (zero-based `page` of `size`).
    ///
    /// It ends when a page is empty, shorter than asked, or — when the envelope has a
    /// `count` — when everything counted has been seen, so a listing of 250 takes 3
    /// requests, not 4.
    fn more_after(&self, page: u64, size: u64) -> bool {
        self.list.len() as u64 == size && self.more_upstream(page, size)
    }

    /// Whether Ironclad holds items beyond this page: by the `count` when there is one, else
    /// by a full page.
    fn more_upstream(&self, page: u64, size: u64) -> bool {
        let fetched = self.list.len() as u64;
        match self.count {
            Some(total) => page * size + fetched < total,
            None => fetched == size,
        }
    }
}

fn no_list() -> ConnectorError {
    ConnectorError::internal("a paged Ironclad response had no `list` array")
}

/// Fetch pages (zero-based) with `fetch(page, page_size)` until `max_items` items are
/// collected or the listing ends. Returns `{items, count?, truncated}`.
pub fn collect(
    has_count: bool,
    max_items: u64,
    mut fetch: impl FnMut(u64, u64) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    // One exact-size page when the caller wants fewer than a full page.
    let page_size = max_items.clamp(1, PAGE_SIZE);
    let mut gathered = Gathered::new(max_items);
    let mut count;
    let mut page = 0;
    let truncated = loop {
        let fetched = Page::of(fetch(page, page_size)?, has_count)?;
        count = fetched.count;
        let more = fetched.more_after(page, page_size);
        let more_upstream = fetched.more_upstream(page, page_size);
        if let Some(truncated) = gathered.page(fetched.list, more_upstream) {
            break truncated;
        }
        if !more {
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
    pub fn page(&mut self, list: Vec<Value>, more_upstream: bool) -> Option<bool> {
        let room = (self.max_items - self.items.len() as u64) as usize;
        let (fetched, overflow) = (list.len(), list.len() > room);
        self.items.extend(list.into_iter().take(room));
        if self.items.len() as u64 >= self.max_items {
            return Some(more_upstream || overflow);
        }
        (fetched == 0 || !more_upstream).then_some(false)
    }

    /// Items collected so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
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

/// Where a one-page read stands: the page to fetch and the page size, fixed by the first
/// call so that the pages of one read never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    page: u64,
    size: u64,
}

impl Cursor {
    /// `""` starts a read with pages of `max_items` (at most 100); anything else must be a
    /// `next` this module wrote for `owner`: `action:connection:page:size` in URL-safe
    /// base64, opaque so that nobody edits a position by hand.
    pub fn parse(text: &str, max_items: u64, owner: &Owner) -> Result<Cursor, ConnectorError> {
        if text.is_empty() {
            return Ok(Cursor {
                page: 0,
                size: max_items.clamp(1, PAGE_SIZE),
            });
        }
        // Cursors used to be a bare `page:size`, valid for any listing.
        if text
            .split_once(':')
            .is_some_and(|(p, s)| p.parse::<u64>().is_ok() && s.parse::<u64>().is_ok())
        {
            return Err(owner.unbound("/cursor", None));
        }
        let not_ours = || {
            ConnectorError::input(
                "/cursor",
                format!(
                    "`{}` is not a cursor this connector wrote; pass \"\" to start, then the previous output's `next`",
                    excerpt(text)
                ),
            )
        };
        let decoded = base64::decode_url(text)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(not_ours)?;
        let [key, connection, page, size] = decoded.split(':').collect::<Vec<_>>()[..] else {
            return Err(not_ours());
        };
        owner.check("/cursor", key, connection)?;
        match (page.parse::<u64>(), size.parse::<u64>()) {
            (Ok(page), Ok(size)) if (1..=PAGE_SIZE).contains(&size) && page <= 100_000_000 => {
                Ok(Cursor { page, size })
            }
            _ => Err(not_ours()),
        }
    }

    fn encode(self, owner: &Owner) -> String {
        let text = format!(
            "{}:{}:{}:{}",
            owner.key, owner.connection, self.page, self.size
        );
        base64::encode_url(text.as_bytes())
    }
}

/// Fetch the one page `cursor` points at. Returns `{items, count?, next}` with `next` the
/// cursor of the following page (for `owner`), or null when this page was the last.
pub fn one_page(
    has_count: bool,
    cursor: Cursor,
    owner: &Owner,
    fetch: impl FnOnce(u64, u64) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    let fetched = Page::of(fetch(cursor.page, cursor.size)?, has_count)?;
    let next = fetched.more_after(cursor.page, cursor.size).then(|| {
        Cursor {
            page: cursor.page + 1,
            ..cursor
        }
        .encode(owner)
    });
    let mut out = json!({ "items": fetched.list, "next": next });
    if let Some(total) = fetched.count {
        out["count"] = json!(total);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Connection;

    /// Page `page` of `size` of a listing of `total` numbered items, as Ironclad answers it.
    fn envelope(total: u64, has_count: bool, page: u64, size: u64) -> Value {
        let start = page * size;
        let list: Vec<u64> = (start..(start + size).min(total)).collect();
        let mut env = json!({"page": page, "pageSize": size, "list": list});
        if has_count {
            env["count"] = json!(total);
        }
        env
    }

    /// A fake listing of `total` numbered items; records the pages asked for.
    fn listing(total: u64, has_count: bool, max_items: u64) -> (Value, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let out = collect(has_count, max_items, |page, size| {
            calls.push((page, size));
            Ok(envelope(total, has_count, page, size))
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

    fn owner(key: &'static str) -> Owner {
        Owner::action(key, &crate::test_support::conn())
    }

    /// Read a fake listing one page per call, as a host would; returns the items in order
    /// and the pages asked for.
    fn by_cursor(total: u64, has_count: bool, max_items: u64) -> (Vec<u64>, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let mut items = Vec::new();
        let mut cursor = String::new();
        let owner = owner("list_records");
        loop {
            let parsed = Cursor::parse(&cursor, max_items, &owner).unwrap();
            let out = one_page(has_count, parsed, &owner, |page, size| {
                calls.push((page, size));
                Ok(envelope(total, has_count, page, size))
            })
            .unwrap();
            assert_eq!(out.get("count").is_some(), has_count);
            assert!(out.get("truncated").is_none());
            items.extend(
                out["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap()),
            );
            match out["next"].as_str() {
                Some(next) => cursor = next.to_string(),
                None => return (items, calls),
            }
            assert!(calls.len() < 1000, "the read must end");
        }
    }

    #[test]
    fn cursor_reads_every_item_once_with_the_fewest_requests() {
        let (items, calls) = by_cursor(250, true, 1000);
        assert_eq!(items, (0..250).collect::<Vec<_>>());
        assert_eq!(calls, vec![(0, 100), (1, 100), (2, 100)]);
        // With a count, an exact multiple needs no empty page; without one it costs one.
        assert_eq!(by_cursor(200, true, 1000).1.len(), 2);
        assert_eq!(by_cursor(200, false, 1000).1.len(), 3);
        // max_items sets the page size of the whole read.
        let (items, calls) = by_cursor(12, true, 5);
        assert_eq!(items.len(), 12);
        assert_eq!(calls, vec![(0, 5), (1, 5), (2, 5)]);
        assert_eq!(by_cursor(0, true, 1000), (vec![], vec![(0, 100)]));
    }

    #[test]
    fn cursors_are_checked() {
        let records = owner("list_records");
        assert_eq!(
            Cursor::parse("", 7, &records).unwrap(),
            Cursor { page: 0, size: 7 }
        );
        let third = Cursor { page: 3, size: 100 }.encode(&records);
        assert_eq!(
            Cursor::parse(&third, 5, &records).unwrap(),
            Cursor { page: 3, size: 100 },
            "the cursor keeps its page size"
        );
        let forged = |text: &str| base64::encode_url(text.as_bytes());
        let fingerprint = &records.connection;
        for bad in [
            "3".to_string(),
            "x:100".into(),
            "3:100:1".into(),
            "not base64!".into(),
            forged(&format!("list_records:{fingerprint}:3:0")),
            forged(&format!("list_records:{fingerprint}:3:101")),
            forged(&format!("list_records:{fingerprint}:-1:10")),
            forged(&format!("list_records:{fingerprint}:3")),
            "x".repeat(100_000),
        ] {
            let e = Cursor::parse(&bad, 100, &records).unwrap_err();
            assert_eq!(e.kind(), "invalid_input", "{bad}");
            assert!(e.to_string().contains("/cursor"), "{e}");
            assert!(e.to_string().len() < 400, "the message quotes an excerpt");
        }
    }

    /// A cursor is refused by another action and on another connection (a `list_workflows`
    /// `1:2` used to be read by `list_records` as its own page 1).
    #[test]
    fn a_cursor_belongs_to_its_action_and_connection() {
        let workflows = Cursor { page: 1, size: 2 }.encode(&owner("list_workflows"));
        let err = Cursor::parse(&workflows, 100, &owner("list_records")).unwrap_err();
        let ConnectorError::InvalidInput { field, message } = err else {
            panic!()
        };
        assert_eq!(field, "/cursor");
        assert!(
            message.contains("belongs to action `list_workflows`"),
            "{message}"
        );
        let elsewhere = Connection {
            origin: "https://eu1.ironcladapp.com".into(),
            ..crate::test_support::conn()
        };
        let err = Cursor::parse(
            &workflows,
            100,
            &Owner::action("list_workflows", &elsewhere),
        )
        .unwrap_err();
        assert!(err.to_string().contains("another connection"), "{err}");
        // The old `page:size` form said nothing about its listing: refused, with the restart.
        let err = Cursor::parse("1:2", 100, &owner("list_records")).unwrap_err();
        assert!(
            err.to_string().contains("earlier version") && err.to_string().contains("pass \"\""),
            "{err}"
        );
    }

    #[test]
    fn an_envelope_without_a_list_is_an_internal_error() {
        let records = owner("list_records");
        let start = Cursor::parse("", 10, &records).unwrap();
        let e = one_page(true, start, &records, |_, _| Ok(json!({"page": 0}))).unwrap_err();
        assert_eq!(e.kind(), "internal");
    }

    #[test]
    fn empty_listing() {
        let (out, calls) = listing(0, true, 1000);
        assert_eq!(calls.len(), 1);
        assert_eq!(out["items"], json!([]));
    }
}
