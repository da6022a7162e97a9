use super::*;
use axum::http::{HeaderValue, header};

use crate::infra::multipart;

/// A small document in the official one's style, exercising each rule.
const MINI: &str = r##"
openapi: 3.1.0
info: { title: mini, version: '1' }
servers:
- url: https://na1.example.com/public/api/v1
paths:
  /workflows:
    get:
      operationId: list-all-workflows
      parameters:
      - $ref: '#/components/parameters/XAsUserEmail'
      - $ref: '#/components/parameters/QueryPageSize'
      - name: status
        in: query
        schema:
          type: array
          items: { type: string, enum: [active, paused, completed, cancelled] }
      - name: hydrateEntities
        in: query
        schema: { type: boolean }
  /workflow-schemas:
    get:
      operationId: list-all-workflow-schemas
      parameters:
      - name: form
        in: query
        required: true
        schema: { type: string, enum: [launch] }
  /records/{id}:
    get:
      operationId: retrieve-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
    delete:
      operationId: delete-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
  /records/metadata:
    get:
      operationId: list-all-records-metadata
  /webhooks:
    post:
      operationId: create-a-webhook
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                events:
                  type: array
                  minItems: 1
                  items: { $ref: '#/components/schemas/WebhookEvent' }
                targetURL: { type: string, format: https-url }
                note: { type: string, nullable: true }
              required: [events, targetURL]
  /records/{id}/attachments/{key}:
    post:
      operationId: create-an-attachment-on-a-record
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      - { name: key, in: path, required: true, schema: { type: string } }
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: { type: object }
  /workflows/{id}/upload-signed:
    post:
      operationId: workflow-upload-signed-document
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [attachment]
              properties:
                attachment: { type: object, format: binary }
                metadata:
                  type: object
                  properties:
                    signerRoleNames: { type: array, items: { type: string } }
                recordType: { type: string, enum: [imported, contract] }
            encoding:
              attachment: { contentType: application/pdf }
              metadata: { contentType: application/json }
  /workflows/launch-multipart:
    post:
      operationId: launch-multipart
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              additionalProperties: true
              properties:
                data: { type: object, required: [template] }
components:
  schemas:
    WebhookEvent:
      type: string
      enum: ['*', workflow_launched, workflow_completed]
  parameters:
    XAsUserEmail:
      name: x-as-user-email
      in: header
      required: false
      schema: { type: string }
    QueryPageSize:
      name: pageSize
      in: query
      schema: { type: integer, minimum: 1, maximum: 100 }
"##;

