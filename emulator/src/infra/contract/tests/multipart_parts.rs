//! Multipart requests: each part judged by its own schema and encoding.

use super::*;

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
