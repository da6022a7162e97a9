//! The polling trigger "new or changed SCIM user" (`scim_user_changed`).
//!
//! How a change is told: by the User's `meta.lastModified` (the spec's UserResponseObject has
//! `meta.created` and `meta.lastModified`), with the same cursor rule as the CLM triggers — a
//! watermark instant plus the ids already emitted at exactly that instant. SCIM lists users in
//! the order they were added, not by change, and Ironclad documents no filter on
//! `meta.lastModified`, so every poll reads the whole (optionally `filter`ed) user list, in
//! pages of 1000, at most [`MAX_USERS`] users.
//!
//! A user whose record lacks `meta.lastModified` cannot be placed in time; for those the cursor
//! keeps a snapshot instead — a 64-bit digest of each such user's record by id — and a user
//! whose digest changed (or who is new) is an event. The snapshot is bounded by [`MAX_USERS`]
//! like the listing. On the first poll it is only taken (`since` cannot apply without a
//! time), so those users start to count from the second poll.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::Connection;
use crate::error::{ConnectorError, excerpt};
use crate::http::{HttpClient, Method, Request, encode_component};
use crate::owner::{Owner, TriggerCursor};
use crate::pages::PageStrategy;
use crate::time::{self, Millis};
use crate::triggers::{Event, PollResult};
use crate::upstream;

/// Most users one poll reads (20 pages of 1000).
pub const MAX_USERS: u64 = 20_000;

/// Events one poll returns; the rest wait for the next poll (`has_more`).
const BUDGET: usize = 100;

pub const SCOPES: &[&str] = &["scim.users.readUsers"];

pub struct ScimTrigger {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
}

pub static SCIM_TRIGGERS: &[ScimTrigger] = &[ScimTrigger {
    key: "scim_user_changed",
    title: "New or changed SCIM user",
    description: "A user was created or changed in Ironclad (CLM SCIM API, api_type `clm_scim`): \
                  polled by the user's `meta.lastModified`; users without it are compared \
                  with a snapshot kept in the cursor.",
}];

pub fn find(key: &str) -> Option<&'static ScimTrigger> {
    SCIM_TRIGGERS.iter().find(|t| t.key == key)
}

impl ScimTrigger {
    pub fn input_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "since": {
                    "type": "string", "format": "date-time",
                    "title": "Start from",
                    "description": "First poll only: report users changed after this instant. Default: when the trigger is first polled."
                },
                "filter": {
                    "type": "string", "minLength": 1,
                    "title": "SCIM filter",
                    "description": "Only users matching this SCIM filter (RFC 7644 §3.4.2.2), e.g. `userName co \"@acme.com\"`."
                }
            }
        })
    }

    pub fn output_schema(&self) -> Value {
        json!({
            "type": "object", "required": ["event", "occurred_at", "user"],
            "properties": {
                "event": { "type": "string", "enum": ["scim_user_created", "scim_user_updated"],
                           "description": "Created: first seen with `meta.created` after the cursor (or, without timestamps, an id not in the snapshot)." },
                "occurred_at": { "type": "string", "format": "date-time",
                                 "description": "`meta.lastModified`, or the poll's time for users without it." },
                "user": { "type": "object", "description": "The SCIM User as Ironclad returns it." }
            }
        })
    }
}

/// The cursor: the `meta.lastModified` watermark and the ids emitted at exactly it, plus the
/// snapshot of users without timestamps; named for its trigger and connection ([`Owner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ScimCursor {
    /// Empty in cursors of earlier versions, which are refused.
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    connection: String,
    watermark: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ids: Vec<String>,
    /// id → digest of the record, for users without `meta.lastModified`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    unstamped: BTreeMap<String, String>,
}

/// One change found in this poll.
struct Change {
    at: Millis,
    user_id: String,
    /// Set for users without a timestamp: the new digest.
    digest: Option<String>,
    created: bool,
    user: Value,
}

