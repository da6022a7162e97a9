//! `describe` copies the generated manifest (`src/manifest/generated.rs`): it parses no
//! schema. Alone in its binary, so no other test's parses are counted in between (the count,
//! `catalog::schemas_parsed`, is the process's; `connector-harness bench --smoke` reports
//! the same figure).

use ironclad_connector::{catalog, describe};

#[test]
fn describe_parses_no_schema() {
    let before = catalog::schemas_parsed();
    let manifest = describe();
    assert!(manifest.actions.len() > 100);
    assert_eq!(catalog::schemas_parsed() - before, 0);
}
