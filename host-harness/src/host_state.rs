//! Per-invocation store data: WASI (granting nothing), the HTTP path of the connection the
//! call runs for, the guest's memory meter, and the log sink.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::ipaas::connector::{log, types};
use crate::http_import::HttpPath;
use crate::secret::Redactor;

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) http: HttpPath,
    pub(crate) memory: MemoryMeter,
    redactor: Redactor,
    verbose: bool,
}

impl HostState {
    pub(crate) fn new(
        http: HttpPath,
        redactor: Redactor,
        verbose: bool,
        memory_limit: usize,
    ) -> Self {
        HostState {
            // No preopened directories, no environment, no inherited stdio: a connector gets
            // nothing from WASI but clocks and randomness.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            http,
            memory: MemoryMeter::new(memory_limit),
            redactor,
            verbose,
        }
    }
}

/// The store's resource limiter: refuses linear-memory growth past the limit (the guest sees
/// a failed allocation, not a host crash) and records how much memory the guest took.
/// Linear memory never shrinks, so what it took is also its peak.
#[derive(Debug)]
pub(crate) struct MemoryMeter {
    limit: usize,
    taken: usize,
}

impl MemoryMeter {
    fn new(limit: usize) -> Self {
        MemoryMeter { limit, taken: 0 }
    }

    /// Linear memory of every memory of the instance, in bytes.
    pub(crate) fn peak(&self) -> usize {
        self.taken
    }
}

impl ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.taken + desired.saturating_sub(current);
        if after > self.limit {
            return Ok(false);
        }
        self.taken = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let label = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        if self.verbose || matches!(level, log::Level::Warn | log::Level::Error) {
            eprintln!("[connector {label}] {}", self.redactor.redact(&message));
        }
        Ok(())
    }
}