pub fn poll(
    client: &dyn HttpClient,
    conn: &Connection,
    trigger: &ScimTrigger,
    input_text: &str,
    cursor: Option<&str>,
) -> Result<PollResult, ConnectorError> {
    let input = parse_input(trigger, input_text)?;
    let owner = Owner::trigger(trigger.key, conn);
    let now = time::now();
    let (first_poll, start) = match cursor {
        Some(text) => (false, parse_cursor(text, &owner)?),
        None => (
            true,
            ScimCursor {
                trigger: owner.key.to_string(),
                connection: owner.connection.clone(),
                watermark: time::format(since(&input, now)?),
                ..ScimCursor::default()
            },
        ),
    };
    let w0 = time::parse(&start.watermark).ok_or_else(|| {
        ConnectorError::input(
            "cursor",
            format!("bad watermark `{}`", excerpt(&start.watermark)),
        )
    })?;
    let users = list_users(client, conn, input.get("filter").and_then(Value::as_str))?;
    let (mut changes, snapshot) = changes(&start, w0, now, first_poll, &users);
    changes.sort_by(|a, b| (a.at, &a.user_id).cmp(&(b.at, &b.user_id)));
    let has_more = changes.len() > BUDGET;
    changes.truncate(BUDGET);

    let mut cursor = ScimCursor {
        trigger: start.trigger.clone(),
        connection: start.connection.clone(),
        watermark: start.watermark.clone(),
        ids: start.ids.clone(),
        // Users gone from the list leave the snapshot; changes not emitted yet keep their old
        // digest (or stay absent) so the next poll finds them again.
        unstamped: snapshot,
    };
    let mut watermark = w0;
    let mut events = Vec::new();
    for change in &changes {
        let occurred_at = time::format(change.at);
        let id = match &change.digest {
            Some(digest) => {
                cursor
                    .unstamped
                    .insert(change.user_id.clone(), digest.clone());
                format!("{}#{digest}", change.user_id)
            }
            None => {
                if change.at > watermark {
                    watermark = change.at;
                    cursor.watermark = occurred_at.clone();
                    cursor.ids.clear();
                }
                cursor.ids.push(change.user_id.clone());
                format!("{}@{occurred_at}", change.user_id)
            }
        };
        let event = if change.created {
            "scim_user_created"
        } else {
            "scim_user_updated"
        };
        events.push(Event {
            id,
            payload: json!({ "event": event, "occurred_at": occurred_at, "user": change.user }),
        });
    }
    Ok(PollResult {
        events,
        cursor: Some(serde_json::to_value(&cursor).expect("a cursor serialises")),
        has_more,
    })
}

/// What changed since `cursor`, and the snapshot of unstamped users as it stands before any
/// change is emitted (present users only; first poll: as seen).
fn changes(
    cursor: &ScimCursor,
    w0: Millis,
    now: Millis,
    first_poll: bool,
    users: &[Value],
) -> (Vec<Change>, BTreeMap<String, String>) {
    let mut found = Vec::new();
    let mut snapshot = BTreeMap::new();
    for user in users {
        let Some(user_id) = user["id"].as_str().map(str::to_string) else {
            continue;
        };
        let stamp = |k: &str| user["meta"][k].as_str().and_then(time::parse);
        match stamp("lastModified") {
            Some(at) => {
                let new = at > w0 || (at == w0 && !cursor.ids.contains(&user_id));
                if new {
                    found.push(Change {
                        at,
                        created: stamp("created").is_some_and(|c| c > w0 || (c == w0 && at == w0)),
                        user_id,
                        digest: None,
                        user: user.clone(),
                    });
                }
            }
            None => {
                let digest = digest(user);
                let known = cursor.unstamped.get(&user_id);
                if first_poll {
                    snapshot.insert(user_id, digest);
                    continue;
                }
                if let Some(old) = known {
                    snapshot.insert(user_id.clone(), old.clone());
                }
                if known != Some(&digest) {
                    found.push(Change {
                        at: now,
                        created: known.is_none(),
                        user_id,
                        digest: Some(digest),
                        user: user.clone(),
                    });
                }
            }
        }
    }
    (found, snapshot)
}

