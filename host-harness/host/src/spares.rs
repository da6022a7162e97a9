//! Instances made ahead of the calls that will use them. A call still gets a store and an
//! instance nothing has run in; what moves is when the work happens: while a call waits on
//! the network, its own task tears down the previous call's store (its linear memory reset)
//! and makes the next call's instance, instead of either sitting on a call's path. Against a
//! fast upstream that is about a sixth of a small call's latency (`connector-harness bench`).

use std::sync::Mutex;
use std::time::Instant;

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Engine, Store};

use crate::host_state::HostState;
use crate::http_import::{HttpPath, Route};
use crate::sandbox::{self, CallLimiter, Limits};
use crate::secret::Redactor;

/// When a call's instance is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Instantiation {
    /// One instance is kept ready for the next call; finished stores are torn down, and the
    /// next instance made, by the next call while it waits on the network (or by
    /// `Runtime::settled`). An idle runtime holds one ready instance and the last call's
    /// store.
    #[default]
    Ahead,
    /// Instantiate when the call starts and tear down before it returns.
    OnCall,
}

/// Instances ready to be used, at most this many.
const READY: usize = 1;

/// Finished stores a call tears down beside its own work. Each call leaves one, so two keep
/// the backlog from growing, and a call after a burst of concurrent ones is not held up
/// tearing down all of theirs.
const TEARDOWNS_PER_CALL: usize = 2;

/// What making a store and an instance needs.
pub(crate) struct Factory {
    pub engine: Engine,
    pub pre: InstancePre<HostState>,
    pub http: reqwest::Client,
    pub limits: Limits,
    pub verbose: bool,
    pub label: String,
}

impl Factory {
    /// A fresh store for a call on `http`, with the call's limits and deadline.
    pub fn store(&self, http: HttpPath, redactor: Redactor, deadline: Instant) -> Store<HostState> {
        let state = HostState::new(http, redactor, self.verbose, CallLimiter::new(&self.limits));
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        sandbox::arm(&mut store, deadline);
        store
    }

    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        self.pre
            .instantiate_async(store)
            .await
            .map_err(|e| e.context(format!("instantiating {}", self.label)))
    }

    /// A store and instance made before any call wants them: no route yet (a call sets its
    /// own with [`Ready::serve`]), and instantiation held to the usual call deadline.
    async fn ready(&self) -> wasmtime::Result<Ready> {
        let deadline = Instant::now() + self.limits.call_timeout;
        let http = HttpPath::new(
            self.http.clone(),
            Route::offline(),
            Default::default(),
            deadline,
        );
        let mut store = self.store(http, Redactor::default(), deadline);
        let instance = self.instantiate(&mut store).await?;
        Ok(Ready { store, instance })
    }
}

/// A store with a fresh instance in it that no call has used.
pub(crate) struct Ready {
    store: Store<HostState>,
    instance: Instance,
}

impl Ready {
    /// Hand the instance to a call: its HTTP path, log redaction and deadline.
    pub fn serve(
        mut self,
        http: HttpPath,
        redactor: Redactor,
        deadline: Instant,
    ) -> (Store<HostState>, Instance) {
        self.store.data_mut().serve(http, redactor);
        sandbox::arm(&mut self.store, deadline);
        (self.store, self.instance)
    }
}

/// The ready instances, and the stores of finished calls waiting to be torn down.
///
/// Nothing here runs in a task of its own: a call does this work in its own task, beside its
/// own, while it waits on the network ([`Spares::replenish`]). A background task would hand
/// every call's store to another thread — a wakeup, a context switch, cold caches — which
/// cost more CPU than the work itself (`connector-harness bench --only cpu`).
pub(crate) struct Spares {
    mode: Instantiation,
    ready: Mutex<Vec<Ready>>,
    /// Stores of finished calls, oldest first: torn down by the next calls while they wait,
    /// or by [`Spares::settled`].
    retired: Mutex<Vec<Store<HostState>>>,
}

impl Spares {
    pub fn new(mode: Instantiation) -> Self {
        Spares {
            mode,
            ready: Mutex::new(Vec::new()),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// A ready instance, if one is waiting.
    pub fn take(&self) -> Option<Ready> {
        if self.mode == Instantiation::OnCall {
            return None;
        }
        lock(&self.ready).pop()
    }

    /// A call is over: its store is torn down now when instances are made on the call's
    /// path, or by the next call beside its own work.
    pub fn finished(&self, store: Store<HostState>) {
        match self.mode {
            Instantiation::OnCall => drop(store),
            Instantiation::Ahead => lock(&self.retired).push(store),
        }
    }

    /// Tear down finished calls' stores (the oldest few) and make the next call's instance. A
    /// call runs this beside its own work (polled after it, so it fills the call's waits on
    /// the network).
    pub async fn replenish(&self, factory: &Factory) {
        self.tidy(TEARDOWNS_PER_CALL, factory).await
    }

    /// No finished call's store left and the next instance made (benchmarks time calls from
    /// a quiet host; an idle host calls it to release the last call's memory).
    pub async fn settled(&self, factory: &Factory) {
        self.tidy(usize::MAX, factory).await
    }

    async fn tidy(&self, at_most: usize, factory: &Factory) {
        if self.mode == Instantiation::OnCall {
            return;
        }
        // No `yield_now` first to let the call's request go out: a yield goes back through
        // tokio's queue, which wakes a parked worker on the other core, the very cost this
        // design avoids (measured: all-in CPU about 1.25× native without it, 1.43× with it).
        let retired: Vec<_> = {
            let mut retired = lock(&self.retired);
            let n = retired.len().min(at_most);
            retired.drain(..n).collect()
        };
        drop(retired);
        if lock(&self.ready).len() < READY {
            // A failure here is left to the next call, which instantiates on its path and
            // reports it.
            if let Ok(ready) = factory.ready().await {
                let mut waiting = lock(&self.ready);
                if waiting.len() < READY {
                    waiting.push(ready);
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
