//! `/public/api/v1/records/**`: the contract repository. Records by id or Ironclad id (list,
//! create, replace, update, delete), the records schema (`/records/metadata`), contract
//! lifecycle actions, bulk attachment download-URL jobs and smart-import predictions. The file
//! routes (attachment upload/download/delete, smart-import uploads, the XLSX export) are in
//! module `files`, which creates records through [`Repository::add_record`].
//!
//! Also home of the repository store ([`Repository`]: records, entities, obligations), loaded
//! from `fixtures/emulator/repository.json`, and of the `{type, value}` property checks the
//! entity and obligation handlers share.
//!
//! Readable ids: records have their own `IC-n` sequence, separate from workflows'. Records a
//! seed workflow produced reuse that workflow's number; the others start at `IC-1001`; new
//! records continue after the highest record number.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, bail, ensure};
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Span;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::events::{Event, Kind};
use crate::infra::query::{self, Params};
use crate::store::filter::Filter;
use crate::{api::entities, api::obligations, store::ids, store::time};

pub const READ_RECORDS: &str = "public.records.readRecords";
pub const CREATE_RECORDS: &str = "public.records.createRecords";
pub const UPDATE_RECORDS: &str = "public.records.updateRecords";
pub const DELETE_RECORDS: &str = "public.records.deleteRecords";
pub const READ_SCHEMAS: &str = "public.records.readSchemas";
pub const APPLY_CONTRACT_ACTION: &str = "public.records.applyContractAction";
pub const READ_ATTACHMENTS: &str = "public.records.readAttachments";
pub const READ_SMART_IMPORT: &str = "public.records.readSmartImportRecords";

const FIXTURE: &str = include_str!("../../../../fixtures/emulator/repository.json");

/// The `{type, value}` property types records, entities and obligations accept.
pub const PROPERTY_TYPES: [&str; 8] = [
    "string",
    "number",
    "boolean",
    "date",
    "duration",
    "email",
    "monetary_amount",
    "address",
];

const SORT_FIELDS: [&str; 3] = ["agreementDate", "name", "lastUpdated"];
pub const SORT_DIRECTIONS: [&str; 2] = ["ASC", "DESC"];
const LINK_TYPES: [&str; 2] = ["amendment", "obligation"];
const ACTIONS: [&str; 7] = [
    "activate",
    "terminate",
    "supersede",
    "extend",
    "cancelAutoRenewal",
    "editRenewal",
    "undo",
];
const RENEWAL_TYPES: [&str; 5] = [
    "Auto-Renew",
    "Optional Extension",
    "Evergreen",
    "None",
    "Other",
];
/// How long a signed attachment download URL lives (the spec's example says 1200 s).
const DOWNLOAD_URL_TTL_MS: i64 = 1_200_000;

mod files;

pub fn routes() -> Router<Emulator> {
    Router::new()
        .merge(files::routes())
        // action: list_records, create_record
        .route("/public/api/v1/records", get(list).post(create))
        // action: list_records_metadata
        .route("/public/api/v1/records/metadata", get(metadata))
        // action: retrieve_import_predictions
        .route("/public/api/v1/records/smart-import", get(predictions))
        // action: create_attachment_download_urls
        .route(
            "/public/api/v1/records/attachments/download-urls",
            post(create_download_job),
        )
        // action: get_attachment_download_urls_status
        .route(
            "/public/api/v1/records/attachments/download-urls/{jobId}",
            get(download_job_status),
        )
        // action: delete_record, retrieve_record, update_record_metadata, replace_record
        .route(
            "/public/api/v1/records/{id}",
            get(retrieve).put(replace).patch(update).delete(remove),
        )
        // action: run_action_on_record
        .route("/public/api/v1/records/{id}/actions", post(run_action))
}

// --- the store -------------------------------------------------------------------------------

/// The records schema `GET /records/metadata` serves.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordsSchema {
    pub record_types: BTreeMap<String, Value>,
    pub properties: BTreeMap<String, PropertyDef>,
    pub attachments: BTreeMap<String, Value>,
    pub links: Map<String, Value>,
}

/// A property a company defined: its display name and `{type, value}` type.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertyDef {
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
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
    history: Vec<Snapshot>,
}

#[derive(Debug, Clone)]
struct Snapshot {
    action: String,
    properties: Map<String, Value>,
    contract_status: Option<Value>,
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
    identifiers: Vec<String>,
    result: Option<Value>,
}

/// Records, entities and obligations: the emulator's contract repository.
#[derive(Debug, Default)]
pub struct Repository {
    pub schema: RecordsSchema,
    pub records: Vec<Record>,
    pub predictions: Vec<Prediction>,
    pub download_jobs: HashMap<String, DownloadJob>,
    pub entities: entities::Entities,
    pub obligations: obligations::Obligations,
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
    relationship_types: Vec<entities::RelationshipType>,
    entity_properties: BTreeMap<String, PropertyDef>,
    entities: Vec<entities::Entity>,
    obligation_types: Vec<obligations::ObligationType>,
    obligation_properties: BTreeMap<String, PropertyDef>,
    obligations: Vec<obligations::Obligation>,
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
            entities: entities::Entities::new(
                f.relationship_types,
                f.entity_properties,
                f.entities,
            )?,
            obligations: obligations::Obligations::new(
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

    /// `RecordModel` of the record `key` names, as `GET /records/{id}` serves it.
    pub fn render_record(
        &self,
        key: &str,
        base_url: &str,
        now: i64,
        as_object: bool,
    ) -> Option<Value> {
        let record = self.record(key)?;
        Some(present(render(self, record, base_url, now), as_object))
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

fn record_not_found(key: &str) -> ApiError {
    ApiError::not_found(
        format!("couldn't find a record matching the id {key}"),
        Some("id"),
    )
}

// --- handlers --------------------------------------------------------------------------------

async fn metadata(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SCHEMAS)?;
    let schema = emu.data().repository.schema.clone();
    Ok(Json(
        serde_json::to_value(schema).expect("schema serialises"),
    ))
}

async fn list(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_RECORDS)?;
    let page = PageRequest::from_params(&params)?;
    params.flag("hydrateEntities", false)?;
    let as_object = params.flag("addressAsObject", false)?;
    let filter = parse_filter(&params)?;
    let since = parse_since(&params)?;
    let sort_field = enum_param(&params, "sortField", &SORT_FIELDS, "agreementDate")?;
    let descending = enum_param(&params, "sortDirection", &SORT_DIRECTIONS, "DESC")? == "DESC";
    let data = emu.data();
    let repo = &data.repository;
    let types = params
        .list("types")
        .map(|v| v.into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(bad) = types
        .iter()
        .find(|t| !repo.schema.record_types.contains_key(*t))
    {
        return Err(ApiError::invalid_param(
            format!("unknown record type {bad}"),
            "types",
        ));
    }
    let now = data.now();
    // With 10,000 records (`POST /_emulator/bulk-records`) rendering every record for each
    // page would dominate a bulk read: children are indexed once, the order is decided on
    // stored values, and only the page asked for is rendered (all matches when a filter
    // needs rendered values).
    let family = Family::of(repo);
    // (position in the store, record, rendered when a filter needed it)
    let mut found: Vec<(usize, &Record, Option<Value>)> = repo
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| types.is_empty() || types.contains(&r.kind))
        .filter(|(_, r)| {
            since.is_none_or(|s| time::parse(&r.last_updated).is_some_and(|at| at >= s))
        })
        .filter_map(|(i, r)| match &filter {
            None => Some((i, r, None)),
            Some(f) => {
                let v = render_with(r, family.children(i), emu.base_url(), now);
                f.matches(&|p| lookup_record(&v, p))
                    .then_some((i, r, Some(v)))
            }
        })
        .collect();
    let key = |i: usize, r: &Record| -> SortKey {
        match sort_field {
            "name" => SortKey::Text(r.name.to_lowercase()),
            "lastUpdated" => SortKey::from_time(Some(&r.last_updated)),
            _ => SortKey::from_time(
                served_property(r, family.children(i), "agreementDate")
                    .and_then(|p| p["value"].as_str()),
            ),
        }
    };
    found.sort_by_cached_key(|&(i, r, _)| {
        let key = key(i, r);
        (Ordered { key, descending }, r.ironclad_id.as_str())
    });
    let count = found.len();
    let list = found
        .drain(page.window(count))
        .map(|(i, r, rendered)| {
            let v =
                rendered.unwrap_or_else(|| render_with(r, family.children(i), emu.base_url(), now));
            present(v, as_object)
        })
        .collect();
    Ok(Json(page.envelope_of(count, list)))
}

/// A sort key in the requested direction, missing values last either way.
#[derive(PartialEq, Eq)]
struct Ordered {
    key: SortKey,
    descending: bool,
}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        sort_order(&self.key, &other.key, self.descending)
    }
}

