//! The wasmtime host for connector components, as a library an iPaaS can embed, plus the
//! offline Ironclad emulator used by the CLI, the demo and the tests.
//!
//! - [`runtime`] — engine, linker, compiled-component cache, one fresh store per call.
//! - [`session`] — a connection in use: the connector's plan, host-held credentials, calls.
//! - [`http_import`] / [`policy`] / [`pacing`] — the guest's only way out, what it may
//!   reach, and how fast.
//! - [`pages`] — long listings read page by page, the host driving the loop.
//! - [`native`] — the same connector compiled natively over the same HTTP path (benchmarks).
//! - [`oauth`] / [`token_store`] / [`secret`] — credentials, owned by the host.
//! - [`report`] — typed errors as the CLI prints them.

pub mod bindings;
pub mod host_state;
pub mod http_import;
pub mod native;
pub mod oauth;
pub mod pacing;
pub mod pages;
pub mod policy;
pub mod report;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod token_store;

pub use ironclad_emulator as emulator;
pub use report::{CallError, ErrorReport};
pub use runtime::{Runtime, RuntimeOptions};
pub use session::{CallStats, ConnectionConfig, Session};
pub use token_store::TokenStore;
