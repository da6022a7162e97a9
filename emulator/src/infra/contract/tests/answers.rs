//! Answers: judged by status, content type and schema; tolerated parameters.

use super::*;

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
