//! File handling through the compiled component: multipart uploads (record attachments,
//! workflow documents, signed documents, smart import), binary downloads, the text
//! verification key, and the invalid inputs the connector refuses before any request.

use crate::common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::{Value, json};

const JANE: &str = "jane.doe@acme.example";
const RAJ: &str = "raj.patel@acme.example";
const MARIA: &str = "maria.garcia@acme.example";

/// Seeded records without attachments (`fixtures/emulator/repository.json`).
const IC36: &str = "55628d3e-5643-4ab9-874f-05ca14497fbb";
const IC1002: &str = "b22f8962-20fd-4e25-a835-e2dc7ee69c30";
/// A seeded Sign-step workflow whose email thread has an inbound attachment.
const HOOLI: &str = "c34db4218b39e800af82991d";

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A PDF-looking file of `len` bytes whose body is every byte value, NULs and invalid UTF-8
/// included, in a sequence that does not repeat with a short period.
fn pdf_bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    while bytes.len() < len.saturating_sub(6) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x >> 24) as u8);
    }
    bytes.extend_from_slice(b"%%EOF\n");
    bytes.truncate(len);
    bytes
}

fn file(name: &str, bytes: &[u8]) -> Value {
    json!({ "file_name": name, "content_base64": STANDARD.encode(bytes) })
}

/// The bytes of a download output, checked against its `size`.
fn bytes_of(output: &Value) -> Vec<u8> {
    let bytes = STANDARD
        .decode(output["content_base64"].as_str().expect("content_base64"))
        .expect("standard base64");
    assert_eq!(output["size"], bytes.len(), "size matches the bytes");
    bytes
}

