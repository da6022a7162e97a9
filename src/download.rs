//! Shaping file and text responses into action outputs:
//! `{file_name, content_type, size, content_base64}` for files, `{content_type, text}` for text.

use serde_json::{Value, json};

use crate::base64;
use crate::error::ConnectorError;
use crate::http::Response;

/// A file download: the name from `Content-Disposition`, else the last segment of `path`
/// (the request path, percent-encoded as sent); the media type from `Content-Type`.
pub fn file_output(response: &Response, path: &str) -> Value {
    let file_name = response
        .header("content-disposition")
        .and_then(disposition_filename)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| last_segment(path));
    json!({
        "file_name": file_name,
        "content_type": content_type(response, "application/octet-stream"),
        "size": response.body.len(),
        "content_base64": base64::encode(&response.body),
    })
}

/// A text response (the webhook verification key's PEM).
pub fn text_output(response: &Response, what: &str) -> Result<Value, ConnectorError> {
    let text = String::from_utf8(response.body.clone()).map_err(|e| {
        ConnectorError::internal(format!(
            "{what}: Ironclad returned text that is not UTF-8 ({e})"
        ))
    })?;
    Ok(json!({
        "content_type": content_type(response, "text/plain"),
        "text": text,
    }))
}

fn content_type(response: &Response, fallback: &str) -> String {
    response
        .header("content-type")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback)
        .to_string()
}

/// The file name of a `Content-Disposition` value (RFC 6266): `filename*` (RFC 8187,
/// `UTF-8''…` or `ISO-8859-1''…`) wins over `filename`; quoted strings are unescaped.
pub fn disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for (name, raw) in parameters(value) {
        match name.to_ascii_lowercase().as_str() {
            "filename*" => extended = extended.or_else(|| ext_value(&raw)),
            "filename" => plain = plain.or(Some(raw)),
            _ => {}
        }
    }
    extended.or(plain)
}

/// `name=value` pairs after the disposition type, values unquoted.
fn parameters(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = match value.find(';') {
        Some(i) => &value[i + 1..],
        None => return out,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return out;
        }
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let name = rest[..eq].trim().to_string();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            text.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    other => text.push(other),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
            text
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            let token = rest[..end].trim().to_string();
            rest = &rest[end..];
            token
        };
        out.push((name, value));
    }
}

/// RFC 8187 `charset'language'percent-encoded`; UTF-8 and ISO-8859-1 are understood.
fn ext_value(raw: &str) -> Option<String> {
    let mut fields = raw.splitn(3, '\'');
    let charset = fields.next()?.to_ascii_lowercase();
    let _language = fields.next()?;
    let bytes = percent_decode(fields.next()?)?;
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The last non-empty path segment, percent-decoded (lossily when not UTF-8).
fn last_segment(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segment = path
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("download");
    match percent_decode(segment) {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => segment.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)], body: &[u8]) -> Response {
        Response {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn disposition_file_names() {
        let name = disposition_filename;
        assert_eq!(
            name(r#"attachment; filename="NDA - Acme.pdf""#).as_deref(),
            Some("NDA - Acme.pdf")
        );
        assert_eq!(
            name("attachment; filename=report.xlsx").as_deref(),
            Some("report.xlsx")
        );
        assert_eq!(
            name(r#"attachment; filename="a \"quoted\" name.pdf"; size=3"#).as_deref(),
            Some(r#"a "quoted" name.pdf"#)
        );
        // The extended form wins, wherever it stands.
        assert_eq!(
            name("attachment; filename*=UTF-8''%C3%A9t%C3%A9%20v2.pdf; filename=\"ete v2.pdf\"")
                .as_deref(),
            Some("été v2.pdf")
        );
        assert_eq!(
            name("attachment; filename=\"x.pdf\"; FILENAME*=utf-8'en'na%C3%AFve.pdf").as_deref(),
            Some("naïve.pdf")
        );
        assert_eq!(
            name("attachment; filename*=ISO-8859-1''caf%E9.txt").as_deref(),
            Some("café.txt")
        );
        // A broken extended value falls back to the plain one.
        assert_eq!(
            name("attachment; filename*=UTF-8''%ZZ; filename=\"ok.pdf\"").as_deref(),
            Some("ok.pdf")
        );
        assert_eq!(name("attachment"), None);
        assert_eq!(name("inline; name=\"x\""), None);
    }

    #[test]
    fn file_output_shapes_the_response() {
        let bytes = [0x50, 0x4b, 0x03, 0x04, 0x00, 0xff];
        let out = file_output(
            &response(
                &[
                    ("Content-Type", "application/pdf"),
                    ("Content-Disposition", "attachment; filename=\"Signed.pdf\""),
                ],
                &bytes,
            ),
            "/records/r1/attachments/signedCopy",
        );
        assert_eq!(
            out,
            json!({"file_name": "Signed.pdf", "content_type": "application/pdf", "size": 6,
                   "content_base64": base64::encode(&bytes)})
        );
        // No disposition, no type: the path's last segment and octet-stream.
        let out = file_output(
            &response(&[], b""),
            "/workflows/w%201/document/k%C3%A9y/download?x=1",
        );
        assert_eq!(out["file_name"], "download");
        assert_eq!(out["content_type"], "application/octet-stream");
        assert_eq!(out["size"], 0);
        let out = file_output(&response(&[], b"a"), "/records/r1/attachments/sign%C3%A9d");
        assert_eq!(out["file_name"], "signéd");
    }

    #[test]
    fn text_output_keeps_the_text() {
        let pem = "-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            text_output(
                &response(
                    &[("content-type", "text/plain; charset=utf-8")],
                    pem.as_bytes()
                ),
                "k"
            )
            .unwrap(),
            json!({"content_type": "text/plain; charset=utf-8", "text": pem})
        );
        assert_eq!(
            text_output(&response(&[], b"x"), "k").unwrap()["content_type"],
            "text/plain"
        );
        assert_eq!(
            text_output(&response(&[], &[0xff]), "k")
                .unwrap_err()
                .kind(),
            "internal"
        );
    }
}
