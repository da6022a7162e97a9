//! What the emulator's integration tests share: starting an emulator, the seed's OAuth clients
//! and their client-credentials tokens, and reading a raw HTTP/1.1 answer (for the tests that
//! speak HTTP by hand, to see exactly what goes over the wire). Each test file is a crate of its
//! own and uses only part of this, hence `dead_code` is allowed.

use ironclad_emulator::{OAuthClient, RunningEmulator};
use serde_json::Value;

/// An emulator from the built-in seed on an ephemeral loopback port.
pub async fn start() -> RunningEmulator {
    ironclad_emulator::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("emulator starts")
}

/// The seed's OAuth client called `name`.
pub fn client(emu: &RunningEmulator, name: &str) -> OAuthClient {
    emu.seed()
        .clients
        .iter()
        .find(|c| c.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no seed client {name}"))
}

/// A client-credentials access token of the seed client `name`: every scope it may have, or
/// only `scope`.
pub async fn cc_token(emu: &RunningEmulator, name: &str, scope: Option<&str>) -> String {
    let c = client(emu, name);
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.client_secret.as_str()),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", emu.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "the token endpoint refused {name}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// An answer read off the wire: status, headers (names lower case) and the body, de-chunked.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `(code, message, param)` of an Ironclad error body.
    pub fn error(&self) -> (String, String, Option<String>) {
        let v = self.json();
        (
            v["code"].as_str().unwrap_or_default().to_owned(),
            v["message"].as_str().unwrap_or_default().to_owned(),
            v["param"].as_str().map(str::to_owned),
        )
    }
}

/// A whole HTTP/1.1 answer (read to EOF) as a [`Resp`].
pub fn parse(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 4 + size..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}
