//! CLM Public's pagination strategy: zero-based `page` and `pageSize` (at most 100); the
//! envelope has `page`, `pageSize`, `list` and, on listings that count, the total `count`.

use serde_json::Value;

use crate::error::ConnectorError;
use crate::pages::{PAGE_SIZE, Page, PageStrategy};

/// `page`/`pageSize` listings; `has_count` when the envelope carries the total `count`.
pub struct PageSize {
    has_count: bool,
}

pub static COUNTED: PageSize = PageSize { has_count: true };
pub static UNCOUNTED: PageSize = PageSize { has_count: false };

impl PageStrategy for PageSize {
    fn first(&self) -> u64 {
        0
    }

    fn largest_page(&self) -> u64 {
        PAGE_SIZE
    }

    fn query(&self, at: u64, size: u64) -> [(&'static str, String); 2] {
        [("page", at.to_string()), ("pageSize", size.to_string())]
    }

    /// The listing ends when a page is empty, shorter than asked, or — when the envelope has
    /// a `count` — when everything counted has been seen, so a listing of 250 takes 3
    /// requests, not 4. Without a count, a full page may have more.
    fn read(&self, envelope: Value, page: u64, size: u64) -> Result<Page, ConnectorError> {
        let Value::Object(mut envelope) = envelope else {
            return Err(no_list());
        };
        let total = envelope
            .get("count")
            .and_then(crate::integer::as_u64)
            .filter(|_| self.has_count);
        let Some(Value::Array(items)) = envelope.remove("list") else {
            return Err(no_list());
        };
        let fetched = items.len() as u64;
        let more_upstream = match total {
            Some(total) => page * size + fetched < total,
            None => fetched == size,
        };
        Ok(Page {
            next: (fetched == size && more_upstream).then_some(page + 1),
            items,
            total,
            more_upstream,
        })
    }
}

fn no_list() -> ConnectorError {
    ConnectorError::internal("a paged Ironclad response had no `list` array")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64;
    use crate::config::Connection;
    use crate::error::ConnectorError;
    use crate::owner::Owner;
    use crate::pages::{Cursor, collect, one_page};
    use serde_json::json;

    fn strategy(has_count: bool) -> &'static PageSize {
        if has_count { &COUNTED } else { &UNCOUNTED }
    }

    /// The page and size a request asked for.
    fn asked(query: &[(&str, String)]) -> (u64, u64) {
        (query[0].1.parse().unwrap(), query[1].1.parse().unwrap())
    }

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
        let out = collect(strategy(has_count), 0, max_items, |query| {
            let (page, size) = asked(query);
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
            let parsed = Cursor::parse(strategy(has_count), &cursor, max_items, &owner).unwrap();
            let out = one_page(strategy(has_count), parsed, &owner, |query| {
                let (page, size) = asked(query);
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
            Cursor::parse(&COUNTED, "", 7, &records).unwrap(),
            Cursor { page: 0, size: 7 }
        );
        let third = Cursor { page: 3, size: 100 }.encode(&records);
        assert_eq!(
            Cursor::parse(&COUNTED, &third, 5, &records).unwrap(),
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
            let e = Cursor::parse(&COUNTED, &bad, 100, &records).unwrap_err();
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
        let err = Cursor::parse(&COUNTED, &workflows, 100, &owner("list_records")).unwrap_err();
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
            &COUNTED,
            &workflows,
            100,
            &Owner::action("list_workflows", &elsewhere),
        )
        .unwrap_err();
        assert!(err.to_string().contains("another connection"), "{err}");
        // The old `page:size` form said nothing about its listing: refused, with the restart.
        let err = Cursor::parse(&COUNTED, "1:2", 100, &owner("list_records")).unwrap_err();
        assert!(
            err.to_string().contains("earlier version") && err.to_string().contains("pass \"\""),
            "{err}"
        );
    }

    #[test]
    fn an_envelope_without_a_list_is_an_internal_error() {
        let records = owner("list_records");
        let start = Cursor::parse(&COUNTED, "", 10, &records).unwrap();
        let e = one_page(&COUNTED, start, &records, |_| Ok(json!({"page": 0}))).unwrap_err();
        assert_eq!(e.kind(), "internal");
    }

    #[test]
    fn empty_listing() {
        let (out, calls) = listing(0, true, 1000);
        assert_eq!(calls.len(), 1);
        assert_eq!(out["items"], json!([]));
    }
}
