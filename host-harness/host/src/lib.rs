//! A generic wasmtime host for `ipaas:connector` components, as a library an iPaaS embeds.
//! It knows no connector: what a component may reach comes from its package's egress
//! declaration and the connection form, never from the component itself.
//!
//! - [`runtime`] — engine, linker, compiled-component cache, one fresh store per call.
//! - [`sandbox`] — per-call limits, epoch interruption and deadline; traps as typed errors.
//! - [`package`] — a connector package on disk: manifest, component, egress declaration.
//! - [`egress`] — the declaration's origins for one connection form, and the operator's narrowing.
//! - [`session`] — a connection in use: the connector's plan, host-held credentials, calls.
//! - [`http_import`] / [`policy`] / [`resolver`] / [`pacing`] — the guest's only way out,
//!   what it may reach (origins, schemes, addresses after DNS resolution), and how fast.
//! - [`retry`] — which failed requests are sent again, and after how long.
//! - [`pages`] — long listings read page by page, the host driving the loop.
//! - [`credential`] / [`oauth`] / [`token_store`] / [`secret`] — credentials, owned by the host:
//!   an OAuth client it runs, or a bearer token from the form it only sends.
//! - [`triggers`] — polling and webhook triggers, and the state that delivers each event once.
//! - [`mcp`] — every action as an MCP tool, and an MCP server over stdio.
//! - [`metadata`] — the component's own name, version, licence, source and revision.
//! - [`oci`] — components in OCI registries (the CNCF Wasm artifact layout): push, and pull
//!   with every digest checked.
//! - [`signature`] — OpenSSH signatures over an artifact's manifest digest.
//! - [`wit_version`] — which `ipaas:connector` version a component implements; refusing others.
//! - [`report`] — typed errors as a CLI or a log prints them.

pub mod bindings;
pub mod credential;
pub mod egress;
pub mod host_state;
pub mod http_import;
pub mod mcp;
pub mod metadata;
pub mod oauth;
pub mod oci;
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
pub mod signature;
pub mod spares;
pub mod token_store;
pub mod trace;
pub mod triggers;
pub mod wit_version;

pub use report::{CallError, ErrorReport};
pub use runtime::{Instantiation, Runtime, RuntimeOptions};
pub use session::{CallStats, ConnectionConfig, Session};
pub use token_store::TokenStore;
