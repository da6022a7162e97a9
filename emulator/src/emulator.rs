//! The tenant: the [`Emulator`] handle and everything mutable in one [`Data`] behind one lock,
//! taken briefly and never across an `.await`. Sits between `infra` and `store`: `Data`'s
//! fields are all `store` types (the cross-cutting state included), so this file names nothing
//! above it, and the contract (`infra::contract`) is held as a `Judge` trait object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::store::clickwrap;
use crate::store::deliveries::{Hub, Outbox};
use crate::store::events::{Event, with_updates};
use crate::store::faults::Faults;
use crate::store::files::FileStore;
use crate::store::lifecycle::LifecycleStore;
use crate::store::rate_limits::{RateLimits, ResetFormat};
use crate::store::repository::Repository;
use crate::store::scim::ScimStore;
use crate::store::seed::{Seed, Workflow};
use crate::store::signatures::SignStore;
use crate::store::time;
use crate::store::tokens::{AccessToken, AuthCode, RefreshGrant};
use crate::store::webhooks_and_jobs::PlatformStore;

/// Most entries the request log keeps (oldest dropped first).
const REQUEST_LOG_CAP: usize = 10_000;

/// Everything that changes while the emulator runs.
#[derive(Debug, Default)]
pub struct Data {
    pub workflows: Vec<Workflow>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub auth_codes: HashMap<String, AuthCode>,
    pub request_log: Vec<Value>,
    /// Ironclad's rate-limit buckets and injected 429s (`rate_limits`).
    pub rate_limits: RateLimits,
    /// Seeded fault injection and its log (`faults`).
    pub faults: Faults,
    /// Webhooks, export jobs and async launch jobs (`store::webhooks_and_jobs`).
    pub platform: PlatformStore,
    /// Approvals, turns, comments and participants per workflow (`workflow_lifecycle`).
    pub workflow_lifecycle: LifecycleStore,
    /// Records, entities and obligations (`records`).
    pub repository: Repository,
    /// Signature packets, packet document order and email threads per workflow (`workflow_sign`).
    pub sign: SignStore,
    /// Uploaded file bytes and smart-import credits (`files`).
    pub files: FileStore,
    /// Webhook delivery queues, attempt log, retry schedule and signing key (`deliveries`).
    pub deliveries: Outbox,
    /// SCIM users and groups (`scim`).
    pub scim: ScimStore,
    /// Ironclad Clickwrap's sites, contracts, groups, signers, activity and API keys.
    pub clickwrap: clickwrap::Store,
    last_ms: i64,
}

impl Data {
    fn from_seed(seed: &Seed, hub: Arc<Hub>) -> Self {
        Self {
            workflows: seed.workflows.clone(),
            workflow_lifecycle: LifecycleStore::from_seed(seed),
            repository: Repository::seeded(),
            sign: SignStore::from_seed(seed),
            platform: PlatformStore::seeded(),
            files: FileStore::seeded(),
            deliveries: Outbox::new(seed.company.id.clone(), hub),
            scim: ScimStore::from_seed(seed),
            clickwrap: clickwrap::seed::store(),
            ..Self::default()
        }
    }

    /// The clock, strictly increasing so that successive writes get distinct timestamps.
    pub fn tick(&mut self) -> i64 {
        self.last_ms = time::system_now_ms().max(self.last_ms + 1);
        self.last_ms
    }

    /// Raise the events of one change, in order: each is queued for every enabled webhook
    /// subscribed to its type (or to `*`).
    pub fn emit(&mut self, events: impl IntoIterator<Item = Event>) {
        let events = with_updates(events.into_iter().collect());
        if events.is_empty() {
            return;
        }
        let at = self.now();
        let Data {
            platform,
            deliveries,
            ..
        } = self;
        for event in &events {
            deliveries.enqueue(&platform.webhooks, event, at);
        }
    }

    /// The clock without advancing it.
    pub fn now(&self) -> i64 {
        time::system_now_ms().max(self.last_ms)
    }
}

struct Inner {
    seed: Seed,
    base_url: String,
    data: Mutex<Data>,
    /// What the delivery task and waiters hold on to across resets.
    hub: Arc<Hub>,
}

/// The contracts in force on an emulator, as the handle keeps them. `infra::contract` installs
/// the one implementation (and downcasts to it, through `Any`); a trait object so that this
/// module, below `infra`, need not name the contract's types.
#[cfg(feature = "contract")]
pub(crate) trait Judge: std::any::Any + Send + Sync {
    /// The violations by the emulator's own answers: a test server that made any fails when it
    /// stops (`RunningEmulator`'s drop).
    fn response_violations(&self) -> Vec<Value>;
}

/// A handle on one emulated Ironclad tenant; cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
    /// The OpenAPI contracts enforced on requests, if any (see `infra::contract`).
    #[cfg(feature = "contract")]
    pub(crate) contract: Option<Arc<dyn Judge>>,
}

impl Emulator {
    /// A tenant seeded from `seed`, serving absolute URLs (approval/signature links) on `base_url`.
    pub fn new(seed: Seed, base_url: impl Into<String>) -> Self {
        let hub = Arc::new(Hub::default());
        let data = Mutex::new(Data::from_seed(&seed, hub.clone()));
        Self {
            inner: Arc::new(Inner {
                seed,
                base_url: base_url.into().trim_end_matches('/').to_owned(),
                data,
                hub,
            }),
            #[cfg(feature = "contract")]
            contract: None,
        }
    }

    pub fn seed(&self) -> &Seed {
        &self.inner.seed
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The mutable state, locked.
    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        self.inner
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Back to the seed: workflows, tokens, codes, the request log, and webhook deliveries
    /// (queues, attempt log, retry schedule, signing key). Attempts in flight are not logged.
    pub fn reset(&self) {
        *self.data() = Data::from_seed(&self.inner.seed, self.inner.hub.clone());
    }

    /// Expire every access token now; returns how many there were.
    pub fn expire_tokens(&self) -> usize {
        let mut data = self.data();
        let now = data.now();
        for token in data.access_tokens.values_mut() {
            token.expires_at_ms = token.expires_at_ms.min(now - 1);
        }
        data.access_tokens.len()
    }

    /// Enforce Ironclad's per-bucket rate limits (per minute unless `window_ms` is given).
    pub fn enforce_rate_limits(&self, window_ms: Option<i64>) {
        self.data()
            .rate_limits
            .configure(true, window_ms, ResetFormat::default());
    }

    /// The requests received so far (see `request_log`).
    pub fn requests(&self) -> Vec<Value> {
        self.data().request_log.clone()
    }

    pub fn clear_requests(&self) {
        self.data().request_log.clear();
    }

    pub(crate) fn log_request(&self, entry: Value) {
        let mut data = self.data();
        if data.request_log.len() >= REQUEST_LOG_CAP {
            data.request_log.remove(0);
        }
        data.request_log.push(entry);
    }
}
