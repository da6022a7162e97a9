//! The command line: a thin layer over the library. Every command is one function.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use host_harness::Session;
use host_harness::egress::Egress;
use host_harness::package::Package;
use host_harness::secret::redact_known;
use host_harness::{
    CallError, ConnectionConfig, Runtime, RuntimeOptions, TokenStore, emulator, ironclad, listen,
    mcp, oci, policy, runtime, triggers,
};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "connector-harness",
    version,
    about = "Run the Ironclad connector component: describe it, test connections, run actions, and serve an offline Ironclad emulator."
)]
struct Cli {
    /// The connector component (.wasm), or `oci://REGISTRY/REPOSITORY:TAG[@sha256:...]` to
    /// pull it from a registry (every digest checked; pin one to refuse anything else).
    /// Default: target/wasm32-wasip2/release/ironclad_connector.wasm
    #[arg(long, global = true)]
    component: Option<PathBuf>,
    /// With --component oci://…: load it only when its manifest is signed by this OpenSSH
    /// public key (KEY.pub, Ed25519); an unsigned artifact or another signer is refused.
    #[arg(long, global = true, value_name = "KEY.pub")]
    require_signature: Option<PathBuf>,
    /// A connector package directory (manifest.json + component): its component runs with the
    /// egress its manifest declares. Without it, --component runs with the Ironclad
    /// connector's declaration (package/listing.json).
    #[arg(long, global = true, conflicts_with = "component")]
    package: Option<PathBuf>,
    /// Permit loopback addresses (http://127.0.0.1:*) so the connector can reach a local
    /// emulator (region: custom). Other private addresses stay refused.
    #[arg(long, global = true)]
    allow_loopback: bool,
    /// Narrow what connections may reach to these origins (repeatable), within what the
    /// package declares: e.g. --allow-origin https://na1.ironcladapp.com
    #[arg(long, global = true, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
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
    /// Print every HTTP exchange the call made on stderr (method, URL, status, time, bytes,
    /// retries; secrets masked) — test-connection, action, options, schema, poll.
    #[arg(long, global = true)]
    trace: bool,
    /// Stop any one call of the connector after this many seconds (wall clock, default 900).
    #[arg(long, global = true, value_name = "SECONDS")]
    call_timeout: Option<f64>,
    /// Memory one call of the connector may use, per linear memory (default 512).
    #[arg(long, global = true, value_name = "MIB")]
    max_memory_mib: Option<usize>,
    /// Answer NAME with IP instead of asking DNS (repeatable, like curl's --resolve); the
    /// address is still held to the egress policy.
    #[arg(long, global = true, value_name = "NAME=IP")]
    resolve: Vec<String>,
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
    /// A pick list (an `x-options` provider): every page as {"options", "pages"}, or with
    /// --cursor one page as {"options", "next_cursor"}.
    Options {
        /// The provider key (`x-options.provider` in a schema).
        provider: String,
        #[arg(long)]
        config: PathBuf,
        /// The provider's params as JSON text, e.g. '{"template":"..."}'. Default: {}
        #[arg(long)]
        params: Option<String>,
        /// The `next_cursor` of a previous page: print that page only.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// An action's schemas for a partial input: {"input_schema", "output_schema"} (a launch's
    /// attributes follow the chosen template, record properties the records schema).
    Schema {
        /// The action key (see `describe`).
        action: String,
        #[arg(long)]
        config: PathBuf,
        /// Partial input JSON file, or `-` for stdin. Default: {}
        #[arg(long)]
        input: Option<String>,
    },
    /// Poll a trigger once; print {"events", "cursor", "has_more"}. With --state, the cursor
    /// and the delivered event ids are committed to that file after the events are printed.
    Poll {
        /// The trigger key (see `describe`).
        trigger: String,
        #[arg(long)]
        config: PathBuf,
        /// Trigger input JSON file, or `-` for stdin. Default: {}
        #[arg(long)]
        input: Option<String>,
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Manage a webhook trigger's subscription and verify deliveries.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Subscribe a webhook trigger to a receiver on 127.0.0.1:PORT and print verified events
    /// as JSON lines until Ctrl-C (then unsubscribe).
    Listen {
        trigger: String,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        input: Option<String>,
        /// 0 picks a free port.
        #[arg(long, default_value_t = 8977)]
        port: u16,
        /// Keep the subscription state (and delivered event ids) in this file.
        #[arg(long)]
        subscription: Option<PathBuf>,
        /// Unsubscribe and exit after this many events.
        #[arg(long)]
        max_events: Option<usize>,
    },
    /// Print every action as an MCP tool definition: {"tools": [...]}.
    McpTools,
    /// Serve MCP: tools/list, tools/call. On stdin/stdout (one JSON-RPC message per line),
    /// or with --http PORT over Streamable HTTP at http://ADDR:PORT/mcp.
    McpServe {
        #[arg(long)]
        config: PathBuf,
        /// Serve Streamable HTTP on this port (0 picks a free one) instead of stdio.
        #[arg(long, value_name = "PORT")]
        http: Option<u16>,
        /// The address --http listens on. Only loopback unless you choose otherwise: the
        /// server acts with the connection's credentials for whoever reaches it.
        #[arg(long, default_value = "127.0.0.1", requires = "http")]
        bind: std::net::IpAddr,
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
        /// Inject faults drawn from this seed: 429s, 500/503s, slow answers, dropped
        /// connections, truncated JSON, expired tokens (log: GET /_emulator/faults).
        #[arg(long, value_name = "SEED")]
        faults: Option<u64>,
        /// Share of API requests that get a fault with --faults (0.0–1.0).
        #[arg(long, default_value_t = 0.3, requires = "faults")]
        fault_rate: f64,
    },
    /// Start the emulator in-process and walk through a scenario with the connector.
    Demo,
    /// Serve a local web page (127.0.0.1 only) to fill in the connection form, browse the
    /// catalog, run actions with their forms and pick lists, poll triggers and watch webhook
    /// deliveries, each with its HTTP trace. Prints {"url": …} (with its per-run token).
    Studio {
        /// 0 picks a free port.
        #[arg(long, default_value_t = 8700)]
        port: u16,
        /// Start the emulator in-process and offer a working connection per API type.
        #[arg(long)]
        emulator: bool,
    },
    /// Write the release artifact (component, manifest.json, schemas/, icon, CHANGELOG.md)
    /// into a new directory; print the manifest. `scripts/package` builds and calls this.
    Package {
        #[arg(long)]
        out: PathBuf,
        /// Publisher and icon: {"publisher": {...}, "icon": "icon.svg"}.
        #[arg(long, default_value = "package/listing.json")]
        listing: PathBuf,
        #[arg(long, default_value = "CHANGELOG.md")]
        changelog: PathBuf,
        /// The source revision (commit) embedded in the component's metadata.
        #[arg(long)]
        revision: Option<String>,
    },
    /// Push the package's component (--package DIR) to an OCI registry as a Wasm artifact;
    /// print the manifest digest to pin (`--component oci://REF@DIGEST`). Credentials:
    /// OCI_USERNAME / OCI_PASSWORD.
    Publish {
        /// REGISTRY/REPOSITORY:TAG, e.g. ghcr.io/acme/ironclad:0.1.0
        reference: String,
        /// Sign the manifest digest with this OpenSSH private key (Ed25519, unencrypted) and
        /// push the signature beside it (tag `sha256-<hex>.sig`).
        #[arg(long, value_name = "KEY")]
        sign_key: Option<PathBuf>,
    },
    /// Push the WIT package the connector implements to an OCI registry.
    PublishWit {
        reference: String,
        #[arg(long, default_value = "wit/v0.4")]
        wit: PathBuf,
    },
    /// Compose the connector (--component) with the adapters in `adapters/` into a
    /// `wasi:http` proxy component that `wasmtime serve` runs (needs the `wac` CLI).
    ComposeWasiHttp {
        /// Where to write the composed component.
        #[arg(long, default_value = "target/wasi-http/connector-http.wasm")]
        out: PathBuf,
        /// Where the adapters' components are (`cargo build --release --target
        /// wasm32-wasip2 -p ipaas-http-ingress -p ipaas-credentials -p ipaas-http-egress`).
        #[arg(long, default_value = "target/wasm32-wasip2/release")]
        adapters: PathBuf,
    },
    /// Measure the connector (size, load, per-call cost, bulk read, pacing, concurrency)
    /// against the in-process emulator; print each measure with its target and PASS/FAIL.
    Bench(crate::bench::Args),
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Register the trigger's webhook for URL; print the subscription state (save it).
    Subscribe {
        trigger: String,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        url: String,
        #[arg(long)]
        input: Option<String>,
    },
    /// Delete the webhook a subscription file describes.
    Unsubscribe {
        trigger: String,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        subscription: PathBuf,
    },
    /// Verify one delivery (headers: JSON object name → value; body: the raw bytes) and
    /// print {"events": [...]}; the subscription file is updated (seen ids, rotated key).
    Handle {
        trigger: String,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        subscription: PathBuf,
        #[arg(long)]
        headers: PathBuf,
        #[arg(long)]
        body: PathBuf,
    },
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
    host_harness::secret::install_panic_redaction();
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
        // Errors are built without secrets; masking them again covers host errors whose
        // text comes from elsewhere (a library's message quoting a value).
        Err(Failure::Call(e)) => {
            eprintln!("error: {}", redact_known(&e.to_string()));
            print_json(&e.to_json());
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {}", redact_known(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// Print to stdout; a closed pipe (`| head`) is the reader's choice, not an error.
fn print_json(value: &Value) {
    use std::io::Write;
    let text = redact_known(&serde_json::to_string_pretty(value).expect("JSON values serialise"));
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// `path` itself, or for `oci://REF` the component pulled from the registry (digests checked)
/// into the cache directory, named by its digest.
async fn pulled_if_oci(path: &Path, cli: &Cli) -> Result<PathBuf, Failure> {
    let trusted = match &cli.require_signature {
        Some(key) => Some(
            host_harness::signature::TrustedKey::from_file(key)
                .map_err(|e| Failure::Usage(e.into()))?,
        ),
        None => None,
    };
    let Some(reference) = path.to_str().and_then(|p| p.strip_prefix("oci://")) else {
        if trusted.is_some() {
            return Err(Failure::Usage(anyhow::anyhow!(
                "--require-signature checks components pulled from a registry: use --component oci://REF"
            )));
        }
        return Ok(path.to_path_buf());
    };
    let reference = oci::Reference::parse(reference).map_err(Failure::Usage)?;
    let pulled = oci::pull(
        &reference,
        host_harness::publish::credentials_from_env().as_ref(),
        trusted.as_ref(),
    )
    .await
    .map_err(Failure::Usage)?;
    let dir = match (&cli.cache_dir, cli.no_cache) {
        (Some(dir), false) => dir.clone(),
        (None, false) => runtime::default_cache_dir().unwrap_or_else(std::env::temp_dir),
        (_, true) => std::env::temp_dir(),
    }
    .join("oci");
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Usage(e.into()))?;
    let digest = oci::sha256_digest(&pulled.layer);
    let file = dir.join(format!("{}.wasm", digest.replace(':', "-")));
    std::fs::write(&file, &pulled.layer).map_err(|e| Failure::Usage(e.into()))?;
    eprintln!(
        "pulled {reference} (manifest {}, component {digest})",
        pulled.manifest_digest
    );
    Ok(file)
}

async fn run(cli: Cli) -> Result<Option<Value>, Failure> {
    for origin in &cli.allow_origin {
        policy::canonical_origin(origin)
            .map_err(|why| Failure::Usage(anyhow::anyhow!("--allow-origin: {why}")))?;
    }
    // A package brings its component, its egress and its quotas; a bare component runs with
    // this connector's declarations.
    let package = match &cli.package {
        Some(dir) => Some(Package::open(dir).map_err(Failure::Usage)?),
        None => None,
    };
    let (component, declared) = match &package {
        Some(p) => (p.component.clone(), p.declared.clone()),
        None => (
            match &cli.component {
                Some(path) => pulled_if_oci(path, &cli).await?,
                None => ironclad::default_component_path(),
            },
            ironclad::declarations().map_err(Failure::Usage)?,
        ),
    };
    let options = RuntimeOptions {
        allow_loopback: cli.allow_loopback,
        cache_dir: if cli.no_cache {
            None
        } else {
            cli.cache_dir.clone().or_else(runtime::default_cache_dir)
        },
        verbose: cli.verbose,
        limits: limits(&cli)?,
        pinned_hosts: pinned_hosts(&cli.resolve)?,
        retry: Default::default(),
        instantiation: Default::default(),
        egress: Egress {
            declaration: declared.egress,
            operator_origins: (!cli.allow_origin.is_empty()).then(|| cli.allow_origin.clone()),
        },
        rate_limits: declared.rate_limits,
    };
    let trace = cli.trace;
    // Found when a command needs it: `describe` runs without a safe place for tokens.
    let token_path = cli.token_store.clone();
    let tokens = move || -> Result<TokenStore, Failure> {
        match &token_path {
            Some(path) => Ok(TokenStore::new(path)),
            None => Ok(TokenStore::new(
                TokenStore::default_path().map_err(Failure::Usage)?,
            )),
        }
    };
    let load = || Runtime::load(&component, options.clone()).map_err(Failure::Usage);
    match cli.command {
        Command::Describe => {
            let runtime = load()?;
            let mut describe = runtime.describe().await.map_err(CallError::Host)?;
            // What the component says of itself beside what it answers: which build this is.
            describe["component_metadata"] = json!(runtime.metadata());
            Ok(Some(describe))
        }
        Command::Package {
            out,
            listing,
            changelog,
            revision,
        } => {
            let runtime = load()?;
            let sources = host_harness::packaging::PackageSources {
                component: component.clone(),
                listing,
                changelog,
                revision,
            };
            let manifest = host_harness::packaging::write_package(&runtime, &sources, &out)
                .await
                .map_err(Failure::Usage)?;
            Ok(Some(manifest))
        }
        Command::Publish {
            reference,
            sign_key,
        } => {
            let (Some(package), Some(dir)) = (&package, &cli.package) else {
                return Err(Failure::Usage(anyhow::anyhow!(
                    "publish needs --package DIR (a directory `package` wrote)"
                )));
            };
            let reference = oci::Reference::parse(&reference).map_err(Failure::Usage)?;
            let runtime = load()?;
            let pushed = host_harness::publish::publish(
                &runtime,
                package,
                dir,
                &reference,
                sign_key.as_deref(),
            )
            .await
            .map_err(Failure::Usage)?;
            Ok(Some(pushed))
        }
        Command::PublishWit { reference, wit } => {
            let reference = oci::Reference::parse(&reference).map_err(Failure::Usage)?;
            let pushed = host_harness::publish::publish_wit(&wit, &reference)
                .await
                .map_err(Failure::Usage)?;
            Ok(Some(pushed))
        }
        Command::ComposeWasiHttp { out, adapters } => {
            let composed = host_harness::wasi_http::compose(&component, &adapters, &out)
                .map_err(Failure::Usage)?;
            Ok(Some(composed))
        }
        Command::TestConnection { config } => {
            let runtime = load()?;
            let session = traced(
                runtime.connect(&read_config(&config)?, tokens()?).await?,
                trace,
            );
            let _printed = PrintTrace(&session);
            Ok(Some(session.test().await?))
        }
        Command::Action { key, config, input } => {
            let input = read_input(input.as_deref())?;
            let runtime = load()?;
            let session = traced(
                runtime.connect(&read_config(&config)?, tokens()?).await?,
                trace,
            );
            let _printed = PrintTrace(&session);
            Ok(Some(session.execute(&key, &input).await?))
        }
        Command::Options {
            provider,
            config,
            params,
            cursor,
        } => {
            let params: Value = match params.as_deref() {
                None => json!({}),
                Some(text) => serde_json::from_str(text).map_err(|e| {
                    Failure::Usage(anyhow::anyhow!("--params is not valid JSON: {e}"))
                })?,
            };
            let runtime = load()?;
            let session = traced(
                runtime.connect(&read_config(&config)?, tokens()?).await?,
                trace,
            );
            let _printed = PrintTrace(&session);
            Ok(Some(match cursor {
                Some(cursor) => {
                    session
                        .list_options(&provider, &params, Some(&cursor))
                        .await?
                }
                None => session.all_options(&provider, &params, 1_000).await?,
            }))
        }
        Command::Schema {
            action,
            config,
            input,
        } => {
            let partial = read_input(input.as_deref())?;
            let runtime = load()?;
            let session = traced(
                runtime.connect(&read_config(&config)?, tokens()?).await?,
                trace,
            );
            let _printed = PrintTrace(&session);
            Ok(Some(session.input_schema(&action, &partial).await?))
        }
        Command::Poll {
            trigger,
            config,
            input,
            state,
        } => {
            let input = read_input(input.as_deref())?;
            let runtime = load()?;
            let session = traced(
                runtime.connect(&read_config(&config)?, tokens()?).await?,
                trace,
            );
            let _printed = PrintTrace(&session);
            // Held from reading the state to writing it back: one poll per state file at a
            // time, whatever the number of processes.
            let _lock = match &state {
                Some(path) => Some(triggers::lock(path).map_err(Failure::Usage)?),
                None => None,
            };
            let mut poll_state: triggers::PollState = match &state {
                Some(path) => triggers::load_poll_state(path, &trigger).map_err(Failure::Usage)?,
                None => Default::default(),
            };
            let polled = session.poll_with(&trigger, &input, &mut poll_state).await?;
            print_json(&triggers::polled_json(&polled));
            if let Some(path) = &state {
                triggers::save(path, &poll_state).map_err(Failure::Usage)?;
            }
            Ok(None)
        }
        Command::Webhook(command) => webhook(command, load()?, tokens()?).await,
        Command::Listen {
            trigger,
            config,
            input,
            port,
            subscription,
            max_events,
        } => {
            let input = read_input(input.as_deref())?;
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens()?).await?;
            let options = listen::Options {
                trigger,
                input,
                port,
                subscription_file: subscription,
                max_events,
            };
            listen::run(&session, options).await?;
            Ok(None)
        }
        Command::McpTools => {
            let manifest = load()?.describe().await.map_err(CallError::Host)?;
            Ok(Some(json!({ "tools": mcp::tools(&manifest) })))
        }
        Command::McpServe { config, http, bind } => {
            let runtime = load()?;
            let Some(port) = http else {
                let session = runtime.connect(&read_config(&config)?, tokens()?).await?;
                let stdin = tokio::io::BufReader::new(tokio::io::stdin());
                mcp::serve(&session, stdin, tokio::io::stdout())
                    .await
                    .map_err(CallError::Host)?;
                return Ok(None);
            };
            let listener = tokio::net::TcpListener::bind((bind, port))
                .await
                .map_err(|e| Failure::Usage(anyhow::anyhow!("binding {bind}:{port}: {e}")))?;
            let addr = listener
                .local_addr()
                .map_err(|e| Failure::Usage(e.into()))?;
            // The server answers until the process ends, and its handlers need the runtime
            // and the session for that long: they are given the process's lifetime.
            let runtime: &'static host_harness::Runtime = Box::leak(Box::new(runtime));
            let session = runtime.connect(&read_config(&config)?, tokens()?).await?;
            let session: &'static Session<'static> = Box::leak(Box::new(session));
            let server = mcp::Server::new(session).await.map_err(CallError::Host)?;
            let server: &'static mcp::Server<'static, 'static> = Box::leak(Box::new(server));
            eprintln!(
                "MCP (Streamable HTTP) on {}",
                crate::mcp_http::endpoint(addr)
            );
            crate::mcp_http::serve(server, listener)
                .await
                .map_err(CallError::Host)?;
            Ok(None)
        }
        Command::Authorize {
            config,
            redirect_uri,
        } => {
            let runtime = load()?;
            let session = runtime.connect(&read_config(&config)?, tokens()?).await?;
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
            let session = runtime.connect(&read_config(&config)?, tokens()?).await?;
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
        Command::Emulator {
            port,
            rate_limits,
            faults,
            fault_rate,
        } => serve_emulator(port, rate_limits, faults.map(|seed| (seed, fault_rate)))
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
        Command::Studio { port, emulator } => {
            // The emulator is on loopback; otherwise the operator's --allow-loopback holds.
            let options = RuntimeOptions {
                allow_loopback: options.allow_loopback || emulator,
                ..options
            };
            let runtime = Runtime::load(&component, options).map_err(Failure::Usage)?;
            let studio = host_harness::studio::Options {
                port,
                emulator,
                assets_dir: std::env::var_os("STUDIO_ASSETS_DIR").map(PathBuf::from),
            };
            host_harness::studio::run(runtime, studio)
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

async fn webhook(
    command: WebhookCommand,
    runtime: Runtime,
    tokens: TokenStore,
) -> Result<Option<Value>, Failure> {
    match command {
        WebhookCommand::Subscribe {
            trigger,
            config,
            url,
            input,
        } => {
            let input = read_input(input.as_deref())?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            let sub = session.subscribe(&trigger, &input, &url).await?;
            Ok(Some(
                serde_json::to_value(sub).map_err(|e| Failure::Usage(e.into()))?,
            ))
        }
        WebhookCommand::Unsubscribe {
            trigger,
            config,
            subscription,
        } => {
            let sub = subscription_for(&trigger, &subscription)?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            session.unsubscribe(&sub).await?;
            Ok(Some(
                json!({ "status": "unsubscribed", "webhook_id": sub.state["webhook_id"] }),
            ))
        }
        WebhookCommand::Handle {
            trigger,
            config,
            subscription,
            headers,
            body,
        } => {
            // Held from reading the subscription to writing it back: concurrent deliveries
            // take turns, each seeing the ids the other delivered.
            let _lock = triggers::lock(&subscription).map_err(Failure::Usage)?;
            let mut sub = subscription_for(&trigger, &subscription)?;
            let headers = read_headers(&headers)?;
            let body = std::fs::read(&body).map_err(|e| {
                Failure::Usage(anyhow::anyhow!("reading body {}: {e}", body.display()))
            })?;
            let session = runtime.connect(&read_config(&config)?, tokens).await?;
            let handled = session.handle_webhook(&mut sub, headers, body).await;
            if let Ok(events) = &handled {
                print_json(&json!({ "events": events }));
            }
            // Saved whatever the outcome: a refused delivery may have counted as a forgery.
            triggers::save(&subscription, &sub).map_err(Failure::Usage)?;
            handled?;
            Ok(None)
        }
    }
}

/// The sandbox limits, defaults overridden by the flags.
fn limits(cli: &Cli) -> Result<host_harness::sandbox::Limits, Failure> {
    let mut limits = host_harness::sandbox::Limits::default();
    if let Some(seconds) = cli.call_timeout {
        limits.call_timeout = std::time::Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Failure::Usage(anyhow::anyhow!(
                    "--call-timeout must be a positive number of seconds"
                ))
            })?;
    }
    if let Some(mib) = cli.max_memory_mib {
        limits.memory_bytes = mib
            .checked_mul(1 << 20)
            .filter(|b| *b > 0)
            .ok_or_else(|| Failure::Usage(anyhow::anyhow!("--max-memory-mib is out of range")))?;
    }
    Ok(limits)
}

/// `--resolve NAME=IP` flags as a name → addresses map.
fn pinned_hosts(
    flags: &[String],
) -> Result<std::collections::BTreeMap<String, Vec<std::net::IpAddr>>, Failure> {
    let mut pinned = std::collections::BTreeMap::<String, Vec<std::net::IpAddr>>::new();
    for flag in flags {
        let parsed = flag
            .split_once('=')
            .and_then(|(name, ip)| Some((name, ip.trim_matches(['[', ']']).parse().ok()?)));
        let Some((name, ip)) = parsed else {
            return Err(Failure::Usage(anyhow::anyhow!(
                "--resolve {flag}: expected NAME=IP, e.g. api.example.com=203.0.113.7"
            )));
        };
        pinned
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(ip);
    }
    Ok(pinned)
}

/// A subscription file, checked to belong to `trigger`.
fn subscription_for(trigger: &str, path: &Path) -> Result<triggers::Subscription, Failure> {
    let sub = triggers::load_subscription(path).map_err(Failure::Usage)?;
    if sub.trigger != trigger {
        return Err(Failure::Usage(anyhow::anyhow!(
            "{} belongs to trigger `{}`, not `{trigger}`",
            path.display(),
            sub.trigger
        )));
    }
    Ok(sub)
}

/// A JSON object of header name → value (string).
fn read_headers(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(anyhow::anyhow!("reading headers {}: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(anyhow::anyhow!("{} is not JSON: {e}", path.display())))?;
    let Value::Object(map) = value else {
        return Err(Failure::Usage(anyhow::anyhow!(
            "{} must be a JSON object of header name to value",
            path.display()
        )));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            other => Err(Failure::Usage(anyhow::anyhow!(
                "header `{k}` must be a string, not {other}"
            ))),
        })
        .collect()
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

async fn serve_emulator(
    port: u16,
    rate_limits: bool,
    faults: Option<(u64, f64)>,
) -> anyhow::Result<()> {
    if let Some((_, rate)) = faults {
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--fault-rate must be between 0 and 1"
        );
    }
    let running = emulator::start(([127, 0, 0, 1], port).into()).await?;
    if rate_limits {
        running.emulator().enforce_rate_limits(None);
    }
    if let Some((seed, rate)) = faults {
        running.emulator().enable_faults(emulator::FaultConfig {
            rate,
            ..emulator::FaultConfig::seeded(seed)
        });
        eprintln!(
            "Fault mode: seed {seed}, {:.0}% of API requests.",
            rate * 100.0
        );
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
            "clickwrap": {
                "api_keys": [
                    { "name": "admin", "client_id": emulator::ClickwrapFixture::ADMIN_CLIENT_ID,
                      "client_secret": emulator::ClickwrapFixture::ADMIN_CLIENT_SECRET,
                      "access_token": emulator::ClickwrapFixture::ADMIN_ACCESS_TOKEN },
                    { "name": "viewer", "client_id": emulator::ClickwrapFixture::VIEWER_CLIENT_ID,
                      "client_secret": emulator::ClickwrapFixture::VIEWER_CLIENT_SECRET,
                      "access_token": emulator::ClickwrapFixture::VIEWER_ACCESS_TOKEN },
                ],
                "site_access_id": emulator::ClickwrapFixture::SITE_ACCESS_ID,
            },
        }))?
    );
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}

/// `session`, recording its HTTP exchanges when `--trace` asked for them.
fn traced(session: Session<'_>, trace: bool) -> Session<'_> {
    if trace { session.traced() } else { session }
}

/// Prints a traced session's exchanges on stderr when the command is done with it, whether
/// it succeeded or not (a failed call's trace is the one worth reading).
struct PrintTrace<'a, 'r>(&'a Session<'r>);

impl Drop for PrintTrace<'_, '_> {
    fn drop(&mut self) {
        for exchange in self.0.take_trace() {
            eprintln!("http: {}", exchange.line());
        }
    }
}
