//! SCIM 2.0 users and groups as the SCIM API serves them (JSON resources), seeded from the
//! seed's users and one group.

use serde_json::{Value, json};

use crate::store::seed::Seed;

// The schema URNs stored resources carry.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const IRONCLAD: &str = "urn:ietf:params:scim:schemas:extension:ironclad:2.0:User";

/// When the seeded users and group were created.
const SEEDED_AT: &str = "2025-01-06T09:00:00.000Z";

/// Users and groups, in the order they were added (SCIM lists them so).
#[derive(Debug, Default)]
pub struct ScimStore {
    pub users: Vec<Value>,
    pub groups: Vec<Value>,
    /// Most resources one page returns whatever `count` asks (RFC 7644 §3.4.2.4 lets a server
    /// return fewer); set by `POST /_emulator/scim-page-limit`, none by default.
    pub page_limit: Option<usize>,
}

impl ScimStore {
    pub fn from_seed(seed: &Seed) -> Self {
        let users: Vec<Value> = seed
            .users
            .iter()
            .map(|u| {
                json!({
                    "schemas": [USER, ENTERPRISE, IRONCLAD],
                    "id": u.id, "userName": u.email,
                    "name": { "givenName": u.first_name, "familyName": u.last_name },
                    "title": u.title,
                    "emails": [{ "value": u.email, "type": "work", "primary": true }],
                    "active": true,
                    ENTERPRISE: { "department": "Legal" },
                    IRONCLAD: { "provider": "local", "allowProviderConversion": false },
                    "meta": { "resourceType": "User", "created": SEEDED_AT, "lastModified": SEEDED_AT },
                })
            })
            .collect();
        let members: Vec<Value> = users
            .iter()
            .take(2)
            .map(|u| json!({ "type": "User", "value": u["id"] }))
            .collect();
        let groups = vec![json!({
            "schemas": [GROUP],
            "id": "74906dd6-f2c6-4442-8875-57846f15b061",
            "displayName": "Legal Ops Group",
            "members": members,
            "meta": { "resourceType": "Group" },
        })];
        Self {
            users,
            groups,
            page_limit: None,
        }
    }
}
