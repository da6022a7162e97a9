//! Host bindings for the `ipaas:connector` world. Imports are async (they do network I/O)
//! and trappable (a host failure becomes a trap, never a panic); `log` is synchronous: it
//! never waits, and a guest logs every request, so it skips the async machinery.

wasmtime::component::bindgen!({
    path: "../../wit/v0.4",
    world: "connector",
    imports: { "ipaas:connector/log.log": trappable, default: async | trappable },
    exports: { default: async },
});

pub use exports::ipaas::connector::{actions, builder, connection, metadata, triggers};
pub use ipaas::connector::http;
pub use ipaas::connector::types::{ConnectorError, RejectionReason};
