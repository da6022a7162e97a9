//! Loading a connector component and calling it. One `Engine`, one `Linker` and one
//! `InstancePre` per loaded component; a fresh `Store` for every call, so no state leaks
//! between invocations or tenants, each inside the [`sandbox`](crate::sandbox). Instances
//! come from a pooling allocator (slots reserved once, memory reset copy-on-write), which
//! keeps a call's instantiation in microseconds, and are made ahead of their calls
//! ([`spares`](crate::spares)).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
};

use crate::bindings::{
    Connector, ConnectorError, actions, builder, connection, metadata, triggers,
};
use crate::egress::Egress;
use crate::host_state::HostState;
use crate::http_import::{HttpPath, Route};
use crate::metadata::ComponentMetadata;
use crate::package::Package;
use crate::report::CallError;
use crate::resolver::GuardedResolver;
use crate::retry::RetryPolicy;
use crate::sandbox::{self, Limits};
pub use crate::spares::Instantiation;
use crate::spares::{Factory, Ready, Spares};
use crate::wit_version;

/// Calls of one runtime that may run at once: the pooling allocator's slots. One more fails
/// to instantiate (an error, not a wait), so an embedder queues beyond this.
pub const MAX_CONCURRENT_CALLS: u32 = 64;

/// How a runtime is set up; the CLI's global flags map onto this.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Permit `http://127.0.0.1:*` (tests and the emulator).
    pub allow_loopback: bool,
    /// Where compiled components are cached; None disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Show the connector's debug logs on stderr.
    pub verbose: bool,
    /// Memory, table and instance limits and the wall-clock deadline of every call.
    pub limits: Limits,
    /// Names answered without DNS (like curl's `--resolve`); still held to the egress
    /// policy's address checks.
    pub pinned_hosts: BTreeMap<String, Vec<IpAddr>>,
    /// When and how often a failed request is sent again.
    pub retry: RetryPolicy,
    /// Whether the next call's instance is made ahead of it (the default).
    pub instantiation: Instantiation,
    /// What connections may reach: the package's declaration and the operator's narrowing.
    /// The default declares nothing, so every connection that needs the network is refused.
    pub egress: Egress,
    /// The API's published quotas, kept to when its answers say nothing (the package's
    /// `rate_limits`; none by default).
    pub rate_limits: crate::pacing::RateLimits,
}

pub struct Runtime {
    /// `describe` never changes for a loaded component: asked once.
    pub(crate) manifest: tokio::sync::OnceCell<crate::bindings::metadata::Manifest>,
    factory: Factory,
    spares: Spares,
    exports: ExportIndices,
    options: RuntimeOptions,
    wit_version: wit_version::WitVersion,
    world: wit_version::WorldNames,
    metadata: ComponentMetadata,
}

impl Runtime {
    /// Load a package's component, with egress as its manifest declares (any
    /// `options.egress.declaration` is replaced; the operator's narrowing is kept).
    pub fn load_package(package: &Package, mut options: RuntimeOptions) -> anyhow::Result<Runtime> {
        options.egress.declaration = package.declared.egress.clone();
        options.rate_limits = package.declared.rate_limits.clone();
        Runtime::load(&package.component, options)
            .with_context(|| format!("{}@{}", package.id, package.version))
    }

