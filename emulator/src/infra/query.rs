//! Query strings and form bodies, read by `form_urlencoded` and `percent-encoding` (the
//! crates `url` is built on, already in the emulator through reqwest), and typed accessors
//! that fail with Ironclad-shaped `INVALID_PARAM` errors.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::infra::errors::ApiError;

/// Decoded `name=value` pairs in order, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &str) -> Self {
        Self(parse_pairs(raw))
    }

    /// The first value for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value for `name`, each split on commas (`status=active,paused&status=completed`).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        (!values.is_empty()).then_some(values)
    }

    /// A boolean flag (`true`/`false`), `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_param(
                format!("invalid query value '{v}'; value must be a boolean"),
                name,
            )),
        }
    }

    /// An integer within `min..=max`, `default` when absent.
    pub fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_param(
                format!(
                    "invalid query value '{raw}'; value must be an integer between {min} and {max}"
                ),
                name,
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// `application/x-www-form-urlencoded` pairs: `+` is a space, invalid escapes are kept
/// literally, and bytes that are not UTF-8 become U+FFFD.
pub fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// One form-encoded component, decoded as [`parse_pairs`] decodes names and values.
pub fn decode(s: &str) -> String {
    // A `+` from an escape (`%2B`) is decoded after the literal ones become spaces.
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// What a query component keeps unescaped: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encoding for a query component (a space is `%20`, not `+`).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `base?k=v&k2=v2`, appending with `&` when `base` already has a query.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(decode("a+b%20c%2Cd"), "a b c,d");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%e2%9c%93"), "✓");
        assert_eq!(decode("1%2B1+%ff"), "1+1 \u{fffd}");
        // `%+a` is no escape (a sign is not a hex digit), so its `+` is a space.
        assert_eq!(decode("%+a"), "% a");
        assert_eq!(
            parse_pairs("a=b=c&&+k%3D=%2B&"),
            [("a".into(), "b=c".into()), (" k=".into(), "+".into())]
        );
        let p = Params::parse("status=active%2Cpaused&status=completed&page=2&x");
        assert_eq!(p.list("status").unwrap(), ["active", "paused", "completed"]);
        assert_eq!(p.int("page", 0, 0, 10).unwrap(), 2);
        assert_eq!(p.get("x"), Some(""));
        assert_eq!(
            with_query("http://h/cb?a=1", &[("code", "x y"), ("state", "s&t")]),
            "http://h/cb?a=1&code=x%20y&state=s%26t"
        );
    }
}
