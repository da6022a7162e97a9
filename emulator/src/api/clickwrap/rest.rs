//! The Clickwrap REST API under `/v1.1`: sites, contracts and versions, groups, signers,
//! activity and users, each behind the API key user's site permissions.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{CwError, Query, collection};
use crate::emulator::Emulator;
use crate::store::clickwrap::{Store, User};

type Answer = Result<Json<Value>, CwError>;

pub fn routes() -> Router<Emulator> {
    Router::new()
        // action: clickwrap_list_sites
        .route("/v1.1/sites", get(list_sites))
        // action: clickwrap_get_site
        .route("/v1.1/sites/{site}", get(get_site))
        // action: clickwrap_list_contracts
        .route("/v1.1/sites/{site}/contract", get(list_contracts))
        // action: clickwrap_get_contract
        .route("/v1.1/contracts/{id}", get(get_contract))
        // action: clickwrap_create_version
        .route("/v1.1/contracts/{id}/versions", post(create_version))
        // action: clickwrap_get_latest_version, clickwrap_get_published_version
        .route(
            "/v1.1/contracts/{id}/versions/{which}",
            get(contract_version),
        )
        // action: clickwrap_publish_version, clickwrap_publish_latest_version
        .route(
            "/v1.1/contracts/{id}/versions/{which}/publish",
            post(publish_version),
        )
        // action: clickwrap_get_version
        .route("/v1.1/versions/{id}", get(get_version))
        // action: clickwrap_list_groups, clickwrap_create_group
        .route(
            "/v1.1/sites/{site}/groups",
            get(list_groups).post(create_group),
        )
        // action: clickwrap_get_group, clickwrap_update_group
        .route("/v1.1/groups/{id}", get(get_group).patch(update_group))
        // action: clickwrap_publish_group
        .route("/v1.1/groups/{id}/publish", post(publish_group))
        // action: clickwrap_list_signers
        .route("/v1.1/signers", get(list_signers))
        // action: clickwrap_list_site_signers, clickwrap_upsert_signer
        .route(
            "/v1.1/sites/{site}/signers",
            get(list_site_signers).post(upsert_signers),
        )
        // action: clickwrap_get_signer
        .route("/v1.1/signers/{spec}", get(get_signer))
        // action: clickwrap_list_activity
        .route("/v1.1/activity", get(list_activity))
        // action: clickwrap_get_activity
        .route("/v1.1/activity/{id}", get(get_activity))
        // action: clickwrap_list_signer_activity
        .route(
            "/v1.1/sites/{site}/signers/{spec}/activity",
            get(list_signer_activity),
        )
        // action: clickwrap_list_account_members
        .route("/v1.1/accounts/{id}/members", get(list_members))
        // action: clickwrap_list_site_memberships
        .route("/v1.1/sites/{site}/memberships", get(list_memberships))
        // action: clickwrap_get_site_membership
        .route("/v1.1/sites/{site}/memberships/{user}", get(get_membership))
        .route("/v1.1/{*rest}", any(unknown))
}

/// The token's user, or 401.
fn caller(emu: &Emulator, headers: &HeaderMap) -> Result<User, CwError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| CwError::unauthorized("Missing access token"))?;
    let data = emu.data();
    let store = &data.clickwrap;
    store
        .tokens
        .get(token.trim())
        .and_then(|id| store.user(*id))
        .cloned()
        .ok_or_else(|| CwError::unauthorized("Invalid access token"))
}

/// May `user` do `permission` in `site`? Sites the user is not a member of do not exist for it.
fn allow(user: &User, site: i64, permission: &str) -> Result<(), CwError> {
    match user.sites.get(&site) {
        None => Err(CwError::not_found("Site")),
        Some(p) if p.contains(&permission) => Ok(()),
        Some(_) => Err(CwError::forbidden(format!(
            "You do not have the `{permission}` permission on site {site}"
        ))),
    }
}

fn site_of(item: &Value) -> i64 {
    item["site"].as_i64().unwrap_or_default()
}

/// Items of `items` in sites `user` may read.
fn readable<'a>(user: &User, items: &'a [Value]) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| allow(user, site_of(i), "read").is_ok())
        .collect()
}

/// The item with this `id`, if `user` may do `permission` in its site (else 404 / 403).
fn find<'a>(
    user: &User,
    items: &'a mut [Value],
    id: &Value,
    what: &str,
    permission: &str,
) -> Result<&'a mut Value, CwError> {
    let item = items
        .iter_mut()
        .find(|i| &i["id"] == id)
        .ok_or_else(|| CwError::not_found(what))?;
    allow(user, site_of(item), "read").map_err(|_| CwError::not_found(what))?;
    allow(user, site_of(item), permission)?;
    Ok(item)
}

