//! Resident memory, as the kernel counts it for this process (`/proc/self/statm`): what a
//! runtime holds idle, and what concurrent calls add. Reported, no target (issue #22, item 4).
//!
//! - **Idle.** A runtime keeps one instance made ahead of the next call, however many
//!   connections it serves (`spares`), so 1,000 idle connections hold one instance, not
//!   1,000. Measured: another runtime of the same component loaded, called once and settled
//!   (with its spare refilled) against the process before it, and the same for a runtime that
//!   makes no spare.
//! - **Concurrent calls.** `CONCURRENT` small actions started at once on one connection, the
//!   peak resident set sampled while they run, against the settled process before them. A
//!   pool slot keeps what a call touched resident for the next call (`KEEP_RESIDENT`), so the
//!   figure is also what the runtime keeps after a burst of that size.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use host_harness::{Instantiation, Runtime, RuntimeOptions};
use serde_json::json;

use super::invoke::SMALL_ACTION;
use super::lab::Lab;
use super::report::Measure;

const CONCURRENT: usize = 16;
const ROUNDS: usize = 5;

pub async fn measure(
    lab: &Lab,
    component: &std::path::Path,
    options: &RuntimeOptions,
) -> anyhow::Result<Vec<Measure>> {
    let mut measures = Vec::new();

    // What a loaded runtime holds idle, with and without its made-ahead instance: the two
    // alternated, the median of `ROUNDS` each (the first load of a process also maps what
    // every later one shares).
    let mut idle = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        for (kind, instantiation) in [Instantiation::OnCall, Instantiation::Ahead]
            .into_iter()
            .enumerate()
        {
            lab.runtime.settled().await;
            let before = resident()?;
            let runtime = Runtime::load(
                component,
                RuntimeOptions {
                    instantiation,
                    ..options.clone()
                },
            )?;
            // One call, so the ahead runtime has used and refilled its spare.
            runtime.describe_uncached().await?;
            runtime.settled().await;
            idle[kind].push(resident()?.saturating_sub(before));
            drop(runtime);
        }
    }
    let idle = idle.map(|mut sizes| {
        sizes.sort_unstable();
        sizes[sizes.len() / 2]
    });
    measures.push(Measure::info(
        "memory: a loaded runtime, idle",
        format!(
            "{} without an instance made ahead, {} with it (one per runtime, not per connection)",
            mib(idle[0]),
            mib(idle[1])
        ),
    ));

    // What concurrent calls add, at their peak.
    let session = lab.session().await?;
    let (action, id) = SMALL_ACTION;
    let input = json!({ "id": id });
    session.execute(action, &input).await?;
    lab.runtime.settled().await;
    let before = resident()?;
    let peak = Arc::new(AtomicU64::new(before));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (peak.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                if let Ok(now) = resident() {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let calls = (0..CONCURRENT).map(|_| session.execute(action, &input));
    let outcomes = join_all(calls).await;
    running.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    for outcome in outcomes {
        outcome.map_err(|e| anyhow::anyhow!("{action}: {e}"))?;
    }
    lab.runtime.settled().await;
    let added = peak.load(Ordering::Relaxed).saturating_sub(before);
    let kept = resident()?.saturating_sub(before);
    measures.push(Measure::info(
        format!("memory: {CONCURRENT} concurrent {action} calls"),
        format!(
            "peak +{} (+{} per call); +{} still resident after, kept by the pool's slots for reuse",
            mib(added),
            mib(added / CONCURRENT as u64),
            mib(kept)
        ),
    ));
    Ok(measures)
}

/// Every future run to completion together (on this task), outputs in order.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// The process's resident set, in bytes.
fn resident() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("/proc/self/statm has no resident field"))?
        .parse()?;
    Ok(pages * 4096)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
