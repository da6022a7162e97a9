//! The connector's way out in a `wasi:http` runtime: `ipaas:connector/http` calls become
//! `wasi:http/outgoing-handler` requests, `ipaas:connector/log` lines go to stderr.
//!
//! It adds nothing to a request. Credentials are the `credentials` component's job, which
//! sits between the connector and this one (`adapters/ironclad-http.wac`); a request that
//! reaches here still marked `authenticate` means that component is missing, and is refused
//! rather than sent without them.

// A component only: exported symbols named `ipaas:…`/`wasi:…` do not link natively, where
// the workspace's `cargo build` compiles nothing of this crate.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: ["../../wit/v0.4", "../wit"],
    world: "ipaas:adapters/http-egress",
});

use std::io::{Read, Write};

use exports::ipaas::connector::{http, log};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Responses larger than this are refused, as the wasmtime host refuses them.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

struct Egress;

export!(Egress);

impl http::Guest for Egress {
    fn send(req: http::Request) -> Result<http::Response, http::HttpError> {
        if req.authenticate {
            return Err(http::HttpError::Unauthenticated(
                "no credentials component between the connector and the network: compose it with adapters/ironclad-http.wac".into(),
            ));
        }
        send(req)
    }
}

impl log::Guest for Egress {
    fn log(level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => "TRACE",
            log::Level::Debug => "DEBUG",
            log::Level::Info => "INFO",
            log::Level::Warn => "WARN",
            log::Level::Error => "ERROR",
        };
        eprintln!("connector {level}: {message}");
    }
}

/// `scheme://authority/path?query` split as `wasi:http` wants it; the fragment is dropped.
struct Target<'a> {
    scheme: Scheme,
    authority: &'a str,
    path_with_query: &'a str,
}

fn target(url: &str) -> Result<Target<'_>, http::HttpError> {
    let invalid = |why: &str| http::HttpError::InvalidRequest(format!("{why}: {url}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("not an absolute URL"))?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(invalid("only http and https URLs are sent")),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return Err(invalid("the URL needs a host and no user info"));
    }
    Ok(Target {
        scheme,
        authority,
        path_with_query: if path.is_empty() { "/" } else { path },
    })
}

fn send(req: http::Request) -> Result<http::Response, http::HttpError> {
    let target = target(&req.url)?;
    let entries: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into_bytes()))
        .collect();
    let headers = Fields::from_list(&entries)
        .map_err(|e| http::HttpError::InvalidRequest(format!("headers refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match req.method {
        http::Method::Get => Method::Get,
        http::Method::Head => Method::Head,
        http::Method::Post => Method::Post,
        http::Method::Put => Method::Put,
        http::Method::Patch => Method::Patch,
        http::Method::Delete => Method::Delete,
    };
    let refused = |what: &str| http::HttpError::InvalidRequest(format!("{what} refused"));
    outgoing
        .set_method(&method)
        .map_err(|()| refused("method"))?;
    outgoing
        .set_scheme(Some(&target.scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(Some(target.authority))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(Some(target.path_with_query))
        .map_err(|()| refused("path"))?;
    let options = RequestOptions::new();
    if let Some(ms) = req.timeout_ms {
        let ns = u64::from(ms) * 1_000_000;
        // Best effort: a runtime that does not support a timeout keeps its own.
        let _ = options.set_connect_timeout(Some(ns));
        let _ = options.set_first_byte_timeout(Some(ns));
        let _ = options.set_between_bytes_timeout(Some(ns));
    }
    let body = outgoing.body().map_err(|()| refused("body"))?;
    // Hand the request over before writing the body: a runtime buffers little of a body
    // written ahead of `handle`, and a large upload would wait forever.
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(transport)?;
    {
        let mut stream = body.write().map_err(|()| refused("body stream"))?;
        if let Some(bytes) = &req.body {
            stream
                .write_all(bytes)
                .and_then(|()| Write::flush(&mut stream))
                .map_err(|e| http::HttpError::Connect(format!("sending the body: {e}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(transport)?;
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(transport(code)),
        Some(Err(())) | None => {
            return Err(http::HttpError::Connect(
                "the response was already taken".into(),
            ));
        }
    };
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| http::HttpError::Connect("the response body was already taken".into()))?;
    let mut bytes = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|()| http::HttpError::Connect("no response body stream".into()))?;
        stream
            .take(MAX_RESPONSE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| http::HttpError::Connect(format!("reading the response: {e}")))?;
    }
    if bytes.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(http::HttpError::TooLarge(MAX_RESPONSE_BYTES));
    }
    Ok(http::Response {
        status,
        headers,
        body: bytes,
    })
}

/// A `wasi:http` failure as the connector's transport error.
fn transport(code: ErrorCode) -> http::HttpError {
    match code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => http::HttpError::Timeout,
        ErrorCode::HttpRequestDenied | ErrorCode::DestinationIpProhibited => {
            http::HttpError::Denied(format!("the runtime refused the request ({code:?})"))
        }
        ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong
        | ErrorCode::HttpRequestHeaderSectionSize(_)
        | ErrorCode::HttpRequestHeaderSize(_) => {
            http::HttpError::InvalidRequest(format!("{code:?}"))
        }
        ErrorCode::HttpResponseBodySize(_) => http::HttpError::TooLarge(MAX_RESPONSE_BYTES),
        other => http::HttpError::Connect(format!("{other:?}")),
    }
}
