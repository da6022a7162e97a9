//! Every Clickwrap action as one row of [`ACTIONS`]: which API, method and path, each
//! parameter with its type and location, the body schema, the output, the site permission the
//! API key's user needs, and the hints. There is no official OpenAPI for Clickwrap: the rows
//! follow the API digest (`ironclad-other-apis.md` §1–2); a row whose endpoint or shape is not
//! confirmed by Ironclad's reference says so in `unconfirmed`, which `describe` appends to its
//! description and `docs/clickwrap.md` lists. [`super::executor`] runs every row.

use serde_json::{Map, Value, json};

use crate::catalog::Method;

/// Which Clickwrap API a row calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `https://api.pactsafe.com/v1.1`, bearer token.
    Rest,
    /// `https://pactsafe.io`, keyed by the Site Access ID (`sid`), no token.
    Activity,
}

/// Where an input property goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
    /// A member of the JSON body (the Activity API's `POST /send` takes its parameters so).
    Body,
}

/// The type of a parameter, and so its schema and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Integer,
    String,
    Boolean,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// An array of strings, sent comma-joined (`vid=a,b`).
    StringList,
    /// An array of integers, sent comma-joined (`cid=1,2`).
    IntegerList,
    /// A JSON object (`custom_data`).
    Object,
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The API's parameter name; also the input property.
    pub name: &'static str,
    pub location: In,
    pub ty: Ty,
    pub required: bool,
    pub description: &'static str,
}

/// What a successful answer becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A JSON object, returned as is.
    Object,
    /// A Clickwrap collection (`{data, has_more, total_count, …}`), followed page by page up to
    /// `max_items` and returned as `{items, count, truncated}`.
    Pages,
    /// A map keyed by contract id (the Activity API's answers), with values of this JSON
    /// Schema type list.
    ContractMap(&'static str),
    /// The Activity API's `/send`: only the status is documented, so `{status, response}`,
    /// plus for an acceptance what `/retrieve` read back (`recorded`).
    Sent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

const READ: Hints = Hints {
    read_only: true,
    destructive: false,
    idempotent: true,
};
const WRITE: Hints = Hints {
    read_only: false,
    destructive: false,
    idempotent: false,
};
/// Upserts and PATCHes: repeating them leaves the same state.
const REPEATABLE: Hints = Hints {
    read_only: false,
    destructive: false,
    idempotent: true,
};

#[derive(Debug)]
pub struct Endpoint {
    pub key: &'static str,
    pub api: Api,
    pub title: &'static str,
    pub description: &'static str,
    pub group: &'static str,
    pub method: Method,
    /// Under the API base; `{name}` is a path parameter, sent as one encoded segment.
    pub path: &'static str,
    pub params: &'static [Param],
    /// JSON Schema of the input's `body`, when the action sends one.
    pub body: Option<&'static str>,
    /// Exactly one of these parameters must be given (the Activity API's `gkey` or `cid`).
    pub exactly_one_of: &'static [&'static str],
    pub output: Output,
    /// The site permission the API key's user needs beyond reading (Clickwrap has no OAuth
    /// scopes: a token acts with its user's site permissions).
    pub permission: Option<&'static str>,
    pub hints: Hints,
    /// What is not confirmed by Ironclad's reference, when something is.
    pub unconfirmed: Option<&'static str>,
}

const fn p(
    name: &'static str,
    location: In,
    ty: Ty,
    required: bool,
    description: &'static str,
) -> Param {
    Param {
        name,
        location,
        ty,
        required,
        description,
    }
}

