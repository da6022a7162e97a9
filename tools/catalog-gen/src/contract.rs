//! The facts of Ironclad's OpenAPI documents that the emulator's contract layer judges
//! requests by, committed under `fixtures/contract/` so that a clone without `../shared` runs
//! every contract check. Prose is dropped (descriptions, summaries, examples, the docs site's
//! `x-readme`); operations, parameters, request and response schemas per status and content
//! type stay exactly as Ironclad wrote them, in their order.

use serde_json::{Map, Value};

/// One committed contract: the official document it is made from and where it goes.
pub struct ContractFile {
    pub spec: &'static str,
    pub out: &'static str,
}

pub const CONTRACTS: [ContractFile; 3] = [
    ContractFile {
        spec: "../shared/ironclad/openapi/ironclad-public-api-openapi.yml",
        out: "fixtures/contract/clm-public.json",
    },
    ContractFile {
        spec: "../shared/ironclad/openapi/ironclad-scim-api-openapi.yml",
        out: "fixtures/contract/clm-scim.json",
    },
    ContractFile {
        spec: "../shared/ironclad/openapi/ironclad-oauth-20-api-openapi.yml",
        out: "fixtures/contract/oauth.json",
    },
];

/// Keys that hold prose wherever OpenAPI allows them.
const PROSE: [&str; 6] = [
    "description",
    "summary",
    "example",
    "examples",
    "externalDocs",
    "x-readme",
];

/// Maps whose keys are names chosen by the document's author (a property may be called
/// `description`): their keys are kept whatever they are.
const NAMED: [&str; 14] = [
    "properties",
    "patternProperties",
    "$defs",
    "schemas",
    "paths",
    "responses",
    "content",
    "headers",
    "securitySchemes",
    "requestBodies",
    "links",
    "callbacks",
    "encoding",
    "mapping",
];

/// `root` without prose, as pretty JSON with a final newline.
pub fn facts_json(root: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&facts(root, false)).expect("JSON serialises");
    text.push('\n');
    text
}

fn facts(value: &Value, names: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| names || !PROSE.contains(&k.as_str()))
                .map(|(k, v)| {
                    // In a map of names, each value is an object in its own right.
                    let child_names =
                        !names && (NAMED.contains(&k.as_str()) || is_parameters_map(k, v));
                    (k.clone(), facts(v, child_names))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| facts(v, false)).collect()),
        other => other.clone(),
    }
}

/// `components.parameters` is a map of names; an operation's `parameters` is a list.
fn is_parameters_map(key: &str, value: &Value) -> bool {
    key == "parameters" && value.is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prose_goes_and_names_stay() {
        let doc = json!({
            "info": { "title": "API", "description": "long prose" },
            "paths": { "/x": { "get": {
                "summary": "Get x", "description": "prose", "operationId": "get-x",
                "parameters": [{ "name": "page", "in": "query", "description": "prose",
                                 "schema": { "type": "integer", "example": 3 } }],
                "responses": { "200": { "description": "OK", "content": {
                    "application/json": { "examples": { "a": {} }, "schema": {
                        "type": "object",
                        "properties": {
                            "description": { "type": "string", "description": "prose" },
                            "summary": { "type": "string" }
                        } } } } } } } } },
            "components": { "parameters": { "description": { "name": "d", "in": "query" } } },
            "x-readme": { "samples": true }
        });
        assert_eq!(
            facts(&doc, false),
            json!({
                "info": { "title": "API" },
                "paths": { "/x": { "get": {
                    "operationId": "get-x",
                    "parameters": [{ "name": "page", "in": "query",
                                     "schema": { "type": "integer" } }],
                    "responses": { "200": { "content": {
                        "application/json": { "schema": {
                            "type": "object",
                            "properties": {
                                "description": { "type": "string" },
                                "summary": { "type": "string" }
                            } } } } } } } } },
                "components": { "parameters": { "description": { "name": "d", "in": "query" } } }
            })
        );
    }
}
