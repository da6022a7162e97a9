//! One pagination abstraction for every API: a [`PageStrategy`] says how to ask for a page
//! and how to read its items, total and successor from the answer (as a declarative
//! paginator composes a strategy); [`collect`] follows any strategy until `max_items` or the
//! end with as few requests as the strategy allows, and [`one_page`] reads one page per call
//! behind an opaque [`Cursor`] so a host can drive a long read while the guest holds a single
//! page. A cursor names the action and connection it was made for ([`Owner`]).
//!
//! The strategies live with their API type (`api_types::*`); nothing here knows an envelope.

use serde_json::{Value, json};

use crate::base64;
use crate::error::{ConnectorError, excerpt};
use crate::owner::Owner;

/// The page size the connector asks for where an API takes it (Ironclad's CLM maximum).
pub const PAGE_SIZE: u64 = 100;

/// One page as a strategy reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// The listing's total, when the answer says it.
    pub total: Option<u64>,
    /// Whether the API holds items beyond this page (a truncated listing says so).
    pub more_upstream: bool,
    /// The position of the next page, when reading goes on.
    pub next: Option<u64>,
}

/// How one API pages: its positions (page numbers or item indexes), the request for a page,
/// and what an answer says.
pub trait PageStrategy: Sync {
    /// The position of a listing's first page.
    fn first(&self) -> u64;
    /// The largest page the API serves.
    fn largest_page(&self) -> u64;
    /// The query pairs that ask for the page at `at` of `size` items.
    fn query(&self, at: u64, size: u64) -> [(&'static str, String); 2];
    /// One answer to the page at `at` of `size`, read.
    fn read(&self, answer: Value, at: u64, size: u64) -> Result<Page, ConnectorError>;
    /// The `count` a collected listing reports: its total, when an answer gave one.
    fn count(&self, total: Option<u64>, _collected: u64) -> Option<u64> {
        total
    }
}

/// Fetch pages from position `from` with `fetch(query pairs)` until `max_items` items are
/// collected or the listing ends. Returns `{items, count?, truncated}`.
pub fn collect(
    strategy: &dyn PageStrategy,
    from: u64,
    max_items: u64,
    mut fetch: impl FnMut(&[(&'static str, String)]) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    // One exact-size page when the caller wants fewer than a full page.
    let size = max_items.clamp(1, strategy.largest_page());
    let mut gathered = Gathered::new(max_items);
    let mut total = None;
    let mut at = from;
    let truncated = loop {
        let page = strategy.read(fetch(&strategy.query(at, size))?, at, size)?;
        total = page.total.or(total);
        if let Some(truncated) = gathered.page(page.items, page.more_upstream) {
            break truncated;
        }
        match page.next {
            Some(next) => at = next,
            None => break false,
        }
    };
    let collected = gathered.len() as u64;
    Ok(gathered.output(truncated, strategy.count(total, collected)))
}

/// Items collected page by page up to `max_items`.
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

/// Where a one-page read stands: the position to fetch (as the strategy counts) and the
/// page size, fixed by the first call so that the pages of one read never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) page: u64,
    pub(crate) size: u64,
}

impl Cursor {
    /// `""` starts a read with pages of `max_items` (at most the strategy's largest); anything
    /// else must be a `next` this module wrote for `owner`: `action:connection:page:size` in
    /// URL-safe base64, opaque so that nobody edits a position by hand.
    pub fn parse(
        strategy: &dyn PageStrategy,
        text: &str,
        max_items: u64,
        owner: &Owner,
    ) -> Result<Cursor, ConnectorError> {
        if text.is_empty() {
            return Ok(Cursor {
                page: strategy.first(),
                size: max_items.clamp(1, strategy.largest_page()),
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
            (Ok(page), Ok(size))
                if (1..=strategy.largest_page()).contains(&size) && page <= 100_000_000 =>
            {
                Ok(Cursor { page, size })
            }
            _ => Err(not_ours()),
        }
    }

    pub(crate) fn encode(self, owner: &Owner) -> String {
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
    strategy: &dyn PageStrategy,
    cursor: Cursor,
    owner: &Owner,
    fetch: impl FnOnce(&[(&'static str, String)]) -> Result<Value, ConnectorError>,
) -> Result<Value, ConnectorError> {
    let page = strategy.read(
        fetch(&strategy.query(cursor.page, cursor.size))?,
        cursor.page,
        cursor.size,
    )?;
    let next = page.next.map(|next| {
        Cursor {
            page: next,
            ..cursor
        }
        .encode(owner)
    });
    let mut out = json!({ "items": page.items, "next": next });
    if let Some(total) = page.total {
        out["count"] = json!(total);
    }
    Ok(out)
}
