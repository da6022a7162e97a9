use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::store::{self, RequestStatus};
use super::{approvals, collaboration, transitions};
use crate::api::launch;
use crate::emulator::Emulator;
use crate::infra::auth::Actor;
use crate::infra::query::Params;
use crate::store::seed::{StepState, default_seed};
use crate::store::tokens::Grant;

fn emulator() -> Emulator {
    Emulator::new(default_seed(), "http://emulator.test")
}

fn actor(emu: &Emulator, email: &str) -> Actor {
    let client = &emu.seed().clients[0];
    Actor {
        user: emu.seed().user_by_email(email).unwrap().clone(),
        scopes: client.scopes.clone(),
        grant: Grant::ClientCredentials,
        client_id: client.client_id.clone(),
    }
}

fn workflow(emu: &Emulator, key: &str) -> crate::store::seed::Workflow {
    let data = emu.data();
    crate::api::workflows::find(&data.workflows, key)
        .unwrap()
        .clone()
}

fn body(v: Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&v).unwrap())
}

const JANE: &str = "jane.doe@acme.example";
const RAJ: &str = "raj.patel@acme.example";

#[test]
fn fixture_is_consistent_with_the_seed() {
    let seed = default_seed();
    store::validate(&seed).unwrap();
    // Stored attributes pass their launch form, so metadata updates validate whole forms.
    for w in &seed.workflows {
        let template = seed.template(&w.template).unwrap();
        let mut attrs = w.attributes.clone();
        if let Some(draft) = attrs.get_mut("draft") {
            *draft = json!([{ "url": "https://emulator.invalid/d.pdf" }]);
        }
        launch::validate_attributes(template, attrs, false, &launch::Files::Json)
            .unwrap_or_else(|e| panic!("{}: {e:?}", w.ironclad_id));
    }
}

#[test]
fn seeded_history_follows_each_workflow_state() {
    let seed = default_seed();
    let mut store = store::LifecycleStore::from_seed(&seed);
    let find = |ic: &str| seed.workflows.iter().find(|w| w.ironclad_id == ic).unwrap();

    // IC-2: legal approved by the fixture, finance now reviewing and holding the turn.
    let w = find("IC-2");
    let x = store.extras(&seed, w).clone();
    let groups = store::groups(w, &x);
    assert_eq!(
        groups.iter().map(|g| g.status).collect::<Vec<_>>(),
        ["approved", "active"]
    );
    let statuses: Vec<(&str, RequestStatus)> = x
        .requests
        .iter()
        .map(|r| (r.role.as_str(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("legal", RequestStatus::Approved),
            ("finance", RequestStatus::Pending)
        ]
    );
    assert_eq!(x.turns.len(), 2);
    assert_eq!(x.turns[1].email, RAJ);
    assert!(x.turns[1].end_ms.is_none() && x.turns[0].end_ms.is_some());
    assert_eq!(x.comments.len(), 1);

    // A Sign-step workflow approved everything between its creation and last update.
    let w = find("IC-5");
    let x = store.extras(&seed, w).clone();
    assert!(store::all_approved(w, &x));
    assert!(
        x.requests
            .iter()
            .all(|r| r.status == RequestStatus::Approved)
    );

    // Paused and cancelled workflows ended their open requests accordingly.
    let paused = store.extras(&seed, find("IC-8")).clone();
    assert_eq!(paused.requests[0].status, RequestStatus::Paused);
    let cancelled = store.extras(&seed, find("IC-22")).clone();
    assert_eq!(cancelled.requests[0].status, RequestStatus::Canceled);
    assert!(cancelled.turns.iter().all(|t| t.end_ms.is_some()));

    // Seeded comments: a reply keeps its parent and author; mentions resolve.
    let ic1 = store.extras(&seed, find("IC-1")).clone();
    let reply = &ic1.comments[2];
    assert_eq!(reply["repliedTo"]["item"], "p0x7mw2rd");
    assert_eq!(reply["repliedTo"]["itemAuthor"]["type"], "externalUser");
    assert_eq!(reply["mentionedUserDetails"][0]["email"], RAJ);
}

#[tokio::test]
async fn last_approval_moves_review_to_sign_and_revert_comes_back() {
    let emu = emulator();
    let raj = actor(&emu, RAJ);
    let jane = actor(&emu, JANE);
    // Jane is not the finance approver.
    let e = approvals::update(
        State(emu.clone()),
        Extension(jane.clone()),
        Path(("IC-2".into(), "finance".into())),
        body(json!({ "status": "approved" })),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code, e.param.as_deref()),
        ("INVALID_PARAM", Some("approval"))
    );
    let ok = approvals::update(
        State(emu.clone()),
        Extension(raj.clone()),
        Path(("IC-2".into(), "finance".into())),
        body(json!({ "status": "approved" })),
    )
    .await
    .unwrap();
    assert_eq!(ok.0, json!(true));
    let w = workflow(&emu, "IC-2");
    assert_eq!(w.step, "Sign");
    assert_eq!(w.approvals, StepState::Completed);
    assert!(w.is_revertible_to_review);

    // Review is over: approving again changes nothing, pausing is refused.
    let e = transitions::pause(
        State(emu.clone()),
        Extension(raj.clone()),
        Path("IC-2".into()),
        body(json!({ "comment": { "message": "hold" } })),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "INVALID_STATE");

    let reverted = transitions::revert_to_review(
        State(emu.clone()),
        Extension(jane.clone()),
        Path(w.id.clone()),
        Bytes::new(),
    )
    .await
    .unwrap();
    assert_eq!(reverted.status(), 204);
    let w = workflow(&emu, "IC-2");
    assert_eq!(w.step, "Review");
    assert!(matches!(w.approvals, StepState::InProgress { .. }));
    let list = approvals::list(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-2".into()),
    )
    .await
    .unwrap()
    .0;
    assert_eq!(list["approvalGroups"][0]["status"], "active");
    assert_eq!(list["approvalGroups"][1]["status"], "pending");

    // Out of order: finance before legal.
    let e = approvals::update(
        State(emu.clone()),
        Extension(raj.clone()),
        Path(("IC-2".into(), "finance".into())),
        body(json!({ "status": "approved" })),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "INVALID_STATE");

    let requests = approvals::requests(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-2".into()),
        Params::parse("actorDetails=true"),
    )
    .await
    .unwrap()
    .0;
    let list = requests["list"].as_array().unwrap();
    let last = list.last().unwrap();
    assert_eq!(
        (last["role"].as_str(), last["status"].as_str()),
        (Some("legal"), Some("Pending"))
    );
    assert_eq!(last["actorDetails"]["userEmail"], JANE);
    assert!(
        list.iter()
            .any(|r| r["role"] == "finance" && r["status"] == "Approved")
    );
}

