//! Requests against a small document: parameters, bodies, content types and routing.

use super::*;

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
