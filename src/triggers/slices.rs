//! Reading a backlog of stamped items in bounded slices of time, for listings that filter by
//! a time range and say how many items match (`count`), but list them in an undocumented
//! order: CLM workflows by `lastUpdated`, Clickwrap acceptances by `created_time`. Without an
//! order, the oldest items of a window can only be found by reading all of it; re-reading an
//! ever-growing window each poll costs quadratic requests and stalls once the window outgrows
//! a call's request cap. Here a poll makes at most [`MAX_REQUESTS`] listing requests whatever
//! the backlog, and every poll moves the cursor on.
//!
//! Each step is one request (`PAGE_SIZE` items a page):
//! 1. the open window `[watermark, ∞)`: when its `count` is all on the first page, that is
//!    everything new, handled oldest first — the caught-up case, one request a poll;
//! 2. otherwise a backlog, read in closed slices `[watermark, hi]` oldest first, with `hi`
//!    below a stamp the API has already listed, so nothing can still land in the slice (the
//!    assumption every watermark rests on: items appear in the order of their stamps). A slice
//!    whose `count` fits one page is handled whole and the watermark passes it; a bigger one
//!    is narrowed by its count (at least halved). The width that fitted is kept in the cursor
//!    (`slice_ms`) as the next poll's first guess;
//! 3. more than a page stamped with one millisecond cannot be narrowed: that instant is read
//!    page by page across polls (`Cursor::instant`). Its items can only leave it (an update
//!    restamps them; nothing new is stamped in the past), which moves later items up a
//!    position; when its count drops, reading steps back as many items, so an item moved onto
//!    a page already read is read again (an event with the same id, which hosts drop), never
//!    skipped. The instant is left once a later item is listed.
//!
//! The upper bound of a slice is a filter Ironclad documents only in part (see each
//! [`Listing`]); an answer showing it was not applied — an item stamped after the bound, or
//! nothing where the open window showed items — is an error, never a silent skip.

use serde_json::Value;

use super::cursor::{Cursor, InstantRead};
use crate::error::{ConnectorError, Upstream};
use crate::pages::PAGE_SIZE;
use crate::time::{self, Millis};

/// Listing requests one poll may make (the events' own requests, such as approvals, apart).
/// Enough to handle a page of items in the usual case (an open window, then a slice or two)
/// and to narrow a badly guessed slice 256-fold.
pub const MAX_REQUESTS: usize = 8;

/// A slice is sized to hold about this many items, so that it fits a page with room to spare
/// for a backlog denser than the last slice.
const TARGET_ITEMS: i64 = 75;

/// The widest slice: about 1,000 years, far beyond any stamp, and no overflow when added.
const MAX_SLICE_MS: i64 = 1 << 45;

/// An item of a listing with its stamp.
pub struct Stamped {
    pub at: Millis,
    pub id: String,
    pub value: Value,
}

/// One page of a listing.
pub struct Page {
    /// Items in the range over all pages (the listing's `count`).
    pub count: u64,
    /// Items on this page, including any without a readable stamp (left out of `items`).
    pub listed: usize,
    pub items: Vec<Stamped>,
}

/// A listing of items stamped in a range.
pub trait Listing {
    /// Page `page` (from 0) of `size` items stamped in `[from, until]`; no upper bound when
    /// `until` is `None`.
    fn page(
        &self,
        from: Millis,
        until: Option<Millis>,
        page: u64,
        size: u64,
    ) -> Result<Page, ConnectorError>;

    /// What is listed and how the upper bound is asked for, for errors.
    fn describe_bound(&self, until: Millis) -> String;
}

/// Items to turn into events, oldest first; the cursor passed to [`read`] has moved past them.
pub struct Batch {
    pub items: Vec<Stamped>,
    /// More items are waiting (poll again).
    pub has_more: bool,
}

/// Read what is new after `cursor`, at most `budget` items, and move `cursor` past them.
pub fn read(
    listing: &dyn Listing,
    cursor: &mut Cursor,
    budget: usize,
) -> Result<Batch, ConnectorError> {
    let mut reader = Reader {
        listing,
        budget: budget.max(1),
        watermark: cursor.millis()?,
        cursor,
        requests: 0,
        items: Vec::new(),
    };
    let has_more = reader.run()?;
    Ok(Batch {
        items: reader.items,
        has_more,
    })
}