    /// Load a component; what it may reach is `options.egress`.
    pub fn load(component_path: &Path, options: RuntimeOptions) -> anyhow::Result<Runtime> {
        let bytes = std::fs::read(component_path).with_context(|| {
            format!(
                "reading the connector component {}",
                component_path.display()
            )
        })?;
        // Read before compiling, so every later failure can say which build it was.
        let metadata = ComponentMetadata::read(&bytes)
            .with_context(|| format!("loading {}", component_path.display()))?;
        let named = match metadata.label() {
            Some(label) => format!("{label} from {}", component_path.display()),
            None => component_path.display().to_string(),
        };
        let engine = Engine::new(&engine_config(&options.limits))?;
        sandbox::start_epoch_ticker(&engine);
        let component = compile_cached(&engine, &bytes, options.cache_dir.as_deref())?;
        // Before linking: a version mismatch would otherwise surface as a missing import.
        let world = wit_version::WorldNames::of(&engine, &component);
        let wit_version = wit_version::check(world.all(), wit_version::supported())
            .with_context(|| format!("loading {named}"))?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Connector::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let pre = linker.instantiate_pre(&component)?;
        let exports = ExportIndices::new(&pre)?;
        let http = reqwest::Client::builder()
            // The host follows redirects itself, checking every hop against the policy.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve names where the policy cannot see.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(
                options.allow_loopback,
                options.pinned_hosts.clone(),
            )))
            .build()?;
        let label = metadata.label().unwrap_or_else(|| {
            component_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(Runtime {
            manifest: tokio::sync::OnceCell::new(),
            factory: Factory {
                engine,
                pre,
                http,
                limits: options.limits.clone(),
                verbose: options.verbose,
                label,
            },
            spares: Spares::new(options.instantiation),
            exports,
            options,
            wit_version,
            world,
            metadata,
        })
    }

    /// What the component says of itself (name, version, licence, source, revision…); empty
    /// for a component built without them.
    pub fn metadata(&self) -> &ComponentMetadata {
        &self.metadata
    }

    /// What the loaded component imports and exports, by name.
    pub fn world(&self) -> &wit_version::WorldNames {
        &self.world
    }

    /// The `ipaas:connector` version the loaded component implements.
    pub fn wit_version(&self) -> wit_version::WitVersion {
        self.wit_version
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    pub fn http_client(&self) -> &reqwest::Client {
        &self.factory.http
    }

    /// Tear down the last calls' stores and make the next call's instance now (both
    /// otherwise happen during the next call's waits): a quiet host for benchmarks, and the
    /// last call's memory released when a host goes idle.
    pub async fn settled(&self) {
        self.spares.settled(&self.factory).await
    }

    /// One call in a fresh store and instance, inside the sandbox: the store's limits,
    /// epoch interruption and the wall-clock deadline cover the call (and instantiation,
    /// when no instance was made ahead); a trap, a limit or the deadline becomes a typed
    /// error.
    pub(crate) async fn call<T>(
        &self,
        route: Route,
        f: impl AsyncFnOnce(
            &mut Store<HostState>,
            &Guest<'_>,
        ) -> wasmtime::Result<Result<T, ConnectorError>>,
    ) -> Result<T, CallError> {
        self.call_with(route, self.spares.take(), f).await
    }

    async fn call_with<T>(
        &self,
        route: Route,
        ready: Option<Ready>,
        f: impl AsyncFnOnce(
            &mut Store<HostState>,
            &Guest<'_>,
        ) -> wasmtime::Result<Result<T, ConnectorError>>,
    ) -> Result<T, CallError> {
        let limits = &self.options.limits;
        let deadline = Instant::now() + limits.call_timeout;
        let redactor = route.redactor.clone();
        let masks = route.redactor.clone();
        let http = HttpPath::new(
            self.factory.http.clone(),
            route,
            self.options.retry.clone(),
            deadline,
        )
        .with_request_cap(limits.requests_per_call);
        let (mut store, made) = match ready {
            Some(ready) => {
                let (store, instance) = ready.serve(http, redactor, deadline);
                (store, Some(instance))
            }
            None => (self.factory.store(http, redactor, deadline), None),
        };
        let call = async {
            let instance = match made {
                Some(instance) => instance,
                None => self.factory.instantiate(&mut store).await?,
            };
            let guest = Guest {
                instance,
                exports: &self.exports,
            };
            f(&mut store, &guest).await
        };
        let outcome = tokio::time::timeout_at(deadline.into(), async {
            // The call first; the last call's teardown and the next call's instance fill its
            // waits on the network, in this task (see `spares`).
            let (outcome, ()) = tokio::join!(biased; call, self.spares.replenish(&self.factory));
            outcome
        })
        .await;

        let result = match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(error))) => Err(error.into()),
            Ok(Err(error)) => Err(sandbox::classify(
                error,
                &mut store.data_mut().limiter,
                limits.call_timeout,
            )),
            // Blocked in a host call (a slow request, a WASI wait) at the deadline: the
            // call's future is dropped, which cancels it, and the store with it.
            Err(_elapsed) => Err(sandbox::deadline_report(limits.call_timeout)),
        };
        let result = result.map_err(|e| maybe_processed(e, store.data().http.stats()));
        self.spares.finished(store);
        // Nothing the connector says leaves the host with a secret in it.
        result.map_err(|e| self.labelled(crate::session::redacted(e, &masks)))
    }

    /// `id@version` of the loaded connector, with the source revision its metadata names
    /// (until `describe` has answered: its metadata's name and version, or its file name).
    pub fn label(&self) -> String {
        match (self.manifest.get(), self.metadata.short_revision()) {
            (Some(m), Some(rev)) => format!("{}@{} ({rev})", m.id, m.version),
            (Some(m), None) => format!("{}@{}", m.id, m.version),
            (None, _) => self.factory.label.clone(),
        }
    }

    /// A host failure, named by the connector it happened in, as a platform's log needs.
    pub(crate) fn labelled(&self, error: CallError) -> CallError {
        match error {
            CallError::Host(e) => CallError::Host(e.context(self.label())),
            e => e,
        }
    }

    /// A call whose store may not reach the network at all (describe, plan).
    pub(crate) async fn call_offline<T>(
        &self,
        f: impl AsyncFnOnce(
            &mut Store<HostState>,
            &Guest<'_>,
        ) -> wasmtime::Result<Result<T, ConnectorError>>,
    ) -> Result<T, CallError> {
        self.call(Route::offline(), f).await
    }

    /// The connector's plan for a connection form as given (no secrets are masked: pass a
    /// form without them), offline. For packaging tools that list what a connector reaches.
    pub async fn plan(
        &self,
        form: &serde_json::Value,
    ) -> Result<crate::bindings::connection::ConnectionPlan, CallError> {
        let form = form.to_string();
        self.call_offline(async |store, guest| {
            guest.connection(&mut *store)?.call_plan(store, &form).await
        })
        .await
    }

    /// `describe` through an instance made for it, bypassing the cached manifest and any
    /// instance made ahead: what one invocation costs when it does next to nothing (the
    /// benchmark's bare call).
    pub async fn describe_uncached(
        &self,
    ) -> Result<crate::bindings::metadata::Manifest, CallError> {
        self.call_with(Route::offline(), None, async |store, guest| {
            Ok(Ok(guest
                .metadata(&mut *store)?
                .call_describe(store)
                .await?))
        })
        .await
    }
}

