//! `/scim/v2/Schemas`: the four schemas Ironclad serves (the spec's `GroupSchema`,
//! `CoreUserSchema`, `EnterpriseUserSchema`, `IroncladUserSchema`), as RFC 7643 §7 schema
//! resources, built from one table.

use serde_json::{Value, json};

pub use crate::store::scim::{ENTERPRISE, GROUP, IRONCLAD, USER};

/// `(name, type, multiValued, required, mutability, description)`.
type Attribute = (
    &'static str,
    &'static str,
    bool,
    bool,
    &'static str,
    &'static str,
);

const TABLE: &[(&str, &str, &str, &[Attribute])] = &[
    (
        GROUP,
        "Group",
        "Group",
        &[
            (
                "displayName",
                "string",
                false,
                true,
                "readWrite",
                "A human-readable name for the Group.  REQUIRED.",
            ),
            (
                "members",
                "complex",
                true,
                false,
                "readWrite",
                "A list of members of the Group.",
            ),
        ],
    ),
    (
        USER,
        "User",
        "User Account",
        &[
            (
                "userName",
                "string",
                false,
                true,
                "readWrite",
                "Unique identifier for the User: the user's email address.  REQUIRED.",
            ),
            (
                "name",
                "complex",
                false,
                false,
                "readWrite",
                "The components of the user's real name (givenName, familyName).",
            ),
            (
                "displayName",
                "string",
                false,
                false,
                "readWrite",
                "The name of the User, suitable for display to end-users.",
            ),
            (
                "title",
                "string",
                false,
                false,
                "readWrite",
                "The user's title, such as \"Vice President\".",
            ),
            (
                "emails",
                "complex",
                true,
                false,
                "readWrite",
                "Email addresses for the user.",
            ),
            (
                "active",
                "boolean",
                false,
                false,
                "readWrite",
                "Whether the user is active; false removes the user from the company.",
            ),
            (
                "password",
                "string",
                false,
                false,
                "writeOnly",
                "The user's password for username/password sign-in.",
            ),
        ],
    ),
    (
        ENTERPRISE,
        "EnterpriseUser",
        "Enterprise User",
        &[(
            "department",
            "string",
            false,
            false,
            "readWrite",
            "Identifies the name of a department.",
        )],
    ),
    (
        IRONCLAD,
        "IroncladUser",
        "Ironclad User",
        &[
            (
                "departmentHead",
                "string",
                false,
                false,
                "readWrite",
                "The email address (username) of the user's department head.",
            ),
            (
                "provider",
                "string",
                false,
                false,
                "readOnly",
                "The user's authentication method: local, magicLink, saml or google.",
            ),
            (
                "allowProviderConversion",
                "boolean",
                false,
                false,
                "readWrite",
                "Whether the user may convert from `local` to `google` provider.",
            ),
        ],
    ),
];

/// Every schema resource, locations under `base_url` (the instance origin).
pub fn all(base_url: &str) -> Vec<Value> {
    TABLE
        .iter()
        .map(|(id, name, description, attributes)| {
            let attributes: Vec<Value> = attributes
                .iter()
                .map(|(name, kind, multi, required, mutability, description)| {
                    json!({
                        "name": name, "type": kind, "multiValued": multi,
                        "description": description, "required": required,
                        "caseExact": false, "mutability": mutability,
                        "returned": if *mutability == "writeOnly" { "never" } else { "default" },
                        "uniqueness": if *name == "userName" { "server" } else { "none" },
                    })
                })
                .collect();
            json!({
                "id": id, "name": name, "description": description, "attributes": attributes,
                "meta": { "resourceType": "Schema", "location": format!("{base_url}/scim/v2/Schemas/{id}") },
            })
        })
        .collect()
}
