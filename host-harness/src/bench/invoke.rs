//! Per-invocation cost: a bare call (a fresh instance from the `InstancePre`, then
//! `describe`), and a small action end to end against the emulator as a component and as the
//! same connector compiled natively over the same HTTP path, the two interleaved call by call.

use serde_json::json;

use super::lab::Lab;
use super::report::{Measure, Samples, Verdict, duration, timed};

/// The component may cost at most this much more than native code, end to end.
const TARGET_RATIO: f64 = 1.2;
const WARMUP: usize = 20;
const BARE_RUNS: usize = 300;
const ACTION_RUNS: usize = 400;

/// One small read: one request, a small answer.
pub const SMALL_ACTION: (&str, &str) = ("retrieve_workflow", "IC-1");

pub async fn measure(lab: &Lab) -> anyhow::Result<Vec<Measure>> {
    let mut bare = Samples::default();
    let mut actions = 0;
    for run in 0..WARMUP + BARE_RUNS {
        let (manifest, took) = timed(lab.runtime.describe_uncached()).await;
        actions = manifest?.actions.len();
        if run >= WARMUP {
            bare.push(took);
        }
    }

    let session = lab.session().await?;
    // The least a call can do: parse the connection and refuse an unknown action.
    let mut minimal = Samples::default();
    for run in 0..WARMUP + BARE_RUNS {
        let (out, took) = timed(session.execute("no_such_action", &json!({}))).await;
        anyhow::ensure!(out.is_err(), "an unknown action must be refused");
        if run >= WARMUP {
            minimal.push(took);
        }
    }
    let (action, id) = SMALL_ACTION;
    let input = json!({ "id": id });
    let (mut component, mut native) = (Samples::default(), Samples::default());
    for run in 0..WARMUP + ACTION_RUNS {
        let (out, wasm_took) = timed(session.execute(action, &input)).await;
        out.map_err(|e| anyhow::anyhow!("{action} as a component: {e}"))?;
        let (out, native_took) = timed(session.execute_native(action, &input)).await;
        out.map_err(|e| anyhow::anyhow!("{action} natively: {e}"))?;
        if run >= WARMUP {
            component.push(wasm_took);
            native.push(native_took);
        }
    }
    let ratio = component.median().as_secs_f64() / native.median().as_secs_f64();
    Ok(vec![
        Measure::info(
            "bare call: instantiate + describe",
            format!(
                "{} (median of {BARE_RUNS}; describe returns all {actions} actions' schemas)",
                duration(bare.median())
            ),
        ),
        Measure::info(
            "bare call: instantiate + a call that returns at once",
            format!(
                "{} (median of {BARE_RUNS}; connection parsed, unknown action refused)",
                duration(minimal.median())
            ),
        ),
        Measure::new(
            format!("small action ({action}) end to end"),
            format!(
                "component {}, native {} (medians of {ACTION_RUNS}, interleaved): {ratio:.2}×",
                duration(component.median()),
                duration(native.median())
            ),
            format!("≤ {TARGET_RATIO}× native"),
            Verdict::of(ratio <= TARGET_RATIO),
        ),
    ])
}
