//! One executor for every catalog operation: validate the input against the operation's
//! schema, build the request from the row (path, query, headers, a JSON or multipart body),
//! send it through the host, and shape the answer into the output object (JSON, a status,
//! a file or a text).

use serde_json::{Map, Value, json};

use crate::api_types::{self, Generated};
use crate::catalog::{Body, Operation, Pagination, Param, ParamIn, ParamStyle, Response};
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component, encode_path_segment};
use crate::owner::Owner;
use crate::pages::{self, PageStrategy};
use crate::{download, integer, multipart, schema, upstream};

pub fn execute(
    client: &dyn HttpClient,
    conn: &Connection,
    op: &Operation,
    input: &Value,
) -> Result<Value, ConnectorError> {
    let (input_schema, input) = validated(op, input)?;
    let call = Call::new(conn, op, input)?;
    let Some(strategy) = paginator(op)? else {
        return call.single(client);
    };
    let max_items = max_items(&input_schema, input);
    let fetch = |query: &[(&'static str, String)]| {
        let response = call.send(client, query)?;
        upstream::json(&response, op.key)
    };
    match input.get("cursor").and_then(Value::as_str) {
        None => pages::collect(strategy, strategy.first(), max_items, fetch),
        Some(cursor) => {
            let owner = Owner::action(op.key, conn);
            let cursor = pages::Cursor::parse(strategy, cursor, max_items, &owner)?;
            pages::one_page(strategy, cursor, &owner, fetch)
        }
    }
}

/// How the row's API type runs generated rows.
fn generated(op: &Operation) -> Result<&'static Generated, ConnectorError> {
    api_types::spec(op.api_type).generated.ok_or_else(|| {
        ConnectorError::internal(format!(
            "{}: no executor base for api_type `{}`",
            op.key,
            op.api_type.as_str()
        ))
    })
}

/// The API type's strategy for a listing row; `None` for a row that does not page.
fn paginator(op: &Operation) -> Result<Option<&'static dyn PageStrategy>, ConnectorError> {
    Ok((generated(op)?.paginator)(op.pagination))
}

/// Up to `max_items` items of a listing row from position `from` (as its strategy counts),
/// as `{items, count?, truncated}` (`truncated`: more follow): pick lists page through a
/// listing with the row's own request.
pub fn window(
    client: &dyn HttpClient,
    conn: &Connection,
    op: &Operation,
    input: &Value,
    from: u64,
    max_items: u64,
) -> Result<Value, ConnectorError> {
    let strategy = paginator(op)?
        .ok_or_else(|| ConnectorError::internal(format!("{} is not a listing", op.key)))?;
    let (_, input) = validated(op, input)?;
    let call = Call::new(conn, op, input)?;
    pages::collect(strategy, from, max_items, |query| {
        let response = call.send(client, query)?;
        upstream::json(&response, op.key)
    })
}

/// [`execute`], answering the JSON text a host receives. The JSON object an unpaged operation
/// answers already is the output, so it is checked and passed on as text, not built into a
/// `Value` and written out again: inside wasm that was a large share of a small call.
pub fn execute_text(
    client: &dyn HttpClient,
    conn: &Connection,
    op: &Operation,
    input: &Value,
) -> Result<String, ConnectorError> {
    if op.pagination != Pagination::None || op.response != Response::JsonObject {
        return execute(client, conn, op, input).map(|output| json_text(&output));
    }
    let (_, input) = validated(op, input)?;
    let call = Call::new(conn, op, input)?;
    let response = call.send(client, &[])?;
    match upstream::json_object_text(response.body) {
        Ok(text) => Ok(text),
        // Not one JSON object after all: shaped the way every other answer is.
        Err(body) => {
            let response = crate::http::Response { body, ..response };
            call.shape(&response).map(|output| json_text(&output))
        }
    }
}

/// JSON text of an output.
pub fn json_text(output: &Value) -> String {
    // `serde_json::to_string` writes straight into a buffer; `Value::to_string` goes through
    // `fmt`, which costs a large share of a small call inside wasm.
    serde_json::to_string(output).expect("a Value always serialises")
}

/// The input checked against the operation's own schema (a call never pays for the others').
fn validated<'i>(
    op: &Operation,
    input: &'i Value,
) -> Result<(Value, &'i Map<String, Value>), ConnectorError> {
    let input_schema = crate::catalog::schema(op.input_schema);
    schema::validate(&input_schema, input)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    let input = input.as_object().expect("the schema requires an object");
    Ok((input_schema, input))
}

