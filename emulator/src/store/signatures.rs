//! Signature packets per workflow (signers, routing, scheduled sends, reminders), the
//! signature-packet document order and email threads, seeded from
//! `fixtures/emulator/workflow-sign.json`; a workflow reaching Sign later gets its template's
//! default packet.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::seed::{Seed, Workflow};
use crate::store::time;

/// The signature provider packets use unless seeded otherwise; recipient URLs work only with
/// this provider.
pub const IRONCLAD_SIGNATURE: &str = "Ironclad Signature";

const FIXTURE: &str = include_str!("../../../fixtures/emulator/workflow-sign.json");

/// This area's state: signature packets, signature-packet document order and email threads,
/// each keyed by workflow id.
#[derive(Debug, Default)]
pub struct SignStore {
    pub packets: HashMap<String, Packet>,
    /// The packet a template's workflows get on reaching Sign, by template id.
    pub defaults: HashMap<String, PacketSeed>,
    /// Document keys in signature-packet order, once set by `PATCH signature-packet`.
    pub packet_order: HashMap<String, Vec<String>>,
    /// `ActivityFeedEmail`s by workflow id.
    pub emails: HashMap<String, Vec<Value>>,
}

impl SignStore {
    /// The store as `fixtures/emulator/workflow-sign.json` describes it, for `seed`'s workflows.
    pub fn from_seed(seed: &Seed) -> Self {
        let fixture = fixture();
        let packets = fixture
            .packets
            .iter()
            .filter_map(|(id, p)| {
                let w = seed.workflows.iter().find(|w| &w.id == id)?;
                Some((id.clone(), p.build(w, seed)))
            })
            .collect();
        Self {
            packets,
            defaults: fixture.default_packets.into_iter().collect(),
            packet_order: HashMap::new(),
            emails: fixture.emails.into_iter().collect(),
        }
    }

    /// The packet of a workflow in Sign, built from its template's default the first time.
    pub fn packet(&mut self, w: &Workflow, seed: &Seed) -> &mut Packet {
        let defaults = &self.defaults;
        self.packets
            .entry(w.id.clone())
            .or_insert_with(|| match defaults.get(&w.template) {
                Some(p) => p.build(w, seed),
                None => PacketSeed::creator_signs().build(w, seed),
            })
    }
}

pub fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixtures/emulator/workflow-sign.json parses")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    #[serde(default, rename = "_comment")]
    pub _comment: Option<String>,
    pub default_packets: BTreeMap<String, PacketSeed>,
    pub packets: BTreeMap<String, PacketSeed>,
    pub emails: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PacketSeed {
    #[serde(default, rename = "_comment")]
    pub _comment: Option<String>,
    #[serde(default = "not_sent")]
    pub status: String,
    #[serde(default = "parallel")]
    pub routing: String,
    #[serde(default = "ironclad_signature")]
    pub provider: String,
    #[serde(default)]
    pub require_signed_document_upload: bool,
    #[serde(default)]
    pub scheduled_send: Option<ScheduledSeed>,
    pub signers: Vec<SignerSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduledSeed {
    pub notify_at: String,
    #[serde(default)]
    pub reminder_days_before: Option<i64>,
}

/// A signer as the fixture gives it: internal signers name a seed user (`userEmail`, else the
/// workflow's creator); external ones give `name`/`email` or take them from attributes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignerSeed {
    pub role_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    #[serde(default)]
    pub name_attribute: Option<String>,
    #[serde(default)]
    pub email_attribute: Option<String>,
    #[serde(default)]
    pub fallback_email: Option<String>,
    #[serde(default = "pending")]
    pub status: String,
    #[serde(default = "first")]
    pub routing_order: i64,
    #[serde(default)]
    pub is_wet_signed: bool,
    #[serde(default)]
    pub delegates: Vec<Delegate>,
}

pub fn not_sent() -> String {
    "not_sent".into()
}
pub fn parallel() -> String {
    "parallel".into()
}
pub fn ironclad_signature() -> String {
    IRONCLAD_SIGNATURE.into()
}
pub fn pending() -> String {
    "pending".into()
}
pub fn first() -> i64 {
    1
}

