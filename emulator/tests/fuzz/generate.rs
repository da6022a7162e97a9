//! Values from a schema, drawn from a seeded generator: valid ones (required properties only,
//! or with some optional ones too), and invalid ones (another type, a value outside the enum
//! or the range). Strings prefer values the emulator holds under the same name (`Pool`), so
//! that a generated id names something that exists.
//!
//! The generator can be wrong about validity (a `oneOf` whose branches overlap, a mutation the
//! schema happens to accept); the contract's own check has the last word on every request.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::pool::Pool;

/// Nesting beyond which only required properties are generated.
const DEEP: usize = 6;

/// Strings a parser may trip on: multi-byte characters, separators, quotes, escapes, a long one.
const ODD: &[&str] = &[
    "é漢字🙂",
    "a b",
    "a/b?c=d&e",
    "100%",
    "../..",
    "'\")(",
    "\\u0000",
    " leading and trailing ",
    "name eq \"x\" and (",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

/// Which properties of an object a valid value carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    Required,
    /// The required ones and about half of the others.
    Full,
}

pub struct Generator<'p> {
    rng: StdRng,
    pool: &'p Pool,
    /// Values most likely to work: the document's default or example whenever it gives one,
    /// no odd strings (for the requests that find what the cases need).
    typical: bool,
}

