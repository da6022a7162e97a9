//! `/public/api/v1/search/conversational`: a deterministic stand-in for Ironclad's AI search.
//! The question's keywords are matched against the records (name, Ironclad id, type, text
//! property values) and workflows (title, Ironclad id, status, template name, text attribute
//! values) the emulator holds; the best matches make the prose `result`, and the matched
//! records — plus the records of matched workflows — the `records` map
//! (`{recordId: {url}}`, `url` being the record's dashboard page on the emulator's host).

use std::cmp::Reverse;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::store::seed::ironclad_number;

pub const CONVERSATIONAL: &str = "public.search.conversational";
pub const READ_RECORDS: &str = "public.records.readRecords";
pub const READ_WORKFLOWS: &str = "public.workflows.readWorkflows";

const MODEL_TIERS: [&str; 4] = ["ultrafast", "fast", "standard", "powerful"];

/// Most records and workflows named in one answer.
const MAX_HITS: usize = 5;

/// Words that say nothing about which contract is meant.
const STOPWORDS: [&str; 40] = [
    "the",
    "and",
    "for",
    "with",
    "which",
    "what",
    "who",
    "whom",
    "are",
    "is",
    "was",
    "were",
    "our",
    "all",
    "any",
    "show",
    "list",
    "find",
    "me",
    "give",
    "contracts",
    "contract",
    "agreements",
    "workflows",
    "workflow",
    "records",
    "record",
    "that",
    "this",
    "have",
    "has",
    "does",
    "did",
    "from",
    "about",
    "there",
    "their",
    "its",
    "how",
    "many",
];

pub fn routes() -> Router<Emulator> {
    // action: run_conversational_search
    Router::new().route("/public/api/v1/search/conversational", post(run))
}

async fn run(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    // The spec's `security` lists all three scopes.
    for scope in [CONVERSATIONAL, READ_RECORDS, READ_WORKFLOWS] {
        actor.require_scope(scope)?;
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        ));
    };
    let question = match body.get("query") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "query",
            ));
        }
        Some(Value::String(q)) if !q.trim().is_empty() => q.trim().to_owned(),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query must be a non-empty string",
                "query",
            ));
        }
    };
    if let Some(tier) = body.get("modelTier").filter(|v| !v.is_null())
        && !tier.as_str().is_some_and(|t| MODEL_TIERS.contains(&t))
    {
        return Err(ApiError::invalid_param(
            format!(
                "invalid value {tier}; value must be one of [{}]",
                MODEL_TIERS.join(", ")
            ),
            "modelTier",
        ));
    }
    if let Some(tz) = body.get("userTimezone").filter(|v| !v.is_null())
        && tz.as_str().is_none_or(|t| t.trim().is_empty())
    {
        return Err(ApiError::invalid_param(
            "userTimezone must be an IANA timezone name",
            "userTimezone",
        ));
    }
    Ok(Json(answer(&emu, &question)))
}

/// A hit: score, Ironclad number (for a stable order), id, line of prose.
type Hit = (usize, u64, String, String);

fn answer(emu: &Emulator, question: &str) -> Value {
    let words = keywords(question);
    let base = emu.base_url();
    let data = emu.data();
    let mut records: Vec<Hit> = data
        .repository
        .records
        .iter()
        .filter_map(|r| {
            let mut text = vec![r.name.clone(), r.ironclad_id.clone(), r.kind.clone()];
            text.extend(r.properties.values().filter_map(|p| text_of(&p["value"])));
            let score = score(&words, &text);
            (score > 0).then(|| {
                (
                    score,
                    ironclad_number(&r.ironclad_id).unwrap_or(u64::MAX),
                    r.id.clone(),
                    format!("{} {} (record)", r.ironclad_id, r.name),
                )
            })
        })
        .collect();
    let mut workflows: Vec<Hit> = data
        .workflows
        .iter()
        .filter_map(|w| {
            let mut text = vec![w.title.clone(), w.ironclad_id.clone(), w.status.clone()];
            if let Some(t) = emu.seed().template(&w.template) {
                text.push(t.name.clone());
            }
            text.extend(w.attributes.values().filter_map(text_of));
            let score = score(&words, &text);
            (score > 0).then(|| {
                (
                    score,
                    ironclad_number(&w.ironclad_id).unwrap_or(u64::MAX),
                    w.id.clone(),
                    format!("{} {} ({} workflow)", w.ironclad_id, w.title, w.status),
                )
            })
        })
        .collect();
    let best = |hits: &mut Vec<Hit>| {
        hits.sort_by_key(|(score, number, id, _)| (Reverse(*score), *number, id.clone()));
        hits.truncate(MAX_HITS);
    };
    best(&mut records);
    best(&mut workflows);
    // Records surfaced: those matched, then those the matched workflows created.
    let mut surfaced: Vec<String> = records.iter().map(|(_, _, id, _)| id.clone()).collect();
    for (_, _, id, _) in &workflows {
        if let Some(w) = data.workflows.iter().find(|w| &w.id == id) {
            for record in &w.record_ids {
                if !surfaced.contains(record) && data.repository.record(record).is_some() {
                    surfaced.push(record.clone());
                }
            }
        }
    }
    let map: Map<String, Value> = surfaced
        .iter()
        .map(|id| (id.clone(), json!({ "url": format!("{base}/records/{id}") })))
        .collect();
    let result = if records.is_empty() && workflows.is_empty() {
        format!("I could not find any records or workflows matching \"{question}\".")
    } else {
        let mut lines = vec![format!("Here is what matches \"{question}\":")];
        lines.extend(
            records
                .iter()
                .chain(&workflows)
                .map(|(_, _, _, line)| format!("- {line}")),
        );
        lines.join("\n")
    };
    json!({ "result": result, "records": map })
}

/// Lower-case alphanumeric words of three or more characters (or Ironclad ids like `ic-12`),
/// stopwords dropped, repeats removed.
fn keywords(question: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in question
        .to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
    {
        let id_like = word.starts_with("ic-") && word.len() > 3;
        if (word.chars().count() >= 3 || id_like)
            && !STOPWORDS.contains(&word)
            && !out.iter().any(|w| w == word)
        {
            out.push(word.to_owned());
        }
    }
    out
}

/// How many keywords occur as whole words in `text` (an Ironclad id must match exactly).
fn score(words: &[String], text: &[String]) -> usize {
    let haystack: Vec<String> = text
        .iter()
        .flat_map(|t| {
            t.to_lowercase()
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .map(|w| w.trim_matches('-').to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words
        .iter()
        .filter(|w| haystack.iter().any(|h| h == *w))
        .count()
}

/// The searchable text of a value: strings, and numbers as written.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_scores() {
        assert_eq!(
            keywords("Which contracts with Globex are active? See IC-12."),
            ["globex", "active", "see", "ic-12"]
        );
        let text = vec![
            "Mutual NDA with Globex Corporation".to_owned(),
            "IC-1".to_owned(),
        ];
        assert_eq!(score(&keywords("globex corporation"), &text), 2);
        assert_eq!(score(&keywords("IC-12"), &text), 0);
        assert_eq!(score(&keywords("glob"), &text), 0);
    }
}
