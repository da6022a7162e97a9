//! Evidence that an acceptance sent to the Activity API's `/send` was recorded.
//!
//! A 2xx from `/send` proves little: Clickwrap processes it asynchronously, documents no JSON
//! answer (its examples check only for 200), and whether an unknown Site Access ID is refused
//! or answered 2xx with nothing recorded is UNCONFIRMED. So an `agreed` event is read back
//! through `/retrieve` with the same `sid`, signer and test mode until every version sent is
//! the signer's last accepted version of its contract; if it is not within [`WAITS_MS`], the
//! send fails with [`NotRecorded`] instead of reporting success. Other event types have no
//! read-back in the Activity API: only their status is reported.

use serde_json::{Map, Value, json};

use crate::config::Connection;
use crate::error::{ConnectorError, Upstream, excerpt};
use crate::http::{HttpClient, Method, Request, encode_component};

/// Waits before each read of `/retrieve` (the first read is immediate): about 4 s in all
/// for Clickwrap's asynchronous processing, short enough for one step of a recipe.
pub const WAITS_MS: [u64; 5] = [0, 250, 500, 1000, 2000];

/// The error code of an acceptance sent but not read back.
pub const NOT_RECORDED: &str = "ACCEPTANCE_NOT_RECORDED";

/// An `agreed` event as sent: the signer, each version with its contract when `cid` named
/// one per version, and test mode.
#[derive(Debug, PartialEq, Eq)]
pub struct Acceptance {
    signer: String,
    versions: Vec<(Option<String>, String)>,
    test_mode: bool,
}