fn mini() -> Contract {
    Contract::from_yaml(MINI).unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn judge(
    c: &Contract,
    method: &str,
    target: &str,
    hdrs: &[(&'static str, &str)],
    body: &str,
) -> Result<(), Violation> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    c.check(&RequestParts {
        method,
        path,
        query,
        headers: &headers(hdrs),
        body: body.as_bytes(),
    })
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn valid_requests_pass() {
    let c = mini();
    assert_eq!(c.base_path(), "/public/api/v1");
    for (method, target, body) in [
        (
            "GET",
            "/public/api/v1/workflows?pageSize=100&status=active%2Cpaused&hydrateEntities=false",
            "",
        ),
        (
            "GET",
            "/public/api/v1/workflows?status=active&status=completed",
            "",
        ),
        ("GET", "/public/api/v1/workflow-schemas?form=launch", ""),
        ("GET", "/public/api/v1/records/IC-12", ""),
        ("DELETE", "/public/api/v1/records/metadata", ""),
        (
            "POST",
            "/public/api/v1/webhooks",
            r#"{"events":["*"],"targetURL":"https://h.example/x","note":null}"#,
        ),
        // Outside the API base and exempt routes are not judged.
        ("POST", "/oauth/token", "grant_type=client_credentials"),
        ("GET", "/public/api/v1/oauth/userinfo", ""),
    ] {
        let result = judge(
            &c,
            method,
            target,
            &[JSON, ("x-as-user-email", "a@b.example")],
            body,
        );
        assert_eq!(result, Ok(()), "{method} {target}");
    }
}

#[test]
fn unknown_query_parameter() {
    let v = judge(
        &mini(),
        "GET",
        "/public/api/v1/workflows?pageSize=5&sort=name",
        &[],
        "",
    )
    .unwrap_err();
    assert_eq!(v.operation, "list-all-workflows");
    assert_eq!(v.param, "sort");
    assert!(v.message.contains("not declared"), "{}", v.message);
    assert_eq!(
        v.body(),
        json!({"code": "CONTRACT_VIOLATION", "message": format!("list-all-workflows: {}", v.message), "param": "sort"})
    );
}

#[test]
fn missing_required_parameter() {
    let v = judge(&mini(), "GET", "/public/api/v1/workflow-schemas", &[], "").unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("list-all-workflow-schemas", "form")
    );
    assert!(v.message.contains("required"), "{}", v.message);
}

#[test]
fn bad_enum_integer_and_boolean_values() {
    let c = mini();
    let v = judge(
        &c,
        "GET",
        "/public/api/v1/workflows?status=active,archived",
        &[],
        "",
    )
    .unwrap_err();
    assert_eq!(v.param, "status");
    assert!(v.message.contains("archived"), "{}", v.message);
    let v = judge(
        &c,
        "GET",
        "/public/api/v1/workflow-schemas?form=edit",
        &[],
        "",
    )
    .unwrap_err();
    assert_eq!(v.param, "form");
    let v = judge(&c, "GET", "/public/api/v1/workflows?pageSize=101", &[], "").unwrap_err();
    assert_eq!(v.param, "pageSize");
    let v = judge(&c, "GET", "/public/api/v1/workflows?pageSize=ten", &[], "").unwrap_err();
    assert!(v.message.contains("an integer"), "{}", v.message);
    let v = judge(
        &c,
        "GET",
        "/public/api/v1/workflows?hydrateEntities=yes",
        &[],
        "",
    )
    .unwrap_err();
    assert_eq!(v.param, "hydrateEntities");
    let v = judge(
        &c,
        "GET",
        "/public/api/v1/workflows?pageSize=1&pageSize=2",
        &[],
        "",
    )
    .unwrap_err();
    assert!(v.message.contains("more than once"), "{}", v.message);
}

#[test]
fn body_violating_the_schema() {
    let c = mini();
    let v = judge(
        &c,
        "POST",
        "/public/api/v1/webhooks",
        &[JSON],
        r#"{"events":["nope"],"targetURL":"https://h.example"}"#,
    )
    .unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("create-a-webhook", "body/events/0")
    );
    let v = judge(
        &c,
        "POST",
        "/public/api/v1/webhooks",
        &[JSON],
        r#"{"events":["*"]}"#,
    )
    .unwrap_err();
    assert_eq!(v.param, "body");
    assert!(v.message.contains("targetURL"), "{}", v.message);
    let v = judge(
        &c,
        "POST",
        "/public/api/v1/webhooks",
        &[JSON],
        r#"{"events":[],"targetURL":"x"}"#,
    )
    .unwrap_err();
    assert_eq!(v.param, "body/events");
    let v = judge(&c, "POST", "/public/api/v1/webhooks", &[JSON], "{not json").unwrap_err();
    assert!(v.message.contains("not valid JSON"), "{}", v.message);
    // A body where the operation takes none.
    let v = judge(&c, "GET", "/public/api/v1/records/x", &[JSON], "{}").unwrap_err();
    assert_eq!(v.param, "body");
}

#[test]
fn wrong_content_type() {
    let c = mini();
    let body = r#"{"events":["*"],"targetURL":"https://h.example"}"#;
    let v = judge(
        &c,
        "POST",
        "/public/api/v1/webhooks",
        &[("content-type", "text/plain")],
        body,
    )
    .unwrap_err();
    assert_eq!(v.param, "content-type");
    assert!(v.message.contains("application/json"), "{}", v.message);
    let v = judge(&c, "POST", "/public/api/v1/webhooks", &[], body).unwrap_err();
    assert_eq!(v.param, "content-type");
    assert_eq!(
        judge(
            &c,
            "POST",
            "/public/api/v1/webhooks",
            &[("content-type", "application/json; charset=utf-8")],
            body
        ),
        Ok(())
    );
    // Multipart: the content type only; a required body must be there.
    let target = "/public/api/v1/records/r1/attachments/signedCopy";
    let multipart = ("content-type", "multipart/form-data; boundary=x");
    assert_eq!(judge(&c, "POST", target, &[multipart], "--x--"), Ok(()));
    assert_eq!(
        judge(&c, "POST", target, &[JSON], "{}").unwrap_err().param,
        "content-type"
    );
    assert_eq!(
        judge(&c, "POST", target, &[multipart], "")
            .unwrap_err()
            .param,
        "body"
    );
}

#[test]
fn route_precedence_and_unknown_routes() {
    let c = mini();
    assert_eq!(
        c.operation_id("GET", "/public/api/v1/records/metadata"),
        Some("list-all-records-metadata")
    );
    assert_eq!(
        c.operation_id("GET", "/public/api/v1/records/IC-1"),
        Some("retrieve-a-record")
    );
    // No DELETE on the literal path: the templated one serves it.
    assert_eq!(
        c.operation_id("DELETE", "/public/api/v1/records/metadata"),
        Some("delete-a-record")
    );
    // An undeclared parameter names the literal route's operation.
    let v = judge(&c, "GET", "/public/api/v1/records/metadata?x=1", &[], "").unwrap_err();
    assert_eq!(v.operation, "list-all-records-metadata");
    let v = judge(&c, "GET", "/public/api/v1/nothing", &[], "").unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("GET /public/api/v1/nothing", "path")
    );
    let v = judge(&c, "PUT", "/public/api/v1/workflows", &[], "").unwrap_err();
    assert!(
        v.message.contains("not an operation of this path"),
        "{}",
        v.message
    );
    assert!(judge(&c, "GET", "/public/api/v1/records/", &[], "").is_err());
}

