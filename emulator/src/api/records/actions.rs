//! `POST /records/{id}/actions`: contract lifecycle actions (activate, terminate, supersede,
//! extend, renewal edits, undo) and the `contractStatus` they leave.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::APPLY_CONTRACT_ACTION;
use crate::api::body::{json_object, reject_unknown};
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::properties::check_property;
use crate::store::repository::{Record, Snapshot};
use crate::store::time;
use crate::store::time::Duration;

const ACTIONS: [&str; 7] = [
    "activate",
    "terminate",
    "supersede",
    "extend",
    "cancelAutoRenewal",
    "editRenewal",
    "undo",
];
const RENEWAL_TYPES: [&str; 5] = [
    "Auto-Renew",
    "Optional Extension",
    "Evergreen",
    "None",
    "Other",
];

pub(super) async fn run_action(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(APPLY_CONTRACT_ACTION)?;
    let body = json_object(&body)?;
    let action = ContractAction::parse(&body)?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let index = repo
        .find_record(&key)
        .ok_or_else(|| ApiError::not_found("no obligations found", Some("id")))?;
    for (param, value) in &action.properties {
        if param.ends_with("RecordId") {
            let target = value["value"].as_str().unwrap_or_default();
            if repo.find_record(target).is_none() {
                return Err(ApiError::invalid_param(
                    format!("couldn't find a record matching the id {target}"),
                    param,
                ));
            }
        }
    }
    let mut record = repo.records[index].clone();
    apply_action(&mut record, &action, now)?;
    record.last_updated = time::format_ms(now);
    let status = |r: &Record| r.contract_status.as_ref().map(|s| s["status"].clone());
    let changed = (status(&record) != status(&repo.records[index]))
        .then(|| Event::record(Kind::RecordContractStatusChanged, &record.id));
    repo.records[index] = record;
    data.emit(changed);
    Ok(Json(action.echo()))
}

/// A validated `ContractAction`.
struct ContractAction {
    kind: String,
    /// Normalised `{type, value}` properties (absent for `cancelAutoRenewal`).
    properties: Map<String, Value>,
}

impl ContractAction {
    fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        reject_unknown(body, &["type", "properties"])?;
        let kind = match body.get("type") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required attribute",
                    "type",
                ));
            }
            Some(Value::String(k)) if ACTIONS.contains(&k.as_str()) => k.clone(),
            Some(other) => {
                return Err(ApiError::invalid_param(
                    format!(
                        "unknown contract action type {}; value must be one of [{}]",
                        other,
                        ACTIONS.join(", ")
                    ),
                    "type",
                ));
            }
        };
        // (property, type, required)
        let renewal: [(&str, &str, bool); 6] = [
            ("standard_renewalsRemaining", "number", false),
            ("standard_renewalOptOutDate", "date", false),
            ("standard_renewalOptOutPeriod", "duration", false),
            ("standard_renewalTermLength", "duration", false),
            ("standard_renewalType", "string", true),
            ("otherRenewalType", "string", false),
        ];
        let effective: [(&str, &str, bool); 2] = [
            ("standard_initialTermLength", "duration", false),
            ("expirationDate", "date", false),
        ];
        let allowed: Vec<(&str, &str, bool)> = match kind.as_str() {
            "activate" => [
                ("standard_terminationNoticePeriod", "duration", false),
                ("effectiveDate", "date", false),
            ]
            .into_iter()
            .chain(renewal)
            .chain(effective)
            .collect(),
            "editRenewal" => renewal.into_iter().chain(effective).collect(),
            "terminate" => vec![
                ("standard_terminatedDate", "date", true),
                ("standard_terminationEffectiveDate", "date", true),
                ("standard_terminatingRecordId", "string", false),
            ],
            "supersede" => vec![
                ("standard_supersededDate", "date", true),
                ("standard_supersessionEffectiveDate", "date", true),
                ("standard_supersedingRecordId", "string", false),
            ],
            "extend" => vec![("standard_renewalTermLength", "duration", false)],
            "undo" => vec![("standard_undoObligationAction", "string", true)],
            _ => Vec::new(),
        };
        let given = match body.get("properties") {
            None | Some(Value::Null) if kind == "cancelAutoRenewal" => Map::new(),
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required attribute",
                    "properties",
                ));
            }
            Some(Value::Object(p)) => p.clone(),
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "properties must be an object",
                    "properties",
                ));
            }
        };
        let mut properties = Map::new();
        for (name, value) in &given {
            let Some((_, kind_of, _)) = allowed.iter().find(|(n, _, _)| n == name) else {
                return Err(ApiError::invalid_param(
                    format!("property {name} is not accepted by the {kind} action"),
                    name,
                ));
            };
            properties.insert(name.clone(), check_property(name, value, kind_of)?);
        }
        if let Some((name, _, _)) = allowed
            .iter()
            .find(|(n, _, required)| *required && !properties.contains_key(*n))
        {
            return Err(ApiError::missing_param("missing required attribute", name));
        }
        let enum_check = |name: &str, allowed: &[&str]| match properties.get(name) {
            Some(p) if !allowed.contains(&p["value"].as_str().unwrap_or_default()) => {
                Err(ApiError::invalid_param(
                    format!(
                        "invalid value {}; value must be one of [{}]",
                        p["value"],
                        allowed.join(", ")
                    ),
                    name,
                ))
            }
            _ => Ok(()),
        };
        enum_check("standard_renewalType", &RENEWAL_TYPES)?;
        enum_check("standard_undoObligationAction", &ACTIONS)?;
        Ok(Self { kind, properties })
    }

    fn echo(&self) -> Value {
        if self.kind == "cancelAutoRenewal" && self.properties.is_empty() {
            json!({ "type": self.kind })
        } else {
            json!({ "type": self.kind, "properties": self.properties })
        }
    }
}

