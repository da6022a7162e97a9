//! An offline, stateful emulator of Ironclad's CLM Public API and its OAuth 2.0 server, built
//! from Ironclad's published OpenAPI documents, for tests and demos.
//!
//! - `/oauth/authorize|token|userinfo|company-info` (`infra::oauth`); consent is automatic.
//! - `/scim/v2/**`: Ironclad's SCIM 2.0 API (`api::scim`): Users, Groups and Schemas, with
//!   SCIM's own error bodies and paging, and the same tokens and scope checks.
//! - `/public/api/v1/**`: bearer token, acting user and scope checks (`infra::auth`), then
//!   the handlers by area (`api::workflows`, `api::records`, …); unknown routes answer Ironclad's
//!   `NOT_FOUND` after authentication.
//! - Ironclad Clickwrap (`api::clickwrap`): the REST API under `/v1.1/**`, the Activity API
//!   (`/send`, `/latest`, `/retrieve`, `/published`) and Clickwrap API keys at `/oauth/token`.
//! - `/_emulator/**`: test controls (`infra::admin`), not part of Ironclad: `POST expire-tokens`,
//!   `GET requests` (the request log, secrets redacted), `POST reset-request-log`, `POST reset`,
//!   `POST throttle` (the next N API requests answer 429 with `Retry-After`), `POST rate-limits`
//!   (enforce Ironclad's per-bucket quotas, `infra::rate_limits`; off by default),
//!   `GET|POST faults` (seeded fault injection, `infra::faults`; off by default), and the
//!   webhook controls (`GET deliveries`, `GET wait-deliveries`, `POST webhook-delivery`,
//!   `POST webhook-key/rotate`, `POST workflows/{id}/complete`), `POST bulk-records`
//!   (add N generated records for volume tests, `infra::bulk`) and `POST scim-page-limit`.
//! - Webhooks are delivered as Ironclad delivers them: state changes raise events (`store::events`),
//!   queued per subscribed webhook (`store::deliveries`) and POSTed signed, in order, with
//!   retries (`infra::deliveries`, `infra::signing`) by a task `serve` starts. Only loopback targets are called.
//! - Optionally (`start_with_contract`, [`Emulator::with_contract`]), every `/public/api/v1/**`
//!   request is first judged against Ironclad's official OpenAPI (`infra::contract`): a
//!   violation answers 400 `CONTRACT_VIOLATION` before any handler and is listed at
//!   `GET /_emulator/contract-violations`.
//!
//! Everything starts from a [`Seed`] (`fixtures/emulator/seed.json` by default) and lives in
//! memory. The source is layered, each folder using only those after it (checked by
//! `tests/layering.rs`):
//!
//! - `router.rs`: the whole HTTP surface, every area's routes behind the middleware.
//! - `api/`: Ironclad's endpoints by area, axum handlers in Ironclad's wire shapes.
//! - `infra/`: what the areas share as behaviour: authentication and OAuth, errors, request
//!   parsing, the contract, the fault and rate-limit middleware, the request log, test
//!   controls, the webhook delivery task.
//! - `emulator.rs`: the [`Emulator`] handle and `Data`, all mutable state behind one lock.
//! - `store/`: the state itself per area (and the cross-cutting state: tokens, rate-limit
//!   buckets, the fault log, webhook delivery queues), no HTTP.
//!
//! To grow it: the area's state in `store/<area>.rs` (a field of `Data`), its handlers in
//! `api/<area>.rs` with a `routes()` merged in `router.rs`; handlers begin with
//! `actor.require_scope(..)`, answer errors as [`ApiError`] and page lists through
//! `api::pagination::PageRequest`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emu = ironclad_emulator::start(([127, 0, 0, 1], 0).into()).await?;
//! println!("{} — try client {}", emu.base_url(), emu.seed().clients[0].client_id);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod emulator;
mod infra;
mod router;
mod store;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use emulator::Emulator;
pub use infra::auth::Actor;
#[cfg(feature = "contract")]
pub use infra::contract::{
    AnswerParts, Contract, Correction, ERRATA, Erratum, RequestParts, TOLERATED, Tolerated,
    UNDECLARED_STATUSES, Undeclared, UndeclaredStatus, Violation, apply_errata,
};
pub use infra::errors::{ApiError, OAuthError};
pub use store::clickwrap::Fixture as ClickwrapFixture;
pub use store::faults::{Fault, FaultConfig};
pub use store::ids::TOKEN_PREFIX;
pub use store::seed::{
    Company, Creator, FieldOptions, FieldSchema, OAuthClient, Role, RoleAssignee, Seed, StepState,
    Template, User, Workflow, default_seed,
};
pub use store::tokens::Grant;

