//! The connector as MCP tools: the exported definitions, and a scripted MCP client session
//! against `connector-harness mcp-serve` (stdio) calling tools through the component.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tools_mirror_the_catalog() {
    let dir = scratch("mcp-tools");
    let run = cli(&dir, &["mcp-tools"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tools = run.json()["tools"].as_array().unwrap().clone();
    let manifest = runtime().describe().await.unwrap();
    assert_eq!(tools.len(), manifest["actions"].as_array().unwrap().len());
    let find = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap().clone();
    let delete = find("delete_record");
    assert_eq!(delete["annotations"]["destructiveHint"], true);
    assert_eq!(delete["annotations"]["readOnlyHint"], false);
    assert_eq!(find("list_workflows")["annotations"]["readOnlyHint"], true);
    for t in &tools {
        let name = t["name"].as_str().unwrap();
        assert!(
            name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{name}"
        );
        assert_eq!(t["inputSchema"]["type"], "object", "{name}");
        assert!(
            !t["inputSchema"].to_string().contains("\"x-"),
            "{name} keeps a UI keyword"
        );
    }
}

/// A line-oriented MCP client over the child's stdio.
struct Client {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
}

impl Client {
    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("the server is still running");
        let reply: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(reply["id"], id, "answers come in order: {reply}");
        reply
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_lists_and_calls_tools_over_stdio() {
    let emu = start_emulator().await;
    let dir = scratch("mcp-serve");
    let cfg = write_json(
        &dir,
        "config.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let mut child = tokio::process::Command::from(harness(&dir))
        .args(["mcp-serve", "--config", &cfg])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut client = Client {
        stdin: child.stdin.take().unwrap(),
        lines: BufReader::new(child.stdout.take().unwrap()).lines(),
        child,
        next_id: 0,
    };

    let init = client
        .request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "test-client", "version": "1" }
            }),
        )
        .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "ironclad");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    client
        .send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await;

    let listed = client.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert!(
        tools
            .iter()
            .any(|t| t["name"] == "launch_workflow_and_wait")
    );

    let call = client
        .request(
            "tools/call",
            json!({ "name": "list_workflows", "arguments": { "max_items": 2 } }),
        )
        .await;
    let result = &call["result"];
    assert_eq!(result["isError"], false, "{call}");
    assert_eq!(
        result["structuredContent"]["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, result["structuredContent"]);

    // A connector error is a tool result the model can read, naming the field.
    let bad = client
        .request(
            "tools/call",
            json!({ "name": "retrieve_workflow", "arguments": {} }),
        )
        .await;
    assert_eq!(bad["result"]["isError"], true);
    let error: Value =
        serde_json::from_str(bad["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["kind"], "invalid_input");

    // Protocol mistakes are JSON-RPC errors.
    let unknown = client
        .request("tools/call", json!({ "name": "nope" }))
        .await;
    assert_eq!(unknown["error"]["code"], -32602);
    let method = client.request("resources/list", json!({})).await;
    assert_eq!(method["error"]["code"], -32601);
    assert_eq!(client.request("ping", json!({})).await["result"], json!({}));

    // A request stamped with a revision this server does not speak: -32022, naming the
    // ones it does; stamped with 2026-07-28, answers carry that era's fields.
    let meta_key = "io.modelcontextprotocol/protocolVersion";
    let future = client
        .request("tools/list", json!({ "_meta": { meta_key: "2099-01-01" } }))
        .await;
    assert_eq!(future["error"]["code"], -32022, "{future}");
    let supported = future["error"]["data"]["supported"].as_array().unwrap();
    assert!(supported.contains(&json!("2026-07-28")) && supported.contains(&json!("2024-11-05")));
    let modern = client
        .request("tools/list", json!({ "_meta": { meta_key: "2026-07-28" } }))
        .await;
    assert_eq!(modern["result"]["resultType"], "complete", "{modern}");
    assert_eq!(modern["result"]["cacheScope"], "public");
    assert!(modern["result"]["ttlMs"].as_u64().unwrap() > 0);

    // A line that is not UTF-8 is a parse error, and the session goes on.
    client
        .stdin
        .write_all(b"{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": \"\xff\xfe\"}\n")
        .await
        .unwrap();
    client.stdin.flush().await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(30), client.lines.next_line())
        .await
        .expect("an answer in time")
        .unwrap()
        .expect("the server is still running");
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert_eq!(client.request("ping", json!({})).await["result"], json!({}));

    drop(client.stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), client.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the server exits when stdin closes");
    emu.shutdown().await;
}

/// `connector-harness mcp-serve --http 0` for `cfg`, and the endpoint it printed.
async fn http_server(dir: &std::path::Path, cfg: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::from(harness(dir))
        .args(["mcp-serve", "--config", cfg, "--http", "0"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("MCP (Streamable HTTP) on ") {
                return url.to_string();
            }
        }
        panic!("mcp-serve --http ended without printing its endpoint");
    })
    .await
    .expect("the endpoint in time");
    (child, url)
}

/// The official Python SDK (PyPI `mcp`, installed by scripts/test) in both protocol eras
/// over both transports: tools listed with output schemas, a call's structured content
/// validated by the SDK against them, a refused input as a readable tool error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_client_speaks_both_eras_over_stdio_and_streamable_http() {
    let emu = start_emulator().await;
    let dir = scratch("mcp-sdk");
    let cfg = write_json(
        &dir,
        "config.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let stdio = {
        let command = harness(&dir);
        let mut line = vec![command.get_program().to_string_lossy().into_owned()];
        line.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
        line.extend(["mcp-serve", "--config", &cfg].map(String::from));
        serde_json::to_string(&line).unwrap()
    };
    let (_server, url) = http_server(&dir, &cfg).await;
    let script = format!("{}/tests/mcp_sdk.py", env!("CARGO_MANIFEST_DIR"));
    for (mode, era) in [("legacy", "2025-11-25"), ("auto", "2026-07-28")] {
        for target in [&stdio, &url] {
            let out = tokio::process::Command::new("python3")
                .args([&script, mode, target])
                .output()
                .await
                .expect("python3 runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "the MCP SDK client failed ({mode}, {target}); `pip install mcp==2.3.0` if it is missing:\n{stderr}"
            );
            let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(seen["protocol_version"], era, "{mode} {target}: {seen}");
            assert_eq!(seen["server"], "ironclad");
            assert!(seen["tools"].as_u64().unwrap() > 100);
            assert_eq!(seen["list_workflows_output_schema"]["type"], "object");
            assert_eq!(seen["listed"]["is_error"], false, "{seen}");
            assert_eq!(
                seen["listed"]["structured"]["items"]
                    .as_array()
                    .unwrap()
                    .len(),
                2
            );
            assert_eq!(seen["refused"]["is_error"], true);
            let refused: Value =
                serde_json::from_str(seen["refused"]["text"].as_str().unwrap()).unwrap();
            assert_eq!(refused["error"]["field"], "/page_size", "{seen}");
        }
    }
    emu.shutdown().await;
}

