//! Input validation against the catalog's JSON Schemas, before any request is made.
//!
//! A deliberate subset of JSON Schema 2020-12 — the keywords the generated catalog keeps —
//! written here because a full validator (regex engines, URL parsers) would triple the
//! component's size. The keywords it applies are [`KEYWORDS`]; those it ignores on purpose
//! are [`ANNOTATIONS`]. Any other keyword would be ignored too, as the spec says, so a test
//! (`tests/schema_keywords.rs`) holds every schema the connector serves to these two lists,
//! and the official JSON Schema Test Suite's cases for them must pass
//! (`tests/json_schema_suite.rs`).
//!
//! `format` is applied, unlike the spec's default, and only to Ironclad's formats: `email`,
//! `date-time` and `date` (which takes a date-time too, as Ironclad's date fields do); any
//! other format is an annotation.

use serde_json::{Map, Value};

use crate::error::excerpt;
use crate::integer;

/// The keywords [`validate`] applies.
pub const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "allOf",
    "anyOf",
    "oneOf",
    "if",
    "then",
    "else",
];

/// The keywords [`validate`] ignores on purpose: 2020-12's meta-data and content vocabularies,
/// which describe a value and never decide whether it is valid, and `$schema` and `$comment`.
/// Extensions (`x-options`, `x-secret`, …) are annotations as well.
pub const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
];

/// Whether `keyword` is one [`validate`] applies or ignores on purpose.
pub fn knows(keyword: &str) -> bool {
    KEYWORDS.contains(&keyword) || ANNOTATIONS.contains(&keyword) || keyword.starts_with("x-")
}

/// Where the value is wrong (a JSON Pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

pub fn validate(schema: &Value, value: &Value) -> Result<(), Violation> {
    check(schema, value, &mut String::new())
}

fn check(schema: &Value, value: &Value, at: &mut String) -> Result<(), Violation> {
    let Value::Object(s) = schema else {
        // `true`/`{}` accept everything; `false` accepts nothing.
        return match schema {
            Value::Bool(false) => Err(violation(at, "no value is allowed here")),
            _ => Ok(()),
        };
    };
    if let Some(types) = s.get("type") {
        check_type(types, value, at)?;
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.iter().any(|option| same(option, value))
    {
        let list: Vec<String> = options.iter().map(Value::to_string).collect();
        return Err(violation(
            at,
            format!(
                "must be one of {}, got {}",
                list.join(", "),
                excerpt(&value.to_string())
            ),
        ));
    }
    if let Some(expected) = s.get("const")
        && !same(expected, value)
    {
        return Err(violation(at, format!("must be {expected}")));
    }
    match value {
        Value::Object(obj) => check_object(s, obj, at)?,
        Value::Array(items) => check_array(s, items, at)?,
        Value::String(text) => check_string(s, text, at)?,
        Value::Number(n) => check_number(s, n.as_f64().unwrap_or(f64::NAN), at)?,
        _ => {}
    }
    check_combinators(s, value, at)
}

fn check_type(types: &Value, value: &Value, at: &str) -> Result<(), Violation> {
    let allowed: Vec<&str> = match types {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    if allowed.iter().any(|t| has_type(t, value)) {
        return Ok(());
    }
    Err(violation(
        at,
        format!("must be {}, got {}", allowed.join(" or "), type_name(value)),
    ))
}

fn has_type(expected: &str, value: &Value) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        // 1.0 is an integer in JSON Schema; the connector reads integers within 64 bits.
        "integer" => integer::is_integer(value),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n)
            if !integer::is_integer(value) && n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
        {
            "an integer beyond 64 bits"
        }
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_object(
    s: &Map<String, Value>,
    obj: &Map<String, Value>,
    at: &mut String,
) -> Result<(), Violation> {
    if let Some(Value::Array(required)) = s.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(name) {
                return Err(violation(&child(at, name), "is required"));
            }
        }
    }
    if let Some(min) = s.get("minProperties").and_then(integer::as_u64)
        && (obj.len() as u64) < min
    {
        return Err(violation(at, format!("needs at least {min} propert(ies)")));
    }
    if let Some(max) = s.get("maxProperties").and_then(integer::as_u64)
        && obj.len() as u64 > max
    {
        return Err(violation(at, format!("allows at most {max} propert(ies)")));
    }
    let props = s.get("properties").and_then(Value::as_object);
    for (name, item) in obj {
        let sub = props.and_then(|p| p.get(name));
        let rule = match sub {
            Some(sub) => sub,
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let known = props
                        .map(|p| p.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    let hint = if known.is_empty() {
                        String::new()
                    } else {
                        format!("; known: {known}")
                    };
                    return Err(violation(
                        &child(at, name),
                        format!("is not a known property{hint}"),
                    ));
                }
                Some(extra) => extra,
                None => continue,
            },
        };
        descend(at, name, |at| check(rule, item, at))?;
    }
    Ok(())
}

