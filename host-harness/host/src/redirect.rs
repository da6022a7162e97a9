//! Redirects, followed by the host itself so every hop meets the egress policy: where a 3xx
//! points, and what the next request is. The HTTP client never follows one on its own.

use crate::bindings::http::{Method, Request, Response};

/// Hops one request may take before it is refused.
pub const MAX_REDIRECTS: u32 = 5;

/// The absolute URL a redirect answer points to, or None when `response` is not one to
/// follow (not 301/302/303/307/308, or no usable `Location`).
pub fn target(current_url: &str, response: &Response) -> Option<String> {
    if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))?
        .1
        .trim();
    let base = reqwest::Url::parse(current_url).ok()?;
    base.join(location).ok().map(String::from)
}

/// The request for the next hop: 307/308 repeat the method and body; 303 (and 301/302
/// after a POST, as every client does) become a GET without body.
pub fn next_request(previous: &Request, status: u16, url: String) -> Request {
    let becomes_get =
        status == 303 || (matches!(status, 301 | 302) && previous.method == Method::Post);
    let mut next = previous.clone();
    next.url = url;
    if becomes_get && previous.method != Method::Head {
        next.method = Method::Get;
        next.body = None;
        next.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    }
    next
}

/// `scheme://host[:port]`, lowercased: credentials go only back to the origin they were
/// asked for.
pub fn origin(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, location: &str) -> Response {
        Response {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    fn post() -> Request {
        Request {
            method: Method::Post,
            url: "https://na1.ironcladapp.com/public/api/v1/records".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(b"{}".to_vec()),
            authenticate: true,
            timeout_ms: None,
        }
    }

    #[test]
    fn resolves_relative_and_absolute_locations() {
        let base = "https://na1.ironcladapp.com/public/api/v1/records?page=1";
        assert_eq!(
            target(base, &answer(302, "/public/api/v1/records/r1")).as_deref(),
            Some("https://na1.ironcladapp.com/public/api/v1/records/r1")
        );
        assert_eq!(
            target(base, &answer(307, "https://169.254.169.254/latest")).as_deref(),
            Some("https://169.254.169.254/latest")
        );
        assert_eq!(target(base, &answer(304, "/x")), None);
        assert_eq!(target(base, &answer(200, "/x")), None);
    }

    #[test]
    fn method_and_body_per_status() {
        let to = "https://na1.ironcladapp.com/x".to_string();
        let kept = next_request(&post(), 307, to.clone());
        assert_eq!((kept.method, kept.body.is_some()), (Method::Post, true));
        for status in [301, 302, 303] {
            let get = next_request(&post(), status, to.clone());
            assert_eq!((get.method, get.body), (Method::Get, None), "{status}");
            assert!(get.headers.is_empty(), "no content-type without a body");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            origin("https://NA1.ironcladapp.com:443/a"),
            origin("https://na1.ironcladapp.com/b")
        );
        assert_ne!(
            origin("https://na1.ironcladapp.com/a"),
            origin("https://na1.ironcladapp.com:8443/a")
        );
    }
}
