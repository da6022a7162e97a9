//! `launch_workflow_with_files`: launch a workflow whose document attributes carry file bytes,
//! in one call. Ironclad's `POST /workflows` takes `multipart/form-data` for this: a `data` part
//! holding the launch body as JSON, plus one part per file, which the attributes reference by
//! part name (`"draft": [{"file": "contract"}]`, the spec's `FileUploadModel`). The catalog row
//! of that operation (`launch_new_workflow`) sends the JSON form: a row's parts have fixed
//! names, these are the caller's. So this action builds the form and sends it through the
//! executor with that row's query, headers, errors and output.
//!
//! Synchronous only: the spec declares `multipart/form-data` for `POST /workflows` and not for
//! `POST /workflows/async`.

use serde_json::{Map, Value, json};

use super::CustomAction;
use crate::catalog::{self, Body, Operation, PartKind};
use crate::config::Connection;
use crate::error::{ConnectorError, excerpt};
use crate::executor;
use crate::http::HttpClient;
use crate::multipart::{self, FormPart, escape_pointer};

const LAUNCH: &str = "launch_new_workflow";
/// The part holding the launch body; file parts may not take its name.
const DATA_PART: &str = "data";

pub const ACTION: CustomAction = CustomAction {
    key: "launch_workflow_with_files",
    title: "Launch a Workflow with files",
    description: "Launch a workflow synchronously with file bytes for its document attributes: \
                  each entry of `files` is sent as a form-data part named `part`, which \
                  attributes reference as {\"file\": \"<part>\"}, e.g. \
                  \"draft\": [{\"file\": \"contract\"}]. Returns the launched workflow.",
    group: "Workflows",
    scopes: &["public.workflows.createWorkflows"],
    read_only: false,
    destructive: false,
    idempotent: false,
    input_schema,
    output_schema,
    run,
};

fn op() -> &'static Operation {
    catalog::find(LAUNCH).expect("the synchronous launch is in the catalog")
}

/// The JSON launch's input (`useDefaultValues`, `body`) plus `files`.
fn input_schema() -> Value {
    let mut schema = catalog::schema(op().input_schema);
    let mut file = file_schema();
    file["description"] = json!(
        "One file part: `part` is its form-data name, referenced from an attribute as \
         {\"file\": \"<part>\"}; the bytes are sent as binary."
    );
    file["properties"]["part"] = json!({
        "type": "string", "minLength": 1,
        "description": "The form-data part name, unique, not `data` (the launch body's part), \
                        e.g. `contract`."
    });
    let mut required = vec![json!("part")];
    required.extend(file["required"].as_array().cloned().unwrap_or_default());
    file["required"] = json!(required);
    schema["properties"]["files"] = json!({
        "type": "array", "minItems": 1, "items": file,
        "description": "The files to upload. Each must be referenced by an attribute, and each \
                        reference must name one of them."
    });
    schema["required"] = json!(["body", "files"]);
    schema
}

/// The workflow, as the JSON launch returns it.
fn output_schema() -> Value {
    catalog::schema(op().output_schema)
}

/// The generated input schema of a file (`{file_name, content_type?, content_base64}`), as every
/// upload row of the catalog carries it: one definition, not a copy.
fn file_schema() -> Value {
    super::super::OPERATIONS
        .iter()
        .find_map(|op| {
            let Body::Multipart { parts } = op.body else {
                return None;
            };
            let part = parts.iter().find(|p| p.kind == PartKind::File)?;
            let schema = catalog::schema(op.input_schema);
            schema
                .pointer(&format!("/properties/{}", escape_pointer(part.name)))
                .cloned()
        })
        .expect("the catalog has upload rows")
}

fn run(client: &dyn HttpClient, conn: &Connection, input: &Value) -> Result<Value, ConnectorError> {
    let input = input.as_object().expect("validated object");
    let form = multipart::encode(&form_parts(input)?);
    executor::execute_form(client, conn, op(), input, form)
}