impl<'p> Generator<'p> {
    pub fn new(seed: u64, pool: &'p Pool) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            pool,
            typical: false,
        }
    }

    pub fn typical(mut self) -> Self {
        self.typical = true;
        self
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// In `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    /// A short lowercase word.
    pub fn word(&mut self) -> String {
        let len = self.rng.random_range(3..10);
        (0..len)
            .map(|_| char::from(b'a' + self.rng.random_range(0..26u8)))
            .collect()
    }

    /// A value of the pool under `name`, some of the time when there is one.
    pub fn known(&mut self, name: &str) -> Option<String> {
        let pool = self.pool;
        let values = pool.get(name);
        if values.is_empty() || !self.chance(0.5) {
            return None;
        }
        self.pick(values).cloned()
    }

    /// A valid value of `schema` for something called `name`.
    pub fn value(&mut self, schema: &Value, name: &str, extent: Extent) -> Value {
        self.value_at(schema, name, extent, 0)
    }

    /// A valid parameter value, as text (arrays comma-separated, as Ironclad takes them).
    pub fn text(&mut self, schema: &Value, name: &str) -> String {
        as_text(&self.value(schema, name, Extent::Required))
    }

    fn value_at(&mut self, schema: &Value, name: &str, extent: Extent, depth: usize) -> Value {
        let schema = &merged(schema, self);
        if let Some(values) = schema["enum"].as_array() {
            let values: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            if let Some(v) = self.pick(&values) {
                return (*v).clone();
            }
        }
        // The document's own default or example is often the value that works.
        for annotation in ["default", "example"] {
            if let Some(value) = schema.get(annotation).filter(|v| !v.is_null())
                && (self.typical || self.chance(0.5))
            {
                return value.clone();
            }
        }
        if schema["nullable"] == true && self.chance(0.05) {
            return Value::Null;
        }
        let extent = if depth > DEEP {
            Extent::Required
        } else {
            extent
        };
        match kind(schema) {
            "object" => self.object(schema, extent, depth),
            "array" => {
                let least = count(schema, "minItems").unwrap_or(0);
                let most = count(schema, "maxItems").unwrap_or(least + 3).max(least);
                let extra = if extent == Extent::Full { 2 } else { 1 };
                // Mostly not empty: an empty array rarely gets a handler past its checks.
                let first = if least == 0 && !self.chance(0.1) {
                    1
                } else {
                    least
                };
                let n = self
                    .rng
                    .random_range(first.min(most)..=(least + extra).min(most));
                (0..n)
                    .map(|_| self.value_at(&schema["items"], name, extent, depth + 1))
                    .collect()
            }
            // The declared bounds themselves, some of the time: where arithmetic overflows.
            "integer" | "number" if self.chance(0.1) => {
                let bounds: Vec<Value> = ["minimum", "maximum"]
                    .iter()
                    .filter_map(|k| schema.get(*k).cloned())
                    .collect();
                self.pick(&bounds).cloned().unwrap_or(json!(0))
            }
            "integer" => {
                let (low, high) = range(schema, 0.0, 100.0);
                json!(
                    self.rng
                        .random_range(low.ceil() as i64..=high.floor() as i64)
                )
            }
            "number" => {
                let (low, high) = range(schema, 0.0, 1000.0);
                let n = self.rng.random_range(low..=high);
                json!((n * 100.0).round() / 100.0)
            }
            "boolean" => json!(self.chance(0.5)),
            _ => Value::String(self.string(schema, name)),
        }
    }

    fn object(&mut self, schema: &Value, extent: Extent, depth: usize) -> Value {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let properties = schema["properties"].as_object();
        // Some of the time, the string fields of one object the emulator holds go together.
        let names: Vec<&str> = properties
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        let pool = self.pool;
        let sources = pool.objects_with(&names);
        let source = if self.chance(0.6) {
            self.pick(&sources).copied()
        } else {
            None
        };
        let mut out = Map::new();
        for (key, property) in properties.into_iter().flatten() {
            let along = source.and_then(|s| s.get(key)).filter(|value| {
                kind(property) == "string"
                    && property["enum"]
                        .as_array()
                        .is_none_or(|e| e.iter().any(|v| v == *value))
            });
            // What the source holds goes along, optional or not.
            let wanted = along.is_some()
                || required.contains(&key.as_str())
                || (extent == Extent::Full && property["readOnly"] != true && self.chance(0.5));
            if !wanted {
                continue;
            }
            let value = match along {
                Some(value) => Value::String(value.clone()),
                None => self.value_at(property, key, extent, depth + 1),
            };
            out.insert(key.clone(), value);
        }
        // A required property the schema does not declare (the document has some): a string.
        for name in required {
            if !out.contains_key(name) {
                let value = self.string(&json!({}), name);
                out.insert(name.to_owned(), Value::String(value));
            }
        }
        if schema["properties"].as_object().is_none_or(Map::is_empty)
            && let Some(extra) = schema["additionalProperties"].as_object()
            && extent == Extent::Full
        {
            for _ in 0..self.below(3) {
                let key = self.word();
                let value = self.value_at(&Value::Object(extra.clone()), &key, extent, depth + 1);
                out.insert(key, value);
            }
        }
        Value::Object(out)
    }

    fn string(&mut self, schema: &Value, name: &str) -> String {
        if let Some(known) = self.known(name) {
            return known;
        }
        let word = self.word();
        match schema["format"].as_str().unwrap_or_default() {
            // Some in the past, some in the future (schedules want the future).
            "date-time" => format!(
                "{}-{:02}-{:02}T{:02}:{:02}:00.000Z",
                2020 + self.below(15),
                1 + self.below(12),
                1 + self.below(28),
                self.below(24),
                self.below(60)
            ),
            "date" => format!(
                "{}-{:02}-{:02}",
                2020 + self.below(15),
                1 + self.below(12),
                1 + self.below(28)
            ),
            "email" => self
                .known("email")
                .unwrap_or_else(|| format!("{word}@example.com")),
            "uri" | "url" | "https-url" => format!("https://example.com/{word}"),
            _ => {
                let least = count(schema, "minLength").unwrap_or(0);
                let most = count(schema, "maxLength").unwrap_or(usize::MAX);
                let mut text = if !self.typical && self.chance(0.1) {
                    self.pick(ODD).map_or(word, |odd| (*odd).to_owned())
                } else {
                    word
                };
                while text.len() < least {
                    text.push('x');
                }
                text.truncate(most);
                text
            }
        }
    }

    /// A value `schema` refuses: another type, a value outside the enum, the range or the
    /// length. `None` when the schema accepts anything.
    pub fn wrong(&mut self, schema: &Value) -> Option<Value> {
        let schema = &merged(schema, self);
        let mut options: Vec<Value> = Vec::new();
        if schema["enum"].is_array() {
            options.push(json!("NOT-ONE-OF-THE-ENUM"));
        }
        match kind(schema) {
            "string" => options.extend([json!(12345), json!({ "not": "a string" })]),
            "integer" => options.extend([json!("twelve"), json!(1.5)]),
            "number" => options.push(json!("twelve")),
            "boolean" => options.extend([json!("maybe"), json!(1)]),
            "array" => options.push(json!({ "not": "an array" })),
            "object" => options.extend([json!("not an object"), json!([1, 2])]),
            _ => {}
        }
        if let Some(low) = schema["minimum"].as_f64() {
            options.push(json!(low - 1.0));
        }
        if let Some(high) = schema["maximum"].as_f64() {
            options.push(json!(high + 1.0));
        }
        if count(schema, "minLength").is_some_and(|n| n > 0) {
            options.push(json!(""));
        }
        if let Some(most) = count(schema, "maxLength") {
            options.push(json!("x".repeat(most + 1)));
        }
        self.pick(&options).cloned()
    }

    /// A parameter text `schema` refuses, if there is one.
    pub fn wrong_text(&mut self, schema: &Value) -> Option<String> {
        let schema = &merged(schema, self);
        let mut options: Vec<String> = Vec::new();
        if schema["enum"].is_array() {
            options.push("NOT-ONE-OF-THE-ENUM".into());
        }
        match kind(schema) {
            "integer" => options.extend(["twelve".into(), "1.5".into()]),
            "number" => options.push("twelve".into()),
            "boolean" => options.push("maybe".into()),
            _ => {}
        }
        if let Some(low) = schema["minimum"].as_i64() {
            options.push((low - 1).to_string());
        }
        if let Some(high) = schema["maximum"].as_i64() {
            options.push((high + 1).to_string());
        }
        self.pick(&options).cloned()
    }
}

