//! Approvals: the flow of approver groups per template, who is awaited, the approval requests
//! opened and closed as the workflow moves, and approving a role.

use super::*;

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
