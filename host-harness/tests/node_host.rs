//! Portability: the same component, transpiled by jco and run on Node (`hosts/node/`), gives
//! the same `describe`, `test-connection`, action, schema and options results against the emulator as this
//! wasmtime host, and is held to the same egress policy: what the package declares, bound to
//! the form; every non-public spelling of an address refused before a connection; names
//! judged by what they resolve to; responses capped at 64 MiB; secrets never shown. Needs
//! `npm ci` in hosts/node (scripts/test does it); without it the test says so and passes,
//! unless NODE_HOST_REQUIRED is set (scripts/test sets it).

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use host_harness::emulator::ClickwrapFixture;
use host_harness::{Runtime, RuntimeOptions};
use serde_json::{Value, json};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hosts/node")
}

fn prepared() -> bool {
    let ready = node_dir().join("node_modules/.bin/jco").exists();
    if !ready {
        assert!(
            std::env::var_os("NODE_HOST_REQUIRED").is_none() && std::env::var_os("CI").is_none(),
            "hosts/node/node_modules is missing: run `npm install` in hosts/node"
        );
        eprintln!("NOT RUN: the Node host comparison needs `npm install` in hosts/node");
    }
    ready
}

/// Transpile the test component into hosts/node/build (where host.mjs imports it from), once
/// per test process: the tests run in parallel and share the directory.
fn transpile() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(transpile_now);
}