/// Each record's children by the record's position in the store, found once for a whole
/// listing (records with children are few; a lookup must not cost a hash per record).
struct Family<'a> {
    children: Vec<Vec<&'a Record>>,
}

impl<'a> Family<'a> {
    fn of(repo: &'a Repository) -> Self {
        let mut children: Vec<Vec<&Record>> = vec![Vec::new(); repo.records.len()];
        for child in &repo.records {
            if let Some(parent) = &child.parent_id
                && let Some(at) = repo.records.iter().position(|r| &r.id == parent)
            {
                children[at].push(child);
            }
        }
        Family { children }
    }

    fn children(&self, position: usize) -> &[&'a Record] {
        &self.children[position]
    }
}

async fn retrieve(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_RECORDS)?;
    params.flag("hydrateEntities", false)?;
    let as_object = params.flag("addressAsObject", false)?;
    let data = emu.data();
    let repo = &data.repository;
    let record = repo.record(&id).ok_or_else(|| record_not_found(&id))?;
    Ok(Json(present(
        render(repo, record, emu.base_url(), data.now()),
        as_object,
    )))
}

async fn create(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(CREATE_RECORDS)?;
    let as_object = params.flag("addressAsObject", false)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &[
            "type",
            "name",
            "properties",
            "links",
            "parent",
            "propertiesToAmend",
            "children",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let id = ids::uuid();
    let content = RecordContent::parse(repo, &body, &id)?;
    let links = match body.get("links") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => resolve_record_refs(repo, v, "links", &id)?,
    };
    repo.add_record(
        id.clone(),
        NewRecord {
            kind: content.kind,
            name: content.name,
            properties: content.properties,
            attachments: Map::new(),
            parent: content.parent,
            properties_to_amend: content.properties_to_amend,
            source: None,
        },
        now,
    );
    for link in &links {
        set_link(repo, &id, link, true);
    }
    if let Some(children) = content.children {
        set_children(repo, &id, &children);
    }
    let record = repo.record(&id).expect("just added");
    Ok(Json(present(
        render(repo, record, emu.base_url(), now),
        as_object,
    )))
}

async fn replace(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_RECORDS)?;
    let as_object = params.flag("addressAsObject", false)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &[
            "type",
            "name",
            "properties",
            "parent",
            "propertiesToAmend",
            "children",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let index = repo
        .find_record(&key)
        .ok_or_else(|| record_not_found(&key))?;
    let id = repo.records[index].id.clone();
    let content = RecordContent::parse(repo, &body, &id)?;
    let record = &mut repo.records[index];
    record.kind = content.kind;
    record.name = content.name;
    record.properties = content.properties;
    record.parent_id = content.parent.as_ref().map(|(p, _)| p.clone());
    record.parent_link_type = content.parent.and_then(|(_, t)| t);
    record.properties_to_amend = content.properties_to_amend;
    record.last_updated = time::format_ms(now);
    if let Some(children) = content.children {
        set_children(repo, &id, &children);
    }
    let record = repo.record(&id).expect("still there");
    Ok(Json(present(
        render(repo, record, emu.base_url(), now),
        as_object,
    )))
}

async fn update(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(UPDATE_RECORDS)?;
    let as_object = params.flag("addressAsObject", false)?;
    let body = json_object(&body)?;
    reject_unknown(
        &body,
        &[
            "type",
            "name",
            "addProperties",
            "removeProperties",
            "addLinks",
            "removeLinks",
            "setParent",
            "removeParent",
            "addChildren",
            "removeChildren",
            "addPropertiesToAmend",
            "removePropertiesToAmend",
        ],
    )?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let index = repo
        .find_record(&key)
        .ok_or_else(|| record_not_found(&key))?;
    let id = repo.records[index].id.clone();
    let mut next = repo.records[index].clone();

    if let Some(kind) = optional_string(&body, "type")? {
        check_record_type(repo, &kind)?;
        next.kind = kind;
    }
    if let Some(name) = optional_string(&body, "name")? {
        next.name = non_empty(name, "name")?;
    }
    if let Some(add) = optional_object(&body, "addProperties")? {
        let checked = check_properties(&repo.schema.properties, add, "addProperties")?;
        next.properties.extend(checked);
    }
    for p in string_list(&body, "removeProperties")?.unwrap_or_default() {
        next.properties.remove(&p);
    }
    let add_links = match body.get("addLinks") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => resolve_record_refs(repo, v, "addLinks", &id)?,
    };
    let remove_links = match body.get("removeLinks") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => resolve_record_refs(repo, v, "removeLinks", &id)?,
    };
    let remove_parent = flag(&body, "removeParent")?;
    match body.get("setParent") {
        None | Some(Value::Null) => {}
        Some(_) if remove_parent => {
            return Err(ApiError::invalid_param(
                "setParent and removeParent cannot be combined",
                "removeParent",
            ));
        }
        Some(v) => {
            let (parent, link_type) = parse_parent(repo, v, "setParent", &id)?;
            next.parent_id = Some(parent);
            next.parent_link_type = link_type;
        }
    }
    if remove_parent {
        next.parent_id = None;
        next.parent_link_type = None;
        next.properties_to_amend.clear();
    }
    let add_children = match body.get("addChildren") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => resolve_record_refs(repo, v, "addChildren", &id)?,
    };
    let remove_children = match body.get("removeChildren") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => resolve_record_refs(repo, v, "removeChildren", &id)?,
    };
    if let Some(child) = add_children
        .iter()
        .find(|c| Some(*c) == next.parent_id.as_ref() || is_ancestor(repo, c, &id))
    {
        return Err(ApiError::invalid_param(
            format!("record {child} is an ancestor of this record and cannot be its child"),
            "addChildren",
        ));
    }
    for p in string_list(&body, "removePropertiesToAmend")?.unwrap_or_default() {
        next.properties_to_amend.retain(|x| x != &p);
    }
    if let Some(add) = body.get("addPropertiesToAmend").filter(|v| !v.is_null()) {
        for p in properties_to_amend(repo, add, "addPropertiesToAmend")? {
            if !next.properties_to_amend.contains(&p) {
                next.properties_to_amend.push(p);
            }
        }
    }
    if !next.properties_to_amend.is_empty() && next.parent_link_type.as_deref() != Some("amendment")
    {
        return Err(ApiError::invalid_param(
            "properties can only be amended when parentLinkType is 'amendment'",
            "addPropertiesToAmend",
        ));
    }

    next.last_updated = time::format_ms(now);
    repo.records[index] = next;
    for link in &add_links {
        set_link(repo, &id, link, true);
    }
    for link in &remove_links {
        set_link(repo, &id, link, false);
    }
    for child in &add_children {
        if let Some(i) = repo.find_record(child) {
            repo.records[i].parent_id = Some(id.clone());
            repo.records[i].parent_link_type = None;
            repo.records[i].properties_to_amend.clear();
        }
    }
    for child in &remove_children {
        if let Some(i) = repo.find_record(child)
            && repo.records[i].parent_id.as_deref() == Some(id.as_str())
        {
            repo.records[i].parent_id = None;
            repo.records[i].parent_link_type = None;
            repo.records[i].properties_to_amend.clear();
        }
    }
    let record = repo.record(&id).expect("still there");
    Ok(Json(present(
        render(repo, record, emu.base_url(), now),
        as_object,
    )))
}

