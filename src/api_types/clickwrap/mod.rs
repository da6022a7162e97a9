//! Ironclad Clickwrap: the REST API (`clickwrap_rest`: the API key's access token, or its
//! client id and secret exchanged for one) and the Activity API (`clickwrap_activity`: the
//! Site Access ID, no token), served from the same component as the CLM Public API.
//!
//! This folder owns both API types ([`REST`] and [`ACTIVITY`] in the table):
//! - [`hosts`]: regions to hosts, the connection fields each API type takes;
//! - [`catalog`]: every action as one hand-kept [`Endpoint`] row; [`executor`] runs them,
//!   [`pages`] is Clickwrap's pagination strategy (1-based `page`/`per_page`), [`recorded`]
//!   reads an acceptance sent back before the send reports success;
//! - [`trigger`]: new acceptances, polled; `options`: sites, groups and contracts pick lists.
//!
//! It depends on the shared core only; the core and the dispatcher reach it through the table
//! (`api_types::spec`), and everything an action or trigger of another API type would do on
//! a Clickwrap connection (and the reverse) is refused there, naming `api_type`.

pub mod catalog;
pub mod executor;
pub mod hosts;
mod options;
pub mod pages;
pub mod recorded;
pub mod trigger;

use serde_json::Value;

use crate::api_types::{self, ActingUser, ApiTypeSpec};
use crate::config::{ApiType, Connection, Credential};
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, Response};
use crate::identity::Identity;
use crate::manifest::{ActionDef, Built, TriggerDef};
use crate::options::annotations::Annotations;
use crate::triggers::PollResult;
use crate::{AuthPlan, OAuthPlan, Plan, upstream};
use catalog::{Api, Endpoint};
use trigger::AcceptanceTrigger;

/// `clickwrap_rest`: the API key's token, sites' collections, the acceptance trigger and the
/// pick lists of sites, groups and contracts.
pub static REST: ApiTypeSpec = ApiTypeSpec {
    origin: hosts::rest_origin,
    credential: hosts::credential,
    acting_user: ActingUser::Never,
    site_access_id: |given| Ok(given.map(str::to_string)),
    default_scopes: Vec::new,
    plan,
    identity: test,
    generated: None,
    actions: &Rows(Api::Rest),
    dynamic: None,
    triggers: &Triggers(Api::Rest),
    providers: options::PROVIDERS,
    annotations: &Annotations {
        derived: options::marks,
        ..Annotations::NONE
    },
    error_body: None,
};

/// `clickwrap_activity`: the Site Access ID as the key, no credential.
pub static ACTIVITY: ApiTypeSpec = ApiTypeSpec {
    origin: hosts::activity_origin,
    credential: |_, _| Ok(Credential::None),
    acting_user: ActingUser::Never,
    site_access_id: hosts::site_access_id,
    default_scopes: Vec::new,
    plan,
    identity: test,
    generated: None,
    actions: &Rows(Api::Activity),
    dynamic: None,
    triggers: &Triggers(Api::Activity),
    providers: &[],
    annotations: &Annotations::NONE,
    error_body: None,
};

/// The rows of [`catalog::ACTIONS`] that call one API.
struct Rows(Api);

impl api_types::Actions for Rows {
    fn find(&self, key: &str) -> Option<&'static dyn api_types::Action> {
        catalog::find(key)
            .filter(|row| row.api == self.0)
            .map(|row| row as &dyn api_types::Action)
    }

    fn all(&self) -> Vec<&'static dyn api_types::Action> {
        catalog::ACTIONS
            .iter()
            .filter(|row| row.api == self.0)
            .map(|row| row as &dyn api_types::Action)
            .collect()
    }
}

