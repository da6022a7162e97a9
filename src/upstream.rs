//! Turning what came back from Ironclad (or did not) into typed connector errors.

use serde_json::Value;

use crate::error::{ConnectorError, Upstream, excerpt};
use crate::http::{HttpClient, Method, Request, Response, TransportError};

/// Send a request; transport failures become typed errors.
///
/// A GET answered 2xx with a JSON body that does not parse was cut short on the way (a proxy,
/// a dropped connection the transport did not notice): reading is safe to repeat, so it is
/// sent once more. Writes are never repeated here.
pub fn send(client: &dyn HttpClient, request: Request) -> Result<Response, ConnectorError> {
    let (method, url) = (request.method.clone(), request.url.clone());
    let again = (method == Method::GET).then(|| request.clone());
    let response = client
        .send(request)
        .map_err(|e| transport_error(e, &method, &url))?;
    match again {
        Some(again) if is_broken_json(&response) => client
            .send(again)
            .map_err(|e| transport_error(e, &method, &url)),
        _ => Ok(response),
    }
}

/// A 2xx answer that says it is JSON and stops before its JSON ends.
fn is_broken_json(response: &Response) -> bool {
    response.is_success()
        && !response.body.is_empty()
        && response
            .header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("json"))
        && is_cut_short(&response.body)
}

/// Whether a JSON object or array ends early: open brackets or an open string at the end.
/// A scan of brackets and quotes, not a parse: the caller parses the answer anyway, and on
/// every read, so the check costs a fraction of a parse. Scalars and text that is not JSON
/// at all are left to that parse.
fn is_cut_short(body: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    in_string || depth > 0
}

/// Send and require a 2xx answer. `scopes` are the scopes the operation needs, used to say
/// what to add when Ironclad answers 403 without naming one.
pub fn send_ok(
    client: &dyn HttpClient,
    request: Request,
    scopes: &[&str],
) -> Result<Response, ConnectorError> {
    let response = send(client, request)?;
    if response.is_success() {
        Ok(response)
    } else {
        Err(status_error(&response, scopes))
    }
}

/// A request that got no answer, as a typed error. The URL (and the host's words, which may
/// repeat it) is quoted as an excerpt: it holds the caller's ids and query.
///
/// A write (anything but GET and HEAD) that may have reached Ironclad says so, because
/// repeating it could launch or write twice. The WIT `http-error` does not say whether bytes
/// left, so the case decides: `timeout` and `too-large` come after sending (the host may also
/// time out before sending, which it cannot tell us), and `connect` is a failure to connect by
/// the contract, but a host may report a connection broken after sending the same way.
/// `denied`, `invalid-request` and `unauthenticated` are refusals before anything is sent.
pub fn transport_error(error: TransportError, method: &Method, url: &str) -> ConnectorError {
    let shown = excerpt(url);
    let host_words = |why: String| {
        if shown.len() < url.len() {
            why.replace(url, &shown)
        } else {
            why
        }
    };
    let write = !matches!(*method, Method::GET | Method::HEAD);
    let processed = |message: String, hedge: &str| {
        if write {
            format!(
                "{message}; {hedge}the {method} may have been processed by Ironclad: check \
                 before repeating it"
            )
        } else {
            message
        }
    };
    match error {
        TransportError::Denied(why) => ConnectorError::config(
            "instance_url",
            format!(
                "the host refused to connect to {shown}: {}",
                host_words(why)
            ),
        ),
        TransportError::InvalidRequest(why) => {
            ConnectorError::internal(format!("invalid request to {shown}: {}", host_words(why)))
        }
        TransportError::Connect(why) => ConnectorError::Upstream(Upstream {
            message: processed(
                format!("could not reach {shown}: {}", host_words(why)),
                "if the connection broke after the request was sent, ",
            ),
            ..Upstream::default()
        }),
        TransportError::Timeout => {
            ConnectorError::Timeout(processed(format!("no answer from {shown} in time"), ""))
        }
        TransportError::TooLarge(limit) => ConnectorError::Upstream(Upstream {
            message: processed(
                format!("the response from {shown} exceeded the host's {limit}-byte limit"),
                "",
            ),
            ..Upstream::default()
        }),
        TransportError::Unauthenticated(why) => ConnectorError::Unauthenticated(why),
    }
}

