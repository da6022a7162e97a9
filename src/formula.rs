//! Ironclad's `filter` formulas from a structured input: conditions `{field, operator, value}`
//! and `{"and": [...]}` / `{"or": [...]}` groups, rendered as Ironclad documents them —
//! `And(Equals([counterpartyName], 'Acme'), GreaterThan([amount], '1000'))`: the property id
//! in brackets, every value in single quotes with `\` and `'` escaped by a backslash. A
//! string `filter` is sent as written.

use serde_json::{Map, Value, json};

use crate::error::ConnectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEqual,
    Contains,
    IsEmpty,
    IsNotEmpty,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

impl Operator {
    /// Input name and Ironclad function, in the order the docs list them.
    pub const ALL: [(&'static str, Operator, &'static str); 9] = [
        ("equals", Operator::Equals, "Equals"),
        ("not_equal", Operator::NotEqual, "NotEqual"),
        ("contains", Operator::Contains, "Contains"),
        ("is_empty", Operator::IsEmpty, "IsEmpty"),
        ("is_not_empty", Operator::IsNotEmpty, "IsNotEmpty"),
        ("less_than", Operator::LessThan, "LessThan"),
        (
            "less_than_or_equal",
            Operator::LessThanOrEqual,
            "LessThanOrEqual",
        ),
        ("greater_than", Operator::GreaterThan, "GreaterThan"),
        (
            "greater_than_or_equal",
            Operator::GreaterThanOrEqual,
            "GreaterThanOrEqual",
        ),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, o, _)| *o == self)
            .map_or("", |e| e.0)
    }

    pub fn function(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, o, _)| *o == self)
            .map_or("", |e| e.2)
    }

    fn parse(name: &str) -> Option<Operator> {
        Self::ALL.iter().find(|(n, _, _)| *n == name).map(|e| e.1)
    }

    /// `IsEmpty`/`IsNotEmpty` take only the property.
    pub fn takes_value(self) -> bool {
        !matches!(self, Operator::IsEmpty | Operator::IsNotEmpty)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    And(Vec<Formula>),
    Or(Vec<Formula>),
    /// `value` is present exactly when the operator takes one (a type can say so: see `parse`).
    Condition {
        field: String,
        operator: Operator,
        value: Option<String>,
    },
}

/// Groups nest at most this deep; deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 16;

/// The structured input at JSON Pointer `at`, checked; errors name the pointer of the part
/// that is wrong (`/filter/and/1/operator`).
pub fn parse(input: &Value, at: &str) -> Result<Formula, ConnectorError> {
    parse_at(input, at, 0)
}

fn parse_at(input: &Value, at: &str, depth: usize) -> Result<Formula, ConnectorError> {
    let obj = input.as_object().ok_or_else(|| {
        ConnectorError::input(
            at,
            "must be a condition {field, operator, value} or a group {\"and\"|\"or\": [...]}",
        )
    })?;
    if depth >= MAX_DEPTH {
        return Err(ConnectorError::input(
            at,
            format!("groups nest at most {MAX_DEPTH} deep"),
        ));
    }
    for group in ["and", "or"] {
        let Some(items) = obj.get(group) else {
            continue;
        };
        if obj.len() != 1 {
            return Err(ConnectorError::input(
                at,
                format!("a group has only `{group}`; put conditions inside it"),
            ));
        }
        let items = items.as_array().filter(|i| !i.is_empty()).ok_or_else(|| {
            ConnectorError::input(format!("{at}/{group}"), "must be a non-empty array")
        })?;
        let parts = items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_at(item, &format!("{at}/{group}/{i}"), depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if group == "and" {
            Formula::And(parts)
        } else {
            Formula::Or(parts)
        });
    }
    condition(obj, at)
}

fn condition(obj: &Map<String, Value>, at: &str) -> Result<Formula, ConnectorError> {
    if let Some(extra) = obj
        .keys()
        .find(|k| !["field", "operator", "value"].contains(&k.as_str()))
    {
        return Err(ConnectorError::input(
            format!("{at}/{}", crate::multipart::escape_pointer(extra)),
            "is not part of a condition (field, operator, value) or a group (and, or)",
        ));
    }
    let field = obj
        .get("field")
        .and_then(Value::as_str)
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| {
            ConnectorError::input(
                format!("{at}/field"),
                "must be a property id, e.g. counterpartyName",
            )
        })?;
    // A property reference ends at the first `]`; Ironclad has no escape for it.
    if field.contains(']') || field.contains('[') {
        return Err(ConnectorError::input(
            format!("{at}/field"),
            "a property id cannot contain `[` or `]`",
        ));
    }
    let names: Vec<&str> = Operator::ALL.iter().map(|e| e.0).collect();
    let operator = obj
        .get("operator")
        .and_then(Value::as_str)
        .and_then(Operator::parse)
        .ok_or_else(|| {
            ConnectorError::input(
                format!("{at}/operator"),
                format!("must be one of {}", names.join(", ")),
            )
        })?;
    let value = match (operator.takes_value(), obj.get("value")) {
        (false, None | Some(Value::Null)) => None,
        (false, Some(_)) => {
            return Err(ConnectorError::input(
                format!("{at}/value"),
                format!("`{}` takes no value", operator.name()),
            ));
        }
        (true, Some(Value::String(s))) => Some(s.clone()),
        (true, Some(Value::Number(n))) => Some(n.to_string()),
        (true, Some(Value::Bool(b))) => Some(b.to_string()),
        (true, _) => {
            return Err(ConnectorError::input(
                format!("{at}/value"),
                format!(
                    "`{}` needs a string, number or boolean value",
                    operator.name()
                ),
            ));
        }
    };
    Ok(Formula::Condition {
        field: field.trim().to_string(),
        operator,
        value,
    })
}

