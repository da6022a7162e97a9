//! Concurrency: N invocations in parallel on one engine (the pooling allocator hands each a
//! slot), as calls per second with 1 and 2 workers, for a bare call (CPU only) and for the
//! small action against the emulator (which shares the machine's cores with the host).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::invoke::SMALL_ACTION;
use super::lab::Lab;
use super::report::Measure;

const WORKERS: [usize; 2] = [1, 2];
const PERIOD: Duration = Duration::from_millis(1_500);

pub async fn measure(lab: &Lab) -> anyhow::Result<Vec<Measure>> {
    let session = lab.session().await?;
    let (action, id) = SMALL_ACTION;
    let input = json!({ "id": id });
    let mut bare = Vec::new();
    let mut small = Vec::new();
    for workers in WORKERS {
        bare.push(throughput(workers, || async {
            lab.runtime
                .describe_uncached()
                .await
                .map(drop)
                .map_err(anyhow::Error::from)
        })?);
        small.push(throughput(workers, || async {
            session
                .execute(action, &input)
                .await
                .map(drop)
                .map_err(|e| anyhow::anyhow!("{action}: {e}"))
        })?);
    }
    let line = |rates: &[f64]| {
        let parts: Vec<String> = WORKERS
            .iter()
            .zip(rates)
            .map(|(w, r)| format!("{w} worker{}: {r:.0}/s", if *w == 1 { "" } else { "s" }))
            .collect();
        format!("{} ({:.2}×)", parts.join(", "), rates[1] / rates[0])
    };
    Ok(vec![
        Measure::info("concurrency: bare calls per second", line(&bare)),
        Measure::info(
            format!("concurrency: {action} calls per second"),
            line(&small),
        ),
    ])
}

/// Calls per second with `workers` threads calling `call` back to back for [`PERIOD`]. Each
/// worker is an OS thread driving its calls on the bench's tokio runtime, so the workers
/// really run in parallel (the emulator's connections are served by the runtime's threads).
fn throughput<F, Fut>(workers: usize, call: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let handle = tokio::runtime::Handle::current();
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let deadline = started + PERIOD;
    let worker = || {
        handle.block_on(async {
            while Instant::now() < deadline {
                call().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        })
    };
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<anyhow::Result<Vec<()>>>()
        })
    })?;
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
