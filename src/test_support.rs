//! Unit-test helpers shared by the connector's modules: a connection and a fake transport
//! that records what it is asked to send.

use std::cell::RefCell;

use serde_json::json;

use crate::config::Connection;
use crate::http::{HttpClient, Request, Response, TransportError};

/// Records requests and answers each with the same canned response.
pub struct Fake {
    pub sent: RefCell<Vec<Request>>,
    answer: Response,
}

impl HttpClient for Fake {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.sent.borrow_mut().push(request);
        Ok(self.answer.clone())
    }
}

pub fn fake(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Fake {
    Fake {
        sent: RefCell::new(Vec::new()),
        answer: Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        },
    }
}

/// A client-credentials connection to na1 acting as jane@acme.example.
pub fn conn() -> Connection {
    let form = json!({
        "api_type": "clm_public", "region": "na1", "grant_type": "client_credentials",
        "client_id": "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10", "client_secret": "s",
        "impersonate_user": "jane@acme.example"
    });
    Connection::parse(&form.to_string()).unwrap()
}

/// Answers each request with `answer(request)`, recording the requests.
pub struct Scripted<F: Fn(&Request) -> Response> {
    pub sent: RefCell<Vec<Request>>,
    answer: F,
}

impl<F: Fn(&Request) -> Response> HttpClient for Scripted<F> {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let response = (self.answer)(&request);
        self.sent.borrow_mut().push(request);
        Ok(response)
    }
}

pub fn scripted<F: Fn(&Request) -> Response>(answer: F) -> Scripted<F> {
    Scripted {
        sent: RefCell::new(Vec::new()),
        answer,
    }
}

/// A 200 JSON answer.
pub fn ok_json(body: &serde_json::Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(body).unwrap(),
    }
}

/// The decoded query parameters of a request URL.
pub fn query(request: &Request) -> std::collections::BTreeMap<String, String> {
    let q = request
        .url
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