/// Where each exported interface's functions are: looked up by name once per loaded
/// component.
struct ExportIndices {
    metadata: metadata::GuestIndices,
    connection: connection::GuestIndices,
    actions: actions::GuestIndices,
    triggers: triggers::GuestIndices,
    builder: builder::GuestIndices,
}

impl ExportIndices {
    fn new(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(ExportIndices {
            metadata: metadata::GuestIndices::new(pre)?,
            connection: connection::GuestIndices::new(pre)?,
            actions: actions::GuestIndices::new(pre)?,
            triggers: triggers::GuestIndices::new(pre)?,
            builder: builder::GuestIndices::new(pre)?,
        })
    }
}

/// One call's fresh instance. An interface's functions are type-checked when the call asks
/// for them, so a call pays for the one interface it uses: loading every export up front (the
/// generated `Connector`) type-checked the whole manifest type on every call, about a third
/// of instantiation.
pub struct Guest<'r> {
    instance: Instance,
    exports: &'r ExportIndices,
}

impl Guest<'_> {
    pub fn metadata(&self, store: &mut Store<HostState>) -> wasmtime::Result<metadata::Guest> {
        self.exports.metadata.load(store, &self.instance)
    }

    pub fn connection(&self, store: &mut Store<HostState>) -> wasmtime::Result<connection::Guest> {
        self.exports.connection.load(store, &self.instance)
    }

    pub fn actions(&self, store: &mut Store<HostState>) -> wasmtime::Result<actions::Guest> {
        self.exports.actions.load(store, &self.instance)
    }

    pub fn triggers(&self, store: &mut Store<HostState>) -> wasmtime::Result<triggers::Guest> {
        self.exports.triggers.load(store, &self.instance)
    }

    pub fn builder(&self, store: &mut Store<HostState>) -> wasmtime::Result<builder::Guest> {
        self.exports.builder.load(store, &self.instance)
    }
}

