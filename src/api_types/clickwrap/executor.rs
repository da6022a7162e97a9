//! One executor for every Clickwrap row: validate the input against the row's schema, build
//! the request (path, query, JSON body; the Site Access ID for the Activity API), send it with
//! the bearer token (REST) or without credentials (Activity), follow pages, and shape the
//! answer; an acceptance sent is reported only once it is read back ([`super::recorded`]).

use serde_json::{Map, Value, json};

use super::catalog::{Api, Endpoint, In, Output, Ty};
use super::pages;
use super::recorded::{self, Acceptance};
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, Response, encode_component, encode_path_segment};
use crate::pages::PageStrategy;
use crate::{integer, schema, upstream};

pub fn execute(
    client: &dyn HttpClient,
    conn: &Connection,
    action: &Endpoint,
    input: &Value,
) -> Result<Value, ConnectorError> {
    let input = validate(action, input)?;
    let call = Call::new(conn, action, input)?;
    match action.output {
        Output::Pages => {
            let max_items = input
                .get("max_items")
                .and_then(integer::as_u64)
                .unwrap_or(super::catalog::PER_PAGE);
            crate::pages::collect(&pages::PER_PAGE_PAGES, 1, max_items, |query| {
                let response = call.send(client, query)?;
                upstream::json(&response, action.key)
            })
        }
        Output::Sent => {
            let response = call.send(client, &[])?;
            // The answer's shape is undocumented (and without `server_side` it is a pixel),
            // so it is no evidence of anything: an acceptance is read back instead.
            let body = serde_json::from_slice::<Value>(&response.body).ok();
            let mut output = json!({ "status": response.status, "response": body });
            if let Some(acceptance) = Acceptance::of(input) {
                let found = recorded::confirm(
                    client,
                    conn,
                    &acceptance,
                    response.status,
                    &recorded::WAITS_MS,
                )?;
                output["recorded"] = Value::Object(found);
            }
            Ok(output)
        }
        Output::Object | Output::ContractMap(_) => {
            let response = call.send(client, &[])?;
            match upstream::json(&response, action.key)? {
                Value::Object(obj) => Ok(Value::Object(obj)),
                Value::Null => Ok(json!({})),
                other => Err(ConnectorError::internal(format!(
                    "{}: Clickwrap answered {other} where an object was expected",
                    action.key
                ))),
            }
        }
    }
}

/// Page `page` (from 1) of a collection row, the envelope as Clickwrap answered it: pick
/// lists read one upstream page per page of theirs, with the row's own request.
pub fn page(
    client: &dyn HttpClient,
    conn: &Connection,
    action: &Endpoint,
    input: &Value,
    page: u64,
    per_page: u64,
) -> Result<Value, ConnectorError> {
    debug_assert_eq!(
        action.output,
        Output::Pages,
        "{} is not a collection",
        action.key
    );
    let input = validate(action, input)?;
    let query = pages::PER_PAGE_PAGES.query(page, per_page);
    let response = Call::new(conn, action, input)?.send(client, &query)?;
    upstream::json(&response, action.key)
}

/// The input as an object, checked against the row: exactly-one-of first (its message is
/// clearer than the schema's `oneOf`), then the schema.
fn validate<'i>(
    action: &Endpoint,
    input: &'i Value,
) -> Result<&'i Map<String, Value>, ConnectorError> {
    let Value::Object(obj) = input else {
        return Err(ConnectorError::input("", "the input must be a JSON object"));
    };
    if !action.exactly_one_of.is_empty() {
        let given: Vec<&str> = action
            .exactly_one_of
            .iter()
            .copied()
            .filter(|name| obj.contains_key(*name))
            .collect();
        let names = action.exactly_one_of.join("` or `");
        match given.as_slice() {
            [_] => {}
            [] => {
                return Err(ConnectorError::input(
                    format!("/{}", action.exactly_one_of[0]),
                    format!("give exactly one of `{names}`"),
                ));
            }
            [_, second, ..] => {
                return Err(ConnectorError::input(
                    format!("/{second}"),
                    format!("give exactly one of `{names}`, not both"),
                ));
            }
        }
    }
    schema::validate(&action.input_schema(), input)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    Ok(obj)
}

