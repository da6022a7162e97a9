//! Serves a connector package to a Temporal cluster, on the generic `connector-host`:
//! actions as activities, polling triggers as one durable workflow per (connection, trigger)
//! whose events start downstream workflows once each, webhook deliveries accepted only once
//! their events' starts are durable, and connection forms and tokens that stay on the worker.
//!
//! - [`cli`] — the `connector-temporal` command line.
//! - [`frontend`] — reaching the cluster: address, namespace, TLS, API key.
//! - [`worker`] — a worker process: the package, the connections, the task queue.
//! - [`connector`] — the package, the connection forms and the token store a worker acts with.
//! - [`activities`] — `run_action`, `poll_trigger`, `subscribe_webhook`, `unsubscribe_webhook`.
//! - [`workflows`] — the action workflow and the polling trigger workflow.
//! - [`subscription`] — a webhook subscription as the workflow that owns its lifetime.
//! - [`ingress`] — the HTTP endpoint deliveries arrive at: verified, then started durably.
//! - [`downstream`] — an event's downstream workflow, started once by its id.
//! - [`failure`] — connector errors as Temporal retries and non-retryable failures.
//! - [`connections`] — connection references, resolved on the worker only.
//! - [`start`] — starting an action, a trigger or a webhook subscription from the command line.
//! - [`bench`] — the Temporal path's cost against direct calls.

pub mod activities;
pub mod bench;
pub mod cli;
pub mod connections;
pub mod connector;
pub mod downstream;
pub mod failure;
pub mod frontend;
pub mod ingress;
pub mod start;
pub mod subscription;
pub mod worker;
pub mod workflows;
