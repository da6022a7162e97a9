//! Clickwrap pick lists (`clickwrap_rest` connections): sites, and a site's groups and
//! contracts, read with the rows of the Clickwrap list actions so the requests are theirs.

use serde_json::{Value, json};

use super::{catalog, executor, pages};
use crate::error::ConnectorError;
use crate::options::providers::{NO_PARAMS, text};
use crate::options::{Choice, Page, Provider, Request};
use crate::pages::PAGE_SIZE;

const SITE_PARAM: &str = r#"{"type":"object","additionalProperties":false,"properties":{"site_id":{"type":"integer","minimum":1,"description":"A Clickwrap site id (provider `clickwrap_sites`); without it, every site's."}}}"#;

pub static PROVIDERS: &[Provider] = &[
    Provider {
        key: "clickwrap_sites",
        description: "Clickwrap sites the API key's user can see (`clickwrap_list_sites`), one upstream page per page.",
        params: NO_PARAMS,
        scopes: &[],
        list: sites,
    },
    Provider {
        key: "clickwrap_groups",
        description: "Clickwrap groups of a site (`clickwrap_list_groups`), one upstream page per page; without `site_id`, of every site.",
        params: SITE_PARAM,
        scopes: &[],
        list: groups,
    },
    Provider {
        key: "clickwrap_contracts",
        description: "Clickwrap contracts of a site (`clickwrap_list_contracts`), one upstream page per page; without `site_id`, of every site.",
        params: SITE_PARAM,
        scopes: &[],
        list: contracts,
    },
];

/// Clickwrap REST rows take sites, groups and contracts by id (the Activity API's rows run on
/// `clickwrap_activity` connections, where these providers do not): a site's groups and
/// contracts when the row names the site, every site's otherwise.
pub fn marks(key: &str) -> Vec<(String, Value)> {
    let Some(row) = catalog::find(key).filter(|row| row.api == catalog::Api::Rest) else {
        return Vec::new();
    };
    let has = |name: &str| row.params.iter().any(|p| p.name == name);
    let of_site = if has("site_id") {
        json!({ "site_id": { "$input": "/site_id" } })
    } else {
        json!({})
    };
    [
        ("site_id", "clickwrap_sites", json!({})),
        ("group_id", "clickwrap_groups", of_site.clone()),
        ("contract_id", "clickwrap_contracts", of_site),
    ]
    .into_iter()
    .filter(|(name, ..)| has(name))
    .map(|(name, provider, params)| {
        (
            format!("/properties/{name}"),
            json!({ "provider": provider, "params": params }),
        )
    })
    .collect()
}

/// A cap on a listing across every site (the sites, then each site's items), so one dropdown
/// of a very large account stays bounded.
const ACROSS_SITES_MAX: u64 = 10_000;

fn row(key: &str) -> Result<&'static catalog::Endpoint, ConnectorError> {
    catalog::find(key)
        .ok_or_else(|| ConnectorError::internal(format!("{key} is not a Clickwrap action")))
}

/// Page `req.page` of the collection `key` with `input`: one upstream page (Clickwrap counts
/// pages from 1) of [`PAGE_SIZE`].
fn one_page(req: &Request, key: &str, input: Value) -> Result<(Vec<Value>, bool), ConnectorError> {
    let envelope = executor::page(
        req.client,
        req.conn,
        row(key)?,
        &input,
        req.page + 1,
        PAGE_SIZE,
    )?;
    let data = envelope["data"].as_array().cloned().ok_or_else(|| {
        ConnectorError::internal(format!("{key}: a Clickwrap collection without `data`"))
    })?;
    let more = pages::more_after(&envelope, data.len(), PAGE_SIZE);
    Ok((data, more))
}

/// Every item of `key` (up to the cap), with the row's own paging.
fn every(req: &Request, key: &str, mut input: Value) -> Result<Vec<Value>, ConnectorError> {
    input["max_items"] = json!(ACROSS_SITES_MAX);
    let out = executor::execute(req.client, req.conn, row(key)?, &input)?;
    Ok(out["items"].as_array().cloned().unwrap_or_default())
}

/// An id as the choice value: Clickwrap ids are integers, a choice value is text.
fn id(item: &Value) -> String {
    match &item["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A site's items (`key`, labelled by `label`), one upstream page per page; without
/// `site_id`, every site's, read whole and paged here, each described with its site.
fn of_sites(
    req: &Request,
    key: &str,
    choice: fn(&Value) -> Choice,
) -> Result<Page, ConnectorError> {
    if let Some(site) = req.params.get("site_id") {
        let (items, more) = one_page(req, key, json!({ "site_id": site }))?;
        return Ok(Page {
            choices: items.iter().map(choice).collect(),
            more,
        });
    }
    let mut all = Vec::new();
    for site in every(req, "clickwrap_list_sites", json!({}))? {
        let site_name = text(&site, "name").to_string();
        for item in every(req, key, json!({ "site_id": site["id"] }))? {
            let c = choice(&item);
            let description = match &c.description {
                Some(d) => format!("{site_name}: {d}"),
                None => site_name.clone(),
            };
            all.push(c.describe(description));
        }
    }
    Ok(Page::slice(all, req.page))
}

fn sites(req: &Request) -> Result<Page, ConnectorError> {
    let (items, more) = one_page(req, "clickwrap_list_sites", json!({}))?;
    let choices = items
        .iter()
        .map(|s| {
            let sandbox = if s["sandbox"] == Value::Bool(true) {
                " (sandbox)"
            } else {
                ""
            };
            Choice::new(id(s), text(s, "name")).describe(format!("{}{sandbox}", text(s, "key")))
        })
        .collect();
    Ok(Page { choices, more })
}

fn groups(req: &Request) -> Result<Page, ConnectorError> {
    of_sites(req, "clickwrap_list_groups", |g| {
        Choice::new(id(g), text(g, "name")).describe(format!("key `{}`", text(g, "key")))
    })
}

fn contracts(req: &Request) -> Result<Page, ConnectorError> {
    of_sites(req, "clickwrap_list_contracts", |c| {
        Choice::new(id(c), text(c, "title")).describe(format!("key `{}`", text(c, "key")))
    })
}
