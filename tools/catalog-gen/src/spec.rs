//! Loading the OpenAPI document and following its `$ref`s.
//!
//! The YAML is read into a `serde_json::Value` (with `preserve_order`) so everything downstream
//! works on one JSON model and keeps the spec's key order, which the generated schemas inherit.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::path::Path;

/// HTTP methods an OpenAPI path item may hold, in the order the spec lists them per path.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How many `$ref` hops one lookup may take before we call it a loop. Component objects
/// (parameters, responses, request bodies) never legitimately chain this deep.
const MAX_REF_HOPS: usize = 16;

/// The parsed OpenAPI document.
pub struct Spec {
    root: Value,
}

/// One operation, borrowed from the spec, with the context it was found in.
pub struct OperationRef<'a> {
    pub path: &'a str,
    /// Lower-case method as spelled in the spec (`get`, `post`, ...).
    pub method: &'a str,
    pub op: &'a Value,
    /// The enclosing path item, for path-level `parameters`.
    pub path_item: &'a Value,
}

impl Spec {
    pub fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading OpenAPI spec {}", path.display()))?;
        Spec::from_yaml(&text).with_context(|| format!("parsing OpenAPI spec {}", path.display()))
    }

    pub fn from_yaml(text: &str) -> Result<Spec> {
        let root: Value = serde_yaml::from_str(text)?;
        if !root.is_object() {
            bail!("the spec is not a YAML mapping");
        }
        Ok(Spec { root })
    }

    /// The whole document.
    pub fn into_root(self) -> Value {
        self.root
    }

    #[cfg(test)]
    pub fn from_value(root: Value) -> Spec {
        Spec { root }
    }

    /// Every operation in spec order: paths as listed, methods as listed within a path.
    pub fn operations(&self) -> Result<Vec<OperationRef<'_>>> {
        let paths = self
            .root
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("the spec has no `paths` object"))?;
        let mut ops = Vec::new();
        for (path, item) in paths {
            let item = self.resolve(item)?;
            let Some(item_map) = item.as_object() else {
                continue;
            };
            for (method, op) in item_map {
                if METHODS.contains(&method.as_str()) {
                    ops.push(OperationRef {
                        path,
                        method,
                        op,
                        path_item: item,
                    });
                }
            }
        }
        Ok(ops)
    }

    /// The value a local `$ref` (`#/components/...`) points at.
    pub fn lookup(&self, reference: &str) -> Result<&Value> {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| anyhow!("only local $refs are supported, got `{reference}`"))?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| anyhow!("dangling $ref `{reference}`"))
    }

    /// Follow `$ref` until a concrete object: used for parameters, request bodies, responses
    /// and path items, whose `$ref` replaces the whole object (siblings are not merged here;
    /// schemas get the merging treatment in `schema.rs`).
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value> {
        for _ in 0..MAX_REF_HOPS {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.lookup(reference)?,
                None => return Ok(value),
            }
        }
        bail!("$ref chain longer than {MAX_REF_HOPS} hops (a loop?)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolve_follows_chains_and_reports_loops() {
        let spec = Spec::from_value(json!({
            "components": {"parameters": {
                "A": {"$ref": "#/components/parameters/B"},
                "B": {"name": "b", "in": "query"},
                "Loop": {"$ref": "#/components/parameters/Loop"},
            }}
        }));
        let a = json!({"$ref": "#/components/parameters/A"});
        assert_eq!(spec.resolve(&a).unwrap()["name"], "b");
        let looped = json!({"$ref": "#/components/parameters/Loop"});
        assert!(spec.resolve(&looped).is_err());
        let dangling = json!({"$ref": "#/components/parameters/Nope"});
        assert!(
            spec.resolve(&dangling)
                .unwrap_err()
                .to_string()
                .contains("dangling")
        );
    }

    #[test]
    fn operations_keep_spec_order() {
        let spec = Spec::from_yaml(
            "paths:\n  /b:\n    post: {operationId: two}\n    get: {operationId: three}\n  /a:\n    get: {operationId: four}\n    parameters: []\n",
        )
        .unwrap();
        let ids: Vec<_> = spec
            .operations()
            .unwrap()
            .iter()
            .map(|o| o.op["operationId"].clone())
            .collect();
        assert_eq!(ids, vec![json!("two"), json!("three"), json!("four")]);
    }
}