/// The key at the end of a document's `download` path (`…/document/{key}/download`).
fn document_key(document: &Value) -> String {
    let download = document["download"].as_str().expect("download path");
    let mut segments = download.rsplit('/');
    assert_eq!(segments.next(), Some("download"));
    segments.next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_attachment_upload_download_delete() {
    let emu = start_emulator().await;
    let dir = scratch("files-attachments");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    // Over 1 MB, every byte value, not UTF-8.
    let pdf = pdf_bytes(1_500_000 + 7, 1);
    assert!(String::from_utf8(pdf.clone()).is_err());

    // `key` defaults to `signedCopy`; the answer is the record with its attachment.
    admin(&emu, "reset-request-log").await;
    let record = jane
        .execute(
            "create_attachment_on_record",
            &json!({ "id": IC36, "attachment": file("Acme NDA (signed).pdf", &pdf),
                     "metadata": { "filename": "Acme NDA (signed).pdf" } }),
        )
        .await
        .unwrap();
    assert_eq!(record["id"], IC36);
    assert_eq!(
        record["attachments"]["signedCopy"]["filename"],
        "Acme NDA (signed).pdf"
    );
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "POST");
    assert_eq!(
        r["path"],
        format!("/public/api/v1/records/{IC36}/attachments/signedCopy")
    );
    let content_type = r["headers"]["content-type"].as_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    assert_eq!(r["headers"]["x-as-user-email"], JANE);
    assert_eq!(r["status"], 200);

    // Download: exactly the bytes, with the stored name and type.
    admin(&emu, "reset-request-log").await;
    let download = jane
        .execute(
            "retrieve_attachment_on_record",
            &json!({ "id": IC36, "key": "signedCopy" }),
        )
        .await
        .unwrap();
    assert_eq!(download["file_name"], "Acme NDA (signed).pdf");
    assert_eq!(download["content_type"], "application/pdf");
    assert_eq!(download["size"], pdf.len());
    assert!(bytes_of(&download) == pdf, "the downloaded bytes differ");
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "GET");
    assert_eq!(
        r["path"],
        format!("/public/api/v1/records/{IC36}/attachments/signedCopy")
    );
    let listed = jane
        .execute("retrieve_record", &json!({ "id": IC36 }))
        .await
        .unwrap();
    assert!(
        listed["attachments"]["signedCopy"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/records/{IC36}/attachments/signedCopy")),
        "{listed}"
    );

    // The key exists: Ironclad's 400 with its param.
    let e = report(
        jane.execute(
            "create_attachment_on_record",
            &json!({ "id": IC36, "key": "signedCopy", "attachment": file("again.pdf", b"%PDF-again"),
                     "metadata": { "filename": "again.pdf" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("attachmentKey"));
    assert_eq!(
        e["message"],
        "record attachment key 'signedCopy' already exists for record"
    );
    // `metadata` left out (optional in the spec's schema): Ironclad names the missing part.
    let e = report(
        jane.execute(
            "create_attachment_on_record",
            &json!({ "id": IC1002, "attachment": file("x.pdf", b"%PDF-x") }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("metadata"));
    assert_eq!(e["message"], "missing required form-data part 'metadata'");
    // The stored attachment is untouched.
    let again = jane
        .execute("retrieve_attachment_on_record", &json!({ "id": IC36 }))
        .await
        .unwrap();
    assert!(bytes_of(&again) == pdf);

    // Delete, then the download and a second delete are not found.
    admin(&emu, "reset-request-log").await;
    let deleted = jane
        .execute(
            "delete_attachment_on_record",
            &json!({ "id": IC36, "key": "signedCopy" }),
        )
        .await
        .unwrap();
    assert_eq!(deleted, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(
        (r["method"].as_str(), r["status"].as_u64()),
        (Some("DELETE"), Some(204))
    );
    let e = report(
        jane.execute("retrieve_attachment_on_record", &json!({ "id": IC36 }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("signedCopy"), "{e}");
    let e = report(
        jane.execute("delete_attachment_on_record", &json!({ "id": IC36 }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
    let record = jane
        .execute("retrieve_record", &json!({ "id": IC36 }))
        .await
        .unwrap();
    assert!(
        record["attachments"].get("signedCopy").is_none(),
        "{record}"
    );

    // The key is free again: a small text file with an explicit type round-trips.
    let text = "Zeile 1: Grüße\r\nline 2\n".as_bytes();
    jane.execute(
        "create_attachment_on_record",
        &json!({ "id": IC36, "attachment": { "file_name": "notes.txt", "content_type": "text/plain",
                 "content_base64": STANDARD.encode(text) }, "metadata": { "filename": "notes.txt" } }),
    )
    .await
    .unwrap();
    let download = jane
        .execute("retrieve_attachment_on_record", &json!({ "id": IC36 }))
        .await
        .unwrap();
    assert_eq!(download["file_name"], "notes.txt");
    assert!(bytes_of(&download) == text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_files_are_refused_before_any_request() {
    let emu = start_emulator().await;
    let dir = scratch("files-invalid");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    // A first call so the token exists; the log then only holds what the refused calls send.
    jane.execute("retrieve_record", &json!({ "id": IC36 }))
        .await
        .unwrap();
    admin(&emu, "reset-request-log").await;

    let cases = [
        (
            json!({ "id": IC36, "attachment": { "file_name": "a.pdf", "content_base64": "JVBERi0x!" },
                    "metadata": { "filename": "a.pdf" } }),
            "/attachment/content_base64",
            "base64",
        ),
        (
            json!({ "id": IC36, "attachment": { "file_name": "a.pdf", "content_base64": "JVBER-_x" } }),
            "/attachment/content_base64",
            "URL-safe",
        ),
        (
            json!({ "id": IC36, "attachment": { "file_name": "a.pdf", "content_base64": "JVBERi0xL" } }),
            "/attachment/content_base64",
            "length",
        ),
        (
            json!({ "id": IC36, "attachment": { "content_base64": "JVBERi0x" } }),
            "/attachment/file_name",
            "required",
        ),
        (
            json!({ "id": IC36, "metadata": { "filename": "a.pdf" } }),
            "/attachment",
            "required",
        ),
        (
            json!({ "id": IC36, "attachment": "JVBERi0x" }),
            "/attachment",
            "object",
        ),
    ];
    for (input, field, words) in cases {
        let e = report(
            jane.execute("create_attachment_on_record", &input)
                .await
                .unwrap_err(),
        );
        assert_eq!(e["kind"], "invalid_input", "{input}: {e}");
        assert_eq!(e["field"], field, "{input}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(words),
            "{input}: {e}"
        );
    }
    let e = report(
        jane.execute(
            "workflow_upload_signed_document",
            &json!({ "id": HOOLI, "attachment": { "file_name": "s.pdf", "content_base64": "%%%%" } }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/attachment/content_base64"))
    );
    assert!(
        api_calls(&emu).await.is_empty(),
        "nothing was sent for invalid inputs"
    );
}

/// The seeded Mutual NDA template (its `draft` attribute holds documents).
async fn nda_template(session: &host_harness::Session<'_>) -> Value {
    let schemas = session
        .execute("list_workflow_schemas", &json!({}))
        .await
        .unwrap();
    schemas["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Mutual NDA")
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_with_files_uploads_each_document() {
    let emu = start_emulator().await;
    let dir = scratch("files-launch");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let nda = nda_template(&jane).await;
    // Over the emulator's default 2 MB body limit, every byte value.
    let msa = pdf_bytes(2_500_000 + 3, 4);
    let exhibit = b"PK\x03\x04 exhibit bytes \x00\xff".to_vec();
    let body = |draft: Value| {
        json!({ "template": nda["id"], "attributes": {
            "counterpartyName": "Initech LLC", "paperSource": "Counterparty paper", "draft": draft } })
    };
    let part = |name: &str, file_name: &str, bytes: &[u8]| {
        let mut f = file(file_name, bytes);
        f["part"] = json!(name);
        f
    };

    admin(&emu, "reset-request-log").await;
    let launched = jane
        .execute(
            "launch_workflow_with_files",
            &json!({
                "body": body(json!([{ "file": "msa" }, { "file": "exhibit" }])),
                "files": [part("msa", "Initech MSA.pdf", &msa), part("exhibit", "Exhibit A.docx", &exhibit)]
            }),
        )
        .await
        .unwrap();
    // Two requests: the template's launch form (the attributes are checked against it),
    // then the multipart launch, as Jane.
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(
        (log[0]["method"].as_str(), log[0]["path"].as_str()),
        (
            Some("GET"),
            Some(
                format!(
                    "/public/api/v1/workflow-schemas/{}",
                    nda["id"].as_str().unwrap()
                )
                .as_str()
            )
        )
    );
    let r = log[1].clone();
    assert_eq!(
        (
            r["method"].as_str(),
            r["path"].as_str(),
            r["status"].as_u64()
        ),
        (Some("POST"), Some("/public/api/v1/workflows"), Some(200))
    );
    assert!(
        r["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("multipart/form-data; boundary="),
        "{r}"
    );
    assert_eq!(r["headers"]["x-as-user-email"], JANE);

    // The launched workflow lists both documents; each downloads byte for byte.
    assert_eq!(launched["template"], nda["id"]);
    assert_eq!(launched["step"], "Review");
    let id = launched["id"].as_str().unwrap();
    let drafts = launched["attributes"]["draft"].as_array().unwrap();
    assert_eq!(drafts.len(), 2, "{launched}");
    for (document, (name, kind, bytes)) in drafts.iter().zip([
        ("Initech MSA.pdf", "application/pdf", &msa),
        (
            "Exhibit A.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &exhibit,
        ),
    ]) {
        assert_eq!(document["filename"], name, "{document}");
        assert_eq!(document["versionNumber"], 1);
        let key = document_key(document);
        assert_eq!(
            document["download"],
            format!("/public/api/v1/workflows/{id}/document/{key}/download")
        );
        let download = jane
            .execute(
                "retrieve_workflow_document",
                &json!({ "id": id, "key": key }),
            )
            .await
            .unwrap();
        assert_eq!(download["file_name"], name);
        assert_eq!(download["content_type"], kind);
        assert!(bytes_of(&download) == *bytes, "{name}: the bytes differ");
    }
    let again = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(
        again["attributes"]["draft"],
        launched["attributes"]["draft"]
    );

    // Mistakes are refused with their pointer before any request.
    admin(&emu, "reset-request-log").await;
    let two = json!([{ "file": "msa" }, { "file": "exhibit" }]);
    let cases = [
        // A reference to no file.
        (
            json!({ "body": body(two.clone()), "files": [part("msa", "a.pdf", b"%PDF")] }),
            "/body/attributes/draft/1/file",
        ),
        // Bad base64.
        (
            json!({ "body": body(json!([{ "file": "msa" }])),
                    "files": [{ "part": "msa", "file_name": "a.pdf", "content_base64": "JVBERi0x!" }] }),
            "/files/0/content_base64",
        ),
        // The same part twice.
        (
            json!({ "body": body(json!([{ "file": "msa" }])),
                    "files": [part("msa", "a.pdf", b"a"), part("msa", "b.pdf", b"b")] }),
            "/files/1/part",
        ),
        // A file no attribute references.
        (
            json!({ "body": body(json!([{ "file": "msa" }])),
                    "files": [part("msa", "a.pdf", b"a"), part("exhibit", "b.pdf", b"b")] }),
            "/files/1/part",
        ),
    ];
    for (input, field) in cases {
        let e = report(
            jane.execute("launch_workflow_with_files", &input)
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_input"), Some(field)),
            "{e}"
        );
    }
    assert!(
        api_calls(&emu).await.iter().all(|r| r["method"] == "GET"),
        "nothing but launch forms was read for invalid inputs"
    );
    // Ironclad's own refusal (a day February does not have) comes back typed, naming the
    // attribute.
    let mut undated = body(json!([{ "file": "msa" }]));
    undated["attributes"]["agreementDate"] = json!("2026-02-30");
    let e = report(
        jane.execute(
            "launch_workflow_with_files",
            &json!({ "body": undated, "files": [part("msa", "a.pdf", b"%PDF")] }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("agreementDate"));
    assert!(
        contract_violations(&emu).await.is_empty(),
        "every request matched the official spec"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_approve_sign_upload_signed_and_read_the_record() {
    let emu = start_emulator().await;
    let dir = scratch("files-sign");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;

    // Launch a Mutual NDA whose draft comes from a URL.
    let nda = nda_template(&jane).await;
    let launched = jane
        .execute(
            "launch_new_workflow",
            &json!({ "body": { "template": nda["id"], "attributes": {
                "counterpartyName": "Initech LLC",
                "counterpartyEmail": "peter@initech.example",
                "paperSource": "Our paper",
                "draft": [{ "url": "https://files.example/initech-nda.pdf" }] } } }),
        )
        .await
        .unwrap();
    let id = launched["id"].as_str().unwrap().to_string();
    let workflow = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    let drafts = workflow["attributes"]["draft"].as_array().unwrap().clone();
    assert_eq!(drafts.len(), 1, "{workflow}");

    // The launched draft downloads (emulator-generated bytes).
    admin(&emu, "reset-request-log").await;
    let draft_key = document_key(&drafts[0]);
    let draft = jane
        .execute(
            "retrieve_workflow_document",
            &json!({ "id": id, "key": draft_key }),
        )
        .await
        .unwrap();
    assert!(!bytes_of(&draft).is_empty());
    assert!(!draft["file_name"].as_str().unwrap().is_empty(), "{draft}");
    let r = only_request(&emu).await;
    assert_eq!(
        r["path"],
        format!("/public/api/v1/workflows/{id}/document/{draft_key}/download")
    );

    // Add a document to the draft attribute and read it back.
    let redline = pdf_bytes(40_000, 2);
    admin(&emu, "reset-request-log").await;
    let added = jane
        .execute(
            "create_workflow_document",
            &json!({ "id": id, "attributeId": "draft",
                     "attachment": file("Initech NDA redline.pdf", &redline),
                     "metadata": { "comment": { "message": "Counterparty redline" } } }),
        )
        .await
        .unwrap();
    assert_eq!(added, json!({ "status": 204 }));
    let r = only_request(&emu).await;
    assert_eq!(r["method"], "POST");
    assert_eq!(
        r["path"],
        format!("/public/api/v1/workflows/{id}/documents/draft")
    );
    assert!(
        r["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    let workflow = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    let added_doc = workflow["attributes"]["draft"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["filename"] == "Initech NDA redline.pdf")
        .unwrap_or_else(|| panic!("no uploaded draft in {workflow}"))
        .clone();
    let download = jane
        .execute(
            "retrieve_workflow_document",
            &json!({ "id": id, "key": document_key(&added_doc) }),
        )
        .await
        .unwrap();
    assert_eq!(download["file_name"], "Initech NDA redline.pdf");
    assert_eq!(download["content_type"], "application/pdf");
    assert!(bytes_of(&download) == redline);
    // A document needs its metadata (required by the spec): refused before any request.
    let e = report(
        jane.execute(
            "create_workflow_document",
            &json!({ "id": id, "attributeId": "draft", "attachment": file("x.pdf", b"%PDF") }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_input"), Some("/metadata"))
    );

    // Uploading a signed copy before the Sign step is refused by Ironclad.
    let signed = pdf_bytes(1_200_000, 3);
    let e = report(
        jane.execute(
            "workflow_upload_signed_document",
            &json!({ "id": id, "attachment": file("Initech NDA signed.pdf", &signed) }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "upstream", "{e}");
    assert_eq!(e["details"]["status"], 400, "{e}");

    // Approve every approval as the user assigned to its role.
    let approvals = jane
        .execute("list_workflow_approvals", &json!({ "id": id }))
        .await
        .unwrap();
    let roles: Vec<String> = approvals["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!roles.is_empty(), "{approvals}");
    let sessions = [
        (JANE, session_as(&rt, &emu, &dir, JANE).await),
        (RAJ, session_as(&rt, &emu, &dir, RAJ).await),
        (MARIA, session_as(&rt, &emu, &dir, MARIA).await),
    ];
    for role in &roles {
        let assignee = workflow["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == role.as_str())
            .and_then(|r| r["assignees"][0]["email"].as_str())
            .unwrap_or_else(|| panic!("role {role} has no assignee in {workflow}"))
            .to_string();
        let (_, session) = sessions
            .iter()
            .find(|(email, _)| *email == assignee)
            .unwrap_or_else(|| panic!("no session for {assignee}"));
        let done = session
            .execute(
                "update_workflow_approval",
                &json!({ "id": id, "roleId": role, "body": { "status": "approved" } }),
            )
            .await
            .unwrap();
        assert_eq!(done, json!({ "result": true }));
    }
    let signing = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(signing["step"], "Sign", "{signing}");

    jane.execute("send_signature_request", &json!({ "id": id }))
        .await
        .unwrap();

    // Upload the fully signed PDF (no metadata): the workflow completes.
    admin(&emu, "reset-request-log").await;
    let uploaded = jane
        .execute(
            "workflow_upload_signed_document",
            &json!({ "id": id, "attachment": file("Initech NDA signed.pdf", &signed) }),
        )
        .await
        .unwrap();
    assert!(uploaded.is_object(), "{uploaded}");
    let r = only_request(&emu).await;
    assert_eq!(
        (r["method"].as_str(), r["path"].as_str()),
        (
            Some("POST"),
            Some(format!("/public/api/v1/workflows/{id}/upload-signed").as_str())
        )
    );
    assert_eq!(r["status"], 200);

    let archived = jane
        .execute("retrieve_workflow", &json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(archived["step"], "Archive", "{archived}");
    let record_ids = archived["recordIds"].as_array().unwrap();
    assert_eq!(record_ids.len(), 1, "{archived}");
    let record_id = record_ids[0].as_str().unwrap();
    let record = jane
        .execute("retrieve_record", &json!({ "id": record_id }))
        .await
        .unwrap();
    assert_eq!(record["id"], record_id);
    assert!(record["attachments"]["signedCopy"].is_object(), "{record}");
    let copy = jane
        .execute(
            "retrieve_attachment_on_record",
            &json!({ "id": record_id, "key": "signedCopy" }),
        )
        .await
        .unwrap();
    assert_eq!(copy["content_type"], "application/pdf");
    assert!(
        bytes_of(&copy) == signed,
        "the record's signedCopy is the uploaded PDF"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_keys_and_email_attachments_download() {
    let emu = start_emulator().await;
    let dir = scratch("files-exports");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;

    // XLSX export of records: a zip, with the spreadsheet media type and a file name.
    admin(&emu, "reset-request-log").await;
    let xlsx = jane
        .execute(
            "retrieve_xlsx_export_file_of_records",
            &json!({ "types": "mutualNDA", "properties": "counterpartyName,agreementDate" }),
        )
        .await
        .unwrap();
    assert_eq!(xlsx["content_type"], XLSX);
    assert!(
        xlsx["file_name"].as_str().unwrap().ends_with(".xlsx"),
        "{xlsx}"
    );
    assert!(bytes_of(&xlsx).starts_with(b"PK\x03\x04"), "a zip archive");
    let r = only_request(&emu).await;
    assert_eq!(r["path"], "/public/api/v1/records/export");
    let query = r["query"].as_str().unwrap();
    assert!(query.contains("types=mutualNDA"), "{query}");
    assert!(
        query.contains("properties=counterpartyName%2CagreementDate"),
        "{query}"
    );
    assert_eq!(r["headers"]["accept"], "*/*");

    // A data export: not downloadable until done, then CSV.
    let job = jane
        .execute(
            "export",
            &json!({ "body": { "exportType": "workflow_activities", "exportFormat": "CSV" } }),
        )
        .await
        .unwrap();
    let job_id = job["jobId"].as_str().unwrap().to_string();
    let e = report(
        jane.execute("export_job_download", &json!({ "jobId": job_id }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "upstream", "{e}");
    assert!(e["message"].as_str().unwrap().contains("not done"), "{e}");
    let mut status = String::new();
    for _ in 0..5 {
        let polled = jane
            .execute("export_job", &json!({ "jobId": job_id }))
            .await
            .unwrap();
        status = polled["jobStatus"].as_str().unwrap().to_string();
        if status == "done" {
            break;
        }
    }
    assert_eq!(status, "done");
    let csv = jane
        .execute("export_job_download", &json!({ "jobId": job_id }))
        .await
        .unwrap();
    assert_eq!(csv["content_type"], "text/csv");
    assert_eq!(
        csv["file_name"],
        format!("workflow_activities_{job_id}.csv")
    );
    let text = String::from_utf8(bytes_of(&csv)).unwrap();
    assert!(text.lines().count() > 1, "{text}");
    let e = report(
        jane.execute("export_job_download", &json!({ "jobId": "no-such-job" }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["kind"], "upstream", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("verify the job id"),
        "{e}"
    );

    // The webhook verification key: the PEM fixture, as text.
    admin(&emu, "reset-request-log").await;
    let key = jane
        .execute("retrieve_webhook_verification_key", &json!({}))
        .await
        .unwrap();
    let pem = include_str!("../../fixtures/emulator/webhook-verification-key.pem");
    assert_eq!(key["text"], pem);
    assert!(
        key["content_type"]
            .as_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let r = only_request(&emu).await;
    assert_eq!(r["path"], "/public/api/v1/webhooks/verification-key");

    // An inbound email's attachment, by the ids in its `download` path.
    let threads = jane
        .execute(
            "retrieve_email_threads_from_workflow",
            &json!({ "id": HOOLI }),
        )
        .await
        .unwrap();
    let attachment = threads["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["attachments"].as_array().cloned().unwrap_or_default())
        .find(|a| {
            a["download"]
                .as_str()
                .is_some_and(|d| d.contains("/emails/"))
        })
        .expect("an inbound attachment");
    let download = attachment["download"].as_str().unwrap();
    let mut segments = download.rsplit('/');
    let attachment_id = segments.next().unwrap();
    assert_eq!(segments.next(), Some("attachments"));
    let thread_id = segments.next().unwrap();
    let file = jane
        .execute(
            "retrieve_attachment_from_email_thread",
            &json!({ "id": HOOLI, "emailThreadId": thread_id, "attachmentId": attachment_id }),
        )
        .await
        .unwrap();
    assert_eq!(file["file_name"], attachment["filename"]);
    assert!(!bytes_of(&file).is_empty());
    let e = report(
        jane.execute(
            "retrieve_attachment_from_email_thread",
            &json!({ "id": HOOLI, "emailThreadId": thread_id, "attachmentId": "nope" }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e["kind"], "not_found", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_import_creates_records_from_files() {
    let emu = start_emulator().await;
    let dir = scratch("files-import");
    let rt = runtime();
    let jane = session_as(&rt, &emu, &dir, JANE).await;
    let pdf = pdf_bytes(20_000, 4);

    let first = jane
        .execute(
            "create_smart_import_record",
            &json!({ "attachment": file("Vendor MSA.pdf", &pdf), "recordType": "contract" }),
        )
        .await
        .unwrap();
    let record_id = first["recordId"].as_str().unwrap().to_string();
    let import_id = first["importId"].as_str().unwrap().to_string();
    let credits = first["remainingCredits"].as_f64().unwrap();
    let record = jane
        .execute("retrieve_record", &json!({ "id": record_id }))
        .await
        .unwrap();
    assert_eq!(record["type"], "contract");
    let copy = jane
        .execute("retrieve_attachment_on_record", &json!({ "id": record_id }))
        .await
        .unwrap();
    assert!(bytes_of(&copy) == pdf);

    // To the same import, `recordType` left out: the connector sends the spec's default.
    let docx = pdf_bytes(3_000, 5);
    let second = jane
        .execute(
            "create_smart_import_record_to_import",
            &json!({ "importId": import_id, "attachment": file("Side letter.docx", &docx) }),
        )
        .await
        .unwrap();
    assert_eq!(second["importId"], import_id.as_str());
    assert_eq!(second["remainingCredits"].as_f64().unwrap(), credits - 1.0);
    let record = jane
        .execute("retrieve_record", &json!({ "id": second["recordId"] }))
        .await
        .unwrap();
    assert_eq!(record["type"], "imported");
    let copy = jane
        .execute(
            "retrieve_attachment_on_record",
            &json!({ "id": second["recordId"] }),
        )
        .await
        .unwrap();
    assert_eq!(
        copy["content_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(bytes_of(&copy) == docx);

    // Text parts: a new record type by id and display name.
    let third = jane
        .execute(
            "create_smart_import_record",
            &json!({ "attachment": file("Lease.pdf", b"%PDF-1.4 lease"),
                     "newRecordTypeId": "lease", "newRecordTypeDisplayName": "Lease" }),
        )
        .await
        .unwrap();
    let record = jane
        .execute("retrieve_record", &json!({ "id": third["recordId"] }))
        .await
        .unwrap();
    assert_eq!(record["type"], "lease");
    // Ironclad's own checks on text parts come back with their param.
    let e = report(
        jane.execute(
            "create_smart_import_record",
            &json!({ "attachment": file("x.pdf", b"%PDF"), "recordType": "no_such_type" }),
        )
        .await
        .unwrap_err(),
    );
    assert_upstream(&e, 400, "INVALID_PARAM", Some("type"));
}