const SITE_ID: Param = p("site_id", In::Path, Ty::Integer, true, "Site id.");
const CONTRACT_ID: Param = p("contract_id", In::Path, Ty::Integer, true, "Contract id.");
const GROUP_ID: Param = p("group_id", In::Path, Ty::Integer, true, "Group id.");
const VERSION_ID: Param = p(
    "version_id",
    In::Path,
    Ty::String,
    true,
    "Version id (24 hex characters).",
);
const SIGNER_ID: Param = p(
    "signer_id",
    In::Path,
    Ty::String,
    true,
    "Your Signer ID (email, phone, UUID, number…), sent URL-encoded after `id:`.",
);
const FILTER: Param = p(
    "filter",
    In::Query,
    Ty::String,
    false,
    "Clickwrap filter: `field==value`, `>=`, `<=`, combined with ` and `, e.g. \
     `event_type==agreed and created_time>=2024-01-01`.",
);
const SORT: Param = p(
    "sort",
    In::Query,
    Ty::String,
    false,
    "Field to sort by (syntax UNCONFIRMED).",
);
const FIELDS: Param = p(
    "fields",
    In::Query,
    Ty::String,
    false,
    "Comma-separated fields to return.",
);
const EXPAND: Param = p(
    "expand",
    In::Query,
    Ty::String,
    false,
    "Comma-separated references to expand (up to 2 levels), e.g. `contracts`.",
);
const NO_COUNT: Param = p(
    "no_count",
    In::Query,
    Ty::Boolean,
    false,
    "Skip the total count (recommended for large pulls; `count` is then absent).",
);
const LEAN: Param = p(
    "lean",
    In::Query,
    Ty::Boolean,
    false,
    "Return smaller items.",
);
/// The shaping parameters every REST collection takes.
const LIST: [Param; 4] = [FILTER, SORT, FIELDS, EXPAND];
const ACTIVITY_LIST: [Param; 4] = [FILTER, EXPAND, NO_COUNT, LEAN];

// The Activity API: `sid` comes from the connection, never from the input.
const SIG: Param = p("sig", In::Query, Ty::String, true, "The Signer ID.");
const TEST_MODE: Param = p(
    "tm",
    In::Query,
    Ty::Boolean,
    false,
    "Test mode: the data is marked as test data.",
);
const GKEY: Param = p("gkey", In::Query, Ty::String, false, "Group key.");
const CIDS: Param = p("cid", In::Query, Ty::IntegerList, false, "Contract ids.");
/// An optional text parameter of `/send`.
const fn text(name: &'static str, description: &'static str) -> Param {
    p(name, In::Body, Ty::String, false, description)
}

/// `/send` takes its parameters in a JSON body; names are the API's short codes.
const SEND: &[Param] = &[
    p("sig", In::Body, Ty::String, true, "The Signer ID."),
    p(
        "vid",
        In::Body,
        Ty::StringList,
        true,
        "Version ids (24 hex characters each) the event is about, aligned with `cid`.",
    ),
    p(
        "et",
        In::Body,
        Ty::Enum(&[
            "agreed",
            "disagreed",
            "displayed",
            "visited",
            "updated",
            "sent",
        ]),
        true,
        "Event type; `updated` with `cus` updates the signer's attributes.",
    ),
    p(
        "cid",
        In::Body,
        Ty::IntegerList,
        false,
        "Contract ids, aligned with `vid`.",
    ),
    p("gid", In::Body, Ty::Integer, false, "Group id."),
    text("gkey", "Group key."),
    p("tm", In::Body, Ty::Boolean, false, "Test mode."),
    p(
        "cus",
        In::Body,
        Ty::Object,
        false,
        "Custom data recorded with the event (`custom_data`).",
    ),
    text(
        "rdid",
        "The `render_id` from `/load/json` (dynamic contracts).",
    ),
    text("slo", "Snapshot location key."),
    p(
        "cnf",
        In::Body,
        Ty::Boolean,
        false,
        "Send the signer a confirmation email.",
    ),
    text("addr", "Signer's IP address."),
    text("bua", "Signer's browser user agent."),
    text("os", "Signer's operating system."),
    text("env", "Signer's environment (device)."),
    text("scd", "Screen color depth."),
    text("res", "Screen resolution."),
    text("bl", "Browser locale."),
    text("btz", "Browser time zone."),
    text("pae", "Page domain."),
    text("pap", "Page path."),
    text("pad", "Page description."),
    text("pau", "Page URL."),
    text("pat", "Page title."),
    text("paq", "Page query."),
    text("ref", "Referrer."),
];

