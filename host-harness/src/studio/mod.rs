//! `connector-harness studio`: a local web page where a person fills in the connection form,
//! browses the catalog, runs actions with their forms and pick lists, polls triggers and
//! watches webhook deliveries, each answer shown with its HTTP trace.
//!
//! The page is a bundle built from `studio/` (npm) and embedded in the binary
//! ([`assets`]); this module is its backend, a JSON API over one [`Session`]:
//!
//! - [`guard`] — who may call it: loopback only, the right `Host`, and a per-run token
//!   (as Jupyter does) that a page on another site cannot know.
//! - [`api`] — the calls: connect and test, schema, options, run, poll, subscribe. Every
//!   answer is `{ok | error, trace}`.
//! - [`presets`] — `--emulator`: a working connection per API type, whose secrets stay here.
//! - [`hooks`] — the receiver webhook subscriptions point at, and the log of verified
//!   deliveries the page reads.
//!
//! Secrets never go back to the page: a secret field reads `"<secret>"`, and a connection
//! whose secret field still holds it takes the value from its preset or from the connection
//! it replaces. Tokens stay in a token store inside a private temporary directory.

mod api;
mod assets;
mod guard;
mod hooks;
mod presets;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::sync::oneshot;

use crate::Runtime;
use crate::emulator;

pub use presets::Preset;

/// How `studio` runs.
pub struct Options {
    /// 0 picks a free port. The studio listens on 127.0.0.1 only.
    pub port: u16,
    /// Start the emulator in-process and offer a working connection per API type.
    pub emulator: bool,
    /// Serve the page from this directory (`studio/dist`) instead of the embedded copy:
    /// for working on the page without rebuilding the binary.
    pub assets_dir: Option<PathBuf>,
}

/// A running studio: its address and token, until [`Studio::stop`].
pub struct Studio {
    addr: SocketAddr,
    token: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    state: &'static api::State,
    emulator: Option<emulator::RunningEmulator>,
}

impl Studio {
    /// Serve the studio for `runtime` (which must allow loopback with `--emulator`).
    pub async fn start(runtime: &'static Runtime, options: Options) -> anyhow::Result<Studio> {
        let emulator = match options.emulator {
            true => Some(emulator::start(([127, 0, 0, 1], 0).into()).await?),
            false => None,
        };
        let presets = emulator
            .as_ref()
            .map(presets::for_emulator)
            .transpose()?
            .unwrap_or_default();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", options.port))?;
        let addr = listener.local_addr()?;
        let token = connector_host::oauth::random_token(24);
        let assets = match options.assets_dir {
            Some(dir) => assets::Assets::Directory(dir),
            None => assets::Assets::Embedded,
        };
        let state = api::State::new(runtime, addr, token.clone(), presets, assets).await?;
        let state: &'static api::State = Box::leak(Box::new(state));
        let (stop, stopped) = oneshot::channel::<()>();
        // Not `connector_receiver::serve`: its bounds are for receivers facing whoever can
        // reach them, and its connection lifetime would cut a long action (or the page's
        // once-a-second deliveries poll) mid-request. Here only loopback and the token holder
        // get past the guard.
        let app = api::router(state);
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serving.await {
                eprintln!("studio: the server stopped: {e}");
            }
        });
        Ok(Studio {
            addr,
            token,
            stop,
            server,
            state,
            emulator,
        })
    }

    /// What to open in a browser: the page, with the token.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token every `/api` request carries (header `X-Studio-Token`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The emulator `--emulator` started.
    pub fn emulator(&self) -> Option<&emulator::RunningEmulator> {
        self.emulator.as_ref()
    }

    /// Unsubscribe every webhook the page subscribed, then stop serving.
    pub async fn stop(self) {
        self.state.unsubscribe_all().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// `connector-harness studio`: serve until Ctrl-C.
pub async fn run(runtime: Runtime, options: Options) -> anyhow::Result<()> {
    // The handlers hold the session for as long as the process serves.
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    let studio = Studio::start(runtime, options).await?;
    // One JSON line on stdout for scripts and tests; the message for a person on stderr.
    println!("{}", serde_json::json!({ "url": studio.url() }));
    eprintln!(
        "Studio on {} — open it in a browser; stop with Ctrl-C.",
        studio.url()
    );
    tokio::signal::ctrl_c().await?;
    studio.stop().await;
    Ok(())
}