async fn remove(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    actor.require_scope(DELETE_RECORDS)?;
    let mut data = emu.data();
    let repo = &mut data.repository;
    let index = repo
        .find_record(&key)
        .ok_or_else(|| record_not_found(&key))?;
    let gone = repo.records.remove(index);
    for r in &mut repo.records {
        r.links.retain(|l| l != &gone.id);
        if r.parent_id.as_deref() == Some(gone.id.as_str()) {
            r.parent_id = None;
            r.parent_link_type = None;
            r.properties_to_amend.clear();
        }
    }
    repo.predictions.retain(|p| p.record_id != gone.id);
    Ok(StatusCode::NO_CONTENT)
}

// --- contract actions ------------------------------------------------------------------------

async fn run_action(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(APPLY_CONTRACT_ACTION)?;
    let body = json_object(&body)?;
    let action = ContractAction::parse(&body)?;
    let mut data = emu.data();
    let now = data.tick();
    let repo = &mut data.repository;
    let index = repo
        .find_record(&key)
        .ok_or_else(|| ApiError::not_found("no obligations found", Some("id")))?;
    for (param, value) in &action.properties {
        if param.ends_with("RecordId") {
            let target = value["value"].as_str().unwrap_or_default();
            if repo.find_record(target).is_none() {
                return Err(ApiError::invalid_param(
                    format!("couldn't find a record matching the id {target}"),
                    param,
                ));
            }
        }
    }
    let mut record = repo.records[index].clone();
    apply_action(&mut record, &action, now)?;
    record.last_updated = time::format_ms(now);
    let status = |r: &Record| r.contract_status.as_ref().map(|s| s["status"].clone());
    let changed = (status(&record) != status(&repo.records[index]))
        .then(|| Event::record(Kind::RecordContractStatusChanged, &record.id));
    repo.records[index] = record;
    data.emit(changed);
    Ok(Json(action.echo()))
}

/// A validated `ContractAction`.
struct ContractAction {
    kind: String,
    /// Normalised `{type, value}` properties (absent for `cancelAutoRenewal`).
    properties: Map<String, Value>,
}

impl ContractAction {
    fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        reject_unknown(body, &["type", "properties"])?;
        let kind = match body.get("type") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required attribute",
                    "type",
                ));
            }
            Some(Value::String(k)) if ACTIONS.contains(&k.as_str()) => k.clone(),
            Some(other) => {
                return Err(ApiError::invalid_param(
                    format!(
                        "unknown contract action type {}; value must be one of [{}]",
                        other,
                        ACTIONS.join(", ")
                    ),
                    "type",
                ));
            }
        };
        // (property, type, required)
        let renewal: [(&str, &str, bool); 6] = [
            ("standard_renewalsRemaining", "number", false),
            ("standard_renewalOptOutDate", "date", false),
            ("standard_renewalOptOutPeriod", "duration", false),
            ("standard_renewalTermLength", "duration", false),
            ("standard_renewalType", "string", true),
            ("otherRenewalType", "string", false),
        ];
        let effective: [(&str, &str, bool); 2] = [
            ("standard_initialTermLength", "duration", false),
            ("expirationDate", "date", false),
        ];
        let allowed: Vec<(&str, &str, bool)> = match kind.as_str() {
            "activate" => [
                ("standard_terminationNoticePeriod", "duration", false),
                ("effectiveDate", "date", false),
            ]
            .into_iter()
            .chain(renewal)
            .chain(effective)
            .collect(),
            "editRenewal" => renewal.into_iter().chain(effective).collect(),
            "terminate" => vec![
                ("standard_terminatedDate", "date", true),
                ("standard_terminationEffectiveDate", "date", true),
                ("standard_terminatingRecordId", "string", false),
            ],
            "supersede" => vec![
                ("standard_supersededDate", "date", true),
                ("standard_supersessionEffectiveDate", "date", true),
                ("standard_supersedingRecordId", "string", false),
            ],
            "extend" => vec![("standard_renewalTermLength", "duration", false)],
            "undo" => vec![("standard_undoObligationAction", "string", true)],
            _ => Vec::new(),
        };
        let given = match body.get("properties") {
            None | Some(Value::Null) if kind == "cancelAutoRenewal" => Map::new(),
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required attribute",
                    "properties",
                ));
            }
            Some(Value::Object(p)) => p.clone(),
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "properties must be an object",
                    "properties",
                ));
            }
        };
        let mut properties = Map::new();
        for (name, value) in &given {
            let Some((_, kind_of, _)) = allowed.iter().find(|(n, _, _)| n == name) else {
                return Err(ApiError::invalid_param(
                    format!("property {name} is not accepted by the {kind} action"),
                    name,
                ));
            };
            properties.insert(name.clone(), check_property(name, value, kind_of)?);
        }
        if let Some((name, _, _)) = allowed
            .iter()
            .find(|(n, _, required)| *required && !properties.contains_key(*n))
        {
            return Err(ApiError::missing_param("missing required attribute", name));
        }
        let enum_check = |name: &str, allowed: &[&str]| match properties.get(name) {
            Some(p) if !allowed.contains(&p["value"].as_str().unwrap_or_default()) => {
                Err(ApiError::invalid_param(
                    format!(
                        "invalid value {}; value must be one of [{}]",
                        p["value"],
                        allowed.join(", ")
                    ),
                    name,
                ))
            }
            _ => Ok(()),
        };
        enum_check("standard_renewalType", &RENEWAL_TYPES)?;
        enum_check("standard_undoObligationAction", &ACTIONS)?;
        Ok(Self { kind, properties })
    }

    fn echo(&self) -> Value {
        if self.kind == "cancelAutoRenewal" && self.properties.is_empty() {
            json!({ "type": self.kind })
        } else {
            json!({ "type": self.kind, "properties": self.properties })
        }
    }
}

