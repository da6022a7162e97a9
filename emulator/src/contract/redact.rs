//! Violations quote the values they judge, and the bodies of OAuth traffic hold secrets: a
//! refused token request would otherwise print its client secret into the test log (which the
//! suite scans for leaks) and echo it in its 400. Secret values found in a body are replaced
//! wherever a violation's text repeats them.

use serde_json::Value;

use super::Violation;

/// Properties and form fields whose values are secrets wherever they appear.
const SECRET_NAMES: [&str; 7] = [
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "password",
];

const REDACTED: &str = "<redacted>";

/// The secret values in a JSON or form-encoded body.
pub(super) fn secrets_in(body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => collect(&value, &mut found),
        Err(_) => {
            for (name, value) in form_urlencoded::parse(body) {
                if SECRET_NAMES.contains(&name.as_ref()) && !value.is_empty() {
                    found.push(value.into_owned());
                }
            }
        }
    }
    found
}

fn collect(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                match v {
                    Value::String(s) if SECRET_NAMES.contains(&name.as_str()) && !s.is_empty() => {
                        found.push(s.clone());
                    }
                    other => collect(other, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
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
        assert_eq!(secrets_in(json), ["s3cr3t", "r1"]);
        let form = b"grant_type=authorization_code&code=abc123&client_secret=s%2B1";
        assert_eq!(secrets_in(form), ["abc123", "s+1"]);
        let v = Violation::new(
            "oauth-token",
            r#"body: {"client_secret":"s3cr3t"} is not valid"#,
            "body",
        )
        .redacted(&secrets_in(json));
        assert!(!v.message.contains("s3cr3t"), "{}", v.message);
        assert!(v.message.contains(REDACTED), "{}", v.message);
    }
}
