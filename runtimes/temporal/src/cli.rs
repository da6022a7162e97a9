//! `connector-temporal`: a worker that serves a connector package to a Temporal cluster, and
//! the commands that start its workflows.
//!
//! Exit codes: 0 done; 1 the cluster refused or the action failed (`{"error": {...}}` on
//! stdout); 2 the command could not run (flags, files, the package, the connection to
//! Temporal; the reason on stderr).

use clap::{Parser, Subcommand};

use crate::bench::{self, BenchArgs};
use crate::frontend::Frontend;
use crate::start::{self, RunActionArgs, StartTriggerArgs, StartWebhookArgs, StopWebhookArgs};
use crate::worker::{self, DEFAULT_TASK_QUEUE, WorkerArgs};

#[derive(Debug, Parser)]
#[command(
    name = "connector-temporal",
    version,
    about = "Serve a connector package to a Temporal cluster: actions as activities, polling triggers as durable workflows"
)]
pub struct Cli {
    #[command(flatten)]
    pub frontend: Frontend,
    /// The task queue the workers poll and the workflows are started on.
    #[arg(long, env = "CONNECTOR_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE, global = true)]
    pub task_queue: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the package's actions and triggers until SIGINT or SIGTERM.
    Worker(WorkerArgs),
    /// Run one action as a workflow and print its output (JSON).
    RunAction(RunActionArgs),
    /// Start a polling trigger's workflow (one per connection and trigger) and print its id.
    StartTrigger(StartTriggerArgs),
    /// Subscribe a webhook trigger, delivering to the workers' ingress, as a workflow that
    /// holds the subscription (one per connection and trigger); print its id and target.
    StartWebhook(StartWebhookArgs),
    /// Unsubscribe a webhook trigger and end its workflow.
    StopWebhook(StopWebhookArgs),
    /// Measure the Temporal path against direct calls (a worker of its own, in-process) and
    /// print the figures (JSON). Point it at a development cluster.
    Bench(BenchArgs),
}

/// Run the command line; returns the process's exit code.
pub async fn run(cli: Cli) -> i32 {
    let identity = format!("connector-temporal-cli@{}", std::process::id());
    if let Command::Worker(args) = &cli.command {
        return match worker::run(&cli.frontend, &cli.task_queue, args).await {
            Ok(()) => 0,
            Err(e) => usage(&e),
        };
    }
    let client = match cli.frontend.connect(identity).await {
        Ok(client) => client,
        Err(e) => return usage(&e),
    };
    let queue = &cli.task_queue;
    let outcome = match cli.command {
        Command::Worker(_) => unreachable!("served above"),
        Command::RunAction(args) => start::run_action(&client, queue, args).await,
        Command::StartTrigger(args) => start::start_trigger(&client, queue, args).await,
        Command::StartWebhook(args) => start::start_webhook(&client, queue, args).await,
        Command::StopWebhook(args) => start::stop_webhook(&client, args).await,
        Command::Bench(args) => bench::run(&cli.frontend, &client, args).await,
    };
    match outcome {
        Ok(value) => {
            println!("{value}");
            0
        }
        Err(e) => {
            println!("{}", e.to_json());
            1
        }
    }
}

fn usage(e: &dyn std::fmt::Display) -> i32 {
    eprintln!("connector-temporal: {e}");
    2
}