fn invalid_state(message: impl Into<String>, param: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_STATE",
        message,
        Some(param),
    )
}

/// The lifecycle effect of an action on a record: its properties and `contractStatus`.
fn apply_action(record: &mut Record, action: &ContractAction, now: i64) -> Result<(), ApiError> {
    let status = record
        .contract_status
        .as_ref()
        .and_then(|s| s["status"].as_str())
        .unwrap_or("indeterminate")
        .to_owned();
    let before = Snapshot {
        action: action.kind.clone(),
        properties: record.properties.clone(),
        contract_status: record.contract_status.clone(),
    };
    let kind = action.kind.as_str();
    match kind {
        "undo" => {
            let target = action.properties["standard_undoObligationAction"]["value"]
                .as_str()
                .unwrap_or_default();
            let Some(last) = record.history.last() else {
                return Err(invalid_state(
                    "there is no contract action to undo",
                    "standard_undoObligationAction",
                ));
            };
            if last.action != target {
                return Err(invalid_state(
                    format!(
                        "the most recent contract action is {}, not {target}",
                        last.action
                    ),
                    "standard_undoObligationAction",
                ));
            }
            let last = record.history.pop().expect("checked");
            record.properties = last.properties;
            record.contract_status = last.contract_status;
            return Ok(());
        }
        "activate" if status == "active" => {
            return Err(invalid_state("the contract is already active", "type"));
        }
        "activate" => {}
        _ if status != "active" => {
            return Err(invalid_state(
                format!("the contract is not active ({status})"),
                "type",
            ));
        }
        _ => {}
    }
    let renewal_type = |r: &Record| {
        r.properties
            .get("standard_renewalType")
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    match kind {
        "cancelAutoRenewal" => {
            if renewal_type(record).as_deref() != Some("Auto-Renew") {
                return Err(invalid_state(
                    "the contract does not auto-renew",
                    "standard_renewalType",
                ));
            }
            record.properties.insert(
                "standard_renewalType".into(),
                json!({ "type": "string", "value": "None" }),
            );
        }
        "extend" => {
            record.properties.extend(action.properties.clone());
            let term = record
                .properties
                .get("standard_renewalTermLength")
                .and_then(|p| p["value"].as_str())
                .and_then(Duration::parse)
                .ok_or_else(|| {
                    ApiError::missing_param(
                        "missing required attribute",
                        "standard_renewalTermLength",
                    )
                })?;
            let expiration = date_property(record, "expirationDate").ok_or_else(|| {
                invalid_state(
                    "the contract has no expiration date to extend",
                    "expirationDate",
                )
            })?;
            let extended = term.add_to(expiration).ok_or_else(|| {
                invalid_state(
                    "the extended expiration date is past the year 9999",
                    "standard_renewalTermLength",
                )
            })?;
            record.properties.insert(
                "expirationDate".into(),
                json!({ "type": "date", "value": time::format_ms(extended) }),
            );
        }
        _ => record.properties.extend(action.properties.clone()),
    }
    record.contract_status = Some(match kind {
        "terminate" => ending_status(
            date_property(record, "standard_terminationEffectiveDate"),
            now,
            "terminating",
            "Terminating",
            "Terminated",
        ),
        "supersede" => ending_status(
            date_property(record, "standard_supersessionEffectiveDate"),
            now,
            "superseding",
            "Superseding",
            "Superseded",
        ),
        _ => lifecycle_status(record, now),
    });
    record.history.push(before);
    Ok(())
}

fn date_property(record: &Record, name: &str) -> Option<i64> {
    record
        .properties
        .get(name)
        .and_then(|p| p["value"].as_str())
        .and_then(time::parse)
}

/// `contractStatus` of an active (or activating) contract from its lifecycle properties.
fn lifecycle_status(record: &Record, now: i64) -> Value {
    let effective = date_property(record, "effectiveDate");
    let expiration = date_property(record, "expirationDate");
    let renewal = record
        .properties
        .get("standard_renewalType")
        .and_then(|p| p["value"].as_str())
        .unwrap_or("None");
    if let Some(at) = effective.filter(|at| *at > now) {
        return status_value(
            "inactive",
            "activating",
            Some(at),
            Some(format!("Activating on {}", human_date(at))),
        );
    }
    match (renewal, expiration) {
        ("Evergreen", _) => status_value("active", "evergreen", effective, None),
        ("Auto-Renew", Some(at)) => status_value(
            "active",
            "auto-renewing",
            Some(at),
            Some(format!("Auto-renewing on {}", human_date(at))),
        ),
        ("Auto-Renew", None) => status_value("active", "auto-renewing", effective, None),
        (_, Some(at)) if at <= now => status_value(
            "inactive",
            "inactive",
            Some(at),
            Some(format!("Expired on {}", human_date(at))),
        ),
        (_, Some(at)) => status_value(
            "active",
            "expiring",
            Some(at),
            Some(format!("Expiring on {}", human_date(at))),
        ),
        (_, None) => status_value("active", "active", effective, None),
    }
}

/// `contractStatus` after a termination or supersession taking effect at `at`.
fn ending_status(at: Option<i64>, now: i64, pending: &str, soon: &str, done: &str) -> Value {
    match at {
        Some(at) if at > now => status_value(
            "active",
            pending,
            Some(at),
            Some(format!("{soon} on {}", human_date(at))),
        ),
        _ => {
            let at = at.unwrap_or(now);
            status_value(
                "inactive",
                "inactive",
                Some(at),
                Some(format!("{done} on {}", human_date(at))),
            )
        }
    }
}

fn status_value(status: &str, enhanced: &str, at: Option<i64>, message: Option<String>) -> Value {
    let mut v = json!({ "status": status, "enhancedStatus": enhanced });
    if let Some(at) = at {
        v["eventDate"] = json!(time::format_ms(at));
    }
    if let Some(m) = message {
        v["message"] = json!(m);
    }
    v
}

/// `Dec 13, 2026`.
fn human_date(ms: i64) -> String {
    time::utc(ms).strftime("%b %-d, %Y").to_string()
}

/// An ISO-8601 duration (`P1Y2M3W4DT5H6M7S`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duration {
    years: i64,
    months: i64,
    weeks: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
}

