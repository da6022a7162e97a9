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

const FIXTURE: &str = include_str!("../../../fixtures/emulator/workflow-lifecycle.json");

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

/// Approval groups (role ids present on the workflow) in order.
pub fn flow(workflow: &Workflow) -> Vec<Vec<String>> {
    let on_workflow = |id: &String| workflow.roles.iter().any(|r| &r.id == id);
    match fixture().approval_flows.get(&workflow.template) {
        Some(groups) => groups
            .iter()
            .map(|g| g.iter().filter(|id| on_workflow(id)).cloned().collect())
            .filter(|g: &Vec<String>| !g.is_empty())
            .collect(),
        None => {
            let all: Vec<String> = workflow
                .roles
                .iter()
                .filter(|r| r.id != OWNER_ROLE)
                .map(|r| r.id.clone())
                .collect();
            if all.is_empty() { vec![] } else { vec![all] }
        }
    }
}

pub fn is_approver(workflow: &Workflow, role_id: &str) -> bool {
    flow(workflow).iter().flatten().any(|id| id == role_id)
}

pub fn role<'a>(workflow: &'a Workflow, role_id: &str) -> Option<&'a Role> {
    workflow.roles.iter().find(|r| r.id == role_id)
}

/// `approved` | `active` | `pending` for each group, with each reviewer's approval.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub order: usize,
    pub reviewers: Vec<(String, bool)>,
    pub status: &'static str,
}

pub fn groups(workflow: &Workflow, extras: &Extras) -> Vec<GroupView> {
    let past_review = workflow.step != "Review";
    let mut blocked = false;
    flow(workflow)
        .into_iter()
        .enumerate()
        .map(|(i, group)| {
            let reviewers: Vec<(String, bool)> = group
                .into_iter()
                .map(|id| {
                    let done = past_review || extras.approved.contains_key(&id);
                    (id, done)
                })
                .collect();
            let status = if reviewers.iter().all(|(_, done)| *done) {
                "approved"
            } else if blocked {
                "pending"
            } else {
                blocked = true;
                "active"
            };
            GroupView {
                order: i + 1,
                reviewers,
                status,
            }
        })
        .collect()
}

/// The roles of the group whose turn it is that have not approved yet.
pub fn awaiting(workflow: &Workflow, extras: &Extras) -> Vec<String> {
    groups(workflow, extras)
        .into_iter()
        .find(|g| g.status == "active")
        .map(|g| {
            g.reviewers
                .into_iter()
                .filter(|(_, done)| !done)
                .map(|(id, _)| id)
                .collect()
        })
        .unwrap_or_default()
}

pub fn all_approved(workflow: &Workflow, extras: &Extras) -> bool {
    groups(workflow, extras)
        .iter()
        .all(|g| g.status == "approved")
}

/// Open a `Pending` request for every assignee of every role awaiting approval, unless one
/// is open already.
pub fn open_requests(workflow: &Workflow, extras: &mut Extras, now: i64) {
    for role_id in awaiting(workflow, extras) {
        let Some(role) = role(workflow, &role_id) else {
            continue;
        };
        for a in &role.assignees {
            let open = extras
                .requests
                .iter()
                .any(|r| r.end_ms.is_none() && r.role == role_id && r.actor_id == a.user_id);
            if !open {
                extras.requests.push(ApprovalRequest {
                    role: role_id.clone(),
                    actor_id: a.user_id.clone(),
                    start_ms: now,
                    end_ms: None,
                    status: RequestStatus::Pending,
                });
            }
        }
    }
}

/// End the open requests (of `role`, or all) with `status`.
pub fn close_requests(extras: &mut Extras, role: Option<&str>, status: RequestStatus, now: i64) {
    for r in extras
        .requests
        .iter_mut()
        .filter(|r| r.end_ms.is_none() && role.is_none_or(|id| r.role == id))
    {
        r.end_ms = Some(now);
        r.status = status;
    }
}

/// Record `actor`'s approval of `role_id`, then open the next group's requests. The caller
/// moves the workflow on when every group has approved.
pub fn approve(workflow: &Workflow, extras: &mut Extras, role_id: &str, actor_id: &str, now: i64) {
    extras.approved.insert(role_id.to_owned(), now);
    let mut had_request = false;
    for r in extras
        .requests
        .iter_mut()
        .filter(|r| r.end_ms.is_none() && r.role == role_id)
    {
        r.end_ms = Some(now);
        r.status = RequestStatus::Approved;
        had_request |= r.actor_id == actor_id;
    }
    if !had_request {
        extras.requests.push(ApprovalRequest {
            role: role_id.to_owned(),
            actor_id: actor_id.to_owned(),
            start_ms: now,
            end_ms: Some(now),
            status: RequestStatus::Approved,
        });
    }
    open_requests(workflow, extras, now);
    pass_turn(workflow, extras, now, "approval");
}

/// Whose move it is: in Review, the first assignee of the first role awaiting approval;
/// otherwise (or when nobody is awaited) the workflow's creator.
pub fn turn_holder(workflow: &Workflow, extras: &Extras) -> (String, String) {
    if workflow.step == "Review"
        && let Some(a) = awaiting(workflow, extras)
            .iter()
            .filter_map(|id| role(workflow, id))
            .find_map(|r| r.assignees.first())
    {
        return (a.user_id.clone(), a.email.clone());
    }
    (workflow.creator.id.clone(), workflow.creator.email.clone())
}

/// Hand the turn to whoever holds it now, closing the open turn, if that is someone else.
pub fn pass_turn(workflow: &Workflow, extras: &mut Extras, now: i64, location: &'static str) {
    let (user_id, email) = turn_holder(workflow, extras);
    if let Some(open) = extras.turns.iter_mut().find(|t| t.end_ms.is_none()) {
        if open.user_id == user_id {
            return;
        }
        open.end_ms = Some(now);
    }
    extras.turns.push(Turn {
        user_id,
        email,
        start_ms: now,
        end_ms: None,
        location,
    });
}

