//! Test-connection for a SCIM connection: one SCIM read that needs only the default scope
//! `scim.users.readUsers`, chosen to also say who the connection acts as.
//!
//! SCIM has no "me" endpoint (`/Me` is not in Ironclad's spec), so the identity is the acting
//! user's SCIM record when the connection names one: `userName eq "<email>"` for an email,
//! `GET /Users/{id}` for a user id. Without one it lists a single user (`count=1`), which
//! proves the token reaches the SCIM API; the identity then stays empty.

use serde_json::Value;

use crate::config::{Connection, Impersonation};
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request, encode_component, encode_path_segment};
use crate::identity::Identity;
use crate::upstream;

const READ_USERS: &str = "scim.users.readUsers";

pub fn test(client: &dyn HttpClient, conn: &Connection) -> Result<Identity, ConnectorError> {
    let base = super::base_url(conn);
    let url = match &conn.impersonation {
        Some(Impersonation::Email(email)) => format!(
            "{base}/Users?filter={}&count=1",
            encode_component(&format!("userName eq \"{}\"", email.replace('"', "\\\"")))
        ),
        Some(Impersonation::UserId(id)) => format!("{base}/Users/{}", encode_path_segment(id)),
        None => format!("{base}/Users?count=1"),
    };
    let mut request = Request::new(Method::GET, url).header("accept", "application/json");
    if let Some(imp) = &conn.impersonation {
        let (name, value) = imp.header();
        request = request.header(name, value);
    }
    let response = upstream::send_ok(client, request, &[READ_USERS]).map_err(|e| match e {
        ConnectorError::NotFound(m) if conn.impersonation.is_some() => acting_user_unknown(&m),
        other => other,
    })?;
    let body = upstream::json(&response, "SCIM Users")?;
    let user = match &conn.impersonation {
        Some(Impersonation::UserId(_)) => Some(&body),
        Some(Impersonation::Email(email)) => Some(
            body["Resources"]
                .as_array()
                .and_then(|r| r.first())
                .ok_or_else(|| {
                    acting_user_unknown(&format!("no SCIM user has userName {email}"))
                })?,
        ),
        None => None,
    };
    Ok(user.map(identity_of).unwrap_or_default())
}

fn acting_user_unknown(why: &str) -> ConnectorError {
    ConnectorError::config(
        "impersonate_user",
        format!("{why}: name a user of the company (email or SCIM user id), or leave it empty"),
    )
}

/// What a SCIM User record says about who it is.
fn identity_of(user: &Value) -> Identity {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let name = &user["name"];
    let full_name = [&name["givenName"], &name["familyName"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Identity {
        user_id: text(&user["id"]),
        user_email: text(&user["userName"]),
        user_name: (!full_name.is_empty()).then_some(full_name),
        ..Identity::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ok_json, query, scripted};
    use serde_json::json;

    fn scim_conn(impersonate: Option<&str>) -> Connection {
        let mut form = json!({
            "api_type": "clm_scim", "region": "eu1", "grant_type": "client_credentials",
            "client_id": "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10", "client_secret": "s",
        });
        if let Some(who) = impersonate {
            form["impersonate_user"] = json!(who);
        }
        Connection::parse(&form.to_string()).unwrap()
    }

    #[test]
    fn email_identity_is_filtered_by_user_name() {
        let jane = json!({"id": "u1", "userName": "jane@acme.example",
                          "name": {"givenName": "Jane", "familyName": "Doe"}});
        let client = scripted(|_| ok_json(&json!({"totalResults": 1, "Resources": [jane]})));
        let who = test(&client, &scim_conn(Some("jane@acme.example"))).unwrap();
        assert_eq!(
            (
                who.user_id.as_deref(),
                who.user_email.as_deref(),
                who.user_name.as_deref()
            ),
            (Some("u1"), Some("jane@acme.example"), Some("Jane Doe"))
        );
        let sent = client.sent.borrow();
        assert!(
            sent[0]
                .url
                .starts_with("https://eu1.ironcladapp.com/scim/v2/Users?")
        );
        let q = query(&sent[0]);
        assert_eq!(q["filter"], "userName eq \"jane@acme.example\"");
        assert_eq!(q["count"], "1");
    }

    #[test]
    fn unknown_acting_user_names_the_field() {
        let client = scripted(|_| ok_json(&json!({"totalResults": 0, "Resources": []})));
        let err = test(&client, &scim_conn(Some("ghost@acme.example"))).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::InvalidConfig { field, .. } if field == "impersonate_user"),
            "{err:?}"
        );
    }

    #[test]
    fn without_acting_user_one_user_is_listed() {
        let client =
            scripted(|_| ok_json(&json!({"totalResults": 3, "Resources": [{"id": "u1"}]})));
        assert_eq!(
            test(&client, &scim_conn(None)).unwrap(),
            Identity::default()
        );
        assert_eq!(
            client.sent.borrow()[0].url,
            "https://eu1.ironcladapp.com/scim/v2/Users?count=1"
        );
        let client = scripted(|_| ok_json(&json!({"id": "abc123", "userName": "r@x.example"})));
        let who = test(&client, &scim_conn(Some("abc123"))).unwrap();
        assert_eq!(who.user_id.as_deref(), Some("abc123"));
        assert_eq!(
            client.sent.borrow()[0].url,
            "https://eu1.ironcladapp.com/scim/v2/Users/abc123"
        );
    }
}
