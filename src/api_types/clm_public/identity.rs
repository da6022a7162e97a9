//! CLM Public test-connection: one harmless authenticated call that says who we act as.

use serde_json::Value;

use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::{HttpClient, Method, Request};
use crate::identity::Identity;
use crate::upstream;

/// `GET /oauth/userinfo` needs no resource scope, and with the impersonation header it
/// proves the acting user exists too.
pub fn test(client: &dyn HttpClient, conn: &Connection) -> Result<Identity, ConnectorError> {
    let mut request =
        Request::new(Method::GET, conn.userinfo_url()).header("accept", "application/json");
    if let Some(imp) = &conn.impersonation {
        let (name, value) = imp.header();
        request = request.header(name, value);
    }
    let response = upstream::send_ok(client, request, &[])?;
    let info = upstream::json(&response, "userinfo")?;
    let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Identity {
        user_id: text("id").or_else(|| text("sub")),
        user_email: text("email"),
        user_name: text("displayName"),
        company_id: text("companyId"),
        company_name: text("companyName"),
        scopes: info
            .get("scopes")
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