/// `data` (the launch body as JSON) and then the files in input order, after checking that
/// part names are unique and not `data`, that every file is referenced and every reference names
/// a file, and that the bytes are base64 — so nothing is sent that Ironclad would have to refuse
/// or silently drop.
fn form_parts(input: &Map<String, Value>) -> Result<Vec<FormPart>, ConnectorError> {
    let body = &input["body"];
    let files = input["files"].as_array().expect("validated array");
    let names: Vec<&str> = files
        .iter()
        .map(|f| f["part"].as_str().expect("validated string"))
        .collect();
    let references = references(&body["attributes"]);
    for (i, name) in names.iter().enumerate() {
        let at = format!("/files/{i}/part");
        if *name == DATA_PART {
            return Err(ConnectorError::input(
                at,
                "`data` is the part of the launch body; name the file otherwise, e.g. `contract`",
            ));
        }
        if let Some(first) = names[..i].iter().position(|n| n == name) {
            return Err(ConnectorError::input(
                at,
                format!(
                    "`{}` is already the part of /files/{first}; part names must be unique",
                    excerpt(name)
                ),
            ));
        }
        if !references.iter().any(|(_, r)| r == name) {
            return Err(ConnectorError::input(
                at,
                format!(
                    "no attribute references `{name}`; reference it as {{\"file\": \"{name}\"}}, \
                     e.g. \"draft\": [{{\"file\": \"{name}\"}}]",
                    name = excerpt(name)
                ),
            ));
        }
    }
    if let Some((at, name)) = references
        .iter()
        .find(|(_, r)| !names.contains(&r.as_str()))
    {
        return Err(ConnectorError::input(
            at,
            format!(
                "`{}` is not the `part` of any entry of /files (they are: {})",
                excerpt(name),
                excerpt(&names.join(", "))
            ),
        ));
    }
    let mut parts = vec![FormPart {
        name: DATA_PART.into(),
        filename: None,
        content_type: Some("application/json".into()),
        body: serde_json::to_vec(body).expect("a Value always serialises"),
    }];
    for (i, (file, name)) in files.iter().zip(&names).enumerate() {
        parts.push(multipart::file_part(name, file, &format!("/files/{i}"))?);
    }
    Ok(parts)
}

