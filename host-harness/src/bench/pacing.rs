//! Rate-limit pacing: a long read against the emulator's enforced `pub:records:read` bucket
//! (600 requests a minute, the minute scaled down so the read takes seconds). The host drives
//! the pages and paces them by the `X-RateLimit-*` headers; the measure is the rate achieved
//! against the rate the bucket allows, and the 429s met on the way.
//!
//! A bucket that starts full admits its first 600 requests at once, so the rate is measured
//! over a read of 3 windows' worth plus one request: the best any client can do is to send
//! request 1,801 exactly when the third window has passed since the first. The scaled window
//! leaves the allowed rate (100/s) well below what this machine serves, so the limit, not
//! the machine, paces the read.

use std::ops::ControlFlow;

use serde_json::json;

use super::lab::Lab;
use super::report::{Measure, Verdict, count, duration, timed};

/// Ironclad's `pub:records:read` quota per window.
const BUCKET: u64 = 600;
/// A minute scaled down 10×.
const WINDOW_MS: u64 = 6_000;
const WINDOWS: u64 = 3;
const PAGES: u64 = WINDOWS * BUCKET + 1;
/// Small pages keep the work per request low (1,801 pages of 5 are 9,005 of the 10,000 records).
const PAGE_SIZE: u64 = 5;
const TARGET_SHARE: f64 = 0.95;
const LIST: &str = "/public/api/v1/records";

pub async fn measure(lab: &Lab) -> anyhow::Result<Vec<Measure>> {
    super::bulk::fill(lab).await?;
    let session = lab.session().await?;
    // The token first, so that every request of the read goes to the bucket.
    session
        .execute("list_records", &json!({ "cursor": "", "max_items": 1 }))
        .await
        .map_err(|e| anyhow::anyhow!("warming the connection: {e}"))?;
    lab.admin(
        "rate-limits",
        json!({ "enabled": true, "window_ms": WINDOW_MS }),
    )
    .await?;
    lab.clear_requests();
    let mut pages = 0;
    let (read, took) =
        timed(
            session.read_pages("list_records", &json!({ "max_items": PAGE_SIZE }), |_| {
                pages += 1;
                if pages < PAGES {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            }),
        )
        .await;
    lab.admin("rate-limits", json!({ "enabled": false }))
        .await?;
    let read = read.map_err(|e| anyhow::anyhow!("the paced read: {e}"))?;
    let log = lab.emulator.emulator().requests();
    let answered = |status: u64| {
        log.iter()
            .filter(|r| r["path"] == LIST && r["status"] == status)
            .count()
    };
    let (admitted, limited) = (answered(200) as u64, answered(429) as u64);
    anyhow::ensure!(
        admitted == PAGES,
        "the paced read made {admitted} successful requests, expected {PAGES}"
    );

    let window_s = WINDOW_MS as f64 / 1e3;
    let allowed = BUCKET as f64 / window_s;
    let achieved = (PAGES - 1) as f64 / took.as_secs_f64();
    let share = achieved / allowed;
    Ok(vec![
        Measure::new(
            "rate-limit pacing: rate achieved",
            format!(
                "{} requests in {}: {achieved:.1}/s of {allowed:.0}/s allowed ({:.1}%)",
                count(PAGES),
                duration(took),
                share * 100.0
            ),
            format!(
                "≥ {:.0}% of {BUCKET} per {}",
                TARGET_SHARE * 100.0,
                duration(std::time::Duration::from_millis(WINDOW_MS))
            ),
            Verdict::of(share >= TARGET_SHARE),
        ),
        Measure::new(
            "rate-limit pacing: 429 answers",
            format!(
                "{limited} (host counted {}; pacing held requests {})",
                read.rate_limited,
                duration(read.paced)
            ),
            format!("no storm: ≤ 1 per window ({WINDOWS})"),
            Verdict::of(limited <= WINDOWS),
        ),
    ])
}