/// Run a single (unpaged) operation with `form` as its body instead of the body its row
/// describes, for composed actions whose parts the catalog cannot name in advance (the
/// multipart launch names its file parts after the caller's references). Parameters still come
/// from `input`, which the caller has validated; auth, the acting user, error mapping and output
/// shaping are the row's, as for every action.
pub fn execute_form(
    client: &dyn HttpClient,
    conn: &Connection,
    op: &Operation,
    input: &Map<String, Value>,
    form: multipart::Form,
) -> Result<Value, ConnectorError> {
    debug_assert_eq!(op.pagination, Pagination::None, "{} pages", op.key);
    let mut call = Call::without_body(conn, op, input)?;
    call.body = Some((form.content_type, form.body));
    call.single(client)
}

/// `max_items` from the input, else the schema default.
fn max_items(input_schema: &Value, input: &Map<String, Value>) -> u64 {
    input
        .get("max_items")
        .or_else(|| input_schema.pointer("/properties/max_items/default"))
        .and_then(integer::as_u64)
        .unwrap_or(pages::PAGE_SIZE)
}

/// A request prepared from an operation row and a validated input, sendable several times
/// (pages) with extra query pairs.
struct Call<'a> {
    op: &'a Operation,
    /// The path under the API base, params filled in (a download's fallback file name).
    path: String,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    /// Content type and bytes.
    body: Option<(String, Vec<u8>)>,
}

impl<'a> Call<'a> {
    fn new(
        conn: &Connection,
        op: &'a Operation,
        input: &Map<String, Value>,
    ) -> Result<Self, ConnectorError> {
        let mut call = Self::without_body(conn, op, input)?;
        let complete = generated(op)?.complete_body;
        call.body = match op.body {
            Body::None => None,
            Body::Json { .. } => input.get("body").map(|body| {
                let mut body = body.clone();
                if let Some(complete) = complete {
                    complete(op, &mut body);
                }
                let bytes = serde_json::to_vec(&body).expect("a Value always serialises");
                // Ironclad's SCIM spec declares `application/json` request bodies too.
                ("application/json".to_string(), bytes)
            }),
            Body::Multipart { parts } => {
                let form = multipart::encode(&multipart::build(parts, input)?);
                Some((form.content_type, form.body))
            }
        };
        Ok(call)
    }

    /// Path, query and headers from the row and the input; the body is the caller's to set.
    fn without_body(
        conn: &Connection,
        op: &'a Operation,
        input: &Map<String, Value>,
    ) -> Result<Self, ConnectorError> {
        let mut path = op.path.to_string();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        for param in op.params {
            let Some(value) = param_value(param, input)? else {
                continue;
            };
            match param.location {
                ParamIn::Path => {
                    path =
                        path.replace(&format!("{{{}}}", param.name), &encode_path_segment(&value));
                }
                ParamIn::Query => query.push((param.name.to_string(), value)),
                ParamIn::Header => headers.push((param.name.to_string(), value)),
            }
        }
        if let Some(imp) = &conn.impersonation {
            let (name, value) = imp.header();
            headers.push((name.to_string(), value.to_string()));
        }
        Ok(Call {
            op,
            url: format!("{}{path}", (generated(op)?.base)(conn)),
            path,
            query,
            headers,
            body: None,
        })
    }

    fn send(
        &self,
        client: &dyn HttpClient,
        extra_query: &[(&str, String)],
    ) -> Result<crate::http::Response, ConnectorError> {
        let pairs = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra_query.iter().map(|(k, v)| (*k, v.as_str())));
        let query: Vec<String> = pairs
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        let url = if query.is_empty() {
            self.url.clone()
        } else {
            format!("{}?{}", self.url, query.join("&"))
        };
        let accept = match self.op.response {
            Response::Binary => "*/*",
            Response::Text => "text/plain, */*",
            _ => "application/json",
        };
        let mut request = Request::new(method(self.op.method), url).header("accept", accept);
        request.headers.extend(self.headers.iter().cloned());
        if let Some((content_type, bytes)) = &self.body {
            request = request.header("content-type", content_type.as_str());
            request.body = Some(bytes.clone());
        }
        upstream::send_ok(client, request, self.op.scopes)
    }

    fn single(&self, client: &dyn HttpClient) -> Result<Value, ConnectorError> {
        let response = self.send(client, &[])?;
        self.shape(&response)
    }

    /// The output of a successful answer, as the row's response kind says.
    fn shape(&self, response: &crate::http::Response) -> Result<Value, ConnectorError> {
        match self.op.response {
            Response::Binary => return Ok(download::file_output(response, &self.path)),
            Response::Text => return download::text_output(response, self.op.key),
            _ => {}
        }
        let body = upstream::json(response, self.op.key)?;
        match (self.op.response, body) {
            (_, Value::Object(obj)) => Ok(Value::Object(obj)),
            (Response::Empty, Value::Null) => Ok(json!({ "status": response.status })),
            // A JSON operation may also answer 204 (SCIM's group PATCH: "200 or 204").
            (_, Value::Null) if response.status == 204 => Ok(json!({ "status": 204 })),
            (_, value) => Ok(json!({ "result": value })),
        }
    }
}

