//! File handling over real HTTP: multipart uploads, byte-identical downloads, generated files,
//! the XLSX and data exports, and the webhook verification key.

use ironclad_emulator::RunningEmulator;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;
use common::{Resp, parse, start};

// --- a tiny client ---------------------------------------------------------------------------

/// A file part or a text/JSON part of a form.
struct Part<'a> {
    name: &'a str,
    filename: Option<&'a str>,
    content_type: Option<&'a str>,
    data: Vec<u8>,
}

fn file<'a>(name: &'a str, filename: &'a str, content_type: &'a str, data: &[u8]) -> Part<'a> {
    Part {
        name,
        filename: Some(filename),
        content_type: Some(content_type),
        data: data.to_vec(),
    }
}

fn json_part(name: &str, v: Value) -> Part<'_> {
    Part {
        name,
        filename: None,
        content_type: Some("application/json"),
        data: v.to_string().into_bytes(),
    }
}

fn text_part<'a>(name: &'a str, text: &str) -> Part<'a> {
    Part {
        name,
        filename: None,
        content_type: None,
        data: text.as_bytes().to_vec(),
    }
}

/// `multipart/form-data` with a boundary of our own.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----files-test-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(t) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

struct Api<'e> {
    emu: &'e RunningEmulator,
    token: String,
}

impl Api<'_> {
    async fn send(&self, method: &str, target: &str, body: Option<(String, Vec<u8>)>) -> Resp {
        let mut stream = tokio::net::TcpStream::connect(self.emu.local_addr())
            .await
            .unwrap();
        let mut head = format!(
            "{method} /public/api/v1{target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.emu.local_addr()
        );
        if !self.token.is_empty() {
            head.push_str(&format!("Authorization: Bearer {}\r\n", self.token));
        }
        head.push_str(&format!(
            "X-As-User-Email: {}\r\n",
            self.emu.seed().users[0].email
        ));
        let bytes = match body {
            Some((content_type, bytes)) => {
                head.push_str(&format!("Content-Type: {content_type}\r\n"));
                bytes
            }
            None => Vec::new(),
        };
        head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse(&raw)
    }

    async fn get(&self, target: &str) -> Resp {
        self.send("GET", target, None).await
    }

    async fn delete(&self, target: &str) -> Resp {
        self.send("DELETE", target, None).await
    }

    async fn post_json(&self, target: &str, v: Value) -> Resp {
        self.send(
            "POST",
            target,
            Some(("application/json".into(), v.to_string().into_bytes())),
        )
        .await
    }

    async fn post_form(&self, target: &str, parts: &[Part<'_>]) -> Resp {
        self.send("POST", target, Some(multipart(parts))).await
    }
}

async fn token(emu: &RunningEmulator, client: &str) -> String {
    common::cc_token(emu, client, None).await
}

async fn api(emu: &RunningEmulator) -> Api<'_> {
    Api {
        emu,
        token: token(emu, "demo-client-credentials").await,
    }
}

/// Not UTF-8, every byte value, CRLF and dash runs that look like delimiters, over `len` bytes.
fn binary(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\r\n--\r\n\r\n------files-test\r\n".to_vec();
    v.extend((0..len).map(|i| (i * 31 % 256) as u8));
    v.extend_from_slice(b"\xff\xfe\x00\r\n%%EOF");
    assert!(String::from_utf8(v.clone()).is_err());
    v
}

fn path_of(href: &str) -> &str {
    let at = href.find("/public/api/v1").expect("an API href");
    &href[at + "/public/api/v1".len()..]
}

// --- record attachments ----------------------------------------------------------------------