impl PacketSeed {
    /// For templates without a default: the workflow's creator signs alone.
    pub fn creator_signs() -> Self {
        Self {
            _comment: None,
            status: not_sent(),
            routing: parallel(),
            provider: ironclad_signature(),
            require_signed_document_upload: false,
            scheduled_send: None,
            signers: vec![SignerSeed {
                role_name: "Company Signer".into(),
                kind: "internal".into(),
                name: None,
                email: None,
                user_email: None,
                name_attribute: None,
                email_attribute: None,
                fallback_email: None,
                status: pending(),
                routing_order: 1,
                is_wet_signed: false,
                delegates: Vec::new(),
            }],
        }
    }

    pub fn build(&self, w: &Workflow, seed: &Seed) -> Packet {
        let attr = |name: &Option<String>| {
            name.as_ref()
                .and_then(|n| w.attributes.get(n))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let signers = self
            .signers
            .iter()
            .map(|s| {
                let (name, email, user_id) = if s.kind == "internal" {
                    match s.user_email.as_deref().and_then(|e| seed.user_by_email(e)) {
                        Some(u) => (u.display_name(), u.email.clone(), Some(u.id.clone())),
                        None => (
                            w.creator.display_name.clone(),
                            w.creator.email.clone(),
                            Some(w.creator.id.clone()),
                        ),
                    }
                } else {
                    let name = s
                        .name
                        .clone()
                        .or_else(|| attr(&s.name_attribute))
                        .unwrap_or_else(|| "Counterparty Signatory".into());
                    let email = s
                        .email
                        .clone()
                        .or_else(|| attr(&s.email_attribute))
                        .or_else(|| s.fallback_email.clone())
                        .unwrap_or_else(|| "signatory@counterparty.example".into());
                    (name, email, None)
                };
                Signer {
                    name,
                    email,
                    role_name: s.role_name.clone(),
                    status: s.status.clone(),
                    kind: s.kind.clone(),
                    user_id,
                    is_wet_signed: s.is_wet_signed,
                    delegates: s.delegates.clone(),
                    routing_order: s.routing_order,
                }
            })
            .collect();
        Packet {
            routing: self.routing.clone(),
            status: self.status.clone(),
            provider: self.provider.clone(),
            require_signed_document_upload: self.require_signed_document_upload,
            signers,
            scheduled: self.scheduled_send.as_ref().and_then(|s| {
                Some(Scheduled {
                    notify_at_ms: time::parse(&s.notify_at)?,
                    reminder_days: s.reminder_days_before,
                })
            }),
            reminded_ms: HashMap::new(),
        }
    }
}

/// A workflow's signature packet.
#[derive(Debug, Clone)]
pub struct Packet {
    /// `sequential` | `parallel`.
    pub routing: String,
    /// `not_sent` | `sent` | `action_required` | `complete`.
    pub status: String,
    pub provider: String,
    pub require_signed_document_upload: bool,
    pub signers: Vec<Signer>,
    pub scheduled: Option<Scheduled>,
    /// When each role was last reminded.
    pub reminded_ms: HashMap<String, i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Scheduled {
    pub notify_at_ms: i64,
    pub reminder_days: Option<i64>,
}

/// `SignStatusInternalSigner` | `SignStatusExternalSigner`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    pub name: String,
    pub email: String,
    pub role_name: String,
    /// `pending` | `sent` | `viewed` | `signed` | `declined`.
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub is_wet_signed: bool,
    pub delegates: Vec<Delegate>,
    pub routing_order: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    pub name: String,
    pub email: String,
}

impl Packet {
    /// The routing order whose signers are due: the lowest among unsigned signers when routing
    /// is sequential; every order when parallel.
    pub fn due_order(&self) -> Option<i64> {
        (self.routing == "sequential")
            .then(|| {
                self.signers
                    .iter()
                    .filter(|s| s.status != "signed")
                    .map(|s| s.routing_order)
                    .min()
            })
            .flatten()
    }

    /// Out for signature: pending signers whose turn it is get the request.
    pub fn advance(&mut self) {
        let due = self.due_order();
        for s in &mut self.signers {
            if s.status == "pending" && due.is_none_or(|o| o == s.routing_order) {
                s.status = "sent".into();
            }
        }
    }

    /// Back to not sent: collected signatures are void, reminders forgotten.
    pub fn withdraw(&mut self) {
        self.status = "not_sent".into();
        for s in &mut self.signers {
            s.status = "pending".into();
            s.is_wet_signed = false;
        }
        self.reminded_ms.clear();
    }
}
