//! All-in CPU per small action (issue #22, item 1): the CPU time this process spends per
//! `retrieve_workflow` call — instantiation, the call, teardown, wherever they run (the
//! runtime's background tasks included: `CLOCK_PROCESS_CPUTIME_ID` sums every thread) — as a
//! component and as the same connector compiled natively.
//!
//! The emulator runs in a process of its own here, so its CPU (rendering the answers, the
//! same for both paths) is not counted: only what the host and the connector spend. The two
//! paths alternate in blocks, each block from a settled runtime.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use host_harness::native::ExecuteNative;
use host_harness::{ConnectionConfig, Runtime, TokenStore};
use serde_json::{Value, json};

use super::invoke::SMALL_ACTION;
use super::report::{Measure, Verdict};

const TARGET_RATIO: f64 = 1.10;
const BLOCKS: usize = 8;
const CALLS_PER_BLOCK: usize = 50;

pub async fn measure(runtime: &Runtime, scratch: &std::path::Path) -> anyhow::Result<Measure> {
    let emulator = Emulator::start()?;
    let session = runtime
        .connect(
            &ConnectionConfig::from_value(emulator.form.clone())?,
            TokenStore::new(scratch.join("tokens-cpu.json")),
        )
        .await
        .map_err(|e| anyhow::anyhow!("connecting to the emulator process: {e}"))?;
    let (action, id) = SMALL_ACTION;
    let input = json!({ "id": id });
    // Warm both paths (token, connections, caches).
    for _ in 0..20 {
        session.execute(action, &input).await?;
        session.execute_native(action, &input).await?;
    }
    runtime.settled().await;
    let (mut component, mut native) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..BLOCKS {
        let started = process_cpu()?;
        for _ in 0..CALLS_PER_BLOCK {
            session.execute(action, &input).await?;
        }
        // The teardown and the next instance, made in the background, belong to the calls.
        runtime.settled().await;
        component += process_cpu()? - started;
        let started = process_cpu()?;
        for _ in 0..CALLS_PER_BLOCK {
            session.execute_native(action, &input).await?;
        }
        native += process_cpu()? - started;
    }
    let calls = (BLOCKS * CALLS_PER_BLOCK) as u32;
    let ratio = component.as_secs_f64() / native.as_secs_f64();
    Ok(Measure::new(
        format!("small action ({action}), all-in CPU per call"),
        format!(
            "component {} µs, native {} µs ({calls} calls each, alternated; the emulator in \
             its own process): {ratio:.2}×",
            (component / calls).as_micros(),
            (native / calls).as_micros()
        ),
        format!("≤ {TARGET_RATIO}× native"),
        Verdict::of(ratio <= TARGET_RATIO),
    ))
}

/// CPU time of every thread of this process so far.
fn process_cpu() -> anyhow::Result<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) } != 0;
    anyhow::ensure!(!failed, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Ok(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// `connector-harness emulator` in a child process, and a connection form for it.
struct Emulator {
    child: Child,
    form: Value,
}

impl Emulator {
    fn start() -> anyhow::Result<Emulator> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["emulator", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the emulator process")?;
        // It prints one pretty JSON document, then serves until stopped.
        let mut text = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().context("its stdout")?).lines();
        for line in lines.by_ref() {
            let line = line?;
            text.push_str(&line);
            if line == "}" {
                break;
            }
        }
        let started: Value = serde_json::from_str(&text)
            .with_context(|| format!("the emulator process printed: {text}"))?;
        let client = started["clients"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "demo-client-credentials"))
            .context("the emulator has the demo client")?;
        let form = json!({
            "api_type": "clm_public", "region": "custom", "instance_url": started["base_url"],
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"], "impersonate_user": started["users"][0],
        });
        Ok(Emulator { child, form })
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
