//! SCIM error bodies (RFC 7644 §3.12): `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
//! "status": "400", "scimType": "invalidFilter", "detail": "…"}` — `status` a string, `scimType`
//! and `detail` optional (Ironclad's 403 and 409 carry neither). Mapped onto the connector's
//! typed errors with `detail` as the message and `scimType` surfaced.

use serde_json::Value;

use crate::error::{ConnectorError, Upstream};
use crate::http::Response;

pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A parsed SCIM error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub scim_type: Option<String>,
    pub detail: Option<String>,
}

/// The SCIM error in `body`, if it is one: the Error URN in `schemas` (the spec's filter-error
/// example spells the key `schema`), or a string `status` beside `scimType`/`detail`, which no
/// Public API error has.
pub fn parse(body: &[u8]) -> Option<ScimError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let names_urn = ["schemas", "schema"].iter().any(|k| {
        value[k]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s == ERROR_URN))
    });
    let scim_shaped = value["status"].is_string()
        && (value.get("scimType").is_some() || value.get("detail").is_some());
    (names_urn || scim_shaped).then(|| ScimError {
        scim_type: text("scimType"),
        detail: text("detail"),
    })
}

/// The typed error for a non-2xx SCIM answer, or `None` when the body is not a SCIM error or
/// the generic mapping says it as well (401, 429 with its `Retry-After`).
pub fn status_error(response: &Response, scopes: &[&str]) -> Option<ConnectorError> {
    let error = parse(&response.body)?;
    let status = response.status;
    let detail = error
        .detail
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let with_type = |message: &str| match &error.scim_type {
        Some(t) => format!("{message} (scimType {t})"),
        None => message.to_string(),
    };
    Some(match (status, error.scim_type.as_deref()) {
        (401 | 429, _) => return None,
        // The only input a filter error can be about.
        (400, Some("invalidFilter")) => ConnectorError::input(
            "/filter",
            format!("Ironclad refused the SCIM filter (scimType invalidFilter): {detail}"),
        ),
        (403, _) => crate::upstream::forbidden(with_type(&detail), scopes),
        (404, _) => ConnectorError::NotFound(with_type(&detail)),
        (409, _) => ConnectorError::Conflict(with_type(&if error.detail.is_some() {
            detail
        } else {
            "the resource already exists (userName or displayName taken)".to_string()
        })),
        (status, scim_type) => ConnectorError::Upstream(Upstream {
            status: Some(status),
            code: scim_type.map(str::to_string),
            message: detail,
            param: None,
            request_id: response.header("x-ironclad-requestid").map(str::to_string),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/scim+json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn invalid_value_surfaces_scim_type_and_detail() {
        let r = resp(
            400,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"Invalid value at name.givenName: 123"}"#,
        );
        let Some(ConnectorError::Upstream(u)) = status_error(&r, &[]) else {
            panic!()
        };
        assert_eq!(
            (u.status, u.code.as_deref(), u.message.as_str()),
            (
                Some(400),
                Some("invalidValue"),
                "Invalid value at name.givenName: 123"
            )
        );
    }

    #[test]
    fn invalid_filter_names_the_filter_input() {
        // The spec's own example spells `schemas` as `schema`.
        let r = resp(
            400,
            r#"{"schema":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"No matching schema for attribute: legalName"}"#,
        );
        let err = status_error(&r, &["scim.users.readUsers"]).unwrap();
        assert!(
            matches!(&err, ConnectorError::InvalidInput { field, message }
                if field == "/filter" && message.contains("legalName")),
            "{err:?}"
        );
    }

    #[test]
    fn not_found_conflict_and_forbidden() {
        let r = resp(
            404,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource 6643ce2e22daa40f80025aee not found"}"#,
        );
        assert_eq!(
            status_error(&r, &[]),
            Some(ConnectorError::NotFound(
                "Resource 6643ce2e22daa40f80025aee not found".into()
            ))
        );
        let r = resp(
            409,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409"}"#,
        );
        assert_eq!(status_error(&r, &[]).unwrap().kind(), "conflict");
        let r = resp(
            403,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"token is missing required scope scim.users.createUsers"}"#,
        );
        assert!(matches!(
            status_error(&r, &["scim.users.createUsers"]),
            Some(ConnectorError::Forbidden { missing_scope: Some(s), .. }) if s == "scim.users.createUsers"
        ));
        // Ironclad's bare 403 still says which scope the action needs.
        let r = resp(
            403,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403"}"#,
        );
        let err = status_error(&r, &["scim.users.createUsers"]).unwrap();
        assert!(err.to_string().contains("scim.users.createUsers"), "{err}");
    }

    #[test]
    fn other_bodies_are_left_to_the_generic_mapping() {
        assert_eq!(
            status_error(&resp(400, r#"{"code":"X","message":"m"}"#), &[]),
            None
        );
        assert_eq!(status_error(&resp(502, "<html>"), &[]), None);
        let r = resp(
            401,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401"}"#,
        );
        assert_eq!(status_error(&r, &[]), None);
    }
}