#[tokio::test]
async fn record_attachment_round_trip_and_errors() {
    let emu = start().await;
    let api = api(&emu).await;
    let created = api
        .post_json(
            "/records",
            json!({ "type": "contract", "name": "Files MSA", "properties": {} }),
        )
        .await;
    assert_eq!(created.status, 200);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let target = format!("/records/{id}/attachments/signedCopy");
    let bytes = binary(1_500_000);
    let meta = || json_part("metadata", json!({ "filename": "NDA - Acme LLC.pdf" }));
    let attach = |data: &[u8]| file("attachment", "upload.bin", "application/octet-stream", data);

    let r = api.post_form(&target, &[meta(), attach(&bytes)]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let record = r.json();
    let a = &record["attachments"]["signedCopy"];
    assert_eq!(a["filename"], "NDA - Acme LLC.pdf");
    assert_eq!(a["contentType"], "application/pdf");
    let href = a["href"].as_str().unwrap().to_owned();
    assert!(
        href.ends_with(&format!(
            "/public/api/v1/records/{id}/attachments/signedCopy"
        )),
        "{href}"
    );
    assert_eq!(
        api.get(&format!("/records/{id}")).await.json()["attachments"],
        record["attachments"]
    );

    let down = api.get(path_of(&href)).await;
    assert_eq!(down.status, 200);
    assert_eq!(down.header("content-type"), Some("application/pdf"));
    assert_eq!(
        down.header("content-disposition"),
        Some("attachment; filename=\"NDA - Acme LLC.pdf\"")
    );
    assert!(down.body == bytes, "the download is byte-identical");

    let again = api.post_form(&target, &[meta(), attach(b"x")]).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.error(),
        (
            "INVALID_PARAM".into(),
            "record attachment key 'signedCopy' already exists for record".into(),
            Some("attachmentKey".into())
        )
    );

    let gone = api.delete(&target).await;
    assert_eq!(gone.status, 204);
    assert!(gone.body.is_empty());
    let missing = api.get(&target).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.error().1,
        format!("couldn't find an attachment matching the key signedCopy for record with id {id}")
    );
    assert_eq!(api.delete(&target).await.status, 404);
    assert_eq!(
        api.get(&format!("/records/{id}")).await.json()["attachments"],
        json!({})
    );

    // The form's parts, one at a time.
    let r = api.post_form(&target, &[attach(b"x")]).await;
    assert_eq!(
        (r.status, r.error()),
        (
            400,
            (
                "INVALID_PARAM".into(),
                "missing required form-data part 'metadata'".into(),
                Some("metadata".into())
            )
        )
    );
    let r = api.post_form(&target, &[meta()]).await;
    assert_eq!(r.error().1, "missing required form-data part 'attachment'");
    assert_eq!(r.error().2.as_deref(), Some("attachment"));
    let r = api
        .post_form(
            &target,
            &[
                json_part("metadata", json!({ "filename": "NDA - Acme LLC" })),
                attach(b"x"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error().2.as_deref(), Some("metadata.filename"));
    assert!(r.error().1.starts_with(
        "filename \"NDA - Acme LLC\" does not have an accepted extension. Only the following extensions are allowed: .adoc,"
    ));
    let r = api
        .post_form(&target, &[text_part("metadata", "not json"), attach(b"x")])
        .await;
    assert_eq!(r.error().2.as_deref(), Some("metadata"));
    let r = api
        .post_form(
            &format!("/records/{id}/attachments/someRandomKey"),
            &[meta(), attach(b"x")],
        )
        .await;
    assert_eq!(
        r.error(),
        (
            "INVALID_PARAM".into(),
            "unknown record attachment key 'someRandomKey'".into(),
            Some("attachmentKey".into())
        )
    );
    let r = api
        .post_form(
            "/records/IC-99999/attachments/signedCopy",
            &[meta(), attach(b"x")],
        )
        .await;
    assert_eq!(r.status, 400, "documented as a 400");
    assert_eq!(
        (r.error().0.as_str(), r.error().1.as_str()),
        (
            "NOT_FOUND",
            "couldn't find a record matching the id IC-99999"
        )
    );
    let r = api
        .send(
            "POST",
            &target,
            Some(("application/json".into(), b"{}".to_vec())),
        )
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("content-type"))
    );
    let r = api
        .send(
            "POST",
            &target,
            Some((
                "multipart/form-data; boundary=abc".into(),
                b"--abc\r\nContent-Disposition: form-data; name=\"attachment\"\r\n\r\ncut".to_vec(),
            )),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().1.contains("closing boundary"), "{:?}", r.error());

    // Scopes.
    let limited = Api {
        emu: &emu,
        token: token(&emu, "limited-scopes").await,
    };
    let r = limited.post_form(&target, &[meta(), attach(b"x")]).await;
    assert_eq!(
        (r.status, r.error().1.as_str()),
        (
            403,
            "token is missing required scope public.records.createAttachments"
        )
    );
    assert_eq!(limited.get(&target).await.status, 403);
    assert_eq!(limited.delete(&target).await.status, 403);
    emu.shutdown().await;
}

