//! The seed the emulator starts from (and returns to on `/_emulator/reset`): company, users,
//! OAuth clients, published templates (launch forms) and workflows, in Ironclad's own shapes.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{store::ids, store::time};

const DEFAULT_SEED: &str = include_str!("../../../fixtures/emulator/seed.json");

/// The built-in seed (`fixtures/emulator/seed.json`).
pub fn default_seed() -> Seed {
    let seed: Seed =
        serde_json::from_str(DEFAULT_SEED).expect("fixtures/emulator/seed.json parses");
    seed.validate()
        .expect("fixtures/emulator/seed.json is consistent");
    seed
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default, rename = "_comment")]
    pub comment: Option<String>,
    /// `expires_in` of issued access tokens (Ironclad's live value is reportedly 6 hours).
    #[serde(default = "default_token_ttl")]
    pub token_ttl_seconds: u64,
    /// How long an authorization code may wait before being exchanged.
    #[serde(default = "default_code_ttl")]
    pub auth_code_ttl_seconds: u64,
    pub company: Company,
    pub users: Vec<User>,
    pub clients: Vec<OAuthClient>,
    pub templates: Vec<Template>,
    pub workflows: Vec<Workflow>,
}

fn default_token_ttl() -> u64 {
    21_600
}

fn default_code_ttl() -> u64 {
    600
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Company {
    pub id: String,
    /// `companyName` (internal name).
    pub name: String,
    /// `companyDisplayName`.
    pub display_name: String,
    /// `/oauth/company-info` entitlements: `{key: {name, description, type, value}}`.
    #[serde(default)]
    pub entitlements: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub title: String,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A registered OAuth application.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// `client_credentials`, `authorization_code`, `refresh_token`.
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Email of the user who consents (automatically) in the authorization-code flow.
    #[serde(default)]
    pub consent_user: Option<String>,
}

impl OAuthClient {
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
            || (grant == "refresh_token"
                && self.grant_types.iter().any(|g| g == "authorization_code"))
    }
}

/// A published workflow design and its launch form.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    /// Launch-form fields by attribute id.
    pub schema: BTreeMap<String, FieldSchema>,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Roles (with assignees) a workflow launched from this template starts with. Emulator-only.
    #[serde(default)]
    pub launch_roles: Vec<Role>,
}

/// Ironclad's launch-form `FieldSchema`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSchema {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `always` | `never` | `conditional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<FieldOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_type: Option<Box<FieldSchema>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<BTreeMap<String, FieldSchema>>,
}

