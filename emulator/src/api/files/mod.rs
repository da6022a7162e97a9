//! File handling: uploads (`multipart/form-data`, parsed by `multipart`) and downloads (the
//! stored bytes with their `Content-Type` and `Content-Disposition: attachment`).
//!
//! - `/records/{id}/attachments/{key}` (POST, GET, DELETE), `POST /records/smart-import[/
//!   {importId}]` and `GET /records/export` (XLSX) — module `repository`;
//! - `GET /exports/{jobId}/download` and `GET /webhooks/verification-key` — module `reports`;
//! - the workflow side (`upload-signed`, `documents/{attributeId}`, `document/{key}/download`,
//!   email attachments) lives with the Sign step, in `workflow_sign::files` and
//!   `workflow_sign::emails`.
//!
//! Uploaded bytes are kept in [`FileStore`] (one field of `Data`) and come back
//! byte-identical. Files the seed only names (drafts, record attachments, email attachments)
//! download as emulator-generated files (module `generate`). Upload routes accept bodies up to
//! [`multipart::UPLOAD_BODY_LIMIT`] (Ironclad documents 100 MB).

pub mod generate;
mod reports;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::emulator::Emulator;
use crate::infra::errors::ApiError;
use crate::infra::multipart::{self, Form};
use crate::store::files::Blob;
use crate::{store::ids, store::time};

pub fn routes() -> Router<Emulator> {
    Router::new().merge(reports::routes())
}

/// What the API does with a stored file.
impl Blob {
    /// The download: `200` with the bytes, their type and `attachment; filename=…`.
    pub fn into_response(self) -> Response {
        download(&self.filename, &self.content_type, self.data)
    }
}

/// The request's form; a body that is not one answers 400 `INVALID_PARAM` naming
/// `content-type` (not multipart, no boundary) or `param` (malformed).
pub fn form(headers: &HeaderMap, body: &Bytes, param: &str) -> Result<Form, ApiError> {
    Form::from_request(headers, body).map_err(|e| match e {
        multipart::Error::NotMultipart(_) | multipart::Error::NoBoundary => {
            ApiError::invalid_param(e.to_string(), "content-type")
        }
        multipart::Error::Malformed(_) => ApiError::invalid_param(e.to_string(), param),
    })
}

/// A part whose content is a JSON object (`metadata`); anything else is 400 naming the part.
pub fn json_part(part: &multipart::Part) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(&part.data) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_param(
            format!("form-data part '{}' must be a JSON object", part.name),
            &part.name,
        )),
    }
}

/// The lower-case extension of a file name, if it has one.
pub fn extension(filename: &str) -> Option<String> {
    let (stem, ext) = filename.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && !ext.contains(['/', ' ']))
        .then(|| ext.to_ascii_lowercase())
}

/// The media type a file name implies (`application/octet-stream` when unknown).
pub fn content_type_for(filename: &str) -> &'static str {
    match extension(filename).as_deref() {
        Some("pdf") => "application/pdf",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xls") => "application/vnd.ms-excel",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("ppt") => "application/vnd.ms-powerpoint",
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Some("txt") => "text/plain",
        Some("csv") => "text/csv",
        Some("rtf") => "application/rtf",
        Some("htm" | "html") => "text/html",
        Some("xml") => "application/xml",
        Some("eml") => "message/rfc822",
        Some("msg") => "application/vnd.ms-outlook",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("tif" | "tiff") => "image/tiff",
        _ => "application/octet-stream",
    }
}

/// `attachment; filename="…"`, plus RFC 5987 `filename*` when the name is not plain ASCII.
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    if ascii == filename {
        return format!("attachment; filename=\"{ascii}\"");
    }
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `200` with `data` as a download named `filename`.
pub fn download(filename: &str, content_type: &str, data: impl Into<Bytes>) -> Response {
    let mut response = data.into().into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_disposition(filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A new `WorkflowDocumentModel` (version 1, fresh key) for `filename` on workflow
/// `workflow_id`, as launches and document uploads add them to document attributes; its bytes
/// go in [`FileStore::documents`] under the same key.
pub fn new_document(workflow_id: &str, filename: &str, now_ms: i64, author: Value) -> Value {
    let key = ids::slug(8);
    json!({
        "version": ids::slug(9),
        "versionNumber": 1,
        "filename": filename,
        "key": key,
        "download": format!("/public/api/v1/workflows/{workflow_id}/document/{key}/download"),
        "lastModified": { "timestamp": time::format_ms(now_ms), "author": author },
    })
}

/// The uploaded file of part `part`: its file name (the part's `filename`, else `fallback`),
/// content type (the part's, unless generic, else from the name) and bytes.
pub fn uploaded(part: &multipart::Part, fallback: &str) -> Blob {
    let filename = part
        .filename
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| fallback.to_owned());
    let content_type = part
        .content_type
        .clone()
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("application/octet-stream"))
        .unwrap_or_else(|| content_type_for(&filename).to_owned());
    Blob {
        filename,
        content_type,
        data: part.data.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(extension("NDA.Final.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("README"), None);
        assert_eq!(extension(".hidden"), None);
        assert_eq!(
            content_type_for("x.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(content_type_for("x.bin"), "application/octet-stream");
        assert_eq!(
            content_disposition("Margie's \"NDA\".pdf"),
            "attachment; filename=\"Margie's _NDA_.pdf\"; filename*=UTF-8''Margie%27s%20%22NDA%22.pdf"
        );
        assert_eq!(
            content_disposition("a b.pdf"),
            "attachment; filename=\"a b.pdf\""
        );
        assert_eq!(
            content_disposition("résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(crate::store::files::FileStore::seeded().credits, 50);
    }
}
