//! Polling: read what changed since the cursor, oldest first, with as few requests as the
//! endpoint allows, and turn each changed item into zero or more events with stable ids.
//!
//! How each list is read (page size 100 throughout):
//! - workflows: in slices of time ([`crate::triggers::slices`]), at most `slices::MAX_REQUESTS` requests
//!   a poll whatever the backlog: `lastUpdated=<from>` (documented, inclusive) and, for a
//!   slice's upper bound, `filter=LessThanOrEqual([lastUpdated], '<until>')` (inferred, see
//!   [`WorkflowListing`]); their order is undocumented, so `count` sizes the slices;
//! - records: `lastUpdated=<watermark>&sortField=lastUpdated&sortDirection=ASC`; reading stops
//!   once a poll's worth of changes is collected;
//! - entities and obligations: no `lastUpdated` filter, so `sortField=lastUpdated&
//!   sortDirection=DESC`; reading stops at the first item older than the watermark.

use serde_json::{Map, Value, json};

use super::super::api;
use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::HttpClient;
use crate::integer;
use crate::owner::Owner;
use crate::pages::PAGE_SIZE;
use crate::time::{self, Millis};
use crate::triggers::cursor::Cursor;
use crate::triggers::slices::{self, Listing, Page, Stamped};
use crate::triggers::{Event, PollResult, since};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Workflows,
    Records,
    Entities,
    Obligations,
}

impl Source {
    fn path(self) -> &'static str {
        match self {
            Source::Workflows => "/workflows",
            Source::Records => "/records",
            Source::Entities => "/entities",
            Source::Obligations => "/obligations",
        }
    }

    pub fn scope(self) -> &'static str {
        match self {
            Source::Workflows => "public.workflows.readWorkflows",
            Source::Records => "public.records.readRecords",
            Source::Entities => "public.entities.readEntities",
            Source::Obligations => "public.obligations.readObligations",
        }
    }

    /// The payload property holding the item.
    pub fn noun(self) -> &'static str {
        match self {
            Source::Workflows => "workflow",
            Source::Records => "record",
            Source::Entities => "entity",
            Source::Obligations => "obligation",
        }
    }

    /// Query pairs for one page (the input was validated against the trigger's schema).
    fn query(
        self,
        rule: Rule,
        input: &Map<String, Value>,
        watermark: Millis,
        page: u64,
        size: u64,
    ) -> Vec<(&'static str, String)> {
        let mut q = vec![("page", page.to_string()), ("pageSize", size.to_string())];
        let join = |key: &str| {
            input.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        match self {
            Source::Workflows => {
                q.push(("lastUpdated", time::format(watermark)));
                let status = join("status").filter(|_| rule != Rule::Completed);
                q.push((
                    "status",
                    status.unwrap_or_else(|| default_statuses(rule).join(",")),
                ));
                if let Some(template) = input.get("template").and_then(Value::as_str) {
                    q.push(("template", template.to_string()));
                }
            }
            Source::Records => {
                q.push(("lastUpdated", time::format(watermark)));
                q.push(("sortField", "lastUpdated".into()));
                q.push(("sortDirection", "ASC".into()));
                if let Some(types) = join("types") {
                    q.push(("types", types));
                }
            }
            Source::Entities | Source::Obligations => {
                q.push(("sortField", "lastUpdated".into()));
                q.push(("sortDirection", "DESC".into()));
            }
        }
        q
    }
}

/// Workflow statuses polled when the input names none. Ironclad lists only `active`
/// workflows unless asked, which would hide completions and cancellations from "updated".
pub fn default_statuses(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::Completed => &["completed"],
        Rule::Approval => &["active"],
        _ => &["active", "paused", "completed", "cancelled"],
    }
}

/// What makes a changed item an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Every change (`lastUpdated`) is one event.
    Updated,
    /// Workflows created after the watermark (`created`).
    Launched,
    /// Workflows whose status is `completed` (once each).
    Completed,
    /// The step a workflow is in, once per workflow and step.
    Step,
    /// Each approval requested or decided, once per workflow, role and status.
    Approval,
    /// Items whose readable number (`IC-12`) is above the highest seen before.
    Created,
}

#[derive(Debug, Clone, Copy)]
pub struct PollRule {
    pub source: Source,
    pub rule: Rule,
    /// The `event` value of payloads.
    pub event: &'static str,
}

impl PollRule {
    /// Changed items handled per poll; approvals cost a request per workflow.
    fn budget(&self) -> usize {
        match self.rule {
            Rule::Approval => 20,
            _ => PAGE_SIZE as usize,
        }
    }
}