fn transpile_now() {
    let out = Command::new(node_dir().join("node_modules/.bin/jco"))
        .current_dir(node_dir())
        .args(["transpile"])
        .arg(component_path())
        .args(["-o", "build", "--name", "connector", "--no-typescript"])
        .args(["--map", "ipaas:connector/*=../imports/*.js"])
        .output()
        .expect("jco runs");
    assert!(
        out.status.success(),
        "jco transpile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn node(args: &[&str]) -> Value {
    let (code, out) = node_run(&[&["--allow-loopback"], args].concat());
    assert_eq!(code, 0, "node host.mjs {args:?}: {out}");
    out
}

/// `node host.mjs ARGS`: the exit code and the JSON printed on stdout (exit 2, a host
/// failure, panics with stderr).
fn node_run(args: &[&str]) -> (i32, Value) {
    let out = Command::new("node")
        .current_dir(node_dir())
        .arg("host.mjs")
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "node host.mjs {args:?} exited {code}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (code, value)
}

/// A Node host error (`{"error": {"tag", "val"}}`) as `(tag, field, message)`.
fn node_error(out: &Value) -> (String, Option<String>, String) {
    let e = &out["error"];
    let message = e["val"]["message"]
        .as_str()
        .or(e["val"].as_str())
        .unwrap_or_default();
    (
        e["tag"].as_str().unwrap_or_default().to_string(),
        e["val"]["field"].as_str().map(str::to_string),
        message.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_host_matches_the_wasmtime_host() {
    if !prepared() {
        return;
    }
    tokio::task::spawn_blocking(transpile).await.unwrap();
    let emu = start_emulator().await;
    let dir = scratch("node-host");
    let form = form(&emu, "demo-client-credentials", json!({}));
    let config = write_json(&dir, "form.json", &form);
    let rt = runtime();
    let session = connect_with(&rt, &emu, &dir, json!({})).await;

    let describe = rt.describe().await.unwrap();
    assert_eq!(node(&["describe"]), describe, "describe");

    let identity = session.test().await.unwrap();
    assert!(identity["user"]["email"].is_string());
    assert_eq!(node(&["test-connection", "--config", &config]), identity);

    let cases = [
        ("list_workflows", json!({ "status": ["active"] })),
        ("list_workflow_schemas", json!({})),
        ("list_records", json!({})),
    ];
    for (key, input) in cases {
        let expected = session.execute(key, &input).await.unwrap();
        let input_file = write_json(&dir, &format!("{key}.json"), &input);
        let args = ["action", key, "--config", &config, "--input", &input_file];
        assert_eq!(node(&args), expected, "{key}");
    }

    // The builder interface: a template's launch schema and a pick list page.
    let templates = session
        .list_options("templates", &json!({}), Some("0"))
        .await
        .unwrap();
    let args = ["options", "templates", "--config", &config, "--cursor", "0"];
    assert_eq!(node(&args), templates, "options");
    let partial = json!({ "body": { "template": templates["options"][1]["value"] } });
    let expected = session
        .input_schema("launch_new_workflow", &partial)
        .await
        .unwrap();
    let partial_file = write_json(&dir, "partial.json", &partial);
    let args = [
        "schema",
        "launch_new_workflow",
        "--config",
        &config,
        "--input",
        &partial_file,
    ];
    assert_eq!(node(&args), expected, "schema");

    // A Clickwrap REST connection: both hosts send the form's access token as it is.
    let clickwrap = clickwrap_token_form(&emu, ClickwrapFixture::ADMIN_ACCESS_TOKEN);
    let clickwrap_config = write_json(&dir, "clickwrap.json", &clickwrap);
    let clickwrap_session = rt
        .connect(
            &host_harness::ConnectionConfig::from_value(clickwrap).unwrap(),
            tokens(&dir),
        )
        .await
        .unwrap();
    let expected = clickwrap_session
        .execute("clickwrap_list_sites", &json!({}))
        .await
        .unwrap();
    let no_input = write_json(&dir, "sites.json", &json!({}));
    let args = [
        "action",
        "clickwrap_list_sites",
        "--config",
        &clickwrap_config,
        "--input",
        &no_input,
    ];
    assert_eq!(node(&args), expected, "clickwrap_list_sites");
    let exchanges = requests(&emu).await.into_iter().filter(|r| {
        r["path"] == "/oauth/token" && r["body"]["client_id"] == ClickwrapFixture::ADMIN_CLIENT_ID
    });
    assert_eq!(exchanges.count(), 0, "no Clickwrap exchange");

    // Both hosts reached the emulator with host-obtained tokens and no contract violations.
    assert!(contract_violations(&emu).await.is_empty());
}

/// A loopback TCP listener that counts the connections it accepts (and closes them): a
/// refused request must not open one.
struct CountingListener {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingListener {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok(_) => {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        CountingListener {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    fn accepted(&self) -> usize {
        // Let a connection in flight land before counting.
        std::thread::sleep(std::time::Duration::from_millis(50));
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A client-credentials form for `instance_url`, no emulator behind it.
fn form_for(instance_url: &str) -> Value {
    json!({
        "api_type": "clm_public",
        "region": "custom",
        "instance_url": instance_url,
        "grant_type": "client_credentials",
        "client_id": "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b",
        "client_secret": "node-host-parity-client-secret-5e1f",
        "impersonate_user": "jane.doe@acme.example",
    })
}

/// Every spelling of a loopback, private or metadata address in the fixture, given as
/// `instance_url` without --allow-loopback, is refused by the Node host with the
/// `invalid-config` error and field the wasmtime host reports, and no TCP connection reaches
/// the loopback listener the loopback spellings point at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_host_refuses_every_non_public_spelling_before_connecting() {
    if !prepared() {
        return;
    }
    tokio::task::spawn_blocking(transpile).await.unwrap();
    let listener = CountingListener::start();
    let dir = scratch("node-host-spellings");
    let strict = Runtime::load(
        &component_path(),
        RuntimeOptions {
            allow_loopback: false,
            cache_dir: Some(cache_dir()),
            ..host_harness::ironclad::options()
        },
    )
    .unwrap();
    let all = spellings(listener.port);
    assert!(all.len() > 70, "the fixture lists {} spellings", all.len());
    for (i, url) in all.iter().enumerate() {
        let form = form_for(url);
        let file = write_json(&dir, &format!("form-{i}.json"), &form);
        let (code, out) = node_run(&["test-connection", "--config", &file]);
        assert_eq!(code, 1, "{url} was accepted by the Node host: {out}");
        let (tag, field, message) = node_error(&out);
        assert_eq!(tag, "invalid-config", "{url}: {out}");
        assert_eq!(field.as_deref(), Some("instance_url"), "{url}: {out}");
        assert!(!message.is_empty(), "{url}: {out}");

        let Err(e) = strict.connect(&config(form), tokens(&dir)).await else {
            panic!("{url} was accepted by the wasmtime host")
        };
        let e = report(e);
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            ("invalid_config".into(), field.as_deref()),
            "{url}: the hosts disagree: wasmtime {e}, node {out}"
        );
    }
    assert_eq!(
        listener.accepted(),
        0,
        "a refused spelling opened a connection"
    );
}

/// What the Node host may reach comes from the package (`--package DIR`), not from the
/// connector: a package that does not declare `https://{instance_url}` refuses a loopback
/// instance even with --allow-loopback. A name that resolves to loopback passes the URL
/// checks but is refused after resolution, before a connection. A secret field that is not
/// text is refused without showing its value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_host_reaches_only_what_the_package_declares() {
    if !prepared() {
        return;
    }
    tokio::task::spawn_blocking(transpile).await.unwrap();
    let listener = CountingListener::start();
    let dir = scratch("node-host-package");
    let local = format!("http://127.0.0.1:{}", listener.port);

    let package = dir.join("package");
    std::fs::create_dir_all(&package).unwrap();
    write_json(
        &package,
        "manifest.json",
        &json!({ "id": "ironclad", "allowed_outbound_hosts": ["https://na1.ironcladapp.com"] }),
    );
    let config = write_json(&dir, "local.json", &form_for(&local));
    let package_arg = package.to_string_lossy().into_owned();
    let args = [
        "--allow-loopback",
        "--package",
        &package_arg,
        "test-connection",
        "--config",
        &config,
    ];
    let (code, out) = node_run(&args);
    let (tag, _, message) = node_error(&out);
    assert_eq!((code, tag.as_str()), (1, "invalid-config"), "{out}");
    assert!(
        message.contains("does not allow") && message.contains("https://na1.ironcladapp.com"),
        "{out}"
    );

    // The Ironclad listing declares `https://{instance_url}`: the name passes the URL checks,
    // and is refused for what it resolves to.
    let name = format!("https://ironclad.attacker.test:{}", listener.port);
    let config = write_json(&dir, "name.json", &form_for(&name));
    let args = [
        "--allow-loopback",
        "--resolve",
        "ironclad.attacker.test=127.0.0.1",
        "test-connection",
        "--config",
        &config,
    ];
    let (code, out) = node_run(&args);
    let (tag, field, message) = node_error(&out);
    assert_eq!(
        (code, tag.as_str(), field.as_deref()),
        (1, "invalid-config", Some("instance_url")),
        "{out}"
    );
    assert!(
        message.contains("resolves to 127.0.0.1, a loopback address"),
        "{out}"
    );

    // One private address among public ones refuses the whole name.
    let args = [
        "--allow-loopback",
        "--resolve",
        "ironclad.attacker.test=52.1.2.3",
        "--resolve",
        "ironclad.attacker.test=10.0.0.1",
        "test-connection",
        "--config",
        &config,
    ];
    let (_, out) = node_run(&args);
    assert!(
        node_error(&out)
            .2
            .contains("resolves to 10.0.0.1, a private address"),
        "{out}"
    );
    assert_eq!(listener.accepted(), 0, "nothing reached the listener");

    for (value, kind) in [
        (json!(["node-host-parity-secret-in-a-list"]), "a list"),
        (json!(73_519_204_866_u64), "a number"),
    ] {
        let mut form = form_for(&local);
        form["client_secret"] = value.clone();
        let config = write_json(&dir, "secret.json", &form);
        let (code, out) = node_run(&["--allow-loopback", "test-connection", "--config", &config]);
        let (tag, field, message) = node_error(&out);
        assert_eq!(
            (code, tag.as_str(), field.as_deref()),
            (1, "invalid-config", Some("client_secret")),
            "{out}"
        );
        assert!(message.contains(kind), "{out}");
        let shown = out.to_string();
        assert!(
            !shown.contains("node-host-parity-secret") && !shown.contains("73519204866"),
            "the secret was shown: {shown}"
        );
    }
}

/// One HTTP/1.1 upstream on loopback: a token for `/oauth/token`, and for anything else a
/// body of `size` bytes, announced by content-length or sent chunked.
fn big_upstream(size: usize, chunked: bool) -> (u16, std::thread::JoinHandle<()>, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let halt = stop.clone();
    let thread = std::thread::spawn(move || {
        while !halt.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    std::thread::spawn(move || {
                        let _ = answer_big(stream, size, chunked);
                    });
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    });
    (port, thread, stop)
}

fn answer_big(stream: TcpStream, size: usize, chunked: bool) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut out = stream;
    if request_line.contains("/oauth/token") {
        let token = json!({ "access_token": "emu_5c1d7e0a9b3f4c2d8e6a1b0c9d8e7f6a5b4c3d2e", "token_type": "bearer", "expires_in": 3600 }).to_string();
        write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{token}",
            token.len()
        )?;
        return Ok(());
    }
    let framing = if chunked {
        "transfer-encoding: chunked".to_string()
    } else {
        format!("content-length: {size}")
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\nconnection: close\r\n\r\n"
    )?;
    let block = vec![b' '; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        if chunked {
            write!(out, "{n:x}\r\n")?;
        }
        out.write_all(&block[..n])?;
        if chunked {
            out.write_all(b"\r\n")?;
        }
        left -= n;
    }
    if chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    out.flush()
}

/// Responses over 64 MiB are refused (the WIT `too-large`, which the connector reports as an
/// upstream error naming the limit) whether the size is announced or only counted while
/// reading; 64 MiB exactly still reaches the connector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_host_caps_responses_at_64_mib() {
    if !prepared() {
        return;
    }
    tokio::task::spawn_blocking(transpile).await.unwrap();
    let dir = scratch("node-host-cap");
    let cap = host_harness::http_import::MAX_RESPONSE_BYTES as usize;
    for (size, chunked) in [(cap + 1, false), (cap + 1, true), (cap, true)] {
        let (port, thread, stop) = big_upstream(size, chunked);
        let config = write_json(
            &dir,
            "form.json",
            &form_for(&format!("http://127.0.0.1:{port}")),
        );
        let (code, out) = tokio::task::spawn_blocking(move || {
            node_run(&["--allow-loopback", "test-connection", "--config", &config])
        })
        .await
        .unwrap();
        let (tag, _, message) = node_error(&out);
        assert_eq!(code, 1, "{out}");
        let over = message.contains(&format!("exceeded the host's {cap}-byte limit"));
        if size > cap {
            assert_eq!(tag, "upstream", "{size} bytes, chunked {chunked}: {out}");
            assert!(over, "{size} bytes, chunked {chunked}: {out}");
        } else {
            // The body reached the connector, which found no JSON in 64 MiB of spaces.
            assert!(!over, "{size} bytes was refused: {out}");
        }
        stop.store(true, Ordering::SeqCst);
        thread.join().unwrap();
    }
}

/// The Node host's policy pieces one by one (`npm test` in hosts/node): address
/// classification, every fixture spelling, the declaration, secrets, the request caps and
/// the response cap of the `http` import.
#[test]
fn the_node_hosts_own_tests_pass() {
    if !prepared() {
        return;
    }
    let out = Command::new("node")
        .current_dir(node_dir())
        .args(["--test", "test/"])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node --test:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