/// What a step leaves to do.
enum Step {
    Continue,
    /// The poll is over; whether more items are waiting.
    Stop(bool),
}

struct Reader<'a> {
    listing: &'a dyn Listing,
    budget: usize,
    /// `cursor.watermark` as an instant, kept in step with it.
    watermark: Millis,
    cursor: &'a mut Cursor,
    requests: usize,
    items: Vec<Stamped>,
}

impl Reader<'_> {
    fn run(&mut self) -> Result<bool, ConnectorError> {
        let mut opened = false;
        loop {
            if self.items.len() >= self.budget || self.requests >= MAX_REQUESTS {
                return Ok(true);
            }
            let step = match self.cursor.instant {
                Some(state) => self.instant_page(state)?,
                // Another look at the open window costs a request for what may be a few items
                // more: worth it only while the poll has not half filled its budget.
                None if opened && self.items.len() >= self.budget / 2 => Step::Stop(true),
                None => {
                    opened = true;
                    let open = self.fetch(self.watermark, None, 0, PAGE_SIZE)?;
                    self.window(open)?
                }
            };
            if let Step::Stop(more) = step {
                return Ok(more);
            }
        }
    }

    /// One request, counted, with the items below `from` dropped (Ironclad documents that
    /// bound; a coarser reading of it only costs a few extra items) and any item after
    /// `until` refused.
    fn fetch(
        &mut self,
        from: Millis,
        until: Option<Millis>,
        page: u64,
        size: u64,
    ) -> Result<Page, ConnectorError> {
        self.requests += 1;
        let mut answer = self.listing.page(from, until, page, size)?;
        if let Some(until) = until
            && let Some(late) = answer.items.iter().find(|i| i.at > until)
        {
            return Err(bound_ignored(
                self.listing,
                until,
                format!(
                    "it listed `{}` stamped {}",
                    crate::error::excerpt(&late.id),
                    time::format(late.at)
                ),
            ));
        }
        answer.items.retain(|i| i.at >= from);
        Ok(answer)
    }

    /// Act on the open window `[watermark, ∞)`.
    fn window(&mut self, open: Page) -> Result<Step, ConnectorError> {
        if open.listed as u64 >= open.count {
            // Everything new is in hand: the caught-up case.
            let all = self.take(open.items);
            self.cursor.slice_ms = None;
            return Ok(Step::Stop(!all));
        }
        let newest = open.items.iter().map(|i| i.at).max();
        match newest {
            Some(newest) if newest > self.watermark => self.slices(newest - 1, &open),
            // Every item shown is stamped with the watermark itself, and more wait.
            _ => self.instant(&open),
        }
    }

    /// Handle closed slices `[watermark, hi]` with `hi ≤ limit`, oldest first, until the
    /// budget, the requests or `limit` run out.
    fn slices(&mut self, limit: Millis, open: &Page) -> Result<Step, ConnectorError> {
        let mut width = self
            .cursor
            .slice_ms
            .unwrap_or_else(|| scaled(limit - self.watermark + 1, open.count))
            .clamp(1, MAX_SLICE_MS);
        while self.watermark <= limit {
            if self.items.len() >= self.budget || self.requests >= MAX_REQUESTS {
                return Ok(Step::Stop(true));
            }
            let from = self.watermark;
            let hi = from.saturating_add(width - 1).min(limit);
            let slice = self.fetch(from, Some(hi), 0, PAGE_SIZE)?;
            self.check_found(open, from, hi, &slice)?;
            let span = hi - from + 1;
            if slice.listed as u64 >= slice.count {
                if self.take(slice.items) {
                    self.cursor.pass(&mut self.watermark, hi);
                }
                // Aim the next slice at a page's worth, growing at most fourfold.
                width = scaled(span, slice.count).min(span.saturating_mul(4));
            } else if span == 1 {
                self.start_instant(slice.count);
                return Ok(Step::Continue);
            } else {
                width = scaled(span, slice.count).min(span / 2);
            }
            width = width.clamp(1, MAX_SLICE_MS);
            self.cursor.slice_ms = Some(width);
        }
        // Past the newest stamp seen: look at the open window again.
        Ok(Step::Continue)
    }

    /// The open window holds more than a page and shows only items stamped with the
    /// watermark: read that instant.
    fn instant(&mut self, open: &Page) -> Result<Step, ConnectorError> {
        let at = self.watermark;
        if self.requests >= MAX_REQUESTS {
            return Ok(Step::Stop(true));
        }
        let page = self.fetch(at, Some(at), 0, PAGE_SIZE)?;
        self.check_found(open, at, at, &page)?;
        if page.listed as u64 >= page.count {
            // The open window holds more than this instant, so a later item exists.
            if self.take(page.items) && open.count > page.count {
                self.cursor.pass(&mut self.watermark, at);
                return Ok(Step::Continue);
            }
            return Ok(Step::Stop(true));
        }
        self.start_instant(page.count);
        Ok(Step::Continue)
    }

    /// More than a page shares the watermark's millisecond: read it by position. The ids
    /// kept so far are dropped (their events come again, with the same ids).
    fn start_instant(&mut self, count: u64) {
        self.cursor.ids.clear();
        self.cursor.instant = Some(InstantRead { page: 0, count });
    }

    /// One page of the instant being read, in pages of the budget.
    fn instant_page(&mut self, state: InstantRead) -> Result<Step, ConnectorError> {
        if !self.items.is_empty() {
            // A page of the instant needs the whole budget.
            return Ok(Step::Stop(true));
        }
        let at = self.watermark;
        let size = self.budget as u64;
        // A cursor is input: a page past the end is the end.
        let state = InstantRead {
            page: state.page.min(state.count.div_ceil(size)),
            ..state
        };
        let page = self.fetch(at, Some(at), state.page, size)?;
        if page.count != state.count {
            // Items left the instant (restamped or deleted) and later ones moved up, maybe
            // onto pages already read: step back as many. More items than before can only be
            // a late arrival at an unknown position: start the instant again.
            let back = match state.count.checked_sub(page.count) {
                Some(fewer) => fewer.div_ceil(size),
                None => state.page,
            };
            self.cursor.instant = Some(InstantRead {
                page: state.page.saturating_sub(back),
                count: page.count,
            });
            return Ok(Step::Continue);
        }
        let full = page.listed as u64 >= size;
        let read = state.page.saturating_mul(size) + page.listed as u64;
        if !full && read < page.count {
            // Pages are counted in the size asked; a server serving fewer would make the
            // next page skip items.
            return Err(ConnectorError::Upstream(Upstream {
                message: format!(
                    "{}: a page of {size} items held {} although {} of {} were left",
                    self.listing.describe_bound(at),
                    page.listed,
                    page.count - state.page.saturating_mul(size),
                    page.count
                ),
                ..Upstream::default()
            }));
        }
        self.items.extend(page.items);
        if full && read < page.count {
            self.cursor.instant = Some(InstantRead {
                page: state.page + 1,
                count: page.count,
            });
            return Ok(Step::Continue);
        }
        // Read to the end; until a later item is listed, stay just past the last page.
        self.cursor.instant = Some(InstantRead {
            page: page.count.div_ceil(size),
            count: page.count,
        });
        self.leave_instant()
    }

    /// Leave the instant read to its end once a later item exists.
    fn leave_instant(&mut self) -> Result<Step, ConnectorError> {
        if self.requests >= MAX_REQUESTS {
            return Ok(Step::Stop(true));
        }
        let at = self.watermark;
        let later = self.fetch(at + 1, None, 0, PAGE_SIZE)?;
        if later.count == 0 {
            return Ok(Step::Stop(false));
        }
        self.cursor.instant = None;
        self.cursor.pass(&mut self.watermark, at);
        if self.items.len() >= self.budget {
            return Ok(Step::Stop(true));
        }
        self.window(later)
    }

    /// Take the new items of a page oldest first, within the budget, moving the cursor past
    /// each; whether all of them were taken.
    fn take(&mut self, items: Vec<Stamped>) -> bool {
        let mut fresh: Vec<Stamped> = items
            .into_iter()
            .filter(|i| self.cursor.is_new(self.watermark, i.at, &i.id))
            .collect();
        fresh.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let room = self.budget.saturating_sub(self.items.len());
        let all = fresh.len() <= room;
        fresh.truncate(room);
        for item in fresh {
            self.cursor.advance(&mut self.watermark, item.at, &item.id);
            self.items.push(item);
        }
        all
    }

    /// A range that the open window showed new items in must not come back empty: that
    /// would be a bound Ironclad did not apply as this connector reads it, and passing the
    /// range would lose those items.
    fn check_found(
        &self,
        open: &Page,
        from: Millis,
        until: Millis,
        answer: &Page,
    ) -> Result<(), ConnectorError> {
        if answer.count > 0 {
            return Ok(());
        }
        let seen = open.items.iter().find(|i| {
            (from..=until).contains(&i.at) && self.cursor.is_new(self.watermark, i.at, &i.id)
        });
        match seen {
            None => Ok(()),
            Some(item) => Err(bound_ignored(
                self.listing,
                until,
                format!(
                    "it counted nothing up to that bound although it had just listed `{}` \
                     stamped {}",
                    crate::error::excerpt(&item.id),
                    time::format(item.at)
                ),
            )),
        }
    }
}

