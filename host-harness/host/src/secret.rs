//! Secrets held by the host: client secrets and tokens. They never reach the guest, and
//! their `Debug`/`Display` never show the value, so a stray `{:?}` cannot leak one.

use std::fmt;
use std::sync::Mutex;

/// Every secret this process has held, so text that leaves it by an unplanned path (a
/// panic, a host error) can still be masked. They are in this process's memory anyway.
static KNOWN: Mutex<Vec<Secret>> = Mutex::new(Vec::new());
/// Shorter values would mask ordinary words; real secrets and tokens are long.
const MIN_SECRET_LEN: usize = 6;

/// Remember `value` as a secret for [`redact_known`] (tokens as they arrive).
pub fn remember(value: &str) {
    if value.len() >= MIN_SECRET_LEN {
        let mut known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
        if !known.iter().any(|s| s.expose() == value) {
            known.push(Secret::new(value));
        }
    }
}

/// `text` with every secret this process has held masked.
pub fn redact_known(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
    known.iter().fold(text.to_string(), |acc, s| {
        acc.replace(s.expose(), "<redacted>")
    })
}

/// Print panics through [`redact_known`] instead of the default hook, which would print
/// the message as is.
pub fn install_panic_redaction() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        eprintln!("{}", panic_report(&message, info.location()));
    }));
}

fn panic_report(message: &str, location: Option<&std::panic::Location<'_>>) -> String {
    let at = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "connector-harness panicked{at}: {} (a bug; please report it)",
        redact_known(message)
    )
}

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
        remember(secret.expose());
        if secret.expose().len() >= MIN_SECRET_LEN && !self.secrets.contains(secret) {
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

    #[test]
    fn panics_and_stray_text_are_masked_with_every_secret_seen() {
        remember("a-refresh-token-value-123");
        let mut r = Redactor::default();
        r.add(&Secret::new("client-secret-value-456"));
        let report = panic_report(
            "bad state: a-refresh-token-value-123 / client-secret-value-456",
            None,
        );
        assert_eq!(
            report,
            "connector-harness panicked: bad state: <redacted> / <redacted> (a bug; please report it)"
        );
        remember("abc");
        assert_eq!(redact_known("abc"), "abc", "too short to be a secret");
    }
}