/// An emulator serving on a local port until [`RunningEmulator::shutdown`] (or drop).
pub struct RunningEmulator {
    emulator: Emulator,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The webhook delivery task (`deliveries::run`), aborted with the server.
    deliveries: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn base_url(&self) -> &str {
        self.emulator.base_url()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The seed it started from (demo client ids/secrets, user emails).
    pub fn seed(&self) -> &Seed {
        self.emulator.seed()
    }

    /// The live state, e.g. to expire tokens or read the request log without HTTP.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// Stop serving and wait (briefly) for open connections to finish.
    pub async fn shutdown(mut self) {
        self.deliveries.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.deliveries.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // An emulator judging its answers against Ironclad's contract fails the test that made
        // it break the contract: whatever the test asserted, the answer it saw was not one the
        // real service can give.
        #[cfg(feature = "contract")]
        if let Some(enforced) = self.emulator.contract.as_deref() {
            let broken = enforced.response_violations();
            if !broken.is_empty() && !std::thread::panicking() {
                let list: Vec<String> = broken.iter().map(serde_json::Value::to_string).collect();
                panic!(
                    "the emulator answered {} request(s) in breach of Ironclad's OpenAPI \
                     contract:\n{}",
                    broken.len(),
                    list.join("\n")
                );
            }
        }
    }
}

/// Serve on `addr` (port 0 = ephemeral) in the current tokio runtime, from the built-in seed.
pub async fn start(addr: SocketAddr) -> anyhow::Result<RunningEmulator> {
    start_with_seed(addr, default_seed()).await
}

/// Serve on `addr` in the current tokio runtime, from `seed`.
pub async fn start_with_seed(addr: SocketAddr, seed: Seed) -> anyhow::Result<RunningEmulator> {
    serve(addr, seed, |emulator| emulator).await
}

/// Serve on `addr` from `seed`, judging every Public API request against `contract` (see
/// [`Contract`]): violations answer 400 `CONTRACT_VIOLATION` and are listed at
/// `GET /_emulator/contract-violations`.
#[cfg(feature = "contract")]
pub async fn start_with_contract(
    addr: SocketAddr,
    seed: Seed,
    contract: Contract,
) -> anyhow::Result<RunningEmulator> {
    start_with_contracts(addr, seed, vec![contract]).await
}

/// Serve on `addr` from `seed`, each of `contracts` judging the requests under its API base
/// (the Public API's and SCIM's official OpenAPI documents).
#[cfg(feature = "contract")]
pub async fn start_with_contracts(
    addr: SocketAddr,
    seed: Seed,
    contracts: Vec<Contract>,
) -> anyhow::Result<RunningEmulator> {
    serve(addr, seed, |emulator| {
        contracts.into_iter().fold(emulator, |emulator, contract| {
            emulator.with_contract(contract)
        })
    })
    .await
}

async fn serve(
    addr: SocketAddr,
    seed: Seed,
    prepare: impl FnOnce(Emulator) -> Emulator,
) -> anyhow::Result<RunningEmulator> {
    seed.validate()
        .context("the emulator seed is inconsistent")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the emulator to {addr}"))?;
    let mut local_addr = listener.local_addr()?;
    if local_addr.ip().is_unspecified() {
        local_addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let emulator = prepare(Emulator::new(seed, format!("http://{local_addr}")));
    let app = emulator.router();
    let deliveries = tokio::spawn(infra::deliveries::run(emulator.clone()));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(RunningEmulator {
        emulator,
        local_addr,
        stop: Some(stop),
        task: Some(task),
        deliveries,
    })
}
