//! Workflow lifecycle and collaboration actions (approvals, turn history, participants, roles,
//! pause/resume/cancel, revert to review, comments, metadata updates), driven through the
//! compiled component and the wasmtime host against the emulator.

use crate::common;

use common::*;
use host_harness::Session;
use host_harness::emulator::RunningEmulator;
use serde_json::{Value, json};

const JANE: &str = "jane.doe@acme.example";
const RAJ: &str = "raj.patel@acme.example";
const MARIA: &str = "maria.garcia@acme.example";

fn user_id(emu: &RunningEmulator, email: &str) -> String {
    emu.seed().user_by_email(email).unwrap().id.clone()
}

async fn launch_nda(session: &Session<'_>, counterparty: &str) -> Value {
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap();
    let nda = schemas["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Mutual NDA")
        .unwrap()
        .clone();
    session
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": nda["id"], "attributes": {
                "counterpartyName": counterparty, "paperSource": "Our paper" } } }),
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_move_review_to_sign_and_revert_brings_it_back() {
    let emu = start_emulator().await;
    let dir = scratch("wl-approvals");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let raj = session_as(&rt, &emu, &dir, RAJ).await;

    // IC-2 (Consulting Agreement): legal has approved, finance (Raj) is reviewing.
    let approvals = jane
        .execute("list_workflow_approvals", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    let retrieved = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(approvals["workflowId"], retrieved["id"]);
    assert_eq!(approvals["title"], retrieved["title"]);
    let groups = approvals["approvalGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (&groups[0]["status"], &groups[0]["order"]),
        (&json!("approved"), &json!(1))
    );
    assert_eq!(groups[1]["status"], "active");
    assert_eq!(
        groups[1]["reviewers"][0],
        json!({ "role": "finance", "displayName": "Finance", "reviewerType": "role", "status": "pending" })
    );
    let roles: Vec<&str> = approvals["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["legal", "finance"]);

    // Jane is not the finance approver; an unknown role is refused; both name `approval`.
    let e = report(
        jane.execute(
            "update_workflow_approval",
            &json!({ "id": "IC-2", "roleId": "finance", "body": { "status": "approved" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("approval"));
    assert!(
        e["message"].as_str().unwrap().contains("not assigned"),
        "{e}"
    );
    let e = report(
        raj.execute(
            "update_workflow_approval",
            &json!({ "id": "IC-2", "roleId": "ceo", "body": { "status": "approved" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("approval"));
    assert_eq!(e["message"], "This role does not exist in this workflow");

    // Raj approves: the bare boolean comes back wrapped, the workflow moves to Sign.
    admin(&emu, "reset-request-log").await;
    let done = raj
        .execute(
            "update_workflow_approval",
            &json!({ "id": "IC-2", "roleId": "finance", "body": { "status": "approved" } }),
        )
        .await
        .unwrap();
    assert_eq!(done, json!({ "result": true }));
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "PATCH");
    assert_eq!(r["path"], "/public/api/v1/workflows/IC-2/approvals/finance");
    assert_eq!(r["body"], json!({ "status": "approved" }));
    assert_eq!(r["headers"]["x-as-user-email"], RAJ);
    let signing = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(signing["step"], "Sign");
    assert_eq!(signing["approvals"]["state"], "completed");
    assert_eq!(signing["signatures"]["state"], "in_progress");
    assert_eq!(signing["isRevertibleToReview"], true);
    assert!(signing["lastUpdated"].as_str() > retrieved["lastUpdated"].as_str());
    let groups = jane
        .execute("list_workflow_approvals", &json!({ "id": "IC-2" }))
        .await
        .unwrap()["approvalGroups"]
        .clone();
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["status"] == "approved")
    );

    // The approval is in the approval requests, with its approver's details on request.
    admin(&emu, "reset-request-log").await;
    let requests = jane
        .execute(
            "approval_requests",
            &json!({ "id": "IC-2", "actorDetails": true }),
        )
        .await
        .unwrap();
    let r = only_request(&emu).await;
    assert_eq!(r["path"], "/public/api/v1/workflows/IC-2/approval-requests");
    let query = r["query"].as_str().unwrap();
    assert!(query.contains("actorDetails=true"), "{query}");
    let items = requests["items"].as_array().unwrap();
    assert_eq!(requests["count"], 2);
    let finance = items.iter().find(|i| i["role"] == "finance").unwrap();
    assert_eq!(finance["status"], "Approved");
    assert_eq!(finance["roleName"], "Finance");
    assert_eq!(finance["actorId"], user_id(&emu, RAJ).as_str());
    assert_eq!(finance["actorDetails"]["userEmail"], RAJ);
    assert_eq!(finance["approvalType"], "Workflow");
    assert!(finance["duration"].as_i64().unwrap() > 0);
    assert_eq!(finance["aggregateDuration"], finance["duration"]);
    assert!(items.iter().all(|i| i["status"] == "Approved"));

    // Turn history: Jane (legal), then Raj (finance), then the creator for signing.
    let turns = jane
        .execute("turn_history", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    let turns = turns["items"].as_array().unwrap();
    let who: Vec<&str> = turns
        .iter()
        .map(|t| t["turnUserEmail"].as_str().unwrap())
        .collect();
    assert_eq!(who, [JANE, RAJ, MARIA]);
    assert_eq!(turns[1]["turnEndTime"], turns[2]["turnStartTime"]);
    assert!(turns[2].get("turnEndTime").is_none());
    assert_eq!(turns[2]["turnNumber"], 3);
    assert_eq!(turns[2]["turnParty"], "internal");

    // Back to Review: approvals start over (legal first, finance waits).
    admin(&emu, "reset-request-log").await;
    let reverted = jane
        .execute("revert_to_review", &json!({ "id": signing["id"] }))
        .await
        .unwrap();
    assert_eq!(reverted, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "PATCH");
    assert_eq!(
        r["path"],
        format!(
            "/public/api/v1/workflows/{}/revert-to-review",
            signing["id"].as_str().unwrap()
        )
    );
    let back = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(back["step"], "Review");
    assert_eq!(back["approvals"]["state"], "in_progress");
    assert_eq!(back["isRevertibleToReview"], false);
    let e = report(
        raj.execute(
            "update_workflow_approval",
            &json!({ "id": "IC-2", "roleId": "finance", "body": { "status": "approved" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", Some("approval"));
    assert_eq!(
        e["message"],
        "This approval cannot be approved out of order"
    );
    // Reverting again: not in the Sign step any more.
    let e = report(
        jane.execute("revert_to_review", &json!({ "id": "IC-2" }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    assert_eq!(
        e["message"],
        "workflow cannot be reverted to review as it is not in the sign stage"
    );

    // Both approvals again, in order, and it is back in Sign.
    for (session, role) in [(&jane, "legal"), (&raj, "finance")] {
        session
            .execute(
                "update_workflow_approval",
                &json!({ "id": "IC-2", "roleId": role, "body": { "status": "approved" } }),
            )
            .await
            .unwrap();
    }
    let again = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(again["step"], "Sign");
    let requests = jane
        .execute("approval_requests", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(requests["count"], 4, "{requests:#}");
    assert!(requests["items"][0].get("actorDetails").is_none());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_cancel_follow_ironclads_states() {
    let emu = start_emulator().await;
    let dir = scratch("wl-states");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let launched = launch_nda(&jane, "Soylent Corp").await;
    let ic = launched["ironcladId"].as_str().unwrap().to_string();
    let id = launched["id"].as_str().unwrap().to_string();

    admin(&emu, "reset-request-log").await;
    let paused = jane
        .execute(
            "pause_workflow",
            &json!({ "id": ic, "body": { "comment": { "message": "Waiting on procurement." } } }),
        )
        .await
        .unwrap();
    assert_eq!(paused, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(
        (
            r["method"].as_str(),
            r["path"].as_str(),
            r["status"].as_u64()
        ),
        (
            Some("POST"),
            Some(format!("/public/api/v1/workflows/{ic}/pause").as_str()),
            Some(204)
        )
    );
    assert_eq!(
        r["body"],
        json!({ "comment": { "message": "Waiting on procurement." } })
    );
    let w = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(w["status"], "paused");
    assert_eq!(w["step"], "Review");

    // Only active workflows pause; only paused ones resume.
    let e = report(
        jane.execute(
            "pause_workflow",
            &json!({ "id": id, "body": { "comment": { "message": "again" } } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    assert_eq!(
        e["message"],
        "Only active workflows in the review step can be paused."
    );
    // Approvals wait while paused: none is requested.
    let e = report(
        jane.execute(
            "update_workflow_approval",
            &json!({ "id": id, "roleId": "legal", "body": { "status": "approved" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("approval"));
    assert!(
        e["message"].as_str().unwrap().contains("was not requested"),
        "{e}"
    );

    let resumed = jane
        .execute(
            "resume_workflow",
            &json!({ "id": id, "body": { "comment": { "message": "Procurement signed off." } } }),
        )
        .await
        .unwrap();
    assert_eq!(resumed, json!({ "status": 204 }));
    let e = report(
        jane.execute(
            "resume_workflow",
            &json!({ "id": id, "body": { "comment": { "message": "again" } } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    assert_eq!(
        e["message"],
        "Only paused workflows in the review step can be resumed."
    );
    let w = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(w["status"], "active");

    // The pause interrupted Jane's approval request; resuming opened a new one.
    let requests = jane
        .execute("approval_requests", &json!({ "id": id }))
        .await
        .unwrap();
    let statuses: Vec<&str> = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["Workflow Paused", "Pending"]);
    assert!(requests["items"][1].get("endTime").is_none());

    admin(&emu, "reset-request-log").await;
    let cancelled = jane
        .execute(
            "cancel_workflow",
            &json!({ "id": id, "body": { "comment": { "message": "Deal fell through." } } }),
        )
        .await
        .unwrap();
    assert_eq!(cancelled, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(r["path"], format!("/public/api/v1/workflows/{id}/cancel"));
    let w = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(w["status"], "cancelled");
    assert_eq!(w["isCancelled"], true);
    assert_eq!(w["approvals"]["state"], "not_applicable");
    let listed = jane
        .execute(
            "list_workflows",
            &json!({ "status": ["cancelled"], "filter": format!("Equals([id], '{id}')") }),
        )
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let requests = jane
        .execute("approval_requests", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(requests["items"][1]["status"], "Workflow Canceled");

    // Cancelled is final.
    for action in ["cancel_workflow", "pause_workflow", "resume_workflow"] {
        let e = report(
            jane.execute(
                action,
                &json!({ "id": id, "body": { "comment": { "message": "no" } } }),
            )
            .await
            .unwrap_err(),
        );
        assert_upstream(&e, 400, "INVALID_STATE", None);
    }
    // The three comments went to the activity feed, in order, by the acting user.
    let feed = jane
        .execute("list_comments_in_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    let messages: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commentMessage"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Waiting on procurement.",
            "Procurement signed off.",
            "Deal fell through."
        ]
    );
    assert!(
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["author"]["email"] == JANE)
    );

    // A completed workflow cannot be cancelled; a Sign-step one cannot be paused.
    let e = report(
        jane.execute(
            "cancel_workflow",
            &json!({ "id": "IC-9", "body": { "comment": { "message": "x" } } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    let e = report(
        jane.execute(
            "pause_workflow",
            &json!({ "id": "IC-5", "body": { "comment": { "message": "x" } } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    // A body without its comment is Ironclad's 400 naming the param.
    let e = report(
        jane.execute("cancel_workflow", &json!({ "id": "IC-1" }))
            .await
            .unwrap_err(),
    );
    assert_upstream(&e, 400, "MISSING_PARAM", Some("comment"));
    let still = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    assert_eq!(still["status"], "active");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_created_listed_paged_and_retrieved() {
    let emu = start_emulator().await;
    let dir = scratch("wl-comments");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;

    // IC-1 is seeded with three comments, one of them external and one a reply.
    let seeded = jane
        .execute("list_comments_in_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    assert_eq!(seeded["count"], 3);
    let items = seeded["items"].as_array().unwrap();
    assert_eq!(items[1]["author"]["type"], "externalUser");
    assert_eq!(items[1]["isExternal"], true);
    assert_eq!(items[2]["repliedTo"]["item"], items[1]["id"]);
    assert_eq!(items[2]["reactions"][0]["emojiId"], "thumbsup");

    admin(&emu, "reset-request-log").await;
    let created = jane
        .execute(
            "create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": {
                "comment": "<@raj.patel@acme.example> signature block fixed.",
                "repliedToActivityFeedMessageId": items[2]["id"] } }),
        )
        .await
        .unwrap();
    let r = only_request(&emu).await;
    assert_eq!(
        (
            r["method"].as_str(),
            r["path"].as_str(),
            r["status"].as_u64()
        ),
        (
            Some("POST"),
            Some("/public/api/v1/workflows/IC-1/comments"),
            Some(200)
        )
    );
    assert_eq!(
        r["body"]["comment"],
        "<@raj.patel@acme.example> signature block fixed."
    );
    let comment_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(comment_id.len(), 9);
    assert_eq!(
        created["commentMessage"],
        "<@raj.patel@acme.example> signature block fixed."
    );
    assert_eq!(created["author"]["type"], "internalUser");
    assert_eq!(created["author"]["email"], JANE);
    assert_eq!(created["author"]["userId"], user_id(&emu, JANE).as_str());
    assert_eq!(created["mentionedUserDetails"][0]["email"], RAJ);
    assert_eq!(created["addedParticipants"], json!([]));
    assert_eq!(created["repliedTo"]["item"], items[2]["id"]);
    assert_eq!(created["repliedTo"]["itemAuthor"]["email"], JANE);

    let got = jane
        .execute(
            "list_comment_from_workflow",
            &json!({ "id": "b622bd5e03412ace9950751b", "commentId": comment_id }),
        )
        .await
        .unwrap();
    assert_eq!(got, created);

    // The deprecated endpoint answers 204 and still adds the comment.
    admin(&emu, "reset-request-log").await;
    let old = jane
        .execute(
            "deprecated_create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": { "comment": "Legacy clients still post here." } }),
        )
        .await
        .unwrap();
    assert_eq!(old, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(r["path"], "/public/api/v1/workflows/IC-1/comment");
    assert_eq!(r["status"], 204);

    // Paged: five comments, max_items 4 costs one exact-size request and says truncated.
    admin(&emu, "reset-request-log").await;
    let some = jane
        .execute(
            "list_comments_in_workflow",
            &json!({ "id": "IC-1", "max_items": 4 }),
        )
        .await
        .unwrap();
    assert_eq!(some["count"], 5);
    assert_eq!(some["items"].as_array().unwrap().len(), 4);
    assert_eq!(some["truncated"], true);
    let r = only_request(&emu).await;
    let query = r["query"].as_str().unwrap();
    assert!(
        query.contains("page=0") && query.contains("pageSize=4"),
        "{query}"
    );
    let all = jane
        .execute("list_comments_in_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    let last = all["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["commentMessage"], "Legacy clients still post here.");
    assert_eq!(all["truncated"], false);

    // Mentioning a non-participant needs addUsersToWorkflow; then they participate.
    let mention = json!({ "comment": "<@maria.garcia@acme.example> FYI" });
    let e = report(
        jane.execute(
            "create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": mention }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("addUsersToWorkflow"));
    let added = jane
        .execute(
            "create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": { "comment": "<@maria.garcia@acme.example> FYI", "addUsersToWorkflow": true } }),
        )
        .await
        .unwrap();
    assert_eq!(added["addedParticipants"], json!(["Maria Garcia"]));
    let maria = jane
        .execute(
            "list_workflow_participants",
            &json!({ "id": "IC-1", "email": MARIA }),
        )
        .await
        .unwrap();
    assert_eq!(
        maria["items"],
        json!([{ "userId": user_id(&emu, MARIA), "email": MARIA }])
    );

    // Errors: unknown comment, unknown reply target, empty comment, missing input.
    let e = report(
        jane.execute(
            "list_comment_from_workflow",
            &json!({ "id": "IC-1", "commentId": "nosuchone" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("commentId"), "{e}");
    let e = report(
        jane.execute(
            "create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": { "comment": "re", "repliedToActivityFeedMessageId": "nosuchone" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(
        &e,
        400,
        "INVALID_PARAM",
        Some("repliedToActivityFeedMessageId"),
    );
    let e = report(
        jane.execute(
            "create_comment_on_workflow",
            &json!({ "id": "IC-1", "body": { "comment": "  " } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("comment"));
    let count = jane
        .execute("list_comments_in_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap()["count"]
        .clone();
    assert_eq!(count, 6, "failed creates changed nothing");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_roles_and_reassignment() {
    let emu = start_emulator().await;
    let dir = scratch("wl-roles");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;

    // IC-12: creator Jane (also legal), finance Raj.
    admin(&emu, "reset-request-log").await;
    let people = jane
        .execute("list_workflow_participants", &json!({ "id": "IC-12" }))
        .await
        .unwrap();
    assert_eq!(
        people["items"],
        json!([
            { "userId": user_id(&emu, JANE), "email": JANE },
            { "userId": user_id(&emu, RAJ), "email": RAJ },
        ])
    );
    assert_eq!(people["count"], 2);
    let filtered = jane
        .execute(
            "list_workflow_participants",
            &json!({ "id": "IC-12", "email": RAJ }),
        )
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["items"][0]["email"], RAJ);
    let log = api_calls(&emu).await;
    let query = log[1]["query"].as_str().unwrap();
    assert!(query.contains("email=raj.patel%40acme.example"), "{query}");
    let nobody = jane
        .execute(
            "list_workflow_participants",
            &json!({ "id": "IC-12", "email": "nobody@acme.example" }),
        )
        .await
        .unwrap();
    assert_eq!(nobody["count"], 0);

    // Eligible for Finance: Raj and Maria, by the role's display name in the path.
    admin(&emu, "reset-request-log").await;
    let eligible = jane
        .execute(
            "list_workflow_role_eligible_assignees",
            &json!({ "id": "IC-12", "roleName": "Finance" }),
        )
        .await
        .unwrap();
    let emails: Vec<&str> = eligible["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [RAJ, MARIA]);
    assert_eq!(eligible["items"][1]["displayName"], "Maria Garcia");
    let r = only_request(&emu).await;
    assert_eq!(
        r["path"],
        "/public/api/v1/workflows/IC-12/roles/Finance/eligible-assignees"
    );
    // Role names with spaces travel percent-encoded; this one does not exist.
    admin(&emu, "reset-request-log").await;
    let e = report(
        jane.execute(
            "list_workflow_role_eligible_assignees",
            &json!({ "id": "IC-12", "roleName": "Legal Approver" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("roleName"), "{e}");
    let r = only_request(&emu).await;
    assert_eq!(
        r["path"],
        "/public/api/v1/workflows/IC-12/roles/Legal%20Approver/eligible-assignees"
    );

    // Reassign Finance to Maria.
    admin(&emu, "reset-request-log").await;
    let assigned = jane
        .execute(
            "update_workflow_role_assignment",
            &json!({ "id": "IC-12", "roleName": "Finance", "body": { "userId": user_id(&emu, MARIA) } }),
        )
        .await
        .unwrap();
    assert_eq!(
        assigned,
        json!({ "roleName": "Finance", "assignee": {
            "userId": user_id(&emu, MARIA), "displayName": "Maria Garcia", "email": MARIA } })
    );
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "PATCH");
    assert_eq!(r["path"], "/public/api/v1/workflows/IC-12/roles/Finance");
    assert_eq!(r["body"], json!({ "userId": user_id(&emu, MARIA) }));
    let w = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-12" }))
        .await
        .unwrap();
    let finance = w["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "finance")
        .unwrap();
    assert_eq!(finance["assignees"][0]["email"], MARIA);
    let people = jane
        .execute("list_workflow_participants", &json!({ "id": "IC-12" }))
        .await
        .unwrap();
    let emails: Vec<&str> = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [JANE, MARIA], "Raj no longer participates");

    // Jane is not eligible for Finance (403); completed workflows cannot be reassigned (422).
    let e = report(
        jane.execute(
            "update_workflow_role_assignment",
            &json!({ "id": "IC-12", "roleName": "Finance", "body": { "userId": user_id(&emu, JANE) } }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("user is not assignable to the role"),
        "{e}"
    );
    let e = report(
        jane.execute(
            "update_workflow_role_assignment",
            &json!({ "id": "IC-9", "roleName": "Legal", "body": { "userId": user_id(&emu, RAJ) } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 422, "INVALID_STATE", None);
    assert_eq!(
        e["message"],
        "workflow is completed and cannot be reassigned"
    );
    let e = report(
        jane.execute(
            "update_workflow_role_assignment",
            &json!({ "id": "IC-12", "roleName": "Finance", "body": { "userId": "  " } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("userId"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassigning_an_awaited_approver_moves_the_request() {
    let emu = start_emulator().await;
    let dir = scratch("wl-reassign");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let maria = session_as(&rt, &emu, &dir, MARIA).await;

    jane.execute(
        "update_workflow_role_assignment",
        &json!({ "id": "IC-2", "roleName": "finance", "body": { "userId": user_id(&emu, MARIA) } }),
    )
    .await
    .unwrap();
    let requests = jane
        .execute(
            "approval_requests",
            &json!({ "id": "IC-2", "requestType": "user" }),
        )
        .await
        .unwrap();
    let finance: Vec<(&str, &str)> = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "finance")
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["actorId"].as_str().unwrap(),
            )
        })
        .collect();
    let (raj_id, maria_id) = (user_id(&emu, RAJ), user_id(&emu, MARIA));
    assert_eq!(
        finance,
        [
            ("Approver Reassigned", raj_id.as_str()),
            ("Pending", maria_id.as_str())
        ]
    );
    let turns = jane
        .execute("turn_history", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    let last = turns["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["turnUserEmail"], MARIA);
    assert_eq!(last["turnLocation"], "manual change");

    maria
        .execute(
            "update_workflow_approval",
            &json!({ "id": "IC-2", "roleId": "finance", "body": { "status": "approved" } }),
        )
        .await
        .unwrap();
    let w = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-2" }))
        .await
        .unwrap();
    assert_eq!(w["step"], "Sign");
    // requestType=role is accepted and validated.
    let by_role = jane
        .execute(
            "approval_requests",
            &json!({ "id": "IC-2", "requestType": "role" }),
        )
        .await
        .unwrap();
    assert!(by_role["count"].as_u64().unwrap() >= 2);
    let e = report(
        jane.execute(
            "approval_requests",
            &json!({ "id": "IC-2", "requestType": "team" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "invalid_input", "{e}");
    assert_eq!(e["field"], "/requestType");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_updates_in_review_only_and_only_when_something_changes() {
    let emu = start_emulator().await;
    let dir = scratch("wl-metadata");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let before = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();

    admin(&emu, "reset-request-log").await;
    let body = json!({
        "updates": [
            { "action": "set", "path": "counterpartyName", "value": "Globex International" },
            { "action": "set", "path": "agreementDate", "value": "2026-03-01" },
            { "action": "remove", "path": "counterpartyEmail" },
        ],
        "comment": "Counterparty renamed after the merger.",
    });
    let updated = jane
        .execute(
            "update_workflow_metadata",
            &json!({ "id": "IC-1", "body": body }),
        )
        .await
        .unwrap();
    // The workflow and its template's launch form are read to check the updates, then the
    // one write.
    let log = api_calls(&emu).await;
    let reads: Vec<&str> = log[..log.len() - 1]
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        reads,
        [
            "/public/api/v1/workflows/IC-1".to_string(),
            format!(
                "/public/api/v1/workflow-schemas/{}",
                before["template"].as_str().unwrap()
            )
        ]
    );
    let r = log.last().unwrap().clone();
    assert_eq!(r["method"], "PATCH");
    assert_eq!(r["path"], "/public/api/v1/workflows/IC-1/attributes");
    assert_eq!(r["body"], body);
    assert_eq!(updated["id"], before["id"]);
    assert_eq!(
        updated["attributes"]["counterpartyName"],
        "Globex International"
    );
    assert_eq!(
        updated["attributes"]["agreementDate"],
        "2026-03-01T00:00:00.000Z"
    );
    assert!(updated["attributes"].get("counterpartyEmail").is_none());
    assert_eq!(
        updated["attributes"]["draft"], before["attributes"]["draft"],
        "documents untouched"
    );
    assert!(updated["lastUpdated"].as_str() > before["lastUpdated"].as_str());
    let retrieved = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    assert_eq!(retrieved, updated);
    let feed = jane
        .execute("list_comments_in_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    let last = feed["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["commentMessage"],
        "Counterparty renamed after the merger."
    );

    // The same values again: nothing changed.
    let same = json!({ "updates": [{ "action": "set", "path": "counterpartyName", "value": "Globex International" }] });
    let e = report(
        jane.execute(
            "update_workflow_metadata",
            &json!({ "id": "IC-1", "body": same }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("attributes"));
    assert_eq!(
        e["message"],
        "No information changed. The updates provided did not introduce any new values"
    );
    // The template's form is checked before anything is written: unknown attributes,
    // required fields removed, values of the wrong type are named by update.
    admin(&emu, "reset-request-log").await;
    for (updates, field) in [
        (
            json!([{ "action": "set", "path": "counterpartyName", "value": "y" },
                   { "action": "set", "path": "bogus", "value": "x" }]),
            "/body/updates/1/path",
        ),
        (
            json!([{ "action": "remove", "path": "counterpartyName" }]),
            "/body/updates/0/path",
        ),
        (
            json!([{ "action": "set", "path": "paperSource", "value": "Napkin" }]),
            "/body/updates/0/value",
        ),
        (
            json!([{ "action": "set", "path": "counterpartyEmail", "value": "not an email" }]),
            "/body/updates/0/value",
        ),
    ] {
        let e = report(
            jane.execute(
                "update_workflow_metadata",
                &json!({ "id": "IC-1", "body": { "updates": updates } }),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_input"), Some(field)),
            "{updates}: {e}"
        );
    }
    assert!(
        api_calls(&emu).await.iter().all(|r| r["method"] == "GET"),
        "nothing was written"
    );
    // What only Ironclad knows (documents are patched elsewhere) comes back typed.
    let e = report(
        jane.execute(
            "update_workflow_metadata",
            &json!({ "id": "IC-1", "body": { "updates": [{ "action": "remove", "path": "draft" }] } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("attributes"));
    assert_eq!(
        e["message"],
        "Cannot patch document attribute draft; use the workflow document endpoints"
    );
    let unchanged = jane
        .execute("retrieve_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    assert_eq!(unchanged, updated, "refused updates changed nothing");

    // Only in Review.
    let e = report(
        jane.execute(
            "update_workflow_metadata",
            &json!({ "id": "IC-5", "body": { "updates": [
                { "action": "set", "path": "counterpartyName", "value": "z" } ] } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_STATE", None);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_input_is_refused_before_any_request() {
    let emu = start_emulator().await;
    let dir = scratch("wl-input");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    admin(&emu, "reset-request-log").await;
    let cases = [
        ("list_workflow_approvals", json!({}), "/id"),
        (
            "update_workflow_approval",
            json!({ "id": "IC-2", "body": { "status": "approved" } }),
            "/roleId",
        ),
        (
            "update_workflow_approval",
            json!({ "id": "IC-2", "roleId": "finance", "body": {} }),
            "/body/status",
        ),
        (
            "update_workflow_approval",
            json!({ "id": "IC-2", "roleId": "finance", "body": { "status": "rejected" } }),
            "/body/status",
        ),
        ("approval_requests", json!({ "id": "" }), "/id"),
        (
            "turn_history",
            json!({ "id": "IC-1", "max_items": 0 }),
            "/max_items",
        ),
        (
            "list_workflow_participants",
            json!({ "id": "IC-1", "page": 2 }),
            "/page",
        ),
        (
            "update_workflow_role_assignment",
            json!({ "id": "IC-2", "roleName": "Finance" }),
            "/body",
        ),
        (
            "update_workflow_role_assignment",
            json!({ "id": "IC-2", "roleName": "Finance", "body": {} }),
            "/body/userId",
        ),
        (
            "list_workflow_role_eligible_assignees",
            json!({ "id": "IC-2" }),
            "/roleName",
        ),
        ("revert_to_review", json!({}), "/id"),
        (
            "cancel_workflow",
            json!({ "id": "IC-1", "body": {} }),
            "/body/comment",
        ),
        (
            "pause_workflow",
            json!({ "id": "IC-1", "body": { "comment": {} } }),
            "/body/comment/message",
        ),
        (
            "resume_workflow",
            json!({ "id": "IC-8", "body": { "comment": { "message": 7 } } }),
            "/body/comment/message",
        ),
        (
            "create_comment_on_workflow",
            json!({ "id": "IC-1", "body": {} }),
            "/body/comment",
        ),
        (
            "deprecated_create_comment_on_workflow",
            json!({ "id": "IC-1", "body": { "comment": "x", "addUsersToWorkflow": "yes" } }),
            "/body/addUsersToWorkflow",
        ),
        ("list_comments_in_workflow", json!({}), "/id"),
        (
            "list_comment_from_workflow",
            json!({ "id": "IC-1" }),
            "/commentId",
        ),
        (
            "update_workflow_metadata",
            json!({ "id": "IC-1", "body": {} }),
            "/body/updates",
        ),
        (
            "update_workflow_metadata",
            json!({ "id": "IC-1", "body": { "updates": [{ "action": "replace", "path": "x" }] } }),
            "/body/updates/0/action",
        ),
        (
            "update_workflow_metadata",
            json!({ "id": "IC-1", "body": { "updates": [{ "action": "set" }] } }),
            "/body/updates/0/path",
        ),
    ];
    for (action, input, field) in cases {
        let e = report(jane.execute(action, &input).await.unwrap_err());
        assert_eq!(e["kind"], "invalid_input", "{action} {input}: {e}");
        assert_eq!(e["field"], field, "{action} {input}: {e}");
    }
    assert!(api_calls(&emu).await.is_empty(), "nothing was sent");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_workflow_is_not_found_for_every_action() {
    let emu = start_emulator().await;
    let dir = scratch("wl-notfound");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let comment = json!({ "comment": { "message": "x" } });
    let cases = [
        ("list_workflow_approvals", json!({})),
        ("approval_requests", json!({})),
        (
            "update_workflow_approval",
            json!({ "roleId": "legal", "body": { "status": "approved" } }),
        ),
        ("turn_history", json!({})),
        ("list_workflow_participants", json!({})),
        (
            "update_workflow_role_assignment",
            json!({ "roleName": "Legal", "body": { "userId": user_id(&emu, JANE) } }),
        ),
        (
            "list_workflow_role_eligible_assignees",
            json!({ "roleName": "Legal" }),
        ),
        ("revert_to_review", json!({})),
        ("cancel_workflow", json!({ "body": comment })),
        ("pause_workflow", json!({ "body": comment })),
        ("resume_workflow", json!({ "body": comment })),
        (
            "deprecated_create_comment_on_workflow",
            json!({ "body": { "comment": "x" } }),
        ),
        (
            "create_comment_on_workflow",
            json!({ "body": { "comment": "x" } }),
        ),
        ("list_comments_in_workflow", json!({})),
        (
            "list_comment_from_workflow",
            json!({ "commentId": "k3v9qzt1a" }),
        ),
        (
            "update_workflow_metadata",
            json!({ "body": { "updates": [{ "action": "set", "path": "counterpartyName", "value": "x" }] } }),
        ),
    ];
    for (action, mut input) in cases {
        input["id"] = json!("IC-4242");
        let e = report(jane.execute(action, &input).await.unwrap_err());
        assert_eq!(e["kind"], "not_found", "{action}: {e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("workflow does not exist"),
            "{action}: {e}"
        );
    }
    // The seeded comment is there under its own workflow, by id or Ironclad id.
    for id in ["IC-1", "b622bd5e03412ace9950751b"] {
        let c = jane
            .execute(
                "list_comment_from_workflow",
                &json!({ "id": id, "commentId": "k3v9qzt1a" }),
            )
            .await
            .unwrap();
        assert_eq!(c["author"]["email"], RAJ);
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_needs_its_scope() {
    let emu = start_emulator().await;
    let dir = scratch("wl-scopes");
    let rt = runtime();
    let narrow = read_workflows_only(&rt, &emu, &dir).await;
    for (action, input, scope) in [
        (
            "list_workflow_approvals",
            json!({ "id": "IC-1" }),
            "public.workflows.readApprovals",
        ),
        (
            "turn_history",
            json!({ "id": "IC-1" }),
            "public.workflows.readTurnHistory",
        ),
        (
            "pause_workflow",
            json!({ "id": "IC-1", "body": { "comment": { "message": "x" } } }),
            "public.workflows.pauseAndResume",
        ),
        (
            "create_comment_on_workflow",
            json!({ "id": "IC-1", "body": { "comment": "x" } }),
            "public.records.createComments",
        ),
        (
            "update_workflow_metadata",
            json!({ "id": "IC-1", "body": { "updates": [{ "action": "remove", "path": "counterpartyEmail" }] } }),
            "public.workflows.updateWorkflows",
        ),
    ] {
        let e = report(narrow.execute(action, &input).await.unwrap_err());
        assert_eq!(e["kind"], "forbidden", "{action}: {e}");
        assert_eq!(e["details"]["missing_scope"], scope, "{action}: {e}");
    }
    emu.shutdown().await;
}
