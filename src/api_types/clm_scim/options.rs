//! SCIM pick lists (`clm_scim` connections): users and groups, read with the rows of
//! `scim_list_users` and `scim_list_groups` so the requests are theirs.

use serde_json::{Value, json};

use crate::error::ConnectorError;
use crate::options::annotations::{Annotations, Pick, none};
use crate::options::providers::{NO_PARAMS, text};
use crate::options::{Choice, Page, Provider, Request};
use crate::pages::PAGE_SIZE;

pub static PROVIDERS: &[Provider] = &[
    Provider {
        key: "scim_users",
        description: "SCIM users (`scim_list_users`): value the id, label the userName.",
        params: NO_PARAMS,
        scopes: &["scim.users.readUsers"],
        list: users,
    },
    Provider {
        key: "scim_groups",
        description: "SCIM groups (`scim_list_groups`): value the id, label the displayName.",
        params: NO_PARAMS,
        scopes: &["scim.groups.readGroups"],
        list: groups,
    },
];

/// Where SCIM's action schemas take users and groups from these pick lists.
pub static ANNOTATIONS: Annotations = Annotations {
    picks: PICKS,
    ..Annotations::NONE
};

const SCIM_USER_IDS: &[&str] = &[
    "scim_retrieve_user",
    "scim_patch_user",
    "scim_replace_user",
    "scim_delete_user",
];
const SCIM_GROUP_IDS: &[&str] = &[
    "scim_retrieve_group",
    "scim_patch_group",
    "scim_replace_group",
    "scim_delete_group",
];

static PICKS: &[Pick] = &[
    Pick {
        actions: SCIM_USER_IDS,
        at: "/properties/userId",
        provider: "scim_users",
        params: none,
        join: None,
    },
    Pick {
        actions: SCIM_GROUP_IDS,
        at: "/properties/groupId",
        provider: "scim_groups",
        params: none,
        join: None,
    },
    Pick {
        actions: &["scim_create_group", "scim_replace_group"],
        at: "/properties/body/properties/members/items/properties/value",
        provider: "scim_users",
        params: none,
        join: None,
    },
];

/// Page `req.page` of the listing `key`: resources `page × 100 + 1` on, one SCIM request when
/// the server serves the 100 asked for, more when it serves fewer (RFC 7644 lets it).
fn window(req: &Request, key: &str) -> Result<(Vec<Value>, bool), ConnectorError> {
    let op = crate::catalog::find(key)
        .ok_or_else(|| ConnectorError::internal(format!("{key} is not in the catalog")))?;
    let out = crate::executor::window(
        req.client,
        req.conn,
        op,
        &json!({}),
        req.page * PAGE_SIZE + 1,
        PAGE_SIZE,
    )?;
    let items = out["items"].as_array().cloned().unwrap_or_default();
    Ok((items, out["truncated"] == Value::Bool(true)))
}

fn users(req: &Request) -> Result<Page, ConnectorError> {
    let (items, more) = window(req, "scim_list_users")?;
    let choices = items
        .iter()
        .map(|u| {
            let name = &u["name"];
            let full = format!("{} {}", text(name, "givenName"), text(name, "familyName"));
            let choice = Choice::new(text(u, "id"), text(u, "userName"));
            match full.trim() {
                "" => choice,
                full => choice.describe(full),
            }
        })
        .collect();
    Ok(Page { choices, more })
}

fn groups(req: &Request) -> Result<Page, ConnectorError> {
    let (items, more) = window(req, "scim_list_groups")?;
    let choices = items
        .iter()
        .map(|g| {
            let members = g["members"].as_array().map_or(0, Vec::len);
            Choice::new(text(g, "id"), text(g, "displayName"))
                .describe(format!("{members} members"))
        })
        .collect();
    Ok(Page { choices, more })
}