impl api_types::Action for Endpoint {
    fn describe(&self, api_type: ApiType) -> ActionDef {
        let (input_schema, output_schema) = crate::manifest::action_schemas(self.key);
        ActionDef {
            key: self.key,
            api_type,
            title: self.title,
            description: self.full_description(),
            group: self.group,
            operation: None,
            scopes: &[],
            input_schema,
            output_schema,
            read_only: self.hints.read_only,
            destructive: self.hints.destructive,
            idempotent: self.hints.idempotent,
        }
    }

    fn schemas(&self) -> Built {
        Built {
            key: self.key,
            input: self.input_schema(),
            output: self.output_schema(),
        }
    }

    fn run(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, ConnectorError> {
        executor::execute(client, conn, self, input)
    }
}

/// The triggers that read one API (only REST has any).
struct Triggers(Api);

impl Triggers {
    fn find(&self, key: &str) -> Option<&'static AcceptanceTrigger> {
        trigger::find(key).filter(|t| t.api == self.0)
    }
}

impl api_types::Triggers for Triggers {
    fn owns(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    fn describe(&self, api_type: ApiType) -> Vec<TriggerDef> {
        trigger::TRIGGERS
            .iter()
            .filter(|t| t.api == self.0)
            .map(|t| {
                TriggerDef::described(
                    api_type,
                    (t.key, t.title, t.description),
                    (true, false),
                    Vec::new(),
                )
            })
            .collect()
    }

    fn schemas(&self) -> Vec<Built> {
        trigger::TRIGGERS
            .iter()
            .filter(|t| t.api == self.0)
            .map(|t| Built {
                key: t.key,
                input: t.input_schema(),
                output: t.output_schema(),
            })
            .collect()
    }

    fn poll(
        &self,
        client: &dyn HttpClient,
        conn: &Connection,
        key: &str,
        input: &str,
        cursor: Option<&str>,
    ) -> Result<PollResult, ConnectorError> {
        let t = self
            .find(key)
            .ok_or_else(|| api_types::unknown_trigger(key))?;
        t.poll(client, conn, input, cursor)
    }

    fn webhooks(&self) -> Result<&dyn api_types::Webhooks, &'static str> {
        Err("; Clickwrap has no webhooks")
    }
}

/// Where requests of `api` go for this connection.
pub fn base_url(conn: &Connection, api: Api) -> String {
    match api {
        Api::Rest => format!("{}{}", conn.origin, hosts::REST_ROOT),
        Api::Activity => conn.origin.clone(),
    }
}

/// Which API a connection calls: Activity is the one without a credential (its Site Access
/// ID is the key); REST always has one.
fn api_of(conn: &Connection) -> Api {
    match conn.credential {
        Credential::None => Api::Activity,
        Credential::OAuth(_) | Credential::FormToken { .. } => Api::Rest,
    }
}

/// REST: the access token from the form as it is, or (chosen explicitly) a
/// client-credentials token from `/oauth/token` on the API's own host (Clickwrap documents no
/// authorization-code flow, so there is no authorize URL). Activity: no auth. Either way the
/// connection reaches exactly one origin.
pub fn plan(conn: &Connection) -> Plan {
    let auth = match &conn.credential {
        Credential::FormToken { field } => AuthPlan::Bearer { token_field: field },
        Credential::OAuth(o) => AuthPlan::OAuth(OAuthPlan {
            grant: o.grant,
            token_url: conn.token_url(),
            authorize_url: String::new(),
            client_id: o.client_id.clone(),
            scopes: Vec::new(),
            client_secret_field: "client_secret",
        }),
        Credential::None => AuthPlan::None,
    };
    Plan {
        auth,
        allowed_origins: vec![conn.origin.clone()],
        base_url: base_url(conn, api_of(conn)),
    }
}