#[tokio::test]
async fn seeded_attachments_download_as_generated_pdfs() {
    let emu = start().await;
    let api = api(&emu).await;
    let record = api.get("/records/IC-9").await.json();
    let href = record["attachments"]["signedCopy"]["href"]
        .as_str()
        .unwrap();
    let r = api.get(path_of(href)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"%PDF-1.4"));
    assert!(r.body.ends_with(b"%%EOF\n"));
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"Consulting Agreement with City Power & Light - signed.pdf\"")
    );
    assert_eq!(api.get(path_of(href)).await.body, r.body, "stable bytes");
    emu.shutdown().await;
}

// --- workflow documents ------------------------------------------------------------------------

#[tokio::test]
async fn upload_signed_completes_the_workflow_and_creates_its_record() {
    let emu = start().await;
    let api = api(&emu).await;
    // IC-5 is in Sign, its packet not sent yet.
    let bytes = binary(1_200_000);
    let r = api
        .post_form(
            "/workflows/IC-5/upload-signed",
            &[file(
                "attachment",
                "Hooli NDA - signed.pdf",
                "application/pdf",
                &bytes,
            )],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.json();
    assert_eq!(out["workflowId"], "c34db4218b39e800af82991d");
    assert_eq!(out["title"], "Mutual NDA with Hooli Inc.");
    let signed = &out["signed"];
    assert_eq!(signed["filename"], "Hooli NDA - signed.pdf");
    assert_eq!(signed["versionNumber"], 1);
    assert_eq!(
        signed["lastModified"]["author"]["email"],
        "jane.doe@acme.example"
    );
    let download = signed["download"].as_str().unwrap();
    assert_eq!(
        download,
        format!(
            "/public/api/v1/workflows/c34db4218b39e800af82991d/document/{}/download",
            signed["key"].as_str().unwrap()
        )
    );
    let doc = api.get(path_of(download)).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/pdf"));
    assert!(doc.body == bytes);

    let w = api.get("/workflows/IC-5").await.json();
    assert_eq!(w["step"], "Archive");
    assert_eq!(w["attributes"]["signed"][0], *signed);
    let record_ids = w["recordIds"].as_array().unwrap();
    assert_eq!(record_ids.len(), 1);
    let record_id = record_ids[0].as_str().unwrap();
    let record = api.get(&format!("/records/{record_id}")).await;
    assert_eq!(record.status, 200);
    let record = record.json();
    assert_eq!(record["type"], "mutualNDA");
    assert_eq!(record["name"], "Mutual NDA with Hooli Inc.");
    assert_eq!(
        record["source"],
        json!({ "type": "workflow", "workflowId": "workflow:c34db4218b39e800af82991d" })
    );
    assert_eq!(
        record["properties"]["counterpartyName"]["value"],
        "Hooli Inc."
    );
    let copy = &record["attachments"]["signedCopy"];
    assert_eq!(copy["filename"], "Hooli NDA - signed.pdf");
    let copy = api.get(path_of(copy["href"].as_str().unwrap())).await;
    assert_eq!(copy.status, 200);
    assert!(copy.body == bytes, "the record's signedCopy is the upload");

    // Out of Sign now.
    let r = api
        .post_form(
            "/workflows/IC-5/upload-signed",
            &[file("attachment", "again.pdf", "application/pdf", b"%PDF")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error().0, "INVALID_STATE");
    assert!(
        r.error().1.contains("currently at the Archive step"),
        "{:?}",
        r.error()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn upload_signed_partially_and_errors() {
    let emu = start().await;
    let api = api(&emu).await;
    // IC-10's packet is out for signature with a counterparty and a company signer.
    let target = "/workflows/213b14890a64d86c102c230f/upload-signed";
    let pdf = binary(10);
    let attach = || file("attachment", "partial.pdf", "application/pdf", &pdf);
    let r = api
        .post_form(
            target,
            &[
                attach(),
                json_part(
                    "metadata",
                    json!({ "signerRoleNames": ["Counterparty Signer"] }),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.json();
    assert!(out.get("signed").is_none());
    let partial = &out["partiallySigned"];
    assert_eq!(partial["filename"], "partial.pdf");
    let statuses: Vec<(&str, &str)> = out["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["roleName"].as_str().unwrap(),
                s["signatureStatus"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses[0], ("Counterparty Signer", "signed"));
    assert_ne!(statuses[1].1, "signed");
    let w = api.get("/workflows/IC-10").await.json();
    assert_eq!(w["step"], "Sign");
    assert_eq!(w["recordIds"], json!([]));
    let doc = api
        .get(path_of(partial["download"].as_str().unwrap()))
        .await;
    assert!(doc.body == pdf);

    let r = api
        .post_form(
            target,
            &[
                attach(),
                json_part("metadata", json!({ "signerRoleNames": ["Witness"] })),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.error().0.as_str(), r.error().1.as_str()),
        (
            400,
            "INVALID_PARAM",
            "The signer field contains invalid signers, please check."
        )
    );
    let r = api
        .post_form(target, &[json_part("metadata", json!({}))])
        .await;
    assert_eq!(
        r.error(),
        (
            "MISSING_PARAM".into(),
            "missing required form-data part 'attachment'".into(),
            Some("attachments".into())
        )
    );
    let r = api
        .post_form(
            target,
            &[file("attachment", "x.docx", "application/msword", b"x")],
        )
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("attachment"))
    );
    let r = api
        .post_form("/workflows/IC-1/upload-signed", &[attach()])
        .await;
    assert_eq!((r.status, r.error().0.as_str()), (400, "INVALID_STATE"));
    let r = api
        .post_form(
            "/workflows/0123456789abcdef01234567/upload-signed",
            &[attach()],
        )
        .await;
    assert_eq!(
        (r.status, r.error().1.as_str()),
        (404, "workflow does not exist")
    );
    // The rest of the signers sign: the workflow completes.
    let r = api
        .post_form(
            target,
            &[
                attach(),
                json_part("metadata", json!({ "signerRoleNames": ["Company Signer"] })),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["signed"].is_object());
    assert_eq!(api.get("/workflows/IC-10").await.json()["step"], "Archive");
    emu.shutdown().await;
}

#[tokio::test]
async fn workflow_documents_upload_version_and_download() {
    let emu = start().await;
    let api = api(&emu).await;
    // IC-1 (Review) has one draft, dmCwvkwp, known only by name: generated bytes.
    let seeded = api.get("/workflows/IC-1/document/dmCwvkwp/download").await;
    assert_eq!(seeded.status, 200);
    assert!(seeded.body.starts_with(b"PK\x03\x04"), "a real .docx (zip)");
    assert_eq!(
        seeded.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    assert_eq!(
        seeded.header("content-disposition"),
        Some("attachment; filename=\"Mutual NDA - Globex Corporation.docx\"")
    );

    let target = "/workflows/b622bd5e03412ace9950751b/documents/draft";
    let comment = || json_part("metadata", json!({ "comment": { "message": "Exhibit A" } }));
    let exhibit = binary(50_000);
    let r = api
        .post_form(
            target,
            &[
                comment(),
                file("attachment", "Exhibit A.pdf", "application/pdf", &exhibit),
            ],
        )
        .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    let w = api.get("/workflows/IC-1").await.json();
    let drafts = w["attributes"]["draft"].as_array().unwrap().clone();
    assert_eq!(drafts.len(), 2);
    assert_eq!(drafts[1]["filename"], "Exhibit A.pdf");
    assert_eq!(drafts[1]["versionNumber"], 1);
    let down = api
        .get(path_of(drafts[1]["download"].as_str().unwrap()))
        .await;
    assert!(down.body == exhibit);
    assert_eq!(down.header("content-type"), Some("application/pdf"));

    // A new version of the existing draft.
    let v2 = binary(3_000_000);
    let r = api
        .post_form(
            target,
            &[
                json_part(
                    "metadata",
                    json!({ "comment": { "message": "redlines" }, "key": "dmCwvkwp" }),
                ),
                file(
                    "attachment",
                    "Mutual NDA - Globex (v3).docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    &v2,
                ),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        204,
        "over axum's 2 MB default: {}",
        String::from_utf8_lossy(&r.body)
    );
    let w = api.get("/workflows/IC-1").await.json();
    let draft = &w["attributes"]["draft"][0];
    assert_eq!(draft["key"], "dmCwvkwp");
    assert_eq!(draft["versionNumber"], 3);
    assert_eq!(draft["filename"], "Mutual NDA - Globex (v3).docx");
    let down = api.get("/workflows/IC-1/document/dmCwvkwp/download").await;
    assert!(down.body == v2);
    assert_eq!(
        down.header("content-disposition"),
        Some("attachment; filename=\"Mutual NDA - Globex (v3).docx\"")
    );

    // Errors are bare strings here.
    let pdf = || file("attachment", "x.pdf", "application/pdf", b"%PDF");
    let r = api.post_form(target, &[pdf()]).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!("missing required form-data part 'metadata'"))
    );
    let r = api.post_form(target, &[comment()]).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!("missing required form-data part 'attachment'"))
    );
    let r = api
        .post_form(
            target,
            &[
                json_part(
                    "metadata",
                    json!({ "comment": { "message": "m" }, "key": "nope" }),
                ),
                pdf(),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!("Document does not exists"))
    );
    let r = api
        .post_form(
            "/workflows/0123456789abcdef01234567/documents/draft",
            &[comment(), pdf()],
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!("Workflow does not exists"))
    );
    let r = api
        .post_form(
            "/workflows/IC-1/documents/counterpartyName",
            &[comment(), pdf()],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()
            .as_str()
            .unwrap()
            .contains("not a document attribute")
    );
    let r = api
        .post_form(target, &[json_part("metadata", json!({})), pdf()])
        .await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!("missing required property 'comment'"))
    );

    let r = api.get("/workflows/IC-1/document/nope/download").await;
    assert_eq!((r.status, r.error().2.as_deref()), (404, Some("key")));
    let r = api
        .get("/workflows/0123456789abcdef01234567/document/x/download")
        .await;
    assert_eq!(r.status, 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn multipart_launch_keeps_its_files() {
    let emu = start().await;
    let api = api(&emu).await;
    let nda = emu.seed().template_named("Mutual NDA").unwrap().id.clone();
    let data = |draft: Value| {
        json_part(
            "data",
            json!({ "template": nda, "attributes": { "counterpartyName": "Initech LLC",
                    "paperSource": "Counterparty paper", "draft": draft } }),
        )
    };
    // Over the 2 MB default body limit: the launch takes the upload routes' limit.
    let msa = binary(3_000_000);
    let exhibit = binary(1_000);
    let r = api
        .post_form(
            "/workflows",
            &[
                data(json!([{ "file": "msa" }, { "file": "exhibit" }])),
                file("msa", "Initech MSA.pdf", "application/pdf", &msa),
                file(
                    "exhibit",
                    "Exhibit A.docx",
                    "application/octet-stream",
                    &exhibit,
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let w = r.json();
    let drafts = w["attributes"]["draft"].as_array().unwrap();
    assert_eq!(drafts.len(), 2, "{w}");
    for (document, (name, kind, bytes)) in drafts.iter().zip([
        ("Initech MSA.pdf", "application/pdf", &msa),
        (
            "Exhibit A.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &exhibit,
        ),
    ]) {
        assert_eq!(document["filename"], name);
        let down = api
            .get(path_of(document["download"].as_str().unwrap()))
            .await;
        assert_eq!(down.status, 200);
        assert!(down.body == *bytes, "{name}: the bytes differ");
        // A generic part type is replaced by the one the name implies.
        assert_eq!(down.header("content-type"), Some(kind));
    }
    let listed = api
        .get(&format!(
            "/workflows/{}/documents",
            w["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        listed.json()["signaturePacketDocuments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A reference to a part the form lacks; a url in a multipart launch; no data part.
    let pdf = || file("msa", "a.pdf", "application/pdf", b"%PDF-1.4");
    let r = api
        .post_form(
            "/workflows",
            &[
                data(json!([{ "file": "msa" }, { "file": "exhibit" }])),
                pdf(),
            ],
        )
        .await;
    let (code, message, param) = r.error();
    assert_eq!(
        (r.status, code.as_str(), param.as_deref()),
        (400, "MISSING_PARAM", Some("draft"))
    );
    assert!(message.contains("form-data part 'exhibit'"), "{message}");
    let r = api
        .post_form(
            "/workflows",
            &[data(json!([{ "url": "https://x.example/a.pdf" }])), pdf()],
        )
        .await;
    assert_eq!((r.status, r.error().2.as_deref()), (400, Some("draft")));
    let r = api.post_form("/workflows", &[pdf()]).await;
    assert_eq!(
        (r.status, r.error().0.as_str(), r.error().2.as_deref()),
        (400, "MISSING_PARAM", Some("data"))
    );
    // The async route takes JSON only, as the spec declares.
    let r = api
        .post_form(
            "/workflows/async",
            &[data(json!([{ "file": "msa" }])), pdf()],
        )
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("content-type"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn email_attachments() {
    let emu = start().await;
    let api = api(&emu).await;
    let base = "/workflows/IC-5/emails/emailThread5f1c0e2a9b7d4c3e8a6f1b2c3d4e5f60";
    let thread = api.get(base).await.json();
    let download = thread["attachments"][0]["download"].as_str().unwrap();
    let r = api.get(path_of(download)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"Hooli redlines.pdf\"")
    );
    assert!(r.body.starts_with(b"%PDF-"));
    let r = api
        .get(&format!("{base}/attachments/attachmentIdnope"))
        .await;
    assert_eq!(
        (r.status, r.error()),
        (
            404,
            (
                "NOT_FOUND".into(),
                "attachmentId does not exist".into(),
                Some("attachmentId".into())
            )
        )
    );
    let r = api
        .get("/workflows/IC-5/emails/emailThreadNope/attachments/attachmentIdc85d7e3be5d84bf28cebe4591e39c894")
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (404, Some("emailThreadId"))
    );
    emu.shutdown().await;
}

// --- smart import --------------------------------------------------------------------------------

#[tokio::test]
async fn smart_import_creates_records_and_spends_credits() {
    let emu = start().await;
    let api = api(&emu).await;
    // 20 MB: past axum's default limit and the old 16 MB request-log limit.
    let big = binary(20 * 1024 * 1024);
    let r = api
        .post_form(
            "/records/smart-import",
            &[
                file(
                    "attachment",
                    "Lease - 1 Main St.pdf",
                    "application/pdf",
                    &big,
                ),
                text_part("recordType", "contract"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.json();
    assert_eq!(out["remainingCredits"], 49);
    let record_id = out["recordId"].as_str().unwrap().to_owned();
    let import_id = out["importId"].as_str().unwrap().to_owned();
    let record = api.get(&format!("/records/{record_id}")).await.json();
    assert_eq!(record["type"], "contract");
    assert_eq!(record["name"], "Lease - 1 Main St");
    assert_eq!(
        record["source"],
        json!({ "type": "import_project", "importId": import_id })
    );
    let copy = api
        .get(path_of(
            record["attachments"]["signedCopy"]["href"]
                .as_str()
                .unwrap(),
        ))
        .await;
    assert_eq!(copy.body.len(), big.len());
    assert!(copy.body == big);
    let predictions = api
        .get(&format!("/records/smart-import?importId={import_id}"))
        .await;
    assert_eq!(
        predictions.json(),
        json!([{ "recordId": record_id, "status": "ready" }])
    );

    // Into the same import, as a new record type.
    let r = api
        .post_form(
            &format!("/records/smart-import/{import_id}"),
            &[
                file(
                    "attachment",
                    "Sublease.docx",
                    "application/octet-stream",
                    b"PK\x03\x04",
                ),
                text_part("newRecordTypeId", "lease"),
                text_part("newRecordTypeDisplayName", "Lease"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["importId"], import_id.as_str());
    let second = api
        .get(&format!(
            "/records/{}",
            r.json()["recordId"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(second["type"], "lease");
    assert_eq!(
        second["attachments"]["signedCopy"]["contentType"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let schema = api.get("/records/metadata").await.json();
    assert_eq!(
        schema["recordTypes"]["lease"],
        json!({ "displayName": "Lease" })
    );
    let list = api
        .get(&format!("/records/smart-import?importId={import_id}"))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // No type at all: `imported`.
    let r = api
        .post_form(
            "/records/smart-import",
            &[file("attachment", "scan.png", "image/png", b"\x89PNG")],
        )
        .await;
    let id = r.json()["recordId"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/records/{id}")).await.json()["type"],
        "imported"
    );

    // Errors.
    let pdf = || file("attachment", "a.pdf", "application/pdf", b"%PDF");
    let r = api
        .post_form(
            "/records/smart-import",
            &[pdf(), text_part("recordType", "lease2")],
        )
        .await;
    assert_eq!(
        r.error(),
        (
            "INVALID_PARAM".into(),
            "unknown record type lease2".into(),
            Some("type".into())
        )
    );
    let r = api
        .post_form(
            &format!("/records/smart-import/{import_id}"),
            &[pdf(), text_part("recordType", "lease2")],
        )
        .await;
    assert_eq!(r.error().2.as_deref(), Some("recordType"));
    let r = api.post_form("/records/smart-import/nope", &[pdf()]).await;
    assert_eq!(
        (r.status, r.error().1.as_str()),
        (404, "couldn't find a record matching the id nope")
    );
    let r = api
        .post_form(
            "/records/smart-import",
            &[file(
                "attachment",
                "invalidFile.xyz",
                "application/octet-stream",
                b"x",
            )],
        )
        .await;
    assert_eq!(r.error().2.as_deref(), Some("metadata.filename"));
    assert!(
        r.error()
            .1
            .starts_with("filename invalidFile.xyz does not have an accepted extension.")
    );
    let r = api
        .post_form(
            "/records/smart-import",
            &[
                pdf(),
                text_part("recordType", "contract"),
                text_part("newRecordTypeId", "x"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("recordType"))
    );
    let r = api
        .post_form(
            "/records/smart-import",
            &[pdf(), text_part("newRecordTypeId", "x")],
        )
        .await;
    assert_eq!(
        (r.error().0.as_str(), r.error().2.as_deref()),
        ("MISSING_PARAM", Some("newRecordTypeDisplayName"))
    );
    let r = api
        .post_form(
            "/records/smart-import",
            &[text_part("recordType", "contract")],
        )
        .await;
    assert_eq!(
        r.error(),
        (
            "MISSING_PARAM".into(),
            "missing required form-data part 'attachment'".into(),
            Some("attachment".into())
        )
    );

    // Spend the remaining credits.
    let mut remaining = 47;
    while remaining > 0 {
        let r = api.post_form("/records/smart-import", &[pdf()]).await;
        remaining -= 1;
        assert_eq!(r.json()["remainingCredits"], remaining);
    }
    let r = api.post_form("/records/smart-import", &[pdf()]).await;
    assert_eq!(
        (r.status, r.error().0.as_str(), r.error().1.as_str()),
        (403, "FORBIDDEN", "No more AI Contract Credits available")
    );
    emu.shutdown().await;
}

// --- exports and the verification key -------------------------------------------------------------

/// The text of an entry of a stored (uncompressed) ZIP, found by its local header.
fn zip_entry(archive: &[u8], name: &str) -> String {
    // A local header: signature, sizes at +18, name length at +26, name at +30, then the data.
    let header = (0..archive.len().saturating_sub(30 + name.len()))
        .find(|&at| {
            archive[at..].starts_with(b"PK\x03\x04")
                && archive[at + 30..].starts_with(name.as_bytes())
        })
        .unwrap_or_else(|| panic!("{name} in the archive"));
    let size = u32::from_le_bytes(archive[header + 18..header + 22].try_into().unwrap()) as usize;
    let start = header + 30 + name.len();
    String::from_utf8(archive[start..start + size].to_vec()).unwrap()
}

#[tokio::test]
async fn records_xlsx_export() {
    let emu = start().await;
    let api = api(&emu).await;
    let r = api.get("/records/export").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"records_export.xlsx\"")
    );
    assert!(r.body.starts_with(b"PK\x03\x04"));
    assert!(zip_entry(&r.body, "[Content_Types].xml").contains("spreadsheetml.sheet.main+xml"));
    let sheet = zip_entry(&r.body, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(">Ironclad ID<"));
    assert!(sheet.contains(">IC-9<") && sheet.contains(">IC-1001<"));

    let r = api
        .get("/records/export?types=mutualNDA&properties=counterpartyName,signedCopy")
        .await;
    assert_eq!(r.status, 200);
    let sheet = zip_entry(&r.body, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(">IC-18<"));
    assert!(
        !sheet.contains(">IC-9<"),
        "consulting agreements are filtered out"
    );
    assert!(sheet.contains(">Signed PDF<"));
    assert!(sheet.contains(">Mutual NDA - Fabrikam Inc. (signed).pdf<"));
    assert!(sheet.contains(">Fabrikam Inc.<"));

    let r = api.get("/records/export?types=lease").await;
    assert_eq!((r.status, r.error().2.as_deref()), (400, Some("types")));
    let r = api.get("/records/export?properties=nope").await;
    assert_eq!(
        r.error(),
        (
            "INVALID_PARAM".into(),
            "unknown property nope".into(),
            Some("properties".into())
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn data_export_downloads() {
    let emu = start().await;
    let api = api(&emu).await;
    // The seeded audit-log job is done, CSV.
    let r = api
        .get("/exports/0b6f3c1e-9a2d-4c5b-8e7f-1a2b3c4d5e6f/download")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"audit_log_0b6f3c1e-9a2d-4c5b-8e7f-1a2b3c4d5e6f.csv\"")
    );
    let csv = String::from_utf8(r.body.clone()).unwrap();
    let mut header: Vec<&str> = csv.split("\r\n").next().unwrap().split(',').collect();
    header.sort_unstable();
    assert_eq!(
        header,
        [
            "displayName",
            "email",
            "eventCategory",
            "eventType",
            "userId"
        ]
    );
    assert!(csv.contains("jane.doe@acme.example"));
    assert_eq!(
        csv.matches("user_entitlement").count(),
        emu.seed().users.len()
    );

    let job = api
        .post_json(
            "/exports",
            json!({ "exportType": "workflow_activities", "exportFormat": "JSON",
                    "exportConfigs": { "metadataProperties": ["counterpartyName"] } }),
        )
        .await
        .json();
    let id = job["jobId"].as_str().unwrap();
    let early = api.get(&format!("/exports/{id}/download")).await;
    assert_eq!(early.status, 400);
    assert!(early.json()["error"].as_str().unwrap().contains("not done"));
    assert_eq!(
        api.get(&format!("/exports/{id}")).await.json()["jobStatus"],
        "running"
    );
    assert_eq!(
        api.get(&format!("/exports/{id}")).await.json()["jobStatus"],
        "done"
    );
    let r = api.get(&format!("/exports/{id}/download")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), emu.seed().workflows.len());
    let ic1 = rows.iter().find(|w| w["ironcladId"] == "IC-1").unwrap();
    assert_eq!(ic1["counterpartyName"], "Globex Corporation");

    let r = api.get("/exports/nope/download").await;
    assert_eq!(
        (r.status, r.json()),
        (
            400,
            json!({ "error": "Could not retrieve job status. Please verify the job id and try again." })
        )
    );
    let limited = Api {
        emu: &emu,
        token: token(&emu, "limited-scopes").await,
    };
    let r = limited.get(&format!("/exports/{id}/download")).await;
    assert_eq!((r.status, r.error().0.as_str()), (403, "FORBIDDEN"));
    emu.shutdown().await;
}

#[tokio::test]
async fn webhook_verification_key() {
    let emu = start().await;
    // No scope is needed: the limited client (read workflows only) may read it.
    let limited = Api {
        emu: &emu,
        token: token(&emu, "limited-scopes").await,
    };
    let r = limited.get("/webhooks/verification-key").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let pem = String::from_utf8(r.body).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pem.trim_end().ends_with("-----END PUBLIC KEY-----"));
    assert_eq!(
        pem,
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/emulator/webhook-verification-key.pem"
        ))
        .unwrap()
    );
    // Still the webhooks by id next to it.
    let api = api(&emu).await;
    assert_eq!(api.get("/webhooks/nope").await.status, 404);
    let anonymous = Api {
        emu: &emu,
        token: String::new(),
    };
    assert_eq!(
        anonymous.get("/webhooks/verification-key").await.status,
        401
    );
    emu.shutdown().await;
}

// --- the contract layer on multipart requests ------------------------------------------------------

#[cfg(feature = "contract")]
#[tokio::test]
async fn contract_judges_multipart_requests() {
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/contract/clm-public.json"
    );
    let contract = ironclad_emulator::Contract::load(spec).unwrap();
    let emu = ironclad_emulator::start_with_contract(
        ([127, 0, 0, 1], 0).into(),
        ironclad_emulator::default_seed(),
        contract,
    )
    .await
    .unwrap();
    let api = api(&emu).await;
    let pdf = || file("attachment", "a.pdf", "application/pdf", b"%PDF-1.4\n\xff");
    let target = "/records/IC-1002/attachments/signedCopy";
    let r = api
        .post_form(
            target,
            &[json_part("metadata", json!({ "filename": "a.pdf" })), pdf()],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = api
        .post_form(target, &[pdf(), text_part("file", "x")])
        .await;
    assert_eq!(
        (r.status, r.error().0.as_str(), r.error().2.as_deref()),
        (400, "CONTRACT_VIOLATION", Some("body/file"))
    );
    let r = api
        .post_form(
            "/workflows/IC-1/documents/draft",
            &[pdf(), json_part("metadata", json!({ "key": "dmCwvkwp" }))],
        )
        .await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("body/metadata"))
    );
    let r = api.post_form("/workflows/IC-5/upload-signed", &[]).await;
    assert_eq!(
        (r.status, r.error().2.as_deref()),
        (400, Some("body/attachment"))
    );
    assert_eq!(emu.emulator().contract_violations().len(), 3);
    emu.shutdown().await;
}
