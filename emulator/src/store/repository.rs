//! The contract repository: records (with the records schema, smart-import predictions and
//! attachment download-URL jobs), entities and obligations, loaded from
//! `fixtures/emulator/repository.json`.
//!
//! Readable ids: records have their own `IC-n` sequence, separate from workflows'. Records a
//! seed workflow produced reuse that workflow's number; the others start at `IC-1001`; new
//! records continue after the highest record number.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::store::entities::Entities;
use crate::store::obligations::Obligations;
use crate::store::properties::{PROPERTY_TYPES, PropertyDef, check_properties};
use crate::store::{ids, time};

const FIXTURE: &str = include_str!("../../../fixtures/emulator/repository.json");

/// How a child record relates to its parent.
pub const LINK_TYPES: [&str; 2] = ["amendment", "obligation"];

/// The records schema `GET /records/metadata` serves.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordsSchema {
    pub record_types: BTreeMap<String, Value>,
    pub properties: BTreeMap<String, PropertyDef>,
    pub attachments: BTreeMap<String, Value>,
    pub links: Map<String, Value>,
}

/// A stored record: `RecordModel` without what is derived when served (child ids, amendment
/// roll-ups, attachment hrefs, remaining duration).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    pub id: String,
    pub ironclad_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub last_updated: String,
    /// `{propertyId: {type, value}}`.
    pub properties: Map<String, Value>,
    /// `{key: {filename, contentType?}}`.
    #[serde(default)]
    pub attachments: Map<String, Value>,
    /// Ids of linked records (links are kept on both sides).
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub parent_link_type: Option<String>,
    /// Properties this amendment rolls up into its parent.
    #[serde(default)]
    pub properties_to_amend: Vec<String>,
    #[serde(default)]
    pub contract_status: Option<Value>,
    #[serde(default)]
    pub source: Option<Value>,
    /// Contract actions applied, newest last, with what they replaced (for `undo`).
    #[serde(skip)]
    pub history: Vec<Snapshot>,
}

/// A record as it was before a contract action, for `undo`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub action: String,
    pub properties: Map<String, Value>,
    pub contract_status: Option<Value>,
}

/// A smart-import prediction status (`SmartImportRetrievePredictionsResponseElement` + import).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prediction {
    pub import_id: String,
    pub record_id: String,
    /// `ready` | `pending` | `errored`.
    pub status: String,
}

/// A bulk attachment download-URL job; resolved on its first status poll.
#[derive(Debug, Clone)]
pub struct DownloadJob {
    pub identifiers: Vec<String>,
    /// Set by the first status poll.
    pub result: Option<Value>,
}

/// Records, entities and obligations: the emulator's contract repository.
#[derive(Debug, Default)]
pub struct Repository {
    pub schema: RecordsSchema,
    pub records: Vec<Record>,
    pub predictions: Vec<Prediction>,
    pub download_jobs: HashMap<String, DownloadJob>,
    pub entities: Entities,
    pub obligations: Obligations,
    next_record: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Fixture {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    records_schema: RecordsSchema,
    records: Vec<Record>,
    predictions: Vec<Prediction>,
    relationship_types: Vec<crate::store::entities::RelationshipType>,
    entity_properties: BTreeMap<String, PropertyDef>,
    entities: Vec<crate::store::entities::Entity>,
    obligation_types: Vec<crate::store::obligations::ObligationType>,
    obligation_properties: BTreeMap<String, PropertyDef>,
    obligations: Vec<crate::store::obligations::Obligation>,
}

impl Repository {
    /// The built-in repository (`fixtures/emulator/repository.json`).
    pub fn seeded() -> Self {
        Self::from_json(FIXTURE).expect("fixtures/emulator/repository.json is consistent")
    }

