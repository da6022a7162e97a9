//! SCIM filters (RFC 7644 §3.4.2.2) over stored resources: `attrPath op value` comparisons
//! joined by `and` / `or` (`and` binds tighter). Grouping with parentheses, `not` and value
//! paths (`emails[type eq "work"]`) are refused as `invalidFilter`, as are attributes the
//! resource type does not have (Ironclad: "No matching schema for attribute: …").

use serde_json::Value;

/// A parsed filter: `or` of `and`s of comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    any_of: Vec<Vec<Comparison>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    path: String,
    op: Op,
    value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Pr,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Filter {
    /// Parse `text`, allowing only `attributes` (lower-case attribute paths). Errors are the
    /// `detail` of a 400 `invalidFilter`.
    pub fn parse(text: &str, attributes: &[&str]) -> Result<Filter, String> {
        let tokens = tokenize(text)?;
        let mut any_of = vec![Vec::new()];
        let mut i = 0;
        loop {
            let path = tokens
                .get(i)
                .ok_or("the filter ends where an attribute was expected")?;
            let Token::Word(path) = path else {
                return Err(format!("expected an attribute, found {path:?}"));
            };
            if path.contains('[') || path.contains('(') || path.eq_ignore_ascii_case("not") {
                return Err(format!("unsupported filter syntax at `{path}`"));
            }
            if !attributes.contains(&path.to_ascii_lowercase().as_str()) {
                return Err(format!("No matching schema for attribute: {path}"));
            }
            let op = match tokens.get(i + 1) {
                Some(Token::Word(op)) => parse_op(op)?,
                other => {
                    return Err(format!(
                        "expected an operator after `{path}`, found {other:?}"
                    ));
                }
            };
            let value = if op == Op::Pr {
                i += 2;
                Value::Null
            } else {
                let value = match tokens.get(i + 2) {
                    Some(Token::Text(s)) => Value::String(s.clone()),
                    Some(Token::Word(w)) => literal(w)?,
                    None => return Err(format!("`{path}` needs a value")),
                };
                i += 3;
                value
            };
            any_of.last_mut().expect("never empty").push(Comparison {
                path: path.to_ascii_lowercase(),
                op,
                value,
            });
            match tokens.get(i) {
                None => break,
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => {}
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("or") => any_of.push(Vec::new()),
                Some(other) => return Err(format!("expected `and` or `or`, found {other:?}")),
            }
            i += 1;
        }
        Ok(Filter { any_of })
    }

    pub fn matches(&self, resource: &Value) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.matches(resource)))
    }
}

impl Comparison {
    fn matches(&self, resource: &Value) -> bool {
        let found = values_at(resource, &self.path);
        if self.op == Op::Pr {
            return found
                .iter()
                .any(|v| !v.is_null() && *v != &Value::String(String::new()));
        }
        let hit = found.iter().any(|v| compare(v, self.op, &self.value));
        // `ne` holds when no value equals.
        if self.op == Op::Ne {
            return !found.iter().any(|v| compare(v, Op::Eq, &self.value));
        }
        hit
    }
}

/// Strings compare case-insensitively (Ironclad's string attributes are `caseExact: false`);
/// ISO-8601 instants order correctly as text.
fn compare(actual: &Value, op: Op, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(w)) => {
            let (a, w) = (a.to_lowercase(), w.to_lowercase());
            match op {
                Op::Eq => a == w,
                Op::Ne => a != w,
                Op::Co => a.contains(&w),
                Op::Sw => a.starts_with(&w),
                Op::Ew => a.ends_with(&w),
                Op::Gt => a > w,
                Op::Ge => a >= w,
                Op::Lt => a < w,
                Op::Le => a <= w,
                Op::Pr => true,
            }
        }
        (a, w) => match op {
            Op::Eq => a == w,
            Op::Ne => a != w,
            _ => match (a.as_f64(), w.as_f64()) {
                (Some(a), Some(w)) => match op {
                    Op::Gt => a > w,
                    Op::Ge => a >= w,
                    Op::Lt => a < w,
                    Op::Le => a <= w,
                    _ => false,
                },
                _ => false,
            },
        },
    }
}

/// The values at a lower-case attribute path: `a`, `a.b`, or `urn:…:Ext:attr`. Multi-valued
/// attributes (`emails.value`, `members.value`) yield every element's value.
fn values_at<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    let steps: Vec<&str> = match path.strip_prefix("urn:") {
        Some(_) => match path.rsplit_once(':') {
            Some((urn, attr)) => vec![urn, attr],
            None => vec![path],
        },
        None => path.split('.').collect(),
    };
    let mut current = vec![resource];
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            for item in value.as_array().map_or(vec![value], |a| a.iter().collect()) {
                if let Some(found) = item.as_object().and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(step))
                        .map(|(_, v)| v)
                }) {
                    next.push(found);
                }
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|v| v.as_array().map_or(vec![v], |a| a.iter().collect()))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("an unterminated string in the filter".into()),
                    Some('"') => break,
                    Some('\\') => s.push(chars.next().ok_or("a dangling escape in the filter")?),
                    Some(other) => s.push(other),
                }
            }
            tokens.push(Token::Text(s));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            tokens.push(Token::Word(w));
        }
    }
    if tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    Ok(tokens)
}

fn parse_op(op: &str) -> Result<Op, String> {
    Ok(match op.to_ascii_lowercase().as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "co" => Op::Co,
        "sw" => Op::Sw,
        "ew" => Op::Ew,
        "pr" => Op::Pr,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        _ => return Err(format!("unknown filter operator `{op}`")),
    })
}

fn literal(word: &str) -> Result<Value, String> {
    match word {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(word)
            .map(Value::Number)
            .map_err(|_| format!("`{word}` is not a value; quote strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ATTRS: &[&str] = &[
        "username",
        "name.givenname",
        "active",
        "emails.value",
        "meta.lastmodified",
    ];

    fn user() -> Value {
        json!({"userName": "Alex.Doe@example.com", "name": {"givenName": "Alex"}, "active": true,
               "emails": [{"value": "alex@example.com"}, {"value": "a.d@example.org"}],
               "meta": {"lastModified": "2026-03-01T00:00:00.000Z"}})
    }

    fn matches(filter: &str) -> bool {
        Filter::parse(filter, ATTRS).unwrap().matches(&user())
    }

    #[test]
    fn comparisons_and_logic() {
        assert!(matches(r#"userName eq "alex.doe@example.com""#));
        assert!(!matches(r#"userName eq "someone@example.com""#));
        assert!(matches(r#"userName sw "alex" and active eq true"#));
        assert!(matches(
            r#"userName eq "x" or emails.value ew "example.org""#
        ));
        assert!(!matches(r#"userName co "doe" and active eq false"#));
        assert!(matches(r#"meta.lastModified gt "2026-02-01T00:00:00Z""#));
        assert!(matches("name.givenName pr"));
        assert!(matches(r#"userName ne "x""#));
    }

    #[test]
    fn bad_filters_are_refused() {
        for bad in [
            "",
            r#"legalName eq "x""#,
            r#"userName equals "x""#,
            r#"userName eq"#,
            r#"userName eq "x" xor active eq true"#,
            r#"emails[type eq "work"] pr"#,
            r#"userName eq "open"#,
            "userName eq bare",
        ] {
            assert!(Filter::parse(bad, ATTRS).is_err(), "{bad}");
        }
        assert_eq!(
            Filter::parse(r#"legalName eq "x""#, ATTRS).unwrap_err(),
            "No matching schema for attribute: legalName"
        );
    }
}
