//! The committed OpenAPI documents as the fuzzer reads them: every operation with its
//! parameters and request bodies, `$ref`s inlined and the contract's errata applied, so
//! that what is generated is what the contract in force judges.

use std::path::PathBuf;

use ironclad_emulator::Contract;
use serde_json::{Map, Value};

/// `$ref` nesting beyond which a schema is cut short (the documents have no cycles).
const MAX_DEPTH: usize = 32;

pub struct Document {
    /// The file's stem under `fixtures/contract/`: `clm-public`, `clm-scim`, `oauth`.
    pub name: &'static str,
    pub contract: Contract,
    pub operations: Vec<Operation>,
    /// Whether the document declares a security scheme: its operations need a bearer token.
    pub secured: bool,
}

pub struct Operation {
    pub id: String,
    /// Upper-case.
    pub method: String,
    /// Below the API base, e.g. `/workflows/{id}`.
    pub template: String,
    pub params: Vec<Param>,
    pub body: Option<Body>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Query,
    Path,
    Header,
}

pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub schema: Value,
}

pub struct Body {
    pub required: bool,
    /// Media type → schema (`{}` when the document gives none).
    pub content: Vec<(String, Value)>,
    /// `encoding` of the multipart media type: part name → `{contentType}`.
    pub encoding: Map<String, Value>,
}

impl Document {
    pub fn load(name: &'static str) -> Document {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/contract")
            .join(format!("{name}.json"));
        let contract = Contract::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        let text = std::fs::read_to_string(&path).expect("the contract is readable");
        let mut root: Value = serde_json::from_str(&text).expect("the contract is JSON");
        correct(&mut root);
        let mut operations = Vec::new();
        for (template, item) in root["paths"].as_object().expect("paths") {
            let item = inline(&root, item, 0);
            for (method, op) in item.as_object().into_iter().flatten() {
                if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                operations.push(operation(&root, template, method, op, &item["parameters"]));
            }
        }
        Document {
            name,
            contract,
            operations,
            secured: root.pointer("/components/securitySchemes").is_some(),
        }
    }

    pub fn base(&self) -> &str {
        self.contract.base_path()
    }
}

impl Operation {
    pub fn params_in(&self, location: Location) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == location)
    }

    /// Whether it names an acting user (`x-as-user-email`): a resource call.
    pub fn takes_acting_user(&self) -> bool {
        self.params_in(Location::Header)
            .any(|p| p.name == crate::tenant::ACTING_USER)
    }
}

/// The contract's errata, applied by the contract's own code.
fn correct(root: &mut Value) {
    ironclad_emulator::apply_errata(root);
}

fn operation(root: &Value, template: &str, method: &str, op: &Value, shared: &Value) -> Operation {
    let op = inline(root, op, 0);
    let mut params: Vec<Param> = Vec::new();
    // Operation parameters override path-item ones of the same name and location.
    for p in [&op["parameters"], shared]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
    {
        let location = match p["in"].as_str() {
            Some("query") => Location::Query,
            Some("path") => Location::Path,
            Some("header") => Location::Header,
            _ => continue,
        };
        let name = p["name"].as_str().expect("a parameter has a name");
        let name = if location == Location::Header {
            name.to_ascii_lowercase()
        } else {
            name.to_owned()
        };
        if params
            .iter()
            .any(|q| q.name == name && q.location == location)
        {
            continue;
        }
        params.push(Param {
            name,
            location,
            required: location == Location::Path || p["required"] == true,
            schema: p
                .get("schema")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
        });
    }
    let body = op.get("requestBody").map(|rb| {
        let content = rb["content"].as_object().cloned().unwrap_or_default();
        Body {
            required: rb["required"] == true,
            encoding: content
                .get("multipart/form-data")
                .and_then(|m| m["encoding"].as_object())
                .cloned()
                .unwrap_or_default(),
            content: content
                .into_iter()
                .map(|(media, entry)| {
                    let schema = entry.get("schema").cloned();
                    (media, schema.unwrap_or(Value::Object(Map::new())))
                })
                .collect(),
        }
    });
    Operation {
        id: op["operationId"].as_str().map_or_else(
            || format!("{} {template}", method.to_uppercase()),
            str::to_owned,
        ),
        method: method.to_ascii_uppercase(),
        template: template.to_owned(),
        params,
        body,
    }
}

/// `value` with every local `$ref` replaced by its target (siblings of a `$ref` dropped: in
/// these documents they are descriptions).
fn inline(root: &Value, value: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = reference
                    .strip_prefix('#')
                    .and_then(|pointer| root.pointer(pointer))
                    .unwrap_or_else(|| panic!("$ref {reference} points nowhere"));
                inline(root, target, depth + 1)
            }
            None => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline(root, v, depth)))
                    .collect(),
            ),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(root, v, depth)).collect()),
        other => other.clone(),
    }
}
