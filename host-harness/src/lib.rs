//! `connector-harness`, the Ironclad connector's command line over the generic
//! [`connector_host`] library: the CLI, the demo, the benchmark with its natively compiled
//! baseline, packaging, the webhook receiver, and the offline Ironclad emulator they run
//! against. Everything generic is re-exported from `connector_host`, so tests and tools
//! name one crate.
//!
//! - [`native`] — the same connector compiled natively over the host's HTTP path (benchmarks).
//! - [`listen`] — a loopback webhook receiver for `connector-harness listen`.
//! - [`packaging`] — writing the release artifact a marketplace ingests.
//! - [`publish`] — pushing it (and the WIT package) to an OCI registry.
//! - [`studio`] — the local web page for trying the connector (`connector-harness studio`).
//! - [`wasi_http`] — composing it with the `adapters/` into a `wasi:http` proxy.
//! - [`ironclad`] — what this CLI knows of the Ironclad connector: its egress declaration and
//!   where its component is built.

pub mod ironclad;
pub mod listen;
pub mod native;
pub mod packaging;
pub mod publish;
pub mod studio;
pub mod wasi_http;

pub use connector_host::*;
pub use ironclad_emulator as emulator;
