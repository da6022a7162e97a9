//! Secrets held by the host: client secrets and tokens. They never reach the guest, and
//! their `Debug`/`Display` never show the value, so a stray `{:?}` cannot leak one.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it (a token request, an auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Masks every known secret in text that leaves the host (guest logs, error messages).
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    pub fn add(&mut self, secret: &Secret) {
        // Very short values would mask ordinary words; real secrets and tokens are long.
        if secret.expose().len() >= 6 && !self.secrets.contains(secret) {
            self.secrets.push(secret.clone());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |acc, s| {
            acc.replace(s.expose(), "<redacted>")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("super-secret-value");
        assert_eq!(format!("{s} {s:?}"), "<redacted> Secret(<redacted>)");
        let mut r = Redactor::default();
        r.add(&s);
        assert_eq!(r.redact("token=super-secret-value;"), "token=<redacted>;");
    }
}