#[tokio::test]
async fn comments_mentions_and_participants() {
    let emu = emulator();
    let jane = actor(&emu, JANE);
    let maria = "maria.garcia@acme.example";
    // IC-1's participants are Raj (creator, owner) and Jane (legal); Maria is not one.
    let e = collaboration::create_comment(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-1".into()),
        body(json!({ "comment": format!("<@{maria}> please look") })),
    )
    .await
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("addUsersToWorkflow"));
    let c = collaboration::create_comment(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-1".into()),
        body(json!({ "comment": format!("<@{maria}> please look"), "addUsersToWorkflow": true, "repliedToActivityFeedMessageId": "k3v9qzt1a" })),
    )
    .await
    .unwrap()
    .0;
    assert_eq!(c["addedParticipants"], json!(["Maria Garcia"]));
    assert_eq!(c["repliedTo"]["item"], "k3v9qzt1a");
    let people = collaboration::participants(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-1".into()),
        Params::parse(&format!("email={}", maria.replace('@', "%40"))),
    )
    .await
    .unwrap()
    .0;
    assert_eq!(people["count"], 1);
    let got = collaboration::retrieve_comment(
        State(emu.clone()),
        Extension(jane.clone()),
        Path(("IC-1".into(), c["id"].as_str().unwrap().into())),
    )
    .await
    .unwrap()
    .0;
    assert_eq!(got, c);
    let deprecated = collaboration::create_comment_deprecated(
        State(emu.clone()),
        Extension(jane.clone()),
        Path("IC-1".into()),
        body(json!({ "comment": "old style" })),
    )
    .await
    .unwrap()
    .into_response();
    assert_eq!(deprecated.status(), 204);
    let all = collaboration::list_comments(
        State(emu.clone()),
        Extension(jane),
        Path("IC-1".into()),
        Params::parse("pageSize=2&page=2"),
    )
    .await
    .unwrap()
    .0;
    assert_eq!(all["count"], 5);
    assert_eq!(all["list"][0]["commentMessage"], "old style");
}
