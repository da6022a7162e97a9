//! The Clickwrap polling trigger: new acceptances (REST activity with `event_type==agreed`).
//!
//! Activity is read in slices of `created_time` by the same reader as CLM workflows
//! ([`slices`]): the order of `/activity` and the `sort` syntax are undocumented, so the
//! collection's `total_count` sizes each slice and a poll makes a bounded number of requests
//! whatever the backlog. The cursor is the shared one ([`Cursor`]): the watermark plus the ids
//! already emitted at exactly that instant, because the filter is inclusive.

use serde_json::{Map, Value, json};

use super::catalog::{Api, PER_PAGE};
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component};
use crate::owner::Owner;
use crate::time::{self, Millis};
use crate::triggers::cursor::Cursor;
use crate::triggers::slices::{self, Listing, Page, Stamped};
use crate::triggers::{Event, PollResult};

pub struct AcceptanceTrigger {
    pub key: &'static str,
    pub api: Api,
    pub title: &'static str,
    pub description: &'static str,
    /// The activity `event_type` that makes an event.
    pub event_type: &'static str,
}

pub static TRIGGERS: &[AcceptanceTrigger] = &[AcceptanceTrigger {
    key: "clickwrap_acceptance",
    api: Api::Rest,
    title: "New Clickwrap acceptance",
    description: "A signer agreed to contract versions (Clickwrap activity `agreed`), polled \
                  by `created_time`; optionally only in one site.",
    event_type: "agreed",
}];

/// Events handled per poll; the rest wait for the next (`has_more`).
const BUDGET: usize = PER_PAGE as usize;

pub fn find(key: &str) -> Option<&'static AcceptanceTrigger> {
    TRIGGERS.iter().find(|t| t.key == key)
}

impl AcceptanceTrigger {
    pub fn input_schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "since": { "type": "string", "format": "date-time", "title": "Start from",
                           "description": "First poll only: report acceptances after this instant. Default: when the trigger is first polled." },
                "site_id": { "type": "integer", "minimum": 1, "title": "Site",
                             "description": "Only acceptances in this site." }
            }
        })
    }

    pub fn output_schema(&self) -> Value {
        json!({
            "type": "object", "required": ["event", "occurred_at", "activity"],
            "properties": {
                "event": { "type": "string", "description": "The activity's event type (`agreed`)." },
                "occurred_at": { "type": "string", "format": "date-time" },
                "activity": { "type": "object", "description": "The activity as Clickwrap returns it (signer_id, contract, version, group, site, custom_data, connection_data…)." }
            }
        })
    }

    pub fn poll(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        input_text: &str,
        cursor: Option<&str>,
    ) -> Result<PollResult, ConnectorError> {
        let input = self.input(input_text)?;
        let owner = Owner::trigger(self.key, conn);
        let mut cursor = match cursor {
            Some(text) => {
                let value = serde_json::from_str(text)
                    .map_err(|e| ConnectorError::input("cursor", format!("not valid JSON: {e}")))?;
                Cursor::from_json(&value, &owner)?
            }
            None => Cursor::at(crate::triggers::since(&input)?, &owner),
        };
        let listing = Acceptances {
            trigger: self,
            client,
            conn,
            site: input.get("site_id").and_then(crate::integer::as_u64),
        };
        let batch = slices::read(&listing, &mut cursor, BUDGET)?;
        let events = batch
            .items
            .into_iter()
            .map(|item| Event {
                id: format!("clickwrap_activity:{}", item.id),
                payload: json!({ "event": self.event_type, "occurred_at": time::format(item.at),
                                 "activity": item.value }),
            })
            .collect();
        Ok(PollResult {
            events,
            cursor: Some(cursor.to_json()),
            has_more: batch.has_more,
        })
    }

    fn input(&self, text: &str) -> Result<Map<String, Value>, ConnectorError> {
        let value: Value = serde_json::from_str(if text.trim().is_empty() { "{}" } else { text })
            .map_err(|e| {
            ConnectorError::input("/", format!("the input is not valid JSON: {e}"))
        })?;
        crate::schema::validate(&self.input_schema(), &value)
            .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
        Ok(value.as_object().cloned().unwrap_or_default())
    }
}

/// `GET /activity` for the slicing reader: `filter=event_type==<type> and created_time>=<from>
/// [and created_time<=<until>][ and site==<id>]`, 1-based `page` and `per_page`, counted by the
/// envelope's `total_count` (documented; `no_count=true` would drop it). `==`, `>=` and `and`
/// are documented; `<=` is INFERRED from them (the digest lists the operators by example), and
/// an answer showing it was not applied is an error (see `slices`), not a skip.
struct Acceptances<'a> {
    trigger: &'a AcceptanceTrigger,
    client: &'a dyn HttpClient,
    conn: &'a Connection,
    site: Option<u64>,
}

