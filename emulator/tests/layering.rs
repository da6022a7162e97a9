//! The emulator's layering, checked from its source text: each top-level area may use only the
//! areas below it, so that state never depends on HTTP and no two folders import each other.
//!
//! ```text
//! router.rs  →  api/  →  infra/  →  emulator.rs  →  store/
//! ```
//!
//! `lib.rs` (the crate root: public re-exports and `serve`) wires everything and is not checked.
//! Also: no hand-written, non-test file under `src/` is longer than [`MAX_LINES`], so a file
//! that grows past it is split by concern before it becomes hard to review.

use std::path::{Path, PathBuf};

/// The areas, lowest first: a file may import its own area and those before it.
const LAYERS: [&str; 5] = ["store", "emulator", "infra", "api", "router"];

/// The longest a hand-written, non-test source file may be.
const MAX_LINES: usize = 600;

/// One import of a later layer.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    import: String,
    from: &'static str,
    to: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: `{}` makes {} depend on {}, but the allowed direction is {} \
             (each area uses only those to its right)",
            self.file,
            self.line,
            self.import,
            self.from,
            self.to,
            LAYERS
                .iter()
                .rev()
                .map(|l| match *l {
                    "emulator" | "router" => format!("{l}.rs"),
                    _ => format!("{l}/"),
                })
                .collect::<Vec<_>>()
                .join(" → ")
        )
    }
}

fn rank(area: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == area)
}

/// The module path of a file relative to `src` (`api/records/files.rs` → `[api, records,
/// files]`, `api/records/mod.rs` → `[api, records]`); `None` for the crate root.
fn module_path(relative: &str) -> Option<Vec<String>> {
    let without = relative.strip_suffix(".rs")?;
    let mut parts: Vec<String> = without.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts.is_empty() {
        return None;
    }
    Some(parts)
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level areas a path reaches, given the module path it is resolved from: `crate::x…`
/// reaches `x`; `super::…` climbs from `module`; at the crate root a `{a::…, b::…}` group
/// reaches each of `a`, `b`. Paths that stay below the crate root reach `module`'s own area.
fn reached(module: &[String], path: &str) -> Vec<String> {
    let (mut at, mut rest): (Vec<String>, &str) = if let Some(rest) = path.strip_prefix("crate::") {
        (Vec::new(), rest)
    } else {
        (module.to_vec(), path)
    };
    while let Some(after) = rest.strip_prefix("super::") {
        at.pop();
        rest = after;
    }
    if let Some(top) = at.first() {
        return vec![top.clone()];
    }
    if let Some(group) = rest.strip_prefix('{') {
        // Only the first level of the group matters: each entry names an area.
        let mut depth = 0usize;
        let mut tops = Vec::new();
        let mut start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    start = true;
                    continue;
                }
                _ => {}
            }
            if start && !c.is_whitespace() {
                start = false;
                let name = ident(&group[i..]);
                if !name.is_empty() {
                    tops.push(name.to_owned());
                }
            }
        }
        return tops;
    }
    let name = ident(rest);
    if name.is_empty() {
        Vec::new()
    } else {
        vec![name.to_owned()]
    }
}

/// Every import in `source` (the file at `relative`, under `src/`) of a layer after its own.
/// Comment lines are skipped (doc links are not imports).
fn violations(relative: &str, source: &str) -> Vec<Violation> {
    let Some(module) = module_path(relative) else {
        return Vec::new();
    };
    let Some(from) = rank(&module[0]) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut starts: Vec<usize> = line.match_indices("crate::").map(|(i, _)| i).collect();
        // A `super::` chain not preceded by another path segment (`crate::`, `self::`, `x::`).
        starts.extend(
            line.match_indices("super::")
                .map(|(i, _)| i)
                .filter(|&i| !line[..i].ends_with("::")),
        );
        for start in starts {
            // Part of a longer identifier (`my_crate::`) is not a path start.
            if line[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let path = &line[start..];
            for top in reached(&module, path) {
                let Some(to) = rank(&top) else { continue };
                if to > from {
                    let import: String = path
                        .chars()
                        .take_while(|c| !matches!(c, ';' | '(' | ' ' | ')' | ',' | '<' | '>'))
                        .collect();
                    found.push(Violation {
                        file: relative.to_owned(),
                        line: n + 1,
                        import,
                        from: LAYERS[from],
                        to: LAYERS[to],
                    });
                }
            }
        }
    }
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as `(path relative to src with '/', text)`.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(src())
                .expect("under src")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            out.push((relative, text));
        }
    }
}

fn all_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    sources(&src(), &mut out);
    assert!(
        out.len() > 20,
        "expected the emulator's sources under {}",
        src().display()
    );
    out
}

#[test]
fn no_area_imports_a_later_layer() {
    let found: Vec<String> = all_sources()
        .iter()
        .flat_map(|(file, text)| violations(file, text))
        .map(|v| v.to_string())
        .collect();
    assert!(
        found.is_empty(),
        "{} import(s) against the layering:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// Test modules (`tests.rs`) and generated files (marked `@generated`) may be longer.
fn exempt(file: &str, text: &str) -> bool {
    file == "tests.rs"
        || file.ends_with("/tests.rs")
        || file.contains("/tests/")
        || text.lines().take(5).any(|l| l.contains("@generated"))
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let long: Vec<String> = all_sources()
        .iter()
        .filter(|(file, text)| !exempt(file, text))
        .map(|(file, text)| (file, text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(file, lines)| format!("src/{file}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split by concern):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_flags_imports_against_the_direction() {
    // A store importing infra, directly and through a group.
    let bad = violations(
        "store/faults.rs",
        "use crate::infra::faults::inject;\nuse crate::{store::ids, api::body};\n",
    );
    assert_eq!(
        bad.iter()
            .map(|v| (v.line, v.to, v.import.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "infra", "crate::infra::faults::inject"),
            (2, "api", "crate::{store::ids"),
        ]
    );
    assert!(bad[0].to_string().contains("store/faults.rs:1"));
    assert!(
        bad[0]
            .to_string()
            .contains("router.rs → api/ → infra/ → emulator.rs → store/")
    );
    // `super::` climbing out of infra into api; the emulator handle naming infra.
    assert_eq!(
        violations(
            "infra/contract/enforce.rs",
            "use super::super::super::api::x;"
        )
        .len(),
        1
    );
    assert_eq!(
        violations("emulator.rs", "    pub f: crate::infra::faults::Faults,").len(),
        1
    );
    // What the direction allows, comments, and paths that stay inside the area.
    let fine = "use crate::store::ids;\nuse crate::emulator::Emulator;\n\
                // see crate::api::records\nuse super::redact;\nuse super::*;\n";
    assert!(violations("infra/contract/enforce.rs", fine).is_empty());
    assert!(violations("router.rs", "use crate::api::records;").is_empty());
    assert!(violations("lib.rs", "use crate::router;").is_empty());
}

#[test]
fn the_line_limit_spares_tests_and_generated_files() {
    assert!(exempt("infra/contract/tests.rs", ""));
    assert!(exempt("api/x.rs", "// @generated by catalog-gen\n"));
    assert!(!exempt("api/launch.rs", "//! Launching a workflow"));
}
