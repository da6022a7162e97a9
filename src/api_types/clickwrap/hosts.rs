//! Where the Clickwrap APIs live and what their connection fields must hold.
//!
//! Clickwrap (formerly PactSafe) is one US-hosted stack plus Demo: the REST API on
//! `api.pactsafe.com` (`/v1.1`, token at `/oauth/token` on the same host), the Activity API on
//! `pactsafe.io`. No EU host is documented, so `eu1` is refused rather than guessed. The demo
//! hosts come from third-party code only (UNCONFIRMED, see `docs/clickwrap.md`).

use serde_json::{Map, Value};

use super::catalog::Api;
use crate::config::{ApiType, Credential, Grant, OAuthClient, text};
use crate::error::{ConnectorError, excerpt};

/// `(region, REST origin, Activity origin)`; `custom` uses `instance_url`.
const HOSTS: [(&str, &str, &str); 2] = [
    ("na1", "https://api.pactsafe.com", "https://pactsafe.io"),
    (
        "demo",
        "https://api.demo.pactsafe.com",
        "https://demo.pactsafe.io",
    ),
];

/// The REST API's path root on its origin.
pub const REST_ROOT: &str = "/v1.1";

/// The REST API's fixed origin for `region`, `None` for `custom`.
pub fn rest_origin(region: &str) -> Result<Option<&'static str>, ConnectorError> {
    origin(Api::Rest, region)
}

/// The Activity API's fixed origin for `region`, `None` for `custom`.
pub fn activity_origin(region: &str) -> Result<Option<&'static str>, ConnectorError> {
    origin(Api::Activity, region)
}

/// The fixed origin of `api` for `region`, `None` for `custom` (the caller reads
/// `instance_url`).
fn origin(api: Api, region: &str) -> Result<Option<&'static str>, ConnectorError> {
    if region == "custom" {
        return Ok(None);
    }
    HOSTS
        .iter()
        .find(|(name, _, _)| *name == region)
        .map(|(_, rest, activity)| {
            Some(match api {
                Api::Rest => *rest,
                Api::Activity => *activity,
            })
        })
        .ok_or_else(|| {
            ConnectorError::config(
                "region",
                format!(
                    "Ironclad Clickwrap has no `{}` environment (it is hosted in the US, \
                     plus Demo); choose `na1` for production, `demo`, or `custom` with an \
                     instance_url",
                    crate::error::excerpt(region)
                ),
            )
        })
}

/// The values of `clickwrap_credential`; the first is the default.
pub const CREDENTIALS: [&str; 2] = [ACCESS_TOKEN, API_KEY_EXCHANGE];
const ACCESS_TOKEN: &str = "access_token";
const API_KEY_EXCHANGE: &str = "api_key_exchange";

