//! The wasmtime host for connector components, as a library an iPaaS can embed, plus the
//! offline Ironclad emulator used by the CLI, the demo and the tests.
//!
//! - [`runtime`] — engine, linker, compiled-component cache, one fresh store per call.
//! - [`session`] — a connection in use: the connector's plan, host-held credentials, calls.
//! - [`http_import`] / [`policy`] — the guest's only way out, and what it may reach.
//! - [`oauth`] / [`token_store`] / [`secret`] — credentials, owned by the host.
//! - [`triggers`] — polling and webhook triggers, and the state that makes them exactly-once.
//! - [`wit_version`] — which `ipaas:connector` version a component implements; refusing others.
//! - [`package`] — the release artifact: component, manifest, schemas, changelog.
//! - [`report`] — typed errors as the CLI prints them.

pub mod bindings;
pub mod host_state;
pub mod http_import;
pub mod listen;
pub mod oauth;
pub mod package;
pub mod policy;
pub mod private_file;
pub mod report;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod token_store;
pub mod triggers;
pub mod wit_version;

pub use ironclad_emulator as emulator;
pub use report::{CallError, ErrorReport};
pub use runtime::{Runtime, RuntimeOptions};
pub use session::{ConnectionConfig, Session};
pub use token_store::TokenStore;
