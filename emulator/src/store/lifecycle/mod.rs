//! The lifecycle area's own state, per workflow id: approvals given, approval requests, turns,
//! activity-feed comments and participants added by comments. Derived from the workflow (and
//! `fixtures/emulator/workflow-lifecycle.json`) the first time a workflow is touched, so
//! launched workflows get the same history a seeded one would.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::store::seed::{Role, RoleAssignee, Seed, User, Workflow};
use crate::{store::ids, store::time};

mod approvals;
mod collaboration;
#[cfg(test)]
mod validate;

pub use approvals::*;
pub use collaboration::*;
#[cfg(test)]
pub use validate::validate;

const FIXTURE: &str = include_str!("../../../../fixtures/emulator/workflow-lifecycle.json");

/// The role every launched workflow gets for its creator; never an approver.
pub const OWNER_ROLE: &str = "owner";

/// `fixtures/emulator/workflow-lifecycle.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    /// Template id → approval groups (role ids) in order; groups run one after the other.
    #[serde(default)]
    pub approval_flows: HashMap<String, Vec<Vec<String>>>,
    /// Role id → emails of the users who may take it; roles not listed accept every user.
    #[serde(default)]
    pub eligible_assignees: HashMap<String, Vec<String>>,
    /// Ironclad id (or id) → seeded history.
    #[serde(default)]
    pub workflows: BTreeMap<String, WorkflowFixture>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowFixture {
    /// Approver role id → when it approved (Review-step workflows only).
    #[serde(default)]
    pub approved: BTreeMap<String, String>,
    #[serde(default)]
    pub comments: Vec<CommentFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentFixture {
    pub id: String,
    /// An internal author (a seed user)…
    #[serde(default)]
    pub author_email: Option<String>,
    /// …or an `ActivityFeedAuthor` as is (external users, integrations).
    #[serde(default)]
    pub author: Option<Value>,
    #[serde(default)]
    pub is_external: bool,
    pub comment_message: String,
    pub timestamp: String,
    #[serde(default)]
    pub replied_to: Option<String>,
    #[serde(default)]
    pub reactions: Vec<ReactionFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactionFixture {
    pub emoji_id: String,
    /// Emails of seed users.
    pub reactors: Vec<String>,
}

pub fn fixture() -> &'static Fixture {
    static PARSED: OnceLock<Fixture> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str(FIXTURE).expect("fixtures/emulator/workflow-lifecycle.json parses")
    })
}

/// How an approval request ended (Title Case, as Ironclad serves them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Paused,
    Canceled,
    Reassigned,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Approved => "Approved",
            Self::Paused => "Workflow Paused",
            Self::Canceled => "Workflow Canceled",
            Self::Reassigned => "Approver Reassigned",
        }
    }
}

/// One approval request: a user able to approve a role from `start_ms` until `end_ms`.
#[derive(Debug, Clone)]
pub struct ApprovalRequest {
    pub role: String,
    pub actor_id: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub status: RequestStatus,
}

/// One turn: whose move it is, from `start_ms` until `end_ms` (open while `None`).
#[derive(Debug, Clone)]
pub struct Turn {
    pub user_id: String,
    pub email: String,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub location: &'static str,
}

/// What this area keeps about one workflow.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Approver role id → when it was approved.
    pub approved: BTreeMap<String, i64>,
    pub requests: Vec<ApprovalRequest>,
    pub turns: Vec<Turn>,
    /// `ActivityFeedComment`s, oldest first.
    pub comments: Vec<Value>,
    /// `(user id, email)` of users added as participants by comments (`addUsersToWorkflow`).
    pub added_participants: Vec<(String, String)>,
}

/// The area's store, one field of `Data`.
#[derive(Debug, Default)]
pub struct LifecycleStore {
    workflows: HashMap<String, Extras>,
}

impl LifecycleStore {
    /// History for every seeded workflow (the rest is derived when first touched).
    pub fn from_seed(seed: &Seed) -> Self {
        let workflows = seed
            .workflows
            .iter()
            .map(|w| (w.id.clone(), Extras::derive(seed, w)))
            .collect();
        Self { workflows }
    }

    /// The extras of `workflow`, derived now if this is the first time it is touched.
    pub fn extras(&mut self, seed: &Seed, workflow: &Workflow) -> &mut Extras {
        self.workflows
            .entry(workflow.id.clone())
            .or_insert_with(|| Extras::derive(seed, workflow))
    }
}