/// How a Clickwrap REST connection authenticates (`clickwrap_credential`).
///
/// By default with the access token Clickwrap shows when an API key is registered (User
/// Profile > API Keys), sent as `Authorization: Bearer` as Clickwrap's own docs do: nothing is
/// exchanged. The client id and secret exchange at `/oauth/token` is an explicit choice only:
/// Clickwrap documents that endpoint as "create/regenerate access token", so running it may
/// replace, and so revoke, the token the key's other integrations use. Clickwrap tokens carry
/// the key user's site permissions, not OAuth scopes.
pub fn credential(
    form: &Map<String, Value>,
    api_type: ApiType,
) -> Result<Credential, ConnectorError> {
    let chosen = text(form, "clickwrap_credential")?.unwrap_or(ACCESS_TOKEN);
    if let Some(scopes) = text(form, "scopes")? {
        return Err(ConnectorError::config(
            "scopes",
            format!(
                "leave empty (got `{}`): Clickwrap tokens carry the API key user's site \
                 permissions, not OAuth scopes",
                excerpt(scopes)
            ),
        ));
    }
    if let Some(other) = text(form, "grant_type")?.filter(|g| *g != "client_credentials") {
        return Err(ConnectorError::config(
            "grant_type",
            format!(
                "`{}` is not available for the Clickwrap REST API: use its access token \
                 (clickwrap_credential `access_token`), or exchange an API key's client id and \
                 secret (`api_key_exchange`)",
                excerpt(other)
            ),
        ));
    }
    let client_id = text(form, "client_id")?;
    let client_secret = text(form, "client_secret")?;
    let access_token = text(form, ACCESS_TOKEN)?;
    match chosen {
        ACCESS_TOKEN => {
            if access_token.is_some() {
                // A client id or secret left in the form is not used: nothing is exchanged.
                return Ok(Credential::FormToken {
                    field: ACCESS_TOKEN,
                });
            }
            if client_id.is_some() || client_secret.is_some() {
                return Err(ConnectorError::config(
                    "clickwrap_credential",
                    "client_id and client_secret are exchanged for a token only with \
                     clickwrap_credential `api_key_exchange`, which may regenerate, and so \
                     revoke, the API key's existing access token; paste that access token \
                     into access_token instead, or choose `api_key_exchange` knowingly",
                ));
            }
            Err(ConnectorError::config(
                ACCESS_TOKEN,
                "required: the access token shown when the Clickwrap API key was registered \
                 (User Profile > API Keys); it is sent as it is, never exchanged",
            ))
        }
        API_KEY_EXCHANGE => {
            if access_token.is_some() {
                return Err(ConnectorError::config(
                    ACCESS_TOKEN,
                    "not used with `api_key_exchange`, and the exchange may regenerate, and so \
                     revoke, this very token; clear it, or choose clickwrap_credential \
                     `access_token` to use it",
                ));
            }
            let client_id = client_id.ok_or_else(|| {
                ConnectorError::config(
                    "client_id",
                    "required with `api_key_exchange`: the client id of a Clickwrap API key \
                     (User Profile > API Keys)",
                )
            })?;
            if client_secret.is_none() {
                return Err(ConnectorError::config(
                    "client_secret",
                    "required with `api_key_exchange`: the client secret shown once when the \
                     Clickwrap API key was registered",
                ));
            }
            Ok(Credential::OAuth(OAuthClient::new(
                api_type,
                Grant::ClientCredentials,
                client_id.to_string(),
                Some(Vec::new()),
            )))
        }
        other => Err(ConnectorError::config(
            "clickwrap_credential",
            format!(
                "unknown value `{}`; expected one of {}",
                excerpt(other),
                CREDENTIALS.join(", ")
            ),
        )),
    }
}

