//! Host bindings for the `ipaas:connector` world. Imports are async (they do network I/O)
//! and trappable (a host failure becomes a trap, never a panic).

wasmtime::component::bindgen!({
    path: "../wit/v0.3",
    world: "connector",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use exports::ipaas::connector::{builder, connection, metadata, triggers};
pub use ipaas::connector::http;
pub use ipaas::connector::types::{ConnectorError, RejectionReason};
