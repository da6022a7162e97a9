//! One shape for the repository objects that have it (entities, obligations): a UUID, a readable
//! `PREFIX-n` id, company-defined `{type, value}` properties and a company-defined type. A
//! [`Catalog`] holds one kind: seeding checks, lookup by either id, id allocation.

use std::collections::{BTreeMap, HashSet};

use anyhow::ensure;
use serde_json::{Map, Value};

use crate::store::properties::{PropertyDef, check_properties};
use crate::store::repository::readable_number;
use crate::store::{ids, time};

/// A repository object a [`Catalog`] can hold.
pub trait Item {
    /// How fixture errors name one (`entity`).
    const KIND: &'static str;
    /// Its readable ids' prefix (`ENTITY-`).
    const PREFIX: &'static str;
    fn id(&self) -> &str;
    fn ironclad_id(&self) -> &str;
    fn name(&self) -> &str;
    fn last_updated(&self) -> &str;
    fn properties(&self) -> &Map<String, Value>;
}

/// [`Item`] for a struct with the fields `id`, `ironclad_id`, `name`, `last_updated` and
/// `properties`, given its kind and readable-id prefix.
macro_rules! item {
    ($type:ty, $kind:literal, $prefix:literal) => {
        impl $crate::store::catalog::Item for $type {
            const KIND: &'static str = $kind;
            const PREFIX: &'static str = $prefix;
            fn id(&self) -> &str {
                &self.id
            }
            fn ironclad_id(&self) -> &str {
                &self.ironclad_id
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn last_updated(&self) -> &str {
                &self.last_updated
            }
            fn properties(&self) -> &serde_json::Map<String, serde_json::Value> {
                &self.properties
            }
        }
    };
}
pub(crate) use item;

/// The objects of one kind `T`, the company's types of them `K` and its property definitions.
#[derive(Debug)]
pub struct Catalog<T, K> {
    pub types: Vec<K>,
    pub properties: BTreeMap<String, PropertyDef>,
    pub list: Vec<T>,
    /// The number the next readable id gets.
    next: u64,
}

impl<T, K> Default for Catalog<T, K> {
    fn default() -> Self {
        Self {
            types: Vec::new(),
            properties: BTreeMap::new(),
            list: Vec::new(),
            next: 1,
        }
    }
}

impl<T: Item, K> Catalog<T, K> {
    /// A catalog from fixture data: every object passes [`check_seeded`], then `check` (its
    /// kind's own rules, given the label to prefix errors with and the whole catalog so far).
    pub fn seeded(
        types: Vec<K>,
        properties: BTreeMap<String, PropertyDef>,
        list: Vec<T>,
        check: impl Fn(&T, &str, &[K], &[T]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        let mut seen = HashSet::new();
        for item in &list {
            let seeded = SeededItem {
                kind: T::KIND,
                id: item.id(),
                ironclad_id: item.ironclad_id(),
                prefix: T::PREFIX,
                last_updated: item.last_updated(),
                properties: item.properties(),
            };
            let ctx = check_seeded(seeded, &mut seen, &properties)?;
            check(item, &ctx, &types, &list)?;
        }
        let next = next_readable(list.iter().map(Item::ironclad_id), T::PREFIX);
        Ok(Self {
            types,
            properties,
            list,
            next,
        })
    }

    /// An object's index by id or readable id (`ENTITY-3`, case-insensitive).
    pub fn find(&self, key: &str) -> Option<usize> {
        self.list
            .iter()
            .position(|o| o.id() == key || o.ironclad_id().eq_ignore_ascii_case(key))
    }

    /// The next readable id (`ENTITY-6`), taken: no later object gets it.
    pub fn allocate_ironclad_id(&mut self) -> String {
        let id = format!("{}{}", T::PREFIX, self.next);
        self.next += 1;
        id
    }
}

/// The number after the highest `prefix`-n among `readables`: where new ids continue.
pub fn next_readable<'a>(readables: impl Iterator<Item = &'a str>, prefix: &str) -> u64 {
    readables
        .filter_map(|r| readable_number(r, prefix))
        .max()
        .unwrap_or(0)
        + 1
}

/// One seeded repository object (entity, obligation) as a fixture file states it.
pub struct SeededItem<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    pub ironclad_id: &'a str,
    pub prefix: &'a str,
    pub last_updated: &'a str,
    pub properties: &'a Map<String, Value>,
}

/// The checks every seeded repository object must pass: a UUID id, a unique `PREFIX-n`
/// readable id, a parseable `lastUpdated` and known, well-typed properties. Returns the
/// label to prefix the caller's own checks with.
pub fn check_seeded(
    item: SeededItem<'_>,
    seen: &mut HashSet<String>,
    defs: &BTreeMap<String, PropertyDef>,
) -> anyhow::Result<String> {
    let ctx = format!("{} {} ({})", item.kind, item.ironclad_id, item.id);
    ensure!(ids::is_uuid(item.id), "{ctx}: id is not a UUID");
    ensure!(
        seen.insert(item.id.to_string()) && seen.insert(item.ironclad_id.to_string()),
        "duplicate {ctx}"
    );
    ensure!(
        readable_number(item.ironclad_id, item.prefix).is_some(),
        "{ctx}: not an {}n id",
        item.prefix
    );
    ensure!(
        time::parse(item.last_updated).is_some(),
        "{ctx}: lastUpdated"
    );
    check_properties(defs, item.properties, "properties")
        .map_err(|err| anyhow::anyhow!("{ctx}: {} ({:?})", err.message, err.param))?;
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_items_need_uuid_unique_prefixed_ids() {
        let props = Map::new();
        let defs = BTreeMap::new();
        let item = |id: &'static str, readable: &'static str| SeededItem {
            kind: "entity",
            id,
            ironclad_id: readable,
            prefix: "ENTITY-",
            last_updated: "2026-01-01T00:00:00.000Z",
            properties: &props,
        };
        let mut seen = HashSet::new();
        let a = "123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(
            check_seeded(item(a, "ENTITY-1"), &mut seen, &defs).unwrap(),
            format!("entity ENTITY-1 ({a})")
        );
        let dup = check_seeded(item(a, "ENTITY-2"), &mut seen, &defs).unwrap_err();
        assert!(dup.to_string().starts_with("duplicate"), "{dup}");
        let b = "223e4567-e89b-12d3-a456-426614174000";
        assert!(
            check_seeded(item(b, "OB-3"), &mut HashSet::new(), &defs)
                .unwrap_err()
                .to_string()
                .contains("not an ENTITY-n id")
        );
        assert!(
            check_seeded(item("nope", "ENTITY-4"), &mut HashSet::new(), &defs)
                .unwrap_err()
                .to_string()
                .contains("not a UUID")
        );
        assert_eq!(
            next_readable(["ENTITY-2", "ENTITY-9", "OB-40"].into_iter(), "ENTITY-"),
            10
        );
        assert_eq!(next_readable(std::iter::empty(), "OB-"), 1);
    }
}
