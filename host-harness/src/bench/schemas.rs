//! Static data: the catalog embeds every action's input and output JSON Schema as text, and a
//! call should parse only what it needs. Counted with the connector compiled natively (the
//! component runs the same code): schemas parsed by one action call and by `describe`, and
//! what a parse costs against parsing them all.

use std::time::Instant;

use host_harness::native::ExecuteNative;
use ironclad_connector::api_types::clm_public::OPERATIONS;
use ironclad_connector::catalog;
use serde_json::json;

use super::invoke::SMALL_ACTION;
use super::lab::Lab;
use super::report::{Measure, Verdict, duration};

/// An action call needs its own input schema, nothing else.
const PER_CALL_TARGET: u64 = 1;
const PARSE_RUNS: u32 = 20;

pub async fn measure(lab: &Lab) -> anyhow::Result<Vec<Measure>> {
    let session = lab.session().await?;
    let (action, id) = SMALL_ACTION;
    let before = catalog::schemas_parsed();
    session
        .execute_native(action, &json!({ "id": id }))
        .await
        .map_err(|e| anyhow::anyhow!("{action} natively: {e}"))?;
    let per_call = catalog::schemas_parsed() - before;
    let before = catalog::schemas_parsed();
    let manifest = ironclad_connector::describe();
    let by_describe = catalog::schemas_parsed() - before;
    let embedded = 2 * manifest.actions.len();

    let op = catalog::find(action).expect("the small action is a catalog row");
    let started = Instant::now();
    for _ in 0..PARSE_RUNS {
        std::hint::black_box(catalog::schema(op.input_schema));
    }
    let one = started.elapsed() / PARSE_RUNS;
    let started = Instant::now();
    for op in OPERATIONS {
        std::hint::black_box((
            catalog::schema(op.input_schema),
            catalog::schema(op.output_schema),
        ));
    }
    let all = started.elapsed();
    Ok(vec![Measure::new(
        "static data parsed per call",
        format!(
            "{action} parses {per_call} of {embedded} ({} natively; all: {}); describe parses {by_describe}",
            duration(one),
            duration(all)
        ),
        format!("≤ {PER_CALL_TARGET} per action call"),
        Verdict::of(per_call <= PER_CALL_TARGET),
    )])
}
