//! The emulator's integration tests: its API, contract layer, faults and webhooks.
//!
//! One test binary for the directory (the fuzzer apart, which needs the `contract` feature):
//! every file here is a module of it, linked once instead of eight times. Run one
//! file's tests with `cargo test --workspace --test integration <file>::`.

mod common;

mod clickwrap;
mod contract;
mod emulator;
mod faults;
mod files;
mod layering;
mod scim;
mod webhooks;
