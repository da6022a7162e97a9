//! Webhook events: what changed, named and shaped as Ironclad's deliveries name them (§6.1,
//! §6.2 of the API digest). A handler builds an [`Event`] where its change happens and raises
//! it, still inside the data lock, with `Data::emit` in `emulator.rs` (workflow-lifecycle
//! handlers push onto their `Ctx::events`, emitted when the change succeeds), which queues one
//! delivery per subscribed webhook (`store::deliveries`), signed and sent by
//! `infra::deliveries`.
//!
//! Payloads are thin, as Ironclad's are: `event`, `workflowID` and `templateID` for workflow
//! events, plus the extras Ironclad is known to send (approvals: `approvalID`, `approvalName`,
//! `status`, `userID`, `userEmail`; documents: `documentKeys`, `userID`); record events carry
//! `recordID`. Keys are serialised in alphabetical order, as in captured deliveries.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::store::seed::{User, Workflow};

/// `Kind` and its names, from one table.
macro_rules! kinds {
    ($($kind:ident => $name:literal,)*) => {
        /// The event types the emulator raises (a subset of the spec's `WebhookEvent`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($kind,)*
        }

        impl Kind {
            #[cfg(test)]
            const ALL: &[Kind] = &[$(Kind::$kind,)*];

            /// The name webhooks subscribe to.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => $name,)*
                }
            }
        }
    };
}

kinds! {
    Launched => "workflow_launched",
    Updated => "workflow_updated",
    Completed => "workflow_completed",
    Cancelled => "workflow_cancelled",
    Paused => "workflow_paused",
    Resumed => "workflow_resumed",
    ApprovalStatusChanged => "workflow_approval_status_changed",
    StepUpdated => "workflow_step_updated",
    AttributeUpdated => "workflow_attribute_updated",
    CommentAdded => "workflow_comment_added",
    DocumentsAdded => "workflow_documents_added",
    DocumentsUpdated => "workflow_documents_updated",
    RolesAssigned => "workflow_roles_assigned",
    SignaturePacketSent => "workflow_signature_packet_sent",
    SignaturePacketFullySigned => "workflow_signature_packet_fully_signed",
    SignaturePacketUploaded => "workflow_signature_packet_uploaded",
    SignaturePacketCancelled => "workflow_signature_packet_cancelled",
    SignaturePacketDocumentMoved => "workflow_signature_packet_document_moved",
    SignerRemoved => "workflow_signer_removed",
    SignerReassigned => "workflow_signer_reassigned",
    RecordContractStatusChanged => "record_contract_status_changed",
}

/// One thing that happened, with its delivery payload.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    /// `(workflow id, template id)` of workflow events.
    workflow: Option<(String, String)>,
    /// Sorted, as Ironclad serialises payloads.
    pub payload: BTreeMap<&'static str, Value>,
}

impl Event {
    /// A workflow event: `{event, templateID, workflowID}`.
    pub fn workflow(kind: Kind, workflow: &Workflow) -> Self {
        Self::for_workflow(kind, &workflow.id, &workflow.template)
    }

    fn for_workflow(kind: Kind, id: &str, template: &str) -> Self {
        Self {
            kind,
            workflow: Some((id.to_owned(), template.to_owned())),
            payload: BTreeMap::new(),
        }
        .with("workflowID", id)
        .with("templateID", template)
    }

    /// A record event: `{event, recordID}`.
    pub fn record(kind: Kind, record_id: &str) -> Self {
        Self {
            kind,
            workflow: None,
            payload: BTreeMap::new(),
        }
        .with("recordID", record_id)
    }

    /// An extra payload field.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.payload.insert(key, value.into());
        self
    }

    /// `userID` of the user who made the change.
    pub fn by(self, user: &User) -> Self {
        self.with("userID", user.id.as_str())
    }

    /// `documentKeys` of the documents concerned.
    pub fn documents<S: AsRef<str>>(self, keys: impl IntoIterator<Item = S>) -> Self {
        let keys: Vec<Value> = keys.into_iter().map(|k| Value::from(k.as_ref())).collect();
        self.with("documentKeys", keys)
    }

    /// The delivery payload: the extras plus `event`.
    pub fn payload(&self) -> BTreeMap<&'static str, Value> {
        let mut payload = self.payload.clone();
        payload.insert("event", self.kind.as_str().into());
        payload
    }
}

/// The events of one change, completed by the `workflow_updated` Ironclad also sends for every
/// change to a workflow: one per changed workflow (not for a launch), after its specific
/// events. An explicit `workflow_updated` stands for itself.
pub fn with_updates(mut events: Vec<Event>) -> Vec<Event> {
    let mut changed: Vec<(String, String)> = Vec::new();
    for event in &events {
        if let Some(w) = &event.workflow
            && event.kind != Kind::Launched
            && !changed.contains(w)
        {
            changed.push(w.clone());
        }
    }
    for (id, template) in changed {
        let named = events
            .iter()
            .any(|e| e.kind == Kind::Updated && e.workflow.as_ref().is_some_and(|w| w.0 == id));
        if !named {
            events.push(Event::for_workflow(Kind::Updated, &id, &template));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::webhooks_and_jobs::EVENTS;

    #[test]
    fn kinds_are_spec_event_types() {
        for kind in Kind::ALL {
            assert!(EVENTS.contains(&kind.as_str()), "{kind:?}");
        }
    }

    #[test]
    fn one_workflow_updated_per_changed_workflow() {
        let a = || Event::for_workflow(Kind::Paused, "w1", "t1");
        let kinds = |events: Vec<Event>| -> Vec<(&'static str, String)> {
            with_updates(events)
                .iter()
                .map(|e| (e.kind.as_str(), e.payload["workflowID"].to_string()))
                .collect()
        };
        assert_eq!(
            kinds(vec![
                a(),
                Event::for_workflow(Kind::CommentAdded, "w1", "t1"),
                Event::for_workflow(Kind::StepUpdated, "w2", "t1"),
            ]),
            [
                ("workflow_paused", "\"w1\"".into()),
                ("workflow_comment_added", "\"w1\"".into()),
                ("workflow_step_updated", "\"w2\"".into()),
                ("workflow_updated", "\"w1\"".into()),
                ("workflow_updated", "\"w2\"".into()),
            ]
        );
        // A launch is not an update; an explicit update is not doubled; records have none.
        assert_eq!(
            kinds(vec![Event::for_workflow(Kind::Launched, "w1", "t1")]).len(),
            1
        );
        assert_eq!(
            kinds(vec![Event::for_workflow(Kind::Updated, "w1", "t1")]).len(),
            1
        );
        assert_eq!(
            with_updates(vec![Event::record(Kind::RecordContractStatusChanged, "r1")]).len(),
            1
        );
        let payload = a().documents(["k1"]).payload();
        assert_eq!(
            serde_json::to_string(&payload).unwrap(),
            r#"{"documentKeys":["k1"],"event":"workflow_paused","templateID":"t1","workflowID":"w1"}"#
        );
    }
}
