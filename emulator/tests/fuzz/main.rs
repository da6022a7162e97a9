//! Fuzzing the emulator from Ironclad's OpenAPI documents (issue #18): every operation of the
//! three committed contracts (`fixtures/contract/`) gets generated valid and invalid requests,
//! on a fresh emulator with the contracts in force (destructive calls starve no one). No answer
//! is a server error; a request the contract refuses is answered with that 400
//! CONTRACT_VIOLATION; every other answer conforms to the document.
//!
//! Deterministic: a fixed seed mixed with each operation's id. Prints one line per operation
//! and, per document, how many operations reached a success — asserted against a floor, so that
//! the fuzzer cannot quietly degrade into 400s and 404s. `FUZZ_SHOW=<operationId>` prints every
//! exchange of one operation; `FUZZ_SEED=<n>` explores other cases than the suite's.

mod cases;
mod generate;
mod judge;
mod pool;
mod prime;
mod report;
mod spec;
mod tenant;

use ironclad_emulator::Contract;

use cases::Cases;
use generate::Generator;
use judge::Outcome;
use pool::Pool;
use prime::Walker;
use report::Report;
use spec::{Document, Operation};
use tenant::Tenant;

const DOCUMENTS: [&str; 3] = ["clm-public", "clm-scim", "oauth"];
const SEED: u64 = 0x1c1a_d00f_f022;
const VALID_CASES: usize = 20;
const INVALID_CASES: usize = 20;

/// Least share of a document's operations that must succeed (2xx, or a declared redirect) at
/// least once.
const SUCCESS_FLOOR: f64 = 0.7;

/// Least share of generated requests the contract judges as the generator meant them.
const GENERATOR_FLOOR: f64 = 0.8;

#[tokio::test]
async fn every_operation_answers_within_the_contract() {
    let documents = DOCUMENTS.map(Document::load);
    let contracts: Vec<Contract> = documents.iter().map(|d| d.contract.clone()).collect();
    let mut outcomes = Vec::new();
    for document in &documents {
        for operation in &document.operations {
            outcomes.push(fuzz(document, operation, &contracts).await);
        }
    }
    let report = Report { outcomes };
    report.print(&DOCUMENTS);
    assert_eq!(report.failures(), 0, "exchanges failed (listed above)");
    // The generator must mostly mean what it says, or the fuzzer tests refusals only.
    let (valid, invalid) = report.generator();
    for (what, (sent, meant)) in [("valid", valid), ("invalid", invalid)] {
        assert!(
            meant as f64 >= GENERATOR_FLOOR * sent as f64,
            "the contract judged only {meant} of {sent} generated {what} requests as intended"
        );
    }
    for document in DOCUMENTS {
        let (succeeded, all) = report.coverage(document);
        assert!(
            succeeded as f64 >= SUCCESS_FLOOR * all as f64,
            "only {succeeded} of the {all} operations of {document} reached a success"
        );
    }
}

/// One operation on a fresh emulator: survey, walk its path, then the cases.
async fn fuzz(document: &Document, operation: &Operation, contracts: &[Contract]) -> Outcome {
    let tenant = Tenant::new(contracts).await;
    // `FUZZ_SEED=<n>` explores other cases than the suite's.
    let base = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let seed = base ^ fnv1a(&operation.id);
    let credentials = tenant.credentials_for(document, operation);
    let walker = Walker {
        tenant: &tenant,
        doc: document,
        credentials: &credentials,
        seed,
    };
    let mut pool = Pool::from_seed(tenant.emulator.seed());
    walker.survey(&mut pool).await;
    let paths = walker.path_values(operation, &mut pool).await;
    let cases = Cases {
        op: operation,
        base: document.base(),
        paths: &paths,
        credentials: &credentials,
    };
    let mut generator = Generator::new(seed, &pool);
    let mut outcome = Outcome::new(document.name, &operation.id);
    // `FUZZ_SHOW=<operationId>` prints every exchange of that operation.
    let show = std::env::var("FUZZ_SHOW").ok();
    for i in 0..VALID_CASES + INVALID_CASES {
        let (what, mut request) = if i < VALID_CASES {
            ("valid".to_owned(), cases.valid(&mut generator, i))
        } else {
            cases.invalid(&mut generator)
        };
        let mut verdict = request.judged_by(&document.contract);
        // The emulator prints each refused request's violation on stderr, and a violation can
        // quote the body: a refused request goes without real secrets (the suite's output is
        // scanned for them).
        if verdict.is_err() {
            request = request.masked();
            verdict = request.judged_by(&document.contract);
        }
        let before = tenant.answer_violations().len();
        let answer = tenant.send(&request).await;
        let breaches = tenant.answer_violations().split_off(before);
        if show.as_deref() == Some(operation.id.as_str()) {
            println!("{}", judge::exchange(&what, &request, &answer));
        }
        outcome.judge(&what, &request, verdict, &answer, &breaches);
    }
    outcome
}

/// A stable hash of an operation id (the seed of its cases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