/// Ironclad's error body: `{code, message, param}`; OAuth's `{error, error_description}`;
/// exports' `{error}`; Clickwrap's `{error: {message, status, name, code}}`. Anything else is
/// shown as text.
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    param: Option<String>,
}

fn error_body(response: &Response) -> ErrorBody {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(mut outer)) if outer.get("error").is_some_and(Value::is_object) => {
            let inner = outer.remove("error").unwrap_or_default();
            ErrorBody {
                code: text(&inner, "name").or_else(|| text(&inner, "code")),
                message: text(&inner, "message"),
                param: None,
            }
        }
        Ok(v) if v.is_object() => ErrorBody {
            code: text(&v, "code")
                .or_else(|| text(&v, "error").filter(|_| v.get("error_description").is_some())),
            message: text(&v, "message")
                .or_else(|| text(&v, "error_description"))
                .or_else(|| text(&v, "error"))
                .or_else(|| text(&v, "detail")),
            param: text(&v, "param"),
        },
        _ => {
            let raw = String::from_utf8_lossy(&response.body);
            let snippet: String = raw.trim().chars().take(200).collect();
            ErrorBody {
                code: None,
                message: (!snippet.is_empty()).then_some(snippet),
                param: None,
            }
        }
    }
}

/// The upstream's own words about a refusal (`HTTP <status>` when it gave none).
pub fn error_message(response: &Response) -> String {
    error_body(response)
        .message
        .unwrap_or_else(|| format!("HTTP {}", response.status))
}

pub fn status_error(response: &Response, scopes: &[&str]) -> ConnectorError {
    // An API type's own error format (SCIM's), recognised by its body wherever it comes from.
    let own = crate::api_types::all().find_map(|(_, spec)| spec.error_body?(response, scopes));
    if let Some(error) = own {
        return error;
    }
    let body = error_body(response);
    let message = body
        .message
        .clone()
        .unwrap_or_else(|| format!("HTTP {}", response.status));
    match response.status {
        401 => ConnectorError::Unauthenticated(format!(
            "Ironclad refused the credentials ({message}); reconnect or check the OAuth app"
        )),
        403 => forbidden(message, scopes),
        404 => ConnectorError::NotFound(with_param(message, &body.param)),
        409 => ConnectorError::Conflict(with_param(message, &body.param)),
        429 => ConnectorError::RateLimited {
            retry_after_ms: response.header("retry-after").and_then(retry_after_ms),
            message: format!("Ironclad rate limit reached: {message}"),
        },
        status => ConnectorError::Upstream(Upstream {
            status: Some(status),
            code: body.code,
            message,
            param: body.param,
            request_id: response.header("x-ironclad-requestid").map(str::to_string),
        }),
    }
}

fn with_param(message: String, param: &Option<String>) -> String {
    match param {
        Some(p) => format!("{message} ({p})"),
        None => message,
    }
}

/// Ironclad names the missing scope in some 403s. A 403 that speaks of scopes without naming
/// one is pinned on the operation's scope when it has exactly one; other 403s (a user not
/// assignable to a role, an inactive company) are permission problems, not scope problems,
/// and only mention what the action needs.
pub(crate) fn forbidden(message: String, scopes: &[&str]) -> ConnectorError {
    let named = message
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '\'' | '"' | '`' | '(' | ')'))
        .find(|word| {
            (word.starts_with("public.") || word.starts_with("scim."))
                && word.matches('.').count() >= 2
        })
        .map(str::to_string);
    let about_scopes = message.to_ascii_lowercase().contains("scope");
    let missing_scope =
        named.or_else(|| (about_scopes && scopes.len() == 1).then(|| scopes[0].to_string()));
    let message = match (&missing_scope, scopes) {
        (None, [_, ..]) => format!(
            "{message} (this action needs the scopes {})",
            scopes.join(", ")
        ),
        _ => message,
    };
    ConnectorError::Forbidden {
        message,
        missing_scope,
    }
}

/// `Retry-After` is delay-seconds or an HTTP date; dates need a clock, so only seconds are
/// converted here (Ironclad sends seconds).
fn retry_after_ms(value: &str) -> Option<u64> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs >= 0.0).then_some((secs * 1000.0) as u64)
}

