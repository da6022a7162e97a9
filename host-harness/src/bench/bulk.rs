//! Bulk read: 10,000 records, read twice from a fresh connection — the host driving the
//! pages (one call per page, items streamed out, the guest holding one page) and the connector
//! following every page in one call (the guest holding everything). Requests must be exactly
//! one per 100 records plus the token; the guest's peak linear memory comes from the store.

use std::ops::ControlFlow;
use std::time::Duration;

use serde_json::json;

use super::lab::Lab;
use super::report::{Measure, Verdict, count, duration, mebibytes, timed};

pub const RECORDS: u64 = 10_000;
const PAGE: u64 = 100;
/// The guest's peak linear memory when the host streams 100-item pages.
const MEMORY_TARGET: usize = 8 << 20;
const LIST: &str = "/public/api/v1/records";

/// Make the emulator hold exactly [`RECORDS`] records (the seed's plus generated ones).
pub async fn fill(lab: &Lab) -> anyhow::Result<()> {
    let session = lab.session().await?;
    let probe = session
        .execute("list_records", &json!({ "cursor": "", "max_items": 1 }))
        .await
        .map_err(|e| anyhow::anyhow!("counting records: {e}"))?;
    let held = probe["count"].as_u64().unwrap_or(0);
    if held < RECORDS {
        lab.admin("bulk-records", json!({ "count": RECORDS - held }))
            .await?;
    }
    Ok(())
}

/// `full`: also the read in one call and the throughputs (`--smoke` leaves them out).
pub async fn measure(lab: &Lab, full: bool) -> anyhow::Result<Vec<Measure>> {
    fill(lab).await?;
    let session = lab.session().await?;
    lab.clear_requests();
    let mut streamed = 0u64;
    let (read, streaming_took) = timed(session.read_pages("list_records", &json!({}), |items| {
        streamed += items.len() as u64;
        ControlFlow::Continue(())
    }))
    .await;
    let read = read.map_err(|e| anyhow::anyhow!("streaming list_records: {e}"))?;
    let mut measures = vec![
        requests(
            "bulk read, host drives 100-item pages: requests",
            lab.requests_to(LIST),
            streamed,
        ),
        Measure::new(
            "guest peak memory, host-driven 100-item pages",
            mebibytes(read.peak_memory),
            format!("≤ {}", mebibytes(MEMORY_TARGET)),
            Verdict::of(read.peak_memory <= MEMORY_TARGET),
        ),
    ];
    if !full {
        return Ok(measures);
    }

    let session = lab.session().await?;
    lab.clear_requests();
    let ((all, whole), whole_took) =
        timed(session.execute_measured("list_records", &json!({ "max_items": RECORDS }))).await;
    let all = all.map_err(|e| anyhow::anyhow!("list_records in one call: {e}"))?;
    let one_call_items = all["items"].as_array().map_or(0, Vec::len) as u64;
    let per_second = |items: u64, took: Duration| items as f64 / took.as_secs_f64();
    let rate = |items: u64, took: Duration| count(per_second(items, took) as u64);
    let (limit_items, limit_took) = parse_and_emit_limit(&all)?;
    let limit = per_second(limit_items, limit_took);
    let share = per_second(streamed, streaming_took) / limit;
    measures.extend([
        requests(
            "bulk read, one call follows every page: requests",
            lab.requests_to(LIST),
            one_call_items,
        ),
        Measure::info(
            "guest peak memory, one call holding 10,000 records",
            mebibytes(whole.peak_memory),
        ),
        Measure::info(
            "bulk read throughput",
            format!(
                "host-driven pages {} items/s ({}), one call {} items/s ({})",
                rate(streamed, streaming_took),
                duration(streaming_took),
                rate(one_call_items, whole_took),
                duration(whole_took)
            ),
        ),
        Measure::new(
            "bulk read against the parse + emit limit",
            format!(
                "host-driven pages at {:.0}% of {} items/s (serde_json parsing and re-emitting \
                 the same records' bytes natively, 100 a page)",
                share * 100.0,
                rate(limit_items, limit_took)
            ),
            format!("≥ {:.0}%", LIMIT_SHARE_TARGET * 100.0),
            Verdict::of(share >= LIMIT_SHARE_TARGET),
        ),
    ]);
    Ok(measures)
}

/// The share of the physical limit a bulk read should reach (issue #22, item 3).
const LIMIT_SHARE_TARGET: f64 = 0.8;

/// What this machine can do at most with the records' bytes: parse each 100-record page of
/// `all` (the one-call read's output) as JSON and write it out again, natively, with nothing
/// else — no HTTP, no emulator, no component. The items handled and the time it took (best
/// of three passes).
fn parse_and_emit_limit(all: &serde_json::Value) -> anyhow::Result<(u64, Duration)> {
    let items = all["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let pages: Vec<Vec<u8>> = items
        .chunks(PAGE as usize)
        .map(|page| serde_json::to_vec(&json!({ "list": page })))
        .collect::<Result<_, _>>()?;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        for page in &pages {
            let parsed: serde_json::Value = serde_json::from_slice(page)?;
            std::hint::black_box(serde_json::to_vec(&parsed)?);
        }
        best = best.min(started.elapsed());
    }
    Ok((items.len() as u64, best))
}

/// Exactly one list request per 100 records and one token request, every record read.
fn requests(name: &str, (tokens, lists): (usize, usize), items: u64) -> Measure {
    let expected = RECORDS.div_ceil(PAGE) as usize;
    Measure::new(
        name,
        format!("{} items: {lists} list + {tokens} token", count(items)),
        format!("{} items: {expected} list + 1 token", count(RECORDS)),
        Verdict::of(items == RECORDS && lists == expected && tokens == 1),
    )
}
