//! Generated data for volume tests, which need far more than the seed deliberately holds:
//! records (`POST /_emulator/bulk-records {"count": N}`, a 10,000-record read), and a backlog
//! of workflows or Clickwrap acceptances for the polling triggers
//! (`/_emulator/bulk-workflows`, `/_emulator/bulk-acceptances`, stamped in the past so that a
//! trigger polled from before them finds them all waiting). Records are written through the
//! same checks as `POST /records`; workflows and acceptances are built in the shapes the
//! list endpoints serve, so every list, filter and sort treats them like any other.

use serde_json::{Map, Value, json};

use crate::emulator::Data;
use crate::infra::errors::ApiError;
use crate::store::clickwrap::Fixture;
use crate::store::properties::check_properties;
use crate::store::repository::{NewRecord, Repository};
use crate::store::seed::{Creator, Seed, StepState, Workflow};
use crate::{store::ids, store::time};

/// Most records one call adds; a bigger repository is built with several calls.
pub const MAX_PER_CALL: usize = 100_000;

/// Add `count` contracts named `Bulk Agreement n` with a counterparty, an agreement date
/// (one day apart, going back from 2026-12-31, so a listing's default order has no ties), a
/// value and a term. Returns the new total.
pub fn add_records(repo: &mut Repository, count: usize, now: i64) -> Result<usize, ApiError> {
    if count == 0 || count > MAX_PER_CALL {
        return Err(ApiError::invalid_param(
            format!("count must be 1..={MAX_PER_CALL}, got {count}"),
            "count",
        ));
    }
    let last_day = time::date_ms(2026, 12, 31).expect("a valid date");
    let start = repo.records.len();
    for n in start..start + count {
        let given = map(json!({
            "counterpartyName": { "type": "string", "value": format!("Bulk Counterparty {n}") },
            "agreementDate": { "type": "date", "value": time::format_ms(last_day - n as i64 * time::DAY_MS) },
            "contractValue": { "type": "monetary_amount", "value": { "currency": "USD", "amount": 1_000 + (n % 97) * 250 } },
            "termMonths": { "type": "number", "value": 12 + (n % 3) * 12 },
        }));
        let properties = check_properties(&repo.schema.properties, &given, "properties")?;
        repo.add_record(
            ids::uuid(),
            NewRecord {
                kind: "contract".into(),
                name: format!("Bulk Agreement {n}"),
                properties,
                attachments: Map::new(),
                parent: None,
                properties_to_amend: Vec::new(),
                source: None,
            },
            now,
        );
    }
    Ok(repo.records.len())
}

/// How a generated backlog is stamped: `count` items, `per_instant` of them sharing each
/// millisecond, instants `spacing_ms` apart, the last one `spacing_ms` before `now` (so every
/// later write is stamped after the whole backlog).
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    pub count: usize,
    pub per_instant: usize,
    pub spacing_ms: i64,
}

impl Backlog {
    /// `{"count": N, "per_instant": K (default 1), "spacing_ms": S (default 1000)}`.
    pub fn from_json(body: &Value) -> Result<Self, ApiError> {
        let count = body["count"].as_u64().unwrap_or(0) as usize;
        if count == 0 || count > MAX_PER_CALL {
            return Err(ApiError::invalid_param(
                format!("count must be 1..={MAX_PER_CALL}"),
                "count",
            ));
        }
        let per_instant = body["per_instant"].as_u64().unwrap_or(1).max(1) as usize;
        let spacing_ms = body["spacing_ms"].as_i64().unwrap_or(1_000).max(1);
        Ok(Backlog {
            count,
            per_instant,
            spacing_ms,
        })
    }

    /// The stamp of item `n`, oldest first.
    fn stamp(&self, n: usize, now: i64) -> i64 {
        let instants = self.count.div_ceil(self.per_instant) as i64;
        now - (instants - (n / self.per_instant) as i64) * self.spacing_ms
    }

    /// `{"added", "first", "last"}`: what a control answers.
    fn answer(&self, now: i64) -> Value {
        json!({ "added": self.count, "first": time::format_ms(self.stamp(0, now)),
                "last": time::format_ms(self.stamp(self.count - 1, now)) })
    }
}

/// Add a backlog of active workflows of the seed's first template, each created and last
/// updated at its stamp, numbered after the highest `IC-n`.
pub fn add_workflows(data: &mut Data, seed: &Seed, backlog: Backlog) -> Value {
    let now = data.tick();
    let template = &seed.templates[0];
    let creator = Creator::from_user(&seed.users[0]);
    let mut number = data
        .workflows
        .iter()
        .filter_map(|w| w.ironclad_id.strip_prefix("IC-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    data.workflows.reserve(backlog.count);
    for n in 0..backlog.count {
        number += 1;
        let stamp = time::format_ms(backlog.stamp(n, now));
        data.workflows.push(Workflow {
            id: ids::object_id(),
            ironclad_id: format!("IC-{number}"),
            title: format!("{} with Backlog Counterparty {n}", template.name),
            template: template.id.clone(),
            step: "Review".into(),
            schema: Map::new(),
            attributes: map(json!({ "counterpartyName": format!("Backlog Counterparty {n}") })),
            is_cancelled: false,
            is_complete: false,
            status: "active".into(),
            creator: creator.clone(),
            created: stamp.clone(),
            last_updated: stamp,
            roles: Vec::new(),
            approvals: StepState::NotStarted,
            signatures: StepState::NotStarted,
            is_revertible_to_review: false,
            record_ids: Vec::new(),
        });
    }
    backlog.answer(now)
}

/// Add a backlog of `agreed` activity: signers `backlog-n@example.com` accepting the Terms
/// in the fixture's site and group.
pub fn add_acceptances(data: &mut Data, backlog: Backlog) -> Value {
    let now = data.tick();
    let activity = &mut data.clickwrap.activity;
    activity.reserve(backlog.count);
    for n in 0..backlog.count {
        activity.push(json!({ "id": ids::object_id(), "signer_id": format!("backlog-{n}@example.com"),
            "event_type": "agreed", "contract": Fixture::TERMS_ID, "version": Fixture::TERMS_VERSION,
            "group": Fixture::GROUP_ID, "site": Fixture::SITE_ID,
            "created_time": time::format_ms(backlog.stamp(n, now)), "custom_data": {},
            "connection_data": {}, "test_mode": false }));
    }
    backlog.answer(now)
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("built as an object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_is_stamped_oldest_first_before_now() {
        let backlog =
            Backlog::from_json(&json!({ "count": 5, "per_instant": 2, "spacing_ms": 10 })).unwrap();
        let stamps: Vec<i64> = (0..5).map(|n| backlog.stamp(n, 1_000)).collect();
        assert_eq!(stamps, [970, 970, 980, 980, 990]);
        let one = Backlog::from_json(&json!({ "count": 3 })).unwrap();
        assert_eq!(one.stamp(2, 10_000), 9_000, "one a second by default");
        assert!(Backlog::from_json(&json!({ "count": 0 })).is_err());
    }
}