/// A group, as patched (fields of the documented Group object); creating one needs a name.
const GROUP_BODY: &str = r#"{"$ref":"group"}"#;
const NEW_GROUP_BODY: &str = r#"{"allOf":[{"$ref":"group"},{"required":["name"]}]}"#;
const GROUP: &str = r#"{"type":"object","properties":{
  "name":{"type":"string","minLength":1},
  "key":{"type":"string","minLength":1,"description":"Stable key used by the Activity API's gkey."},
  "type":{"type":"string","enum":["clickwrap","browsewrap","form","policy"]},
  "style":{"type":"string"},
  "contracts":{"type":"array","items":{"type":"integer"},"description":"Contract ids in the group."},
  "display_all":{"type":"boolean"},
  "signer_id_selector":{"type":"string"}
}}"#;

/// One signer or a list of them ("You can pass either a single…").
const SIGNER_BODY: &str =
    r#"{"anyOf":[{"$ref":"signer"},{"type":"array","minItems":1,"items":{"$ref":"signer"}}]}"#;
const SIGNER: &str = r#"{"type":"object","required":["signer_id"],"properties":{
  "signer_id":{"type":"string","minLength":1},
  "email":{"type":"string"},
  "mobile_number":{"type":"string"},
  "name":{"type":"string"},
  "company_name":{"type":"string"},
  "additional_attributes":{"type":"object","description":"first_name, last_name and your own attributes."}
}}"#;

const VERSION_BODY: &str = r#"{"type":"object","properties":{
  "body":{"type":"string","description":"The version's HTML content."},
  "title":{"type":"string"},
  "effective_time":{"type":"string","format":"date-time"}
}}"#;

/// A row of the REST API: a read until `needs` says otherwise.
const fn rest(
    key: &'static str,
    group: &'static str,
    title: &'static str,
    method: Method,
    path: &'static str,
    params: &'static [Param],
    output: Output,
) -> Endpoint {
    Endpoint {
        key,
        api: Api::Rest,
        title,
        description: title,
        group,
        method,
        path,
        params,
        body: None,
        exactly_one_of: &[],
        output,
        permission: None,
        hints: READ,
        unconfirmed: None,
    }
}

/// A row of the Activity API (keyed by `sid`, no permission: the site access id is the key).
const fn activity(
    key: &'static str,
    title: &'static str,
    description: &'static str,
    method: Method,
    path: &'static str,
    params: &'static [Param],
    output: Output,
) -> Endpoint {
    let mut row = rest(
        key,
        "Clickwrap Activity",
        title,
        method,
        path,
        params,
        output,
    );
    row.api = Api::Activity;
    row.description = description;
    if !matches!(method, Method::Get) {
        row.hints = WRITE;
    }
    row
}

impl Endpoint {
    const fn exactly_one_of(mut self, names: &'static [&'static str]) -> Self {
        self.exactly_one_of = names;
        self
    }

    const fn about(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// A write: the site permission its user needs, and how it behaves when repeated.
    const fn needs(mut self, permission: &'static str, hints: Hints) -> Self {
        self.permission = Some(permission);
        self.hints = hints;
        self
    }

    const fn sends(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self
    }

    const fn unconfirmed(mut self, why: &'static str) -> Self {
        self.unconfirmed = Some(why);
        self
    }
}

use Method::{Get, Patch, Post};
use Output::{Object, Pages};