fn int_id(raw: &str, what: &str) -> Result<Value, CwError> {
    raw.parse::<i64>()
        .map(|n| json!(n))
        .map_err(|_| CwError::not_found(what))
}

/// A route that exists, with the caller checked first (as for every REST request).
macro_rules! handler {
    ($name:ident, |$user:ident, $store:ident, $query:ident $(, $arg:ident : $ty:ty)*| $body:block) => {
        async fn $name(
            State(emu): State<Emulator>,
            headers: HeaderMap,
            RawQuery(raw): RawQuery,
            $(Path($arg): Path<$ty>,)*
        ) -> Answer {
            let $user = caller(&emu, &headers)?;
            let $query = Query::parse(raw.as_deref());
            let mut data = emu.data();
            let $store: &mut Store = &mut data.clickwrap;
            $body
        }
    };
}

handler!(list_sites, |user, store, q| {
    let sites: Vec<Value> = store
        .sites
        .iter()
        .filter(|s| {
            user.sites
                .contains_key(&s["id"].as_i64().unwrap_or_default())
        })
        .cloned()
        .collect();
    collection(sites, &q).map(Json)
});

handler!(get_site, |user, store, _q, site: String| {
    let id = int_id(&site, "Site")?;
    let site = store
        .sites
        .iter()
        .find(|s| s["id"] == id)
        .ok_or_else(|| CwError::not_found("Site"))?;
    allow(&user, id.as_i64().unwrap_or_default(), "read")?;
    Ok(Json(site.clone()))
});

handler!(list_contracts, |user, store, q, site: String| {
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "read")?;
    let archived = q.flag("includeArchived");
    let contracts: Vec<Value> = store
        .contracts
        .iter()
        .filter(|c| site_of(c) == site && (archived || c["archived"] != true))
        .map(|c| expand(store, c, q.get("expand")))
        .collect();
    collection(contracts, &q).map(Json)
});

/// `expand=published_version` (contracts) and `expand=contracts` (groups).
fn expand(store: &Store, item: &Value, expand: Option<&str>) -> Value {
    let mut item = item.clone();
    for field in expand.unwrap_or_default().split(',').map(str::trim) {
        let replaced = match (field, &item[field]) {
            ("published_version" | "latest_version", id) => {
                store.versions.iter().find(|v| &v["id"] == id).cloned()
            }
            ("contracts", Value::Array(ids)) => Some(Value::Array(
                ids.iter()
                    .filter_map(|id| store.contracts.iter().find(|c| &c["id"] == id).cloned())
                    .collect(),
            )),
            _ => None,
        };
        if let Some(value) = replaced {
            item[field] = value;
        }
    }
    item
}

handler!(get_contract, |user, store, _q, id: String| {
    let id = int_id(&id, "Contract")?;
    Ok(Json(
        find(&user, &mut store.contracts, &id, "Contract", "read")?.clone(),
    ))
});

/// `@latest`, `@published` or a version id of the contract.
fn version_id(contract: &Value, which: &str) -> Option<Value> {
    match which {
        "@latest" => Some(contract["latest_version"].clone()),
        "@published" => Some(contract["published_version"].clone()).filter(|v| !v.is_null()),
        id => Some(json!(id)),
    }
}

handler!(
    contract_version,
    |user, store, _q, path: (String, String)| {
        let id = int_id(&path.0, "Contract")?;
        let contract = find(&user, &mut store.contracts, &id, "Contract", "read")?.clone();
        let vid = version_id(&contract, &path.1).ok_or_else(|| CwError::not_found("Version"))?;
        store
            .versions
            .iter()
            .find(|v| v["id"] == vid && v["contract"] == id)
            .cloned()
            .map(Json)
            .ok_or_else(|| CwError::not_found("Version"))
    }
);

handler!(get_version, |user, store, _q, id: String| {
    let version = store
        .versions
        .iter()
        .find(|v| v["id"] == id)
        .cloned()
        .ok_or_else(|| CwError::not_found("Version"))?;
    find(
        &user,
        &mut store.contracts,
        &version["contract"],
        "Version",
        "read",
    )?;
    Ok(Json(version))
});

async fn create_version(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<Value>>,
) -> Result<(StatusCode, Json<Value>), CwError> {
    let user = caller(&emu, &headers)?;
    let id = int_id(&id, "Contract")?;
    let body = body.map(|Json(b)| b).unwrap_or_else(|| json!({}));
    let mut data = emu.data();
    let store = &mut data.clickwrap;
    let contract = find(&user, &mut store.contracts, &id, "Contract", "create")?.clone();
    let latest = store
        .versions
        .iter()
        .find(|v| v["id"] == contract["latest_version"])
        .cloned()
        .unwrap_or_default();
    if latest["status"] != "published" {
        return Err(CwError::bad_request(
            "The latest version must be published before a new version is created",
        ));
    }
    let n = latest["version_number"].as_u64().unwrap_or(0) + 1;
    let vid = crate::store::ids::object_id();
    let version = json!({ "id": vid, "contract": id, "version_number": n,
        "full_version_number": format!("{n}.0"), "status": "draft",
        "published_time": null, "effective_time": body.get("effective_time"),
        "title": body.get("title").cloned().unwrap_or_else(|| json!(format!("Version {n}"))),
        "body": body.get("body").cloned().unwrap_or_else(|| json!("")), "fields": [] });
    store.versions.push(version.clone());
    if let Some(c) = store.contracts.iter_mut().find(|c| c["id"] == id) {
        c["latest_version"] = json!(vid);
    }
    Ok((StatusCode::CREATED, Json(version)))
}

