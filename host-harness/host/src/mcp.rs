//! The connector as MCP tools: every action becomes a tool (name = action key, input and
//! output schemas without UI-only keywords, annotations from the catalog hints), and
//! [`Server`] answers MCP's JSON-RPC messages, running `tools/call` through the component.
//! The transports are thin: [`serve`] (newline-delimited stdio) here, Streamable HTTP in
//! `connector-harness mcp-serve --http`.
//!
//! Both eras of the protocol are spoken. Handshake-era clients (2024-11-05 … 2025-11-25)
//! `initialize` and get the newest revision they name, or the newest we speak. Clients of
//! 2026-07-28 ask `server/discover` and then stamp each request's `_meta` with their
//! revision; those answers carry `resultType`, and cacheable ones `cacheScope` and `ttlMs`.
//! A request stamped with a revision we do not speak gets error -32022 naming the ones we do.
//!
//! Connector errors are tool results with `isError: true` (the model can read and fix its
//! input); JSON-RPC errors are kept for protocol mistakes (unknown method or tool, bad JSON).

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::session::Session;

/// Revisions negotiated by `initialize`, newest first.
pub const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Revisions of the per-request era (`server/discover`, `_meta` on every request).
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];
const VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";
/// JSON-RPC error: the request's protocol revision is not one this server speaks.
const UNSUPPORTED_VERSION: i64 = -32022;
/// How long a client may keep `tools/list` and `server/discover` answers: the tools are the
/// loaded connector's, fixed for the server's life.
const TOOLS_TTL_MS: u64 = 3_600_000;

/// MCP tool definitions for every action of a `describe` manifest.
pub fn tools(manifest: &Value) -> Vec<Value> {
    manifest["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let hints = &a["hints"];
            let mut description = a["description"].as_str().unwrap_or_default().to_string();
            if let Some(scopes) = a["scopes"].as_array().filter(|s| !s.is_empty()) {
                let scopes: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
                description.push_str(&format!("\n\nOAuth scopes: {}.", scopes.join(", ")));
            }
            let mut tool = json!({
                "name": a["key"],
                "title": a["title"],
                "description": description,
                "inputSchema": strip_ui(&a["input_schema"]),
                "annotations": {
                    "title": a["title"],
                    "readOnlyHint": hints["read_only"],
                    "destructiveHint": hints["destructive"],
                    "idempotentHint": hints["idempotent"],
                    // Every action talks to Ironclad: an external system.
                    "openWorldHint": true,
                },
            });
            // MCP output schemas describe `structuredContent`, always an object.
            if a["output_schema"]["type"] == "object" {
                tool["outputSchema"] = strip_ui(&a["output_schema"]);
            }
            tool
        })
        .collect()
}

/// The schema without keywords that only drive form UIs (`x-…`).
pub fn strip_ui(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with("x-"))
                .map(|(k, v)| (k.clone(), strip_ui(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_ui).collect()),
        other => other.clone(),
    }
}

/// One connection's MCP server, whatever carries its messages.
pub struct Server<'s, 'r> {
    session: &'s Session<'r>,
    manifest: Value,
    tools: Vec<Value>,
}

/// Which era a request belongs to, from its `_meta`.
enum Era {
    Handshake,
    Modern,
}

impl<'s, 'r> Server<'s, 'r> {
    pub async fn new(session: &'s Session<'r>) -> anyhow::Result<Self> {
        let manifest = session.runtime().describe().await?;
        let tools = tools(&manifest);
        Ok(Server {
            session,
            manifest,
            tools,
        })
    }

