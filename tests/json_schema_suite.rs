//! The official JSON Schema Test Suite's draft 2020-12 cases for every keyword the validator
//! applies or ignores on purpose (`schema::KEYWORDS`, `schema::ANNOTATIONS`), from
//! `fixtures/json-schema-test-suite` (see its README for the source and commit). Every case
//! must pass, except those in [`SKIPPED`]: each exercises a keyword the validator does not
//! implement, and says which.

use std::path::Path;

use ironclad_connector::schema;
use serde_json::Value;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/json-schema-test-suite/tests/draft2020-12"
);

/// `(file, group description, why)`: whole groups the validator is not meant to pass.
const SKIPPED: &[(&str, &str, &str)] = &[
    (
        "additionalProperties.json",
        "additionalProperties being false does not allow other properties",
        PATTERN_PROPERTIES,
    ),
    (
        "additionalProperties.json",
        "non-ASCII pattern with additionalProperties",
        PATTERN_PROPERTIES,
    ),
    (
        "properties.json",
        "properties, patternProperties, additionalProperties interaction",
        PATTERN_PROPERTIES,
    ),
    (
        "allOf.json",
        "allOf combined with anyOf, oneOf",
        MULTIPLE_OF,
    ),
    ("if-then-else.json", "if and else without then", MULTIPLE_OF),
    (
        "if-then-else.json",
        "validate against correct branch, then vs else",
        MULTIPLE_OF,
    ),
    ("items.json", "items and subitems", REF),
    (
        "items.json",
        "prefixItems with no additional items allowed",
        PREFIX_ITEMS,
    ),
    (
        "items.json",
        "prefixItems validation adjusts the starting index for items",
        PREFIX_ITEMS,
    ),
    ("items.json", "items with heterogeneous array", PREFIX_ITEMS),
    (
        "uniqueItems.json",
        "uniqueItems with an array of items and additionalItems=false",
        PREFIX_ITEMS,
    ),
    (
        "uniqueItems.json",
        "uniqueItems=false with an array of items and additionalItems=false",
        PREFIX_ITEMS,
    ),
];

// Keywords no schema the connector serves uses, so the validator leaves them out.
const PATTERN_PROPERTIES: &str = "patternProperties: no regex engine in the component";
const MULTIPLE_OF: &str = "multipleOf: not implemented";
const PREFIX_ITEMS: &str = "prefixItems: not implemented (tuples); `items` then covers every item";
const REF: &str = "$ref and $defs: the catalog inlines every subschema";

#[test]
fn draft2020_12_cases_for_the_supported_keywords_pass() {
    let mut failures = Vec::new();
    let mut skipped_seen = Vec::new();
    let mut cases = 0;
    let mut files: Vec<_> = std::fs::read_dir(SUITE)
        .expect("the suite's files are committed")
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for path in &files {
        let file = path.file_name().unwrap().to_str().unwrap();
        for group in read(path).as_array().unwrap() {
            let description = group["description"].as_str().unwrap();
            if let Some(skip) = SKIPPED
                .iter()
                .find(|(f, d, _)| *f == file && *d == description)
            {
                skipped_seen.push(skip);
                continue;
            }
            for case in group["tests"].as_array().unwrap() {
                cases += 1;
                let expected = case["valid"].as_bool().unwrap();
                let got = schema::validate(&group["schema"], &case["data"]);
                if got.is_ok() != expected {
                    failures.push(format!(
                        "{file}: {description}: {}: expected {}, got {got:?}",
                        case["description"].as_str().unwrap(),
                        if expected { "valid" } else { "invalid" },
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let stale: Vec<_> = SKIPPED
        .iter()
        .filter(|s| !skipped_seen.contains(s))
        .collect();
    assert!(
        stale.is_empty(),
        "skipped groups the suite does not have: {stale:?}"
    );
}

#[test]
fn the_suite_files_are_the_keywords_the_validator_knows() {
    let mut covered: Vec<&str> = Vec::new();
    for entry in std::fs::read_dir(SUITE).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let keywords: Vec<&str> = match stem.as_str() {
            "boolean_schema" => vec![], // `true` and `false` as schemas
            "if-then-else" => vec!["if", "then", "else"],
            "content" => vec!["contentEncoding", "contentMediaType", "contentSchema"],
            one => vec![one],
        };
        for keyword in keywords {
            let keyword = schema::KEYWORDS
                .iter()
                .chain(schema::ANNOTATIONS)
                .find(|k| **k == keyword)
                .unwrap_or_else(|| {
                    panic!("{stem}.json is for a keyword the validator does not know")
                });
            covered.push(keyword);
        }
    }
    // `format` is applied to Ironclad's formats only; the suite holds it to the spec's default,
    // an annotation, so its cases are not ours.
    let missing: Vec<_> = schema::KEYWORDS
        .iter()
        .filter(|k| **k != "format" && !covered.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "keywords without their suite file: {missing:?}"
    );
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