impl Extras {
    /// The history a workflow in its current state would have: replayed on a copy in Review
    /// from its creation (approvals in flow order, fixture approvals for Review workflows),
    /// then ended as its status says (paused, cancelled, completed at `lastUpdated`).
    fn derive(seed: &Seed, workflow: &Workflow) -> Self {
        let created = time::parse(&workflow.created).unwrap_or(0);
        let last = time::parse(&workflow.last_updated)
            .unwrap_or(created)
            .max(created);
        let seeded = seeded_fixture(workflow);
        let mut replay = workflow.clone();
        replay.step = "Review".into();
        let mut extras = Extras::default();
        pass_turn(&replay, &mut extras, created, "launch");
        open_requests(&replay, &mut extras, created);
        let approvals: Vec<(String, i64)> = if workflow.step == "Review" {
            let mut given: Vec<(String, i64)> = seeded
                .map(|f| {
                    f.approved
                        .iter()
                        .filter(|(role, _)| is_approver(workflow, role))
                        .map(|(role, at)| (role.clone(), time::parse(at).unwrap_or(created)))
                        .collect()
                })
                .unwrap_or_default();
            given.sort_by_key(|(_, at)| *at);
            given
        } else {
            let roles: Vec<String> = flow(workflow).into_iter().flatten().collect();
            let n = roles.len() as i64;
            roles
                .into_iter()
                .enumerate()
                .map(|(i, role)| (role, created + (last - created) * (i as i64 + 1) / (n + 1)))
                .collect()
        };
        for (role_id, at) in approvals {
            let actor = role(workflow, &role_id)
                .and_then(|r| r.assignees.first())
                .map(|a| a.user_id.clone())
                .unwrap_or_else(|| workflow.creator.id.clone());
            approve(&replay, &mut extras, &role_id, &actor, at);
        }
        match workflow.status.as_str() {
            "paused" => close_requests(&mut extras, None, RequestStatus::Paused, last),
            "cancelled" => {
                close_requests(&mut extras, None, RequestStatus::Canceled, last);
                close_turn(&mut extras, last);
            }
            "completed" => close_turn(&mut extras, last),
            _ => {}
        }
        if let Some(f) = seeded {
            for c in &f.comments {
                let comment = seeded_comment(seed, &extras, c);
                extras.comments.push(comment);
            }
        }
        extras
    }
}

fn seeded_fixture(workflow: &Workflow) -> Option<&'static WorkflowFixture> {
    let workflows = &fixture().workflows;
    workflows
        .get(&workflow.ironclad_id)
        .or_else(|| workflows.get(&workflow.id))
}

fn seeded_comment(seed: &Seed, extras: &Extras, c: &CommentFixture) -> Value {
    let internal = |email: &str| {
        seed.user_by_email(email)
            .map(|u| internal_author(seed, u))
            .unwrap_or_else(|| json!({ "type": "system", "displayName": "Ironclad" }))
    };
    let author = match (&c.author, &c.author_email) {
        (Some(author), _) => author.clone(),
        (None, Some(email)) => internal(email),
        (None, None) => json!({ "type": "system", "displayName": "Ironclad" }),
    };
    let mentioned: Vec<Value> = mentions(&c.comment_message)
        .iter()
        .filter_map(|who| seed.user_by_email(who).or_else(|| seed.user_by_id(who)))
        .map(|u| json!({ "id": u.id, "displayName": u.display_name(), "email": u.email }))
        .collect();
    let reactions: Vec<Value> = c
        .reactions
        .iter()
        .map(|r| {
            let reactors: Vec<Value> = r.reactors.iter().map(|e| internal(e)).collect();
            json!({ "emojiId": r.emoji_id, "reactors": reactors })
        })
        .collect();
    let mut comment = json!({
        "id": c.id,
        "commentMessage": c.comment_message,
        "timestamp": time::normalize(&c.timestamp).unwrap_or_else(|| c.timestamp.clone()),
        "isExternal": c.is_external,
        "author": author,
        "mentionedUserDetails": mentioned,
        "addedParticipants": [],
        "reactions": reactions,
    });
    if let Some(parent) = c
        .replied_to
        .as_ref()
        .and_then(|id| extras.comments.iter().find(|p| p["id"] == id.as_str()))
    {
        comment["repliedTo"] = json!({ "item": parent["id"], "itemAuthor": parent["author"] });
    }
    comment
}