impl Duration {
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('P')?;
        let (date, clock) = match rest.split_once('T') {
            Some((d, c)) if !c.is_empty() => (d, Some(c)),
            Some(_) => return None,
            None => (rest, None),
        };
        let mut d = Duration::default();
        let mut any = false;
        let mut read = |part: &str, units: &[(char, u8)]| -> Option<()> {
            let mut number = String::new();
            let mut last = 0u8;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let &(_, rank) = units.iter().find(|(u, _)| *u == c)?;
                if number.is_empty() || rank <= last {
                    return None;
                }
                let n: i64 = number.parse().ok()?;
                match (c, units.len()) {
                    ('Y', 4) => d.years = n,
                    ('M', 4) => d.months = n,
                    ('W', 4) => d.weeks = n,
                    ('D', 4) => d.days = n,
                    ('H', 3) => d.hours = n,
                    ('M', 3) => d.minutes = n,
                    _ => d.seconds = n,
                }
                any = true;
                last = rank;
                number.clear();
            }
            number.is_empty().then_some(())
        };
        read(date, &[('Y', 1), ('M', 2), ('W', 3), ('D', 4)])?;
        if let Some(clock) = clock {
            read(clock, &[('H', 1), ('M', 2), ('S', 3)])?;
        }
        any.then_some(d)
    }

    /// `ms` plus this duration, calendar-wise (month ends clamp: Jan 31 + P1M = Feb 28/29);
    /// None when the sum is past the calendar's last year (9999).
    pub fn add_to(&self, ms: i64) -> Option<i64> {
        let span = Span::new()
            .try_years(self.years)
            .and_then(|s| s.try_months(self.months))
            .and_then(|s| s.try_weeks(self.weeks))
            .and_then(|s| s.try_days(self.days))
            .and_then(|s| s.try_hours(self.hours))
            .and_then(|s| s.try_minutes(self.minutes))
            .and_then(|s| s.try_seconds(self.seconds))
            .ok()?;
        time::utc(ms).checked_add(span).ok().map(time::instant)
    }
}

// --- attachment download URLs ---------------------------------------------------------------

async fn create_download_job(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, ApiError> {
    actor.require_scope(READ_ATTACHMENTS)?;
    let body = json_object(&body)?;
    reject_unknown(&body, &["identifiers", "type"])?;
    let identifiers = match body.get("identifiers") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "identifiers",
            ));
        }
        Some(Value::Array(items)) if (1..=100).contains(&items.len()) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ApiError::invalid_param(
                            "identifiers must be record ids or Ironclad ids",
                            "identifiers",
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "identifiers must be an array of 1 to 100 record ids or Ironclad ids",
                "identifiers",
            ));
        }
    };
    match body.get("type") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                "type",
            ));
        }
        Some(Value::String(t)) if t == "latestSignedCopy" => {}
        Some(other) => {
            return Err(ApiError::invalid_param(
                format!("invalid type {other}; value must be one of [latestSignedCopy]"),
                "type",
            ));
        }
    }
    let job_id = ids::uuid();
    emu.data().repository.download_jobs.insert(
        job_id.clone(),
        DownloadJob {
            identifiers,
            result: None,
        },
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "jobId": job_id, "status": "processing" })),
    )
        .into_response())
}

async fn download_job_status(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_ATTACHMENTS)?;
    let mut data = emu.data();
    let now = data.now();
    let repo = &mut data.repository;
    let job = repo
        .download_jobs
        .get(&job_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("not found", Some("jobId")))?;
    let result = match job.result {
        Some(done) => done,
        None => {
            let done = resolve_download_job(repo, &job_id, &job.identifiers, emu.seed(), now);
            if let Some(j) = repo.download_jobs.get_mut(&job_id) {
                j.result = Some(done.clone());
            }
            done
        }
    };
    Ok(Json(result))
}

/// The finished job: a signed URL per record with a signed copy, a failure per other identifier.
fn resolve_download_job(
    repo: &Repository,
    job_id: &str,
    identifiers: &[String],
    seed: &crate::store::seed::Seed,
    now: i64,
) -> Value {
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for identifier in identifiers {
        let Some(record) = repo.record(identifier) else {
            failed.push(json!({
                "identifier": identifier,
                "errorCode": "RECORD_NOT_FOUND",
                "errorMessage": format!("couldn't find a record matching the id {identifier}"),
            }));
            continue;
        };
        let Some(filename) = record
            .attachments
            .get("signedCopy")
            .and_then(|a| a["filename"].as_str())
        else {
            failed.push(json!({
                "identifier": identifier,
                "ironcladId": record.ironclad_id,
                "recordId": record.id,
                "errorCode": "NO_ATTACHMENT_FOUND",
                "errorMessage": "the record has no signed copy attachment",
            }));
            continue;
        };
        let hash = hex(&Sha256::digest(format!("{}:{filename}", record.id)));
        let file_id = format!(
            "{}-{}-{}-{}-{}",
            &hash[..8],
            &hash[8..12],
            &hash[12..16],
            &hash[16..20],
            &hash[20..32]
        );
        let url = query::with_query(
            &format!(
                "https://storage.googleapis.com/ic_record_attachments/{}/{}/{hash}",
                seed.company.id, record.id
            ),
            &[
                ("X-Goog-Algorithm", "GOOG4-RSA-SHA256"),
                ("X-Goog-Expires", "1200"),
                ("X-Goog-SignedHeaders", "host"),
                (
                    "response-content-disposition",
                    &format!("attachment; filename=\"{filename}\""),
                ),
                ("X-Goog-Signature", &ids::hex(64)),
            ],
        );
        succeeded.push(json!({
            "identifier": identifier,
            "ironcladId": record.ironclad_id,
            "recordId": record.id,
            "downloadUrl": url,
            "filename": filename,
            "fileKey": "signedCopy",
            "fileId": file_id,
            "fileHash": hash,
            "expiration": time::format_ms(now + DOWNLOAD_URL_TTL_MS),
        }));
    }
    json!({ "jobId": job_id, "status": "complete", "succeeded": succeeded, "failed": failed })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// --- smart-import predictions ----------------------------------------------------------------

async fn predictions(
    State(emu): State<Emulator>,
    Extension(actor): Extension<Actor>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    actor.require_scope(READ_SMART_IMPORT)?;
    let record_id = params.get("recordId").filter(|s| !s.is_empty());
    let import_id = params.get("importId").filter(|s| !s.is_empty());
    let data = emu.data();
    let repo = &data.repository;
    let record_uuid = record_id.map(|k| repo.record(k).map(|r| r.id.as_str()).unwrap_or(k));
    let element = |p: &Prediction| json!({ "recordId": p.record_id, "status": p.status });
    match (record_uuid, import_id) {
        (None, None) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAM",
            "missing required form-data part 'recordId' or 'importId",
            None,
        )),
        (record, Some(import)) => {
            let found: Vec<Value> = repo
                .predictions
                .iter()
                .filter(|p| p.import_id == import && record.is_none_or(|r| p.record_id == r))
                .map(element)
                .collect();
            if found.is_empty() {
                Err(ApiError::not_found(
                    format!("couldn't find predictions for the import: {import}"),
                    None,
                ))
            } else {
                Ok(Json(Value::Array(found)))
            }
        }
        (Some(record), None) => repo
            .predictions
            .iter()
            .find(|p| p.record_id == record)
            .map(|p| Json(element(p)))
            .ok_or_else(|| {
                ApiError::not_found(
                    format!(
                        "couldn't find predictions for the record: {}",
                        record_id.unwrap_or(record)
                    ),
                    None,
                )
            }),
    }
}

// --- rendering -------------------------------------------------------------------------------

/// `RecordModel` with addresses as objects: links, parent/children, amendment roll-ups,
/// absolute attachment hrefs and the remaining duration of the contract status.
fn render(repo: &Repository, record: &Record, base_url: &str, now: i64) -> Value {
    let children: Vec<&Record> = repo
        .records
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(record.id.as_str()))
        .collect();
    render_with(record, &children, base_url, now)
}

/// The children that are amendments, in store order.
fn amendments_of<'a>(children: &[&'a Record]) -> Vec<&'a Record> {
    children
        .iter()
        .copied()
        .filter(|r| r.parent_link_type.as_deref() == Some("amendment"))
        .collect()
}

