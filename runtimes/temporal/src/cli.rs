//! `connector-temporal`: a worker that serves a connector package to a Temporal cluster, and
//! the commands that start its workflows.
//!
//! Exit codes: 0 done; 1 the cluster refused or the action failed (`{"error": {...}}` on
//! stdout); 2 the command could not run (flags, files, the package, the connection to
//! Temporal; the reason on stderr).

use clap::{Parser, Subcommand};

use crate::frontend::Frontend;
use crate::start::{self, RunActionArgs, StartTriggerArgs};
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
}

/// Run the command line; returns the process's exit code.
pub async fn run(cli: Cli) -> i32 {
    let identity = format!("connector-temporal-cli@{}", std::process::id());
    let outcome = match cli.command {
        Command::Worker(args) => {
            return match worker::run(&cli.frontend, &cli.task_queue, &args).await {
                Ok(()) => 0,
                Err(e) => usage(&e),
            };
        }
        Command::RunAction(args) => match cli.frontend.connect(identity).await {
            Ok(client) => start::run_action(&client, &cli.task_queue, args).await,
            Err(e) => return usage(&e),
        },
        Command::StartTrigger(args) => match cli.frontend.connect(identity).await {
            Ok(client) => start::start_trigger(&client, &cli.task_queue, args).await,
            Err(e) => return usage(&e),
        },
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