handler!(
    publish_version,
    |user, store, _q, path: (String, String)| {
        let id = int_id(&path.0, "Contract")?;
        let contract = find(&user, &mut store.contracts, &id, "Contract", "publish")?.clone();
        let vid = version_id(&contract, &path.1).ok_or_else(|| CwError::not_found("Version"))?;
        let now = crate::store::time::format_ms(crate::store::time::system_now_ms());
        let version = store
            .versions
            .iter_mut()
            .find(|v| v["id"] == vid && v["contract"] == id)
            .ok_or_else(|| CwError::not_found("Version"))?;
        if version["status"] != "published" {
            version["status"] = json!("published");
            version["published_time"] = json!(now);
            if version["effective_time"].is_null() {
                version["effective_time"] = json!(now);
            }
        }
        let version = version.clone();
        // The previously published version is deprecated by the new one.
        let previous = contract["published_version"].clone();
        if previous != vid
            && let Some(old) = store.versions.iter_mut().find(|v| v["id"] == previous)
        {
            old["status"] = json!("deprecated");
        }
        if let Some(c) = store.contracts.iter_mut().find(|c| c["id"] == id) {
            c["published_version"] = vid;
            c["published"] = json!(true);
        }
        Ok(Json(version))
    }
);

handler!(list_groups, |user, store, q, site: String| {
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "read")?;
    let groups: Vec<Value> = store
        .groups
        .iter()
        .filter(|g| site_of(g) == site)
        .map(|g| expand(store, g, q.get("expand")))
        .collect();
    collection(groups, &q).map(Json)
});

handler!(get_group, |user, store, q, id: String| {
    let id = int_id(&id, "Group")?;
    let group = find(&user, &mut store.groups, &id, "Group", "read")?.clone();
    Ok(Json(expand(store, &group, q.get("expand"))))
});

/// The writable fields of a group, checked as Clickwrap would.
fn group_fields(store: &Store, site: i64, body: &Value) -> Result<(), CwError> {
    if let Some(kind) = body.get("type")
        && !["clickwrap", "browsewrap", "form", "policy"].contains(&kind.as_str().unwrap_or(""))
    {
        return Err(CwError::bad_request(format!("invalid group type {kind}")));
    }
    for id in body["contracts"].as_array().into_iter().flatten() {
        if !store
            .contracts
            .iter()
            .any(|c| &c["id"] == id && site_of(c) == site)
        {
            return Err(CwError::bad_request(format!(
                "contract {id} is not in site {site}"
            )));
        }
    }
    Ok(())
}

async fn create_group(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(site): Path<String>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), CwError> {
    let user = caller(&emu, &headers)?;
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "create")?;
    let name = body["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CwError::bad_request("`name` is required"))?;
    let mut data = emu.data();
    let store = &mut data.clickwrap;
    group_fields(store, site, &body)?;
    let id = store.next_id();
    let key = body["key"]
        .as_str()
        .map_or_else(|| format!("group-{id}"), str::to_string);
    if store
        .groups
        .iter()
        .any(|g| g["key"] == key.as_str() && site_of(g) == site)
    {
        return Err(CwError::bad_request(format!(
            "a group with key `{key}` exists"
        )));
    }
    let group = json!({ "id": id, "site": site, "key": key, "name": name,
        "type": body.get("type").cloned().unwrap_or_else(|| json!("clickwrap")),
        "style": body.get("style").cloned().unwrap_or_else(|| json!("full")),
        "published": false, "paused": false,
        "contracts": body.get("contracts").cloned().unwrap_or_else(|| json!([])),
        "display_all": body.get("display_all").cloned().unwrap_or(json!(true)),
        "signer_id_selector": body.get("signer_id_selector").cloned().unwrap_or(Value::Null) });
    store.groups.push(group.clone());
    Ok((StatusCode::CREATED, Json(group)))
}

