//! Judging an answer: its status is one the operation declares (or one every Ironclad operation
//! may give, see [`UNDECLARED_STATUSES`]), its content type is one declared for that status (or
//! there is no body where none is declared), and a JSON body matches the declared schema with
//! `format` asserted.

use anyhow::anyhow;
use axum::http::HeaderMap;
use serde_json::Value;

use super::errata::{UNDECLARED_STATUSES, Undeclared};
use super::request::{is_json, media_type};
use super::schema::{self, Checked, Formats, resolve_ref};
use super::{Operation, Violation};

/// Which statuses one entry of an operation's `responses` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusKey {
    Exact(u16),
    /// `4XX`: every status of one class (the first digit).
    Class(u16),
    Default,
}

impl StatusKey {
    fn parse(key: &str) -> anyhow::Result<Self> {
        if key == "default" {
            return Ok(Self::Default);
        }
        if let Some(class) = key
            .strip_suffix("XX")
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|d| (1..=5).contains(d))
        {
            return Ok(Self::Class(class));
        }
        key.parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .map(Self::Exact)
            .ok_or_else(|| anyhow!("`{key}` is not a response status"))
    }

    /// How well it covers `status`: exact before class before default.
    fn rank(self, status: u16) -> Option<u8> {
        match self {
            Self::Exact(s) if s == status => Some(0),
            Self::Class(c) if c == status / 100 => Some(1),
            Self::Default => Some(2),
            _ => None,
        }
    }
}

/// One declared answer of an operation.
pub(super) struct ResponseSpec {
    key: StatusKey,
    /// Media type (lower-case) → schema; empty when the answer has no body.
    content: Vec<(String, Option<Checked>)>,
}

impl ResponseSpec {
    /// Its schemas, each with where it is (`200 application/json`).
    pub(super) fn schemas(&self) -> impl Iterator<Item = (String, &Checked)> {
        let status = match self.key {
            StatusKey::Exact(s) => s.to_string(),
            StatusKey::Class(c) => format!("{c}XX"),
            StatusKey::Default => "default".into(),
        };
        self.content.iter().filter_map(move |(media, schema)| {
            schema.as_ref().map(|s| (format!("{status} {media}"), s))
        })
    }
}

/// The operation's `responses` map, `$ref`s resolved.
pub(super) fn parse(root: &Value, responses: Option<&Value>) -> anyhow::Result<Vec<ResponseSpec>> {
    let mut out = Vec::new();
    for (key, entry) in responses.and_then(Value::as_object).into_iter().flatten() {
        let entry = resolve_ref(root, entry, 0)?;
        let content = schema::content(root, entry, Formats::Assert)?
            .into_iter()
            .map(|(media, _, schema)| (media, schema))
            .collect();
        out.push(ResponseSpec {
            key: StatusKey::parse(key)?,
            content,
        });
    }
    Ok(out)
}

/// An answer as the contract sees it.
pub struct AnswerParts<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub(super) fn check(op: &Operation, answer: &AnswerParts<'_>) -> Result<(), Violation> {
    let declared = op
        .responses
        .iter()
        .filter_map(|r| r.key.rank(answer.status).map(|rank| (rank, r)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, r)| r);
    let Some(spec) = declared else {
        return undeclared(op, answer);
    };
    let sent = !answer.body.is_empty();
    let param = format!("response/{}", answer.status);
    if spec.content.is_empty() {
        return if sent {
            Err(Violation::new(
                &op.id,
                format!(
                    "status {} declares no body, but the answer has {} bytes",
                    answer.status,
                    answer.body.len()
                ),
                param,
            ))
        } else {
            Ok(())
        };
    }
    let accepted: Vec<&str> = spec.content.iter().map(|(m, _)| m.as_str()).collect();
    if !sent {
        return Err(Violation::new(
            &op.id,
            format!(
                "status {} declares a body ({}), but the answer is empty",
                answer.status,
                accepted.join(" or ")
            ),
            param,
        ));
    }
    let Some(media) = media_type(answer.headers) else {
        return Err(Violation::new(
            &op.id,
            format!(
                "the answer has a body but no content-type; status {} declares {}",
                answer.status,
                accepted.join(" or ")
            ),
            format!("{param}/content-type"),
        ));
    };
    let Some((_, schema)) = spec
        .content
        .iter()
        .find(|(declared, _)| covers(declared, &media))
    else {
        return Err(Violation::new(
            &op.id,
            format!(
                "content-type {media} is not declared for status {}; it declares {}",
                answer.status,
                accepted.join(" or ")
            ),
            format!("{param}/content-type"),
        ));
    };
    if !is_json(&media) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(answer.body).map_err(|e| {
        Violation::new(
            &op.id,
            format!("the answer is not valid JSON: {e}"),
            param.clone(),
        )
    })?;
    match schema.as_ref().and_then(|s| s.first_error(&value)) {
        None => Ok(()),
        Some((pointer, message)) => Err(Violation::new(
            &op.id,
            format!("answer {}{pointer}: {message}", answer.status),
            format!("{param}{pointer}"),
        )),
    }
}

