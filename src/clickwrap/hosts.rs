//! Where the Clickwrap APIs live and what their connection fields must hold.
//!
//! Clickwrap (formerly PactSafe) is one US-hosted stack plus Demo: the REST API on
//! `api.pactsafe.com` (`/v1.1`, token at `/oauth/token` on the same host), the Activity API on
//! `pactsafe.io`. No EU host is documented, so `eu1` is refused rather than guessed. The demo
//! hosts come from third-party code only (UNCONFIRMED, see the README).

use crate::config::{ApiType, Grant, OAuthClient};
use crate::error::ConnectorError;

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

/// The fixed origin for `region`, `None` for `custom` (the caller reads `instance_url`).
pub fn origin(api_type: ApiType, region: &str) -> Result<Option<&'static str>, ConnectorError> {
    if region == "custom" {
        return Ok(None);
    }
    HOSTS
        .iter()
        .find(|(name, _, _)| *name == region)
        .map(|(_, rest, activity)| {
            Some(if api_type == ApiType::ClickwrapActivity {
                *activity
            } else {
                *rest
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

/// Clickwrap REST authenticates with an API key's client id and secret, exchanged for a
/// bearer token (client credentials); the token carries the user's site permissions, not
/// OAuth scopes.
pub fn oauth_client(
    grant_type: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
    scopes: Option<&str>,
) -> Result<OAuthClient, ConnectorError> {
    if let Some(other) = grant_type.filter(|g| *g != "client_credentials") {
        return Err(ConnectorError::config(
            "grant_type",
            format!(
                "`{}` is not available for the Clickwrap REST API: it issues tokens for an \
                 API key's client id and secret only (`client_credentials`)",
                crate::error::excerpt(other)
            ),
        ));
    }
    let client_id = client_id.ok_or_else(|| {
        ConnectorError::config(
            "client_id",
            "required: the client id of a Clickwrap API key (User Profile > API Keys)",
        )
    })?;
    if client_secret.is_none() {
        return Err(ConnectorError::config(
            "client_secret",
            "required: the client secret shown once when the Clickwrap API key was registered",
        ));
    }
    if scopes.is_some() {
        return Err(ConnectorError::config(
            "scopes",
            "leave empty: Clickwrap tokens carry the API key user's site permissions, not OAuth \
             scopes",
        ));
    }
    // Clickwrap tokens carry no scopes: ask for none.
    Ok(OAuthClient::new(
        ApiType::ClickwrapRest,
        Grant::ClientCredentials,
        client_id.to_string(),
        Some(Vec::new()),
    ))
}

/// The Site Access ID is a UUID (Site Settings, or `access_id` of a REST site).
pub fn site_access_id(given: Option<&str>) -> Result<String, ConnectorError> {
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
    Ok(id.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_each_api_host() {
        let o = |t, r| origin(t, r).unwrap();
        assert_eq!(
            o(ApiType::ClickwrapRest, "na1"),
            Some("https://api.pactsafe.com")
        );
        assert_eq!(
            o(ApiType::ClickwrapRest, "demo"),
            Some("https://api.demo.pactsafe.com")
        );
        assert_eq!(
            o(ApiType::ClickwrapActivity, "na1"),
            Some("https://pactsafe.io")
        );
        assert_eq!(
            o(ApiType::ClickwrapActivity, "demo"),
            Some("https://demo.pactsafe.io")
        );
        assert_eq!(o(ApiType::ClickwrapActivity, "custom"), None);
        let err = origin(ApiType::ClickwrapRest, "eu1").unwrap_err();
        assert!(
            matches!(&err, ConnectorError::InvalidConfig { field, message }
                if field == "region" && message.contains("eu1")),
            "{err:?}"
        );
    }

    #[test]
    fn rest_takes_only_a_client_id_and_secret() {
        let ok = oauth_client(None, Some("ck_1"), Some("<secret>"), None).unwrap();
        assert_eq!((ok.grant, ok.scopes().len()), (Grant::ClientCredentials, 0));
        let field = |e: ConnectorError| match e {
            ConnectorError::InvalidConfig { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let bad = [
            (
                Some("authorization_code"),
                Some("c"),
                Some("s"),
                None,
                "grant_type",
            ),
            (None, None, Some("s"), None, "client_id"),
            (None, Some("c"), None, None, "client_secret"),
            (None, Some("c"), Some("s"), Some("read"), "scopes"),
        ];
        for (grant, id, secret, scopes, expected) in bad {
            assert_eq!(
                field(oauth_client(grant, id, secret, scopes).unwrap_err()),
                expected
            );
        }
    }

    #[test]
    fn site_access_ids_are_uuids() {
        assert_eq!(
            site_access_id(Some("1E8DDD9D-F32C-4DC7-9C13-62095E6D4317")).unwrap(),
            "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"
        );
        for bad in [None, Some("abc")] {
            assert!(matches!(
                site_access_id(bad).unwrap_err(),
                ConnectorError::InvalidConfig { field, .. } if field == "site_access_id"
            ));
        }
    }
}
