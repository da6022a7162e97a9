//! State shared by the "platform" areas — webhooks (`webhooks`), data exports (`exports`) and
//! asynchronous workflow launches (`async_launch`) — seeded from
//! `fixtures/emulator/platform.json`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::seed::User;

const FIXTURE: &str = include_str!("../../../fixtures/emulator/platform.json");

#[derive(Debug, Default)]
pub struct PlatformStore {
    /// In creation order.
    pub webhooks: Vec<Webhook>,
    pub exports: Vec<ExportJob>,
    pub async_jobs: Vec<AsyncJob>,
}

impl PlatformStore {
    /// The built-in seed (`fixtures/emulator/platform.json`).
    pub fn seeded() -> Self {
        Self::from_json(FIXTURE).expect("fixtures/emulator/platform.json is valid")
    }

    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let fixture: Fixture = serde_json::from_str(text)?;
        let mut ids = std::collections::HashSet::new();
        let mut targets = std::collections::HashSet::new();
        for w in &fixture.webhooks {
            anyhow::ensure!(ids.insert(w.id.clone()), "duplicate webhook {}", w.id);
            anyhow::ensure!(
                targets.insert(w.target_url.clone()),
                "two webhooks target {}",
                w.target_url
            );
        }
        Ok(Self {
            webhooks: fixture.webhooks,
            exports: fixture.exports,
            async_jobs: Vec::new(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    webhooks: Vec<Webhook>,
    exports: Vec<ExportJob>,
}

/// `WebhookModel` without `companyId` (the tenant's, added when served).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Webhook {
    pub id: String,
    pub events: Vec<String>,
    #[serde(rename = "targetURL")]
    pub target_url: String,
    /// `enabled` | `disabled` | `disabledBySystem`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_last_updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_last_updated_by: Option<String>,
    pub consecutive_failure_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_consecutive_failure: Option<String>,
}

/// A data export job; its status advances one step per status poll.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportJob {
    pub job_id: String,
    /// `pending` | `running` | `done` | `failed`.
    pub job_status: String,
    /// The `DataExportRequestModel` it was submitted with.
    pub request: Value,
}

/// An asynchronous launch: validated when submitted, settled on the second status poll.
#[derive(Debug, Clone)]
pub struct AsyncJob {
    pub id: String,
    /// The body as sent (`requestPayload`).
    pub payload: Value,
    pub polls: u32,
    pub outcome: AsyncOutcome,
}

#[derive(Debug, Clone)]
pub enum AsyncOutcome {
    /// Valid: the workflow is created from these when the job completes.
    Launch {
        template: String,
        attributes: Map<String, Value>,
        user: User,
    },
    /// Launched: the new workflow's id.
    Launched { workflow_id: String },
    /// Invalid: `{code, message, param}`.
    Failed(Value),
}

/// The spec's `WebhookEvent` enum, `*` (every event) first.
pub const EVENTS: [&str; 36] = [
    "*",
    "workflow_launched",
    "workflow_updated",
    "workflow_cancelled",
    "workflow_completed",
    "workflow_approval_status_changed",
    "workflow_attribute_updated",
    "workflow_comment_added",
    "workflow_comment_removed",
    "workflow_comment_updated",
    "workflow_comment_reaction_added",
    "workflow_comment_reaction_removed",
    "workflow_counterparty_invite_sent",
    "workflow_counterparty_invite_revoked",
    "workflow_documents_added",
    "workflow_documents_removed",
    "workflow_documents_updated",
    "workflow_documents_renamed",
    "workflow_document_edited",
    "workflow_changed_turn",
    "workflow_paused",
    "workflow_resumed",
    "workflow_signature_packet_cancelled",
    "workflow_signature_packet_document_moved",
    "workflow_signature_packet_fully_signed",
    "workflow_signature_packet_sent",
    "workflow_signature_packet_signatures_collected",
    "workflow_signature_packet_signer_first_viewed",
    "workflow_signature_packet_signer_viewed",
    "workflow_signature_packet_uploaded",
    "workflow_signer_added",
    "workflow_signer_removed",
    "workflow_signer_reassigned",
    "workflow_step_updated",
    "workflow_roles_assigned",
    "record_contract_status_changed",
];

/// Whether the emulator may call `url`: its host is this machine's loopback interface.
pub fn is_loopback_target(url: &str) -> bool {
    Target::parse(url).is_some_and(|t| {
        t.host == "127.0.0.1" || t.host == "[::1]" || t.host.eq_ignore_ascii_case("localhost")
    })
}

/// The parts of a target URL that decide where it connects.
pub struct Target<'a> {
    pub https: bool,
    /// As written (`[::1]` keeps its brackets); a URL with credentials (`user@host`) keeps
    /// them here, so it never passes for a loopback host.
    pub host: &'a str,
    pub port: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn parse(url: &'a str) -> Option<Self> {
        let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return None,
        };
        // URL parsers end the authority at a backslash too.
        let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
        let (host, port) = match authority.rfind(':') {
            _ if authority.contains('@') => (authority, None),
            Some(i) if !authority[i..].contains(']') => {
                (&authority[..i], Some(&authority[i + 1..]))
            }
            _ => (authority, None),
        };
        Some(Self { https, host, port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_loads() {
        let store = PlatformStore::seeded();
        assert_eq!(store.webhooks.len(), 2);
        assert_eq!(store.exports.len(), 1);
        let dup = FIXTURE.replace("64b7f0c2a1d3e5f7092b4c6e", "64b7f0c2a1d3e5f7092b4c6d");
        assert!(PlatformStore::from_json(&dup).is_err());
    }
}
