//! Ironclad's `filter` formula language for list endpoints:
//! `And(Equals([counterpartyName], 'Acme'), GreaterThan([amount], '1000'))`.
//!
//! Supported: `Equals`, `NotEqual`, `Contains`, `IsEmpty`, `IsNotEmpty`, `LessThan`,
//! `LessThanOrEqual`, `GreaterThan`, `GreaterThanOrEqual`, `And`, `Or`, and the value
//! functions `Date('2026-01-01')` / `Date(2026, 1, 1)` / `Today()`. Anything else is refused
//! with the reason, which callers turn into `400 INVALID_PARAM` (`param: filter`).

use std::cmp::Ordering;

use serde_json::Value;

use crate::store::time;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Compare {
        op: Op,
        property: String,
        value: Literal,
    },
    Empty {
        property: String,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    NotEqual,
    Contains,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
    /// Epoch milliseconds.
    Date(i64),
}

impl Filter {
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parser = Parser {
            tokens: tokenize(source)?,
            pos: 0,
        };
        let node = parser.node()?;
        if parser.pos != parser.tokens.len() {
            return Err(format!(
                "unexpected {} after the formula",
                parser.tokens[parser.pos].describe()
            ));
        }
        compile(node, time::system_now_ms())
    }

    /// Whether a subject matches; `lookup` resolves a `[property]` (None = absent).
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches(lookup)),
            Filter::Or(any) => any.iter().any(|f| f.matches(lookup)),
            Filter::Empty { property, negated } => is_empty(lookup(property).as_ref()) != *negated,
            Filter::Compare {
                op,
                property,
                value,
            } => {
                let actual = lookup(property).filter(|v| !v.is_null());
                match (op, actual) {
                    (Op::NotEqual, None) => true,
                    (_, None) => false,
                    (Op::NotEqual, Some(a)) => !equals(&a, value),
                    (Op::Equals, Some(a)) => equals(&a, value),
                    (Op::Contains, Some(a)) => contains(&a, value),
                    (op, Some(a)) => compare(&a, value).is_some_and(|ord| match op {
                        Op::LessThan => ord == Ordering::Less,
                        Op::LessThanOrEqual => ord != Ordering::Greater,
                        Op::GreaterThan => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }),
                }
            }
        }
    }
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn equals(actual: &Value, lit: &Literal) -> bool {
    match actual {
        Value::Array(items) => items.iter().any(|i| equals(i, lit)),
        Value::String(s) => match lit {
            Literal::Text(t) => s == t || both_dates(s, t).is_some_and(|(a, b)| a == b),
            Literal::Date(d) => time::parse(s) == Some(*d),
            Literal::Number(n) => s.parse::<f64>().ok() == Some(*n),
            Literal::Bool(b) => s.eq_ignore_ascii_case(&b.to_string()),
        },
        Value::Bool(b) => as_bool(lit) == Some(*b),
        _ => compare(actual, lit) == Some(Ordering::Equal),
    }
}

fn contains(actual: &Value, lit: &Literal) -> bool {
    let needle = match lit {
        Literal::Text(t) => t.to_lowercase(),
        Literal::Number(n) => n.to_string(),
        _ => return false,
    };
    match actual {
        Value::String(s) => s.to_lowercase().contains(&needle),
        Value::Array(items) => items.iter().any(|i| contains(i, lit)),
        Value::Object(o) => o.values().any(|v| v.is_string() && contains(v, lit)),
        other => other.to_string().contains(&needle),
    }
}

/// Order numbers (monetary amounts by `amount`) and dates; strings otherwise.
fn compare(actual: &Value, lit: &Literal) -> Option<Ordering> {
    match (actual, lit) {
        (Value::Number(a), _) => a.as_f64()?.partial_cmp(&as_number(lit)?),
        (Value::Object(o), _) if o.contains_key("amount") => compare(o.get("amount")?, lit),
        (Value::String(s), Literal::Date(d)) => Some(time::parse(s)?.cmp(d)),
        (Value::String(s), Literal::Text(t)) => match both_dates(s, t) {
            Some((a, b)) => Some(a.cmp(&b)),
            None => match (s.parse::<f64>(), t.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b),
                _ => Some(s.as_str().cmp(t.as_str())),
            },
        },
        (Value::String(s), Literal::Number(n)) => s.parse::<f64>().ok()?.partial_cmp(n),
        _ => None,
    }
}