pub fn poll(
    client: &dyn HttpClient,
    conn: &Connection,
    owner: &Owner,
    rule: &PollRule,
    input: &Map<String, Value>,
    cursor: Option<&Value>,
) -> Result<PollResult, ConnectorError> {
    let start = match cursor {
        Some(value) => Cursor::from_json(value, owner)?,
        None => Cursor::at(since(input)?, owner),
    };
    let w0 = start.millis()?;
    let mut cursor = start.clone();
    let (items, has_more) = match rule.source {
        Source::Workflows => {
            let listing = WorkflowListing {
                client,
                conn,
                rule,
                input,
            };
            let batch = slices::read(&listing, &mut cursor, rule.budget())?;
            (batch.items, batch.has_more)
        }
        _ => changed_items(client, conn, rule, input, &mut cursor)?,
    };
    if rule.rule == Rule::Created && cursor.max_number.is_none() {
        cursor.max_number = Some(highest_number_before(client, conn, rule.source, w0)?);
    }
    let floor = cursor.max_number;
    let mut events = Vec::new();
    for item in &items {
        events.extend(item_events(
            client, conn, rule, input, &start, w0, floor, item,
        )?);
        if let Some(n) = readable_number(&item.value).filter(|_| rule.rule == Rule::Created) {
            cursor.max_number = Some(cursor.max_number.map_or(n, |m| m.max(n)));
        }
    }
    Ok(PollResult {
        events,
        cursor: Some(cursor.to_json()),
        has_more,
    })
}

/// The items of a sorted source (records, entities, obligations) not handled yet: a poll's
/// worth, oldest first, with the cursor moved past them, and whether more are waiting.
fn changed_items(
    client: &dyn HttpClient,
    conn: &Connection,
    rule: &PollRule,
    input: &Map<String, Value>,
    cursor: &mut Cursor,
) -> Result<(Vec<Stamped>, bool), ConnectorError> {
    let mut watermark = cursor.millis()?;
    let (mut items, more_upstream) = scan(client, conn, rule, input, cursor, watermark)?;
    let left = items.split_off(items.len().min(rule.budget()));
    for item in &items {
        cursor.advance(&mut watermark, item.at, &item.id);
    }
    Ok((items, more_upstream || !left.is_empty()))
}

/// Changed items not handled yet, oldest first, and whether the API holds more of them.
fn scan(
    client: &dyn HttpClient,
    conn: &Connection,
    rule: &PollRule,
    input: &Map<String, Value>,
    cursor: &Cursor,
    watermark: Millis,
) -> Result<(Vec<Stamped>, bool), ConnectorError> {
    let source = rule.source;
    let mut items = Vec::new();
    let mut more_upstream = false;
    for page in 0.. {
        let path = format!(
            "{}{}",
            source.path(),
            api::query(&source.query(rule.rule, input, watermark, page, PAGE_SIZE))
        );
        let envelope = api::get_json(client, conn, &path, &[source.scope()])?;
        let list = envelope["list"].as_array().ok_or_else(|| {
            ConnectorError::internal(format!("{}: a paged answer had no `list`", source.path()))
        })?;
        let mut passed_boundary = false;
        // Obligations may lack `lastUpdated`: nothing to order them by, so they are left out.
        for item in list.iter().filter_map(stamped) {
            if item.at < watermark {
                passed_boundary = true;
            } else if cursor.is_new(watermark, item.at, &item.id) {
                items.push(item);
            }
        }
        let full = list.len() as u64 == PAGE_SIZE;
        let counted =
            integer::as_u64(&envelope["count"]).is_none_or(|n| (page + 1) * PAGE_SIZE < n);
        let next = full && counted;
        // Records come oldest first, so a poll's worth is the oldest changes; entities and
        // obligations newest first, so the first older item ends the changes.
        let stop = match source {
            Source::Records => items.len() >= rule.budget(),
            _ => passed_boundary,
        };
        if !next || stop {
            more_upstream = next && stop && source == Source::Records;
            break;
        }
    }
    items.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    Ok((items, more_upstream))
}

/// A listed item with its `lastUpdated`; none without one.
fn stamped(value: &Value) -> Option<Stamped> {
    Some(Stamped {
        at: value["lastUpdated"].as_str().and_then(time::parse)?,
        id: value["id"].as_str().unwrap_or_default().to_string(),
        value: value.clone(),
    })
}

