//! Load: compiling the component from its `.wasm` against loading the artifact compiled
//! earlier (cached by component hash and engine compatibility, as the harness does by
//! default). Both are the whole `Runtime::load`: read, hash, compile or map, link, pre-instantiate.

use std::path::Path;

use host_harness::{Runtime, RuntimeOptions};

use super::report::{Measure, Samples, Verdict, duration, timed};

/// The cached load must be at least this many times faster than compiling.
const TARGET_SPEEDUP: f64 = 50.0;
const CACHED_RUNS: usize = 15;

/// Returns the runtime loaded from the warm cache, for the other measures.
pub async fn measure(
    component: &Path,
    options: RuntimeOptions,
    scratch: &Path,
) -> anyhow::Result<(Runtime, Measure)> {
    let uncached = RuntimeOptions {
        cache_dir: None,
        ..options.clone()
    };
    let (compiled, compile) = timed(async { Runtime::load(component, uncached) }).await;
    drop(compiled?);
    let cached = RuntimeOptions {
        cache_dir: Some(scratch.join("compiled")),
        ..options
    };
    // The first load with a cache compiles and stores the artifact; the next ones map it.
    let mut runtime = Runtime::load(component, cached.clone())?;
    let mut samples = Samples::default();
    for _ in 0..CACHED_RUNS {
        let (loaded, took) = timed(async { Runtime::load(component, cached.clone()) }).await;
        runtime = loaded?;
        samples.push(took);
    }
    let speedup = compile.as_secs_f64() / samples.median().as_secs_f64();
    let measure = Measure::new(
        "load: compile vs cached artifact",
        format!(
            "compile {}, cached {} (median of {CACHED_RUNS}): {speedup:.0}× faster",
            duration(compile),
            duration(samples.median())
        ),
        format!("cached ≥ {TARGET_SPEEDUP:.0}× faster"),
        Verdict::of(speedup >= TARGET_SPEEDUP),
    );
    Ok((runtime, measure))
}
