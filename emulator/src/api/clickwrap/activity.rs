//! The Clickwrap Activity API: `/send` records events (GET with URL parameters or POST with a
//! JSON body), `/latest`, `/retrieve` and `/published` read acceptance state. Every call is
//! keyed by the Site Access ID `sid`; there is no token. An unknown `sid` is refused, or taken
//! and dropped, as [`UnknownSid`] says.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{CwError, Query};
use crate::emulator::Emulator;
use crate::store::clickwrap::{Store, UnknownSid};

const EVENT_TYPES: [&str; 6] = [
    "agreed",
    "disagreed",
    "displayed",
    "visited",
    "updated",
    "sent",
];

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: clickwrap_activity_send
        .route("/send", get(send_get).post(send_post))
        // action: clickwrap_activity_latest
        .route("/latest", get(latest))
        // action: clickwrap_activity_retrieve
        .route("/retrieve", get(retrieve))
        // action: clickwrap_activity_published
        .route("/published", get(published))
}

/// Parameters from the URL or a JSON body, as text (objects stay JSON).
struct Params(Map<String, Value>);

impl Params {
    fn from_query(raw: Option<&str>) -> Self {
        let q = Query::parse(raw);
        Self(
            q.0.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    fn text(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn required(&self, name: &str) -> Result<String, CwError> {
        self.text(name)
            .ok_or_else(|| CwError::bad_request(format!("Missing required parameter `{name}`")))
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.text(name).map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    fn flag(&self, name: &str) -> bool {
        self.text(name).as_deref() == Some("true")
    }

    /// The site `sid` names. Unknown or missing is 401, or `None` (taken, nothing to record
    /// or read) when the store answers unknown ids so.
    fn site(&self, store: &Store) -> Result<Option<i64>, CwError> {
        let sid = self.text("sid").unwrap_or_default();
        let site = store
            .site_by_access_id(&sid.to_ascii_lowercase())
            .and_then(|s| s["id"].as_i64());
        match (site, store.unknown_sid) {
            (Some(site), _) => Ok(Some(site)),
            (None, UnknownSid::Unrecorded) => Ok(None),
            (None, UnknownSid::Refused) => Err(CwError::unauthorized(
                "Invalid or missing site access id (sid)",
            )),
        }
    }
}

async fn send_get(
    State(emu): State<Emulator>,
    RawQuery(raw): RawQuery,
) -> Result<Response, CwError> {
    send(&emu, Params::from_query(raw.as_deref()))
}

async fn send_post(State(emu): State<Emulator>, body: Bytes) -> Result<Response, CwError> {
    let params = serde_json::from_slice::<Map<String, Value>>(&body)
        .map_err(|_| CwError::bad_request("the body must be a JSON object"))?;
    send(&emu, Params(params))
}

/// One activity per version in `vid`, for the signer `sig`; the signer record follows.
fn send(emu: &Emulator, params: Params) -> Result<Response, CwError> {
    let mut data = emu.data();
    let now = crate::store::time::format_ms(data.tick());
    let store = &mut data.clickwrap;
    let Some(site) = params.site(store)? else {
        return Ok(StatusCode::OK.into_response());
    };
    let signer = params.required("sig")?;
    let event = params.required("et")?;
    if !EVENT_TYPES.contains(&event.as_str()) {
        return Err(CwError::bad_request(format!(
            "invalid event type `{event}`"
        )));
    }
    let vids = params
        .list("vid")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CwError::bad_request("Missing required parameter `vid`"))?;
    let cids = params.list("cid").unwrap_or_default();
    let mut contracts = Vec::new();
    for (i, vid) in vids.iter().enumerate() {
        let version = store
            .versions
            .iter()
            .find(|v| v["id"] == vid.as_str())
            .ok_or_else(|| CwError::bad_request(format!("unknown version `{vid}`")))?;
        let contract = version["contract"].clone();
        let in_site = store
            .contracts
            .iter()
            .any(|c| c["id"] == contract && c["site"] == site);
        if !in_site {
            return Err(CwError::bad_request(format!(
                "version `{vid}` is not in this site"
            )));
        }
        if let Some(cid) = cids.get(i)
            && json!(cid.parse::<i64>().unwrap_or(-1)) != contract
        {
            return Err(CwError::bad_request(format!(
                "cid `{cid}` does not match version `{vid}`"
            )));
        }
        contracts.push((contract, vid.clone()));
    }
    let custom_data = match params.0.get("cus") {
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|_| CwError::bad_request("`cus` must be JSON"))?
        }
        Some(other) => other.clone(),
        None => json!({}),
    };
    let group = match params.text("gid") {
        Some(g) => json!(g.parse::<i64>().unwrap_or_default()),
        None => params
            .text("gkey")
            .and_then(|k| store.groups.iter().find(|g| g["key"] == k.as_str()))
            .map_or(Value::Null, |g| g["id"].clone()),
    };
    let connection = json!({ "remote_address": params.text("addr"), "user_agent": params.text("bua"),
                             "page_url": params.text("pau"), "referrer": params.text("ref") });
    for (contract, vid) in contracts {
        store.activity.push(
            json!({ "id": crate::store::ids::object_id(), "signer_id": signer,
            "event_type": event, "contract": contract, "version": vid, "group": group,
            "site": site, "created_time": now, "custom_data": custom_data,
            "connection_data": connection, "test_mode": params.flag("tm") }),
        );
    }
    upsert_signer(
        store,
        site,
        &signer,
        &json!({ "additional_attributes": custom_data }),
        Some((&event, &now)),
    );
    Ok(Json(json!({ "success": true })).into_response())
}

/// Create or update a signer of `site`; `activity` is the event that touched it, if any.
pub fn upsert_signer(
    store: &mut Store,
    site: i64,
    signer_id: &str,
    fields: &Value,
    activity: Option<(&str, &str)>,
) -> Value {
    let position = store
        .signers
        .iter()
        .position(|s| s["signer_id"] == signer_id && s["site"] == site);
    let signer = match position {
        Some(i) => &mut store.signers[i],
        None => {
            store.signers.push(
                json!({ "signer_id": signer_id, "uuid": crate::store::ids::object_id(),
                "email": signer_id.contains('@').then_some(signer_id), "site": site,
                "source": if activity.is_some() { "activity" } else { "api" },
                "test_mode": false, "additional_attributes": {} }),
            );
            store.signers.last_mut().expect("just pushed")
        }
    };
    for field in ["email", "mobile_number", "name", "company_name"] {
        if let Some(value) = fields.get(field) {
            signer[field] = value.clone();
        }
    }
    if let Some(Value::Object(attrs)) = fields.get("additional_attributes") {
        for (k, v) in attrs {
            signer["additional_attributes"][k] = v.clone();
        }
    }
    if let Some((event, at)) = activity {
        signer["last_action"] = json!(event);
        signer["latest_activity_time"] = json!(at);
    }
    signer.clone()
}

/// The version the signer last agreed to for each contract of the site.
fn agreed(store: &Store, site: i64, signer: &str) -> Map<String, Value> {
    let mut last = Map::new();
    for a in store
        .activity
        .iter()
        .filter(|a| a["site"] == site && a["signer_id"] == signer && a["event_type"] == "agreed")
    {
        last.insert(a["contract"].to_string(), a["version"].clone());
    }
    last
}

/// Contract ids from `cid`, or those of the group `gkey`; exactly one must be given.
fn contracts_asked(store: &Store, site: i64, params: &Params) -> Result<Vec<String>, CwError> {
    match (params.list("cid"), params.text("gkey")) {
        (Some(cids), None) => Ok(cids),
        (None, Some(gkey)) => store
            .groups
            .iter()
            .find(|g| g["key"] == gkey.as_str() && g["site"] == site)
            .map(|g| {
                g["contracts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(Value::to_string)
                    .collect()
            })
            .ok_or_else(|| CwError::not_found("Group")),
        _ => Err(CwError::bad_request("Pass exactly one of `gkey` or `cid`")),
    }
}

/// A read of the Activity API: the URL parameters and the site `sid` names, then `answer`'s
/// map of contract ids.
fn read(
    emu: &Emulator,
    raw: Option<String>,
    answer: impl FnOnce(&Store, i64, &Params) -> Result<Map<String, Value>, CwError>,
) -> Result<Json<Value>, CwError> {
    let params = Params::from_query(raw.as_deref());
    let data = emu.data();
    let Some(site) = params.site(&data.clickwrap)? else {
        return Ok(Json(json!({})));
    };
    answer(&data.clickwrap, site, &params).map(|map| Json(Value::Object(map)))
}

/// Whether the signer accepted each contract's published version.
async fn latest(
    State(emu): State<Emulator>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, CwError> {
    read(&emu, raw, |store, site, params| {
        let last = agreed(store, site, &params.required("sig")?);
        let mut out = Map::new();
        for cid in contracts_asked(store, site, params)? {
            let published = store
                .contracts
                .iter()
                .find(|c| c["id"].as_i64() == cid.parse().ok() && c["site"] == site)
                .map(|c| c["published_version"].clone());
            let current = matches!((&published, last.get(&cid)), (Some(p), Some(v)) if p == v);
            out.insert(cid, json!(current));
        }
        Ok(out)
    })
}

/// The version last accepted per contract (`false`: never, for contracts asked in `cid`).
async fn retrieve(
    State(emu): State<Emulator>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, CwError> {
    read(&emu, raw, |store, site, params| {
        let last = agreed(store, site, &params.required("sig")?);
        Ok(match params.list("cid") {
            Some(cids) => cids
                .into_iter()
                .map(|cid| {
                    let v = last.get(&cid).cloned().unwrap_or(json!(false));
                    (cid, v)
                })
                .collect(),
            None => last,
        })
    })
}

/// The published version of each contract of a published group.
async fn published(
    State(emu): State<Emulator>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, CwError> {
    read(&emu, raw, |store, site, params| {
        let gkey = params.required("gkey")?;
        let group = store
            .groups
            .iter()
            .find(|g| g["key"] == gkey.as_str() && g["site"] == site && g["published"] == true)
            .ok_or_else(|| CwError::not_found("Group"))?;
        Ok(group["contracts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| {
                let c = store.contracts.iter().find(|c| &c["id"] == id)?;
                Some((id.to_string(), c["published_version"].clone()))
            })
            .collect())
    })
}