fn check_array(s: &Map<String, Value>, items: &[Value], at: &mut String) -> Result<(), Violation> {
    if let Some(min) = s.get("minItems").and_then(integer::as_u64)
        && (items.len() as u64) < min
    {
        return Err(violation(at, format!("needs at least {min} item(s)")));
    }
    if let Some(max) = s.get("maxItems").and_then(integer::as_u64)
        && items.len() as u64 > max
    {
        return Err(violation(at, format!("allows at most {max} item(s)")));
    }
    if s.get("uniqueItems") == Some(&Value::Bool(true)) {
        for (i, item) in items.iter().enumerate() {
            if items[..i].iter().any(|earlier| same(earlier, item)) {
                return Err(violation(
                    &child(at, &i.to_string()),
                    "repeats an earlier item",
                ));
            }
        }
    }
    if let Some(rule) = s.get("items") {
        for (i, item) in items.iter().enumerate() {
            descend(at, &i.to_string(), |at| check(rule, item, at))?;
        }
    }
    Ok(())
}

fn check_string(s: &Map<String, Value>, text: &str, at: &str) -> Result<(), Violation> {
    let len = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(integer::as_u64)
        && len < min
    {
        let why = if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("needs at least {min} characters")
        };
        return Err(violation(at, why));
    }
    if let Some(max) = s.get("maxLength").and_then(integer::as_u64)
        && len > max
    {
        return Err(violation(at, format!("allows at most {max} characters")));
    }
    match s.get("format").and_then(Value::as_str) {
        Some("email") if !looks_like_email(text) => Err(violation(
            at,
            format!("`{}` is not an email address", excerpt(text)),
        )),
        Some("date-time") if !looks_like_date_time(text) => Err(violation(
            at,
            format!(
                "`{}` is not an ISO-8601 date-time like 2024-05-01T00:00:00Z",
                excerpt(text)
            ),
        )),
        // Ironclad's date fields take a date or a date-time.
        Some("date") if !(looks_like_date(text) || looks_like_date_time(text)) => Err(violation(
            at,
            format!(
                "`{}` is not an ISO-8601 date like 2024-05-01 or 2024-05-01T00:00:00Z",
                excerpt(text)
            ),
        )),
        _ => Ok(()),
    }
}

fn check_number(s: &Map<String, Value>, n: f64, at: &str) -> Result<(), Violation> {
    let bound = |k: &str| s.get(k).and_then(Value::as_f64);
    if let Some(min) = bound("minimum")
        && n < min
    {
        return Err(violation(at, format!("must be at least {min}")));
    }
    if let Some(max) = bound("maximum")
        && n > max
    {
        return Err(violation(at, format!("must be at most {max}")));
    }
    if let Some(min) = bound("exclusiveMinimum")
        && n <= min
    {
        return Err(violation(at, format!("must be greater than {min}")));
    }
    if let Some(max) = bound("exclusiveMaximum")
        && n >= max
    {
        return Err(violation(at, format!("must be less than {max}")));
    }
    Ok(())
}

fn check_combinators(
    s: &Map<String, Value>,
    value: &Value,
    at: &mut String,
) -> Result<(), Violation> {
    if let Some(Value::Array(all)) = s.get("allOf") {
        for rule in all {
            check(rule, value, at)?;
        }
    }
    if let Some(condition) = s.get("if") {
        let holds = check(condition, value, &mut at.clone()).is_ok();
        if let Some(rule) = s.get(if holds { "then" } else { "else" }) {
            check(rule, value, at)?;
        }
    }
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        let Some(Value::Array(options)) = s.get(keyword) else {
            continue;
        };
        let mut first_error = None;
        let mut matched = 0;
        for rule in options {
            match check(rule, value, &mut at.clone()) {
                Ok(()) => matched += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if matched == 0 {
            // One alternative's complaint is more useful than "matches none".
            let e =
                first_error.unwrap_or_else(|| violation(at, "matches none of the allowed shapes"));
            return Err(if options.len() == 1 {
                e
            } else {
                Violation {
                    message: format!(
                        "matches none of the {} allowed shapes (e.g. {}: {})",
                        options.len(),
                        e.pointer,
                        e.message
                    ),
                    pointer: at.clone(),
                }
            });
        }
        if exactly_one && matched > 1 {
            return Err(violation(at, "matches more than one of the allowed shapes"));
        }
    }
    Ok(())
}

/// JSON Schema's equality, for `enum`, `const` and `uniqueItems`: numbers by their value (`1`
/// is `1.0`), also inside arrays and objects; everything else as JSON.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let exact =
                |read: fn(&Value) -> Option<i128>| read(a).zip(read(b)).map(|(i, j)| i == j);
            exact(|v| integer::as_i64(v).map(i128::from))
                .or_else(|| exact(|v| integer::as_u64(v).map(i128::from)))
                .unwrap_or(x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

fn looks_like_email(text: &str) -> bool {
    text.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !text.contains(char::is_whitespace)
    })
}