/// Parse a JSON body, naming the endpoint when it is not JSON.
/// The body as text when it is exactly one JSON object (checked without building it);
/// the body back otherwise.
pub fn json_object_text(body: Vec<u8>) -> Result<String, Vec<u8>> {
    let starts_as_object = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    if !starts_as_object || serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return Err(body);
    }
    // Valid JSON is valid UTF-8.
    String::from_utf8(body).map_err(|e| e.into_bytes())
}

pub fn json(response: &Response, what: &str) -> Result<Value, ConnectorError> {
    if response.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&response.body).map_err(|e| {
        ConnectorError::internal(format!(
            "{}: Ironclad returned a body that is not JSON ({e})",
            excerpt(what)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// Issue #23: a GET whose JSON answer was cut short is read once more; a POST is not
    /// (it may have been processed), and neither is a body that is not meant to be JSON.
    #[test]
    fn a_cut_short_json_read_is_read_again_and_a_write_is_not() {
        use crate::test_support::scripted;
        use std::cell::Cell;
        let calls = Cell::new(0);
        let client = scripted(|_| {
            calls.set(calls.get() + 1);
            let body = if calls.get() == 1 {
                r#"{"list":[1,"#
            } else {
                r#"{"list":[1,2]}"#
            };
            resp(
                200,
                body,
                &[("Content-Type", "application/json; charset=utf-8")],
            )
        });
        let get = Request::new(
            Method::GET,
            "https://na1.ironcladapp.com/public/api/v1/workflows",
        );
        let answer = send(&client, get).unwrap();
        assert_eq!(json(&answer, "list").unwrap()["list"][1], 2);
        assert_eq!(calls.get(), 2);

        calls.set(0);
        let post = Request::new(
            Method::POST,
            "https://na1.ironcladapp.com/public/api/v1/workflows",
        );
        assert!(json(&send(&client, post).unwrap(), "launch").is_err());
        assert_eq!(calls.get(), 1, "a write is never sent twice");

        // A whole answer is read once, whatever it holds; brackets inside strings do not count.
        let whole = scripted(|_| {
            let body = r#"{"a":"{[\"x","b":[1,{"c":"]"}]}"#;
            resp(200, body, &[("Content-Type", "application/json")])
        });
        let get = Request::new(Method::GET, "https://na1.ironcladapp.com/public/api/v1/y");
        send(&whole, get).unwrap();
        assert_eq!(whole.sent.borrow().len(), 1);
        for cut in [r#"{"a":"b"#, r#"{"a":[1,2"#, r#"[{"#, r#"{"a":"\"#] {
            assert!(is_cut_short(cut.as_bytes()), "{cut}");
        }

        let text = scripted(|_| resp(200, "{not json", &[("Content-Type", "text/plain")]));
        let get = Request::new(Method::GET, "https://na1.ironcladapp.com/public/api/v1/x");
        send(&text, get).unwrap();
        assert_eq!(text.sent.borrow().len(), 1);
    }

    /// A write that got no answer says it may have been processed, unless it certainly was
    /// not sent; a read needs no such warning.
    #[test]
    fn writes_without_an_answer_may_have_been_processed() {
        let url = "https://na1.ironcladapp.com/public/api/v1/workflows";
        let warns = |e: &ConnectorError| e.to_string().contains("may have been processed");
        for method in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            for error in [
                TransportError::Timeout,
                TransportError::TooLarge(1 << 20),
                TransportError::Connect("connection reset".into()),
            ] {
                let e = transport_error(error.clone(), &method, url);
                assert!(warns(&e), "{method} {error:?}: {e}");
                assert!(e.to_string().contains(method.as_str()), "{e}");
            }
            for unsent in [
                TransportError::Denied("policy".into()),
                TransportError::InvalidRequest("bad header".into()),
                TransportError::Unauthenticated("no token".into()),
            ] {
                let e = transport_error(unsent.clone(), &method, url);
                assert!(!warns(&e), "{method} {unsent:?}: {e}");
            }
        }
        for method in [Method::GET, Method::HEAD] {
            let e = transport_error(TransportError::Timeout, &method, url);
            assert_eq!(e.kind(), "timeout");
            assert!(!warns(&e), "{e}");
        }
        // The kinds are unchanged: a timed-out write is still a timeout.
        let e = transport_error(TransportError::Timeout, &Method::POST, url);
        assert_eq!(e.kind(), "timeout");
    }

    /// The URL holds the caller's ids: quoted as an excerpt, also where the host repeats it.
    #[test]
    fn transport_errors_do_not_grow_with_the_url() {
        let url = format!(
            "https://na1.ironcladapp.com/public/api/v1/workflows/{}",
            "x".repeat(5_000_000)
        );
        for error in [
            TransportError::Denied(format!("`{url}` is too long")),
            TransportError::InvalidRequest(format!("bad uri {url}")),
            TransportError::Connect(format!("error sending request for url ({url})")),
            TransportError::Timeout,
            TransportError::TooLarge(1),
        ] {
            let e = transport_error(error, &Method::GET, &url);
            assert!(e.to_string().len() < 600, "{}", &e.to_string()[..600]);
        }
    }

    #[test]
    fn maps_ironclad_400_with_param_and_request_id() {
        let r = resp(
            400,
            r#"{"code":"MISSING_PARAM","message":"missing required attribute","param":"counterpartyName"}"#,
            &[("X-Ironclad-RequestId", "req-1")],
        );
        let ConnectorError::Upstream(u) = status_error(&r, &[]) else {
            panic!()
        };
        assert_eq!(
            (u.status, u.code.as_deref(), u.param.as_deref()),
            (Some(400), Some("MISSING_PARAM"), Some("counterpartyName"))
        );
        assert_eq!(u.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn maps_403_scope_from_message_or_operation() {
        let r = resp(
            403,
            r#"{"code":"FORBIDDEN","message":"token is missing required scope public.workflows.readSchemas","param":"scope"}"#,
            &[],
        );
        assert_eq!(
            status_error(&r, &[]),
            ConnectorError::Forbidden {
                message: "token is missing required scope public.workflows.readSchemas".into(),
                missing_scope: Some("public.workflows.readSchemas".into()),
            }
        );
        let r = resp(
            403,
            r#"{"code":"FORBIDDEN","message":"insufficient scope"}"#,
            &[],
        );
        let ConnectorError::Forbidden { missing_scope, .. } =
            status_error(&r, &["public.records.readRecords"])
        else {
            panic!()
        };
        assert_eq!(missing_scope.as_deref(), Some("public.records.readRecords"));
        let r = resp(
            403,
            r#"{"code":"FORBIDDEN","message":"user is not assignable to the role"}"#,
            &[],
        );
        let ConnectorError::Forbidden {
            missing_scope,
            message,
        } = status_error(&r, &["public.workflows.updateRoleAssignment"])
        else {
            panic!()
        };
        assert_eq!(missing_scope, None);
        assert!(message.contains("needs the scopes public.workflows.updateRoleAssignment"));
    }

    #[test]
    fn maps_401_404_429_and_oauth_bodies() {
        assert_eq!(
            status_error(
                &resp(
                    401,
                    r#"{"code":"UNAUTHORIZED","message":"token has expired"}"#,
                    &[]
                ),
                &[]
            )
            .kind(),
            "unauthenticated"
        );
        assert_eq!(
            status_error(
                &resp(
                    404,
                    r#"{"code":"NOT_FOUND","message":"workflow does not exist","param":"workflowId"}"#,
                    &[]
                ),
                &[]
            ),
            ConnectorError::NotFound("workflow does not exist (workflowId)".into())
        );
        let ConnectorError::RateLimited { retry_after_ms, .. } =
            status_error(&resp(429, "", &[("retry-after", "2")]), &[])
        else {
            panic!()
        };
        assert_eq!(retry_after_ms, Some(2000));
        let ConnectorError::Upstream(u) = status_error(
            &resp(
                400,
                r#"{"error":"invalid_scope","error_description":"bad scope"}"#,
                &[],
            ),
            &[],
        ) else {
            panic!()
        };
        assert_eq!(
            (u.code.as_deref(), u.message.as_str()),
            (Some("invalid_scope"), "bad scope")
        );
        let ConnectorError::Upstream(u) =
            status_error(&resp(502, "<html>Bad gateway</html>", &[]), &[])
        else {
            panic!()
        };
        assert_eq!(u.message, "<html>Bad gateway</html>");
    }
}