/// A property `{type, value}` as served: the last amendment among `children` rolling it up
/// wins over the record's own value (see [`render_with`]).
fn served_property<'a>(
    record: &'a Record,
    children: &[&'a Record],
    key: &str,
) -> Option<&'a Value> {
    children
        .iter()
        .rev()
        .filter(|a| a.parent_link_type.as_deref() == Some("amendment"))
        .filter(|a| a.properties_to_amend.iter().any(|k| k == key))
        .find_map(|a| a.properties.get(key))
        .or_else(|| record.properties.get(key))
}

/// [`render`] with the record's children already found.
fn render_with(record: &Record, children: &[&Record], base_url: &str, now: i64) -> Value {
    let mut properties = record.properties.clone();
    let amendments = amendments_of(children);
    for amendment in &amendments {
        for key in &amendment.properties_to_amend {
            let Some(amended) = amendment.properties.get(key) else {
                continue;
            };
            let mut rolled = json!({ "type": amended["type"], "value": amended["value"] });
            if let Some(own) = record.properties.get(key) {
                rolled["originalValue"] = own["value"].clone();
            }
            properties.insert(key.clone(), rolled);
        }
    }
    let attachments: Map<String, Value> = record
        .attachments
        .iter()
        .map(|(key, a)| {
            let mut a = a.clone();
            a["href"] = json!(format!(
                "{base_url}/public/api/v1/records/{}/attachments/{key}",
                record.id
            ));
            (key.clone(), a)
        })
        .collect();
    let mut v = json!({
        "id": record.id,
        "ironcladId": record.ironclad_id,
        "type": record.kind,
        "name": record.name,
        "lastUpdated": record.last_updated,
        "properties": properties,
        "attachments": attachments,
        "links": record.links.iter().map(|l| json!({ "recordId": l })).collect::<Vec<_>>(),
    });
    if let Some(parent) = &record.parent_id {
        v["parentId"] = json!(parent);
    }
    if let Some(t) = &record.parent_link_type {
        v["parentLinkType"] = json!(t);
    }
    if !children.is_empty() {
        v["childIds"] = json!(children.iter().map(|c| &c.id).collect::<Vec<_>>());
    }
    if let Some(mut status) = record.contract_status.clone() {
        if let Some(at) = status["eventDate"].as_str().and_then(time::parse)
            && at > now
        {
            let days = (at - now + time::DAY_MS - 1) / time::DAY_MS;
            status["remainingDuration"] = json!(format!("P{days}D"));
        }
        v["contractStatus"] = status;
    }
    if let Some(source) = &record.source {
        v["source"] = source.clone();
    }
    if !amendments.is_empty() {
        v["amendments"] = json!(
            amendments
                .iter()
                .map(|a| &a.ironclad_id)
                .collect::<Vec<_>>()
        );
    }
    v
}

/// Addresses become strings unless `addressAsObject=true`.
fn present(mut record: Value, as_object: bool) -> Value {
    if !as_object && let Some(props) = record["properties"].as_object_mut() {
        for prop in props.values_mut() {
            if prop["type"] == "address" {
                for key in ["value", "originalValue"] {
                    if prop[key].is_object() {
                        prop[key] = json!(address_text(&prop[key]));
                    }
                }
            }
        }
    }
    record
}

/// `1 Contoso Way, Building 4, Redmond, WA 98052, US` (or `raw` when that is all there is).
pub fn address_text(address: &Value) -> String {
    let text = |k: &str| address[k].as_str().unwrap_or_default().trim().to_owned();
    let mut parts: Vec<String> = address["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    parts.push(text("locality"));
    parts.push(
        format!("{} {}", text("region"), text("postcode"))
            .trim()
            .to_owned(),
    );
    parts.push(text("country"));
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        text("raw")
    } else {
        parts.join(", ")
    }
}

/// A `[property]` of a rendered record for filters: its properties' values first, then
/// top-level fields (`contractStatus` is its `status`, `enhancedStatus` its sub-status).
fn lookup_record(record: &Value, property: &str) -> Option<Value> {
    if let Some(p) = record["properties"].get(property) {
        return Some(p["value"].clone());
    }
    match property {
        "contractStatus" => record["contractStatus"].get("status").cloned(),
        "enhancedStatus" => record["contractStatus"].get("enhancedStatus").cloned(),
        other => record.get(other).cloned(),
    }
}

// --- shared request helpers ------------------------------------------------------------------

/// A JSON object body; an empty body counts as `{}`.
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            "request body must be a JSON object",
            "body",
        )),
    }
}

/// 400 naming the first key not in `allowed` (`additionalProperties: false`).
pub fn reject_unknown(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(ApiError::invalid_param(
            format!(
                "unknown parameter '{unknown}'; expected one of [{}]",
                allowed.join(", ")
            ),
            unknown,
        )),
    }
}

pub fn optional_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be a string"),
            key,
        )),
    }
}

pub fn required_string(body: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    optional_string(body, key)?
        .ok_or_else(|| ApiError::missing_param("missing required parameter", key))
}

pub fn non_empty(value: String, param: &str) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        Err(ApiError::invalid_param(
            format!("{param} must not be empty"),
            param,
        ))
    } else {
        Ok(value)
    }
}

pub fn optional_object<'a>(
    body: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be an object"),
            key,
        )),
    }
}

/// An optional array of strings.
/// An optional boolean body field (absent or null = false).
pub fn flag(body: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be a boolean"),
            key,
        )),
    }
}

pub fn string_list(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_param(format!("{key} must be an array of strings"), key)
            }),
        Some(_) => Err(ApiError::invalid_param(
            format!("{key} must be an array of strings"),
            key,
        )),
    }
}

/// The list `filter` formula, 400 `param: filter` when it does not parse.
pub fn parse_filter(params: &Params) -> Result<Option<Filter>, ApiError> {
    match params.get("filter").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => Filter::parse(raw)
            .map(Some)
            .map_err(|why| ApiError::invalid_param(format!("invalid filter: {why}"), "filter")),
    }
}

fn parse_since(params: &Params) -> Result<Option<i64>, ApiError> {
    match params.get("lastUpdated").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => time::parse(raw).map(Some).ok_or_else(|| {
            ApiError::invalid_param(
                format!("invalid query value '{raw}'; value must be an ISO-8601 UTC date"),
                "lastUpdated",
            )
        }),
    }
}

/// An enum query parameter (`sortField`, `sortDirection`), `default` when absent.
pub fn enum_param<'a>(
    params: &'a Params,
    name: &str,
    allowed: &[&'a str],
    default: &'a str,
) -> Result<&'a str, ApiError> {
    match params.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => allowed
            .iter()
            .find(|a| **a == v)
            .copied()
            .ok_or_else(|| ApiError::invalid_query_enum(name, v, allowed)),
    }
}

/// A sort key; absent values sort last in either direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Text(String),
    Time(i64),
    Missing,
}

impl SortKey {
    pub fn from_time(text: Option<&str>) -> Self {
        text.and_then(time::parse)
            .map(SortKey::Time)
            .unwrap_or(SortKey::Missing)
    }
}

