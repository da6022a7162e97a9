//! The verdict on each exchange of one operation, and what they add up to.

use std::collections::BTreeMap;

use ironclad_emulator::Violation;
use serde_json::Value;

use crate::tenant::{Answer, CREDENTIAL_HEADERS, Request, masked};

/// How much of a body a failure shows.
const SHOWN: usize = 400;

pub struct Outcome {
    pub document: &'static str,
    pub operation: String,
    /// Generated valid / of those, let through by the contract.
    pub valid: (usize, usize),
    /// Generated invalid / of those, refused by the contract.
    pub invalid: (usize, usize),
    pub statuses: BTreeMap<u16, usize>,
    /// Distinct answer violations: `(status, message)` → times seen.
    pub breaches: BTreeMap<(u16, String), usize>,
    pub failures: Vec<String>,
    /// Failed exchanges by kind (`server error`, `answer in breach`, …).
    pub kinds: BTreeMap<&'static str, usize>,
}

impl Outcome {
    pub fn new(document: &'static str, operation: &str) -> Outcome {
        Outcome {
            document,
            operation: operation.to_owned(),
            valid: (0, 0),
            invalid: (0, 0),
            statuses: BTreeMap::new(),
            breaches: BTreeMap::new(),
            failures: Vec::new(),
            kinds: BTreeMap::new(),
        }
    }

    /// Whether an answer the contract let through was a success (2xx, or a declared redirect).
    pub fn succeeded(&self) -> bool {
        self.statuses.keys().any(|s| (200..400).contains(s))
    }

    /// One exchange: `what` was generated (`valid`, or what was broken), the contract's verdict
    /// on the request, the answer, and the answer violations the emulator recorded for it.
    pub fn judge(
        &mut self,
        what: &str,
        request: &Request,
        verdict: Result<(), Violation>,
        answer: &Answer,
        breaches: &[Value],
    ) {
        let intended_valid = what == "valid";
        let counter = if intended_valid {
            &mut self.valid
        } else {
            &mut self.invalid
        };
        counter.0 += 1;
        if verdict.is_ok() == intended_valid {
            counter.1 += 1;
        }
        // (kind, what went wrong)
        let mut why: Vec<(&'static str, String)> = Vec::new();
        match &answer.panic {
            Some(message) => why.push(("panic", format!("the handler panicked: {message}"))),
            None if answer.status >= 500 => {
                why.push((
                    "server error",
                    format!("a server error ({})", answer.status),
                ));
            }
            None => {}
        }
        match &verdict {
            Err(violation) => {
                // The same refusal: its code and place (the message may have secrets
                // redacted from the values it quotes).
                let expected = violation.body();
                let got = answer.json();
                if answer.status != 400
                    || got["code"] != expected["code"]
                    || got["param"] != expected["param"]
                {
                    why.push((
                        "refusal not answered as such",
                        format!(
                            "the contract refuses it ({}: {}) but the answer is not that \
                             CONTRACT_VIOLATION",
                            violation.param, violation.message
                        ),
                    ));
                }
            }
            Ok(()) => {
                *self.statuses.entry(answer.status).or_default() += 1;
                if answer.json()["code"] == "CONTRACT_VIOLATION" {
                    why.push((
                        "pass answered as a refusal",
                        "the contract lets it through, but the answer refuses it".into(),
                    ));
                }
            }
        }
        for breach in breaches {
            let message = breach["message"].as_str().unwrap_or_default();
            let text = format!("the answer breaks the contract: {}", masked(message));
            why.push(("answer in breach", text));
            *self
                .breaches
                .entry((answer.status, gist(message)))
                .or_default() += 1;
        }
        let mut kinds: Vec<&str> = why.iter().map(|(kind, _)| *kind).collect();
        kinds.dedup();
        for kind in kinds {
            *self.kinds.entry(kind).or_default() += 1;
        }
        if !why.is_empty() {
            let why: Vec<String> = why.into_iter().map(|(_, text)| text).collect();
            self.failures
                .push(describe(&self.operation, what, request, answer, &why));
        }
    }

    /// One line: counts, statuses of the answers the contract let through, failures.
    pub fn line(&self) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status}x{n}"))
            .collect();
        format!(
            "{:<10} {:<48} valid {:>2}/{:<2} refused {:>2}/{:<2} {:<28} {}",
            self.document,
            self.operation,
            self.valid.1,
            self.valid.0,
            self.invalid.1,
            self.invalid.0,
            statuses.join(" "),
            if self.failures.is_empty() {
                "ok".to_owned()
            } else {
                format!("{} FAILED", self.failures.len())
            }
        )
    }
}

/// A violation's message without the instance the validator quotes (`<value>`), so that one
/// breach seen with different values counts once.
fn gist(message: &str) -> String {
    let Some((place, rest)) = message.split_once(": ") else {
        return message.to_owned();
    };
    if rest.starts_with("False schema does not allow ") {
        return format!("{place}: False schema does not allow <value>");
    }
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    match values.next() {
        // A short string is a property's name (`"name" is a required property`): kept.
        Some(Ok(Value::String(s))) if s.len() <= 40 && !s.contains(' ') => message.to_owned(),
        Some(Ok(_)) => format!("{place}: <value>{}", &rest[values.byte_offset()..]),
        _ => message.to_owned(),
    }
}

fn describe(
    operation: &str,
    what: &str,
    request: &Request,
    answer: &Answer,
    why: &[String],
) -> String {
    format!(
        "{operation} {}\n  why: {}",
        exchange(what, request, answer),
        why.join("\n       ")
    )
}

/// A request and its answer, credentials left out.
pub fn exchange(what: &str, request: &Request, answer: &Answer) -> String {
    let headers: Vec<String> = request
        .headers
        .iter()
        .filter(|(name, _)| !CREDENTIAL_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| format!("{name}: {}", masked(value)))
        .collect();
    format!(
        "[{what}] {} {}\n  headers: {}\n  body: {}\n  answer: {} {} {}",
        request.method,
        masked(&request.uri()),
        headers.join("; "),
        shown(&request.body),
        answer.status,
        answer.content_type,
        shown(&answer.body),
    )
}

/// A body on one line, secrets masked, cut short.
fn shown(bytes: &[u8]) -> String {
    let text = masked(&String::from_utf8_lossy(bytes))
        .replace('\r', "\\r")
        .replace('\n', "\\n");
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], bytes.len()),
        None => text,
    }
}