/// REST: `GET /sites?per_page=1&no_count=true&lean=true` proves the token and reports the
/// account. Activity: `GET /retrieve?sid=…&sig=connection-test&tm=true` only reads, and proves
/// the Site Access ID as far as the API tells (whether Clickwrap refuses an unknown `sid` or
/// answers an empty map is UNCONFIRMED; see `docs/clickwrap.md`). `/send` is never used: it writes.
pub fn test(client: &dyn HttpClient, conn: &Connection) -> Result<Identity, ConnectorError> {
    let api = api_of(conn);
    let base = base_url(conn, api);
    let mut request = match api {
        Api::Rest => Request::new(
            Method::GET,
            format!("{base}/sites?per_page=1&no_count=true&lean=true"),
        ),
        Api::Activity => {
            let sid = conn.site_access_id.as_deref().unwrap_or_default();
            let mut r = Request::new(
                Method::GET,
                format!("{base}/retrieve?sid={sid}&sig=connection-test&tm=true"),
            );
            r.authenticate = false;
            r
        }
    };
    request = request.header("accept", "application/json");
    let response = send_ok(client, conn, request, None)?;
    let body = upstream::json(&response, "test connection")?;
    let site = &body["data"][0];
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Ok(Identity {
        company_id: text(&site["account"]),
        ..Identity::default()
    })
}

/// Send on `conn` and require a 2xx; Clickwrap's refusals become typed errors that say what
/// to fix.
pub fn send_ok(
    client: &dyn HttpClient,
    conn: &Connection,
    request: Request,
    permission: Option<&str>,
) -> Result<Response, ConnectorError> {
    let response = upstream::send(client, request)?;
    if response.is_success() {
        return Ok(response);
    }
    Err(refusal(&response, conn, permission))
}

