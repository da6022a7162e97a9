//! The wasmtime host for connector components, as a library an iPaaS can embed, plus the
//! offline Ironclad emulator used by the CLI, the demo and the tests.
//!
//! - [`runtime`] — engine, linker, compiled-component cache, one fresh store per call.
//! - [`sandbox`] — per-call limits, epoch interruption and deadline; traps as typed errors.
//! - [`session`] — a connection in use: the connector's plan, host-held credentials, calls.
//! - [`http_import`] / [`policy`] / [`resolver`] / [`pacing`] — the guest's only way out,
//!   what it may reach (origins, schemes, addresses after DNS resolution), and how fast.
//! - [`retry`] — which failed requests are sent again, and after how long.
//! - [`pages`] — long listings read page by page, the host driving the loop.
//! - [`native`] — the same connector compiled natively over the same HTTP path (benchmarks).
//! - [`oauth`] / [`token_store`] / [`secret`] — credentials, owned by the host.
//! - [`triggers`] — polling and webhook triggers, and the state that makes them exactly-once.
//! - [`mcp`] — every action as an MCP tool, and an MCP server over stdio.
//! - [`wit_version`] — which `ipaas:connector` version a component implements; refusing others.
//! - [`package`] — the release artifact: component, manifest, schemas, changelog.
//! - [`report`] — typed errors as the CLI prints them.

pub mod bindings;
pub mod host_state;
pub mod http_import;
pub mod listen;
pub mod mcp;
pub mod native;
pub mod oauth;
pub mod pacing;
pub mod package;
pub mod pages;
pub mod policy;
pub mod private_file;
pub mod redirect;
pub mod report;
pub mod resolver;
pub mod retry;
pub mod runtime;
pub mod sandbox;
pub mod secret;
pub mod session;
pub mod spares;
pub mod token_store;
pub mod triggers;
pub mod wit_version;

pub use ironclad_emulator as emulator;
pub use report::{CallError, ErrorReport};
pub use runtime::{Instantiation, Runtime, RuntimeOptions};
pub use session::{CallStats, ConnectionConfig, Session};
pub use token_store::TokenStore;
