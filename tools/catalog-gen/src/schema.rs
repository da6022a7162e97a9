//! Turning OpenAPI 3.1 schema objects into self-contained JSON Schema 2020-12.
//!
//! The connector ships schemas as text and validates against them with a small in-crate
//! validator, so every `$ref` is inlined (nothing to resolve at run time), vendor noise is
//! dropped (`example`, `x-*`, `discriminator`: they cost bytes and mean nothing to a validator)
//! and OpenAPI's `nullable` becomes a standard `type` array.

use crate::spec::Spec;
use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

/// Keywords kept verbatim (their values are data, or scalars, never nested schemas).
const VALUE_KEYWORDS: &[&str] = &[
    "type",
    "required",
    "enum",
    "const",
    "description",
    "title",
    "default",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "readOnly",
    "writeOnly",
    "deprecated",
];

/// Keywords whose value is a single schema (or `true`/`false`).
const SCHEMA_KEYWORDS: &[&str] = &["items", "additionalProperties"];

/// Keywords whose value is a list of schemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["oneOf", "anyOf", "allOf"];

/// Ironclad's spec closes some objects that name no property of their own and take their
/// shape from a combinator (`CreatorModel`: `additionalProperties: false` beside a `oneOf`
/// of closed objects). In JSON Schema that refuses every property, so no input could pass;
/// the branches are closed already, and the outer keyword is dropped.
fn drop_closed_combinator(schema: &mut Map<String, Value>) {
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    let names_none = !schema.contains_key("properties");
    if closed && names_none && SCHEMA_LIST_KEYWORDS.iter().any(|k| schema.contains_key(*k)) {
        schema.remove("additionalProperties");
    }
}

/// Inlines refs and strips a schema down to the keywords the connector understands.
pub struct Cleaner<'a> {
    spec: &'a Spec,
    /// Refs being inlined right now, outermost first: meeting one again means a cycle.
    stack: Vec<String>,
}

impl<'a> Cleaner<'a> {
    pub fn new(spec: &'a Spec) -> Self {
        Cleaner {
            spec,
            stack: Vec::new(),
        }
    }

    /// A cleaned, self-contained copy of `schema`.
    pub fn clean(&mut self, schema: &Value) -> Result<Value> {
        match schema {
            Value::Object(map) if map.contains_key("$ref") => self.clean_ref(map),
            Value::Object(map) => self.clean_object(map).map(Value::Object),
            // `true` / `false` are valid schemas in 2020-12; anything else is a spec error.
            Value::Bool(_) => Ok(schema.clone()),
            other => Err(anyhow!("not a schema: {other}")),
        }
    }

    /// Inline a `$ref`. OpenAPI 3.1 allows siblings next to `$ref` (typically a local
    /// `description`); they are laid over the target so the local wording wins.
    fn clean_ref(&mut self, map: &Map<String, Value>) -> Result<Value> {
        let reference = map["$ref"]
            .as_str()
            .ok_or_else(|| anyhow!("$ref is not a string: {}", map["$ref"]))?;
        let siblings = map.iter().filter(|(k, _)| k.as_str() != "$ref");
        if self.stack.iter().any(|r| r == reference) {
            // A recursive type (a tree, a linked item): inlining again would never end, so
            // the recursion point accepts anything.
            let rest: Map<String, Value> = siblings.map(|(k, v)| (k.clone(), v.clone())).collect();
            return self.clean_object(&rest).map(Value::Object);
        }
        let target = self.spec.lookup(reference)?;
        let merged = match target {
            Value::Object(t) => {
                let mut merged = t.clone();
                merged.extend(siblings.map(|(k, v)| (k.clone(), v.clone())));
                Value::Object(merged)
            }
            other => other.clone(),
        };
        self.stack.push(reference.to_string());
        let cleaned = self.clean(&merged);
        self.stack.pop();
        cleaned
    }

    fn clean_object(&mut self, map: &Map<String, Value>) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        // Iterate the input so the output keeps the spec's keyword order.
        for (key, value) in map {
            let key = key.as_str();
            if key == "properties" {
                out.insert(key.into(), Value::Object(self.clean_properties(value)?));
            } else if SCHEMA_KEYWORDS.contains(&key) {
                out.insert(key.into(), self.clean(value)?);
            } else if SCHEMA_LIST_KEYWORDS.contains(&key) {
                out.insert(key.into(), self.clean_list(value)?);
            } else if key == "required" {
                // OpenAPI 2-style `required: true` on a property is not JSON Schema; drop it.
                if value.is_array() {
                    out.insert(key.into(), value.clone());
                }
            } else if VALUE_KEYWORDS.contains(&key) {
                out.insert(key.into(), value.clone());
            }
        }
        if map.get("nullable") == Some(&Value::Bool(true)) {
            make_nullable(&mut out);
        }
        drop_closed_combinator(&mut out);
        Ok(out)
    }

    /// `properties` maps names to schemas; the names themselves are data (Ironclad has
    /// properties called `type`, `required` and `default`), so they are never filtered.
    fn clean_properties(&mut self, value: &Value) -> Result<Map<String, Value>> {
        let props = value
            .as_object()
            .ok_or_else(|| anyhow!("`properties` is not an object"))?;
        props
            .iter()
            .map(|(name, schema)| Ok((name.clone(), self.clean(schema)?)))
            .collect()
    }

    fn clean_list(&mut self, value: &Value) -> Result<Value> {
        let list = value
            .as_array()
            .ok_or_else(|| anyhow!("expected a list of schemas, got {value}"))?;
        list.iter()
            .map(|s| self.clean(s))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)
    }
}