pub fn close_turn(extras: &mut Extras, now: i64) {
    for t in extras.turns.iter_mut().filter(|t| t.end_ms.is_none()) {
        t.end_ms = Some(now);
    }
}

/// Creator, role assignees, then users added by comments: user ids, without repeats.
pub fn participants(workflow: &Workflow, extras: &Extras) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |id: &str, email: &str| {
        if !out.iter().any(|(i, _)| i == id) {
            out.push((id.to_owned(), email.to_owned()));
        }
    };
    push(&workflow.creator.id, &workflow.creator.email);
    for a in workflow.roles.iter().flat_map(|r| &r.assignees) {
        push(&a.user_id, &a.email);
    }
    for (id, email) in &extras.added_participants {
        push(id, email);
    }
    out
}

pub fn is_participant(workflow: &Workflow, extras: &Extras, user_id: &str) -> bool {
    participants(workflow, extras)
        .iter()
        .any(|(id, _)| id == user_id)
}

/// Users who may take `role_id` (fixture list, else everyone), in seed order.
pub fn eligible<'a>(seed: &'a Seed, role_id: &str) -> Vec<&'a User> {
    match fixture().eligible_assignees.get(role_id) {
        Some(emails) => seed
            .users
            .iter()
            .filter(|u| emails.iter().any(|e| e.eq_ignore_ascii_case(&u.email)))
            .collect(),
        None => seed.users.iter().collect(),
    }
}

pub fn assignee(user: &User) -> RoleAssignee {
    RoleAssignee {
        user_name: user.display_name(),
        user_id: user.id.clone(),
        email: user.email.clone(),
    }
}

/// `ActivityFeedAuthor` for an internal user.
pub fn internal_author(seed: &Seed, user: &User) -> Value {
    json!({
        "type": "internalUser",
        "companyName": seed.company.name,
        "displayName": user.display_name(),
        "email": user.email,
        "userId": user.id,
    })
}

/// The `<@user_id_or_email>` mentions of a message, in order, without repeats.
pub fn mentions(message: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find("<@") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('>') else {
            break;
        };
        let who = after[..end].trim().to_owned();
        if !who.is_empty() && !out.contains(&who) {
            out.push(who);
        }
        rest = &after[end + 1..];
    }
    out
}

/// A comment id like Ironclad's (`8asdkyrhl`), unused on this workflow.
pub fn comment_id(extras: &Extras) -> String {
    loop {
        let id = ids::slug(9).to_ascii_lowercase();
        if !extras.comments.iter().any(|c| c["id"] == id.as_str()) {
            return id;
        }
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

/// Cross-references a hand-edited fixture could get wrong, checked against `seed`.
#[cfg(test)]
pub fn validate(seed: &Seed) -> anyhow::Result<()> {
    use anyhow::{Context, ensure};
    let f = fixture();
    for (template, groups) in &f.approval_flows {
        ensure!(
            seed.template(template).is_some(),
            "approval flow for unknown template {template}"
        );
        ensure!(
            groups.iter().flatten().all(|r| r != OWNER_ROLE),
            "the {OWNER_ROLE} role cannot approve"
        );
    }
    for emails in f.eligible_assignees.values() {
        for e in emails {
            ensure!(seed.user_by_email(e).is_some(), "unknown eligible user {e}");
        }
    }
    for (key, wf) in &f.workflows {
        let w = seed
            .workflows
            .iter()
            .find(|w| &w.ironclad_id == key || &w.id == key)
            .with_context(|| format!("history for unknown workflow {key}"))?;
        let created = time::parse(&w.created).unwrap_or(0);
        let last = time::parse(&w.last_updated).unwrap_or(0);
        for (role, at) in &wf.approved {
            ensure!(
                w.step == "Review",
                "{key}: approvals are seeded only in Review"
            );
            ensure!(is_approver(w, role), "{key}: {role} is not an approver");
            let at = time::parse(at).with_context(|| format!("{key}: bad time {at}"))?;
            ensure!(
                (created..=last).contains(&at),
                "{key}: {role} approved out of range"
            );
        }
        let mut ids: Vec<&str> = Vec::new();
        for c in &wf.comments {
            ensure!(
                !ids.contains(&c.id.as_str()),
                "{key}: duplicate comment {}",
                c.id
            );
            if let Some(parent) = &c.replied_to {
                ensure!(
                    ids.contains(&parent.as_str()),
                    "{key}: {} replies to a later or unknown comment",
                    c.id
                );
            }
            ids.push(&c.id);
            ensure!(
                c.author.is_some() != c.author_email.is_some(),
                "{key}: {} needs one author",
                c.id
            );
            if let Some(e) = &c.author_email {
                ensure!(seed.user_by_email(e).is_some(), "{key}: unknown author {e}");
            }
            let at = time::parse(&c.timestamp).with_context(|| format!("{key}: bad time"))?;
            ensure!(
                (created..=last).contains(&at),
                "{key}: comment {} out of range",
                c.id
            );
            for who in mentions(&c.comment_message) {
                ensure!(
                    seed.user_by_email(&who)
                        .or_else(|| seed.user_by_id(&who))
                        .is_some(),
                    "{key}: mentions unknown user {who}"
                );
            }
            for r in c.reactions.iter().flat_map(|r| &r.reactors) {
                ensure!(
                    seed.user_by_email(r).is_some(),
                    "{key}: unknown reactor {r}"
                );
            }
        }
    }
    Ok(())
}
