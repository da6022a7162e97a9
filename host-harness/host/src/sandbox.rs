//! The box every call runs in: resource limits on its store, epoch interruption so wasm that
//! never returns to the host can be stopped, a wall-clock deadline, and the translation of a
//! trap or a limit into a typed error. A misbehaving guest costs one failed call, never the
//! host: each call has its own store, so the next call starts clean.

use std::time::{Duration, Instant};

use serde_json::json;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline};

use crate::report::{CallError, ErrorReport};

/// How often the engine's epoch advances. A spinning guest notices its deadline within a
/// tick, and yields to the executor every tick so other calls on the thread make progress.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one call may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Bytes per linear memory. A download near the 64 MiB response cap needs about five
    /// times its size in guest memory (body, base64, JSON text).
    pub memory_bytes: usize,
    /// Elements per table.
    pub table_elements: usize,
    /// Core instances, tables and linear memories per store. The Ironclad connector needs
    /// a handful of each (its module plus the WASI adapter's shims).
    pub instances: usize,
    pub tables: usize,
    pub memories: usize,
    /// Wall-clock time for one call, instantiation included. Above the longest wait an
    /// action may ask for (`launch_workflow_and_wait` allows 600 s).
    pub call_timeout: Duration,
    /// HTTP requests one call may make (redirect hops and retries included); one more is
    /// refused to the guest as `denied`.
    pub requests_per_call: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 512 << 20,
            table_elements: 100_000,
            instances: 32,
            tables: 32,
            memories: 8,
            call_timeout: Duration::from_secs(900),
            requests_per_call: crate::http_import::MAX_REQUESTS_PER_CALL,
        }
    }
}

/// The store's limiter: wasmtime's [`StoreLimits`], plus a note of the first refusal, so a
/// guest that traps after being refused memory is reported as over its limit rather than
/// as a bare `unreachable`; it also meters the linear memory the guest took.
pub struct CallLimiter {
    limits: StoreLimits,
    memory_bytes: usize,
    table_elements: usize,
    refused: Option<ErrorReport>,
    /// Bytes of linear memory granted, over all memories of the store. Linear memory never
    /// shrinks, so this is also the call's peak.
    taken: usize,
}

impl CallLimiter {
    pub fn new(limits: &Limits) -> Self {
        CallLimiter {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .table_elements(limits.table_elements)
                .instances(limits.instances)
                .tables(limits.tables)
                .memories(limits.memories)
                .build(),
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            refused: None,
            taken: 0,
        }
    }

    /// The guest's peak linear memory in this call, in bytes (all its memories).
    pub fn peak_memory(&self) -> usize {
        self.taken
    }

    /// Remember the first refusal, to report it if the guest then traps. `what` is only
    /// written for a refusal: a long read grows memory many times.
    fn note(
        &mut self,
        allowed: bool,
        limit: &str,
        desired: usize,
        max: usize,
        what: impl FnOnce() -> String,
    ) {
        if !allowed && self.refused.is_none() {
            self.refused = Some(ErrorReport {
                details: json!({ "limit": limit, "requested": desired, "allowed": max }),
                ..ErrorReport::new("limit_exceeded", what())
            });
        }
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        let allowed_mib = self.memory_bytes >> 20;
        self.note(allowed, "memory", desired, self.memory_bytes, || {
            format!(
                "the connector asked for {} MiB of memory; this host allows {allowed_mib} MiB per call",
                desired >> 20
            )
        });
        if allowed {
            self.taken += desired.saturating_sub(current);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.table_growing(current, desired, maximum)?;
        let max = self.table_elements;
        self.note(allowed, "table_elements", desired, max, || {
            format!("the connector asked for a table of {desired} elements; this host allows {max}")
        });
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Advance `engine`'s epoch every [`EPOCH_TICK`] for as long as the engine lives.
pub fn start_epoch_ticker(engine: &wasmtime::Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Arm a fresh store: wasm that runs past `deadline` traps with [`Trap::Interrupt`]; until
/// then it yields to the executor every tick, so the caller's own timeout can also fire
/// while the guest computes.
pub fn arm<T: 'static>(store: &mut wasmtime::Store<T>, deadline: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
}

/// A call that ran past its deadline.
pub fn deadline_report(timeout: Duration) -> CallError {
    ErrorReport {
        details: json!({ "deadline_ms": timeout.as_millis() as u64 }),
        ..ErrorReport::new(
            "timeout",
            format!(
                "the call did not finish within its {} s deadline and was stopped",
                timeout.as_secs_f64()
            ),
        )
    }
    .into()
}

/// What a failed wasm call becomes: the deadline's interrupt is a `timeout`, a failure after
/// a refused allocation is `limit_exceeded`, any other trap is `internal` with the trap
/// named; errors raised by the host itself pass through.
pub fn classify(error: wasmtime::Error, limiter: &mut CallLimiter, timeout: Duration) -> CallError {
    let trap = error.downcast_ref::<Trap>();
    if trap == Some(&Trap::Interrupt) {
        return deadline_report(timeout);
    }
    if let Some(report) = limiter.refused.take() {
        return report.into();
    }
    match trap {
        Some(trap) => ErrorReport {
            details: json!({ "trap": trap.to_string() }),
            ..ErrorReport::new(
                "internal",
                format!("the connector crashed ({trap}); the next call starts afresh"),
            )
        }
        .into(),
        None if is_limit_error(&error) => ErrorReport {
            details: json!({ "limit": "instances" }),
            ..ErrorReport::new("limit_exceeded", format!("{error:#}"))
        }
        .into(),
        None => CallError::Host(error.into()),
    }
}

/// Instantiation beyond the instance/table/memory counts fails with wasmtime's own message.
fn is_limit_error(error: &wasmtime::Error) -> bool {
    let text = format!("{error:#}");
    text.contains("resource limit exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_growth_is_remembered_once() {
        let mut limiter = CallLimiter::new(&Limits {
            memory_bytes: 1 << 20,
            ..Limits::default()
        });
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!limiter.memory_growing(1 << 20, 4 << 20, None).unwrap());
        assert!(!limiter.memory_growing(1 << 20, 8 << 20, None).unwrap());
        let CallError::Connector(report) = classify(
            Trap::UnreachableCodeReached.into(),
            &mut limiter,
            Duration::from_secs(1),
        ) else {
            panic!("a typed report")
        };
        assert_eq!(report.kind, "limit_exceeded");
        assert_eq!(report.details["requested"], 4 << 20, "the first refusal");
    }

    #[test]
    fn traps_become_typed_reports() {
        let mut limiter = CallLimiter::new(&Limits::default());
        let kind = |e: CallError| match e {
            CallError::Connector(r) => r.kind,
            CallError::Host(e) => panic!("untyped: {e:#}"),
        };
        let timeout = Duration::from_secs(2);
        assert_eq!(
            kind(classify(Trap::Interrupt.into(), &mut limiter, timeout)),
            "timeout"
        );
        assert_eq!(
            kind(classify(
                Trap::UnreachableCodeReached.into(),
                &mut limiter,
                timeout
            )),
            "internal"
        );
    }
}