    /// A repository from fixture text, checked the way the API would check writes.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let f: Fixture = serde_json::from_str(text).context("parsing the repository fixture")?;
        let mut repo = Self {
            schema: f.records_schema,
            records: f.records,
            predictions: f.predictions,
            download_jobs: HashMap::new(),
            entities: crate::store::entities::new(
                f.relationship_types,
                f.entity_properties,
                f.entities,
            )?,
            obligations: crate::store::obligations::new(
                f.obligation_types,
                f.obligation_properties,
                f.obligations,
            )?,
            next_record: 1,
        };
        repo.validate()?;
        repo.next_record = repo
            .records
            .iter()
            .filter_map(|r| readable_number(&r.ironclad_id, "IC-"))
            .max()
            .unwrap_or(0)
            + 1;
        Ok(repo)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for def in self.schema.properties.values() {
            ensure!(
                PROPERTY_TYPES.contains(&def.kind.as_str()),
                "record property type {} is not supported",
                def.kind
            );
        }
        let mut seen = HashSet::new();
        for r in &self.records {
            let ctx = || format!("record {} ({})", r.ironclad_id, r.id);
            ensure!(
                ids::is_uuid(&r.id),
                "{} has an id that is not a UUID",
                ctx()
            );
            ensure!(
                seen.insert(r.id.clone()) && seen.insert(r.ironclad_id.to_ascii_uppercase()),
                "duplicate {}",
                ctx()
            );
            ensure!(
                readable_number(&r.ironclad_id, "IC-").is_some(),
                "{} is not an IC-n id",
                ctx()
            );
            ensure!(
                self.schema.record_types.contains_key(&r.kind),
                "{} has unknown type {}",
                ctx(),
                r.kind
            );
            ensure!(
                time::parse(&r.last_updated).is_some(),
                "{} lastUpdated",
                ctx()
            );
            check_properties(&self.schema.properties, &r.properties, "properties")
                .map_err(|e| anyhow::anyhow!("{}: {} ({:?})", ctx(), e.message, e.param))?;
            for key in r.attachments.keys() {
                ensure!(
                    self.schema.attachments.contains_key(key),
                    "{} has unknown attachment {key}",
                    ctx()
                );
            }
            for other in r.links.iter().chain(r.parent_id.iter()) {
                ensure!(
                    self.records.iter().any(|o| &o.id == other && o.id != r.id),
                    "{} refers to unknown record {other}",
                    ctx()
                );
            }
            for link in &r.links {
                let back = self.records.iter().find(|o| &o.id == link);
                ensure!(
                    back.is_none_or(|o| o.links.contains(&r.id)),
                    "{} links {link} one way only",
                    ctx()
                );
            }
            if let Some(t) = &r.parent_link_type {
                ensure!(LINK_TYPES.contains(&t.as_str()), "{} link type {t}", ctx());
            }
        }
        for p in &self.predictions {
            ensure!(
                self.records.iter().any(|r| r.id == p.record_id),
                "prediction for unknown record {}",
                p.record_id
            );
            ensure!(
                ["ready", "pending", "errored"].contains(&p.status.as_str()),
                "prediction status {}",
                p.status
            );
        }
        for o in &self.obligations.list {
            if !self.records.iter().any(|r| r.id == o.parent_id) {
                bail!(
                    "obligation {} has unknown parent record {}",
                    o.ironclad_id,
                    o.parent_id
                );
            }
        }
        Ok(())
    }

    /// A record's index by id or Ironclad id (`IC-12`, case-insensitive).
    pub fn find_record(&self, key: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.id == key || r.ironclad_id.eq_ignore_ascii_case(key))
    }

    pub fn record(&self, key: &str) -> Option<&Record> {
        self.find_record(key).map(|i| &self.records[i])
    }

    /// Store a new record under `id` (a fresh UUID) with the next `IC-n` id and an
    /// indeterminate contract status: `POST /records`, and the records file uploads create
    /// (signed workflow documents, smart import).
    pub fn add_record(&mut self, id: String, new: NewRecord, now: i64) -> &Record {
        let ironclad_id = format!("IC-{}", self.next_record);
        self.next_record += 1;
        self.records.push(Record {
            id,
            ironclad_id,
            kind: new.kind,
            name: new.name,
            last_updated: time::format_ms(now),
            properties: new.properties,
            attachments: new.attachments,
            links: Vec::new(),
            parent_id: new.parent.as_ref().map(|(p, _)| p.clone()),
            parent_link_type: new.parent.and_then(|(_, t)| t),
            properties_to_amend: new.properties_to_amend,
            contract_status: Some(
                json!({ "status": "indeterminate", "enhancedStatus": "unknown" }),
            ),
            source: new.source,
            history: Vec::new(),
        });
        self.records.last().expect("just added")
    }
}

/// What a new record starts with (see [`Repository::add_record`]).
pub struct NewRecord {
    pub kind: String,
    pub name: String,
    pub properties: Map<String, Value>,
    /// `{key: {filename, contentType}}`.
    pub attachments: Map<String, Value>,
    /// Parent id and link type.
    pub parent: Option<(String, Option<String>)>,
    pub properties_to_amend: Vec<String>,
    pub source: Option<Value>,
}

/// `IC-12` (with `prefix` `IC-`) → 12.
pub fn readable_number(readable: &str, prefix: &str) -> Option<u64> {
    readable.strip_prefix(prefix)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_is_consistent() {
        let repo = Repository::seeded();
        assert_eq!(repo.records.len(), 8);
        assert_eq!(repo.next_record, 1004);
        let with_copy = repo
            .records
            .iter()
            .filter(|r| r.attachments.contains_key("signedCopy"))
            .count();
        assert!(with_copy >= 3 && with_copy < repo.records.len());
        assert_eq!(repo.entities.list.len(), 5);
        assert_eq!(repo.obligations.list.len(), 4);
    }
}
