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
