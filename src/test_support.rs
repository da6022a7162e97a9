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