/// 64 bits of SHA-256 over the record's JSON text (serde_json keeps key order as received,
/// and Ironclad serialises a record the same way each time).
fn digest(user: &Value) -> String {
    let hash = Sha256::digest(user.to_string().as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Every user (matching `filter`), page by page, at most [`MAX_USERS`].
fn list_users(
    client: &dyn HttpClient,
    conn: &Connection,
    filter: Option<&str>,
) -> Result<Vec<Value>, ConnectorError> {
    let pages = &super::paging::START_INDEX;
    let out = crate::pages::collect(pages, pages.first(), MAX_USERS + 1, |paging| {
        let pairs: Vec<String> = paging.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut url = format!("{}/Users?{}", super::base_url(conn), pairs.join("&"));
        if let Some(filter) = filter {
            url.push_str(&format!("&filter={}", encode_component(filter)));
        }
        let mut request = Request::new(Method::GET, url).header("accept", "application/json");
        if let Some(imp) = &conn.impersonation {
            let (name, value) = imp.header();
            request = request.header(name, value);
        }
        let response = upstream::send_ok(client, request, SCOPES)?;
        upstream::json(&response, "SCIM Users")
    })?;
    let users = out["items"].as_array().cloned().unwrap_or_default();
    if users.len() as u64 > MAX_USERS {
        return Err(ConnectorError::input(
            "/filter",
            format!(
                "more than {MAX_USERS} users to compare on every poll; narrow them with a SCIM filter"
            ),
        ));
    }
    Ok(users)
}

fn parse_input(trigger: &ScimTrigger, text: &str) -> Result<Map<String, Value>, ConnectorError> {
    let value: Value = serde_json::from_str(if text.trim().is_empty() { "{}" } else { text })
        .map_err(|e| ConnectorError::input("/", format!("the input is not valid JSON: {e}")))?;
    crate::schema::validate(&trigger.input_schema(), &value)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    Ok(value.as_object().cloned().unwrap_or_default())
}

fn parse_cursor(text: &str, owner: &Owner) -> Result<ScimCursor, ConnectorError> {
    owner.claim(serde_json::from_str::<ScimCursor>(text))
}

impl TriggerCursor for ScimCursor {
    fn written_by(&self) -> (&str, &str) {
        (&self.trigger, &self.connection)
    }

    fn watermark(&self) -> &str {
        &self.watermark
    }
}

fn since(input: &Map<String, Value>, now: Millis) -> Result<Millis, ConnectorError> {
    match input.get("since").and_then(Value::as_str) {
        None => Ok(now),
        Some(text) => time::parse(text).ok_or_else(|| {
            ConnectorError::input(
                "/since",
                format!(
                    "`{}` is not an ISO-8601 date-time with a time zone (e.g. 2026-01-31T00:00:00Z)",
                    excerpt(text)
                ),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ok_json, query, scripted};
    use std::cell::RefCell;

    fn scim_conn() -> Connection {
        let form = json!({
            "api_type": "clm_scim", "region": "na1", "grant_type": "client_credentials",
            "client_id": "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10", "client_secret": "s",
        });
        Connection::parse(&form.to_string()).unwrap()
    }

    fn user(id: &str, modified: Option<&str>, title: &str) -> Value {
        let mut u = json!({"id": id, "userName": format!("{id}@acme.example"), "title": title});
        if let Some(at) = modified {
            u["meta"] = json!({"resourceType": "User", "created": "2026-01-01T00:00:00.000Z", "lastModified": at});
        }
        u
    }

    /// Polls against a user list the test can change between polls.
    struct Directory {
        users: RefCell<Vec<Value>>,
    }

    impl Directory {
        fn poll(&self, cursor: Option<&Value>, input: Value) -> PollResult {
            let client = scripted(|request| {
                let q = query(request);
                let start: usize = q["startIndex"].parse().unwrap();
                let count: usize = q["count"].parse().unwrap();
                let all = self.users.borrow();
                let page: Vec<Value> = all.iter().skip(start - 1).take(count).cloned().collect();
                ok_json(&json!({"totalResults": all.len(), "startIndex": start, "Resources": page}))
            });
            let trigger = find("scim_user_changed").unwrap();
            let cursor = cursor.map(Value::to_string);
            poll(
                &client,
                &scim_conn(),
                trigger,
                &input.to_string(),
                cursor.as_deref(),
            )
            .unwrap()
        }
    }

    fn ids(result: &PollResult) -> Vec<String> {
        result.events.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn changes_by_last_modified_across_polls() {
        let dir = Directory {
            users: RefCell::new(vec![
                user("a", Some("2026-01-01T00:00:00.000Z"), "old"),
                user("b", Some("2026-03-01T00:00:00.000Z"), "x"),
            ]),
        };
        let first = dir.poll(None, json!({"since": "2026-02-01T00:00:00Z"}));
        assert_eq!(ids(&first), ["b@2026-03-01T00:00:00.000Z"]);
        assert_eq!(first.events[0].payload["event"], "scim_user_updated");
        let cursor = first.cursor.unwrap();
        // Nothing new: nothing again.
        let again = dir.poll(Some(&cursor), json!({}));
        assert!(again.events.is_empty());
        // A change to `a` and a new user `c` at the same instant: both, ordered by id.
        dir.users.borrow_mut()[0] = user("a", Some("2026-04-01T00:00:00.000Z"), "new");
        let mut c = user("c", Some("2026-04-01T00:00:00.000Z"), "");
        c["meta"]["created"] = json!("2026-04-01T00:00:00.000Z");
        dir.users.borrow_mut().push(c);
        let next = dir.poll(Some(&again.cursor.unwrap()), json!({}));
        assert_eq!(
            ids(&next),
            ["a@2026-04-01T00:00:00.000Z", "c@2026-04-01T00:00:00.000Z"]
        );
        assert_eq!(next.events[1].payload["event"], "scim_user_created");
        assert_eq!(next.events[0].payload["user"]["title"], "new");
        let after = dir.poll(next.cursor.as_ref(), json!({}));
        assert!(after.events.is_empty());
    }

    #[test]
    fn users_without_timestamps_are_diffed_against_the_snapshot() {
        let dir = Directory {
            users: RefCell::new(vec![user("a", None, "one"), user("b", None, "two")]),
        };
        // The first poll only takes the snapshot.
        let first = dir.poll(None, json!({}));
        assert!(first.events.is_empty());
        let cursor = first.cursor.unwrap();
        assert_eq!(cursor["unstamped"].as_object().unwrap().len(), 2);
        dir.users.borrow_mut()[1] = user("b", None, "changed");
        dir.users.borrow_mut().push(user("n", None, "new"));
        dir.users.borrow_mut().remove(0);
        let next = dir.poll(Some(&cursor), json!({}));
        let events: Vec<(&str, &str)> = next
            .events
            .iter()
            .map(|e| {
                (
                    e.payload["user"]["id"].as_str().unwrap(),
                    e.payload["event"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            events,
            [("b", "scim_user_updated"), ("n", "scim_user_created")]
        );
        let cursor = next.cursor.unwrap();
        // `a` left the list and the snapshot.
        let kept: Vec<&String> = cursor["unstamped"].as_object().unwrap().keys().collect();
        assert_eq!(kept, ["b", "n"]);
        assert!(dir.poll(Some(&cursor), json!({})).events.is_empty());
    }

    #[test]
    fn a_poll_returns_at_most_its_budget_and_the_rest_next_time() {
        let users: Vec<Value> = (0..130)
            .map(|i| {
                user(
                    &format!("u{i:03}"),
                    Some(&format!("2026-05-01T00:00:{:02}.000Z", i % 60)),
                    "",
                )
            })
            .collect();
        let dir = Directory {
            users: RefCell::new(users),
        };
        let first = dir.poll(None, json!({"since": "2026-01-01T00:00:00Z"}));
        assert_eq!((first.events.len(), first.has_more), (100, true));
        let second = dir.poll(first.cursor.as_ref(), json!({}));
        assert_eq!((second.events.len(), second.has_more), (30, false));
        let mut all = ids(&first);
        all.extend(ids(&second));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 130);
    }

    #[test]
    fn filter_is_passed_and_bad_input_refused() {
        let sent = RefCell::new(Vec::new());
        let client = scripted(|request| {
            sent.borrow_mut().push(query(request));
            ok_json(&json!({"totalResults": 0, "Resources": []}))
        });
        let trigger = find("scim_user_changed").unwrap();
        poll(
            &client,
            &scim_conn(),
            trigger,
            r#"{"filter":"userName co \"@acme\""}"#,
            None,
        )
        .unwrap();
        assert_eq!(sent.borrow()[0]["filter"], "userName co \"@acme\"");
        assert_eq!(sent.borrow()[0]["count"], "1000");
        let err = poll(&client, &scim_conn(), trigger, r#"{"since":"soon"}"#, None).unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        let err = poll(&client, &scim_conn(), trigger, "{}", Some("[1]")).unwrap_err();
        assert!(matches!(err, ConnectorError::InvalidInput { ref field, .. } if field == "cursor"));
    }

    /// A CLM trigger's cursor, another connection's, or one from before cursors named their
    /// trigger: refused on `cursor` before any request.
    #[test]
    fn only_this_triggers_cursor_is_read() {
        let client = scripted(|_| ok_json(&json!({"totalResults": 0, "Resources": []})));
        let trigger = find("scim_user_changed").unwrap();
        let clm = crate::triggers::cursor::Cursor::at(
            0,
            &Owner::trigger("workflow_updated", &crate::test_support::conn()),
        );
        let mut other_connection = json!({"trigger": "scim_user_changed", "connection": "00000000",
                                          "watermark": "2026-01-01T00:00:00.000Z"});
        let legacy = json!({"watermark": "2026-01-01T00:00:00.000Z"});
        for (cursor, says) in [
            (clm.to_json(), "belongs to trigger `workflow_updated`"),
            (other_connection.take(), "another connection"),
            (legacy, "earlier version"),
        ] {
            let err = poll(
                &client,
                &scim_conn(),
                trigger,
                "{}",
                Some(&cursor.to_string()),
            )
            .unwrap_err();
            assert!(
                matches!(&err, ConnectorError::InvalidInput { field, message }
                         if field == "cursor" && message.contains(says)),
                "{err:?}"
            );
        }
        assert!(client.sent.borrow().is_empty());
    }
}
