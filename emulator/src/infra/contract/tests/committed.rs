//! Errata, and the committed and official documents: every erratum still applies, every
//! schema compiles, the official document loads and routes.

use super::*;

#[test]
fn errata_apply_only_where_the_mistake_is() {
    static ERRATA_UNDER_TEST: [Erratum; 5] = [
        Erratum {
            pointer: "/a/required",
            correction: Correction::Replace {
                mistaken: r#"["attribute"]"#,
                corrected: r#"["attributes"]"#,
            },
            why: "typo",
        },
        Erratum {
            pointer: "/b/required",
            correction: Correction::Replace {
                mistaken: r#"["x"]"#,
                corrected: r#"["y"]"#,
            },
            why: "already fixed upstream",
        },
        Erratum {
            pointer: "/missing",
            correction: Correction::Replace {
                mistaken: "1",
                corrected: "2",
            },
            why: "gone",
        },
        Erratum {
            pointer: "/c",
            correction: Correction::OneOfAsAnyOf,
            why: "overlap",
        },
        Erratum {
            pointer: "/d",
            correction: Correction::OneOfAsAnyOf,
            why: "already anyOf upstream",
        },
    ];
    let mut doc = json!({
        "a": { "required": ["attribute"] },
        "b": { "required": ["z"] },
        "c": { "oneOf": [{ "type": "object" }, { "type": "object" }] },
        "d": { "anyOf": [{ "type": "object" }] },
    });
    let applied: Vec<&str> = correct(&mut doc, &ERRATA_UNDER_TEST)
        .iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(applied, ["/a/required", "/c"]);
    assert_eq!(
        doc,
        json!({
            "a": { "required": ["attributes"] },
            "b": { "required": ["z"] },
            "c": { "anyOf": [{ "type": "object" }, { "type": "object" }] },
            "d": { "anyOf": [{ "type": "object" }] },
        })
    );
    // Every shipped erratum is JSON on both sides.
    for e in ERRATA {
        if let Correction::Replace {
            mistaken,
            corrected,
        } = e.correction
        {
            serde_json::from_str::<Value>(mistaken).unwrap();
            serde_json::from_str::<Value>(corrected).unwrap();
        }
    }
    // The mini document has none of the mistakes.
    assert!(mini().errata().is_empty());
}