/// The text to send for a parameter, or None when absent and optional.
fn param_value(
    param: &Param,
    input: &Map<String, Value>,
) -> Result<Option<String>, ConnectorError> {
    let Some(value) = input.get(param.name) else {
        return Ok(param.default.filter(|_| param.required).map(str::to_string));
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(integer::text(n)),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(ConnectorError::input(
            format!("/{}", param.name),
            format!(
                "must be a scalar, got {}",
                crate::error::excerpt(&other.to_string())
            ),
        )),
    };
    let text = match (param.style, value) {
        (ParamStyle::CommaList, Value::Array(items)) => items
            .iter()
            .map(scalar)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        (_, v) => scalar(v)?,
    };
    Ok(Some(text))
}

fn method(m: crate::catalog::Method) -> Method {
    match m {
        crate::catalog::Method::Get => Method::GET,
        crate::catalog::Method::Post => Method::POST,
        crate::catalog::Method::Put => Method::PUT,
        crate::catalog::Method::Patch => Method::PATCH,
        crate::catalog::Method::Delete => Method::DELETE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64;
    use crate::test_support::{conn, fake};

    fn op(key: &str) -> &'static Operation {
        crate::catalog::find(key).unwrap_or_else(|| panic!("{key} is not in the catalog"))
    }

    fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The text a host gets is the same output, whether the object was passed through or
    /// the answer had to be shaped.
    #[test]
    fn execute_text_passes_objects_through_and_shapes_the_rest() {
        let retrieve = op("retrieve_workflow");
        assert_eq!(retrieve.response, Response::JsonObject);
        let input = json!({ "id": "IC-1" });
        let body = b" {\"id\": \"IC-1\", \"title\": \"NDA \\u00e9\"}";
        let text = execute_text(&fake(200, &[], body), &conn(), retrieve, &input).unwrap();
        assert_eq!(text.as_bytes(), body, "passed through byte for byte");
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            execute(&fake(200, &[], body), &conn(), retrieve, &input).unwrap()
        );
        // Not an object: shaped as `execute` shapes it.
        let text = execute_text(&fake(200, &[], b"[1]"), &conn(), retrieve, &input).unwrap();
        assert_eq!(text, r#"{"result":[1]}"#);
        // Not JSON: the same typed error.
        let err = execute_text(&fake(200, &[], b"{oops"), &conn(), retrieve, &input).unwrap_err();
        assert_eq!(err.kind(), "internal");
        // Invalid input is refused before any request, as by `execute`.
        let err = execute_text(&fake(200, &[], b"{}"), &conn(), retrieve, &json!({})).unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
    }

    /// `max_items: 3.0` is the integer 3 to validation, so it is 3 to the listing too (it
    /// used to be ignored: 29 items came back instead of 3).
    #[test]
    fn max_items_written_as_a_float_limits_the_listing() {
        let all: Vec<Value> = (0..29).map(|i| json!({ "id": format!("w{i}") })).collect();
        let client = fake(
            200,
            &[],
            &serde_json::to_vec(&json!({ "list": all, "count": 29 })).unwrap(),
        );
        let out = execute(
            &client,
            &conn(),
            op("list_workflows"),
            &json!({ "max_items": 3.0 }),
        )
        .unwrap();
        assert_eq!(out["items"].as_array().unwrap().len(), 3);
        assert_eq!(out["truncated"], true);
        let sent = client.sent.borrow();
        assert_eq!(crate::test_support::query(&sent[0])["pageSize"], "3");
        // An integral float is sent as an integer in a query.
        drop(sent);
        execute(
            &client,
            &conn(),
            op("list_workflows"),
            &json!({ "max_items": 1, "cursor": "" }),
        )
        .unwrap();
        assert_eq!(
            crate::test_support::query(&client.sent.borrow()[1])["pageSize"],
            "1"
        );
    }

    /// Ids are at most 256 characters: a longer one is refused naming its field before any
    /// request (a 65 kB id used to fail as a URL and be blamed on `instance_url`), and the
    /// refusal does not quote it whole.
    #[test]
    fn an_over_long_id_is_refused_naming_its_field() {
        let client = fake(200, &[], b"{}");
        execute(
            &client,
            &conn(),
            op("retrieve_workflow"),
            &json!({ "id": "w".repeat(256) }),
        )
        .unwrap();
        assert_eq!(client.sent.borrow().len(), 1);
        for (key, input, field) in [
            ("retrieve_workflow", json!({ "id": "w".repeat(257) }), "/id"),
            (
                "retrieve_record",
                json!({ "id": "r".repeat(5_000_000) }),
                "/id",
            ),
            (
                "list_workflow_role_eligible_assignees",
                json!({ "id": "w1", "roleName": "x".repeat(65_000) }),
                "/roleName",
            ),
        ] {
            let err = execute(&client, &conn(), op(key), &input).unwrap_err();
            let ConnectorError::InvalidInput { field: at, message } = &err else {
                panic!("{key}: {err:?}")
            };
            assert_eq!(
                (at.as_str(), message.as_str()),
                (field, "allows at most 256 characters")
            );
        }
        assert_eq!(client.sent.borrow().len(), 1, "nothing more was sent");
        let scim = crate::catalog::schema(op("scim_retrieve_user").input_schema);
        assert_eq!(scim["properties"]["userId"]["maxLength"], 256);
    }

    /// A write that got no answer says it may have been processed; a read does not.
    #[test]
    fn a_write_without_an_answer_may_have_been_processed() {
        struct TimesOut;
        impl HttpClient for TimesOut {
            fn send(
                &self,
                _: Request,
            ) -> Result<crate::http::Response, crate::http::TransportError> {
                Err(crate::http::TransportError::Timeout)
            }
        }
        let err = execute(
            &TimesOut,
            &conn(),
            op("delete_record"),
            &json!({ "id": "r1" }),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "timeout");
        assert!(
            err.to_string().contains("DELETE may have been processed"),
            "{err}"
        );
        let err = execute(
            &TimesOut,
            &conn(),
            op("retrieve_workflow"),
            &json!({ "id": "w1" }),
        )
        .unwrap_err();
        assert!(
            !err.to_string().contains("may have been processed"),
            "{err}"
        );
    }

    #[test]
    fn multipart_rows_send_form_data() {
        let client = fake(200, &[("content-type", "application/json")], b"{}");
        let pdf = [b'%', b'P', b'D', b'F', 0, 0xff, 0x80, b'\r', b'\n'];
        let out = execute(
            &client,
            &conn(),
            op("create_attachment_on_record"),
            &json!({ "id": "IC-36", "attachment": {"file_name": "NDA.pdf",
                     "content_base64": base64::encode(&pdf)}, "metadata": {"filename": "NDA.pdf"} }),
        )
        .unwrap();
        assert_eq!(out, json!({}));
        let sent = client.sent.borrow();
        let request = &sent[0];
        assert_eq!(request.method, Method::POST);
        // `key` defaults to the spec's `signedCopy`.
        assert_eq!(
            request.url,
            "https://na1.ironcladapp.com/public/api/v1/records/IC-36/attachments/signedCopy"
        );
        let content_type = header(request, "content-type").unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let body = request.body.as_ref().unwrap();
        let mut expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"NDA.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        expected.extend_from_slice(&pdf);
        expected.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{{\"filename\":\"NDA.pdf\"}}\r\n--{boundary}--\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(body, &expected);
        assert_eq!(
            header(request, "x-as-user-email"),
            Some("jane@acme.example")
        );
    }

    #[test]
    fn invalid_base64_sends_nothing() {
        let client = fake(200, &[], b"{}");
        let err = execute(
            &client,
            &conn(),
            op("workflow_upload_signed_document"),
            &json!({ "id": "w1", "attachment": {"file_name": "s.pdf", "content_base64": "a$=="} }),
        )
        .unwrap_err();
        assert_eq!(
            (
                err.kind(),
                err.to_string().contains("/attachment/content_base64")
            ),
            ("invalid_input", true),
            "{err}"
        );
        assert!(client.sent.borrow().is_empty());
    }

    #[test]
    fn binary_and_text_rows_shape_their_output() {
        let bytes = [0x50, 0x4b, 0x03, 0x04, 0xff];
        let client = fake(
            200,
            &[
                (
                    "content-type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    "content-disposition",
                    "attachment; filename*=UTF-8''Records%20%E2%9C%93.xlsx",
                ),
            ],
            &bytes,
        );
        let out = execute(
            &client,
            &conn(),
            op("retrieve_xlsx_export_file_of_records"),
            &json!({ "types": "NDA" }),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({ "file_name": "Records ✓.xlsx",
                    "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "size": 5, "content_base64": base64::encode(&bytes) })
        );
        assert_eq!(header(&client.sent.borrow()[0], "accept"), Some("*/*"));

        let client = fake(
            200,
            &[("content-type", "text/plain")],
            b"-----BEGIN PUBLIC KEY-----\n",
        );
        let out = execute(
            &client,
            &conn(),
            op("retrieve_webhook_verification_key"),
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({ "content_type": "text/plain", "text": "-----BEGIN PUBLIC KEY-----\n" })
        );
        // Errors on a download are still Ironclad errors, not files.
        let client = fake(
            404,
            &[("content-type", "application/json")],
            br#"{"code":"NOT_FOUND","message":"no such attachment"}"#,
        );
        let err = execute(
            &client,
            &conn(),
            op("retrieve_attachment_on_record"),
            &json!({ "id": "r1" }),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "not_found");
    }
}