/// Every `{"file": "<part>"}` among the attributes, with its input pointer: an attribute's
/// value, or an item of an attribute's list (document attributes such as `draft` are lists of
/// `FileUploadModel`).
fn references(attributes: &Value) -> Vec<(String, String)> {
    let reference = |v: &Value| -> Option<String> {
        let object = v.as_object().filter(|o| o.len() == 1)?;
        object.get("file")?.as_str().map(str::to_string)
    };
    let mut found = Vec::new();
    for (id, value) in attributes.as_object().into_iter().flatten() {
        let at = format!("/body/attributes/{}", escape_pointer(id));
        match value {
            Value::Array(items) => found.extend(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| Some((format!("{at}/{i}/file"), reference(item)?))),
            ),
            single => found.extend(reference(single).map(|name| (format!("{at}/file"), name))),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64;
    use crate::http::Request;
    use crate::test_support::{conn, fake};

    fn input(draft: Value, files: Value) -> Value {
        json!({
            "useDefaultValues": true,
            "body": { "template": "t1", "attributes": { "counterpartyName": "Acme", "draft": draft } },
            "files": files
        })
    }

    fn file(part: &str, bytes: &[u8]) -> Value {
        json!({ "part": part, "file_name": format!("{part}.pdf"), "content_base64": base64::encode(bytes) })
    }

    fn run_it(input: &Value) -> (Result<Value, ConnectorError>, Vec<Request>) {
        let client = fake(
            200,
            &[("content-type", "application/json")],
            br#"{"id":"w1","ironcladId":"IC-9"}"#,
        );
        let out = super::super::execute(&client, &conn(), &ACTION, input);
        (out, client.sent.into_inner())
    }

    #[test]
    fn sends_data_then_the_files() {
        let pdf = [b'%', b'P', b'D', b'F', 0, 0xff, b'\r', b'\n'];
        let (out, sent) = run_it(&input(
            json!([{ "file": "contract" }, { "file": "exhibit" }]),
            json!([file("contract", &pdf), file("exhibit", b"x")]),
        ));
        assert_eq!(out.unwrap()["ironcladId"], "IC-9");
        let request = &sent[0];
        assert_eq!(
            request.url,
            "https://na1.ironcladapp.com/public/api/v1/workflows?useDefaultValues=true"
        );
        let content_type = request
            .headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.as_str())
            .unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let data = json!({ "template": "t1", "attributes": { "counterpartyName": "Acme",
                           "draft": [{ "file": "contract" }, { "file": "exhibit" }] } });
        let mut expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\nContent-Type: application/json\r\n\r\n{data}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"contract\"; filename=\"contract.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        expected.extend_from_slice(&pdf);
        expected.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"exhibit\"; filename=\"exhibit.pdf\"\r\nContent-Type: application/pdf\r\n\r\nx\r\n--{boundary}--\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(request.body.as_deref(), Some(expected.as_slice()));
        assert!(
            request
                .headers
                .contains(&("x-as-user-email".into(), "jane@acme.example".into()))
        );
    }

    #[test]
    fn bad_files_are_refused_before_any_request() {
        let cases = [
            // A reference to no file.
            (
                json!([{ "file": "contract" }, { "file": "exhibt" }]),
                json!([file("contract", b"a"), file("exhibit", b"b")]),
                "/files/1/part",
            ),
            (
                json!([{ "file": "contract" }, { "file": "nope" }]),
                json!([file("contract", b"a")]),
                "/body/attributes/draft/1/file",
            ),
            // The same part twice.
            (
                json!([{ "file": "contract" }]),
                json!([file("contract", b"a"), file("contract", b"b")]),
                "/files/1/part",
            ),
            // `data` is taken.
            (
                json!([{ "file": "data" }]),
                json!([file("data", b"a")]),
                "/files/0/part",
            ),
            // Not base64.
            (
                json!([{ "file": "contract" }]),
                json!([{ "part": "contract", "file_name": "c.pdf", "content_base64": "a$==" }]),
                "/files/0/content_base64",
            ),
            // No files at all (use launch_new_workflow).
            (
                json!([{ "url": "https://x.example/a.pdf" }]),
                json!([]),
                "/files",
            ),
        ];
        for (draft, files, pointer) in cases {
            let (out, sent) = run_it(&input(draft, files));
            let err = out.unwrap_err();
            let ConnectorError::InvalidInput { field, .. } = &err else {
                panic!("{err:?}")
            };
            assert_eq!(field, pointer, "{err}");
            assert!(sent.is_empty(), "{pointer}: nothing is sent");
        }
    }

    #[test]
    fn references_in_values_and_lists() {
        let mut found = references(&json!({
            "draft": [{ "url": "https://x" }, { "file": "a" }],
            "a/b": { "file": "b" },
            "table": [{ "file": "c", "other": 1 }],
            "name": "file"
        }));
        found.sort();
        assert_eq!(
            found,
            [
                ("/body/attributes/a~1b/file".to_string(), "b".to_string()),
                ("/body/attributes/draft/1/file".to_string(), "a".to_string()),
            ]
        );
    }

    #[test]
    fn schema_extends_the_json_launch() {
        let schema = input_schema();
        assert_eq!(schema["required"], json!(["body", "files"]));
        assert!(schema["properties"]["useDefaultValues"].is_object());
        let item = &schema["properties"]["files"]["items"];
        assert_eq!(
            item["required"],
            json!(["part", "file_name", "content_base64"])
        );
        assert_eq!(item["additionalProperties"], false);
        assert_eq!(output_schema(), catalog::schema(op().output_schema));
    }
}