fn both_dates(a: &str, b: &str) -> Option<(i64, i64)> {
    Some((time::parse(a)?, time::parse(b)?))
}

fn as_number(lit: &Literal) -> Option<f64> {
    match lit {
        Literal::Number(n) => Some(*n),
        Literal::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(lit: &Literal) -> Option<bool> {
    match lit {
        Literal::Bool(b) => Some(*b),
        Literal::Text(t) if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("yes") => {
            Some(true)
        }
        Literal::Text(t) if t.eq_ignore_ascii_case("false") || t.eq_ignore_ascii_case("no") => {
            Some(false)
        }
        _ => None,
    }
}

// --- syntax ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Property(String),
    Text(String),
    Number(f64),
    Open,
    Close,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("'{s}'"),
            Token::Property(p) => format!("[{p}]"),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.to_string(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
                i += 1;
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unclosed '[' in property reference")?;
                let name: String = chars[i + 1..i + end].iter().collect();
                if name.trim().is_empty() {
                    return Err("empty property reference []".into());
                }
                tokens.push(Token::Property(name.trim().to_owned()));
                i += end + 1;
            }
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\\') => {
                            text.push(*chars.get(i + 1).ok_or("unterminated string literal")?);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                tokens.push(Token::Number(
                    text.parse().map_err(|_| format!("invalid number {text}"))?,
                ));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push(Token::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(tokens)
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Call(String, Vec<Node>),
    Property(String),
    Text(String),
    Number(f64),
    Bool(bool),
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn node(&mut self) -> Result<Node, String> {
        match self.next().ok_or("the formula ends too early")? {
            Token::Property(p) => Ok(Node::Property(p)),
            Token::Text(t) => Ok(Node::Text(t)),
            Token::Number(n) => Ok(Node::Number(n)),
            Token::Ident(name) if self.tokens.get(self.pos) == Some(&Token::Open) => {
                self.pos += 1;
                let mut args = Vec::new();
                if self.tokens.get(self.pos) == Some(&Token::Close) {
                    self.pos += 1;
                    return Ok(Node::Call(name, args));
                }
                loop {
                    args.push(self.node()?);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::Close) => return Ok(Node::Call(name, args)),
                        Some(t) => {
                            return Err(format!("expected ',' or ')' but found {}", t.describe()));
                        }
                        None => return Err(format!("missing ')' after the arguments of {name}")),
                    }
                }
            }
            Token::Ident(word) if word.eq_ignore_ascii_case("true") => Ok(Node::Bool(true)),
            Token::Ident(word) if word.eq_ignore_ascii_case("false") => Ok(Node::Bool(false)),
            t => Err(format!("unexpected {}", t.describe())),
        }
    }
}

fn compile(node: Node, now_ms: i64) -> Result<Filter, String> {
    let Node::Call(name, args) = node else {
        return Err("a filter must be a function such as Equals([property], 'value')".into());
    };
    let op = match name.as_str() {
        "And" | "Or" => {
            if args.len() < 2 {
                return Err(format!("{name} takes two or more conditions"));
            }
            let parts = args
                .into_iter()
                .map(|a| compile(a, now_ms))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if name == "And" {
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            });
        }
        "IsEmpty" | "IsNotEmpty" => {
            let [Node::Property(property)] =
                <[Node; 1]>::try_from(args).map_err(|_| format!("{name} takes one [property]"))?
            else {
                return Err(format!("{name} takes one [property]"));
            };
            return Ok(Filter::Empty {
                property,
                negated: name == "IsNotEmpty",
            });
        }
        "Equals" => Op::Equals,
        "NotEqual" => Op::NotEqual,
        "Contains" => Op::Contains,
        "LessThan" => Op::LessThan,
        "LessThanOrEqual" => Op::LessThanOrEqual,
        "GreaterThan" => Op::GreaterThan,
        "GreaterThanOrEqual" => Op::GreaterThanOrEqual,
        other => return Err(format!("unsupported filter function {other}")),
    };
    let [Node::Property(property), value] = <[Node; 2]>::try_from(args)
        .map_err(|_| format!("{name} takes a [property] and a value"))?
    else {
        return Err(format!("{name} takes a [property] and a value"));
    };
    Ok(Filter::Compare {
        op,
        property,
        value: literal(value, now_ms)?,
    })
}