/// `schema` with one branch of its `oneOf` / `anyOf` and all of its `allOf` folded in.
fn merged(schema: &Value, generator: &mut Generator<'_>) -> Value {
    let Some(map) = schema.as_object() else {
        return json!({});
    };
    let mut out = map.clone();
    let mut parts: Vec<Value> = Vec::new();
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = out.remove(key).as_ref().and_then(Value::as_array)
            && let Some(branch) = generator.pick(branches)
        {
            parts.push(branch.clone());
        }
    }
    if let Some(Value::Array(all)) = out.remove("allOf") {
        parts.extend(all);
    }
    for part in parts {
        let part = merged(&part, generator);
        for (key, value) in part.as_object().into_iter().flatten() {
            match (key.as_str(), out.get_mut(key)) {
                ("properties", Some(Value::Object(mine))) => {
                    mine.extend(value.as_object().cloned().unwrap_or_default());
                }
                ("required", Some(Value::Array(mine))) => {
                    mine.extend(value.as_array().cloned().unwrap_or_default());
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// The schema's type, inferred from its keywords when it names none.
pub fn kind(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(t) => t,
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "any",
    }
}

fn count(schema: &Value, keyword: &str) -> Option<usize> {
    schema[keyword].as_u64().map(|n| n as usize)
}

/// `[minimum, maximum]`, kept near the low end when the schema allows a wide range.
fn range(schema: &Value, low: f64, span: f64) -> (f64, f64) {
    let low = schema["minimum"].as_f64().unwrap_or(low);
    let high = schema["maximum"]
        .as_f64()
        .unwrap_or(low + span)
        .min(low + span);
    (low, high.max(low))
}

/// A parameter's value as text.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A property an object schema declares.
pub struct Field {
    pub name: String,
    pub schema: Value,
    pub required: bool,
}

/// The properties of an object schema, over all of its `oneOf` / `anyOf` / `allOf` branches.
pub fn fields(schema: &Value) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        out.push(Field {
            name: name.clone(),
            schema: property.clone(),
            required: required.contains(&name.as_str()),
        });
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for branch in schema[key].as_array().into_iter().flatten() {
            for field in fields(branch) {
                match out.iter_mut().find(|f| f.name == field.name) {
                    Some(known) => known.required |= field.required,
                    None => out.push(field),
                }
            }
        }
    }
    out
}
