//! The in-memory store: everything mutable lives in one [`Data`] behind one lock, taken
//! briefly and never across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::store::seed::{Seed, Workflow};
use crate::store::time;

/// Most entries the request log keeps (oldest dropped first).
const REQUEST_LOG_CAP: usize = 10_000;

/// How an access token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub client_id: String,
    pub grant: Grant,
    /// The consenting user for authorization-code tokens.
    pub user_id: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user_id: String,
    /// The scopes originally granted; a refresh may narrow but never widen them.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    /// `(method, challenge)` when the authorize request carried PKCE.
    pub pkce: Option<(String, String)>,
    pub expires_at_ms: i64,
}

/// Everything that changes while the emulator runs.
#[derive(Debug, Default)]
pub struct Data {
    pub workflows: Vec<Workflow>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub auth_codes: HashMap<String, AuthCode>,
    pub request_log: Vec<Value>,
    /// Ironclad's rate-limit buckets and injected 429s (`rate_limits`).
    pub rate_limits: crate::infra::rate_limits::RateLimits,
    /// Seeded fault injection and its log (`faults`).
    pub faults: crate::infra::faults::Faults,
    /// Webhooks, export jobs and async launch jobs (`platform`).
    pub platform: crate::store::webhooks_and_jobs::PlatformStore,
    /// Approvals, turns, comments and participants per workflow (`workflow_lifecycle`).
    pub workflow_lifecycle: crate::api::workflow_lifecycle::LifecycleStore,
    /// Records, entities and obligations (`records`).
    pub repository: crate::store::repository::Repository,
    /// Signature packets, packet document order and email threads per workflow (`workflow_sign`).
    pub sign: crate::store::signatures::SignStore,
    /// Uploaded file bytes and smart-import credits (`files`).
    pub files: crate::store::files::FileStore,
    /// Webhook delivery queues, attempt log, retry schedule and signing key (`deliveries`).
    pub deliveries: crate::infra::deliveries::Outbox,
    /// SCIM users and groups (`scim`).
    pub scim: crate::store::scim::ScimStore,
    /// Ironclad Clickwrap's sites, contracts, groups, signers, activity and API keys.
    pub clickwrap: crate::store::clickwrap::Store,
    last_ms: i64,
}

impl Data {
    fn from_seed(seed: &Seed, hub: Arc<crate::infra::deliveries::Hub>) -> Self {
        Self {
            workflows: seed.workflows.clone(),
            workflow_lifecycle: crate::api::workflow_lifecycle::LifecycleStore::from_seed(seed),
            repository: crate::store::repository::Repository::seeded(),
            sign: crate::store::signatures::SignStore::from_seed(seed),
            platform: crate::store::webhooks_and_jobs::PlatformStore::seeded(),
            files: crate::store::files::FileStore::seeded(),
            deliveries: crate::infra::deliveries::Outbox::new(seed.company.id.clone(), hub),
            scim: crate::store::scim::ScimStore::from_seed(seed),
            clickwrap: crate::store::clickwrap::seed::store(),
            ..Self::default()
        }
    }

    /// The clock, strictly increasing so that successive writes get distinct timestamps.
    pub fn tick(&mut self) -> i64 {
        self.last_ms = time::system_now_ms().max(self.last_ms + 1);
        self.last_ms
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
    hub: Arc<crate::infra::deliveries::Hub>,
}

/// A handle on one emulated Ironclad tenant; cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
    /// The OpenAPI contract enforced on requests, if any (see `contract`).
    #[cfg(feature = "contract")]
    pub(crate) contract: Option<Arc<crate::infra::contract::Enforced>>,
}

impl Emulator {
    /// A tenant seeded from `seed`, serving absolute URLs (approval/signature links) on `base_url`.
    pub fn new(seed: Seed, base_url: impl Into<String>) -> Self {
        let hub = Arc::new(crate::infra::deliveries::Hub::default());
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
        self.data().rate_limits.configure(
            true,
            window_ms,
            crate::infra::rate_limits::ResetFormat::default(),
        );
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
