//! What every area shares and no area owns: authentication and OAuth, error bodies, request
//! parsing, the contract, faults, rate limits, the request log, test controls, events and signed
//! webhook deliveries. Uses `store`; never imports `api`.

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod clickwrap_keys;
#[cfg(feature = "contract")]
pub mod contract;
pub mod deliveries;
pub mod errors;
pub mod events;
pub mod faults;
pub mod multipart;
pub mod oauth;
pub mod query;
pub mod rate_limits;
pub mod request_log;
pub mod signing;
