//! `connector-harness bench`: the connector measured the way a runtime vendor would, against
//! the in-process emulator, each measure printed with its target and PASS/FAIL. Ratios are
//! taken within one run (the compared calls interleaved), because these machines are noisy.
//!
//! One module per measure: `load` (compile vs cached artifact), `invoke` (instantiate + call,
//! and a small action as a component vs natively), `cpu` (all the CPU a call costs, wherever
//! it runs), `bulk` (a 10,000-record read), `pacing`
//! (a long read against Ironclad's rate limits), `concurrency` (calls per second on 1 and 2
//! workers), `memory` (resident memory of a runtime idle and of concurrent calls), `schemas`
//! (what a call parses of the static catalog). `--smoke` keeps the exact
//! measures only (size, request counts, guest memory, schemas parsed) for CI.

mod bulk;
mod concurrency;
mod cpu;
mod invoke;
mod lab;
mod load;
mod machine;
mod memory;
mod pacing;
mod report;
mod schemas;

use std::path::Path;

use host_harness::{Instantiation, Runtime, RuntimeOptions};

pub use report::{Measure, Verdict};

/// Where the component's size stops being acceptable.
const SIZE_TARGET_BYTES: u64 = 1_500_000;

#[derive(clap::Args)]
pub struct Args {
    /// CI mode: only the exact measures (component size, request counts, guest memory,
    /// schemas parsed per call), in well under 30 seconds; timings are not measured.
    #[arg(long)]
    smoke: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the dated figures page, with the machine it ran on (`docs/bench-figures.md`).
    #[arg(long)]
    markdown: bool,
    /// Run only these timed measures (repeatable); size and schemas are always measured.
    #[arg(long, value_enum)]
    only: Vec<Timed>,
}

/// The timed measures, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Timed {
    Load,
    Invoke,
    Cpu,
    Bulk,
    Pacing,
    Concurrency,
    Memory,
}

impl Args {
    /// Whether a timed measure runs: not in smoke mode, and among `--only` when given.
    fn runs(&self, measure: Timed) -> bool {
        !self.smoke && (self.only.is_empty() || self.only.contains(&measure))
    }
}

/// The component loaded again, with its instances made as `instantiation` says.
fn load_with(
    component: &Path,
    options: &RuntimeOptions,
    instantiation: Instantiation,
) -> anyhow::Result<Runtime> {
    let options = RuntimeOptions {
        instantiation,
        ..options.clone()
    };
    Runtime::load(component, options)
}

/// Run the measures, print them, and fail when any measure misses its target.
pub async fn run(component: &Path, options: RuntimeOptions, args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) && !args.smoke {
        eprintln!(
            "note: an unoptimised build; timings mean little. Use `cargo run --profile perf -p host-harness --bin connector-harness -- bench`."
        );
    }
    let options = RuntimeOptions {
        // The connector reaches the in-process emulator.
        allow_loopback: true,
        ..options
    };
    // Taken before the run, so the load average is the machine's, not the bench's own.
    let machine = machine::Machine::now();
    let mut measures = vec![size(component)?];
    let scratch = lab::Scratch::new()?;
    let runtime = if !args.runs(Timed::Load) {
        Runtime::load(component, options.clone())?
    } else {
        progress("load: compiling, then loading the cached artifact");
        let (runtime, measure) = load::measure(component, options.clone(), scratch.path()).await?;
        measures.push(measure);
        runtime
    };
    let lab = lab::Lab::start(runtime, scratch.path()).await?;
    measures.extend(schemas::measure(&lab).await?);
    if args.runs(Timed::Invoke) {
        progress("per-invocation: instantiate + describe, a small action as component and native");
        let on_call = load_with(component, &options, Instantiation::OnCall)?;
        measures.extend(invoke::measure(&lab, &on_call).await?);
    }
    if args.runs(Timed::Cpu) {
        progress(
            "all-in CPU: a small action as component and native, the emulator in its own process",
        );
        measures.extend(cpu::measure(&lab.runtime, component, &options, scratch.path()).await?);
    }
    // The smoke run asserts the bulk read's exact counts; the timed run adds throughput.
    if args.smoke || args.runs(Timed::Bulk) {
        progress("bulk read: 10,000 records");
        measures.extend(bulk::measure(&lab, !args.smoke).await?);
    }
    if args.runs(Timed::Pacing) {
        progress("rate-limit pacing: a long read against the records read bucket");
        measures.extend(pacing::measure(&lab).await?);
    }
    if args.runs(Timed::Concurrency) {
        progress("concurrency: calls per second on 1 and 2 workers");
        measures.extend(concurrency::measure(&lab).await?);
    }
    if args.runs(Timed::Memory) {
        progress("memory: a runtime idle, and concurrent calls at their peak");
        measures.extend(memory::measure(&lab, component, &options).await?);
    }
    lab.shutdown().await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&measures))?
        );
    } else if args.markdown {
        print!("{}", report::markdown(&measures, &machine));
    } else {
        print!("{}", report::table(&measures));
    }
    let failed: Vec<&str> = measures
        .iter()
        .filter(|m| m.verdict == Verdict::Fail)
        .map(|m| m.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} measure(s) missed the target: {}",
            failed.len(),
            failed.join(", ")
        )
    }
}

fn size(component: &Path) -> anyhow::Result<Measure> {
    let bytes = std::fs::metadata(component)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", component.display()))?
        .len();
    Ok(Measure::new(
        "component size (release, stripped)",
        format!("{} ({bytes} bytes)", report::megabytes(bytes)),
        format!("≤ {}", report::megabytes(SIZE_TARGET_BYTES)),
        Verdict::of(bytes <= SIZE_TARGET_BYTES),
    ))
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}
