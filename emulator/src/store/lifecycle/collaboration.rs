//! Turns, participants and comments: whose move it is, who takes part in a workflow (roles,
//! owner, users added by comments), who may be assigned a role, comment authors, mentions and
//! comment ids.

use super::*;

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
