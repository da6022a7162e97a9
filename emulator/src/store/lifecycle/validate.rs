//! The fixture's cross-references, checked by the seed tests.

use super::*;

/// Cross-references a hand-edited fixture could get wrong, checked against `seed`.
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
