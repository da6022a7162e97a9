//! Plain data stores per area, seeded from `fixtures/emulator/*.json`: no HTTP here; they hold,
//! look up and change data and answer in domain types. Imported by `api` and `infra`, never the reverse.

pub mod catalog;
pub mod clickwrap;
pub mod entities;
pub mod files;
pub mod filter;
pub mod ids;
pub mod lifecycle;
pub mod obligations;
pub mod properties;
pub mod repository;
pub mod scim;
pub mod seed;
pub mod signatures;
pub mod time;
pub mod webhooks_and_jobs;
