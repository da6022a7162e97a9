//! Obligations: a [`Catalog`] of [`Obligation`] typed by [`ObligationType`], each belonging to
//! a record.

use std::collections::BTreeMap;

use anyhow::ensure;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::store::catalog::{Catalog, item};
use crate::store::properties::PropertyDef;

pub type Obligations = Catalog<Obligation, ObligationType>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObligationType {
    pub id: String,
    /// The key requests use in `obligationTypeKey`.
    pub key: String,
    /// For "Get All Obligation Types", whose path the spec snapshot lacks (not served).
    #[allow(dead_code)]
    pub display_name: String,
}

/// A stored obligation: `ObligationModel` with its type by key and its parent record by id.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Obligation {
    pub id: String,
    pub ironclad_id: String,
    pub name: String,
    pub last_updated: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub parent_id: String,
    pub properties: Map<String, Value>,
}

item!(Obligation, "obligation", "OB-");

/// The seeded obligations, checked: a known type. (Their parent records are the repository's
/// to check.)
pub fn new(
    types: Vec<ObligationType>,
    properties: BTreeMap<String, PropertyDef>,
    list: Vec<Obligation>,
) -> anyhow::Result<Obligations> {
    Catalog::seeded(types, properties, list, |o, ctx, types, _| {
        ensure!(
            types.iter().any(|t| t.key == o.kind),
            "{ctx}: unknown type {}",
            o.kind
        );
        Ok(())
    })
}
