//! Polling a backlog costs requests in proportion to what each poll delivers, never a re-read of
//! the whole waiting window (issue #18 item 6): 20,000 waiting workflows (`workflow_updated`)
//! and 20,000 Clickwrap acceptances (`clickwrap_acceptance`) drain with every item delivered
//! exactly once, each poll within a constant number of requests, under a per-call request cap
//! twenty times below what one read of the window costs (200 pages), so no poll is stuck.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use host_harness::emulator::{ClickwrapFixture as F, RunningEmulator};
use host_harness::sandbox::Limits;
use host_harness::{Runtime, Session};
use serde_json::{Value, json};

const BACKLOG: usize = 20_000;
/// The per-call request cap the polls run under.
const CAP: u32 = 10;
/// Listing requests a poll may make (the connector's `slices::MAX_REQUESTS`).
const PER_POLL: usize = 8;
/// Events a poll delivers at most (a page).
const BUDGET: usize = 100;

/// A backlog of `BACKLOG` items behind an emulator control: most two to a millisecond, 300
/// sharing one millisecond (more than a page, so no time slice can split them), then the rest
/// one to a millisecond. Answers the first stamp, where the trigger starts.
async fn backlog(emu: &RunningEmulator, control: &str) -> String {
    let first = admin_answer(
        emu,
        control,
        json!({ "count": BACKLOG - 1_000, "per_instant": 2, "spacing_ms": 50 }),
    )
    .await;
    admin_answer(emu, control, json!({ "count": 300, "per_instant": 300 })).await;
    admin_answer(
        emu,
        control,
        json!({ "count": 700, "per_instant": 1, "spacing_ms": 3 }),
    )
    .await;
    first["first"].as_str().unwrap().to_string()
}

/// Poll `trigger` from `since` until nothing is waiting, keeping the cursor as a host would
/// but without the host's de-duplication, so a repeat would show. Every poll must succeed
/// under [`CAP`], deliver or move the cursor, and stay within [`PER_POLL`] requests (counted
/// on `path` in the emulator's log). Answers the event ids in order and the requests of
/// each poll.
async fn drain(
    session: &Session<'_>,
    emu: &RunningEmulator,
    trigger: &str,
    since: &str,
    path: &str,
) -> (Vec<String>, Vec<usize>) {
    let input = json!({ "since": since });
    let (mut cursor, mut ids, mut costs) = (None::<Value>, Vec::new(), Vec::new());
    loop {
        assert!(
            costs.len() < 2 * BACKLOG / BUDGET,
            "{trigger} never drained"
        );
        admin(emu, "reset-request-log").await;
        let polled = session
            .poll(trigger, &input, cursor.as_ref())
            .await
            .unwrap_or_else(|e| panic!("{trigger} poll {}: {}", costs.len(), report(e)));
        let cost = requests_to(emu, path).await;
        assert!(
            cost <= PER_POLL,
            "{trigger} poll {}: {cost} requests",
            costs.len()
        );
        assert!(polled.events.len() <= BUDGET);
        assert!(
            !polled.events.is_empty() || polled.cursor != cursor || !polled.has_more,
            "{trigger} poll {} made no progress",
            costs.len()
        );
        costs.push(cost);
        ids.extend(polled.events.into_iter().map(|e| e.id));
        cursor = polled.cursor;
        if !polled.has_more {
            break;
        }
    }
    let size = cursor.as_ref().map(|c| c.to_string().len()).unwrap_or(0);
    assert!(
        size < 8_192,
        "{trigger}: the cursor stays small ({size} bytes)"
    );
    // Caught up, a poll is one request and delivers nothing.
    admin(emu, "reset-request-log").await;
    let idle = session
        .poll(trigger, &input, cursor.as_ref())
        .await
        .unwrap();
    assert!(idle.events.is_empty() && !idle.has_more);
    assert_eq!(
        requests_to(emu, path).await,
        1,
        "{trigger}: a caught-up poll"
    );
    (ids, costs)
}

/// Requests logged on paths starting with `path`.
async fn requests_to(emu: &RunningEmulator, path: &str) -> usize {
    requests(emu)
        .await
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with(path))
        .count()
}

/// Every item once, and what the whole drain cost: at most a few requests per page of items
/// (re-reading the window each poll would cost about 20,000 pages in all).
fn assert_drained(trigger: &str, ids: &[String], costs: &[usize]) {
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (BACKLOG, BACKLOG),
        "{trigger}: every item exactly once"
    );
    let (polls, total) = (costs.len(), costs.iter().sum::<usize>());
    eprintln!("{trigger}: {BACKLOG} items in {polls} polls, {total} requests");
    // Polls deliver close to a full page: fewer only where a page ends mid-slice.
    assert!(
        polls <= BACKLOG / BUDGET * 11 / 10,
        "{trigger}: {polls} polls for {BACKLOG} items"
    );
    assert!(
        total <= 4 * BACKLOG / BUDGET,
        "{trigger}: {total} requests in {polls} polls"
    );
}

fn capped() -> Runtime {
    runtime_with(Limits {
        requests_per_call: CAP,
        ..Limits::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_updated_drains_a_20000_workflow_backlog_in_bounded_polls() {
    let emu = start_emulator().await;
    let since = backlog(&emu, "bulk-workflows").await;
    let rt = capped();
    let session = session_in(&rt, &emu, "backlog-workflows").await;
    // The cap bites: reading the backlog in one call would need 200 requests.
    let refused = report(
        session
            .execute("list_workflows", &json!({ "max_items": 2_000 }))
            .await
            .unwrap_err(),
    );
    assert!(
        refused
            .to_string()
            .contains("more than 10 requests in one call"),
        "{refused}"
    );

    let (ids, costs) = drain(
        &session,
        &emu,
        "workflow_updated",
        &since,
        "/public/api/v1/workflows",
    )
    .await;
    assert_drained("workflow_updated", &ids, &costs);
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickwrap_acceptance_drains_a_20000_acceptance_backlog_in_bounded_polls() {
    let emu = start_emulator().await;
    let since = backlog(&emu, "bulk-acceptances").await;
    let rt = capped();
    let form = clickwrap_token_form(&emu, F::ADMIN_ACCESS_TOKEN);
    let session = rt
        .connect(&config(form), tokens(&scratch("backlog-acceptances")))
        .await
        .unwrap();
    let (ids, costs) = drain(
        &session,
        &emu,
        "clickwrap_acceptance",
        &since,
        "/v1.1/activity",
    )
    .await;
    assert_drained("clickwrap_acceptance", &ids, &costs);
    emu.shutdown().await;
}
