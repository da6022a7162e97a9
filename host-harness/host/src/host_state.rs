//! Per-invocation store data: WASI (granting nothing), the HTTP path of the connection the
//! call runs for, the store's limiter (which also meters the guest's memory), and the log sink.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::ipaas::connector::{log, types};
use crate::http_import::HttpPath;
use crate::sandbox::CallLimiter;
use crate::secret::Redactor;

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) http: HttpPath,
    pub(crate) limiter: CallLimiter,
    redactor: Redactor,
    verbose: bool,
}

impl HostState {
    pub(crate) fn new(
        http: HttpPath,
        redactor: Redactor,
        verbose: bool,
        limiter: CallLimiter,
    ) -> Self {
        HostState {
            // No preopened directories, no environment, no arguments, stdio that goes
            // nowhere, no sockets and no name lookups: a connector gets nothing from WASI but
            // clocks and randomness. Its only way out is the `http` import.
            wasi: WasiCtx::builder()
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
            table: ResourceTable::new(),
            http,
            limiter,
            redactor,
            verbose,
        }
    }

    /// Give a store made ahead of its call that call's HTTP path and log redaction.
    pub(crate) fn serve(&mut self, http: HttpPath, redactor: Redactor) {
        self.http = http;
        self.redactor = redactor;
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