/// OpenAPI 3.0's `nullable: true` in 2020-12 terms: `"null"` joins `type`, and `enum` if
/// there is one (an enum would otherwise still reject null). Without a `type` the schema
/// already accepts null, so there is nothing to add.
fn make_nullable(schema: &mut Map<String, Value>) {
    let null = Value::String("null".into());
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = Value::String(std::mem::take(t));
            schema.insert("type".into(), Value::Array(vec![t, null.clone()]));
        }
        Some(Value::Array(types)) if !types.contains(&null) => types.push(null.clone()),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

/// Whether a cleaned schema describes a JSON object: `type: object`, or untyped with
/// `properties`, or a `oneOf`/`anyOf` whose every branch is an object (Ironclad's signer
/// union), or an `allOf` with an object part.
pub fn is_object(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    if let Some(t) = map.get("type") {
        return t == "object";
    }
    if map.contains_key("properties") {
        return true;
    }
    let branches = |k: &str| {
        map.get(k)
            .and_then(Value::as_array)
            .filter(|b| !b.is_empty())
    };
    if let Some(b) = branches("oneOf").or_else(|| branches("anyOf")) {
        return b.iter().all(is_object);
    }
    branches("allOf").is_some_and(|b| b.iter().any(is_object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_with(schemas: Value) -> Spec {
        Spec::from_value(json!({"components": {"schemas": schemas}}))
    }

    #[test]
    fn refs_are_inlined_and_cycles_become_empty() {
        let spec = spec_with(json!({
            "Node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            }},
        }));
        let cleaned = Cleaner::new(&spec)
            .clean(&json!({"$ref": "#/components/schemas/Node"}))
            .unwrap();
        assert_eq!(
            cleaned,
            json!({"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {}},
            }})
        );
    }

    #[test]
    fn a_closed_object_shaped_by_its_one_of_accepts_what_a_branch_accepts() {
        let spec = spec_with(
            json!({"Email": {"type": "object", "additionalProperties": false,
            "properties": {"email": {"type": "string"}}}}),
        );
        let creator = json!({"type": "object", "additionalProperties": false,
            "oneOf": [{"$ref": "#/components/schemas/Email"}]});
        let cleaned = Cleaner::new(&spec).clean(&creator).unwrap();
        assert_eq!(cleaned.get("additionalProperties"), None);
        assert_eq!(cleaned["oneOf"][0]["additionalProperties"], false);
        // An object naming its properties stays closed.
        let named = json!({"type": "object", "additionalProperties": false,
            "properties": {"a": {}}, "oneOf": [{"required": ["a"]}]});
        let cleaned = Cleaner::new(&spec).clean(&named).unwrap();
        assert_eq!(cleaned["additionalProperties"], false);
    }

    #[test]
    fn a_ref_used_twice_side_by_side_is_not_a_cycle() {
        let spec = spec_with(json!({"Id": {"type": "string"}}));
        let schema = json!({"properties": {
            "a": {"$ref": "#/components/schemas/Id"},
            "b": {"$ref": "#/components/schemas/Id", "description": "local"},
        }});
        let cleaned = Cleaner::new(&spec).clean(&schema).unwrap();
        assert_eq!(
            cleaned,
            json!({"properties": {"a": {"type": "string"}, "b": {"type": "string", "description": "local"}}})
        );
    }

    #[test]
    fn noise_is_dropped_and_property_names_survive() {
        let spec = spec_with(json!({}));
        let schema = json!({
            "type": "object", "example": {}, "x-readme": 1, "discriminator": {"propertyName": "type"},
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "examples": ["a"], "enum": ["a"]},
                "required": {"type": "boolean", "required": true},
            },
        });
        let cleaned = Cleaner::new(&spec).clean(&schema).unwrap();
        assert_eq!(
            cleaned,
            json!({"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["a"]},
                "required": {"type": "boolean"},
            }})
        );
    }

    #[test]
    fn nullable_becomes_a_type_array() {
        let spec = spec_with(json!({}));
        let mut cleaner = Cleaner::new(&spec);
        let object = json!({"type": "object", "nullable": true, "properties": {}});
        assert_eq!(
            cleaner.clean(&object).unwrap(),
            json!({"type": ["object", "null"], "properties": {}})
        );
        let enumerated = json!({"type": "string", "enum": ["a"], "nullable": true});
        assert_eq!(
            cleaner.clean(&enumerated).unwrap(),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        let not_nullable = json!({"type": "string", "nullable": false});
        assert_eq!(
            cleaner.clean(&not_nullable).unwrap(),
            json!({"type": "string"})
        );
    }

    #[test]
    fn object_detection() {
        assert!(is_object(&json!({"type": "object"})));
        assert!(is_object(&json!({"properties": {}})));
        assert!(is_object(
            &json!({"oneOf": [{"type": "object"}, {"properties": {}}]})
        ));
        assert!(!is_object(
            &json!({"oneOf": [{"type": "object"}, {"type": "array"}]})
        ));
        assert!(!is_object(&json!({"type": "boolean"})));
        assert!(!is_object(&json!({})));
    }
}