/// What Streamable HTTP asks of a local server: only loopback origins (a web page cannot
/// drive it through the user's browser), no stream it would never use, unknown revisions
/// refused, notifications accepted without a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_transport_answers_only_what_a_local_server_should() {
    let emu = start_emulator().await;
    let dir = scratch("mcp-http");
    let cfg = write_json(
        &dir,
        "config.json",
        &form(&emu, "demo-client-credentials", json!({})),
    );
    let (_server, url) = http_server(&dir, &cfg).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let http = reqwest::Client::new();
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });

    let answer = http.post(&url).json(&ping).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.json::<Value>().await.unwrap()["result"], json!({}));

    let forged = http
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&ping)
        .send();
    assert_eq!(forged.await.unwrap().status(), 403);
    let local = http
        .post(&url)
        .header("origin", "http://localhost:3000")
        .json(&ping)
        .send();
    assert_eq!(local.await.unwrap().status(), 200);

    let stream = http.get(&url).send().await.unwrap();
    assert_eq!(stream.status(), 405);
    let future = http
        .post(&url)
        .header("mcp-protocol-version", "2099-01-01")
        .json(&ping)
        .send();
    assert_eq!(future.await.unwrap().status(), 400);

    let notification = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let accepted = http.post(&url).json(&notification).send().await.unwrap();
    assert_eq!(accepted.status(), 202);
    assert!(accepted.bytes().await.unwrap().is_empty());

    let garbled = http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(garbled.status(), 400);
    assert_eq!(
        garbled.json::<Value>().await.unwrap()["error"]["code"],
        -32700
    );
    emu.shutdown().await;
}