    /// Every revision spoken, oldest first, as `server/discover` and -32022 list them.
    fn supported() -> Vec<&'static str> {
        let mut all: Vec<&str> = HANDSHAKE_VERSIONS.iter().rev().copied().collect();
        all.extend(MODERN_VERSIONS);
        all
    }

    /// The answer to one line of JSON-RPC text; `None` for a notification.
    pub async fn answer_text(&self, text: &str) -> Option<Value> {
        match serde_json::from_str::<Value>(text) {
            Ok(message) => self.answer(&message).await,
            Err(e) => Some(rpc_error(
                Value::Null,
                -32700,
                &format!("parse error: {e}"),
                None,
            )),
        }
    }

    /// The answer to one JSON-RPC message; `None` for a notification or a response.
    pub async fn answer(&self, message: &Value) -> Option<Value> {
        let id = message.get("id").cloned();
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            // A response to a request of ours (we make none), or not JSON-RPC at all.
            return id.map(|id| rpc_error(id, -32600, "invalid request: no method", None));
        };
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let era = match params.pointer(&format!("/_meta/{}", VERSION_META.replace('/', "~1"))) {
            None => Era::Handshake,
            Some(Value::String(v)) if MODERN_VERSIONS.contains(&v.as_str()) => Era::Modern,
            Some(Value::String(v)) if HANDSHAKE_VERSIONS.contains(&v.as_str()) => Era::Handshake,
            Some(other) => {
                let data = json!({ "supported": Self::supported(), "requested": other });
                return id.map(|id| {
                    rpc_error(
                        id,
                        UNSUPPORTED_VERSION,
                        "unsupported protocol version",
                        Some(data),
                    )
                });
            }
        };
        let result = match method {
            "initialize" => Ok(self.initialize(&params)),
            "server/discover" => Ok(self.discover()),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(self.list(&era)),
            "tools/call" => self.call(&params).await,
            _ if id.is_none() => return None, // notifications (initialized, cancelled, …)
            other => Err((-32601, format!("method not found: {other}"))),
        };
        let id = id?;
        Some(match result {
            Ok(mut result) => {
                if matches!(era, Era::Modern) || method == "server/discover" {
                    result["resultType"] = json!("complete");
                }
                json!({ "jsonrpc": "2.0", "id": id, "result": result })
            }
            Err((code, message)) => rpc_error(id, code, &message, None),
        })
    }

    fn server_info(&self) -> Value {
        json!({
            "name": self.manifest["id"],
            "title": self.manifest["name"],
            "version": self.manifest["version"],
        })
    }

    fn initialize(&self, params: &Value) -> Value {
        let asked = params["protocolVersion"].as_str().unwrap_or_default();
        let version = HANDSHAKE_VERSIONS
            .iter()
            .find(|v| **v == asked)
            .unwrap_or(&HANDSHAKE_VERSIONS[0]);
        json!({
            "protocolVersion": version,
            "capabilities": { "tools": { "listChanged": false } },
            "serverInfo": self.server_info(),
            "instructions": self.manifest["description"],
        })
    }

    fn discover(&self) -> Value {
        json!({
            "supportedVersions": Self::supported(),
            "capabilities": { "tools": {} },
            "instructions": self.manifest["description"],
            // The same tools for every caller: nothing user-specific in the answer.
            "cacheScope": "public",
            "ttlMs": TOOLS_TTL_MS,
            "_meta": { SERVER_INFO_META: self.server_info() },
        })
    }

    fn list(&self, era: &Era) -> Value {
        let mut result = json!({ "tools": self.tools });
        if matches!(era, Era::Modern) {
            result["cacheScope"] = json!("public");
            result["ttlMs"] = json!(TOOLS_TTL_MS);
        }
        result
    }

    async fn call(&self, params: &Value) -> Result<Value, (i64, String)> {
        let name = params["name"].as_str().unwrap_or_default();
        if !self.tools.iter().any(|t| t["name"] == name) {
            return Err((
                -32602,
                format!("unknown tool `{name}`; tools/list has the tools"),
            ));
        }
        let arguments = match &params["arguments"] {
            Value::Null => json!({}),
            other => other.clone(),
        };
        Ok(match self.session.execute(name, &arguments).await {
            Ok(output) => json!({
                "content": [{ "type": "text", "text": output.to_string() }],
                "structuredContent": output,
                "isError": false,
            }),
            Err(e) => json!({
                "content": [{ "type": "text", "text": e.to_json().to_string() }],
                "isError": true,
            }),
        })
    }
}

/// Serve MCP over newline-delimited stdio until `input` ends. One request at a time,
/// answered in order.
pub async fn serve<R, W>(session: &Session<'_>, input: R, mut output: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let server = Server::new(session).await?;
    // Lines are read as bytes: a line that is not UTF-8 is a parse error to answer (-32700),
    // not the end of the session.
    let mut input = input;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer).await? == 0 {
            break;
        }
        let reply = match std::str::from_utf8(&buffer) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => server.answer_text(line).await,
            Err(e) => Some(rpc_error(
                Value::Null,
                -32700,
                &format!("parse error: the line is not UTF-8 ({e})"),
                None,
            )),
        };
        let Some(reply) = reply else {
            continue; // a notification
        };
        output.write_all(reply.to_string().as_bytes()).await?;
        output.write_all(b"\n").await?;
        output.flush().await?;
    }
    Ok(())
}

pub fn rpc_error(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_carry_hints_and_lose_ui_keywords() {
        let manifest = json!({ "actions": [{
            "key": "delete_record", "title": "Delete a Record", "description": "Deletes.",
            "scopes": ["public.records.deleteRecords"],
            "hints": { "read_only": false, "destructive": true, "idempotent": true },
            "input_schema": { "type": "object", "x-order": ["id"], "properties": {
                "id": { "type": "string", "x-enum-labels": {}, "description": "Record id" } } },
        }]});
        let t = &tools(&manifest)[0];
        assert_eq!(t["name"], "delete_record");
        assert_eq!(t["annotations"]["destructiveHint"], true);
        assert_eq!(t["annotations"]["readOnlyHint"], false);
        assert_eq!(
            t["inputSchema"],
            json!({ "type": "object", "properties": {
            "id": { "type": "string", "description": "Record id" } } })
        );
        assert!(
            t["description"]
                .as_str()
                .unwrap()
                .ends_with("public.records.deleteRecords.")
        );
    }
}