/// Linear memory a finished call leaves resident in its pool slot, reset in place for the
/// next call instead of being unmapped and faulted in again.
const KEEP_RESIDENT: usize = 16 << 20;

/// Cranelift, the component model, async host calls, epoch interruption, and a pooling
/// allocator sized by [`MAX_CONCURRENT_CALLS`] and the per-call memory limit. A component
/// needs several core instances (the program, wit-component's shims), so those pools are a
/// few per call.
///
/// Where Linux offers `PAGEMAP_SCAN` (6.7+), a finished call's memory is reset by copying back
/// only the pages it dirtied and stays resident: a small call then costs no page faults and no
/// `madvise`, which was a third of a bare call. Elsewhere memory is released and faulted in as
/// usual (resetting a fixed resident prefix instead would cost more than it saves).
fn engine_config(limits: &Limits) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_CONCURRENT_CALLS)
        .total_core_instances(MAX_CONCURRENT_CALLS * 8)
        .total_memories(MAX_CONCURRENT_CALLS * 2)
        .total_tables(MAX_CONCURRENT_CALLS * 4)
        .total_stacks(MAX_CONCURRENT_CALLS)
        .max_memory_size(limits.memory_bytes);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        // Compiled code checks the epoch at loop heads and function entries, so a guest
        // that never calls the host can still be stopped at its deadline.
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Compile, or load the artifact compiled earlier by this same engine configuration.
/// Keyed by the component's hash and the engine's compatibility hash, so a changed
/// component or wasmtime never loads a stale artifact.
fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> anyhow::Result<Component> {
    let Some(dir) = cache_dir else {
        return Ok(Component::new(engine, bytes)?);
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
    if path.exists() {
        // SAFETY: the file was written below by `precompile_component` of an engine with the
        // same compatibility hash (part of the file name), in a directory this host owns.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(e) => eprintln!("ignoring unusable compiled cache {}: {e:#}", path.display()),
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    if let Err(e) = write_atomic(&path, &compiled) {
        eprintln!(
            "could not cache the compiled component in {}: {e:#}",
            dir.display()
        );
    }
    // SAFETY: these bytes were produced by `precompile_component` on this very engine.
    Ok(unsafe { Component::deserialize(engine, &compiled) }?)
}

/// A failed call that may have left a write behind says so, whatever the connector reported:
/// `details.maybe_processed: true`, so a recipe checks before it repeats the call.
fn maybe_processed(error: CallError, stats: crate::http_import::RequestStats) -> CallError {
    match error {
        CallError::Connector(mut report) if stats.writes_in_doubt > 0 => {
            if !report.details.is_object() {
                report.details = serde_json::json!({});
            }
            report.details["maybe_processed"] = true.into();
            CallError::Connector(report)
        }
        other => other,
    }
}

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{:016x}", h.finish())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no directory")?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// `$XDG_CACHE_HOME` or `~/.cache`, under `connector-harness/`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("connector-harness"))
}
