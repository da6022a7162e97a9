//! What the connector's own integration tests share.

use serde_json::json;

/// A CLM Public connection on na1 with the client credentials grant, as the host hands it to
/// the connector (the secret masked).
pub fn config() -> String {
    json!({
        "api_type": "clm_public", "region": "na1", "grant_type": "client_credentials",
        "client_id": "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10", "client_secret": "<secret>",
        "impersonate_user": "jane@acme.example"
    })
    .to_string()
}
