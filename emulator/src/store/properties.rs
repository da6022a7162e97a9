//! The `{type, value}` properties records, entities and obligations carry: which types exist,
//! what a company defined, and the checks (with normalisation) every write and every seeded
//! object goes through. Refusals are [`PropertyError`]s; the API answers them as Ironclad's
//! `MISSING_PARAM`/`INVALID_PARAM`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::store::time::{self, Duration};

/// The `{type, value}` property types records, entities and obligations accept.
pub const PROPERTY_TYPES: [&str; 8] = [
    "string",
    "number",
    "boolean",
    "date",
    "duration",
    "email",
    "monetary_amount",
    "address",
];

/// A property a company defined: its display name and `{type, value}` type.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertyDef {
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
}

/// A property refused: `missing` when a required part is absent, otherwise invalid; `param`
/// names where (`properties.counterpartyName.value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    pub missing: bool,
    pub message: String,
    pub param: Option<String>,
}

impl PropertyError {
    pub fn invalid(message: impl Into<String>, param: &str) -> Self {
        Self {
            missing: false,
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }

    pub fn missing(message: impl Into<String>, param: &str) -> Self {
        Self {
            missing: true,
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }
}

/// Check `{propertyId: {type, value}}` against the defined properties; `param` prefixes the
/// error param (`properties.counterpartyName`). Returns the normalised map.
pub fn check_properties(
    defs: &BTreeMap<String, PropertyDef>,
    given: &Map<String, Value>,
    param: &str,
) -> Result<Map<String, Value>, PropertyError> {
    let mut out = Map::new();
    for (key, prop) in given {
        let here = format!("{param}.{key}");
        let def = defs
            .get(key)
            .ok_or_else(|| PropertyError::invalid(format!("unknown property {key}"), &here))?;
        out.insert(key.clone(), check_property(&here, prop, &def.kind)?);
    }
    Ok(out)
}

/// Check one `{type, value}` against the property's type; returns it normalised (dates in
/// canonical UTC). `originalValue` (served on amended properties) is accepted and dropped.
pub fn check_property(param: &str, prop: &Value, expected: &str) -> Result<Value, PropertyError> {
    let Value::Object(prop) = prop else {
        return Err(PropertyError::invalid(
            "a property must be an object with type and value",
            param,
        ));
    };
    if let Some(extra) = prop
        .keys()
        .find(|k| !["type", "value", "originalValue"].contains(&k.as_str()))
    {
        return Err(PropertyError::invalid(
            format!("unknown field '{extra}' in property"),
            param,
        ));
    }
    let kind = match prop.get("type") {
        None | Some(Value::Null) => {
            return Err(PropertyError::missing(
                "missing required parameter",
                &format!("{param}.type"),
            ));
        }
        Some(Value::String(k)) => k.as_str(),
        Some(_) => {
            return Err(PropertyError::invalid(
                "type must be a string",
                &format!("{param}.type"),
            ));
        }
    };
    if !PROPERTY_TYPES.contains(&kind) {
        return Err(PropertyError::invalid(
            format!(
                "unsupported property type {kind}; value must be one of [{}]",
                PROPERTY_TYPES.join(", ")
            ),
            &format!("{param}.type"),
        ));
    }
    if kind != expected {
        return Err(PropertyError::invalid(
            format!("property has type {expected}, not {kind}"),
            &format!("{param}.type"),
        ));
    }
    let value = match prop.get("value") {
        None | Some(Value::Null) => {
            return Err(PropertyError::missing(
                "missing required parameter",
                &format!("{param}.value"),
            ));
        }
        Some(v) => v,
    };
    let bad = |why: &str| PropertyError::invalid(why.to_owned(), &format!("{param}.value"));
    let value = match kind {
        "string" => value
            .as_str()
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be a string"))?,
        "number" => value
            .is_number()
            .then(|| value.clone())
            .ok_or_else(|| bad("value must be a number"))?,
        "boolean" => value
            .is_boolean()
            .then(|| value.clone())
            .ok_or_else(|| bad("value must be a boolean"))?,
        "date" => value
            .as_str()
            .and_then(time::normalize)
            .map(Value::String)
            .ok_or_else(|| bad("value must be an ISO-8601 date"))?,
        "duration" => value
            .as_str()
            .filter(|d| Duration::parse(d).is_some())
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be an ISO-8601 duration such as P1Y or P30D"))?,
        "email" => value
            .as_str()
            .filter(|e| is_email(e))
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be an email address"))?,
        "monetary_amount" => check_money(value).ok_or_else(|| {
            bad("value must be {currency (ISO 4217, e.g. USD), amount (number)}")
        })?,
        _ => check_address(value).ok_or_else(|| {
            bad("value must be an address {lines (up to 4), locality, region, postcode, country, raw}")
        })?,
    };
    Ok(json!({ "type": kind, "value": value }))
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !text.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn check_money(value: &Value) -> Option<Value> {
    let map = value.as_object()?;
    let currency = map.get("currency")?.as_str()?;
    let amount = map.get("amount")?;
    (map.len() == 2
        && currency.len() == 3
        && currency.bytes().all(|c| c.is_ascii_uppercase())
        && amount.is_number())
    .then(|| json!({ "currency": currency, "amount": amount }))
}

fn check_address(value: &Value) -> Option<Value> {
    let map = value.as_object()?;
    let mut any = false;
    for (key, v) in map {
        match (key.as_str(), v) {
            ("lines", Value::Array(lines)) if lines.len() <= 4 => {
                if !lines.iter().all(Value::is_string) {
                    return None;
                }
                any |= !lines.is_empty();
            }
            ("locality" | "country" | "region" | "postcode" | "raw", Value::String(s)) => {
                any |= !s.is_empty();
            }
            _ => return None,
        }
    }
    any.then(|| value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_checked_and_normalised() {
        let ok = |v: Value, t: &str| check_property("p", &v, t).unwrap()["value"].clone();
        assert_eq!(
            ok(
                json!({"type": "date", "value": "2018-05-08T00:00:00-07:00"}),
                "date"
            ),
            "2018-05-08T07:00:00.000Z"
        );
        assert_eq!(
            ok(
                json!({"type": "monetary_amount", "value": {"currency": "USD", "amount": 5}}),
                "monetary_amount"
            )["amount"],
            5
        );
        ok(
            json!({"type": "duration", "value": "P10Y3M2W1D"}),
            "duration",
        );
        ok(json!({"type": "address", "value": {"raw": "x"}}), "address");
        for (v, t, param) in [
            (json!({"type": "string"}), "string", "p.value"),
            (json!({"value": "x"}), "string", "p.type"),
            (json!({"type": "number", "value": "1"}), "number", "p.value"),
            (json!({"type": "string", "value": "1"}), "number", "p.type"),
            (
                json!({"type": "email", "value": "nope"}),
                "email",
                "p.value",
            ),
            (
                json!({"type": "duration", "value": "P"}),
                "duration",
                "p.value",
            ),
            (
                json!({"type": "duration", "value": "PT"}),
                "duration",
                "p.value",
            ),
            (json!({"type": "date", "value": "soon"}), "date", "p.value"),
            (
                json!({"type": "monetary_amount", "value": {"currency": "usd", "amount": 1}}),
                "monetary_amount",
                "p.value",
            ),
            (json!({"type": "clause", "value": {}}), "string", "p.type"),
        ] {
            let e = check_property("p", &v, t).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{v}");
        }
    }
}
