//! How the generated manifest (`generated.rs`) stores each schema `describe` gives, and how
//! `describe` copies it out. The catalog is static, so every schema's final text (after
//! `options::annotations`) is known at build time; `describe` only copies it, instead of
//! building and annotating every schema in each fresh instance (#22).

use crate::catalog::SchemaText;

/// One schema as `describe` gives it.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// Written out in the generated file (its repeated subtrees stored once).
    Text(SchemaText),
    /// The action's own catalog row schema with these edits (none: the row's text as it is).
    /// The row's text is already in the component; only what annotations add is stored.
    Row(&'static [Edit]),
}

/// Bytes `start..end` of a row's schema text replaced by `with` (`start == end` inserts).
#[derive(Debug, Clone, Copy)]
pub struct Edit {
    pub start: u32,
    pub end: u32,
    pub with: SchemaText,
}

/// The schemas (input, output) of one action or trigger.
pub type Entry = (&'static str, Schema, Schema);

impl Schema {
    /// The schema's text; `row` is the action's catalog row schema, for [`Schema::Row`].
    pub fn text(self, row: Option<SchemaText>) -> String {
        match (self, row) {
            (Schema::Text(text), _) => text.text().into_owned(),
            (Schema::Row(edits), Some(row)) => patched(row, edits),
            (Schema::Row(_), None) => panic!("a catalog row schema without its row"),
        }
    }
}

/// The entry of `key` in a table sorted by key (the generator sorts them).
pub fn find(table: &'static [Entry], key: &str) -> Option<&'static Entry> {
    table
        .binary_search_by(|(k, _, _)| (*k).cmp(key))
        .ok()
        .map(|i| &table[i])
}

/// `row` with `edits` (sorted by position, not overlapping) applied, copying each piece of
/// the row once rather than putting the row's text together first.
fn patched(row: SchemaText, edits: &[Edit]) -> String {
    let extra: usize = edits.iter().map(|e| e.with.len()).sum();
    let mut out = String::with_capacity(row.len() + extra);
    let mut edits = edits.iter().peekable();
    // Where the current piece starts in the row's text, and how far the row is written
    // or replaced.
    let mut at = 0;
    let mut done = 0;
    row.for_each_chunk(&mut |chunk| {
        let end = at + chunk.len();
        while let Some(edit) = edits.next_if(|e| (e.start as usize) < end) {
            let start = edit.start as usize;
            if done.max(at) < start {
                out.push_str(&chunk[done.max(at) - at..start - at]);
            }
            edit.with.for_each_chunk(&mut |text| out.push_str(text));
            done = done.max(edit.end as usize);
        }
        if done < end {
            out.push_str(&chunk[done.max(at) - at..]);
        }
        at = end;
    });
    // Inserts at the very end.
    for edit in edits {
        edit.with.for_each_chunk(&mut |text| out.push_str(text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Piece;

    static INNER: [Piece; 2] = [Piece::Text("bc"), Piece::Text("de")];
    static ROW: [Piece; 3] = [Piece::Text("a"), Piece::Shared(&INNER), Piece::Text("fg")];

    fn with(text: &'static [Piece]) -> SchemaText {
        SchemaText(text)
    }

    /// Edits across piece boundaries, at both ends and several at one place give what
    /// editing the whole text gives.
    #[test]
    fn edits_land_where_the_whole_text_would_put_them() {
        static X: [Piece; 1] = [Piece::Text("X")];
        static YZ: [Piece; 2] = [Piece::Text("Y"), Piece::Text("Z")];
        let row = SchemaText(&ROW);
        let whole = row.text().into_owned();
        assert_eq!(whole, "abcdefg");
        type Case = (Vec<(u32, u32, SchemaText)>, &'static str);
        let cases: Vec<Case> = vec![
            (vec![], "abcdefg"),
            (vec![(0, 0, with(&X))], "Xabcdefg"),
            (vec![(7, 7, with(&X))], "abcdefgX"),
            (vec![(1, 1, with(&X)), (1, 1, with(&YZ))], "aXYZbcdefg"),
            (vec![(2, 6, with(&X))], "abXg"),
            (vec![(0, 7, with(&YZ))], "YZ"),
            (
                vec![(1, 2, with(&X)), (3, 3, with(&YZ)), (5, 7, with(&X))],
                "aXcYZdeX",
            ),
        ];
        for (edits, expected) in cases {
            let edits: Vec<Edit> = edits
                .into_iter()
                .map(|(start, end, with)| Edit { start, end, with })
                .collect();
            let edits: &'static [Edit] = Vec::leak(edits);
            assert_eq!(Schema::Row(edits).text(Some(row)), expected);
        }
    }
}