/// The formula as Ironclad reads it. A group of one is that one condition (Ironclad's
/// `And`/`Or` take two or more).
pub fn render(formula: &Formula) -> String {
    match formula {
        Formula::And(parts) | Formula::Or(parts) if parts.len() == 1 => render(&parts[0]),
        Formula::And(parts) => group("And", parts),
        Formula::Or(parts) => group("Or", parts),
        Formula::Condition {
            field,
            operator,
            value,
        } => match value {
            Some(v) => format!("{}([{field}], {})", operator.function(), quote(v)),
            None => format!("{}([{field}])", operator.function()),
        },
    }
}

fn group(function: &str, parts: &[Formula]) -> String {
    let inner: Vec<String> = parts.iter().map(render).collect();
    format!("{function}({})", inner.join(", "))
}

/// `'text'` with `\` and `'` escaped by a backslash.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Render a structured `filter` in place, so the action sends the formula text.
pub fn expand(input: &mut Value) -> Result<(), ConnectorError> {
    let Some(filter) = input.get("filter").filter(|f| f.is_object()) else {
        return Ok(());
    };
    let text = render(&parse(filter, "/filter")?);
    input["filter"] = Value::String(text);
    Ok(())
}

/// The input schema of a `filter` property: the formula text, or the structure (groups
/// nest; the schema spells out three levels, `parse` takes any depth up to its limit).
/// `field_options` is an `x-options` for the field dropdown.
pub fn schema(description: &str, field_options: Option<Value>) -> Value {
    let operators: Vec<&str> = Operator::ALL.iter().map(|e| e.0).collect();
    let mut field =
        json!({ "type": "string", "minLength": 1, "description": "A property id (no brackets)." });
    if let Some(options) = field_options {
        field["x-options"] = options;
    }
    let condition = json!({
        "type": "object", "title": "Condition", "additionalProperties": false,
        "required": ["field", "operator"],
        "properties": {
            "field": field,
            "operator": { "type": "string", "enum": operators },
            "value": { "type": ["string", "number", "boolean"],
                       "description": "Not for is_empty / is_not_empty." }
        }
    });
    let group = |inner: Value| {
        let items = json!({ "type": "array", "minItems": 1, "items": inner });
        json!({ "type": "object", "title": "Group", "additionalProperties": false,
                "minProperties": 1, "maxProperties": 1,
                "properties": { "and": items.clone(), "or": items } })
    };
    let level1 = group(condition.clone());
    let level2 = group(json!({ "anyOf": [condition.clone(), level1] }));
    let level3 = group(json!({ "anyOf": [condition.clone(), level2] }));
    json!({
        "description": format!("{description}\n\nOr structured: a condition {{field, operator, value}} or a group {{\"and\"|\"or\": [conditions or groups]}}; the connector writes the formula, quoting and escaping values."),
        "anyOf": [ { "type": "string", "title": "Formula" }, condition, level3 ]
    })
}