fn literal(node: Node, now_ms: i64) -> Result<Literal, String> {
    match node {
        Node::Text(t) => Ok(Literal::Text(t)),
        Node::Number(n) => Ok(Literal::Number(n)),
        Node::Bool(b) => Ok(Literal::Bool(b)),
        Node::Property(p) => Err(format!("comparing two properties ([{p}]) is not supported")),
        Node::Call(name, args) => match (name.as_str(), args.as_slice()) {
            ("Today", []) => Ok(Literal::Date(now_ms - now_ms.rem_euclid(time::DAY_MS))),
            ("Date", [Node::Text(t)]) => time::parse(t)
                .map(Literal::Date)
                .ok_or_else(|| format!("invalid date '{t}'")),
            ("Date", [Node::Number(y), Node::Number(m), Node::Number(d)]) => {
                time::date_ms(*y as i64, *m as i64, *d as i64)
                    .map(Literal::Date)
                    .ok_or_else(|| format!("invalid date {y}-{m}-{d}"))
            }
            ("Date", _) => Err("Date takes 'YYYY-MM-DD' or (year, month, day)".into()),
            (other, _) => Err(format!("unsupported value function {other}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(formula: &str, subject: Value) -> bool {
        let f = Filter::parse(formula).unwrap_or_else(|e| panic!("{formula}: {e}"));
        f.matches(&|p| subject.get(p).cloned())
    }

    #[test]
    fn evaluates() {
        let w = json!({ "title": "NDA with Margie's Travel", "fee": { "currency": "USD", "amount": 5000 }, "termMonths": 12,
            "isRenewal": false, "startDate": "2026-01-15T00:00:00.000Z", "empty": "" });
        assert!(check(
            "Equals([title], 'NDA with Margie\\'s Travel')",
            w.clone()
        ));
        assert!(check("Contains([title], \"margie\")", w.clone()));
        assert!(check(
            "And(GreaterThan([fee], '1000'), LessThanOrEqual([termMonths], 12), Equals([isRenewal], 'false'))",
            w.clone()
        ));
        assert!(check(
            "Or(Equals([title], 'x'), IsEmpty([empty]), IsEmpty([missing]))",
            w.clone()
        ));
        assert!(check(
            "GreaterThan([startDate], Date('2026-01-01'))",
            w.clone()
        ));
        assert!(check("LessThan([startDate], Date(2026, 2, 1))", w.clone()));
        assert!(check("NotEqual([missing], 'x')", w.clone()));
        // A quoted instant compares as a date, to the millisecond (a polling slice's bound).
        let stamped = json!({ "lastUpdated": "2026-01-15T00:00:00.001Z" });
        assert!(check(
            "LessThanOrEqual([lastUpdated], '2026-01-15T00:00:00.001Z')",
            stamped.clone()
        ));
        assert!(!check(
            "LessThanOrEqual([lastUpdated], '2026-01-15T00:00:00.000Z')",
            stamped
        ));
        assert!(!check("IsNotEmpty([missing])", w.clone()));
        assert!(!check("Equals([title], 'nda')", w));
    }

    #[test]
    fn refuses() {
        for bad in [
            "",
            "Equals([a] 'b')",
            "Frobnicate([a], 'b')",
            "Equals([a])",
            "And(Equals([a], 'b'))",
            "Equals([a], 'b'",
            "[a]",
            "Equals([a], RelativeDate(-7, 'days'))",
            "Equals([a], 'b') x",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
