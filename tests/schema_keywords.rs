//! Every keyword of every schema the connector serves is one the validator applies or ignores
//! on purpose (`schema::knows`, over `schema::KEYWORDS` and `schema::ANNOTATIONS`): the
//! connection form, each action's and trigger's input and output schemas as `describe` gives
//! them, and the schemas that depend on the tenant (`dynamic::schemas`), built here from the
//! emulator's templates, workflows and records schema. Any other keyword would be ignored
//! without a word when inputs are validated.

use std::collections::BTreeMap;

use ironclad_connector::api_types::clm_public::dynamic;
use ironclad_connector::config::Connection;
use ironclad_connector::http::{HttpClient, Request, Response, TransportError};
use ironclad_connector::{describe, schema};
use serde_json::{Value, json};

/// Each keyword found, with the first place it was seen (`what#/json/pointer`).
type Found = BTreeMap<String, String>;

/// The keywords of `schema` and of every subschema in it.
fn keywords(schema: &Value, at: &str, found: &mut Found) {
    let Value::Object(map) = schema else {
        return; // `true` and `false` have no keywords.
    };
    for (keyword, value) in map {
        let here = format!("{at}/{}", keyword.replace('~', "~0").replace('/', "~1"));
        found.entry(keyword.clone()).or_insert_with(|| here.clone());
        match keyword.as_str() {
            // A map of subschemas.
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    keywords(sub, &format!("{here}/{name}"), found);
                }
            }
            // A list of subschemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                    keywords(sub, &format!("{here}/{i}"), found);
                }
            }
            // One subschema.
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => {
                keywords(value, &here, found);
            }
            // Values (`enum`, `default`, …) and extensions hold no subschemas.
            _ => {}
        }
    }
}

fn unknown(found: &Found) -> Vec<String> {
    found
        .iter()
        .filter(|(keyword, _)| !schema::knows(keyword))
        .map(|(keyword, at)| format!("`{keyword}` at {at}"))
        .collect()
}

#[test]
fn the_walk_reaches_nested_subschemas_and_finds_unknown_keywords() {
    let mut found = Found::new();
    let nested = json!({ "properties": { "a": { "anyOf": [{ "items": {
        "x-options": { "pattern": "an extension's value is no schema" },
        "enum": [{ "pattern": "nor is an enum's" }],
        "pattern": "^a" } }] } } });
    keywords(&nested, "test#", &mut found);
    assert_eq!(
        unknown(&found),
        ["`pattern` at test#/properties/a/anyOf/0/items/pattern"]
    );
}

#[test]
fn every_served_schema_uses_only_keywords_the_validator_knows() {
    let manifest = describe();
    let mut found = Found::new();
    let mut walk = |what: &str, text: &str| {
        let schema: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
        keywords(&schema, &format!("{what}#"), &mut found);
    };
    walk("connection", manifest.connection_schema);
    for a in &manifest.actions {
        walk(&format!("{} input", a.key), &a.input_schema);
        walk(&format!("{} output", a.key), &a.output_schema);
    }
    for t in &manifest.triggers {
        walk(&format!("{} input", t.key), &t.input_schema);
        walk(&format!("{} output", t.key), &t.output_schema);
    }
    dynamic_keywords(&mut found);
    let unknown = unknown(&found);
    assert!(
        unknown.is_empty(),
        "keywords the validator neither applies nor ignores on purpose (add them to \
         `schema::KEYWORDS` with an implementation, or to `schema::ANNOTATIONS`):\n{}",
        unknown.join("\n")
    );
}

/// The schemas `dynamic::schemas` builds for every action, given each template and each
/// workflow of the emulator's seed and its records schema. Which actions vary, and with
/// what, is `dynamic`'s business: every action is asked with every input.
fn dynamic_keywords(found: &mut Found) {
    let seed = fixture("seed.json");
    let repository = fixture("repository.json");
    let client = Emulated {
        templates: seed["templates"].as_array().unwrap().clone(),
        workflows: seed["workflows"].as_array().unwrap().clone(),
        records_schema: repository["recordsSchema"].clone(),
    };
    let conn = Connection::parse(
        &json!({ "api_type": "clm_public", "region": "na1", "grant_type": "client_credentials",
                 "client_id": "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10", "client_secret": "s",
                 "impersonate_user": "jane@acme.example" })
        .to_string(),
    )
    .unwrap();
    let templates = client
        .templates
        .iter()
        .map(|t| json!({ "body": { "template": t["id"], "useDefaultValues": true } }));
    let workflows = client.workflows.iter().map(|w| json!({ "id": w["id"] }));
    let inputs: Vec<Value> = std::iter::once(json!({}))
        .chain(templates)
        .chain(workflows)
        .collect();
    let mut varying = Vec::new();
    for action in describe().actions {
        let fixed: [Value; 2] =
            [&action.input_schema, &action.output_schema].map(|t| serde_json::from_str(t).unwrap());
        for input in &inputs {
            let what = format!("{} for {input}", action.key);
            let schemas = dynamic::schemas(&client, &conn, action.key, input)
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            if [&schemas.input, &schemas.output] != [&fixed[0], &fixed[1]] {
                varying.push(action.key);
                keywords(&schemas.input, &format!("{what}, input#"), found);
                keywords(&schemas.output, &format!("{what}, output#"), found);
            }
        }
    }
    varying.dedup();
    // Launches vary with the template, the metadata update with the workflow, record actions
    // with the records schema.
    for action in [
        "launch_new_workflow",
        "update_workflow_metadata",
        "create_record",
    ] {
        assert!(
            varying.contains(&action),
            "{action} took no tenant schema: {varying:?}"
        );
    }
}

/// Answers the reads `dynamic::schemas` makes as the emulator would from its seed.
struct Emulated {
    templates: Vec<Value>,
    workflows: Vec<Value>,
    records_schema: Value,
}

impl HttpClient for Emulated {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let path = request.url.split('?').next().unwrap_or_default();
        let last = path.rsplit('/').next().unwrap_or_default();
        let by_id = |list: &[Value]| list.iter().find(|v| v["id"] == last).cloned();
        let body = if path.ends_with("/records/metadata") {
            Some(self.records_schema.clone())
        } else if path.contains("/workflow-schemas/") {
            by_id(&self.templates)
        } else if path.contains("/workflows/") {
            by_id(&self.workflows)
        } else {
            None
        };
        let body = body.unwrap_or_else(|| panic!("no emulated answer for {}", request.url));
        Ok(Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/emulator/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}