/// The Site Access ID is a UUID (Site Settings, or `access_id` of a REST site).
pub fn site_access_id(given: Option<&str>) -> Result<Option<String>, ConnectorError> {
    let id = given.ok_or_else(|| {
        ConnectorError::config(
            "site_access_id",
            "required for the Clickwrap Activity API: copy it from the Clickwrap site's Site \
             Settings (the REST API lists it as `access_id`)",
        )
    })?;
    if !crate::config::is_uuid(id) {
        return Err(ConnectorError::config(
            "site_access_id",
            format!(
                "`{}` is not a Site Access ID; it is a UUID like \
                 1e8ddd9d-f32c-4dc7-9c13-62095e6d4317 from the site's settings",
                crate::error::excerpt(id)
            ),
        ));
    }
    Ok(Some(id.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn regions_map_to_each_api_host() {
        assert_eq!(
            rest_origin("na1").unwrap(),
            Some("https://api.pactsafe.com")
        );
        assert_eq!(
            rest_origin("demo").unwrap(),
            Some("https://api.demo.pactsafe.com")
        );
        assert_eq!(activity_origin("na1").unwrap(), Some("https://pactsafe.io"));
        assert_eq!(
            activity_origin("demo").unwrap(),
            Some("https://demo.pactsafe.io")
        );
        assert_eq!(activity_origin("custom").unwrap(), None);
        let err = rest_origin("eu1").unwrap_err();
        assert!(
            matches!(&err, ConnectorError::InvalidConfig { field, message }
                if field == "region" && message.contains("eu1")),
            "{err:?}"
        );
    }

    fn rest(form: serde_json::Value) -> Result<Credential, ConnectorError> {
        let api_type = ApiType::named("clickwrap_rest").unwrap();
        credential(form.as_object().unwrap(), api_type)
    }

    fn field(e: ConnectorError) -> String {
        match e {
            ConnectorError::InvalidConfig { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_access_token_is_the_default_and_nothing_is_exchanged() {
        let token = Credential::FormToken {
            field: "access_token",
        };
        assert_eq!(rest(json!({"access_token": "<secret>"})).unwrap(), token);
        // A client id and secret left behind are not used: the token is sent as it is.
        let leftover = json!({"clickwrap_credential": "access_token", "access_token": "<secret>",
                              "client_id": "ck", "client_secret": "<secret>"});
        assert_eq!(rest(leftover).unwrap(), token);
    }

    #[test]
    fn the_exchange_is_only_an_explicit_choice() {
        let exchange = rest(json!({"clickwrap_credential": "api_key_exchange",
                                   "client_id": "ck_1", "client_secret": "<secret>"}))
        .unwrap();
        let Credential::OAuth(client) = exchange else {
            panic!("{exchange:?}")
        };
        assert_eq!(
            (
                client.grant,
                client.scopes().len(),
                client.client_id.as_str()
            ),
            (Grant::ClientCredentials, 0, "ck_1")
        );
        // A client id and secret alone are not taken as consent to the exchange.
        let err = rest(json!({"client_id": "ck_1", "client_secret": "<secret>"})).unwrap_err();
        let ConnectorError::InvalidConfig { field, message } = err else {
            panic!()
        };
        assert_eq!(field, "clickwrap_credential");
        assert!(message.contains("revoke"), "{message}");
    }

    #[test]
    fn errors_name_the_field_to_fix() {
        let bad = [
            (json!({}), "access_token"),
            (
                json!({"clickwrap_credential": "password"}),
                "clickwrap_credential",
            ),
            (json!({"clickwrap_credential": 1}), "clickwrap_credential"),
            (
                json!({"access_token": "<secret>", "grant_type": "authorization_code"}),
                "grant_type",
            ),
            (
                json!({"access_token": "<secret>", "scopes": "read"}),
                "scopes",
            ),
            (
                json!({"clickwrap_credential": "api_key_exchange", "client_secret": "s"}),
                "client_id",
            ),
            (
                json!({"clickwrap_credential": "api_key_exchange", "client_id": "c"}),
                "client_secret",
            ),
            // The exchange could revoke the very token given beside it.
            (
                json!({"clickwrap_credential": "api_key_exchange", "client_id": "c",
                    "client_secret": "s", "access_token": "<secret>"}),
                "access_token",
            ),
        ];
        for (form, expected) in bad {
            assert_eq!(field(rest(form.clone()).unwrap_err()), expected, "{form}");
        }
    }

    #[test]
    fn the_form_offers_every_credential() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::config::CONNECTION_SCHEMA).unwrap();
        assert_eq!(
            schema["properties"]["clickwrap_credential"]["enum"],
            json!(CREDENTIALS)
        );
    }

    #[test]
    fn site_access_ids_are_uuids() {
        assert_eq!(
            site_access_id(Some("1E8DDD9D-F32C-4DC7-9C13-62095E6D4317")).unwrap(),
            Some("1e8ddd9d-f32c-4dc7-9c13-62095e6d4317".to_string())
        );
        for bad in [None, Some("abc")] {
            assert!(matches!(
                site_access_id(bad).unwrap_err(),
                ConnectorError::InvalidConfig { field, .. } if field == "site_access_id"
            ));
        }
    }
}
