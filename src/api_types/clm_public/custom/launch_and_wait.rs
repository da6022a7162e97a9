//! `launch_workflow_and_wait`: Ironclad recommends the asynchronous launch for workflows with
//! files or complex designs; this action launches that way and follows the job to the
//! launched workflow, so a recipe gets one answer. The raw job status stays available as
//! `retrieve_asynchronous_workflow_status`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::CustomAction;
use crate::catalog::{self, Operation};
use crate::config::Connection;
use crate::error::{ConnectorError, Upstream};
use crate::executor;
use crate::http::HttpClient;

const LAUNCH: &str = "create_new_workflow_async";
const STATUS: &str = "retrieve_asynchronous_workflow_status";
const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// Waits between status polls; the last one repeats. The first poll is immediate.
const BACKOFF_MS: [u64; 4] = [250, 500, 1000, 2000];

pub const ACTION: CustomAction = CustomAction {
    key: "launch_workflow_and_wait",
    title: "Launch a Workflow and wait for it",
    description: "Launch a workflow asynchronously and wait until Ironclad has created it (or \
                  refused it), up to `timeout_seconds`. Returns the launched workflow.",
    group: "Workflows",
    scopes: &["public.workflows.createWorkflows"],
    read_only: false,
    destructive: false,
    idempotent: false,
    input_schema,
    output_schema,
    run,
};

fn op(key: &str) -> &'static Operation {
    catalog::find(key).expect("the async launch operations are in the catalog")
}

/// The async launch's own input plus `timeout_seconds`.
fn input_schema() -> Value {
    let mut schema = catalog::schema(op(LAUNCH).input_schema);
    schema["properties"]["timeout_seconds"] = json!({
        "type": "integer", "minimum": 1, "maximum": 600, "default": DEFAULT_TIMEOUT_SECS,
        "description": "Give up waiting after this long; the launch itself may still complete."
    });
    schema["required"] = json!(["body"]);
    schema
}

/// The launched workflow, as the async job's `workflow`, plus the job id.
fn output_schema() -> Value {
    let status = catalog::schema(op(STATUS).output_schema);
    let workflow = find_workflow_schema(&status).unwrap_or_else(|| json!({ "type": "object" }));
    json!({
        "type": "object",
        "required": ["asyncJobId", "workflow"],
        "properties": { "asyncJobId": { "type": "string" }, "workflow": workflow }
    })
}

/// The `workflow` property of the success branch of the job-status union.
fn find_workflow_schema(status: &Value) -> Option<Value> {
    let branches = status
        .get("oneOf")
        .or_else(|| status.get("anyOf"))?
        .as_array()?;
    branches
        .iter()
        .find_map(|b| b.pointer("/properties/workflow").cloned())
}

fn run(client: &dyn HttpClient, conn: &Connection, input: &Value) -> Result<Value, ConnectorError> {
    let timeout = Duration::from_secs(
        crate::integer::as_u64(&input["timeout_seconds"]).unwrap_or(DEFAULT_TIMEOUT_SECS),
    );
    let mut launch_input = input.clone();
    launch_input
        .as_object_mut()
        .expect("validated object")
        .remove("timeout_seconds");
    let job = executor::execute(client, conn, op(LAUNCH), &launch_input)?;
    let job_id = job["asyncJobId"]
        .as_str()
        .ok_or_else(|| ConnectorError::internal("the async launch answered without an asyncJobId"))?
        .to_string();
    let started = Instant::now();
    for attempt in 0.. {
        let status = executor::execute(client, conn, op(STATUS), &json!({ "asyncJobId": job_id }))?;
        match status["status"].as_str() {
            Some("success") => {
                return Ok(json!({ "asyncJobId": job_id, "workflow": status["workflow"] }));
            }
            Some("failed") => return Err(launch_failed(&status["error"])),
            _ => {}
        }
        let wait = Duration::from_millis(BACKOFF_MS[attempt.min(BACKOFF_MS.len() - 1)]);
        if started.elapsed() + wait > timeout {
            break;
        }
        std::thread::sleep(wait);
    }
    Err(ConnectorError::Timeout(format!(
        "the launch job {job_id} was still in progress after {}s; check it later with \
         retrieve_asynchronous_workflow_status",
        timeout.as_secs()
    )))
}

/// A refused launch carries Ironclad's usual `{code, message, param}`.
fn launch_failed(error: &Value) -> ConnectorError {
    let text = |k: &str| error.get(k).and_then(Value::as_str).map(str::to_string);
    ConnectorError::Upstream(Upstream {
        status: None,
        code: text("code"),
        message: format!(
            "Ironclad refused the launch: {}",
            text("message").unwrap_or_else(|| "no reason given".into())
        ),
        param: text("param"),
        request_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{conn, ok_json, scripted};

    /// `timeout_seconds: 1.0` is the integer 1 (validation accepts it as one), not the
    /// 60-second default.
    #[test]
    fn a_timeout_written_as_a_float_is_honoured() {
        let client = scripted(|request| {
            if request.method == crate::http::Method::POST {
                ok_json(&json!({ "asyncJobId": "job-1" }))
            } else {
                ok_json(&json!({ "status": "pending" }))
            }
        });
        let input = json!({ "timeout_seconds": 1.0,
                            "body": { "template": "t1", "attributes": { "counterpartyName": "Acme" } } });
        let started = Instant::now();
        let err = super::super::execute(&client, &conn(), &ACTION, &input).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.kind(), "timeout");
        assert!(err.to_string().contains("after 1s"), "{err}");
    }
}
