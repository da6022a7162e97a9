//! Plain data stores per area, seeded from `fixtures/emulator/*.json`: no HTTP here; they hold,
//! look up and change data and answer in domain types. Everything the tenant remembers is here,
//! the cross-cutting state included (tokens, rate-limit buckets, the fault log, the webhook
//! delivery queues), so that `emulator::Data` can hold it without naming `infra`. The bottom
//! layer: imports nothing else of the crate (checked by `tests/layering.rs`).

pub mod catalog;
pub mod clickwrap;
pub mod deliveries;
pub mod entities;
pub mod events;
pub mod faults;
pub mod files;
pub mod filter;
pub mod ids;
pub mod lifecycle;
pub mod obligations;
pub mod properties;
pub mod rate_limits;
pub mod repository;
pub mod scim;
pub mod seed;
pub mod signatures;
pub mod time;
pub mod tokens;
pub mod webhook_keys;
pub mod webhooks_and_jobs;
