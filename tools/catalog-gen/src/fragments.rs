//! Schemas written as text pieces, each subtree that schemas repeat stored once. Ironclad's
//! record, entity and property shapes recur in dozens of operations: written out, the CLM
//! schemas are about 720 KB of text; stored this way, about 160 KB. The connector puts the
//! pieces back together (`catalog::SchemaText`), so every schema reads exactly as written out.

use std::collections::HashMap;

use serde_json::Value;

use crate::render::raw_string;

/// Subtrees shorter than this are written in place: a reference would save too little.
const MIN_SHARED_BYTES: usize = 200;

enum Piece {
    Text(String),
    Shared(usize),
}

/// The shared subtrees of one generated file's schemas.
pub struct Fragments {
    /// Shared subtrees in the order they are numbered, as compact JSON text.
    texts: Vec<String>,
    values: Vec<Value>,
    ids: HashMap<String, usize>,
}

impl Fragments {
    /// Every subtree of at least [`MIN_SHARED_BYTES`] that occurs twice or more in `schemas`.
    pub fn plan<'a>(schemas: impl IntoIterator<Item = &'a Value>) -> Fragments {
        let mut seen: HashMap<String, (usize, Value)> = HashMap::new();
        let mut order = Vec::new();
        for schema in schemas {
            count(schema, &mut seen, &mut order);
        }
        let mut fragments = Fragments {
            texts: Vec::new(),
            values: Vec::new(),
            ids: HashMap::new(),
        };
        for text in order {
            let (n, value) = &seen[&text];
            if *n >= 2 {
                fragments.ids.insert(text.clone(), fragments.texts.len());
                fragments.texts.push(text);
                fragments.values.push(value.clone());
            }
        }
        fragments
    }

    /// The shared subtrees as Rust statics `F0`, `F1`, …
    pub fn statics(&self) -> String {
        let mut out = String::new();
        for (id, value) in self.values.iter().enumerate() {
            let pieces = self.pieces(value);
            out.push_str(&format!(
                "static F{id}: [Piece; {}] = [{}];\n",
                pieces.len(),
                render(&pieces)
            ));
        }
        out
    }

    /// `schema` as a `SchemaText` expression.
    pub fn schema(&self, schema: &Value) -> String {
        let text = compact(schema);
        if let Some(id) = self.ids.get(&text) {
            return format!("SchemaText(&F{id})");
        }
        let pieces = self.pieces(schema);
        debug_assert_eq!(self.rebuild(&pieces), text);
        format!("SchemaText(&[{}])", render(&pieces))
    }

    /// `value` written out, its shared subtrees (not itself) by reference.
    fn pieces(&self, value: &Value) -> Vec<Piece> {
        let mut pieces = Vec::new();
        self.write(value, true, &mut pieces);
        pieces
    }

    fn write(&self, value: &Value, top: bool, out: &mut Vec<Piece>) {
        if !top && let Some(id) = self.ids.get(&compact(value)) {
            out.push(Piece::Shared(*id));
            return;
        }
        match value {
            Value::Object(map) => {
                text(out, "{");
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        text(out, ",");
                    }
                    text(out, &compact(&Value::String(key.clone())));
                    text(out, ":");
                    self.write(item, false, out);
                }
                text(out, "}");
            }
            Value::Array(items) => {
                text(out, "[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        text(out, ",");
                    }
                    self.write(item, false, out);
                }
                text(out, "]");
            }
            scalar => text(out, &compact(scalar)),
        }
    }

    /// The text `pieces` stand for (what the connector reassembles).
    fn rebuild(&self, pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Shared(id) => self.texts[*id].clone(),
            })
            .collect()
    }
}

fn count(value: &Value, seen: &mut HashMap<String, (usize, Value)>, order: &mut Vec<String>) {
    let text = compact(value);
    if text.len() >= MIN_SHARED_BYTES {
        let entry = seen.entry(text.clone()).or_insert_with(|| {
            order.push(text);
            (0, value.clone())
        });
        entry.0 += 1;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| count(v, seen, order)),
        Value::Array(items) => items.iter().for_each(|v| count(v, seen, order)),
        _ => {}
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).expect("JSON values always serialise")
}

/// Append `s`, joining it to the text piece before it.
fn text(out: &mut Vec<Piece>, s: &str) {
    match out.last_mut() {
        Some(Piece::Text(t)) => t.push_str(s),
        _ => out.push(Piece::Text(s.to_string())),
    }
}

fn render(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => format!("Piece::Text({})", raw_string(t)),
            Piece::Shared(id) => format!("Piece::Shared(&F{id})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repeated_subtrees_are_stored_once_and_rebuild_exactly() {
        // Long as a whole, every part short.
        let shared: Value = (0..40).map(|i| (format!("k{i}"), json!(i))).collect();
        let a = json!({ "type": "object", "properties": { "a": shared.clone(), "n": { "type": "integer" } } });
        let b = json!({ "type": "array", "items": shared });
        let plan = Fragments::plan([&a, &b]);
        assert_eq!(plan.texts, vec![compact(&shared)]);
        for schema in [&a, &b] {
            let pieces = plan.pieces(schema);
            assert!(pieces.iter().any(|p| matches!(p, Piece::Shared(0))));
            assert_eq!(plan.rebuild(&pieces), compact(schema));
        }
        assert_eq!(
            plan.schema(&b),
            r##"SchemaText(&[Piece::Text(r#"{"type":"array","items":"#), Piece::Shared(&F0), Piece::Text(r#"}"#)])"##
        );
    }

    #[test]
    fn a_schema_repeated_whole_is_one_reference() {
        let whole: Value = (0..40).map(|i| (format!("k{i}"), json!(i))).collect();
        let plan = Fragments::plan([&whole, &whole]);
        assert_eq!(plan.schema(&whole), "SchemaText(&F0)");
        assert!(
            plan.statics()
                .starts_with("static F0: [Piece; 1] = [Piece::Text(")
        );
    }

    #[test]
    fn short_or_single_subtrees_stay_in_place() {
        let a = json!({ "type": "object", "properties": { "id": { "type": "string" } } });
        let plan = Fragments::plan([&a, &a.clone()]);
        assert!(plan.texts.is_empty());
        assert_eq!(
            plan.schema(&a),
            format!("SchemaText(&[Piece::Text({})])", raw_string(&compact(&a)))
        );
    }
}