impl Acceptances<'_> {
    fn filter(&self, from: Millis, until: Option<Millis>) -> String {
        let mut filter = format!(
            "event_type=={} and created_time>={}",
            self.trigger.event_type,
            time::format(from)
        );
        if let Some(until) = until {
            filter.push_str(&format!(" and created_time<={}", time::format(until)));
        }
        if let Some(site) = self.site {
            filter.push_str(&format!(" and site=={site}"));
        }
        filter
    }
}

impl Listing for Acceptances<'_> {
    fn page(
        &self,
        from: Millis,
        until: Option<Millis>,
        page: u64,
        size: u64,
    ) -> Result<Page, ConnectorError> {
        let url = format!(
            "{}/activity?filter={}&page={}&per_page={size}",
            super::base_url(self.conn, self.trigger.api),
            encode_component(&self.filter(from, until)),
            page + 1
        );
        let request = Request::new(Method::GET, url).header("accept", "application/json");
        let response = super::send_ok(self.client, self.conn, request, None)?;
        let envelope = crate::upstream::json(&response, self.trigger.key)?;
        let data = envelope["data"]
            .as_array()
            .ok_or_else(|| ConnectorError::internal("/activity answered without a `data` array"))?;
        let count = envelope
            .get("total_count")
            .and_then(crate::integer::as_u64)
            .ok_or_else(|| ConnectorError::internal("/activity answered without `total_count`"))?;
        let items = data
            .iter()
            .filter_map(|a| {
                Some(Stamped {
                    at: a["created_time"].as_str().and_then(time::parse)?,
                    id: a["id"].as_str()?.to_string(),
                    value: a.clone(),
                })
            })
            .collect();
        Ok(Page {
            count,
            listed: data.len(),
            items,
        })
    }

    fn describe_bound(&self, until: Millis) -> String {
        format!(
            "GET /activity with `created_time<={}` in its filter",
            time::format(until)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ok_json, query, scripted};

    fn conn() -> Connection {
        Connection::parse(
            &json!({"api_type": "clickwrap_rest", "region": "na1",
                    "access_token": "<secret>"})
            .to_string(),
        )
        .unwrap()
    }

    fn activity(id: &str, at: &str) -> Value {
        json!({"id": id, "event_type": "agreed", "created_time": at, "signer_id": "s"})
    }

    /// `/activity` over `all` in the given (undocumented) order: the filter's `==`, `>=` and
    /// `<=` terms joined by `and`, 1-based pages, `total_count`.
    fn endpoint(all: Vec<Value>) -> impl Fn(&crate::http::Request) -> crate::http::Response {
        move |r| {
            let q = query(r);
            let keep = |a: &Value| {
                q["filter"].split(" and ").all(|term| {
                    let (field, op, value) = ["<=", ">=", "=="]
                        .iter()
                        .find_map(|op| term.split_once(op).map(|(f, v)| (f, *op, v)))
                        .unwrap();
                    let actual = &a[field];
                    match (
                        op,
                        actual.as_str().and_then(time::parse),
                        time::parse(value),
                    ) {
                        (">=", Some(at), Some(v)) => at >= v,
                        ("<=", Some(at), Some(v)) => at <= v,
                        _ => actual.as_str().map_or(actual.to_string(), str::to_string) == value,
                    }
                })
            };
            let matching: Vec<&Value> = all.iter().filter(|a| keep(a)).collect();
            let (page, per_page): (usize, usize) =
                (q["page"].parse().unwrap(), q["per_page"].parse().unwrap());
            let data: Vec<&Value> = matching
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .copied()
                .collect();
            ok_json(
                &json!({ "data": data, "per_page": per_page, "total_count": matching.len(),
                             "has_more": page * per_page < matching.len() }),
            )
        }
    }

    #[test]
    fn reads_new_acceptances_orders_them_and_breaks_ties_by_id() {
        // Out of order, one at the watermark already emitted, one in another site.
        let mut other_site = activity("x", "2026-01-01T00:00:03Z");
        other_site["site"] = json!(4);
        let mut all = vec![
            activity("b", "2026-01-01T00:00:02Z"),
            activity("a", "2026-01-01T00:00:00Z"),
            activity("c", "2026-01-01T00:00:01Z"),
            activity("z", "2026-01-01T00:00:00Z"),
            activity("old", "2025-12-31T23:59:59Z"),
            other_site,
        ];
        for a in all.iter_mut().filter(|a| a.get("site").is_none()) {
            a["site"] = json!(3);
        }
        let client = scripted(endpoint(all));
        let cursor = json!({"trigger": "clickwrap_acceptance", "connection": conn().fingerprint(),
                            "watermark": "2026-01-01T00:00:00.000Z", "ids": ["a"]})
        .to_string();
        let out = TRIGGERS[0]
            .poll(&client, &conn(), r#"{"site_id": 3}"#, Some(&cursor))
            .unwrap();
        let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "clickwrap_activity:z",
                "clickwrap_activity:c",
                "clickwrap_activity:b"
            ]
        );
        assert_eq!(out.events[0].payload["event"], "agreed");
        assert!(!out.has_more);
        let owner = Owner::trigger("clickwrap_acceptance", &conn());
        let next = Cursor::from_json(out.cursor.as_ref().unwrap(), &owner).unwrap();
        assert_eq!(next.ids, ["b"]);
        let sent = client.sent.borrow();
        assert_eq!(sent.len(), 1, "caught up: one request");
        assert_eq!(
            query(&sent[0])["filter"],
            "event_type==agreed and created_time>=2026-01-01T00:00:00.000Z and site==3"
        );
        assert!(
            !sent[0].url.contains("no_count"),
            "slices are sized by total_count"
        );
    }

    #[test]
    fn a_backlog_is_read_in_slices_each_poll_a_few_requests() {
        let start = time::parse("2026-01-01T00:00:00Z").unwrap();
        let all: Vec<Value> = (0..1_000)
            .map(|i| activity(&format!("ac{i:04}"), &time::format(start + 1 + i * 1_500)))
            .collect();
        let client = scripted(endpoint(all));
        let input = r#"{"since": "2026-01-01T00:00:00Z"}"#;
        let mut cursor: Option<String> = None;
        let mut ids = Vec::new();
        for poll in 0.. {
            assert!(poll < 20, "the backlog never drained");
            let before = client.sent.borrow().len();
            let out = TRIGGERS[0]
                .poll(&client, &conn(), input, cursor.as_deref())
                .unwrap();
            let cost = client.sent.borrow().len() - before;
            assert!(cost <= slices::MAX_REQUESTS, "poll {poll}: {cost} requests");
            ids.extend(out.events.into_iter().map(|e| e.id));
            cursor = out.cursor.map(|c| c.to_string());
            if !out.has_more {
                break;
            }
        }
        assert_eq!(ids.len(), 1_000);
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "oldest first, each once"
        );
        let sent = client.sent.borrow();
        assert!(
            sent.iter()
                .any(|r| query(r)["filter"].contains(" and created_time<="))
        );
    }

    /// `site_id: 3.0` is the site 3, as validation reads it (it used to be dropped, and the
    /// trigger then reported acceptances of every site).
    #[test]
    fn a_site_written_as_a_float_still_filters() {
        let client =
            scripted(|_| ok_json(&json!({"data": [], "has_more": false, "total_count": 0})));
        TRIGGERS[0]
            .poll(&client, &conn(), r#"{"site_id": 3.0}"#, None)
            .unwrap();
        let sent = client.sent.borrow();
        assert!(
            query(&sent[0])["filter"].ends_with(" and site==3"),
            "{}",
            sent[0].url
        );
    }

    /// Another trigger's cursor is refused before any request.
    #[test]
    fn another_triggers_cursor_is_refused() {
        let client = scripted(|_| ok_json(&json!({"data": []})));
        let clm = Cursor::at(0, &Owner::trigger("workflow_launched", &conn())).to_json();
        let err = TRIGGERS[0]
            .poll(&client, &conn(), "{}", Some(&clm.to_string()))
            .unwrap_err();
        assert!(
            matches!(&err, ConnectorError::InvalidInput { field, message }
                     if field == "cursor" && message.contains("belongs to trigger `workflow_launched`")),
            "{err:?}"
        );
        assert!(client.sent.borrow().is_empty());
    }

    #[test]
    fn bad_input_and_cursor_are_refused_before_sending() {
        let client = scripted(|_| ok_json(&json!({"data": []})));
        let err = TRIGGERS[0]
            .poll(&client, &conn(), r#"{"site": 1}"#, None)
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        let err = TRIGGERS[0]
            .poll(&client, &conn(), "{}", Some(r#"{"w": 1}"#))
            .unwrap_err();
        assert!(matches!(err, ConnectorError::InvalidInput { ref field, .. } if field == "cursor"));
        assert!(client.sent.borrow().is_empty());
    }
}
