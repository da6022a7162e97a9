//! The connector as MCP tools: every action becomes a tool (name = action key, input schema
//! without UI-only keywords, annotations from the catalog hints), and `serve` speaks MCP's
//! JSON-RPC over newline-delimited stdio, running `tools/call` through the component.
//!
//! Connector errors are tool results with `isError: true` (the model can read and fix its
//! input); JSON-RPC errors are kept for protocol mistakes (unknown method or tool, bad JSON).

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::session::Session;

/// Protocol revisions this server speaks, newest first.
const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

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
            json!({
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
            })
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

/// Serve MCP until `input` ends. One request at a time, answered in order.
pub async fn serve<R, W>(session: &Session<'_>, input: R, mut output: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let manifest = session.runtime().describe().await?;
    let tools = tools(&manifest);
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
            Ok(line) => answer(session, &tools, &manifest, line).await,
            Err(e) => Some(rpc_error(
                Value::Null,
                -32700,
                &format!("parse error: the line is not UTF-8 ({e})"),
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

async fn answer(
    session: &Session<'_>,
    tools: &[Value],
    manifest: &Value,
    line: &str,
) -> Option<Value> {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Some(rpc_error(Value::Null, -32700, &format!("parse error: {e}"))),
    };
    let id = request.get("id").cloned();
    let method = request["method"].as_str().unwrap_or_default();
    let params = &request["params"];
    let result = match method {
        "initialize" => Ok(initialize(params, manifest)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({ "tools": tools })),
        "tools/call" => call(session, tools, params).await,
        _ if id.is_none() => return None, // notifications (initialized, cancelled, …)
        other => Err((-32601, format!("method not found: {other}"))),
    };
    let id = id?;
    Some(match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, message)) => rpc_error(id, code, &message),
    })
}

fn initialize(params: &Value, manifest: &Value) -> Value {
    let asked = params["protocolVersion"].as_str().unwrap_or_default();
    let version = PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == asked)
        .unwrap_or(&PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": manifest["id"], "title": manifest["name"], "version": manifest["version"] },
        "instructions": manifest["description"],
    })
}

async fn call(
    session: &Session<'_>,
    tools: &[Value],
    params: &Value,
) -> Result<Value, (i64, String)> {
    let name = params["name"].as_str().unwrap_or_default();
    if !tools.iter().any(|t| t["name"] == name) {
        return Err((
            -32602,
            format!("unknown tool `{name}`; tools/list has the tools"),
        ));
    }
    let arguments = match &params["arguments"] {
        Value::Null => json!({}),
        other => other.clone(),
    };
    Ok(match session.execute(name, &arguments).await {
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

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
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
