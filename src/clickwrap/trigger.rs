//! The Clickwrap polling trigger: new acceptances (REST activity with `event_type==agreed`).
//!
//! Each poll reads `GET /activity?filter=event_type==agreed and created_time>=<watermark>`
//! page by page. The order of `/activity` and the `sort` syntax are undocumented, so the whole
//! window since the watermark is read (it is small between polls), then ordered locally by
//! `(created_time, id)`. The cursor is the shared one ([`Cursor`]): the watermark plus the ids
//! already emitted at exactly that instant, because the filter is inclusive.

use serde_json::{Map, Value, json};

use super::catalog::{Api, PER_PAGE};
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component};
use crate::owner::Owner;
use crate::time::{self, Millis};
use crate::triggers::cursor::Cursor;
use crate::triggers::{Event, PollResult};

pub struct Trigger {
    pub key: &'static str,
    pub api: Api,
    pub title: &'static str,
    pub description: &'static str,
    /// The activity `event_type` that makes an event.
    pub event_type: &'static str,
}

pub static TRIGGERS: &[Trigger] = &[Trigger {
    key: "clickwrap_acceptance",
    api: Api::Rest,
    title: "New Clickwrap acceptance",
    description: "A signer agreed to contract versions (Clickwrap activity `agreed`), polled \
                  by `created_time`; optionally only in one site.",
    event_type: "agreed",
}];

/// Events handled per poll; the rest wait for the next (`has_more`).
const BUDGET: usize = PER_PAGE as usize;

pub fn find(key: &str) -> Option<&'static Trigger> {
    TRIGGERS.iter().find(|t| t.key == key)
}

impl Trigger {
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
        let start = match cursor {
            Some(text) => {
                let value = serde_json::from_str(text)
                    .map_err(|e| ConnectorError::input("cursor", format!("not valid JSON: {e}")))?;
                Cursor::from_json(&value, &owner)?
            }
            None => Cursor::at(crate::triggers::polling::since(&input)?, &owner),
        };
        let w0 = start.millis()?;
        let mut fresh: Vec<(Millis, String, Value)> = self
            .window(client, conn, &input, w0)?
            .into_iter()
            .filter_map(|a| {
                let at = a["created_time"].as_str().and_then(time::parse)?;
                let id = a["id"].as_str()?.to_string();
                start.is_new(w0, at, &id).then_some((at, id, a))
            })
            .collect();
        fresh.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let take = fresh.len().min(BUDGET);
        let mut cursor = start.clone();
        let mut watermark = w0;
        let mut events = Vec::with_capacity(take);
        for (at, id, activity) in fresh.drain(..take) {
            cursor.advance(&mut watermark, at, &id);
            events.push(Event {
                id: format!("clickwrap_activity:{id}"),
                payload: json!({ "event": self.event_type, "occurred_at": time::format(at),
                                 "activity": activity }),
            });
        }
        Ok(PollResult {
            events,
            cursor: Some(cursor.to_json()),
            has_more: !fresh.is_empty(),
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

    /// Every activity of this event type created at or after `watermark`, in any order.
    fn window(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        input: &Map<String, Value>,
        watermark: Millis,
    ) -> Result<Vec<Value>, ConnectorError> {
        let mut filter = format!(
            "event_type=={} and created_time>={}",
            self.event_type,
            time::format(watermark)
        );
        if let Some(site) = input.get("site_id").and_then(crate::integer::as_u64) {
            filter.push_str(&format!(" and site=={site}"));
        }
        let mut all = Vec::new();
        for page in 1.. {
            let url = format!(
                "{}/activity?filter={}&no_count=true&page={page}&per_page={PER_PAGE}",
                super::base_url(conn, self.api),
                encode_component(&filter)
            );
            let request = Request::new(Method::GET, url).header("accept", "application/json");
            let response = super::send_ok(client, conn, request, None)?;
            let envelope = crate::upstream::json(&response, self.key)?;
            let data = envelope["data"].as_array().ok_or_else(|| {
                ConnectorError::internal("/activity answered without a `data` array")
            })?;
            all.extend(data.iter().cloned());
            if data.is_empty() || !super::pages::more_after(&envelope, data.len(), PER_PAGE) {
                break;
            }
        }
        Ok(all)
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

    #[test]
    fn reads_the_window_orders_it_and_breaks_ties_by_id() {
        // Two pages, out of order, one item at the watermark already emitted.
        let client = scripted(|r| {
            let q = query(r);
            assert!(
                q["filter"].starts_with("event_type==agreed and created_time>=2026-01-01T00:00:00")
            );
            assert!(q["filter"].ends_with(" and site==3"));
            match q["page"].as_str() {
                "1" => ok_json(&json!({"data": [activity("b", "2026-01-01T00:00:02Z"),
                                                activity("a", "2026-01-01T00:00:00Z")],
                                       "has_more": true, "per_page": 2})),
                _ => ok_json(&json!({"data": [activity("c", "2026-01-01T00:00:01Z"),
                                              activity("z", "2026-01-01T00:00:00Z")],
                                     "has_more": false})),
            }
        });
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
        assert_eq!(client.sent.borrow().len(), 2);
    }

    /// `site_id: 3.0` is the site 3, as validation reads it (it used to be dropped, and the
    /// trigger then reported acceptances of every site).
    #[test]
    fn a_site_written_as_a_float_still_filters() {
        let client = scripted(|_| ok_json(&json!({"data": [], "has_more": false})));
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