/// The committed contracts, as the integration tests load them.
fn committed(name: &str) -> Contract {
    Contract::load(format!(
        "{}/../fixtures/contract/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn every_erratum_still_applies_to_a_committed_contract() {
    // Once Ironclad fixes a mistake and `catalog-gen` writes the fixed document, this fails
    // until the entry is removed.
    let applied: Vec<&str> = ["clm-public", "clm-scim", "oauth"]
        .iter()
        .flat_map(|name| committed(name).errata().to_vec())
        .map(|e| e.pointer)
        .collect();
    for e in ERRATA {
        assert!(
            applied.contains(&e.pointer),
            "the erratum at {} no longer applies; remove it from ERRATA",
            e.pointer
        );
    }
    assert_eq!(applied.len(), ERRATA.len(), "an erratum applied twice");
}

#[test]
fn every_schema_of_the_committed_contracts_compiles() {
    for name in ["clm-public", "clm-scim", "oauth"] {
        let c = committed(name);
        assert_eq!(c.uncompilable(), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn official_document_loads_and_routes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/contract/clm-public.json"
    );
    let c = Contract::load(path).unwrap();
    assert_eq!(c.base_path(), "/public/api/v1");
    assert!(c.operation_count() > 70, "{}", c.operation_count());
    assert_eq!(
        c.operation_id("GET", "/public/api/v1/records/metadata"),
        Some("list-all-records-metadata")
    );
    assert_eq!(
        c.operation_id("GET", "/public/api/v1/webhooks/verification-key"),
        Some("retrieve-webhook-verification-key")
    );
    assert_eq!(
        c.operation_id("GET", "/public/api/v1/workflows/async/jobId1"),
        Some("retrieve-asynchronous-workflow-status")
    );
    let email = ("x-as-user-email", "a@b.example");
    assert_eq!(
        judge(
            &c,
            "GET",
            "/public/api/v1/workflows?status=active%2Cpaused&page=0&pageSize=100",
            &[email],
            ""
        ),
        Ok(())
    );
    let launch = r#"{"template":"t1","attributes":{"counterpartyName":"Acme"}}"#;
    assert_eq!(
        judge(
            &c,
            "POST",
            "/public/api/v1/workflows",
            &[email, JSON],
            launch
        ),
        Ok(())
    );
    let v = judge(
        &c,
        "POST",
        "/public/api/v1/workflows",
        &[email, JSON],
        r#"{"template":"t1","attributes":{},"extra":1}"#,
    )
    .unwrap_err();
    assert_eq!(v.operation, "launch-a-new-workflow");
    let v = judge(&c, "GET", "/public/api/v1/workflow-schemas", &[email], "").unwrap_err();
    assert_eq!(v.param, "form");
    // Multipart operations: part names as the spec's schemas declare them.
    let pdf: &[u8] = b"%PDF-1.4\n\x00\xff";
    let file = ("attachment", Some("NDA.pdf"), Some("application/pdf"), pdf);
    let json_part = |name: &'static str, json: &'static str| {
        (name, None, Some("application/json"), json.as_bytes())
    };
    let text_part = |name: &'static str, text: &'static str| (name, None, None, text.as_bytes());
    for (target, parts) in [
        ("/public/api/v1/workflows/w1/upload-signed", vec![file]),
        (
            "/public/api/v1/workflows/w1/upload-signed",
            vec![
                file,
                json_part("metadata", r#"{"signerRoleNames":["Counterparty Signer"]}"#),
            ],
        ),
        (
            "/public/api/v1/workflows/w1/documents/draft",
            vec![
                file,
                json_part("metadata", r#"{"comment":{"message":"v2"},"key":"k1"}"#),
            ],
        ),
        (
            "/public/api/v1/records/IC-1/attachments/signedCopy",
            vec![file, json_part("metadata", r#"{"filename":"NDA.pdf"}"#)],
        ),
        (
            "/public/api/v1/records/smart-import",
            vec![file, text_part("recordType", "imported")],
        ),
        (
            "/public/api/v1/records/smart-import/imp1",
            vec![file, text_part("recordType", "contract")],
        ),
    ] {
        assert_eq!(judge_form(&c, target, &parts), Ok(()), "{target}");
    }
    let v = judge_form(
        &c,
        "/public/api/v1/workflows/w1/documents/draft",
        &[file, json_part("metadata", r#"{"key":"k1"}"#)],
    )
    .unwrap_err();
    assert_eq!(v.operation, "create-a-workflow-document");
    assert_eq!(v.param, "body/metadata");
    let v = judge_form(&c, "/public/api/v1/records/smart-import/imp1", &[file]).unwrap_err();
    assert_eq!(v.param, "body/recordType");
    let v = judge_form(
        &c,
        "/public/api/v1/records/smart-import",
        &[file, text_part("metadata", "{}")],
    )
    .unwrap_err();
    assert_eq!(v.param, "body/metadata");
    // The multipart launch, with the `attribute` typo corrected (ERRATA).
    let applied: Vec<&str> = c.errata().iter().map(|e| e.pointer).collect();
    assert!(applied.contains(&ERRATA[0].pointer));
    let launch = "/public/api/v1/workflows";
    let data = r#"{"template":"t1","attributes":{"counterpartyName":"Acme","draft":[{"file":"contract"}]}}"#;
    let contract = ("contract", Some("MSA.pdf"), Some("application/pdf"), pdf);
    assert_eq!(
        judge_form(&c, launch, &[json_part("data", data), contract]),
        Ok(())
    );
    let v = judge_form(
        &c,
        launch,
        &[json_part("data", r#"{"template":"t1"}"#), contract],
    )
    .unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("launch-a-new-workflow", "body/data")
    );
    assert!(v.message.contains("attributes"), "{}", v.message);
    // The async route declares JSON only.
    let v = judge_form(
        &c,
        "/public/api/v1/workflows/async",
        &[json_part("data", data), contract],
    )
    .unwrap_err();
    assert_eq!(v.param, "content-type");
    let export =
        r#"{"exportType":"workflow_activities","exportConfigs":{"includeCommentDetail":true}}"#;
    assert_eq!(
        judge(&c, "POST", "/public/api/v1/exports", &[JSON], export),
        Ok(())
    );
}
