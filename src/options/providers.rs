//! The connector's own pick lists, which read no API and belong to no API type, and what
//! every provider shares. The providers that read an API live with their API type
//! (`api_types::*::options`).

use serde_json::Value;

use super::{Choice, Page, Provider, Request};
use crate::error::ConnectorError;

/// The params schema of a provider that takes none.
pub const NO_PARAMS: &str = r#"{"type":"object","additionalProperties":false,"properties":{}}"#;

pub static PROVIDERS: &[Provider] = &[Provider {
    key: "regions",
    description: "Ironclad regions of the connection form.",
    params: NO_PARAMS,
    scopes: &[],
    list: regions,
}];

pub fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn regions(req: &Request) -> Result<Page, ConnectorError> {
    let schema: Value = serde_json::from_str(crate::config::CONNECTION_SCHEMA)
        .map_err(|e| ConnectorError::internal(format!("connection schema: {e}")))?;
    let region = &schema["properties"]["region"];
    // `x-enum-labels` runs parallel to `enum`.
    let all = region["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, r)| {
            let r = r.as_str()?;
            Some(Choice::new(
                r,
                region["x-enum-labels"][i].as_str().unwrap_or(r),
            ))
        })
        .collect();
    Ok(Page::slice(all, req.page))
}