/// A status the operation does not declare: allowed only when every Ironclad operation may
/// give it (with a JSON object, or no body), per [`UNDECLARED_STATUSES`].
fn undeclared(op: &Operation, answer: &AnswerParts<'_>) -> Result<(), Violation> {
    let has_path_parameter = op
        .segments
        .iter()
        .any(|s| matches!(s, super::Segment::Param(_)));
    let allowed = UNDECLARED_STATUSES.iter().any(|u| match u.applies {
        Undeclared::Everywhere => u.status == answer.status,
        Undeclared::NamedResource => has_path_parameter && u.status == answer.status,
    });
    let param = format!("response/{}", answer.status);
    if !allowed {
        let mut declared: Vec<String> = op
            .responses
            .iter()
            .map(|r| match r.key {
                StatusKey::Exact(s) => s.to_string(),
                StatusKey::Class(c) => format!("{c}XX"),
                StatusKey::Default => "default".into(),
            })
            .collect();
        declared.sort();
        return Err(Violation::new(
            &op.id,
            format!(
                "status {} is not declared (the operation declares {})",
                answer.status,
                declared.join(", ")
            ),
            param,
        ));
    }
    if answer.body.is_empty() {
        return Ok(());
    }
    let json = media_type(answer.headers).is_some_and(|m| is_json(&m));
    let object = json
        && serde_json::from_slice::<Value>(answer.body)
            .ok()
            .is_some_and(|v| v.is_object());
    if object {
        Ok(())
    } else {
        Err(Violation::new(
            &op.id,
            format!(
                "an undeclared status {} must carry a JSON object (an error) or nothing",
                answer.status
            ),
            param,
        ))
    }
}

/// Whether a declared media range (`application/json`, `text/*`, `*/*`) covers `media`.
fn covers(declared: &str, media: &str) -> bool {
    if declared == "*/*" || declared == media {
        return true;
    }
    declared
        .strip_suffix("/*")
        .is_some_and(|kind| media.split('/').next() == Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        assert_eq!(StatusKey::parse("204").unwrap(), StatusKey::Exact(204));
        assert_eq!(StatusKey::parse("4XX").unwrap(), StatusKey::Class(4));
        assert_eq!(StatusKey::parse("default").unwrap(), StatusKey::Default);
        for bad in ["2x", "600", "XX", ""] {
            assert!(StatusKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(StatusKey::Exact(404).rank(404), Some(0));
        assert_eq!(StatusKey::Class(4).rank(404), Some(1));
        assert_eq!(StatusKey::Class(4).rank(500), None);
        assert_eq!(StatusKey::Default.rank(500), Some(2));
    }

    #[test]
    fn media_ranges() {
        assert!(covers("application/json", "application/json"));
        assert!(covers("*/*", "application/pdf"));
        assert!(covers("text/*", "text/plain"));
        assert!(!covers("text/*", "application/json"));
        assert!(!covers("application/json", "text/plain"));
    }
}