/// A request prepared from a row and a validated input, sendable once per page.
struct Call<'a> {
    conn: &'a Connection,
    action: &'a Endpoint,
    url: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl<'a> Call<'a> {
    fn new(
        conn: &'a Connection,
        action: &'a Endpoint,
        input: &Map<String, Value>,
    ) -> Result<Self, ConnectorError> {
        let mut path = action.path.to_string();
        let mut query = Vec::new();
        let mut members = Map::new();
        if action.api == Api::Activity {
            let sid = conn.site_access_id.clone().ok_or_else(|| {
                ConnectorError::config("site_access_id", "required for the Clickwrap Activity API")
            })?;
            match action.method {
                crate::catalog::Method::Get => query.push(("sid".to_string(), sid)),
                _ => {
                    members.insert("sid".into(), json!(sid));
                    // Ask for JSON rather than the 1×1 pixel a browser gets.
                    members.insert("server_side".into(), json!(true));
                }
            }
        }
        for param in action.params {
            let Some(value) = input.get(param.name) else {
                continue;
            };
            match param.location {
                In::Path => {
                    let text = text(value);
                    path =
                        path.replace(&format!("{{{}}}", param.name), &encode_path_segment(&text));
                }
                In::Query => query.push((param.name.to_string(), text(value))),
                In::Body => {
                    // Lists go comma-joined as the API's GET form takes them; the rest as JSON.
                    let member = match param.ty {
                        Ty::StringList | Ty::IntegerList => json!(text(value)),
                        _ => value.clone(),
                    };
                    members.insert(param.name.into(), member);
                }
            }
        }
        let body = match action.body {
            Some(_) => input.get("body").cloned(),
            None if !members.is_empty() => Some(Value::Object(members)),
            None => None,
        };
        Ok(Call {
            conn,
            action,
            url: format!("{}{path}", super::base_url(conn, action.api)),
            query,
            body,
        })
    }

    fn send(
        &self,
        client: &dyn HttpClient,
        extra: &[(&str, String)],
    ) -> Result<Response, ConnectorError> {
        let pairs: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        let url = if pairs.is_empty() {
            self.url.clone()
        } else {
            format!("{}?{}", self.url, pairs.join("&"))
        };
        let method = match self.action.method {
            crate::catalog::Method::Get => Method::GET,
            crate::catalog::Method::Post => Method::POST,
            crate::catalog::Method::Put => Method::PUT,
            crate::catalog::Method::Patch => Method::PATCH,
            crate::catalog::Method::Delete => Method::DELETE,
        };
        let mut request = Request::new(method, url).header("accept", "application/json");
        // The Activity API is keyed by `sid`; it takes no token.
        request.authenticate = self.action.api == Api::Rest;
        if let Some(body) = &self.body {
            request = request.json_body(body);
        }
        super::send_ok(client, self.conn, request, self.action.permission)
    }
}

