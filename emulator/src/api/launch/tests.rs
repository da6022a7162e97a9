//! Launch bodies, launch-form validation and multipart launches.

use super::*;
use crate::store::seed::default_seed;

fn nda() -> Template {
    default_seed().template_named("Mutual NDA").unwrap().clone()
}

fn consulting() -> Template {
    default_seed()
        .template_named("Consulting Agreement")
        .unwrap()
        .clone()
}

fn attrs(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn launch_form_rules() {
    let t = nda();
    let ok = validate_attributes(&t, attrs(json!({ "counterpartyName": "Initech", "paperSource": "Our paper", "agreementDate": "2026-01-15" })), false, &Files::Json).unwrap();
    assert_eq!(ok["agreementDate"], "2026-01-15T00:00:00.000Z");
    let e = validate_attributes(
        &t,
        attrs(json!({ "paperSource": "Our paper" })),
        false,
        &Files::Json,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str(), e.param.as_deref()),
        (
            "MISSING_PARAM",
            "missing required attribute",
            Some("counterpartyName")
        )
    );
    let e = validate_attributes(
        &t,
        attrs(json!({ "counterpartyName": "x", "paperSource": "Counterparty paper" })),
        false,
        &Files::Json,
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("draft"));
    let e = validate_attributes(
        &t,
        attrs(json!({ "counterpartyName": "x", "paperSource": "Napkin" })),
        false,
        &Files::Json,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.param.as_deref()),
        ("INVALID_PARAM", Some("paperSource"))
    );
    let e = validate_attributes(
        &t,
        attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "bogus": 1 })),
        false,
        &Files::Json,
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.param.as_deref()),
        ("INVALID_PARAM", Some("bogus"))
    );
    let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "counterpartyEmail": "nope" })), false, &Files::Json).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("counterpartyEmail"));
    let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "draft": [{ "file": "part" }] })), false, &Files::Json).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("draft"));
}

#[test]
fn types_and_defaults() {
    let t = consulting();
    let base = json!({ "counterpartyName": "x", "fee": { "currency": "USD", "amount": 1200.5 } });
    let with_defaults = validate_attributes(&t, attrs(base.clone()), true, &Files::Json).unwrap();
    assert_eq!(with_defaults["termMonths"], 12);
    assert_eq!(with_defaults["isRenewal"], false);
    assert!(
        !validate_attributes(&t, attrs(base.clone()), false, &Files::Json)
            .unwrap()
            .contains_key("termMonths")
    );
    for (k, bad) in [
        ("fee", json!(1200)),
        ("fee", json!({ "currency": "usd", "amount": 1 })),
        ("termMonths", json!("12")),
        ("isRenewal", json!("yes")),
        ("startDate", json!("soon")),
    ] {
        let mut a = attrs(base.clone());
        a.insert(k.into(), bad);
        assert_eq!(
            validate_attributes(&t, a, false, &Files::Json)
                .unwrap_err()
                .param
                .as_deref(),
            Some(k)
        );
    }
}

fn form(parts: &[crate::infra::multipart::PartSpec<'_>]) -> (HeaderMap, Bytes) {
    let (boundary, body) = crate::infra::multipart::encode(parts);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={boundary}")
            .parse()
            .unwrap(),
    );
    (headers, Bytes::from(body))
}

#[test]
fn multipart_launch_stores_the_files_as_documents() {
    let seed = default_seed();
    let t = nda();
    let data = json!({ "template": t.id, "attributes": { "counterpartyName": "Initech",
        "paperSource": "Counterparty paper", "draft": [{ "file": "contract" }, { "file": "exhibit" }] } })
    .to_string();
    let pdf: &[u8] = b"%PDF-1.7\n\x00\xff\r\n--";
    let (headers, body) = form(&[
        ("data", None, Some("application/json"), data.as_bytes()),
        ("contract", Some("MSA.pdf"), Some("application/pdf"), pdf),
        ("exhibit", None, None, b"exhibit"),
    ]);
    let request = LaunchRequest::parse(&headers, &body).unwrap();
    let attributes = validate_attributes(&t, request.attributes, false, &request.files).unwrap();
    let mut data = Data::default();
    let user = &seed.users[0];
    let w = build(&mut data, &seed, &t, attributes, &request.files, user);
    let draft = w.attributes["draft"].as_array().unwrap();
    // A file part without a filename is named after the part.
    let names: Vec<&str> = draft
        .iter()
        .map(|d| d["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["MSA.pdf", "exhibit"]);
    for (document, bytes) in draft.iter().zip([pdf, b"exhibit".as_slice()]) {
        let key = document["key"].as_str().unwrap();
        assert_eq!(
            document["download"],
            format!("/public/api/v1/workflows/{}/document/{key}/download", w.id)
        );
        assert_eq!(document["versionNumber"], 1);
        let blob = &data.files.documents[&(w.id.clone(), key.to_owned())];
        assert_eq!(&blob.data[..], bytes);
    }
}

#[test]
fn multipart_launch_errors() {
    let t = nda();
    let data = |draft: Value| {
        json!({ "template": t.id, "attributes": { "counterpartyName": "x",
                "paperSource": "Our paper", "draft": draft } })
        .to_string()
    };
    let refused = |parts: &[crate::infra::multipart::PartSpec<'_>]| {
        let (headers, body) = form(parts);
        let e = LaunchRequest::parse(&headers, &body)
            .and_then(|r| validate_attributes(&t, r.attributes, false, &r.files))
            .unwrap_err();
        (e.code, e.param.unwrap_or_default(), e.message)
    };
    let file = ("contract", Some("c.pdf"), None, b"%PDF".as_slice());
    // A reference to a part the request lacks.
    let d = data(json!([{ "file": "contract" }, { "file": "gone" }]));
    let (code, param, message) = refused(&[("data", None, None, d.as_bytes()), file]);
    assert_eq!((code, param.as_str()), ("MISSING_PARAM", "draft"));
    assert!(message.contains("form-data part 'gone'"), "{message}");
    // Urls are for JSON launches.
    let d = data(json!([{ "url": "https://x.example/a.pdf" }]));
    let (code, param, _) = refused(&[("data", None, None, d.as_bytes()), file]);
    assert_eq!((code, param.as_str()), ("INVALID_PARAM", "draft"));
    // No data part; data not JSON; a file part twice.
    let (code, param, _) = refused(&[file]);
    assert_eq!((code, param.as_str()), ("MISSING_PARAM", "data"));
    let (code, param, _) = refused(&[("data", None, None, b"{oops"), file]);
    assert_eq!((code, param.as_str()), ("INVALID_PARAM", "data"));
    let d = data(json!([{ "file": "contract" }]));
    let (code, param, _) = refused(&[("data", None, None, d.as_bytes()), file, file]);
    assert_eq!((code, param.as_str()), ("INVALID_PARAM", "contract"));
}