impl FieldSchema {
    pub fn always_required(&self) -> bool {
        self.required.as_deref() == Some("always")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldOptions {
    pub values: Vec<String>,
    pub free_text_allowed: bool,
}

/// Ironclad's `WorkflowResponseModel`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workflow {
    pub id: String,
    pub ironclad_id: String,
    pub title: String,
    pub template: String,
    /// `Review` | `Sign` | `Archive` | `Complete`.
    pub step: String,
    /// `{attrId: {type, displayName, propertyKey, readOnly, elementType?}}`.
    pub schema: Map<String, Value>,
    pub attributes: Map<String, Value>,
    pub is_cancelled: bool,
    pub is_complete: bool,
    /// `active` | `paused` | `completed` | `cancelled`.
    pub status: String,
    pub creator: Creator,
    pub created: String,
    pub last_updated: String,
    pub roles: Vec<Role>,
    pub approvals: StepState,
    pub signatures: StepState,
    pub is_revertible_to_review: bool,
    #[serde(default)]
    pub record_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Creator {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub title: String,
    pub username: String,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl Creator {
    pub fn from_user(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            display_name: user.display_name(),
            email: user.email.clone(),
            title: user.title.clone(),
            username: user.username.clone(),
            metadata: Map::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub display_name: String,
    pub assignees: Vec<RoleAssignee>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignee {
    pub user_name: String,
    pub user_id: String,
    pub email: String,
}

/// `WorkflowStateModel` for approvals and signatures. An `in_progress` url is stored as a path
/// and served absolute, on the emulator's own base URL.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StepState {
    NotStarted,
    Completed,
    InProgress { url: String },
    NotApplicable { message: String },
}

pub const STATUSES: [&str; 4] = ["active", "paused", "completed", "cancelled"];
pub const STEPS: [&str; 4] = ["Review", "Sign", "Archive", "Complete"];

impl Seed {
    /// Cross-references and shapes a hand-edited seed could get wrong.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            ids::is_object_id(&self.company.id),
            "company id {} is not a 24-hex id",
            self.company.id
        );
        ensure!(!self.users.is_empty(), "the seed needs at least one user");
        let mut seen = HashSet::new();
        for u in &self.users {
            ensure!(
                ids::is_object_id(&u.id),
                "user id {} is not a 24-hex id",
                u.id
            );
            ensure!(
                seen.insert(u.id.clone()) && seen.insert(u.email.to_ascii_lowercase()),
                "duplicate user {}",
                u.email
            );
        }
        let mut names = HashSet::new();
        for c in &self.clients {
            ensure!(
                ids::is_uuid(&c.client_id),
                "client {} has a client_id that is not a UUID",
                c.name
            );
            ensure!(
                names.insert(c.name.clone()) && names.insert(c.client_id.clone()),
                "duplicate client {}",
                c.name
            );
            if let Some(email) = &c.consent_user {
                ensure!(
                    self.user_by_email(email).is_some(),
                    "client {} consents as unknown user {email}",
                    c.name
                );
            }
        }
        let mut template_ids = HashSet::new();
        for t in &self.templates {
            ensure!(
                template_ids.insert(t.id.clone()),
                "duplicate template {}",
                t.id
            );
        }
        let mut workflow_ids = HashSet::new();
        for w in &self.workflows {
            let ctx = || format!("workflow {} ({})", w.ironclad_id, w.id);
            ensure!(
                workflow_ids.insert(w.id.clone()) && workflow_ids.insert(w.ironclad_id.clone()),
                "duplicate {}",
                ctx()
            );
            ironclad_number(&w.ironclad_id).with_context(ctx)?;
            ensure!(
                template_ids.contains(&w.template),
                "{} uses unknown template {}",
                ctx(),
                w.template
            );
            ensure!(
                STATUSES.contains(&w.status.as_str()),
                "{} has status {}",
                ctx(),
                w.status
            );
            ensure!(
                STEPS.contains(&w.step.as_str()),
                "{} has step {}",
                ctx(),
                w.step
            );
            for stamp in [&w.created, &w.last_updated] {
                if time::parse(stamp).is_none() {
                    bail!("{} has a timestamp that is not ISO-8601: {stamp}", ctx());
                }
            }
        }
        Ok(())
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn client(&self, client_id: &str) -> Option<&OAuthClient> {
        self.clients
            .iter()
            .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// A template by its name (`Mutual NDA`), for tests and demos that know it that way.
    pub fn template_named(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }
}

/// `IC-123` → 123.
pub fn ironclad_number(ironclad_id: &str) -> anyhow::Result<u64> {
    ironclad_id
        .strip_prefix("IC-")
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("{ironclad_id} is not an Ironclad id like IC-1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_seed_is_consistent() {
        let seed = default_seed();
        assert_eq!(seed.workflows.len(), 45);
        assert_eq!(seed.templates.len(), 2);
        assert_eq!(seed.users.len(), 3);
        let names: Vec<&str> = seed.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-client-credentials",
                "demo-authorization-code",
                "limited-scopes"
            ]
        );
        let stamps: HashSet<&str> = seed
            .workflows
            .iter()
            .map(|w| w.last_updated.as_str())
            .collect();
        assert_eq!(stamps.len(), 45, "lastUpdated values are distinct");
        assert_eq!(seed.token_ttl_seconds, 21_600);
        // Steps agree with statuses.
        for w in &seed.workflows {
            match w.status.as_str() {
                "completed" => assert!(w.is_complete && w.step == "Complete"),
                "cancelled" => assert!(
                    w.is_cancelled && matches!(w.approvals, StepState::NotApplicable { .. })
                ),
                "paused" => assert_eq!(w.step, "Review"),
                _ => assert!(!w.is_cancelled && !w.is_complete && w.step != "Complete"),
            }
        }
    }
}
