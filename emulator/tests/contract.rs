//! The contract layer on a running emulator: an answer that breaks the contract is kept and
//! fails the test that caused it, when the emulator is dropped.

use std::panic::AssertUnwindSafe;

use ironclad_emulator::{Contract, RunningEmulator};
use serde_json::Value;

use crate::common;

/// A document that promises `GET /workflows` answers 201: the emulator's 200 breaks it.
const WRONG_PROMISE: &str = r##"
openapi: 3.1.0
info: { title: wrong promise, version: '1' }
servers:
- url: https://na1.example.com/public/api/v1
paths:
  /workflows:
    get:
      operationId: list-all-workflows
      parameters:
      - { name: x-as-user-email, in: header, schema: { type: string } }
      - { name: page, in: query, schema: { type: integer } }
      responses:
        '201':
          content:
            application/json:
              schema: { type: object }
"##;

async fn start(contract: Contract) -> RunningEmulator {
    ironclad_emulator::start_with_contract(
        ([127, 0, 0, 1], 0).into(),
        ironclad_emulator::default_seed(),
        contract,
    )
    .await
    .expect("emulator starts")
}

/// `GET /public/api/v1/workflows?page=0` as the seed's client-credentials client.
async fn list_workflows(emu: &RunningEmulator) -> u16 {
    let token = common::cc_token(emu, "demo-client-credentials", None).await;
    reqwest::Client::new()
        .get(format!("{}/public/api/v1/workflows?page=0", emu.base_url()))
        .bearer_auth(token)
        .header("x-as-user-email", &emu.seed().users[0].email)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_broken_answer_is_kept_and_fails_the_test_when_the_emulator_is_dropped() {
    let emu = start(Contract::from_yaml(WRONG_PROMISE).unwrap()).await;
    // The answer itself goes out as the handler gave it.
    assert_eq!(list_workflows(&emu).await, 200);
    let violations = emu.emulator().contract_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0]["side"], "response");
    assert_eq!(violations[0]["operation"], "list-all-workflows");
    assert_eq!(violations[0]["param"], "response/200");
    let dropped = std::panic::catch_unwind(AssertUnwindSafe(|| drop(emu)));
    let message = dropped.expect_err("dropping the emulator must fail the test");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("in breach of Ironclad's OpenAPI contract"),
        "{text}"
    );
    assert!(text.contains("list-all-workflows"), "{text}");
}

#[tokio::test]
async fn conforming_answers_leave_nothing_behind() {
    let committed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/contract/clm-public.json"
    );
    let emu = start(Contract::load(committed).unwrap()).await;
    assert_eq!(list_workflows(&emu).await, 200);
    assert_eq!(emu.emulator().contract_violations(), Vec::<Value>::new());
    // Dropping it is quiet.
    drop(emu);
}
