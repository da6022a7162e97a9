//! Records as served: `RecordModel` with derived links, amendment roll-ups, attachment hrefs
//! and remaining durations.

use serde_json::{Map, Value, json};

use crate::store::repository::{Record, Repository};
use crate::store::time;

/// `RecordModel` with addresses as objects: links, parent/children, amendment roll-ups,
/// absolute attachment hrefs and the remaining duration of the contract status.
pub(super) fn render(repo: &Repository, record: &Record, base_url: &str, now: i64) -> Value {
    let children: Vec<&Record> = repo
        .records
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(record.id.as_str()))
        .collect();
    render_with(record, &children, base_url, now)
}

/// The children that are amendments, in store order.
fn amendments_of<'a>(children: &[&'a Record]) -> Vec<&'a Record> {
    children
        .iter()
        .copied()
        .filter(|r| r.parent_link_type.as_deref() == Some("amendment"))
        .collect()
}

/// A property `{type, value}` as served: the last amendment among `children` rolling it up
/// wins over the record's own value (see [`render_with`]).
pub(super) fn served_property<'a>(
    record: &'a Record,
    children: &[&'a Record],
    key: &str,
) -> Option<&'a Value> {
    children
        .iter()
        .rev()
        .filter(|a| a.parent_link_type.as_deref() == Some("amendment"))
        .filter(|a| a.properties_to_amend.iter().any(|k| k == key))
        .find_map(|a| a.properties.get(key))
        .or_else(|| record.properties.get(key))
}

/// [`render`] with the record's children already found.
pub(super) fn render_with(
    record: &Record,
    children: &[&Record],
    base_url: &str,
    now: i64,
) -> Value {
    let mut properties = record.properties.clone();
    let amendments = amendments_of(children);
    for amendment in &amendments {
        for key in &amendment.properties_to_amend {
            let Some(amended) = amendment.properties.get(key) else {
                continue;
            };
            let mut rolled = json!({ "type": amended["type"], "value": amended["value"] });
            if let Some(own) = record.properties.get(key) {
                rolled["originalValue"] = own["value"].clone();
            }
            properties.insert(key.clone(), rolled);
        }
    }
    let attachments: Map<String, Value> = record
        .attachments
        .iter()
        .map(|(key, a)| {
            let mut a = a.clone();
            a["href"] = json!(format!(
                "{base_url}/public/api/v1/records/{}/attachments/{key}",
                record.id
            ));
            (key.clone(), a)
        })
        .collect();
    let mut v = json!({
        "id": record.id,
        "ironcladId": record.ironclad_id,
        "type": record.kind,
        "name": record.name,
        "lastUpdated": record.last_updated,
        "properties": properties,
        "attachments": attachments,
        "links": record.links.iter().map(|l| json!({ "recordId": l })).collect::<Vec<_>>(),
    });
    if let Some(parent) = &record.parent_id {
        v["parentId"] = json!(parent);
    }
    if let Some(t) = &record.parent_link_type {
        v["parentLinkType"] = json!(t);
    }
    if !children.is_empty() {
        v["childIds"] = json!(children.iter().map(|c| &c.id).collect::<Vec<_>>());
    }
    if let Some(mut status) = record.contract_status.clone() {
        if let Some(at) = status["eventDate"].as_str().and_then(time::parse)
            && at > now
        {
            let days = (at - now + time::DAY_MS - 1) / time::DAY_MS;
            status["remainingDuration"] = json!(format!("P{days}D"));
        }
        v["contractStatus"] = status;
    }
    if let Some(source) = &record.source {
        v["source"] = source.clone();
    }
    if !amendments.is_empty() {
        v["amendments"] = json!(
            amendments
                .iter()
                .map(|a| &a.ironclad_id)
                .collect::<Vec<_>>()
        );
    }
    v
}

/// Addresses become strings unless `addressAsObject=true`.
pub(super) fn present(mut record: Value, as_object: bool) -> Value {
    if !as_object && let Some(props) = record["properties"].as_object_mut() {
        for prop in props.values_mut() {
            if prop["type"] == "address" {
                for key in ["value", "originalValue"] {
                    if prop[key].is_object() {
                        prop[key] = json!(address_text(&prop[key]));
                    }
                }
            }
        }
    }
    record
}

/// `1 Contoso Way, Building 4, Redmond, WA 98052, US` (or `raw` when that is all there is).
pub fn address_text(address: &Value) -> String {
    let text = |k: &str| address[k].as_str().unwrap_or_default().trim().to_owned();
    let mut parts: Vec<String> = address["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    parts.push(text("locality"));
    parts.push(
        format!("{} {}", text("region"), text("postcode"))
            .trim()
            .to_owned(),
    );
    parts.push(text("country"));
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        text("raw")
    } else {
        parts.join(", ")
    }
}

/// A `[property]` of a rendered record for filters: its properties' values first, then
/// top-level fields (`contractStatus` is its `status`, `enhancedStatus` its sub-status).
pub(super) fn lookup_record(record: &Value, property: &str) -> Option<Value> {
    if let Some(p) = record["properties"].get(property) {
        return Some(p["value"].clone());
    }
    match property {
        "contractStatus" => record["contractStatus"].get("status").cloned(),
        "enhancedStatus" => record["contractStatus"].get("enhancedStatus").cloned(),
        other => record.get(other).cloned(),
    }
}

impl Repository {
    /// `RecordModel` of the record `key` names, as `GET /records/{id}` serves it.
    pub fn render_record(
        &self,
        key: &str,
        base_url: &str,
        now: i64,
        as_object: bool,
    ) -> Option<Value> {
        let record = self.record(key)?;
        Some(present(render(self, record, base_url, now), as_object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_render_as_text() {
        assert_eq!(
            address_text(
                &json!({"lines": ["1 Main St"], "locality": "Springfield", "region": "IL", "postcode": "62701", "country": "US"})
            ),
            "1 Main St, Springfield, IL 62701, US"
        );
        assert_eq!(address_text(&json!({"raw": "somewhere"})), "somewhere");
    }
}