/// A parameter's text: strings as themselves, lists comma-joined, other values as JSON text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Value::Number(n) => integer::text(n),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::find;
    use super::*;
    use crate::test_support::{fake, ok_json, query, scripted};

    fn rest() -> Connection {
        Connection::parse(
            &json!({"api_type": "clickwrap_rest", "region": "na1",
                    "access_token": "<secret>"})
            .to_string(),
        )
        .unwrap()
    }

    fn activity() -> Connection {
        Connection::parse(
            &json!({"api_type": "clickwrap_activity", "region": "demo",
                    "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"})
            .to_string(),
        )
        .unwrap()
    }

    fn run(
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: Value,
    ) -> Result<Value, ConnectorError> {
        execute(client, conn, find(key).unwrap(), &input)
    }

    #[test]
    fn rest_rows_build_paths_queries_and_bodies() {
        let client = fake(200, &[], br#"{"id": 7}"#);
        run(
            &client,
            &rest(),
            "clickwrap_get_signer",
            json!({"signer_id": "a/b@x.com"}),
        )
        .unwrap();
        run(
            &client,
            &rest(),
            "clickwrap_get_group",
            json!({"group_id": 7, "expand": "contracts"}),
        )
        .unwrap();
        run(
            &client,
            &rest(),
            "clickwrap_update_group",
            json!({"group_id": 7, "body": {"name": "N"}}),
        )
        .unwrap();
        let sent = client.sent.borrow();
        assert_eq!(
            sent[0].url,
            "https://api.pactsafe.com/v1.1/signers/id:a%2Fb%40x.com"
        );
        assert!(sent[0].authenticate);
        assert_eq!(
            sent[1].url,
            "https://api.pactsafe.com/v1.1/groups/7?expand=contracts"
        );
        assert_eq!(sent[2].method, Method::PATCH);
        assert_eq!(sent[2].body.as_deref(), Some(br#"{"name":"N"}"#.as_slice()));
    }

    #[test]
    fn lists_page_from_one_to_max_items() {
        let client = scripted(|r| {
            let page: u64 = query(r)["page"].parse().unwrap();
            ok_json(
                &json!({"data": [{"id": page * 10}, {"id": page * 10 + 1}], "has_more": page < 3, "per_page": 2,
                            "total_count": 6}),
            )
        });
        let out = run(
            &client,
            &rest(),
            "clickwrap_list_activity",
            json!({"filter": "event_type==agreed", "max_items": 5}),
        )
        .unwrap();
        assert_eq!(out["items"].as_array().unwrap().len(), 5);
        assert_eq!(
            (out["count"].clone(), out["truncated"].clone()),
            (json!(6), json!(true))
        );
        let sent = client.sent.borrow();
        assert_eq!(sent.len(), 3);
        let q = query(&sent[2]);
        assert_eq!((q["page"].as_str(), q["per_page"].as_str()), ("3", "5"));
        assert_eq!(q["filter"], "event_type==agreed");
    }

    #[test]
    fn activity_rows_carry_the_site_access_id_and_no_token() {
        let client = scripted(|r| {
            if r.url.contains("/latest?") {
                ok_json(&json!({"12": true}))
            } else if r.url.contains("/retrieve?") {
                ok_json(&json!({"12": "a1", "13": "b2"}))
            } else {
                ok_json(&json!({"success": true}))
            }
        });
        let out = run(
            &client,
            &activity(),
            "clickwrap_activity_latest",
            json!({"sig": "jo@x.com", "cid": [12, 13]}),
        )
        .unwrap();
        assert_eq!(out, json!({"12": true}));
        let out = run(
            &client,
            &activity(),
            "clickwrap_activity_send",
            json!({"sig": "jo@x.com", "vid": ["a1", "b2"], "et": "agreed", "cid": [12, 13],
                   "cus": {"plan": "pro"}, "tm": true}),
        )
        .unwrap();
        // The acceptance was read back before the send reported success.
        assert_eq!(
            out,
            json!({"status": 200, "response": {"success": true},
                   "recorded": {"12": "a1", "13": "b2"}})
        );
        let sent = client.sent.borrow();
        assert_eq!(sent.len(), 3);
        assert!(
            sent[2]
                .url
                .starts_with("https://demo.pactsafe.io/retrieve?")
        );
        assert!(sent.iter().all(|r| !r.authenticate));
        assert_eq!(
            sent[0].url,
            "https://demo.pactsafe.io/latest?sid=1e8ddd9d-f32c-4dc7-9c13-62095e6d4317&sig=jo%40x.com&cid=12%2C13"
        );
        assert_eq!(sent[1].url, "https://demo.pactsafe.io/send");
        let body: Value = serde_json::from_slice(sent[1].body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"sid": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317", "server_side": true,
                                "sig": "jo@x.com", "vid": "a1,b2", "et": "agreed", "cid": "12,13",
                                "cus": {"plan": "pro"}, "tm": true})
        );
    }

    #[test]
    fn exactly_one_of_gkey_or_cid() {
        let client = fake(200, &[], b"{}");
        for (input, pointer) in [
            (json!({"sig": "s"}), "/gkey"),
            (json!({"sig": "s", "gkey": "g", "cid": [1]}), "/cid"),
        ] {
            let err = run(&client, &activity(), "clickwrap_activity_latest", input).unwrap_err();
            assert!(
                matches!(&err, ConnectorError::InvalidInput { field, .. } if field == pointer),
                "{err:?}"
            );
        }
        assert!(client.sent.borrow().is_empty());
    }

    /// Integers are read as validation reads them: `7.0` is the group 7 (not `/groups/7.0`),
    /// `max_items: 1.0` one item, and an integer list `[12.0]` is `12`.
    #[test]
    fn integers_written_as_floats_are_integers() {
        let client = scripted(|_| {
            ok_json(&json!({"data": [{"id": 1}, {"id": 2}], "has_more": true, "per_page": 2}))
        });
        run(
            &client,
            &rest(),
            "clickwrap_get_group",
            json!({"group_id": 7.0}),
        )
        .unwrap();
        let out = run(
            &client,
            &rest(),
            "clickwrap_list_groups",
            json!({"site_id": 3.0, "max_items": 1.0}),
        )
        .unwrap();
        assert_eq!(out["items"].as_array().unwrap().len(), 1);
        run(
            &client,
            &activity(),
            "clickwrap_activity_latest",
            json!({"sig": "s", "cid": [12.0, 13]}),
        )
        .unwrap();
        let sent = client.sent.borrow();
        assert_eq!(sent[0].url, "https://api.pactsafe.com/v1.1/groups/7");
        assert!(
            sent[1]
                .url
                .starts_with("https://api.pactsafe.com/v1.1/sites/3/groups?")
        );
        assert_eq!(query(&sent[1])["per_page"], "1");
        assert_eq!(query(&sent[2])["cid"], "12,13");
    }

    /// String ids in paths are at most 256 characters, refused naming the field before any
    /// request.
    #[test]
    fn an_over_long_path_id_is_refused_before_sending() {
        let client = fake(200, &[], b"{}");
        for (key, input, field) in [
            (
                "clickwrap_get_signer",
                json!({"signer_id": "s".repeat(257)}),
                "/signer_id",
            ),
            (
                "clickwrap_get_version",
                json!({"version_id": "v".repeat(65_000)}),
                "/version_id",
            ),
            (
                "clickwrap_get_group",
                json!({"group_id": 1e300}),
                "/group_id",
            ),
        ] {
            let err = run(&client, &rest(), key, input).unwrap_err();
            assert!(
                matches!(&err, ConnectorError::InvalidInput { field: f, .. } if f == field),
                "{key}: {err:?}"
            );
        }
        assert!(client.sent.borrow().is_empty());
        run(
            &client,
            &rest(),
            "clickwrap_get_signer",
            json!({"signer_id": "s".repeat(256)}),
        )
        .unwrap();
    }

    #[test]
    fn send_reports_the_status_whatever_the_body() {
        let client = fake(200, &[("content-type", "image/gif")], b"GIF89a");
        let out = run(
            &client,
            &activity(),
            "clickwrap_activity_send",
            json!({"sig": "s", "vid": ["v"], "et": "displayed"}),
        )
        .unwrap();
        assert_eq!(out, json!({"status": 200, "response": null}));
    }
}
