//! Entities (counterparties and the like): a [`Catalog`] of [`Entity`] typed by
//! [`RelationshipType`], each optionally the child of another entity.

use std::collections::BTreeMap;

use anyhow::ensure;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::catalog::{Catalog, item};
use crate::store::properties::PropertyDef;

pub type Entities = Catalog<Entity, RelationshipType>;

/// A company-defined kind of entity (`RelationshipTypeModel`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelationshipType {
    pub id: String,
    /// The key requests use in `relationshipTypeKey`.
    pub name: String,
    pub display_name: String,
    pub description: String,
}

/// A stored entity (`EntityModel`, with its relationship type by key).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entity {
    pub id: String,
    pub ironclad_id: String,
    pub name: String,
    /// `active` | `inactive`.
    pub status: String,
    pub last_updated: String,
    #[serde(default)]
    pub relationship_type: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub properties: Map<String, Value>,
}

item!(Entity, "entity", "ENTITY-");

/// The seeded entities, checked: a known status and relationship type, an existing parent.
pub fn new(
    relationship_types: Vec<RelationshipType>,
    properties: BTreeMap<String, PropertyDef>,
    list: Vec<Entity>,
) -> anyhow::Result<Entities> {
    Catalog::seeded(
        relationship_types,
        properties,
        list,
        |e, ctx, types, list| {
            ensure!(
                ["active", "inactive"].contains(&e.status.as_str()),
                "{ctx}: status {}",
                e.status
            );
            if let Some(t) = &e.relationship_type {
                ensure!(
                    types.iter().any(|r| &r.name == t),
                    "{ctx}: unknown relationship type {t}"
                );
            }
            if let Some(p) = &e.parent_id {
                ensure!(
                    list.iter().any(|o| &o.id == p && o.id != e.id),
                    "{ctx}: unknown parent {p}"
                );
            }
            Ok(())
        },
    )
}
