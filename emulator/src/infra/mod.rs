//! What every area shares and no area owns, as behaviour: authentication and OAuth, error
//! bodies, request parsing, the contract, the fault and rate-limit middleware, the request log,
//! test controls and the signed webhook delivery task. Their state lives in `store` (held by
//! `emulator::Data`); this layer uses `emulator` and `store` and never imports `api`.

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod clickwrap_keys;
#[cfg(feature = "contract")]
pub mod contract;
pub mod deliveries;
pub mod errors;
pub mod faults;
pub mod multipart;
pub mod oauth;
pub mod query;
pub mod rate_limits;
pub mod request_log;
pub mod signing;
