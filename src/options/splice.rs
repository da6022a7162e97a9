//! Edits to a schema's JSON text without parsing it into a tree: find where the value at a
//! JSON Pointer lies, then insert members or replace the value in place. Annotations are added
//! this way (parsing and re-serialising every input schema was two thirds of `describe`'s
//! time when it annotated them itself), falling back to the tree when a text edit cannot be
//! made; the generated manifest stores these edits for catalog rows (`manifest::stored`).

use std::ops::Range;

/// The byte range of the value at `pointer` (RFC 6901) in `text`, a JSON document.
pub fn locate(text: &str, pointer: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, 0);
    if pointer.is_empty() {
        return Some(at..value_end(bytes, at)?);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match bytes.get(at)? {
            b'{' => member(text, at, &token)?,
            b'[' => element(bytes, at, token.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(at..value_end(bytes, at)?)
}

/// Where the value of member `name` of the object at `open` starts.
fn member(text: &str, open: usize, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, open + 1);
    if bytes.get(at) == Some(&b'}') {
        return None;
    }
    loop {
        let key_end = string_end(bytes, at)?;
        let key: String = serde_json::from_str(&text[at..key_end]).ok()?;
        at = skip_ws(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value = skip_ws(bytes, at + 1);
        if key == name {
            return Some(value);
        }
        at = skip_ws(bytes, value_end(bytes, value)?);
        match bytes.get(at)? {
            b',' => at = skip_ws(bytes, at + 1),
            _ => return None,
        }
    }
}

/// Where element `index` of the array at `open` starts.
fn element(bytes: &[u8], open: usize, index: usize) -> Option<usize> {
    let mut at = skip_ws(bytes, open + 1);
    if bytes.get(at) == Some(&b']') {
        return None;
    }
    for _ in 0..index {
        at = skip_ws(bytes, value_end(bytes, at)?);
        match bytes.get(at)? {
            b',' => at = skip_ws(bytes, at + 1),
            _ => return None,
        }
    }
    Some(at)
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// One past the end of the string starting at `at` (its opening quote).
pub fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// One past the end of the value starting at `at`.
pub fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                i += 1;
            }
            (i > at).then_some(i)
        }
    }
}

/// One edit of the original text: `range` replaced by `with` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub with: String,
}

/// An edit that adds member `name` with `value` (JSON text) to the object at `object`, or
/// `None` when it is not an object or already has that member.
pub fn add_member(text: &str, object: Range<usize>, name: &str, value: &str) -> Option<Edit> {
    let bytes = text.as_bytes();
    if bytes.get(object.start) != Some(&b'{') || member(text, object.start, name).is_some() {
        return None;
    }
    let empty = bytes.get(skip_ws(bytes, object.start + 1)) == Some(&b'}');
    let name = serde_json::to_string(name).ok()?;
    let with = if empty {
        format!("{name}:{value}")
    } else {
        format!("{name}:{value},")
    };
    Some(Edit {
        range: object.start + 1..object.start + 1,
        with,
    })
}

/// `edits` in the order they apply, or `None` when two of them touch the same bytes.
pub fn sorted(mut edits: Vec<Edit>) -> Option<Vec<Edit>> {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    for pair in edits.windows(2) {
        if pair[1].range.start < pair[0].range.end
            || (pair[1].range.start == pair[0].range.start && !pair[0].range.is_empty())
        {
            return None;
        }
    }
    Some(edits)
}

/// `text` with `edits` applied, or `None` when two of them touch the same bytes.
pub fn apply(text: &str, edits: Vec<Edit>) -> Option<String> {
    let edits = sorted(edits)?;
    let extra: usize = edits.iter().map(|e| e.with.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut at = 0;
    for edit in &edits {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.with);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const DOC: &str =
        r#" { "a" : {"b~c": [1, {"d/e": "x\"}]"}], "f": {} }, "g": -1.5e3 , "h": [] } "#;

    #[test]
    fn locates_what_a_parser_finds() {
        let doc: Value = serde_json::from_str(DOC).unwrap();
        for pointer in [
            "",
            "/a",
            "/a/b~0c",
            "/a/b~0c/0",
            "/a/b~0c/1/d~1e",
            "/a/f",
            "/g",
            "/h",
        ] {
            let range = locate(DOC, pointer).unwrap_or_else(|| panic!("{pointer}"));
            let found: Value = serde_json::from_str(&DOC[range]).unwrap();
            assert_eq!(Some(&found), doc.pointer(pointer), "{pointer}");
        }
        for missing in ["/x", "/a/b~0c/2", "/g/0", "/h/0", "a"] {
            assert_eq!(locate(DOC, missing), None, "{missing}");
        }
    }

    #[test]
    fn members_are_added_to_full_and_empty_objects_and_never_twice() {
        let edits = vec![
            add_member(DOC, locate(DOC, "/a").unwrap(), "n", "1").unwrap(),
            add_member(DOC, locate(DOC, "/a/f").unwrap(), "m", r#"{"k":[]}"#).unwrap(),
        ];
        let out: Value = serde_json::from_str(&apply(DOC, edits).unwrap()).unwrap();
        assert_eq!(out["a"]["n"], 1);
        assert_eq!(out["a"]["f"], json!({ "m": { "k": [] } }));
        assert_eq!(add_member(DOC, locate(DOC, "/a").unwrap(), "f", "1"), None);
        assert_eq!(add_member(DOC, locate(DOC, "/g").unwrap(), "n", "1"), None);
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let whole = locate(DOC, "/a").unwrap();
        let inner = add_member(DOC, locate(DOC, "/a/f").unwrap(), "m", "1").unwrap();
        let replace = Edit {
            range: whole,
            with: "0".into(),
        };
        assert_eq!(apply(DOC, vec![replace, inner]), None);
    }
}
