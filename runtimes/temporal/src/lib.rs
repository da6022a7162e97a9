//! Serves a connector package to a Temporal cluster, on the generic `connector-host`:
//! actions as activities, polling triggers as one durable workflow per (connection, trigger)
//! whose events start downstream workflows once each, and connection forms and tokens that
//! stay on the worker.
//!
//! - [`cli`] — the `connector-temporal` command line.
//! - [`frontend`] — reaching the cluster: address, namespace, TLS, API key.
//! - [`worker`] — a worker process: the package, the connections, the task queue.
//! - [`activities`] — `run_action` and `poll_trigger`, through the host.
//! - [`workflows`] — the action workflow and the trigger workflow.
//! - [`downstream`] — an event's downstream workflow, started once by its id.
//! - [`failure`] — connector errors as Temporal retries and non-retryable failures.
//! - [`connections`] — connection references, resolved on the worker only.
//! - [`start`] — starting an action or a trigger from the command line.

pub mod activities;
pub mod cli;
pub mod connections;
pub mod downstream;
pub mod failure;
pub mod frontend;
pub mod start;
pub mod worker;
pub mod workflows;
