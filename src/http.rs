//! The connector's view of HTTP: one blocking `send`, supplied by the host through the WIT
//! import in the component and by fakes in native tests. No HTTP client lives in the guest.

pub use http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Ask the host to attach the connection's credentials.
    pub authenticate: bool,
    pub timeout_ms: Option<u32>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: vec![(
                "user-agent".into(),
                concat!("ironclad-connector/", env!("CARGO_PKG_VERSION")).into(),
            )],
            body: None,
            authenticate: true,
            timeout_ms: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn json_body(self, body: &serde_json::Value) -> Self {
        let mut req = self.header("content-type", "application/json");
        req.body = Some(serde_json::to_vec(body).expect("a Value always serialises"));
        req
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The request produced no HTTP answer (mirrors the WIT `http-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Denied(String),
    InvalidRequest(String),
    Connect(String),
    Timeout,
    TooLarge(u64),
    Unauthenticated(String),
}

pub trait HttpClient {
    fn send(&self, request: Request) -> Result<Response, TransportError>;
}

/// Percent-encode everything but RFC 3986 unreserved characters, so ids containing `/`, `?`,
/// `..`, spaces or unicode stay one path segment or one query value.
pub fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Encode one path segment. Beyond `encode_component`, a segment of only dots is encoded too:
/// `..` would otherwise climb out of the API base.
pub fn encode_path_segment(raw: &str) -> String {
    if !raw.is_empty() && raw.bytes().all(|b| b == b'.') {
        return "%2E".repeat(raw.len());
    }
    encode_component(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_unicode() {
        assert_eq!(encode_component("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(encode_path_segment(".."), "%2E%2E");
        assert_eq!(encode_path_segment("a..b"), "a..b");
        assert_eq!(encode_component("Legal Approver"), "Legal%20Approver");
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(encode_component("IC-12_x~"), "IC-12_x~");
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = Response {
            status: 200,
            headers: vec![("Retry-After".into(), "3".into())],
            body: vec![],
        };
        assert_eq!(r.header("retry-after"), Some("3"));
        assert!(r.is_success());
    }
}