pub fn sort_order(a: &SortKey, b: &SortKey, descending: bool) -> Ordering {
    match (a, b) {
        (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
        (SortKey::Missing, _) => Ordering::Greater,
        (_, SortKey::Missing) => Ordering::Less,
        _ if descending => b.cmp(a),
        _ => a.cmp(b),
    }
}

// --- record bodies ---------------------------------------------------------------------------

/// What create and replace bodies share.
struct RecordContent {
    kind: String,
    name: String,
    properties: Map<String, Value>,
    parent: Option<(String, Option<String>)>,
    properties_to_amend: Vec<String>,
    children: Option<Vec<String>>,
}

impl RecordContent {
    /// `self_id` is the record being written (new or replaced).
    fn parse(
        repo: &Repository,
        body: &Map<String, Value>,
        self_id: &str,
    ) -> Result<Self, ApiError> {
        let kind = required_string(body, "type")?;
        check_record_type(repo, &kind)?;
        let name = non_empty(required_string(body, "name")?, "name")?;
        let properties = match body.get("properties") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required parameter",
                    "properties",
                ));
            }
            Some(Value::Object(p)) => check_properties(&repo.schema.properties, p, "properties")?,
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "properties must be an object",
                    "properties",
                ));
            }
        };
        let parent = match body.get("parent") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_parent(repo, v, "parent", self_id)?),
        };
        let properties_to_amend = match body.get("propertiesToAmend") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => properties_to_amend(repo, v, "propertiesToAmend")?,
        };
        if !properties_to_amend.is_empty()
            && parent.as_ref().and_then(|(_, t)| t.as_deref()) != Some("amendment")
        {
            return Err(ApiError::invalid_param(
                "propertiesToAmend is only valid when parentLinkType is 'amendment'",
                "propertiesToAmend",
            ));
        }
        let children = match body.get("children") {
            None | Some(Value::Null) => None,
            Some(v) => Some(resolve_record_refs(repo, v, "children", self_id)?),
        };
        if let Some(children) = &children
            && let Some(bad) = children.iter().find(|c| {
                parent.as_ref().is_some_and(|(p, _)| p == *c) || is_ancestor(repo, c, self_id)
            })
        {
            return Err(ApiError::invalid_param(
                format!("record {bad} is an ancestor of this record and cannot be its child"),
                "children",
            ));
        }
        Ok(Self {
            kind,
            name,
            properties,
            parent,
            properties_to_amend,
            children,
        })
    }
}

fn check_record_type(repo: &Repository, kind: &str) -> Result<(), ApiError> {
    if repo.schema.record_types.contains_key(kind) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(
            format!("unknown record type {kind}"),
            "type",
        ))
    }
}

/// `[{recordId}]` → record ids (each must exist and differ from `self_id`).
fn resolve_record_refs(
    repo: &Repository,
    value: &Value,
    param: &str,
    self_id: &str,
) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::invalid_param(
            format!("{param} must be an array of {{recordId}} objects"),
            param,
        ));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(key) = item.get("recordId").and_then(Value::as_str) else {
            return Err(ApiError::missing_param(
                "missing required parameter",
                &format!("{param}.recordId"),
            ));
        };
        let record = repo.record(key).ok_or_else(|| {
            ApiError::invalid_param(
                format!("couldn't find a record matching the id {key}"),
                &format!("{param}.recordId"),
            )
        })?;
        if record.id == self_id {
            return Err(ApiError::invalid_param(
                "a record cannot refer to itself",
                &format!("{param}.recordId"),
            ));
        }
        if !out.contains(&record.id) {
            out.push(record.id.clone());
        }
    }
    Ok(out)
}

/// `RecordParentModel` → (parent id, link type).
fn parse_parent(
    repo: &Repository,
    value: &Value,
    param: &str,
    self_id: &str,
) -> Result<(String, Option<String>), ApiError> {
    let Value::Object(parent) = value else {
        return Err(ApiError::invalid_param(
            format!("{param} must be an object with a recordId"),
            param,
        ));
    };
    reject_unknown(parent, &["recordId", "parentLinkType"])?;
    let key = parent
        .get("recordId")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::missing_param("missing required parameter", &format!("{param}.recordId"))
        })?;
    let record = repo.record(key).ok_or_else(|| {
        ApiError::invalid_param(
            format!("couldn't find a record matching the id {key}"),
            &format!("{param}.recordId"),
        )
    })?;
    if record.id == self_id || is_ancestor(repo, self_id, &record.id) {
        return Err(ApiError::invalid_param(
            "a record cannot be its own parent or the parent of its ancestors",
            &format!("{param}.recordId"),
        ));
    }
    let link_type = match parent.get("parentLinkType") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if LINK_TYPES.contains(&t.as_str()) => Some(t.clone()),
        Some(other) => {
            return Err(ApiError::invalid_param(
                format!(
                    "invalid parentLinkType {other}; value must be one of [{}]",
                    LINK_TYPES.join(", ")
                ),
                &format!("{param}.parentLinkType"),
            ));
        }
    };
    Ok((record.id.clone(), link_type))
}

/// Whether `ancestor` is `record`'s parent, grandparent, ….
fn is_ancestor(repo: &Repository, ancestor: &str, record: &str) -> bool {
    let mut current = repo.record(record).and_then(|r| r.parent_id.clone());
    let mut steps = 0;
    while let Some(id) = current {
        if id == ancestor {
            return true;
        }
        steps += 1;
        if steps > repo.records.len() {
            return false;
        }
        current = repo.record(&id).and_then(|r| r.parent_id.clone());
    }
    false
}

/// `PropertiesToAmend` → property ids (known properties, `amendmentType: replace`).
fn properties_to_amend(
    repo: &Repository,
    value: &Value,
    param: &str,
) -> Result<Vec<String>, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid_param(
            format!("{param} must be an object"),
            param,
        ));
    };
    let mut out = Vec::new();
    for (key, config) in map {
        let here = format!("{param}.{key}");
        if !repo.schema.properties.contains_key(key) {
            return Err(ApiError::invalid_param(
                format!("unknown property {key}"),
                &here,
            ));
        }
        if config.get("amendmentType").and_then(Value::as_str) != Some("replace") {
            return Err(ApiError::invalid_param(
                "amendmentType must be 'replace'",
                &format!("{here}.amendmentType"),
            ));
        }
        out.push(key.clone());
    }
    Ok(out)
}

/// Link or unlink two records (both sides).
fn set_link(repo: &mut Repository, a: &str, b: &str, linked: bool) {
    for (from, to) in [(a, b), (b, a)] {
        if let Some(i) = repo.find_record(from) {
            let links = &mut repo.records[i].links;
            links.retain(|l| l != to);
            if linked {
                links.push(to.to_owned());
            }
        }
    }
}

/// Make `children` exactly the children of `parent`.
fn set_children(repo: &mut Repository, parent: &str, children: &[String]) {
    for r in &mut repo.records {
        let is_child = r.parent_id.as_deref() == Some(parent);
        let wanted = children.contains(&r.id);
        if wanted && !is_child {
            r.parent_id = Some(parent.to_owned());
            r.parent_link_type = None;
            r.properties_to_amend.clear();
        } else if is_child && !wanted {
            r.parent_id = None;
            r.parent_link_type = None;
            r.properties_to_amend.clear();
        }
    }
}

// --- properties ------------------------------------------------------------------------------

