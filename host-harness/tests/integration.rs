//! The host's integration tests: the real component, driven through the host against the emulator.
//!
//! One test binary for the whole directory: every file here is a module of it (each
//! linked binary carries wasmtime, so thirty of them cost minutes of linking and gigabytes
//! of disk). Run one file's tests with `cargo test --workspace --test integration <file>::`.

mod common;

mod action_index;
mod actions;
mod builder;
mod chaos;
mod cli;
mod clickwrap;
mod clickwrap_activity_send;
mod clickwrap_credentials;
mod composed;
mod egress;
mod files;
mod mcp;
mod node_host;
mod oci;
mod package;
mod platform;
mod polling_backlog;
mod repository;
mod sandbox;
mod sbom;
mod scim;
mod secret_leaks;
mod studio;
mod token_store;
mod triggers_poll;
mod triggers_webhook;
mod upstream_faults;
mod volume;
mod wasi_http;
mod wit_versions;
mod workflow_lifecycle;
mod workflow_sign;
