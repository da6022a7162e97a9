//! Every relative link in the README and `docs/` reaches a file, and every `#anchor` a heading
//! of that file, so moving a page or renaming a heading cannot leave a reader at a dead end.

use std::path::{Path, PathBuf};

fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

/// The targets of `[text](target)` links.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut dead = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !target.exists() {
                dead.push(format!("{}: {link}: no such file", page.display()));
                continue;
            }
            if !fragment.is_empty() && !fragment.starts_with('L') {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == fragment) {
                    dead.push(format!("{}: {link}: no such heading", page.display()));
                }
            }
        }
    }
    assert!(dead.is_empty(), "{}", dead.join("\n"));
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        anchor(" SCIM: users and groups (`api_type: clm_scim`)"),
        "scim-users-and-groups-api_type-clm_scim"
    );
    assert_eq!(links("see [a](b.md#c) and [d](e)"), ["b.md#c", "e"]);
}

/// The folders a page may name in backticks as a place in this repository.
const TREE_ROOTS: &[&str] = &[
    "src/",
    "emulator/",
    "host-harness/",
    "fixtures/",
    "tools/",
    "tests/",
    "wit/",
    "docs/",
    "fixture-guest/",
    "packaging/",
];

/// Backticked repository paths (`` `src/executor.rs` ``): the first word of each inline code
/// span that starts at one of [`TREE_ROOTS`]. Patterns (`<name>`, `*`, `{a,b}`, `[-2]`, `…`) are
/// templates for files a reader would add, not places, so they are left out.
fn tree_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| span.split_whitespace().next())
        .map(|word| word.trim_end_matches([',', '.', ':', ';', ')']))
        .filter(|word| TREE_ROOTS.iter().any(|root| word.starts_with(root)))
        .filter(|word| !word.contains(['<', '*', '{', '[', '…', '$']))
        .map(|word| word.split_once(':').map_or(word, |(path, _)| path))
        // A folder ends in `/`, a file has an extension; `tools/list` is an MCP method.
        .filter(|path| {
            path.ends_with('/') || path.rsplit('/').next().is_some_and(|f| f.contains('.'))
        })
        .map(str::to_owned)
        .collect()
}

/// A page that names `src/clickwrap/catalog.rs` after the file moved sends a newcomer looking
/// for something that is not there: every named path must exist.
#[test]
fn every_path_a_page_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for path in tree_paths(&text) {
            if !root.join(&path).exists() {
                missing.push(format!("{}: `{path}` does not exist", page.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn tree_paths_are_the_first_word_of_code_spans() {
    assert_eq!(
        tree_paths(
            "see `src/a.rs`, `cargo run`, `emulator/src/x.rs:12`, `tools/list`, `docs/` and `src/<new>/mod.rs`"
        ),
        ["src/a.rs", "emulator/src/x.rs", "docs/"]
    );
}