impl Acceptance {
    /// The acceptance `/send` was asked to record, when the (validated) input is one.
    pub fn of(input: &Map<String, Value>) -> Option<Acceptance> {
        if input.get("et").and_then(Value::as_str) != Some("agreed") {
            return None;
        }
        let texts = |name: &str| -> Vec<String> {
            input
                .get(name)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| match v {
                    Value::Number(n) => crate::integer::text(n),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        };
        let (vids, cids) = (texts("vid"), texts("cid"));
        // `/send` pairs `cid` with `vid` by position; without a full pairing, a version is
        // looked for under any contract.
        let aligned = cids.len() == vids.len();
        Some(Acceptance {
            signer: input.get("sig")?.as_str()?.to_string(),
            versions: vids
                .into_iter()
                .enumerate()
                .map(|(i, vid)| (aligned.then(|| cids[i].clone()), vid))
                .collect(),
            test_mode: input.get("tm") == Some(&Value::Bool(true)),
        })
    }

    /// `/retrieve`'s answer, as far as it shows this acceptance: each contract with the
    /// version sent for it, or `None` while a version sent is not read back.
    fn found_in(&self, answer: &Map<String, Value>) -> Option<Map<String, Value>> {
        self.versions
            .iter()
            .map(|(cid, vid)| Some((contract_showing(answer, cid.as_deref(), vid)?, json!(vid))))
            .collect()
    }

    /// The versions sent that `answer` does not show.
    fn missing(&self, answer: &Map<String, Value>) -> Vec<String> {
        self.versions
            .iter()
            .filter(|(cid, vid)| contract_showing(answer, cid.as_deref(), vid).is_none())
            .map(|(_, vid)| vid.clone())
            .collect()
    }

    fn retrieve_url(&self, conn: &Connection) -> String {
        let sid = conn.site_access_id.as_deref().unwrap_or_default();
        let mut url = format!(
            "{}/retrieve?sid={}&sig={}",
            super::base_url(conn, super::catalog::Api::Activity),
            encode_component(sid),
            encode_component(&self.signer)
        );
        let cids: Vec<&str> = self
            .versions
            .iter()
            .filter_map(|(c, _)| c.as_deref())
            .collect();
        if !cids.is_empty() {
            url.push_str(&format!("&cid={}", encode_component(&cids.join(","))));
        }
        if self.test_mode {
            url.push_str("&tm=true");
        }
        url
    }
}

/// The contract under which `/retrieve`'s answer shows `vid` as the last version accepted:
/// `cid` when the send named it, else any. `true` (which the Node SDK's README says may
/// stand for "some revision accepted") is no evidence that this version was.
fn contract_showing(answer: &Map<String, Value>, cid: Option<&str>, vid: &str) -> Option<String> {
    match cid {
        Some(cid) => (answer.get(cid)?.as_str() == Some(vid)).then(|| cid.to_string()),
        None => answer
            .iter()
            .find(|(_, v)| v.as_str() == Some(vid))
            .map(|(k, _)| k.clone()),
    }
}

/// An acceptance `/send` answered with `status` but `/retrieve` did not show.
#[derive(Debug, PartialEq, Eq)]
pub struct NotRecorded {
    pub status: u16,
    pub signer: String,
    /// Versions sent that were not read back.
    pub missing: Vec<String>,
    pub waited_ms: u64,
}

impl From<NotRecorded> for ConnectorError {
    fn from(e: NotRecorded) -> Self {
        ConnectorError::Upstream(Upstream {
            status: Some(e.status),
            code: Some(NOT_RECORDED.into()),
            message: format!(
                "Clickwrap answered {} to the acceptance, but after {} ms `/retrieve` with this \
                 connection's Site Access ID does not show signer `{}` accepting version(s) {}: \
                 no evidence it was recorded. Check that site_access_id is the site of these \
                 versions; the acceptance may still appear later, so check with \
                 clickwrap_activity_retrieve before sending it again",
                e.status,
                e.waited_ms,
                excerpt(&e.signer),
                excerpt(&e.missing.join(", "))
            ),
            param: None,
            request_id: None,
        })
    }
}

/// Read `/retrieve` after each of `waits_ms` until it shows `sent`; the contracts and
/// versions it shows, or why there is no evidence.
pub fn confirm(
    client: &dyn HttpClient,
    conn: &Connection,
    sent: &Acceptance,
    status: u16,
    waits_ms: &[u64],
) -> Result<Map<String, Value>, ConnectorError> {
    let mut last = Map::new();
    for wait in waits_ms {
        if *wait > 0 {
            std::thread::sleep(std::time::Duration::from_millis(*wait));
        }
        let mut request =
            Request::new(Method::GET, sent.retrieve_url(conn)).header("accept", "application/json");
        // The Activity API is keyed by `sid`; it takes no token.
        request.authenticate = false;
        let response = super::send_ok(client, conn, request, None)?;
        last = match crate::upstream::json(&response, "clickwrap_activity_send")? {
            Value::Object(map) => map,
            // An empty answer shows nothing recorded; keep asking.
            _ => Map::new(),
        };
        if let Some(found) = sent.found_in(&last) {
            return Ok(found);
        }
    }
    Err(NotRecorded {
        status,
        signer: sent.signer.clone(),
        missing: sent.missing(&last),
        waited_ms: waits_ms.iter().sum(),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::test_support::{ok_json, query, scripted};

    const SID: &str = "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317";

    fn activity() -> Connection {
        Connection::parse(
            &json!({"api_type": "clickwrap_activity", "region": "na1", "site_access_id": SID})
                .to_string(),
        )
        .unwrap()
    }

    fn acceptance(input: Value) -> Acceptance {
        Acceptance::of(input.as_object().unwrap()).expect("an acceptance")
    }

    #[test]
    fn only_agreed_events_are_acceptances() {
        for et in ["disagreed", "displayed", "visited", "updated", "sent"] {
            let input = json!({"sig": "s", "vid": ["v"], "et": et});
            assert_eq!(Acceptance::of(input.as_object().unwrap()), None, "{et}");
        }
    }

    #[test]
    fn an_acceptance_read_back_is_the_evidence() {
        let sent = acceptance(
            json!({"sig": "jo@x.com", "et": "agreed", "vid": ["a1", "b2"],
                                     "cid": [11, 12.0], "tm": true}),
        );
        let client = scripted(|_| ok_json(&json!({"11": "a1", "12": "b2", "13": "c3"})));
        let found = confirm(&client, &activity(), &sent, 200, &[0]).unwrap();
        assert_eq!(Value::Object(found), json!({"11": "a1", "12": "b2"}));
        let sent_requests = client.sent.borrow();
        let q = query(&sent_requests[0]);
        assert!(
            sent_requests[0]
                .url
                .starts_with("https://pactsafe.io/retrieve?")
        );
        assert!(!sent_requests[0].authenticate);
        assert_eq!(
            (
                q["sid"].as_str(),
                q["sig"].as_str(),
                q["cid"].as_str(),
                q["tm"].as_str()
            ),
            (SID, "jo@x.com", "11,12", "true")
        );
    }

    #[test]
    fn without_a_contract_per_version_any_contract_may_show_it() {
        let sent =
            acceptance(json!({"sig": "s", "et": "agreed", "vid": ["a1", "b2"], "cid": [11]}));
        let client = scripted(|_| ok_json(&json!({"11": "a1", "12": "b2"})));
        let found = confirm(&client, &activity(), &sent, 200, &[0]).unwrap();
        assert_eq!(Value::Object(found), json!({"11": "a1", "12": "b2"}));
        assert!(!client.sent.borrow()[0].url.contains("cid="));
    }

    /// Clickwrap processes `/send` asynchronously: a version that shows up on a later read
    /// is evidence too.
    #[test]
    fn a_late_record_is_waited_for() {
        let reads = Cell::new(0);
        let client = scripted(|_| {
            reads.set(reads.get() + 1);
            match reads.get() {
                1 => ok_json(&json!({"11": false})),
                _ => ok_json(&json!({"11": "a1"})),
            }
        });
        let sent = acceptance(json!({"sig": "s", "et": "agreed", "vid": ["a1"], "cid": [11]}));
        confirm(&client, &activity(), &sent, 200, &[0, 1, 1]).unwrap();
        assert_eq!(client.sent.borrow().len(), 2);
    }

    /// What an unknown Site Access ID may get: a 2xx for the send, and nothing to read back.
    /// An older version accepted before is no evidence either.
    #[test]
    fn nothing_read_back_is_a_typed_error_not_success() {
        let answers = [
            json!({}),
            json!({"11": false}),
            json!({"11": true}),
            json!({"11": "older"}),
            json!(null),
        ];
        for answer in answers {
            let client = scripted(|_| ok_json(&answer));
            let sent = acceptance(json!({"sig": "s", "et": "agreed", "vid": ["a1"], "cid": [11]}));
            let err = confirm(&client, &activity(), &sent, 204, &[0, 1, 1]).unwrap_err();
            let ConnectorError::Upstream(u) = err else {
                panic!("{err:?}")
            };
            assert_eq!(
                (u.status, u.code.as_deref()),
                (Some(204), Some(NOT_RECORDED)),
                "{answer}"
            );
            assert!(
                u.message.contains("site_access_id") && u.message.contains("a1"),
                "{}",
                u.message
            );
            assert_eq!(client.sent.borrow().len(), 3, "one read per wait");
        }
    }
}