#[test]
fn percent_encoded_path_values_are_decoded() {
    let c = mini();
    assert_eq!(
        judge(
            &c,
            "GET",
            "/public/api/v1/records/Legal%20Approver",
            &[],
            ""
        ),
        Ok(())
    );
}

/// The official document, when the reference material is beside the repository.
/// Judge a multipart request built from `(name, filename, content type, bytes)` parts.
fn judge_form(
    c: &Contract,
    target: &str,
    parts: &[multipart::PartSpec<'_>],
) -> Result<(), Violation> {
    let (boundary, body) = multipart::encode(parts);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    c.check(&RequestParts {
        method: "POST",
        path: target,
        query: None,
        headers: &headers(&[("content-type", &content_type)]),
        body: &body,
    })
}

#[test]
fn multipart_parts() {
    let c = mini();
    let target = "/public/api/v1/workflows/w1/upload-signed";
    let pdf: &[u8] = b"%PDF-1.4\n\xff\x00\r\n--";
    let file = ("attachment", Some("s.pdf"), Some("application/pdf"), pdf);
    let meta = |json: &'static str| ("metadata", None, Some("application/json"), json.as_bytes());
    assert_eq!(judge_form(&c, target, &[file]), Ok(()));
    assert_eq!(
        judge_form(
            &c,
            target,
            &[file, meta(r#"{"signerRoleNames":["Counterparty Signer"]}"#)]
        ),
        Ok(())
    );
    assert_eq!(
        judge_form(&c, target, &[file, ("recordType", None, None, b"imported")]),
        Ok(())
    );
    // A required part is missing.
    let v = judge_form(&c, target, &[meta("{}")]).unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("workflow-upload-signed-document", "body/attachment")
    );
    assert!(
        v.message.contains("required form-data part 'attachment'"),
        "{}",
        v.message
    );
    // An undeclared part.
    let v = judge_form(&c, target, &[file, ("signers", None, None, b"x")]).unwrap_err();
    assert_eq!(v.param, "body/signers");
    assert!(v.message.contains("not declared"), "{}", v.message);
    // JSON content: not JSON, then not matching the part's schema.
    let v = judge_form(&c, target, &[file, meta("{oops")]).unwrap_err();
    assert_eq!(v.param, "body/metadata");
    assert!(v.message.contains("not valid JSON"), "{}", v.message);
    let v = judge_form(&c, target, &[file, meta(r#"{"signerRoleNames":[1]}"#)]).unwrap_err();
    assert_eq!(v.param, "body/metadata/signerRoleNames/0");
    // A text part outside its enum.
    let v = judge_form(&c, target, &[file, ("recordType", None, None, b"lease")]).unwrap_err();
    assert_eq!(v.param, "body/recordType");
    // Open schemas take any extra part; their declared JSON parts are still judged.
    let launch = "/public/api/v1/workflows/launch-multipart";
    assert_eq!(
        judge_form(
            &c,
            launch,
            &[
                meta("{}"),
                ("data", None, None, br#"{"template":"t"}"#),
                file
            ]
        ),
        Ok(())
    );
    assert_eq!(
        judge_form(&c, launch, &[("data", None, None, b"{}")])
            .unwrap_err()
            .param,
        "body/data"
    );
}

#[test]
fn multipart_content_type_and_syntax() {
    let c = mini();
    let target = "/public/api/v1/workflows/w1/upload-signed";
    let v = judge(
        &c,
        "POST",
        target,
        &[("content-type", "multipart/form-data")],
        "--x--",
    )
    .unwrap_err();
    assert_eq!(v.param, "content-type");
    assert!(v.message.contains("boundary"), "{}", v.message);
    let v = judge(
        &c,
        "POST",
        target,
        &[("content-type", "multipart/form-data; boundary=x")],
        "--x\r\nContent-Disposition: form-data; name=\"attachment\"\r\n\r\ntruncated",
    )
    .unwrap_err();
    assert_eq!(v.param, "body");
    assert!(v.message.contains("closing boundary"), "{}", v.message);
    let v = judge(&c, "POST", target, &[JSON], "{}").unwrap_err();
    assert_eq!(v.param, "content-type");
}

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

/// A document declaring answers, for the response rules.
const ANSWERS: &str = r##"
openapi: 3.1.0
info: { title: answers, version: '1' }
servers:
- url: https://na1.example.com/public/api/v1
paths:
  /records/{id}:
    get:
      operationId: retrieve-a-record
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200':
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Record' }
        4XX:
          content:
            application/json:
              schema: { type: object, required: [code] }
    delete:
      operationId: delete-a-record
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '204': {}
  /records:
    get:
      operationId: list-all-records
      responses:
        '200':
          content:
            application/json:
              schema: { type: object }
  /records/export:
    get:
      operationId: retrieve-xlsx-export
      responses:
        '200':
          content:
            '*/*': { schema: { type: string, format: binary } }
components:
  schemas:
    Record:
      type: object
      required: [id, lastUpdated]
      properties:
        id: { type: string }
        lastUpdated: { type: string, format: date-time }
        owner: { type: string, format: email }
"##;

fn answer(
    c: &Contract,
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> Result<(), Violation> {
    let mut headers = HeaderMap::new();
    if let Some(t) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
    }
    c.check_response(
        method,
        path,
        &AnswerParts {
            status,
            headers: &headers,
            body: body.as_bytes(),
        },
    )
}

#[test]
fn answers_are_judged_by_status_content_type_and_schema() {
    let c = Contract::from_yaml(ANSWERS).unwrap();
    let record = "/public/api/v1/records/r1";
    let json = Some("application/json; charset=utf-8");
    let good = r#"{"id":"r1","lastUpdated":"2026-01-02T03:04:05.678Z","owner":"a@b.example"}"#;
    assert_eq!(answer(&c, "GET", record, 200, json, good), Ok(()));
    // Formats are asserted in answers.
    let v = answer(
        &c,
        "GET",
        record,
        200,
        json,
        r#"{"id":"r1","lastUpdated":"yesterday"}"#,
    )
    .unwrap_err();
    assert_eq!(
        (v.operation.as_str(), v.param.as_str()),
        ("retrieve-a-record", "response/200/lastUpdated")
    );
    let v = answer(&c, "GET", record, 200, json, r#"{"id":"r1"}"#).unwrap_err();
    assert!(v.message.contains("lastUpdated"), "{}", v.message);
    // Content type and emptiness.
    let v = answer(&c, "GET", record, 200, Some("text/plain"), good).unwrap_err();
    assert_eq!(v.param, "response/200/content-type");
    let v = answer(&c, "GET", record, 200, None, good).unwrap_err();
    assert_eq!(v.param, "response/200/content-type");
    let v = answer(&c, "GET", record, 200, json, "").unwrap_err();
    assert!(v.message.contains("empty"), "{}", v.message);
    let v = answer(&c, "GET", record, 200, json, "{not json").unwrap_err();
    assert!(v.message.contains("not valid JSON"), "{}", v.message);
    // A class key covers its statuses; its schema is judged.
    assert_eq!(
        answer(&c, "GET", record, 409, json, r#"{"code":"CONFLICT"}"#),
        Ok(())
    );
    assert!(answer(&c, "GET", record, 409, json, r#"{"message":"x"}"#).is_err());
    // 204: nothing, and nothing is all it may carry.
    assert_eq!(answer(&c, "DELETE", record, 204, None, ""), Ok(()));
    let v = answer(&c, "DELETE", record, 204, json, "{}").unwrap_err();
    assert!(v.message.contains("declares no body"), "{}", v.message);
    // Undeclared statuses: errors every operation may give, as a JSON object or nothing.
    let error = r#"{"code":"UNAUTHORIZED","message":"invalid authentication token"}"#;
    assert_eq!(answer(&c, "DELETE", record, 401, json, error), Ok(()));
    assert_eq!(answer(&c, "DELETE", record, 404, json, error), Ok(()));
    assert_eq!(answer(&c, "DELETE", record, 429, None, ""), Ok(()));
    let v = answer(&c, "DELETE", record, 404, Some("text/html"), "<p>gone</p>").unwrap_err();
    assert!(v.message.contains("JSON object"), "{}", v.message);
    let v = answer(&c, "DELETE", record, 200, json, "{}").unwrap_err();
    assert!(v.message.contains("declares 204"), "{}", v.message);
    // 404 is for a resource named in the path; a list has none.
    let list = "/public/api/v1/records";
    assert_eq!(answer(&c, "GET", list, 401, json, error), Ok(()));
    assert!(answer(&c, "GET", list, 404, json, error).is_err());
    // A media range covers the file's own type; its bytes are not JSON.
    let export = "/public/api/v1/records/export";
    assert_eq!(
        answer(&c, "GET", export, 200, Some("application/pdf"), "%PDF"),
        Ok(())
    );
    // Outside the API base, or to no operation: not judged.
    assert_eq!(answer(&c, "GET", "/elsewhere", 418, None, ""), Ok(()));
    assert_eq!(
        answer(&c, "GET", "/public/api/v1/nothing/here", 418, None, ""),
        Ok(())
    );
}

#[test]
fn tolerated_parameters_pass_only_on_their_operation() {
    let doc = r##"
openapi: 3.1.0
info: { title: oauth, version: '1' }
servers:
- url: https://na1.example.com/oauth
paths:
  /authorize:
    get:
      operationId: oauth-authorize
      parameters:
      - { name: client_id, in: query, required: true, schema: { type: string } }
  /userinfo:
    get:
      operationId: oauth-userinfo
"##;
    let c = Contract::from_yaml(doc).unwrap();
    assert_eq!(
        judge(
            &c,
            "GET",
            "/oauth/authorize?client_id=c&code_challenge=x&code_challenge_method=S256",
            &[],
            ""
        ),
        Ok(())
    );
    let v = judge(&c, "GET", "/oauth/authorize?client_id=c&nonce=1", &[], "").unwrap_err();
    assert_eq!(v.param, "nonce");
    let v = judge(&c, "GET", "/oauth/userinfo?code_challenge=x", &[], "").unwrap_err();
    assert_eq!(v.param, "code_challenge");
}