/// `span` scaled so that it would hold [`TARGET_ITEMS`] of `count` items spread evenly.
fn scaled(span: Millis, count: u64) -> Millis {
    if count == 0 {
        return span.saturating_mul(4);
    }
    let width = i128::from(span) * i128::from(TARGET_ITEMS) / i128::from(count);
    width.clamp(1, i128::from(MAX_SLICE_MS)) as Millis
}

fn bound_ignored(listing: &dyn Listing, until: Millis, what: String) -> ConnectorError {
    ConnectorError::Upstream(Upstream {
        message: format!(
            "{}: {what}. The API does not apply this upper bound as the connector infers it \
             does, so the trigger cannot read its backlog in slices; nothing was skipped",
            listing.describe_bound(until)
        ),
        param: Some("filter".into()),
        ..Upstream::default()
    })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::*;
    use crate::owner::Owner;
    use crate::test_support::conn;

    const T0: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    /// Orders Ironclad might list in (it documents none).
    #[derive(Clone, Copy, Debug)]
    enum Order {
        /// Neither by stamp nor by id, but the same every time.
        Scrambled,
        Oldest,
        Newest,
    }

    /// Run before answer `n` (from 1), on the items, to change them as the API's users would.
    type Hook = Box<dyn Fn(usize, &mut Vec<(Millis, String)>)>;

    /// A listing over items `(at, id)` in `order`, honouring `[from, until]`.
    struct Fake {
        items: RefCell<Vec<(Millis, String)>>,
        requests: RefCell<usize>,
        before: Hook,
        ignore_bound: bool,
        order: Order,
    }

    impl Fake {
        fn new(items: Vec<(Millis, String)>) -> Self {
            Fake {
                items: RefCell::new(items),
                requests: RefCell::new(0),
                before: Box::new(|_, _| {}),
                ignore_bound: false,
                order: Order::Scrambled,
            }
        }
    }

    impl Listing for Fake {
        fn page(
            &self,
            from: Millis,
            until: Option<Millis>,
            page: u64,
            size: u64,
        ) -> Result<Page, ConnectorError> {
            let n = {
                let mut r = self.requests.borrow_mut();
                *r += 1;
                *r
            };
            (self.before)(n, &mut self.items.borrow_mut());
            let until = until.filter(|_| !self.ignore_bound);
            let mut matching: Vec<&(Millis, String)> = Vec::new();
            let items = self.items.borrow();
            matching.extend(
                items
                    .iter()
                    .filter(|(at, _)| *at >= from && until.is_none_or(|u| *at <= u)),
            );
            match self.order {
                // By an FNV-1a digest of the id.
                Order::Scrambled => matching.sort_by_key(|(_, id)| {
                    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                    })
                }),
                Order::Oldest => matching.sort(),
                Order::Newest => matching.sort_by(|a, b| b.cmp(a)),
            }
            let count = matching.len() as u64;
            let on_page: Vec<Stamped> = matching
                .into_iter()
                .skip((page * size) as usize)
                .take(size as usize)
                .map(|(at, id)| Stamped {
                    at: *at,
                    id: id.clone(),
                    value: json!({ "id": id }),
                })
                .collect();
            Ok(Page {
                count,
                listed: on_page.len(),
                items: on_page,
            })
        }

        fn describe_bound(&self, until: Millis) -> String {
            format!("items up to {}", time::format(until))
        }
    }

    fn owner() -> Owner {
        Owner::trigger("workflow_updated", &conn())
    }

    /// `n` items, `per_ms` to a millisecond, `gap` ms apart, from `T0 + 1`.
    fn backlog(n: usize, per_ms: usize, gap: Millis) -> Vec<(Millis, String)> {
        (0..n)
            .map(|i| (T0 + 1 + (i / per_ms) as Millis * gap, format!("w{i:06}")))
            .collect()
    }

    /// Poll until nothing more is waiting; the ids delivered and the requests of each poll.
    fn drain(listing: &Fake, budget: usize) -> (Vec<String>, Vec<usize>, Cursor) {
        let mut cursor = Cursor::at(T0, &owner());
        let (mut ids, mut costs) = (Vec::new(), Vec::new());
        for _ in 0..10_000 {
            let before = *listing.requests.borrow();
            // Each poll starts from the cursor as the host stores it.
            cursor = Cursor::from_json(&cursor.to_json(), &owner()).unwrap();
            let batch = read(listing, &mut cursor, budget).unwrap();
            costs.push(*listing.requests.borrow() - before);
            ids.extend(batch.items.into_iter().map(|i| i.id));
            if !batch.has_more {
                return (ids, costs, cursor);
            }
        }
        panic!("the backlog never drained");
    }

    fn unique(ids: &[String]) -> std::collections::BTreeSet<&String> {
        ids.iter().collect()
    }

    #[test]
    fn a_backlog_drains_oldest_first_with_bounded_requests_per_poll() {
        for order in [Order::Scrambled, Order::Oldest, Order::Newest] {
            let items = backlog(5_000, 3, 7);
            let mut listing = Fake::new(items.clone());
            listing.order = order;
            let (ids, costs, cursor) = drain(&listing, 100);
            assert_eq!(ids.len(), 5_000, "{order:?}: each item once");
            assert_eq!(unique(&ids).len(), 5_000, "{order:?}");
            let at = |id: &String| items.iter().find(|(_, i)| i == id).unwrap().0;
            assert!(
                ids.windows(2).all(|w| at(&w[0]) <= at(&w[1])),
                "{order:?}: oldest first"
            );
            assert!(
                costs.iter().all(|&c| c <= MAX_REQUESTS),
                "{order:?}: {costs:?}"
            );
            // A page of items costs a few requests, not a read of the whole window.
            let total: usize = costs.iter().sum();
            assert!(
                costs.len() <= 60 && total <= 3 * 5_000 / 100 + 10,
                "{order:?}: {total} requests: {costs:?}"
            );
            assert!(cursor.ids.len() <= PAGE_SIZE as usize);
            // Caught up: one request a poll.
            let mut again = cursor.clone();
            let before = *listing.requests.borrow();
            let batch = read(&listing, &mut again, 100).unwrap();
            assert!(batch.items.is_empty() && !batch.has_more);
            assert_eq!(*listing.requests.borrow() - before, 1);
        }
    }

    /// A budget smaller than a slice (approvals): part of a slice is taken, the rest next time.
    #[test]
    fn a_small_budget_takes_part_of_a_slice_and_resumes() {
        let listing = Fake::new(backlog(1_000, 4, 3));
        let (ids, costs, _) = drain(&listing, 20);
        assert_eq!((ids.len(), unique(&ids).len()), (1_000, 1_000));
        assert!(costs.iter().all(|&c| c <= MAX_REQUESTS), "{costs:?}");
        assert!(
            costs.iter().sum::<usize>() <= 3 * 1_000 / 20 + 10,
            "{costs:?}"
        );
    }

    #[test]
    fn more_than_a_page_in_one_millisecond_is_read_by_position_and_left_after() {
        let mut items = backlog(50, 1, 10);
        items.extend((0..730).map(|i| (T0 + 5_000, format!("same{i:04}"))));
        items.extend((0..40).map(|i| (T0 + 6_000 + i, format!("later{i:02}"))));
        for order in [Order::Scrambled, Order::Oldest, Order::Newest] {
            let mut listing = Fake::new(items.clone());
            listing.order = order;
            let (ids, costs, _) = drain(&listing, 100);
            assert_eq!((ids.len(), unique(&ids).len()), (820, 820), "{order:?}");
            assert!(
                costs.iter().all(|&c| c <= MAX_REQUESTS),
                "{order:?}: {costs:?}"
            );
            assert!(ids[..50].iter().all(|i| i.starts_with('w')), "{order:?}");
            assert!(
                ids[780..].iter().all(|i| i.starts_with("later")),
                "{order:?}"
            );
        }
    }

    #[test]
    fn items_leaving_an_instant_being_read_move_it_back_and_none_is_missed() {
        for order in [Order::Scrambled, Order::Oldest, Order::Newest] {
            instant_losing_items(order);
        }
    }

    fn instant_losing_items(order: Order) {
        let mut items: Vec<(Millis, String)> =
            (0..450).map(|i| (T0 + 9, format!("same{i:04}"))).collect();
        items.push((T0 + 20, "after".into()));
        let mut listing = Fake::new(items);
        listing.order = order;
        // From the 4th request on, every other request one item of the instant is
        // restamped (updated): it leaves the instant for a later stamp.
        listing.before = Box::new(|n, items| {
            if n >= 4 && n % 2 == 0 {
                let restamped = (T0 + 30 + n as Millis, format!("moved{n}"));
                if let Some(i) = items.iter().position(|(at, _)| *at == T0 + 9) {
                    items.remove(i);
                    items.push(restamped);
                }
            }
        });
        let (ids, costs, _) = drain(&listing, 100);
        assert!(
            costs.iter().all(|&c| c <= MAX_REQUESTS),
            "{order:?}: {costs:?}"
        );
        let got = unique(&ids);
        for (_, id) in listing.items.borrow().iter() {
            assert!(got.contains(id), "{order:?}: {id} was missed");
        }
    }

    #[test]
    fn an_upper_bound_the_api_ignores_is_an_error_not_a_skip() {
        let mut listing = Fake::new(backlog(300, 1, 1_000));
        listing.ignore_bound = true;
        let mut cursor = Cursor::at(T0, &owner());
        let before = cursor.clone();
        let err = read(&listing, &mut cursor, 100).err().unwrap();
        let ConnectorError::Upstream(up) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(up.param.as_deref(), Some("filter"));
        assert!(
            up.message.contains("does not apply this upper bound"),
            "{err}"
        );
        assert_eq!(cursor.watermark, before.watermark);
    }

    #[test]
    fn a_cursor_of_the_previous_release_is_read_and_resumed() {
        let items = backlog(250, 1, 1_000);
        let listing = Fake::new(items);
        // Written by the previous release: watermark on the 3rd item, which was delivered.
        let old = json!({ "trigger": "workflow_updated", "connection": conn().fingerprint(),
                          "watermark": time::format(T0 + 1 + 2_000), "ids": ["w000002"] });
        let mut cursor = Cursor::from_json(&old, &owner()).unwrap();
        let mut ids = Vec::new();
        loop {
            let batch = read(&listing, &mut cursor, 100).unwrap();
            ids.extend(batch.items.into_iter().map(|i| i.id));
            if !batch.has_more {
                break;
            }
        }
        assert_eq!(ids.len(), 247);
        assert_eq!(ids[0], "w000003");
    }

    /// A cursor is input: an instant's page far past its end is its end, not an overflow.
    #[test]
    fn an_instant_page_past_the_end_is_the_end() {
        let mut items: Vec<(Millis, String)> =
            (0..150).map(|i| (T0 + 5, format!("same{i:03}"))).collect();
        items.push((T0 + 6, "later".into()));
        let listing = Fake::new(items);
        let mut cursor = Cursor::at(T0 + 5, &owner());
        cursor.instant = Some(InstantRead {
            page: u64::MAX,
            count: 150,
        });
        let cursor_json = cursor.to_json();
        let mut cursor = Cursor::from_json(&cursor_json, &owner()).unwrap();
        let batch = read(&listing, &mut cursor, 100).unwrap();
        let ids: Vec<String> = batch.items.into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["later"]);
        assert_eq!(cursor.instant, None);
    }
}