pub static ACTIONS: &[Endpoint] = &[
    // Sites
    rest("clickwrap_list_sites", "Clickwrap: Sites", "List sites", Get, "/sites", &LIST, Pages)
        .about("Sites the API key's user can see (each with `access_id`, the Activity API's Site Access ID)."),
    rest("clickwrap_get_site", "Clickwrap: Sites", "Retrieve a site", Get, "/sites/{site_id}", &[SITE_ID], Object),
    // Contracts and versions
    rest("clickwrap_list_contracts", "Clickwrap: Contracts", "List contracts", Get, "/sites/{site_id}/contract",
        &[SITE_ID, FILTER, SORT, FIELDS, EXPAND,
          p("includeArchived", In::Query, Ty::Boolean, false, "Include archived contracts (default false).")],
        Pages)
        .about("Contracts of a site (`expand=published_version` adds the published version)."),
    rest("clickwrap_get_contract", "Clickwrap: Contracts", "Retrieve a contract", Get, "/contracts/{contract_id}", &[CONTRACT_ID], Object),
    rest("clickwrap_get_latest_version", "Clickwrap: Contracts", "Retrieve a contract's latest version", Get,
        "/contracts/{contract_id}/versions/@latest", &[CONTRACT_ID], Object)
        .about("The contract's latest version, whatever its status (draft, published, deprecated)."),
    rest("clickwrap_get_published_version", "Clickwrap: Contracts", "Retrieve a contract's published version", Get,
        "/contracts/{contract_id}/versions/@published", &[CONTRACT_ID], Object),
    rest("clickwrap_get_version", "Clickwrap: Contracts", "Retrieve a version", Get, "/versions/{version_id}", &[VERSION_ID], Object),
    rest("clickwrap_create_version", "Clickwrap: Contracts", "Create a contract version", Post,
        "/contracts/{contract_id}/versions", &[CONTRACT_ID], Object)
        .about("A new draft version of the contract; Clickwrap refuses it while the latest version is unpublished.")
        .sends(VERSION_BODY).needs("create", WRITE)
        .unconfirmed("the request body's fields (`body`, `title`, `effective_time` are assumed from the Version object)"),
    rest("clickwrap_publish_version", "Clickwrap: Contracts", "Publish a version", Post,
        "/contracts/{contract_id}/versions/{version_id}/publish", &[CONTRACT_ID, VERSION_ID], Object)
        .about("Publish a draft version; it becomes the contract's `published_version`.")
        .needs("publish", REPEATABLE),
    rest("clickwrap_publish_latest_version", "Clickwrap: Contracts", "Publish the latest version", Post,
        "/contracts/{contract_id}/versions/@latest/publish", &[CONTRACT_ID], Object)
        .needs("publish", REPEATABLE),
    // Groups
    rest("clickwrap_list_groups", "Clickwrap: Groups", "List groups", Get, "/sites/{site_id}/groups",
        &[SITE_ID, FILTER, SORT, FIELDS, EXPAND], Pages)
        .about("Groups (clickwraps) of a site."),
    rest("clickwrap_get_group", "Clickwrap: Groups", "Retrieve a group", Get, "/groups/{group_id}", &[GROUP_ID, EXPAND], Object)
        .unconfirmed("GET on this path is seen in third-party code only (PATCH and DELETE are official)"),
    rest("clickwrap_create_group", "Clickwrap: Groups", "Create a group", Post, "/sites/{site_id}/groups", &[SITE_ID], Object)
        .sends(NEW_GROUP_BODY).needs("create", WRITE)
        .unconfirmed("POST on the site's group collection is assumed from the list endpoint"),
    rest("clickwrap_update_group", "Clickwrap: Groups", "Update a group", Patch, "/groups/{group_id}", &[GROUP_ID], Object)
        .sends(GROUP_BODY).needs("update", REPEATABLE),
    rest("clickwrap_publish_group", "Clickwrap: Groups", "Publish a group", Post, "/groups/{group_id}/publish", &[GROUP_ID], Object)
        .about("Publish the group so the Activity API and ps.js serve it.")
        .needs("publish", REPEATABLE)
        .unconfirmed("the path is assumed by analogy with publishing a version"),
    // Signers
    rest("clickwrap_list_signers", "Clickwrap: Signers", "List all signers", Get, "/signers", &LIST, Pages)
        .about("Signers across every site the API key's user can see."),
    rest("clickwrap_list_site_signers", "Clickwrap: Signers", "List a site's signers", Get, "/sites/{site_id}/signers",
        &[SITE_ID, FILTER, SORT, FIELDS, EXPAND], Pages),
    rest("clickwrap_get_signer", "Clickwrap: Signers", "Retrieve a signer", Get, "/signers/id:{signer_id}", &[SIGNER_ID], Object)
        .about("A signer by your Signer ID."),
    rest("clickwrap_upsert_signer", "Clickwrap: Signers", "Create or update signers", Post, "/sites/{site_id}/signers", &[SITE_ID], Object)
        .about("Create or update one signer (`body` an object) or several (`body` a list), by `signer_id`.")
        .sends(SIGNER_BODY).needs("create", REPEATABLE),
    // Activity
    rest("clickwrap_list_activity", "Clickwrap: Activity", "List activity", Get, "/activity", &ACTIVITY_LIST, Pages)
        .about("Acceptances and other events across every site the API key's user can see; \
                filter e.g. `event_type==agreed and signer_id==x@y.com`."),
    rest("clickwrap_get_activity", "Clickwrap: Activity", "Retrieve an activity", Get, "/activity/{activity_id}",
        &[p("activity_id", In::Path, Ty::String, true, "Activity id (24 hex characters).")], Object),
    rest("clickwrap_list_signer_activity", "Clickwrap: Activity", "List a signer's activity in a site", Get,
        "/sites/{site_id}/signers/id:{signer_id}/activity", &[SITE_ID, SIGNER_ID, FILTER, EXPAND, NO_COUNT, LEAN], Pages),
    // Users
    rest("clickwrap_list_account_members", "Clickwrap: Users", "List an account's members", Get, "/accounts/{account_id}/members",
        &[p("account_id", In::Path, Ty::Integer, true, "Account id.")], Pages)
        .about("User memberships of an account."),
    rest("clickwrap_list_site_memberships", "Clickwrap: Users", "List a site's users", Get, "/sites/{site_id}/memberships",
        &[SITE_ID], Pages)
        .about("Users of a site with their permissions.")
        .unconfirmed("known from the reference's page name only"),
    rest("clickwrap_get_site_membership", "Clickwrap: Users", "Retrieve a site user", Get, "/sites/{site_id}/memberships/{user_id}",
        &[SITE_ID, p("user_id", In::Path, Ty::Integer, true, "User id.")], Object)
        .unconfirmed("GET is assumed on the path whose PATCH is official"),
    // The Activity API
    activity("clickwrap_activity_send", "Send an acceptance or other activity",
        "Record that a signer agreed to (or disagreed with, displayed, visited…) contract \
         versions: `POST /send` with the Site Access ID. Processing is asynchronous on \
         Ironclad's side and a 2xx alone proves nothing, so an `agreed` event is read back \
         through `/retrieve` (same Site Access ID, signer and test mode) for up to about 4 s: \
         unless every version sent shows as the signer's last accepted one, the action fails \
         (`upstream`, code `ACCEPTANCE_NOT_RECORDED`). Other events report the status only.",
        Post, "/send", SEND, Output::Sent)
        .unconfirmed("the JSON answered with `server_side=true` (returned as `response`)"),
    activity("clickwrap_activity_latest", "Has the signer accepted the latest versions?",
        "For a group (`gkey`) or contracts (`cid`), exactly one: each contract id with whether \
         the signer accepted its latest major version.",
        Get, "/latest", &[SIG, GKEY, CIDS, TEST_MODE], Output::ContractMap(r#"["boolean"]"#))
        .exactly_one_of(&["gkey", "cid"]),
    activity("clickwrap_activity_retrieve", "Versions last accepted by a signer",
        "Each contract id with the version id the signer last accepted (`false` when never \
         accepted); optionally only the contracts in `cid`.",
        Get, "/retrieve", &[SIG, CIDS, TEST_MODE], Output::ContractMap(r#"["string","boolean"]"#)),
    activity("clickwrap_activity_published", "Published versions of a group",
        "Each contract id of the group with its published version id: the `cid` and `vid` \
         values to send.",
        Get, "/published", &[p("gkey", In::Query, Ty::String, true, "Group key.")],
        Output::ContractMap(r#"["string"]"#)),
];

pub fn find(key: &str) -> Option<&'static Endpoint> {
    ACTIONS.iter().find(|a| a.key == key)
}

/// The largest page asked for. Clickwrap documents no default or maximum `per_page`
/// (UNCONFIRMED); 100 is what its own bulk guidance implies is reasonable.
pub const PER_PAGE: u64 = 100;

impl Endpoint {
    /// The description `describe` shows: the row's, plus what it needs and what is unconfirmed.
    pub fn full_description(&self) -> String {
        let mut text = self.description.to_string();
        if let Some(permission) = self.permission {
            text.push_str(&format!(
                " Needs the API key's user to have the `{permission}` permission on the site."
            ));
        }
        if let Some(why) = self.unconfirmed {
            text.push_str(&format!(" UNCONFIRMED: {why}."));
        }
        text
    }

    pub fn input_schema(&self) -> Value {
        let mut props = Map::new();
        let mut required = Vec::new();
        for param in self.params {
            props.insert(param.name.into(), param_schema(param));
            if param.required {
                required.push(json!(param.name));
            }
        }
        if let Some(body) = self.body {
            let mut schema: Value = serde_json::from_str(body).expect("row body schemas are JSON");
            resolve_refs(&mut schema);
            props.insert("body".into(), schema);
            required.push(json!("body"));
        }
        if self.output == Output::Pages {
            props.insert(
                "max_items".into(),
                json!({ "type": "integer", "minimum": 1, "maximum": 10000, "default": PER_PAGE,
                        "title": "At most this many items",
                        "description": "Pages are followed until this many items are collected." }),
            );
        }
        let mut schema = json!({ "type": "object", "additionalProperties": false,
                                 "properties": props, "required": required });
        if !self.exactly_one_of.is_empty() {
            schema["oneOf"] = self
                .exactly_one_of
                .iter()
                .map(|name| json!({ "required": [name] }))
                .collect();
        }
        schema
    }

    pub fn output_schema(&self) -> Value {
        match self.output {
            Output::Object => json!({ "type": "object" }),
            Output::Pages => json!({
                "type": "object", "required": ["items", "truncated"],
                "properties": {
                    "items": { "type": "array", "items": { "type": "object" } },
                    "count": { "type": "integer", "description": "Clickwrap's `total_count` (absent with `no_count`)." },
                    "truncated": { "type": "boolean", "description": "More items exist beyond `max_items`." }
                }
            }),
            Output::ContractMap(types) => json!({
                "type": "object",
                "description": "Keyed by contract id.",
                "additionalProperties": { "type": serde_json::from_str::<Value>(types).expect("a type list") }
            }),
            Output::Sent => json!({
                "type": "object", "required": ["status"],
                "properties": {
                    "status": { "type": "integer", "description": "The HTTP status (200: taken)." },
                    "response": { "description": "What the API answered, when it answered JSON." },
                    "recorded": {
                        "type": "object",
                        "description": "`agreed` only: each contract id with the version `/retrieve` reads back as the signer's last accepted, the evidence the acceptance was recorded for this Site Access ID.",
                        "additionalProperties": { "type": "string" }
                    }
                }
            }),
        }
    }
}

/// The longest string path parameter (a Signer ID may be an email address, at most 254), as
/// for the generated rows: a longer one is refused naming its field before any request.
pub const PATH_PARAM_MAX_LENGTH: u64 = 256;

fn param_schema(param: &Param) -> Value {
    let mut schema = match param.ty {
        Ty::String if param.location == In::Path => {
            json!({ "type": "string", "minLength": 1, "maxLength": PATH_PARAM_MAX_LENGTH })
        }
        Ty::Integer => json!({ "type": "integer", "minimum": 1 }),
        Ty::String => json!({ "type": "string", "minLength": 1 }),
        Ty::Boolean => json!({ "type": "boolean" }),
        Ty::Enum(options) => json!({ "type": "string", "enum": options }),
        Ty::StringList => json!({ "type": "array", "minItems": 1,
                                  "items": { "type": "string", "minLength": 1 } }),
        Ty::IntegerList => json!({ "type": "array", "minItems": 1,
                                   "items": { "type": "integer", "minimum": 1 } }),
        Ty::Object => json!({ "type": "object" }),
    };
    schema["description"] = json!(param.description);
    schema
}

/// Bodies share the group and signer schemas by `{"$ref": name}`; inline them (the validator
/// has no `$ref`).
fn resolve_refs(schema: &mut Value) {
    let named = |name: &str| match name {
        "signer" => Some(SIGNER),
        "group" => Some(GROUP),
        _ => None,
    };
    match schema {
        Value::Object(map) => {
            if let Some(text) = map.get("$ref").and_then(Value::as_str).and_then(named) {
                *schema = serde_json::from_str(text).expect("shared body schemas are JSON");
            } else {
                map.values_mut().for_each(resolve_refs);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(resolve_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_consistent() {
        let mut keys: Vec<&str> = ACTIONS.iter().map(|a| a.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ACTIONS.len(), "keys are unique");
        for a in ACTIONS {
            let prefix = match a.api {
                Api::Rest => "clickwrap_",
                Api::Activity => "clickwrap_activity_",
            };
            assert!(a.key.starts_with(prefix), "{}", a.key);
            assert_eq!(
                a.api == Api::Activity,
                a.key.starts_with("clickwrap_activity_")
            );
            // Every `{name}` in the path is a path parameter, and every path parameter is in it.
            for param in a.params.iter().filter(|p| p.location == In::Path) {
                assert!(a.path.contains(&format!("{{{}}}", param.name)), "{}", a.key);
                assert!(param.required, "{}", a.key);
            }
            let braces = a.path.matches('{').count();
            let path_params = a.params.iter().filter(|p| p.location == In::Path).count();
            assert_eq!(braces, path_params, "{}", a.key);
            assert_eq!(a.hints.read_only, a.method == Method::Get, "{}", a.key);
            // REST writes say which site permission they need.
            assert_eq!(
                a.permission.is_some(),
                a.api == Api::Rest && a.method != Method::Get,
                "{}",
                a.key
            );
            // Only `/send` carries body parameters, and only it.
            assert_eq!(
                a.params.iter().any(|p| p.location == In::Body),
                a.key == "clickwrap_activity_send"
            );
            let input = a.input_schema();
            assert_eq!(input["type"], "object");
            assert_eq!(a.output_schema()["type"], "object");
            for name in a.exactly_one_of {
                assert!(input["properties"][name].is_object(), "{}", a.key);
            }
        }
    }

    #[test]
    fn the_docs_list_every_action_with_its_request() {
        let readme = include_str!("../../../docs/clickwrap.md");
        for a in ACTIONS {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", a.key)))
                .unwrap_or_else(|| panic!("docs/clickwrap.md has no row for {}", a.key));
            assert!(
                row.contains(&format!("`{} {}", a.method.as_str(), a.path)),
                "{row}"
            );
            assert_eq!(
                a.unconfirmed.is_some(),
                row.contains("UNCONFIRMED"),
                "{row}"
            );
        }
    }

    #[test]
    fn schemas_follow_the_types() {
        let send = find("clickwrap_activity_send").unwrap().input_schema();
        assert_eq!(send["required"], json!(["sig", "vid", "et"]));
        assert_eq!(send["properties"]["vid"]["type"], "array");
        assert!(
            send["properties"].get("sid").is_none(),
            "sid comes from the connection"
        );
        let create = find("clickwrap_create_group").unwrap().input_schema();
        assert_eq!(
            create["properties"]["body"]["allOf"][1]["required"],
            json!(["name"])
        );
        assert!(
            create.to_string().find("$ref").is_none(),
            "references are inlined"
        );
        let upsert = find("clickwrap_upsert_signer").unwrap().input_schema();
        assert_eq!(
            upsert["properties"]["body"]["anyOf"][1]["items"]["required"],
            json!(["signer_id"])
        );
        let list = find("clickwrap_list_activity").unwrap();
        assert_eq!(
            list.input_schema()["properties"]["max_items"]["default"],
            100
        );
        assert!(list.full_description().contains("event_type==agreed"));
        let group = find("clickwrap_publish_group").unwrap().full_description();
        assert!(group.contains("`publish` permission") && group.contains("UNCONFIRMED"));
    }
}
