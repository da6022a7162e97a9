//! What create and replace bodies say about a record: type, properties, links, parent and
//! amended properties, checked against the repository.

use serde_json::{Map, Value};

use crate::api::body::{non_empty, reject_unknown, required_string};
use crate::infra::errors::ApiError;
use crate::store::properties::check_properties;
use crate::store::repository::{LINK_TYPES, Repository};

/// What create and replace bodies share.
pub(super) struct RecordContent {
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) properties: Map<String, Value>,
    pub(super) parent: Option<(String, Option<String>)>,
    pub(super) properties_to_amend: Vec<String>,
    pub(super) children: Option<Vec<String>>,
}

impl RecordContent {
    /// `self_id` is the record being written (new or replaced).
    pub(super) fn parse(
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

pub(super) fn check_record_type(repo: &Repository, kind: &str) -> Result<(), ApiError> {
    if repo.schema.record_types.contains_key(kind) {
        Ok(())
    } else {
        Err(ApiError::invalid_param(
            format!("unknown record type {kind}"),
            "type",
        ))
    }
}

/// `body[param]` as record ids ([`resolve_record_refs`]); none when absent or null.
pub(super) fn record_refs(
    repo: &Repository,
    body: &Map<String, Value>,
    param: &str,
    self_id: &str,
) -> Result<Vec<String>, ApiError> {
    match body.get(param) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => resolve_record_refs(repo, v, param, self_id),
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
pub(super) fn parse_parent(
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
pub(super) fn is_ancestor(repo: &Repository, ancestor: &str, record: &str) -> bool {
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
pub(super) fn properties_to_amend(
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
pub(super) fn set_link(repo: &mut Repository, a: &str, b: &str, linked: bool) {
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
pub(super) fn set_children(repo: &mut Repository, parent: &str, children: &[String]) {
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