/// `YYYY-MM-DD`.
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `YYYY-MM-DDThh:mm:ss` followed by optional fraction and a zone.
fn looks_like_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

fn descend<T>(at: &mut String, token: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = at.len();
    at.push('/');
    at.push_str(&token.replace('~', "~0").replace('/', "~1"));
    let out = f(at);
    at.truncate(len);
    out
}

fn child(at: &str, token: &str) -> String {
    let mut p = at.to_string();
    descend(&mut p, token, |p| p.clone())
}

fn violation(at: &str, message: impl Into<String>) -> Violation {
    Violation {
        pointer: if at.is_empty() {
            "/".into()
        } else {
            at.to_string()
        },
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(schema: Value, value: Value) -> Violation {
        validate(&schema, &value).unwrap_err()
    }

    #[test]
    fn required_and_unknown_properties() {
        let s = json!({"type":"object","additionalProperties":false,"required":["id"],"properties":{"id":{"type":"string","minLength":1}}});
        assert_eq!(err(s.clone(), json!({})).pointer, "/id");
        assert_eq!(
            err(s.clone(), json!({"id":""})).message,
            "must not be empty"
        );
        let e = err(s.clone(), json!({"id":"x","idd":1}));
        assert_eq!(e.pointer, "/idd");
        assert!(e.message.contains("known: id"));
        validate(&s, &json!({"id":"x"})).unwrap();
    }

    #[test]
    fn nested_pointers_and_escaping() {
        let s = json!({"type":"object","properties":{"body":{"type":"object","properties":{"a/b":{"type":"array","items":{"type":"integer","maximum":3}}}}}});
        let e = err(s, json!({"body":{"a/b":[1,2,9]}}));
        assert_eq!(e.pointer, "/body/a~1b/2");
        assert_eq!(e.message, "must be at most 3");
    }

    #[test]
    fn enums_types_and_formats() {
        assert!(
            err(json!({"enum":["active","paused"]}), json!("done"))
                .message
                .contains("\"active\"")
        );
        assert_eq!(
            err(json!({"type":"integer"}), json!(1.5)).message,
            "must be integer, got a number"
        );
        validate(&json!({"type":"integer"}), &json!(2.0)).unwrap();
        validate(&json!({"type":["string","null"]}), &Value::Null).unwrap();
        assert!(
            err(json!({"format":"email"}), json!("nope"))
                .message
                .contains("email")
        );
        validate(
            &json!({"format":"date-time"}),
            &json!("2024-05-01T10:00:00.000Z"),
        )
        .unwrap();
        assert!(validate(&json!({"format":"date-time"}), &json!("yesterday")).is_err());
    }

    #[test]
    fn one_of_any_of() {
        let s = json!({"oneOf":[{"type":"object","required":["email"]},{"type":"object","required":["id"]}]});
        validate(&s, &json!({"id":"1"})).unwrap();
        assert!(
            err(s.clone(), json!({"id":"1","email":"a@b.c"}))
                .message
                .contains("more than one")
        );
        assert!(err(s, json!({})).message.contains("none of the 2"));
    }

    #[test]
    fn integers_are_read_as_they_are_validated() {
        // Keywords written as floats still bind.
        let s = json!({"type":"string","maxLength":3.0});
        assert_eq!(err(s, json!("abcd")).message, "allows at most 3 characters");
        let s = json!({"type":"array","maxItems":1.0});
        assert!(err(s, json!([1, 2])).message.contains("at most 1"));
        // An integral float is an integer; one beyond 64 bits is refused, not misread.
        validate(&json!({"type":"integer"}), &json!(3.0)).unwrap();
        assert_eq!(
            err(json!({"type":"integer"}), json!(1e300)).message,
            "must be integer, got an integer beyond 64 bits"
        );
        assert_eq!(
            err(json!({"type":"string"}), json!(3)).message,
            "must be string, got a number"
        );
    }

    #[test]
    fn messages_quote_at_most_an_excerpt_of_the_value() {
        let huge = "x".repeat(1_000_000);
        for (schema, value) in [
            (json!({"enum":["a"]}), json!(huge)),
            (json!({"format":"email"}), json!(huge)),
            (json!({"format":"date-time"}), json!(huge)),
            (json!({"format":"date"}), json!(huge)),
        ] {
            let message = err(schema, value).message;
            assert!(message.len() < 300, "{}", &message[..300]);
            assert!(message.contains("(1000000 bytes)") || message.contains("(1000002 bytes)"));
        }
    }

    #[test]
    fn array_bounds() {
        let s = json!({"type":"array","minItems":1,"uniqueItems":true});
        assert!(err(s.clone(), json!([])).message.contains("at least 1"));
        assert_eq!(err(s, json!([1, 1])).pointer, "/1");
    }
}