/// Check `{propertyId: {type, value}}` against the defined properties; `param` prefixes the
/// error param (`properties.counterpartyName`). Returns the normalised map.
pub fn check_properties(
    defs: &BTreeMap<String, PropertyDef>,
    given: &Map<String, Value>,
    param: &str,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for (key, prop) in given {
        let here = format!("{param}.{key}");
        let def = defs
            .get(key)
            .ok_or_else(|| ApiError::invalid_param(format!("unknown property {key}"), &here))?;
        out.insert(key.clone(), check_property(&here, prop, &def.kind)?);
    }
    Ok(out)
}

/// Check one `{type, value}` against the property's type; returns it normalised (dates in
/// canonical UTC). `originalValue` (served on amended properties) is accepted and dropped.
pub fn check_property(param: &str, prop: &Value, expected: &str) -> Result<Value, ApiError> {
    let Value::Object(prop) = prop else {
        return Err(ApiError::invalid_param(
            "a property must be an object with type and value",
            param,
        ));
    };
    if let Some(extra) = prop
        .keys()
        .find(|k| !["type", "value", "originalValue"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid_param(
            format!("unknown field '{extra}' in property"),
            param,
        ));
    }
    let kind = match prop.get("type") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                &format!("{param}.type"),
            ));
        }
        Some(Value::String(k)) => k.as_str(),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "type must be a string",
                &format!("{param}.type"),
            ));
        }
    };
    if !PROPERTY_TYPES.contains(&kind) {
        return Err(ApiError::invalid_param(
            format!(
                "unsupported property type {kind}; value must be one of [{}]",
                PROPERTY_TYPES.join(", ")
            ),
            &format!("{param}.type"),
        ));
    }
    if kind != expected {
        return Err(ApiError::invalid_param(
            format!("property has type {expected}, not {kind}"),
            &format!("{param}.type"),
        ));
    }
    let value = match prop.get("value") {
        None | Some(Value::Null) => {
            return Err(ApiError::missing_param(
                "missing required parameter",
                &format!("{param}.value"),
            ));
        }
        Some(v) => v,
    };
    let bad = |why: &str| ApiError::invalid_param(why.to_owned(), &format!("{param}.value"));
    let value = match kind {
        "string" => value
            .as_str()
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be a string"))?,
        "number" => value
            .is_number()
            .then(|| value.clone())
            .ok_or_else(|| bad("value must be a number"))?,
        "boolean" => value
            .is_boolean()
            .then(|| value.clone())
            .ok_or_else(|| bad("value must be a boolean"))?,
        "date" => value
            .as_str()
            .and_then(time::normalize)
            .map(Value::String)
            .ok_or_else(|| bad("value must be an ISO-8601 date"))?,
        "duration" => value
            .as_str()
            .filter(|d| Duration::parse(d).is_some())
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be an ISO-8601 duration such as P1Y or P30D"))?,
        "email" => value
            .as_str()
            .filter(|e| is_email(e))
            .map(|_| value.clone())
            .ok_or_else(|| bad("value must be an email address"))?,
        "monetary_amount" => check_money(value).ok_or_else(|| {
            bad("value must be {currency (ISO 4217, e.g. USD), amount (number)}")
        })?,
        _ => check_address(value).ok_or_else(|| {
            bad("value must be an address {lines (up to 4), locality, region, postcode, country, raw}")
        })?,
    };
    Ok(json!({ "type": kind, "value": value }))
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !text.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn check_money(value: &Value) -> Option<Value> {
    let map = value.as_object()?;
    let currency = map.get("currency")?.as_str()?;
    let amount = map.get("amount")?;
    (map.len() == 2
        && currency.len() == 3
        && currency.bytes().all(|c| c.is_ascii_uppercase())
        && amount.is_number())
    .then(|| json!({ "currency": currency, "amount": amount }))
}

fn check_address(value: &Value) -> Option<Value> {
    let map = value.as_object()?;
    let mut any = false;
    for (key, v) in map {
        match (key.as_str(), v) {
            ("lines", Value::Array(lines)) if lines.len() <= 4 => {
                if !lines.iter().all(Value::is_string) {
                    return None;
                }
                any |= !lines.is_empty();
            }
            ("locality" | "country" | "region" | "postcode" | "raw", Value::String(s)) => {
                any |= !s.is_empty();
            }
            _ => return None,
        }
    }
    any.then(|| value.clone())
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

    #[test]
    fn properties_are_checked_and_normalised() {
        let ok = |v: Value, t: &str| check_property("p", &v, t).unwrap()["value"].clone();
        assert_eq!(
            ok(
                json!({"type": "date", "value": "2018-05-08T00:00:00-07:00"}),
                "date"
            ),
            "2018-05-08T07:00:00.000Z"
        );
        assert_eq!(
            ok(
                json!({"type": "monetary_amount", "value": {"currency": "USD", "amount": 5}}),
                "monetary_amount"
            )["amount"],
            5
        );
        ok(
            json!({"type": "duration", "value": "P10Y3M2W1D"}),
            "duration",
        );
        ok(json!({"type": "address", "value": {"raw": "x"}}), "address");
        for (v, t, param) in [
            (json!({"type": "string"}), "string", "p.value"),
            (json!({"value": "x"}), "string", "p.type"),
            (json!({"type": "number", "value": "1"}), "number", "p.value"),
            (json!({"type": "string", "value": "1"}), "number", "p.type"),
            (
                json!({"type": "email", "value": "nope"}),
                "email",
                "p.value",
            ),
            (
                json!({"type": "duration", "value": "P"}),
                "duration",
                "p.value",
            ),
            (
                json!({"type": "duration", "value": "PT"}),
                "duration",
                "p.value",
            ),
            (json!({"type": "date", "value": "soon"}), "date", "p.value"),
            (
                json!({"type": "monetary_amount", "value": {"currency": "usd", "amount": 1}}),
                "monetary_amount",
                "p.value",
            ),
            (json!({"type": "clause", "value": {}}), "string", "p.type"),
        ] {
            let e = check_property("p", &v, t).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{v}");
        }
    }

    #[test]
    fn durations_add_calendar_wise() {
        let d = Duration::parse("P1M").unwrap();
        let jan31 = time::parse("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(
            time::format_ms(d.add_to(jan31).unwrap()),
            "2026-02-28T00:00:00.000Z"
        );
        let y = Duration::parse("P1Y2W").unwrap();
        assert_eq!(
            time::format_ms(y.add_to(time::parse("2026-12-13").unwrap()).unwrap()),
            "2027-12-27T00:00:00.000Z"
        );
        assert_eq!(
            y.add_to(time::parse("9998-12-31").unwrap()),
            None,
            "past 9999"
        );
        assert!(Duration::parse("P1D2Y").is_none());
        assert!(Duration::parse("1Y").is_none());
        assert_eq!(
            human_date(time::parse("2024-07-02").unwrap()),
            "Jul 2, 2024"
        );
    }

    #[test]
    fn addresses_render_as_text() {
        assert_eq!(
            address_text(
                &json!({"lines": ["1 Main St"], "locality": "Springfield", "region": "IL", "postcode": "62701", "country": "US"})
            ),
            "1 Main St, Springfield, IL 62701, US"
        );
        assert_eq!(address_text(&json!({"raw": "somewhere"})), "somewhere");
    }
}
