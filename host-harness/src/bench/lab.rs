//! What every measure shares: the loaded runtime, the in-process emulator, connections to it
//! with their own token stores, and the emulator's admin controls and request log.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use host_harness::emulator::{self, RunningEmulator};
use host_harness::{ConnectionConfig, Runtime, Session, TokenStore};
use serde_json::{Value, json};

/// A private directory (compiled-component cache, token stores), removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("connector-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Lab {
    pub runtime: Runtime,
    pub emulator: RunningEmulator,
    http: reqwest::Client,
    tokens_dir: PathBuf,
    sessions: AtomicU32,
}

impl Lab {
    pub async fn start(runtime: Runtime, scratch: &Path) -> anyhow::Result<Lab> {
        let emulator = emulator::start(([127, 0, 0, 1], 0).into()).await?;
        Ok(Lab {
            runtime,
            emulator,
            http: reqwest::Client::new(),
            tokens_dir: scratch.join("tokens"),
            sessions: AtomicU32::new(0),
        })
    }

    /// A client-credentials connection with a token store of its own: its first request
    /// fetches a token, later ones reuse it.
    pub async fn session(&self) -> anyhow::Result<Session<'_>> {
        self.session_on(&self.runtime).await
    }

    /// [`Lab::session`] on another runtime (the same component loaded with other options).
    pub async fn session_on<'r>(&self, runtime: &'r Runtime) -> anyhow::Result<Session<'r>> {
        let seed = self.emulator.seed();
        let client = seed
            .clients
            .iter()
            .find(|c| c.name == "demo-client-credentials")
            .context("the seed has the demo client")?;
        let user = seed.users.first().context("the seed has users")?;
        let form = json!({
            "api_type": "clm_public", "region": "custom", "instance_url": self.emulator.base_url(),
            "grant_type": "client_credentials", "client_id": client.client_id,
            "client_secret": client.client_secret, "impersonate_user": user.email,
        });
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let tokens = TokenStore::new(self.tokens_dir.join(format!("tokens-{n}.json")));
        runtime
            .connect(&ConnectionConfig::from_value(form)?, tokens)
            .await
            .map_err(|e| anyhow::anyhow!("connecting to the emulator: {e}"))
    }

    /// `POST /_emulator/{path}` with a JSON body; the answer.
    pub async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let url = format!("{}/_emulator/{path}", self.emulator.base_url());
        let response = self.http.post(url).json(&body).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "emulator control {path}: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    pub fn clear_requests(&self) {
        self.emulator.emulator().clear_requests();
    }

    /// Requests logged since the last clear: (token requests, API requests to `path`).
    pub fn requests_to(&self, path: &str) -> (usize, usize) {
        let log = self.emulator.emulator().requests();
        let count = |p: &str| log.iter().filter(|r| r["path"] == p).count();
        (count("/oauth/token"), count(path))
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}