fn invalid_state(message: impl Into<String>, param: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
        message,
        Some(param),
    )
}

/// The lifecycle effect of an action on a record: its properties and `contractStatus`.
fn apply_action(record: &mut Record, action: &ContractAction, now: i64) -> Result<(), ApiError> {
    let status = record
        .contract_status
        .as_ref()
        .and_then(|s| s["status"].as_str())
        .unwrap_or("indeterminate")
        .to_owned();
    let before = Snapshot {
        action: action.kind.clone(),
        properties: record.properties.clone(),
        contract_status: record.contract_status.clone(),
    };
    let kind = action.kind.as_str();
    match kind {
        "undo" => {
            let target = action.properties["standard_undoObligationAction"]["value"]
                .as_str()
                .unwrap_or_default();
            let Some(last) = record.history.last() else {
                return Err(invalid_state(
                    "there is no contract action to undo",
                    "standard_undoObligationAction",
                ));
            };
            if last.action != target {
                return Err(invalid_state(
                    format!(
                        "the most recent contract action is {}, not {target}",
                        last.action
                    ),
                    "standard_undoObligationAction",
                ));
            }
            let last = record.history.pop().expect("checked");
            record.properties = last.properties;
            record.contract_status = last.contract_status;
            return Ok(());
        }
        "activate" if status == "active" => {
            return Err(invalid_state("the contract is already active", "type"));
        }
        "activate" => {}
        _ if status != "active" => {
            return Err(invalid_state(
                format!("the contract is not active ({status})"),
                "type",
            ));
        }
        _ => {}
    }
    let renewal_type = |r: &Record| {
        r.properties
            .get("standard_renewalType")
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    match kind {
        "cancelAutoRenewal" => {
            if renewal_type(record).as_deref() != Some("Auto-Renew") {
                return Err(invalid_state(
                    "the contract does not auto-renew",
                    "standard_renewalType",
                ));
            }
            record.properties.insert(
                "standard_renewalType".into(),
                json!({ "type": "string", "value": "None" }),
            );
        }
        "extend" => {
            record.properties.extend(action.properties.clone());
            let term = record
                .properties
                .get("standard_renewalTermLength")
                .and_then(|p| p["value"].as_str())
                .and_then(Duration::parse)
                .ok_or_else(|| {
                    ApiError::missing_param(
                        "missing required attribute",
                        "standard_renewalTermLength",
                    )
                })?;
            let expiration = date_property(record, "expirationDate").ok_or_else(|| {
                invalid_state(
                    "the contract has no expiration date to extend",
                    "expirationDate",
                )
            })?;
            let extended = term.add_to(expiration).ok_or_else(|| {
                invalid_state(
                    "the extended expiration date is past the year 9999",
                    "standard_renewalTermLength",
                )
            })?;
            record.properties.insert(
                "expirationDate".into(),
                json!({ "type": "date", "value": time::format_ms(extended) }),
            );
        }
        _ => record.properties.extend(action.properties.clone()),
    }
    record.contract_status = Some(match kind {
        "terminate" => ending_status(
            date_property(record, "standard_terminationEffectiveDate"),
            now,
            "terminating",
            "Terminating",
            "Terminated",
        ),
        "supersede" => ending_status(
            date_property(record, "standard_supersessionEffectiveDate"),
            now,
            "superseding",
            "Superseding",
            "Superseded",
        ),
        _ => lifecycle_status(record, now),
    });
    record.history.push(before);
    Ok(())
}

fn date_property(record: &Record, name: &str) -> Option<i64> {
    record
        .properties
        .get(name)
        .and_then(|p| p["value"].as_str())
        .and_then(time::parse)
}

/// `contractStatus` of an active (or activating) contract from its lifecycle properties.
fn lifecycle_status(record: &Record, now: i64) -> Value {
    let effective = date_property(record, "effectiveDate");
    let expiration = date_property(record, "expirationDate");
    let renewal = record
        .properties
        .get("standard_renewalType")
        .and_then(|p| p["value"].as_str())
        .unwrap_or("None");
    if let Some(at) = effective.filter(|at| *at > now) {
        return status_value(
            "inactive",
            "activating",
            Some(at),
            Some(format!("Activating on {}", human_date(at))),
        );
    }
    match (renewal, expiration) {
        ("Evergreen", _) => status_value("active", "evergreen", effective, None),
        ("Auto-Renew", Some(at)) => status_value(
            "active",
            "auto-renewing",
            Some(at),
            Some(format!("Auto-renewing on {}", human_date(at))),
        ),
        ("Auto-Renew", None) => status_value("active", "auto-renewing", effective, None),
        (_, Some(at)) if at <= now => status_value(
            "inactive",
            "inactive",
            Some(at),
            Some(format!("Expired on {}", human_date(at))),
        ),
        (_, Some(at)) => status_value(
            "active",
            "expiring",
            Some(at),
            Some(format!("Expiring on {}", human_date(at))),
        ),
        (_, None) => status_value("active", "active", effective, None),
    }
}

/// `contractStatus` after a termination or supersession taking effect at `at`.
fn ending_status(at: Option<i64>, now: i64, pending: &str, soon: &str, done: &str) -> Value {
    match at {
        Some(at) if at > now => status_value(
            "active",
            pending,
            Some(at),
            Some(format!("{soon} on {}", human_date(at))),
        ),
        _ => {
            let at = at.unwrap_or(now);
            status_value(
                "inactive",
                "inactive",
                Some(at),
                Some(format!("{done} on {}", human_date(at))),
            )
        }
    }
}

fn status_value(status: &str, enhanced: &str, at: Option<i64>, message: Option<String>) -> Value {
    let mut v = json!({ "status": status, "enhancedStatus": enhanced });
    if let Some(at) = at {
        v["eventDate"] = json!(time::format_ms(at));
    }
    if let Some(m) = message {
        v["message"] = json!(m);
    }
    v
}

/// `Dec 13, 2026`.
fn human_date(ms: i64) -> String {
    time::utc(ms).strftime("%b %-d, %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_calendar_wise() {
        let d = Duration::parse("P1M").unwrap();
        let jan31 = time::parse("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(
            time::format_ms(d.add_to(jan31).unwrap()),
            "2026-02-28T00:00:00.000Z"
        );
        let y = Duration::parse("P1Y2W").unwrap();
        assert_eq!(
            time::format_ms(y.add_to(time::parse("2026-12-13").unwrap()).unwrap()),
            "2027-12-27T00:00:00.000Z"
        );
        assert_eq!(
            y.add_to(time::parse("9998-12-31").unwrap()),
            None,
            "past 9999"
        );
        assert!(Duration::parse("P1D2Y").is_none());
        assert!(Duration::parse("1Y").is_none());
        assert_eq!(
            human_date(time::parse("2024-07-02").unwrap()),
            "Jul 2, 2024"
        );
    }
}
