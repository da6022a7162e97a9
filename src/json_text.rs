//! JSON text with every object's members in key order, whichever map `serde_json` is built
//! with: a workspace build turns on its `preserve_order` (for `tools/catalog-gen`), and the
//! generated manifest must not depend on which packages were built together.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// `value` as compact JSON text, object members sorted by key.
pub fn sorted(value: &Value) -> String {
    serde_json::to_string(&Sorted(value)).expect("a Value always serialises")
}

struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let members: BTreeMap<&String, Sorted> =
                    map.iter().map(|(k, v)| (k, Sorted(v))).collect();
                members.serialize(serializer)
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            scalar => scalar.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_in_key_order_at_every_depth() {
        let mut inner = serde_json::Map::new();
        inner.insert("z".into(), Value::from(1));
        inner.insert("a".into(), Value::from("\"q\""));
        let mut outer = serde_json::Map::new();
        outer.insert("y".into(), Value::Array(vec![Value::Object(inner)]));
        outer.insert("b".into(), Value::Null);
        assert_eq!(
            sorted(&Value::Object(outer)),
            r#"{"b":null,"y":[{"a":"\"q\"","z":1}]}"#
        );
    }
}
