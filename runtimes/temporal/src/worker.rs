//! A worker process: it loads one connector package, owns the connection forms and the token
//! store, and serves the activities and workflows of this crate on one task queue. Any number
//! of them may run, on any machines; Temporal hands each task to one of them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use connector_host::package::Package;
use connector_host::runtime::MAX_CONCURRENT_CALLS;
use connector_host::{Runtime, RuntimeOptions, TokenStore};
use temporalio_sdk::runtime::worker_tuner::{FixedSizeSlotSupplier, TunerHolder};
use temporalio_sdk::{Worker, WorkerOptions};

use crate::activities::ConnectorActivities;
use crate::connections::{Connections, ConnectionsError};
use crate::connector::Connector;
use crate::frontend::{Frontend, FrontendError};
use crate::ingress::Ingress;
use crate::subscription::WebhookWorkflow;
use crate::workflows::{ActionWorkflow, TriggerWorkflow};

/// The task queue workers poll and starters send to, unless told otherwise.
pub const DEFAULT_TASK_QUEUE: &str = "connector";

/// Workflow tasks a worker handles at once (they only replay and decide: cheap).
const WORKFLOW_SLOTS: usize = 100;

#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// The connector package directory (`manifest.json` and its component).
    #[arg(long)]
    pub package: PathBuf,
    /// The connection forms this worker may use, by reference name (a JSON object). Only
    /// the names ever reach Temporal.
    #[arg(long)]
    pub connections: PathBuf,
    /// The host's token store (default: $CONNECTOR_TOKEN_STORE, else under
    /// $XDG_STATE_HOME or ~/.local/state). Workers on one machine may share it.
    #[arg(long)]
    pub token_store: Option<PathBuf>,
    /// Where compiled components are cached between starts.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Permit http://127.0.0.1:* (tests and the emulator).
    #[arg(long)]
    pub allow_loopback: bool,
    /// Activities run at once by this worker; at most the host's concurrent calls.
    #[arg(long, default_value_t = 32)]
    pub max_concurrent_activities: usize,
    /// Also serve the webhook ingress here (`POST /webhooks/{connection}/{trigger}`), e.g.
    /// `0.0.0.0:8080` behind the load balancer the subscriptions' `--ingress-url` names.
    #[arg(long)]
    pub ingress: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Connections(#[from] ConnectionsError),
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    #[error(
        "--max-concurrent-activities must be between 1 and {MAX_CONCURRENT_CALLS} (the host's concurrent calls)"
    )]
    Slots,
    /// Opening or loading the package, or finding a place for the token store.
    #[error("{0:#}")]
    Host(anyhow::Error),
    #[error("the Temporal worker: {0}")]
    Temporal(String),
    #[error("serving the webhook ingress on {address}: {source}")]
    Ingress {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// Load everything, connect, and serve until SIGINT or SIGTERM.
pub async fn run(
    frontend: &Frontend,
    task_queue: &str,
    args: &WorkerArgs,
) -> Result<(), WorkerError> {
    serve(frontend, task_queue, args, wait_for_stop()).await
}

/// The connector a worker acts with, loaded from its arguments: the package, the
/// connections file and the token store.
pub fn load(args: &WorkerArgs) -> Result<(Arc<Connector>, Package), WorkerError> {
    if args.max_concurrent_activities == 0
        || args.max_concurrent_activities > MAX_CONCURRENT_CALLS as usize
    {
        return Err(WorkerError::Slots);
    }
    let connections = Connections::from_file(&args.connections)?;
    let tokens = TokenStore::new(match &args.token_store {
        Some(path) => path.clone(),
        None => TokenStore::default_path().map_err(WorkerError::Host)?,
    });
    // A renewed refresh token that cannot be written would be lost: fail now, not mid-run.
    tokens.check_writable().map_err(WorkerError::Host)?;
    let package = Package::open(&args.package).map_err(WorkerError::Host)?;
    let runtime = Runtime::load_package(
        &package,
        RuntimeOptions {
            allow_loopback: args.allow_loopback,
            cache_dir: args.cache_dir.clone(),
            ..RuntimeOptions::default()
        },
    )
    .map_err(WorkerError::Host)?;
    Ok((
        Arc::new(Connector::new(runtime, connections, tokens)),
        package,
    ))
}

/// Load everything, connect, and serve until `stop` completes; then stop taking deliveries
/// and tasks, let running ones finish, and return.
pub async fn serve(
    frontend: &Frontend,
    task_queue: &str,
    args: &WorkerArgs,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let (connector, package) = load(args)?;
    let connection_names: Vec<String> = connector.names().map(str::to_string).collect();
    let identity = format!("{}@{}", std::process::id(), hostname());
    let client = frontend.connect(identity).await?;
    // Bound before the worker starts, so a taken port fails the start, not a delivery.
    let ingress = match args.ingress {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| WorkerError::Ingress { address, source })?;
            // The address bound, which names the port when the flag asked for port 0.
            let bound = listener
                .local_addr()
                .map_err(|source| WorkerError::Ingress { address, source })?;
            Some((bound, listener))
        }
        None => None,
    };

    let temporal = |e: &dyn std::fmt::Display| WorkerError::Temporal(e.to_string());
    let sdk_runtime = temporalio_sdk::Runtime::from_current_tokio(Default::default())
        .map_err(|e| temporal(&e))?;
    let options = WorkerOptions::new(task_queue)
        .tuner(
            TunerHolder::builder()
                .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(WORKFLOW_SLOTS))
                .activity_task_slot_supplier(FixedSizeSlotSupplier::new(
                    args.max_concurrent_activities,
                ))
                .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(1))
                .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(1))
                .build(),
        )
        .register_activities(ConnectorActivities::new(connector.clone()))
        .register_workflow::<ActionWorkflow>()
        .map_err(|e| temporal(&e))?
        .register_workflow::<TriggerWorkflow>()
        .map_err(|e| temporal(&e))?
        .register_workflow::<WebhookWorkflow>()
        .map_err(|e| temporal(&e))?
        .build();
    let mut worker =
        Worker::new(&sdk_runtime, client.clone(), options).map_err(|e| temporal(&e))?;
    let shutdown = worker.shutdown_handle();
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
        shutdown();
    });
    if let Some((address, listener)) = ingress {
        let ingress = Arc::new(Ingress::new(connector, client));
        let mut stopped = stopped.clone();
        tokio::spawn(ingress.serve(listener, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        eprintln!("connector-temporal: webhook ingress on http://{address}");
    }
    // Names only: they are what workflows carry, the forms behind them stay here.
    eprintln!(
        "connector-temporal: serving {}@{} for connections [{}] on task queue `{task_queue}` of namespace `{}` at {}",
        package.id,
        package.version,
        connection_names.join(", "),
        frontend.namespace,
        frontend.address
    );
    worker.run().await.map_err(|e| temporal(&e))
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