/// `GET /workflows` for the slicing reader. The lower bound is `lastUpdated` ("updated since a
/// UTC date", read as inclusive). The upper bound is INFERRED: the `filter` formula documents
/// `LessThanOrEqual` on dates with quoted values (`LessThan([amount], '1000')`), but names
/// only workflow attributes as properties, not the workflow's own `lastUpdated`, and leaves
/// the date syntax unconfirmed; so a quoted full instant is sent, and an answer showing the
/// bound was not applied is an error (see `slices`), not a skip.
struct WorkflowListing<'a> {
    client: &'a dyn HttpClient,
    conn: &'a Connection,
    rule: &'a PollRule,
    input: &'a Map<String, Value>,
}

impl WorkflowListing<'_> {
    fn upper_bound(until: Millis) -> String {
        format!("LessThanOrEqual([lastUpdated], '{}')", time::format(until))
    }
}

impl Listing for WorkflowListing<'_> {
    fn page(
        &self,
        from: Millis,
        until: Option<Millis>,
        page: u64,
        size: u64,
    ) -> Result<Page, ConnectorError> {
        let source = Source::Workflows;
        let mut q = source.query(self.rule.rule, self.input, from, page, size);
        if let Some(until) = until {
            q.push(("filter", Self::upper_bound(until)));
        }
        let path = format!("{}{}", source.path(), api::query(&q));
        let envelope = api::get_json(self.client, self.conn, &path, &[source.scope()])?;
        let list = envelope["list"]
            .as_array()
            .ok_or_else(|| ConnectorError::internal("/workflows: a paged answer had no `list`"))?;
        // `count` (every page together) is documented; slices are sized by it.
        let count = integer::as_u64(&envelope["count"])
            .ok_or_else(|| ConnectorError::internal("/workflows: a paged answer had no `count`"))?;
        Ok(Page {
            count,
            listed: list.len(),
            items: list.iter().filter_map(stamped).collect(),
        })
    }

    fn describe_bound(&self, until: Millis) -> String {
        format!("GET /workflows with `filter={}`", Self::upper_bound(until))
    }
}