fn refusal(response: &Response, conn: &Connection, permission: Option<&str>) -> ConnectorError {
    match (upstream::status_error(response, &[]), api_of(conn)) {
        // The Activity API takes no token: an authentication refusal is about the `sid`.
        (ConnectorError::Unauthenticated(_), Api::Activity) => ConnectorError::config(
            "site_access_id",
            format!(
                "Clickwrap did not accept the Site Access ID ({}); copy it from the site's \
                 Site Settings, or from `access_id` of `clickwrap_list_sites`",
                upstream::error_message(response)
            ),
        ),
        (ConnectorError::Unauthenticated(_), Api::Rest) => match &conn.credential {
            // The host sends a form's token as it is and cannot renew it: a new one must
            // come from the user.
            Credential::FormToken { field } => ConnectorError::Unauthenticated(format!(
                "Clickwrap refused the access token in `{field}` ({}); it cannot be renewed \
                 from here: it may have been regenerated (an exchange of the API key's client \
                 id and secret does that) or its user removed. Paste the key's current access \
                 token into `{field}`, or register a new API key (User Profile > API Keys)",
                upstream::error_message(response)
            )),
            _ => ConnectorError::Unauthenticated(format!(
                "Clickwrap refused the API key's token ({}); register a new API key or reconnect",
                upstream::error_message(response)
            )),
        },
        (ConnectorError::Forbidden { message, .. }, _) => ConnectorError::Forbidden {
            message: match permission {
                Some(p) => format!(
                    "{message} (the API key's user needs the `{p}` permission on the site; \
                     Clickwrap tokens act with their user's site permissions)"
                ),
                None => format!("{message} (the API key's user cannot see this site or resource)"),
            },
            missing_scope: None,
        },
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fake;
    use serde_json::json;

    fn conn(form: Value) -> Connection {
        Connection::parse(&form.to_string()).unwrap()
    }

    #[test]
    fn plans_one_origin_per_api_type() {
        let rest = plan(&conn(
            json!({"api_type": "clickwrap_rest", "region": "demo", "access_token": "<secret>"}),
        ));
        assert_eq!(rest.allowed_origins, ["https://api.demo.pactsafe.com"]);
        assert_eq!(rest.base_url, "https://api.demo.pactsafe.com/v1.1");
        assert_eq!(
            rest.auth,
            AuthPlan::Bearer {
                token_field: "access_token"
            }
        );
        let exchange = plan(&conn(
            json!({"api_type": "clickwrap_rest", "region": "demo",
                   "clickwrap_credential": "api_key_exchange",
                   "client_id": "ck", "client_secret": "<secret>"}),
        ));
        assert_eq!(exchange.allowed_origins, rest.allowed_origins);
        assert_eq!(
            exchange.auth.oauth().unwrap().token_url,
            "https://api.demo.pactsafe.com/oauth/token"
        );
        let activity = plan(&conn(
            json!({"api_type": "clickwrap_activity", "region": "custom",
                                          "instance_url": "http://127.0.0.1:9/",
                                          "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"}),
        ));
        assert_eq!(activity.allowed_origins, ["http://127.0.0.1:9"]);
        assert_eq!(activity.base_url, "http://127.0.0.1:9");
        assert_eq!(activity.auth, AuthPlan::None);
    }

    #[test]
    fn refusals_name_what_to_fix() {
        let body = br#"{"error":{"message":"Invalid site access id","status":401,"name":"UnauthorizedError"}}"#;
        let r = Response {
            status: 401,
            headers: vec![],
            body: body.to_vec(),
        };
        let activity = conn(json!({"api_type": "clickwrap_activity", "region": "na1",
                                   "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"}));
        let err = refusal(&r, &activity, None);
        assert!(
            matches!(&err, ConnectorError::InvalidConfig { field, message }
                if field == "site_access_id" && message.contains("Invalid site access id")),
            "{err:?}"
        );
        let body = br#"{"error":{"message":"You do not have permission","status":403,"name":"ForbiddenError"}}"#;
        let r = Response {
            status: 403,
            headers: vec![],
            body: body.to_vec(),
        };
        let ConnectorError::Forbidden {
            message,
            missing_scope,
        } = refusal(&r, &rest_with_token(), Some("create"))
        else {
            panic!()
        };
        assert!(
            message.starts_with("You do not have permission")
                && message.contains("`create` permission")
        );
        assert_eq!(missing_scope, None);
    }

    fn rest_with_token() -> Connection {
        conn(json!({"api_type": "clickwrap_rest", "region": "na1", "access_token": "<secret>"}))
    }

    /// A refused access token cannot be renewed by the host: the message says where a new
    /// one comes from, naming the field; an exchanged token says to reconnect.
    #[test]
    fn a_refused_access_token_names_its_field_and_how_to_replace_it() {
        let r = Response {
            status: 401,
            headers: vec![],
            body: br#"{"error":{"message":"Invalid access token","status":401}}"#.to_vec(),
        };
        let ConnectorError::Unauthenticated(message) = refusal(&r, &rest_with_token(), None) else {
            panic!()
        };
        assert!(
            message.contains("`access_token` (Invalid access token)")
                && message.contains("cannot be renewed")
                && message.contains("User Profile > API Keys"),
            "{message}"
        );
        let exchange = conn(json!({"api_type": "clickwrap_rest", "region": "na1",
                                   "clickwrap_credential": "api_key_exchange",
                                   "client_id": "ck", "client_secret": "<secret>"}));
        let ConnectorError::Unauthenticated(message) = refusal(&r, &exchange, None) else {
            panic!()
        };
        assert!(message.contains("reconnect"), "{message}");
    }

    #[test]
    fn activity_test_reads_and_never_sends() {
        let client = fake(200, &[], b"{}");
        let c = conn(json!({"api_type": "clickwrap_activity", "region": "na1",
                             "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"}));
        test(&client, &c).unwrap();
        let sent = client.sent.borrow();
        assert_eq!(sent[0].method, Method::GET);
        assert_eq!(
            sent[0].url,
            "https://pactsafe.io/retrieve?sid=1e8ddd9d-f32c-4dc7-9c13-62095e6d4317&sig=connection-test&tm=true"
        );
        assert!(!sent[0].authenticate);
    }
}
