//! Generated records for volume tests (`POST /_emulator/bulk-records {"count": N}`): a bulk
//! read of 10,000 records needs a repository that size, which the seed deliberately is not.
//! The records are ordinary contracts, written through the same checks as `POST /records`,
//! so every list, filter and sort treats them like any other record.

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::records::{NewRecord, Repository, check_properties};
use crate::{ids, time};

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

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("built as an object literal"),
    }
}
