//! All-in CPU per small action (issue #22, item 1): the CPU time this process spends per
//! `retrieve_workflow` call — instantiation, the call, teardown, wherever they run
//! (`CLOCK_PROCESS_CPUTIME_ID` sums every thread) — as a component and as the same connector
//! compiled natively.
//!
//! Component calls are made from a task on a worker thread, as a host serving connections
//! makes them; the native path runs where it costs least, on this thread, its blocking HTTP
//! client driving the runtime from outside (on a worker it would hand the worker's core to
//! another thread on every call).
//!
//! The emulator runs in a process of its own here, so its CPU (rendering the answers, the
//! same for both paths) is not counted: only what the host and the connector spend. The two
//! paths alternate in blocks, each block from a settled runtime.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use host_harness::native::ExecuteNative;
use host_harness::{ConnectionConfig, Instantiation, Runtime, RuntimeOptions, Session, TokenStore};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::invoke::SMALL_ACTION;
use super::report::{Measure, Verdict};

const TARGET_RATIO: f64 = 1.10;
const WARMUP: usize = 20;
const BLOCKS: usize = 20;
const CALLS_PER_BLOCK: usize = 100;

/// `native_runtime` serves the native path's session (its component is never called).
pub async fn measure(
    native_runtime: &Runtime,
    component: &Path,
    options: &RuntimeOptions,
    scratch: &Path,
) -> anyhow::Result<Vec<Measure>> {
    let emulator = Emulator::start()?;
    let (action, id) = SMALL_ACTION;
    let input = json!({ "id": id });
    let driver = |instantiation, tokens: &str| -> anyhow::Result<Driver> {
        let runtime = super::load_with(component, options, instantiation)?;
        Ok(Driver::spawn(runtime, &emulator, scratch.join(tokens)))
    };
    let ahead = driver(Instantiation::Ahead, "tokens-cpu-ahead.json")?;
    let on_call = driver(Instantiation::OnCall, "tokens-cpu-on-call.json")?;
    // The native path runs where it costs least: straight on this thread, its blocking HTTP
    // client driving the runtime from outside.
    let native = Emulator::session(
        native_runtime,
        emulator.form.clone(),
        scratch.join("tokens-cpu-native.json"),
    )
    .await?;
    let run_native = async |calls: usize| -> anyhow::Result<()> {
        for _ in 0..calls {
            native.execute_native(action, &input).await?;
        }
        Ok(())
    };
    // Warm every path (tokens, connections, caches).
    ahead.run(Call::Action, WARMUP).await?;
    on_call.run(Call::Action, WARMUP).await?;
    on_call.run(Call::Refused, WARMUP).await?;
    run_native(WARMUP).await?;

    let mut spent = [Duration::ZERO; 4];
    for _ in 0..BLOCKS {
        spent[0] += cpu_of(ahead.run(Call::Action, CALLS_PER_BLOCK)).await?;
        spent[1] += cpu_of(run_native(CALLS_PER_BLOCK)).await?;
        spent[2] += cpu_of(on_call.run(Call::Action, CALLS_PER_BLOCK)).await?;
        spent[3] += cpu_of(on_call.run(Call::Refused, CALLS_PER_BLOCK)).await?;
    }
    let calls = (BLOCKS * CALLS_PER_BLOCK) as u32;
    let per_call = |d: Duration| (d / calls).as_micros();
    let [component, native, on_path, least] = spent;
    let ratio = component.as_secs_f64() / native.as_secs_f64();
    Ok(vec![
        Measure::new(
            format!("small action ({action}), all-in CPU per call"),
            format!(
                "component {} µs, native {} µs ({calls} calls each, alternated; the emulator \
                 in its own process): {ratio:.2}×",
                per_call(component),
                per_call(native)
            ),
            format!("≤ {TARGET_RATIO}× native"),
            Verdict::of(ratio <= TARGET_RATIO),
        ),
        Measure::info(
            "  instantiated on the call's path, all-in CPU",
            format!(
                "{} µs per call; the least call (instantiate, refuse an unknown action, tear \
                 down) {} µs",
                per_call(on_path),
                per_call(least)
            ),
        ),
    ])
}

/// The process CPU a piece of work costs.
async fn cpu_of(work: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<Duration> {
    let started = process_cpu()?;
    work.await?;
    Ok(process_cpu()? - started)
}

#[derive(Debug, Clone, Copy)]
enum Call {
    /// `retrieve_workflow`: one request, a small answer.
    Action,
    /// An unknown action: instantiate, parse the connection, refuse, tear down.
    Refused,
}

/// A runtime whose calls are made from a task on a worker thread, as a host serving
/// connections makes them (a call driven from outside the runtime hands each wakeup to
/// another thread). Each block of calls ends when the runtime has settled: the last call's
/// teardown belongs to the calls.
struct Driver {
    blocks: mpsc::UnboundedSender<(Call, usize, oneshot::Sender<anyhow::Result<()>>)>,
}

impl Driver {
    fn spawn(runtime: Runtime, emulator: &Emulator, tokens: PathBuf) -> Driver {
        let (blocks, mut next) =
            mpsc::unbounded_channel::<(Call, usize, oneshot::Sender<anyhow::Result<()>>)>();
        let form = emulator.form.clone();
        tokio::spawn(async move {
            let session = Emulator::session(&runtime, form, tokens).await;
            while let Some((call, calls, done)) = next.recv().await {
                let result = async {
                    let session = session.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let (action, id) = SMALL_ACTION;
                    let input = json!({ "id": id });
                    for _ in 0..calls {
                        match call {
                            Call::Action => {
                                session.execute(action, &input).await?;
                            }
                            Call::Refused => {
                                let refused = session.execute("no_such_action", &input).await;
                                anyhow::ensure!(refused.is_err(), "an unknown action is refused");
                            }
                        }
                    }
                    runtime.settled().await;
                    Ok(())
                };
                let _ = done.send(result.await);
            }
        });
        Driver { blocks }
    }

    async fn run(&self, call: Call, calls: usize) -> anyhow::Result<()> {
        let (done, result) = oneshot::channel();
        self.blocks
            .send((call, calls, done))
            .map_err(|_| anyhow::anyhow!("the calls' task ended"))?;
        result.await.context("the calls' task ended")?
    }
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

    async fn session(
        runtime: &Runtime,
        form: Value,
        tokens: PathBuf,
    ) -> anyhow::Result<Session<'_>> {
        runtime
            .connect(
                &ConnectionConfig::from_value(form)?,
                TokenStore::new(tokens),
            )
            .await
            .map_err(|e| anyhow::anyhow!("connecting to the emulator process: {e}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
