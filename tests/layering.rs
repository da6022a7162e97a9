//! The guest's layering, checked on its source text (`src/**/*.rs`):
//!
//! 1. Outside `src/api_types/`, no file names an API type folder (`api_types::clm_public`,
//!    `api_types::clm_scim`, `api_types::clickwrap`): the shared core and the dispatcher
//!    (`lib.rs`) reach a folder only through the table, `api_types::spec`/`api_types::all`.
//! 2. No API type folder names another one.
//! 3. `ApiType::<Variant>` appears only in the table (`src/api_types/mod.rs`), in the
//!    dispatcher (`src/lib.rs`), in `src/config.rs`, where the enum and its parsing live, and
//!    in the generated catalogs (`src/api_types/*/generated.rs`, written by
//!    `tools/catalog-gen`, which tags each row with its API type). Everything else asks the
//!    table, so a new API type is a new row there, not a new `match` arm in a dozen files.

use std::fs;
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Files allowed to name `ApiType` variants (relative to `src/`), besides generated catalogs.
const VARIANTS_ALLOWED: &[&str] = &["api_types/mod.rs", "lib.rs", "config.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The API type folders: the directories under `src/api_types/`.
fn folders() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(Path::new(SRC).join("api_types"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every source file as (path relative to `src/`, with `/`, and its text).
fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(SRC)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The folder a file belongs to, if it is in one.
fn folder_of(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("api_types/")?;
    rest.split_once('/').map(|(folder, _)| folder)
}

/// Lines of `text` naming the folder `folder` as a path: `api_types::folder` (also inside a
/// `use crate::api_types::{…}` group on one line).
fn names_folder(text: &str, folder: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.contains(&format!("api_types::{folder}"))
                || (line.contains("api_types::{")
                    && line
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|word| word == folder))
        })
        .map(|(n, line)| format!("{}: {}", n + 1, line.trim()))
        .collect()
}

/// Lines naming an `ApiType` variant (`ApiType::` then an upper-case letter).
fn names_variant(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.match_indices("ApiType::").any(|(at, m)| {
                line[at + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
            })
        })
        .map(|(n, line)| format!("{}: {}", n + 1, line.trim()))
        .collect()
}

#[test]
fn there_are_api_type_folders_to_check() {
    assert_eq!(folders(), ["clickwrap", "clm_public", "clm_scim"]);
}

#[test]
fn the_core_names_no_api_type_folder() {
    let mut found = Vec::new();
    for (rel, text) in sources().iter().filter(|(rel, _)| folder_of(rel).is_none()) {
        // The table maps types to folders: it is the one place that names them.
        if rel == "api_types/mod.rs" {
            continue;
        }
        for folder in folders() {
            for line in names_folder(text, &folder) {
                found.push(format!("src/{rel}:{line}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "outside src/api_types/, go through api_types::spec instead of naming a folder:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_api_type_folder_names_another() {
    let mut found = Vec::new();
    for (rel, text) in sources() {
        let Some(own) = folder_of(&rel) else { continue };
        for other in folders().iter().filter(|f| *f != own) {
            for line in names_folder(&text, other) {
                found.push(format!("src/{rel}:{line}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "API type folders depend on the core, never on each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn api_type_variants_are_named_only_by_the_table_the_dispatcher_and_config() {
    let mut found = Vec::new();
    for (rel, text) in sources() {
        let generated = folder_of(&rel).is_some() && rel.ends_with("/generated.rs");
        if generated || VARIANTS_ALLOWED.contains(&rel.as_str()) {
            continue;
        }
        for line in names_variant(&text) {
            found.push(format!("src/{rel}:{line}"));
        }
    }
    assert!(
        found.is_empty(),
        "ask the table (api_types::spec) instead of matching on ApiType:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(
        names_folder("use crate::api_types::clm_scim::errors;", "clm_scim").len(),
        1
    );
    assert_eq!(
        names_folder("use crate::api_types::{self, clickwrap};", "clickwrap").len(),
        1
    );
    assert!(names_folder("use crate::api_types::{self, ApiTypeSpec};", "clickwrap").is_empty());
    assert_eq!(names_variant("if t == ApiType::ClmScim {").len(), 1);
    assert!(names_variant("ApiType::all().map(spec)").is_empty());
}
