//! Instances made ahead of the calls that will use them. A call still gets a store and an
//! instance nothing has run in; what moves is when the work happens: the next call's
//! instance is made, and a finished call's store torn down (its linear memory reset), in a
//! background task after the answer is returned, instead of on the call's path. Against a
//! fast upstream that is about a sixth of a small call's latency (`connector-harness bench`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// One instance is kept ready for the next call, and finished stores are torn down in
    /// the background (needs a tokio runtime; without one, calls fall back to [`OnCall`]).
    ///
    /// [`OnCall`]: Instantiation::OnCall
    #[default]
    Ahead,
    /// Instantiate when the call starts and tear down before it returns.
    OnCall,
}

/// Instances ready to be used, at most this many.
const READY: usize = 1;

/// What making a store and an instance needs; shared with the background tasks.
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

/// The ready instances and the background work that tears down and refills.
pub(crate) struct Spares {
    mode: Instantiation,
    ready: Mutex<Vec<Ready>>,
    /// Background tasks not finished yet.
    busy: AtomicUsize,
    settled: tokio::sync::Notify,
}

impl Spares {
    pub fn new(mode: Instantiation) -> Arc<Self> {
        Arc::new(Spares {
            mode,
            ready: Mutex::new(Vec::new()),
            busy: AtomicUsize::new(0),
            settled: tokio::sync::Notify::new(),
        })
    }

    /// A ready instance, if one is waiting.
    pub fn take(&self) -> Option<Ready> {
        if self.mode == Instantiation::OnCall {
            return None;
        }
        self.lock().pop()
    }

    /// A call is over: tear its store down and make the next call's instance, in the
    /// background when instances are made ahead and a tokio runtime is at hand.
    pub fn finished(self: &Arc<Self>, factory: &Arc<Factory>, store: Store<HostState>) {
        let handle = match (self.mode, tokio::runtime::Handle::try_current()) {
            (Instantiation::Ahead, Ok(handle)) => handle,
            _ => return drop(store),
        };
        self.busy.fetch_add(1, Ordering::AcqRel);
        let (spares, factory) = (self.clone(), factory.clone());
        handle.spawn(async move {
            drop(store);
            if spares.lock().len() < READY {
                // A failure here is left to the next call, which instantiates on its path
                // and reports it.
                if let Ok(ready) = factory.ready().await {
                    let mut waiting = spares.lock();
                    if waiting.len() < READY {
                        waiting.push(ready);
                    }
                }
            }
            if spares.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
                spares.settled.notify_waiters();
            }
        });
    }

    /// Once no teardown or refill is under way (benchmarks time calls from a quiet host).
    pub async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            if self.busy.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Ready>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }
}
