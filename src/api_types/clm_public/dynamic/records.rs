//! The records schema (`GET /records/metadata`) as JSON Schema: record types as an enum, and
//! each property `{type, value}` typed by its property type. Ironclad's records schema lists
//! properties for the whole repository, not per record type, so every type gets them all.

use serde_json::{Map, Value, json};

/// The schema of a property's `value` for a records-schema property type.
pub fn value_schema(kind: &str) -> Value {
    match kind {
        "string" | "playbookClause" => json!({ "type": "string" }),
        "number" => json!({ "type": "number" }),
        "boolean" => json!({ "type": "boolean" }),
        "date" => json!({ "type": "string", "format": "date" }),
        "duration" => {
            json!({ "type": "string", "description": "ISO-8601 duration, e.g. P1Y or P30D." })
        }
        "email" => json!({ "type": "string", "format": "email" }),
        "monetary_amount" => json!({
            "type": "object", "required": ["currency", "amount"],
            "properties": { "currency": { "type": "string", "minLength": 3, "maxLength": 3 },
                            "amount": { "type": "number" } }
        }),
        "address" => json!({
            "description": "A string, or an object with `addressAsObject`.",
            "anyOf": [{ "type": "string" }, { "type": "object", "properties": {
                "lines": { "type": "array", "maxItems": 4, "items": { "type": "string" } },
                "locality": { "type": "string" }, "region": { "type": "string" },
                "postcode": { "type": "string" }, "country": { "type": "string" } } }]
        }),
        "array" => json!({ "type": "array", "minItems": 1, "items": { "type": "string" } }),
        "reference" => json!({ "type": "object", "required": ["recordId"],
                               "properties": { "recordId": { "type": "string" } } }),
        "clause" => json!({ "type": "object" }),
        _ => json!({}),
    }
}

/// `{propertyId: {type, value}}` for every property of the records schema. `output` adds the
/// `originalValue` Ironclad returns on amended properties and allows properties the schema no
/// longer lists (old records keep them).
pub fn properties_schema(meta: &Value, output: bool) -> Value {
    let properties: Map<String, Value> = meta["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, p)| {
            let kind = p["type"].as_str().unwrap_or_default();
            let value = value_schema(kind);
            let mut entry = json!({
                "type": "object",
                "title": p["displayName"].as_str().unwrap_or(id),
                "description": format!("Record property `{id}` ({kind})."),
                "required": ["type", "value"],
                "properties": { "type": { "const": kind }, "value": value.clone() },
            });
            if output {
                entry["properties"]["originalValue"] = value;
            } else {
                entry["additionalProperties"] = json!(false);
            }
            (id.clone(), entry)
        })
        .collect();
    json!({
        "type": "object",
        "description": "Record properties from the records schema (GET /records/metadata).",
        "additionalProperties": output,
        "properties": properties,
    })
}

/// The record types as an enum with their display names.
pub fn type_schema(meta: &Value) -> Value {
    let types = meta["recordTypes"].as_object();
    let keys: Vec<&String> = types.into_iter().flat_map(|t| t.keys()).collect();
    let labels: Vec<&str> = types
        .into_iter()
        .flat_map(|t| t.iter())
        .map(|(k, t)| t["displayName"].as_str().unwrap_or(k))
        .collect();
    json!({ "type": "string", "enum": keys, "x-enum-labels": labels,
            "x-options": { "provider": "record_types", "params": {} } })
}

/// The property ids, for `removeProperties`.
pub fn property_ids(meta: &Value) -> Value {
    let ids: Vec<&String> = meta["properties"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.keys())
        .collect();
    json!({ "type": "string", "enum": ids })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::validate;

    fn meta() -> Value {
        json!({ "recordTypes": { "contract": { "displayName": "Contract" } },
                "properties": { "contractValue": { "displayName": "Value", "type": "monetary_amount" },
                                "agreementDate": { "displayName": "Date", "type": "date" } } })
    }

    #[test]
    fn properties_are_typed_and_unknown_ones_refused_on_input() {
        let schema = properties_schema(&meta(), false);
        validate(
            &schema,
            &json!({ "agreementDate": { "type": "date", "value": "2026-01-01T00:00:00Z" } }),
        )
        .unwrap();
        let bad = |v: Value| validate(&schema, &v).unwrap_err().pointer;
        assert_eq!(
            bad(
                json!({ "contractValue": { "type": "monetary_amount", "value": { "amount": 1 } } })
            ),
            "/contractValue/value/currency"
        );
        assert_eq!(
            bad(json!({ "agreementDate": { "type": "string", "value": "x" } })),
            "/agreementDate/type"
        );
        assert_eq!(
            bad(json!({ "bogus": { "type": "string", "value": "x" } })),
            "/bogus"
        );
        let out = properties_schema(&meta(), true);
        validate(&out, &json!({ "bogus": 1 })).unwrap();
    }

    #[test]
    fn types_are_an_enum() {
        let t = type_schema(&meta());
        assert_eq!(t["enum"], json!(["contract"]));
        assert_eq!(t["x-enum-labels"], json!(["Contract"]));
        assert!(validate(&t, &json!("nda")).is_err());
    }
}