/// [`schema`] as JSON text, put together from a template serialised once: every list action
/// with a `filter` gets the same structure, and building and serialising it anew for each
/// was most of the time it took to annotate the schemas (now done once, for the generated
/// manifest).
pub fn schema_text(description: &str, field_options: Option<&Value>) -> String {
    const DESCRIPTION: &str = "\u{0}description\u{0}";
    const OPTIONS: &str = "\u{0}options\u{0}";
    static TEMPLATES: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let (plain, with_options) = TEMPLATES.get_or_init(|| {
        (
            crate::json_text::sorted(&schema(DESCRIPTION, None)),
            crate::json_text::sorted(&schema(DESCRIPTION, Some(json!(OPTIONS)))),
        )
    });
    // The marks as serde_json writes them: inside a string, and as a whole string value.
    let in_string = |mark: &str| {
        let quoted = serde_json::to_string(mark).expect("a str serialises");
        quoted[1..quoted.len() - 1].to_string()
    };
    let escaped = serde_json::to_string(description).expect("a str serialises");
    let text = match field_options {
        None => plain.clone(),
        Some(options) => with_options.replace(
            &serde_json::to_string(OPTIONS).expect("a str serialises"),
            &crate::json_text::sorted(options),
        ),
    };
    text.replacen(&in_string(DESCRIPTION), &escaped[1..escaped.len() - 1], 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template gives what building the schema gives, with and without field options
    /// and for descriptions that need escaping.
    #[test]
    fn schema_text_is_the_schema() {
        for description in ["Filter formula.", "Quotes \" and \\ and\nlines \u{0}"] {
            for options in [
                None,
                Some(json!({ "provider": "record_fields", "params": {} })),
            ] {
                let text: Value =
                    serde_json::from_str(&schema_text(description, options.as_ref())).unwrap();
                assert_eq!(text, schema(description, options), "{description}");
            }
        }
    }

    fn rendered(input: Value) -> Result<String, String> {
        parse(&input, "/filter")
            .map(|f| render(&f))
            .map_err(|e| match e {
                ConnectorError::InvalidInput { field, .. } => field,
                other => other.to_string(),
            })
    }

    /// An unknown key is named by a JSON Pointer that points at it (RFC 6901 escaping).
    #[test]
    fn unknown_keys_are_named_with_escaped_pointers() {
        assert_eq!(
            rendered(json!({ "a/b~": 1 })),
            Err("/filter/a~1b~0".to_string())
        );
    }

    #[test]
    fn renders_conditions_and_groups_as_ironclad_documents_them() {
        assert_eq!(
            rendered(json!({ "and": [
                { "field": "amount", "operator": "greater_than", "value": 1000 },
                { "or": [ { "field": "counterpartyName", "operator": "contains", "value": "Acme" },
                          { "field": "paperSource", "operator": "is_empty" } ] } ] })),
            Ok("And(GreaterThan([amount], '1000'), Or(Contains([counterpartyName], 'Acme'), IsEmpty([paperSource])))".into())
        );
        assert_eq!(
            rendered(
                json!({ "or": [{ "field": "isRenewal", "operator": "equals", "value": true }] })
            ),
            Ok("Equals([isRenewal], 'true')".into())
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(
            rendered(
                json!({ "field": "title", "operator": "equals", "value": "Margie's \\ Travel" })
            ),
            Ok(r"Equals([title], 'Margie\'s \\ Travel')".into())
        );
    }

    #[test]
    fn mistakes_name_the_part() {
        let cases = [
            (
                json!({ "field": "a", "operator": "like", "value": "x" }),
                "/filter/operator",
            ),
            (
                json!({ "field": "a]", "operator": "equals", "value": "x" }),
                "/filter/field",
            ),
            (
                json!({ "field": "a", "operator": "equals" }),
                "/filter/value",
            ),
            (
                json!({ "field": "a", "operator": "is_empty", "value": "x" }),
                "/filter/value",
            ),
            (json!({ "and": [] }), "/filter/and"),
            (
                json!({ "and": [{ "field": "a", "operator": "equals", "value": {} }] }),
                "/filter/and/0/value",
            ),
            (json!({ "and": [], "or": [] }), "/filter"),
            (
                json!({ "field": "a", "operator": "equals", "value": "x", "extra": 1 }),
                "/filter/extra",
            ),
        ];
        for (input, pointer) in cases {
            assert_eq!(rendered(input.clone()), Err(pointer.to_string()), "{input}");
        }
        let mut deep = json!({ "field": "a", "operator": "is_empty" });
        for _ in 0..MAX_DEPTH {
            deep = json!({ "and": [deep] });
        }
        assert!(rendered(deep).is_err());
    }

    #[test]
    fn expand_replaces_only_structured_filters() {
        let mut raw = json!({ "filter": "Equals([a], 'b')" });
        expand(&mut raw).unwrap();
        assert_eq!(raw["filter"], "Equals([a], 'b')");
        let mut structured =
            json!({ "filter": { "field": "a", "operator": "equals", "value": "b" } });
        expand(&mut structured).unwrap();
        assert_eq!(structured["filter"], "Equals([a], 'b')");
    }

    #[test]
    fn the_schema_accepts_what_parse_accepts() {
        let schema = schema("Filter.", None);
        for ok in [
            json!("Equals([a], 'b')"),
            json!({ "field": "a", "operator": "equals", "value": 1 }),
            json!({ "and": [{ "or": [{ "and": [{ "field": "a", "operator": "is_empty" }] }] }] }),
        ] {
            crate::schema::validate(&schema, &ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        }
        assert!(
            crate::schema::validate(&schema, &json!({ "field": "a", "operator": "like" })).is_err()
        );
    }
}