async fn update_group(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Answer {
    let user = caller(&emu, &headers)?;
    let id = int_id(&id, "Group")?;
    let mut data = emu.data();
    let store = &mut data.clickwrap;
    let site = site_of(find(&user, &mut store.groups, &id, "Group", "update")?);
    group_fields(store, site, &body)?;
    let group = find(&user, &mut store.groups, &id, "Group", "update")?;
    for field in [
        "name",
        "key",
        "type",
        "style",
        "contracts",
        "display_all",
        "signer_id_selector",
    ] {
        if let Some(value) = body.get(field) {
            group[field] = value.clone();
        }
    }
    Ok(Json(group.clone()))
}

handler!(publish_group, |user, store, _q, id: String| {
    let id = int_id(&id, "Group")?;
    let group = find(&user, &mut store.groups, &id, "Group", "publish")?;
    group["published"] = json!(true);
    Ok(Json(group.clone()))
});

handler!(list_signers, |user, store, q| {
    collection(readable(&user, &store.signers), &q).map(Json)
});

handler!(list_site_signers, |user, store, q, site: String| {
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "read")?;
    let signers = store
        .signers
        .iter()
        .filter(|s| site_of(s) == site)
        .cloned()
        .collect();
    collection(signers, &q).map(Json)
});

/// `id:<signer id>`, the only form the emulator resolves.
fn signer_id(spec: &str) -> Result<&str, CwError> {
    spec.strip_prefix("id:")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CwError::not_found("Signer"))
}

handler!(get_signer, |user, store, _q, spec: String| {
    let id = signer_id(&spec)?;
    readable(&user, &store.signers)
        .into_iter()
        .find(|s| s["signer_id"] == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| CwError::not_found("Signer"))
});

async fn upsert_signers(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(site): Path<String>,
    Json(body): Json<Value>,
) -> Answer {
    let user = caller(&emu, &headers)?;
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "create")?;
    let many = body.is_array();
    let given = match body {
        Value::Array(items) => items,
        one => vec![one],
    };
    let mut data = emu.data();
    let store = &mut data.clickwrap;
    let mut out = Vec::new();
    for signer in given {
        let id = signer["signer_id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CwError::bad_request("`signer_id` is required"))?
            .to_string();
        out.push(super::activity::upsert_signer(
            store, site, &id, &signer, None,
        ));
    }
    Ok(Json(if many {
        json!({ "data": out })
    } else {
        out.remove(0)
    }))
}

handler!(list_activity, |user, store, q| {
    collection(readable(&user, &store.activity), &q).map(Json)
});

handler!(get_activity, |user, store, _q, id: String| {
    readable(&user, &store.activity)
        .into_iter()
        .find(|a| a["id"] == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| CwError::not_found("Activity"))
});

handler!(
    list_signer_activity,
    |user, store, q, path: (String, String)| {
        let site = int_id(&path.0, "Site")?.as_i64().unwrap_or_default();
        allow(&user, site, "read")?;
        let id = signer_id(&path.1)?;
        let items = store
            .activity
            .iter()
            .filter(|a| site_of(a) == site && a["signer_id"] == id)
            .cloned()
            .collect();
        collection(items, &q).map(Json)
    }
);

/// A user's membership of a site, as the memberships endpoints show it.
fn membership(user: &User, site: i64) -> Value {
    json!({ "user": { "id": user.id, "email": user.email, "name": user.name },
            "site": site, "permissions": user.sites.get(&site) })
}

handler!(list_members, |user, store, q, id: String| {
    if int_id(&id, "Account")? != json!(store.account) {
        return Err(CwError::not_found("Account"));
    }
    let members = store
        .users
        .iter()
        .filter(|u| u.sites.keys().any(|s| user.sites.contains_key(s)))
        .map(|u| {
            json!({ "user": { "id": u.id, "email": u.email, "name": u.name },
                         "account": store.account, "sites": u.sites.keys().collect::<Vec<_>>() })
        })
        .collect();
    collection(members, &q).map(Json)
});

handler!(list_memberships, |user, store, q, site: String| {
    let site = int_id(&site, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "read")?;
    let members = store
        .users
        .iter()
        .filter(|u| u.sites.contains_key(&site))
        .map(|u| membership(u, site))
        .collect();
    collection(members, &q).map(Json)
});

handler!(get_membership, |user, store, _q, path: (String, String)| {
    let site = int_id(&path.0, "Site")?.as_i64().unwrap_or_default();
    allow(&user, site, "read")?;
    let id = int_id(&path.1, "User")?;
    store
        .users
        .iter()
        .find(|u| json!(u.id) == id && u.sites.contains_key(&site))
        .map(|u| Json(membership(u, site)))
        .ok_or_else(|| CwError::not_found("User"))
});

/// Unknown REST routes: 404 after authentication.
async fn unknown(State(emu): State<Emulator>, headers: HeaderMap) -> CwError {
    match caller(&emu, &headers) {
        Err(e) => e,
        Ok(_) => CwError::not_found("Route"),
    }
}
