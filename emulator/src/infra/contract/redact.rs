//! Violations quote the values they judge, and the bodies of OAuth traffic hold secrets: a
//! refused token request would otherwise print its client secret into the test log (which the
//! suite scans for leaks) and echo it in its 400. Secret values found in a body are replaced
//! wherever a violation's text repeats them.

use serde_json::Value;

use super::Violation;

/// Properties and form fields whose values are secrets in a request.
pub(super) const SENT_SECRETS: &[&str] = &[
    "client_secret",
    "refresh_token",
    "code",
    "code_verifier",
    "password",
];

/// Properties whose values are secrets in an answer (where `code` is an error's code).
pub(super) const ANSWERED_SECRETS: &[&str] = &["access_token", "refresh_token", "id_token"];

const REDACTED: &str = "<redacted>";

/// The values of `names` in a JSON or form-encoded body.
pub(super) fn secrets_in(body: &[u8], names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => collect(&value, names, &mut found),
        Err(_) => {
            for (name, value) in form_urlencoded::parse(body) {
                if names.contains(&name.as_ref()) && !value.is_empty() {
                    found.push(value.into_owned());
                }
            }
        }
    }
    found
}

fn collect(value: &Value, names: &[&str], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                match v {
                    Value::String(s) if names.contains(&name.as_str()) && !s.is_empty() => {
                        found.push(s.clone());
                    }
                    other => collect(other, names, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, names, found)),
        _ => {}
    }
}

impl Violation {
    /// The same violation with every one of `secrets` replaced in its text.
    pub(super) fn redacted(mut self, secrets: &[String]) -> Self {
        for secret in secrets {
            self.message = self.message.replace(secret.as_str(), REDACTED);
            self.param = self.param.replace(secret.as_str(), REDACTED);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_in_json_and_forms_and_replaced() {
        let json = br#"{"grant_type":"client_credentials","client_id":"c1","client_secret":"s3cr3t","nested":{"refresh_token":"r1"}}"#;
        assert_eq!(secrets_in(json, SENT_SECRETS), ["s3cr3t", "r1"]);
        let form = b"grant_type=authorization_code&code=abc123&client_secret=s%2B1";
        assert_eq!(secrets_in(form, SENT_SECRETS), ["abc123", "s+1"]);
        // In an answer, `code` is an error's code, not a secret.
        let answer = br#"{"code":"UNAUTHORIZED","access_token":"t1"}"#;
        assert_eq!(secrets_in(answer, ANSWERED_SECRETS), ["t1"]);
        let v = Violation::new(
            "oauth-token",
            r#"body: {"client_secret":"s3cr3t"} is not valid"#,
            "body",
        )
        .redacted(&secrets_in(json, SENT_SECRETS));
        assert!(!v.message.contains("s3cr3t"), "{}", v.message);
        assert!(v.message.contains(REDACTED), "{}", v.message);
    }
}