/// The highest readable number among items last updated before `watermark`: what "new"
/// means on a trigger's first poll. Reads the whole list once.
fn highest_number_before(
    client: &dyn HttpClient,
    conn: &Connection,
    source: Source,
    watermark: Millis,
) -> Result<u64, ConnectorError> {
    let mut highest = 0;
    for page in 0.. {
        let q = [
            ("page", page.to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ];
        let path = format!("{}{}", source.path(), api::query(&q));
        let envelope = api::get_json(client, conn, &path, &[source.scope()])?;
        let list = envelope["list"].as_array().cloned().unwrap_or_default();
        for value in &list {
            let before = value["lastUpdated"]
                .as_str()
                .and_then(time::parse)
                .is_some_and(|at| at < watermark);
            if let Some(n) = readable_number(value).filter(|_| before) {
                highest = highest.max(n);
            }
        }
        let counted =
            integer::as_u64(&envelope["count"]).is_none_or(|n| (page + 1) * PAGE_SIZE < n);
        if list.len() as u64 != PAGE_SIZE || !counted {
            break;
        }
    }
    Ok(highest)
}

/// `IC-123` → 123.
fn readable_number(item: &Value) -> Option<u64> {
    item["ironcladId"]
        .as_str()?
        .rsplit('-')
        .next()?
        .parse()
        .ok()
}

#[allow(clippy::too_many_arguments)]
fn item_events(
    client: &dyn HttpClient,
    conn: &Connection,
    rule: &PollRule,
    input: &Map<String, Value>,
    start: &Cursor,
    w0: Millis,
    floor: Option<u64>,
    item: &Stamped,
) -> Result<Vec<Event>, ConnectorError> {
    let noun = rule.source.noun();
    let at = time::format(item.at);
    let event = |id: String, occurred_at: &str, extra: Option<(&str, Value)>| {
        let mut payload =
            json!({ "event": rule.event, "occurred_at": occurred_at, noun: item.value });
        if let Some((key, value)) = extra {
            payload[key] = value;
        }
        Event { id, payload }
    };
    let id = &item.id;
    Ok(match rule.rule {
        Rule::Updated => vec![event(format!("{noun}:{id}:{at}"), &at, None)],
        Rule::Launched => {
            let created = item.value["created"].as_str().and_then(time::parse);
            match created {
                Some(c) if start.is_new(w0, c, id) => {
                    vec![event(
                        format!("{noun}:{id}:launched"),
                        &time::format(c),
                        None,
                    )]
                }
                _ => Vec::new(),
            }
        }
        Rule::Completed => match item.value["status"].as_str() {
            Some("completed") => vec![event(format!("{noun}:{id}:completed"), &at, None)],
            _ => Vec::new(),
        },
        Rule::Step => {
            let step = item.value["step"].as_str().unwrap_or_default();
            let wanted = input
                .get("step")
                .and_then(Value::as_str)
                .is_none_or(|s| s == step);
            if wanted && !step.is_empty() {
                vec![event(
                    format!("{noun}:{id}:step:{step}"),
                    &at,
                    Some(("step", json!(step))),
                )]
            } else {
                Vec::new()
            }
        }
        Rule::Created => match readable_number(&item.value) {
            Some(n) if floor.is_none_or(|f| n > f) => {
                vec![event(format!("{noun}:{id}:created"), &at, None)]
            }
            _ => Vec::new(),
        },
        Rule::Approval => approvals(client, conn, input, id)?
            .into_iter()
            .map(|a| {
                let key = format!(
                    "{noun}:{id}:approval:{}:{}",
                    a["role"].as_str().unwrap_or_default(),
                    a["status"].as_str().unwrap_or_default()
                );
                event(key, &at, Some(("approval", a)))
            })
            .collect(),
    })
}

/// Approvals of one workflow that were requested (pending in the active group) or decided,
/// as `{role, displayName, status, reviewerType, group_order}`, filtered by `approval_status`.
fn approvals(
    client: &dyn HttpClient,
    conn: &Connection,
    input: &Map<String, Value>,
    workflow_id: &str,
) -> Result<Vec<Value>, ConnectorError> {
    let path = format!(
        "/workflows/{}/approvals",
        crate::http::encode_path_segment(workflow_id)
    );
    let body = api::get_json(client, conn, &path, &["public.workflows.readApprovals"])?;
    let wanted: Option<Vec<&str>> = input
        .get("approval_status")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut out = Vec::new();
    for group in body["approvalGroups"].as_array().into_iter().flatten() {
        let active = group["status"].as_str() == Some("active");
        for reviewer in group["reviewers"].as_array().into_iter().flatten() {
            let status = reviewer["status"].as_str().unwrap_or_default();
            // A pending reviewer in a group not yet reached has not been asked anything.
            if status.is_empty() || (status == "pending" && !active) {
                continue;
            }
            if wanted.as_ref().is_some_and(|w| !w.contains(&status)) {
                continue;
            }
            let mut approval = reviewer.clone();
            approval["group_order"] = group["order"].clone();
            out.push(approval);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{conn, ok_json, query, scripted};

    /// `n` items, one per second from `start`, as Ironclad would list them.
    fn items(n: usize, start: Millis) -> Vec<Value> {
        (0..n)
            .map(|i| {
                json!({
                    "id": format!("r{i:04}"),
                    "ironcladId": format!("IC-{}", i + 1),
                    "lastUpdated": time::format(start + i as Millis * 1000),
                })
            })
            .collect()
    }

    /// A list endpoint over `all`: honours `lastUpdated` (inclusive), the workflows' upper
    /// bound `filter`, the sort direction and page/pageSize, with `count`.
    fn endpoint(all: Vec<Value>) -> impl Fn(&crate::http::Request) -> crate::http::Response {
        move |req| {
            let q = query(req);
            let since = q.get("lastUpdated").and_then(|s| time::parse(s));
            let until = q.get("filter").map(|f| {
                let quoted = f
                    .strip_prefix("LessThanOrEqual([lastUpdated], '")
                    .and_then(|rest| rest.strip_suffix("')"))
                    .unwrap_or_else(|| panic!("unexpected filter {f}"));
                time::parse(quoted).unwrap()
            });
            let at = |v: &Value| time::parse(v["lastUpdated"].as_str().unwrap()).unwrap();
            let mut list: Vec<Value> = all
                .iter()
                .filter(|v| since.is_none_or(|s| at(v) >= s) && until.is_none_or(|u| at(v) <= u))
                .cloned()
                .collect();
            if q.get("sortDirection").map(String::as_str) == Some("DESC") {
                list.reverse();
            }
            let (page, size): (usize, usize) =
                (q["page"].parse().unwrap(), q["pageSize"].parse().unwrap());
            let count = list.len();
            let page_items: Vec<Value> = list.into_iter().skip(page * size).take(size).collect();
            ok_json(&json!({ "page": page, "pageSize": size, "count": count, "list": page_items }))
        }
    }

    const T0: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    fn owner() -> Owner {
        Owner::trigger("record_updated", &conn())
    }

    fn rule(source: Source, rule: Rule) -> PollRule {
        PollRule {
            source,
            rule,
            event: "test",
        }
    }

    #[test]
    fn ascending_reads_stop_at_a_polls_worth_and_resume_exactly() {
        let http = scripted(endpoint(items(250, T0 + 1000)));
        let input = Map::from_iter([("since".to_string(), json!(time::format(T0)))]);
        let r = rule(Source::Records, Rule::Updated);
        let mut cursor = None;
        let mut all = Vec::new();
        let mut requests = Vec::new();
        loop {
            http.sent.borrow_mut().clear();
            let polled = poll(&http, &conn(), &owner(), &r, &input, cursor.as_ref()).unwrap();
            requests.push(http.sent.borrow().len());
            all.extend(polled.events.into_iter().map(|e| e.id));
            cursor = polled.cursor;
            if !polled.has_more {
                break;
            }
        }
        assert_eq!(all.len(), 250);
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), 250, "no duplicates");
        // Each poll reads one page; the inclusive `lastUpdated` filter re-lists the item at
        // the watermark, so a poll that must fill a whole budget may read one page more.
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().sum::<usize>() <= 4, "{requests:?}");
    }

    #[test]
    fn descending_reads_stop_at_the_watermark() {
        let http = scripted(endpoint(items(350, T0)));
        // Only the newest 30 changed after the watermark.
        let since = time::format(T0 + 320 * 1000);
        let input = Map::from_iter([("since".to_string(), json!(since))]);
        let polled = poll(
            &http,
            &conn(),
            &owner(),
            &rule(Source::Entities, Rule::Updated),
            &input,
            None,
        )
        .unwrap();
        assert_eq!(polled.events.len(), 30);
        assert!(!polled.has_more);
        assert_eq!(
            http.sent.borrow().len(),
            1,
            "the first page already reaches older items"
        );
        let first = &polled.events[0].payload["occurred_at"];
        assert_eq!(
            first,
            &json!(since),
            "oldest first, the watermark itself included"
        );
    }

    #[test]
    fn ties_at_the_watermark_are_neither_lost_nor_repeated() {
        // Three records share one millisecond; the first poll handles them, a later one
        // arriving at the same instant is still reported.
        let same =
            |id: &str| json!({ "id": id, "ironcladId": "IC-1", "lastUpdated": time::format(T0) });
        let http = scripted(endpoint(vec![same("a"), same("b"), same("c")]));
        let input = Map::from_iter([("since".to_string(), json!(time::format(T0)))]);
        let r = rule(Source::Records, Rule::Updated);
        let first = poll(&http, &conn(), &owner(), &r, &input, None).unwrap();
        assert_eq!(first.events.len(), 3);
        let http = scripted(endpoint(vec![same("a"), same("b"), same("c"), same("d")]));
        let second = poll(&http, &conn(), &owner(), &r, &input, first.cursor.as_ref()).unwrap();
        let ids: Vec<&str> = second
            .events
            .iter()
            .map(|e| e.payload["record"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["d"]);
    }

    #[test]
    fn a_workflow_backlog_is_read_in_slices_a_few_requests_a_poll() {
        let http = scripted(endpoint(items(1_000, T0 + 1)));
        let input = Map::from_iter([("since".to_string(), json!(time::format(T0)))]);
        let r = rule(Source::Workflows, Rule::Updated);
        let owner = Owner::trigger("workflow_updated", &conn());
        let (mut cursor, mut ids) = (None, Vec::new());
        for n in 0.. {
            assert!(n < 30, "the backlog never drained");
            http.sent.borrow_mut().clear();
            let polled = poll(&http, &conn(), &owner, &r, &input, cursor.as_ref()).unwrap();
            let sent = http.sent.borrow();
            assert!(
                sent.len() <= slices::MAX_REQUESTS,
                "poll {n}: {}",
                sent.len()
            );
            for req in sent.iter() {
                let q = query(req);
                assert_eq!(q["status"], "active,paused,completed,cancelled");
                assert_eq!(q["pageSize"], "100");
            }
            ids.extend(polled.events.into_iter().map(|e| e.id));
            cursor = polled.cursor;
            if !polled.has_more {
                break;
            }
        }
        assert_eq!(ids.len(), 1_000);
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 1_000, "no duplicates");
        assert!(
            ids.first().unwrap().starts_with("workflow:r0000:"),
            "oldest first: {}",
            ids[0]
        );
    }
}
