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

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use self::actions::run_action;
use self::content::{
    RecordContent, check_record_type, is_ancestor, parse_parent, properties_to_amend, record_refs,
    set_children, set_link,
};
use self::downloads::{create_download_job, download_job_status, predictions};
pub use self::render::address_text;
use self::render::{lookup_record, present, render, render_with, served_property};
use crate::api::body::{
    SORT_DIRECTIONS, SortKey, enum_param, flag, json_object, non_empty, optional_object,
    optional_string, parse_filter, parse_since, reject_unknown, sort_order, string_list,
};
use crate::api::pagination::PageRequest;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::errors::ApiError;
use crate::infra::query::Params;
use crate::store::properties::check_properties;
use crate::store::repository::{NewRecord, Record, Repository};
use crate::store::{ids, time};

pub const READ_RECORDS: &str = "public.records.readRecords";
pub const CREATE_RECORDS: &str = "public.records.createRecords";
pub const UPDATE_RECORDS: &str = "public.records.updateRecords";
pub const DELETE_RECORDS: &str = "public.records.deleteRecords";
pub const READ_SCHEMAS: &str = "public.records.readSchemas";
pub const APPLY_CONTRACT_ACTION: &str = "public.records.applyContractAction";
pub const READ_ATTACHMENTS: &str = "public.records.readAttachments";
pub const READ_SMART_IMPORT: &str = "public.records.readSmartImportRecords";

const SORT_FIELDS: [&str; 3] = ["agreementDate", "name", "lastUpdated"];

mod actions;
mod content;
mod downloads;
mod files;
mod render;

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
    let links = record_refs(repo, &body, "links", &id)?;
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
    let add_links = record_refs(repo, &body, "addLinks", &id)?;
    let remove_links = record_refs(repo, &body, "removeLinks", &id)?;
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
    let add_children = record_refs(repo, &body, "addChildren", &id)?;
    let remove_children = record_refs(repo, &body, "removeChildren", &id)?;
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
