//! The command line: a thin layer over the library. Every command is one function.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use host_harness::{
    CallError, ConnectionConfig, Runtime, RuntimeOptions, TokenStore, emulator, runtime,
};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "connector-harness",
    version,
    about = "Run the Ironclad connector component: describe it, test connections, run actions, and serve an offline Ironclad emulator."
)]
struct Cli {
    /// The connector component (.wasm). Default: target/wasm32-wasip2/release/ironclad_connector.wasm
    #[arg(long, global = true)]
    component: Option<PathBuf>,
    /// Permit http://127.0.0.1:* so the connector can reach a local emulator (region: custom).
    #[arg(long, global = true)]
    allow_loopback: bool,
    /// Token store file (created 0600). Default: $CONNECTOR_TOKEN_STORE or ~/.local/state/connector-harness/tokens.json
    #[arg(long, global = true)]
    token_store: Option<PathBuf>,
    /// Where compiled components are cached. Default: ~/.cache/connector-harness
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
    /// Compile the component every time instead of using the cache.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Show the connector's debug logs on stderr.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the manifest: connection_schema, actions[], triggers[].
    Describe,
    /// Check a connection and print who it acts as.
    TestConnection {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run one action and print its output.
    Action {
        /// The action key (see `describe`).
        key: String,
        #[arg(long)]
        config: PathBuf,
        /// Input JSON file, or `-` for stdin. Default: {}
        #[arg(long)]
        input: Option<String>,
    },
    /// Start the OAuth authorization code flow: print the URL to open in a browser.
    Authorize {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        redirect_uri: String,
    },
    /// Finish the authorization code flow with the `code` from the redirect.
    Exchange {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        code: String,
        #[arg(long)]
        redirect_uri: String,
    },
    /// Serve the offline Ironclad emulator on 127.0.0.1 until stopped.
    Emulator {
        #[arg(long, default_value_t = 4010)]
        port: u16,
        /// Enforce Ironclad's per-bucket rate limits (e.g. 40 workflow writes per minute).
        #[arg(long)]
        rate_limits: bool,
    },
    /// Start the emulator in-process and walk through a scenario with the connector.
    Demo,
    /// Measure the connector (size, load, per-call cost, bulk read, pacing, concurrency)
    /// against the in-process emulator; print each measure with its target and PASS/FAIL.
    Bench(crate::bench::Args),
}

/// Why the CLI stops with a non-zero code.
enum Failure {
    /// Exit 1, the report as JSON on stdout.
    Call(CallError),
    /// Exit 2, the message on stderr.
    Usage(anyhow::Error),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        Failure::Call(e)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(output) => {
            if let Some(value) = output {
                print_json(&value);
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Call(e)) => {
            eprintln!("error: {e}");
            print_json(&e.to_json());
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Print to stdout; a closed pipe (`| head`) is the reader's choice, not an error.
fn print_json(value: &Value) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

async fn run(cli: Cli) -> Result<Option<Value>, Failure> {
    let options = RuntimeOptions {
        allow_loopback: cli.allow_loopback,
        cache_dir: if cli.no_cache {
            None
        } else {
            cli.cache_dir.clone().or_else(runtime::default_cache_dir)
        },
        verbose: cli.verbose,
    };
    let component = cli
        .component
        .clone()
        .unwrap_or_else(runtime::default_component_path);
    let tokens = TokenStore::new(
        cli.token_store
            .clone()
            .unwrap_or_else(TokenStore::default_path),
    );
    let load = || Runtime::load(&component, options.clone()).map_err(Failure::Usage);
    match cli.command {
        Command::Describe => Ok(Some(load()?.describe().await.map_err(CallError::Host)?)),
        Command::TestConnection { config } => {
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            Ok(Some(session.test().await?))
        }
        Command::Action { key, config, input } => {
            let input = read_input(input.as_deref())?;
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            Ok(Some(session.execute(&key, &input).await?))
        }
        Command::Authorize {
            config,
            redirect_uri,
        } => {
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            let auth = oauth_of(&session)?;
            let (url, state) = auth
                .authorization_url(&redirect_uri)
                .map_err(|e| Failure::Usage(e.into()))?;
            eprintln!(
                "Open this URL, consent, then run `connector-harness exchange --code <code from the redirect>`."
            );
            Ok(Some(json!({ "authorization_url": url, "state": state })))
        }
        Command::Exchange {
            config,
            code,
            redirect_uri,
        } => {
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            let auth = oauth_of(&session)?;
            let summary = auth.exchange(&code, &redirect_uri).await.map_err(|e| {
                CallError::from(host_harness::ErrorReport::new(
                    "unauthenticated",
                    e.to_string(),
                ))
            })?;
            eprintln!("Authorized; tokens saved to the token store.");
            Ok(Some(json!({ "status": "authorized", "grant": summary })))
        }
        Command::Emulator { port, rate_limits } => serve_emulator(port, rate_limits)
            .await
            .map(|_| None)
            .map_err(Failure::Usage),
        Command::Demo => {
            let options = RuntimeOptions {
                allow_loopback: true,
                ..options
            };
            let runtime = Runtime::load(&component, options).map_err(Failure::Usage)?;
            crate::demo::run(runtime)
                .await
                .map(|_| None)
                .map_err(Failure::Usage)
        }
        Command::Bench(args) => crate::bench::run(&component, options, args)
            .await
            .map(|_| None)
            .map_err(Failure::Usage),
    }
}

fn oauth_of<'a>(
    session: &'a host_harness::Session<'_>,
) -> Result<&'a host_harness::oauth::Authenticator, Failure> {
    session
        .authenticator()
        .ok_or_else(|| Failure::Usage(anyhow::anyhow!("this connection does not use OAuth")))
}

fn read_config(path: &Path) -> Result<ConnectionConfig, Failure> {
    ConnectionConfig::from_file(path).map_err(Failure::Usage)
}

fn read_input(input: Option<&str>) -> Result<Value, Failure> {
    let text = match input {
        None => return Ok(json!({})),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Failure::Usage(e.into()))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(anyhow::anyhow!("reading input {path}: {e}")))?,
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(anyhow::anyhow!("the input is not valid JSON: {e}")))
}

async fn serve_emulator(port: u16, rate_limits: bool) -> anyhow::Result<()> {
    let running = emulator::start(([127, 0, 0, 1], port).into()).await?;
    if rate_limits {
        running.emulator().enforce_rate_limits(None);
    }
    let seed = running.seed();
    eprintln!("Ironclad emulator listening; stop with Ctrl-C.");
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "base_url": running.base_url(),
            "clients": seed.clients.iter().map(|c| json!({
                "name": c.name, "client_id": c.client_id, "client_secret": c.client_secret,
                "grant_types": c.grant_types, "redirect_uris": c.redirect_uris,
            })).collect::<Vec<_>>(),
            "users": seed.users.iter().map(|u| &u.email).collect::<Vec<_>>(),
        }))?
    );
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
