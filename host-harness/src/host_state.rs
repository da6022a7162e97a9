//! Per-invocation store data: WASI (granting nothing), the HTTP policy and credentials of
//! the connection the call runs for, and the log sink.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::ipaas::connector::{log, types};
use crate::oauth::Authenticator;
use crate::policy::EgressPolicy;
use crate::retry::RetryPolicy;
use crate::sandbox::CallLimiter;
use crate::secret::Redactor;

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) http: reqwest::Client,
    pub(crate) policy: EgressPolicy,
    pub(crate) auth: Option<Arc<Authenticator>>,
    pub(crate) redactor: Redactor,
    pub(crate) verbose: bool,
    pub(crate) requests_made: u32,
    pub(crate) bounds: CallBounds,
}

/// What bounds one call: its store's limits, its deadline, its retry policy.
pub(crate) struct CallBounds {
    pub(crate) limiter: CallLimiter,
    /// When the call must be over; HTTP timeouts and retry waits stay within it.
    pub(crate) deadline: Instant,
    pub(crate) retry: RetryPolicy,
}

impl HostState {
    pub(crate) fn new(
        http: reqwest::Client,
        policy: EgressPolicy,
        auth: Option<Arc<Authenticator>>,
        redactor: Redactor,
        verbose: bool,
        bounds: CallBounds,
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
            policy,
            auth,
            redactor,
            verbose,
            requests_made: 0,
            bounds,
        }
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
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
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
