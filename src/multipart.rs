//! `multipart/form-data` (RFC 7578) bodies for upload operations, and the file objects of
//! action inputs that feed them.
//!
//! A file in an input is `{"file_name", "content_type"?, "content_base64"}`; a catalog row's
//! `Body::Multipart` says which input property becomes which part ([`build`]).

use serde_json::{Map, Value};

use crate::base64;
use crate::catalog::{Part, PartKind};
use crate::error::ConnectorError;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    pub name: String,
    /// Set for file parts: the `filename` of the Content-Disposition.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// An encoded form: the request's `Content-Type` value and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The parts of a row's multipart body from a (schema-validated) input: files decoded from
/// base64, JSON parts serialised, text parts as text; a required part the input omits gets its
/// default. Errors name the input's JSON Pointer, so they surface before any request.
pub fn build(parts: &[Part], input: &Map<String, Value>) -> Result<Vec<FormPart>, ConnectorError> {
    let mut form = Vec::new();
    for part in parts {
        let pointer = format!("/{}", escape_pointer(part.name));
        let value = match (input.get(part.name), part.default) {
            (Some(value), _) => value.clone(),
            (None, Some(default)) if part.required => Value::String(default.to_string()),
            (None, _) if part.required => {
                return Err(ConnectorError::input(pointer, "is required"));
            }
            (None, _) => continue,
        };
        form.push(match part.kind {
            PartKind::File => file_part(part.name, &value, &pointer)?,
            PartKind::Json => FormPart {
                name: part.name.to_string(),
                filename: None,
                content_type: Some("application/json".into()),
                body: serde_json::to_vec(&value).expect("a Value always serialises"),
            },
            PartKind::Text => FormPart {
                name: part.name.to_string(),
                filename: None,
                content_type: None,
                body: scalar_text(&value, &pointer)?.into_bytes(),
            },
        });
    }
    Ok(form)
}

/// The file part `name` from a file object of the input at `pointer`: its bytes decoded, its
/// media type given or taken from the extension.
pub fn file_part(name: &str, value: &Value, pointer: &str) -> Result<FormPart, ConnectorError> {
    let field = |key: &str| value.get(key).and_then(Value::as_str);
    let file_name = field("file_name").ok_or_else(|| {
        ConnectorError::input(format!("{pointer}/file_name"), "is required (a string)")
    })?;
    let encoded = field("content_base64").ok_or_else(|| {
        ConnectorError::input(
            format!("{pointer}/content_base64"),
            "is required (a string)",
        )
    })?;
    let body = base64::decode(encoded).map_err(|e| {
        ConnectorError::input(
            format!("{pointer}/content_base64"),
            format!("is not valid standard base64: {e}"),
        )
    })?;
    let content_type = field("content_type")
        .map(str::to_string)
        .unwrap_or_else(|| content_type_for(file_name).to_string());
    Ok(FormPart {
        name: name.to_string(),
        filename: Some(file_name.to_string()),
        content_type: Some(content_type),
        body,
    })
}

fn scalar_text(value: &Value, pointer: &str) -> Result<String, ConnectorError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(ConnectorError::input(
            pointer,
            format!(
                "must be a scalar, got {}",
                crate::error::excerpt(&other.to_string())
            ),
        )),
    }
}

/// The media type of a file from its extension, for inputs that give none.
pub fn content_type_for(file_name: &str) -> &'static str {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Encode the parts. The boundary is derived from the content (deterministic per request,
/// random-looking) and re-derived until it occurs in no part's headers or body.
pub fn encode(parts: &[FormPart]) -> Form {
    let heads: Vec<Vec<u8>> = parts.iter().map(part_head).collect();
    let boundary = choose_boundary(parts, &heads, |salt| boundary_for(parts, salt));
    let size: usize = parts.iter().map(|p| p.body.len()).sum::<usize>()
        + heads.iter().map(Vec::len).sum::<usize>()
        + (parts.len() + 1) * (boundary.len() + 8);
    let mut body = Vec::with_capacity(size);
    for (part, head) in parts.iter().zip(&heads) {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(head);
        body.extend_from_slice(&part.body);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    Form {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body,
    }
}

/// The first candidate (salt 0, 1, …) that occurs in no part's headers or body.
fn choose_boundary(
    parts: &[FormPart],
    heads: &[Vec<u8>],
    candidate: impl Fn(u64) -> String,
) -> String {
    let mut salt = 0u64;
    loop {
        let boundary = candidate(salt);
        let needle = boundary.as_bytes();
        let clashes = parts
            .iter()
            .zip(heads)
            .any(|(p, h)| contains(&p.body, needle) || contains(h, needle));
        if !clashes {
            return boundary;
        }
        salt += 1;
    }
}

/// A part's header lines and the blank line that ends them.
fn part_head(part: &FormPart) -> Vec<u8> {
    let mut head = format!(
        "Content-Disposition: form-data; name=\"{}\"",
        quote(&part.name)
    );
    if let Some(filename) = &part.filename {
        head.push_str(&format!("; filename=\"{}\"", quote(filename)));
    }
    head.push_str("\r\n");
    if let Some(content_type) = &part.content_type {
        // A header value cannot hold line breaks; an input could try to inject one.
        let clean: String = content_type
            .chars()
            .filter(|c| *c != '\r' && *c != '\n')
            .collect();
        head.push_str(&format!("Content-Type: {clean}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A name or filename inside a quoted string, escaped as HTML's form submission does
/// (WHATWG): `"` → `%22`, CR → `%0D`, LF → `%0A`; other text (UTF-8 included) as is.
fn quote(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `----IroncladFormBoundary` + 24 hex digits of FNV-1a over the parts and a salt.
fn boundary_for(parts: &[FormPart], salt: u64) -> String {
    let mut a = Fnv::new(0x9e37_79b9_7f4a_7c15 ^ salt);
    let mut b = Fnv::new(0xc2b2_ae3d_27d4_eb4f_u64.wrapping_add(salt));
    for part in parts {
        for hash in [&mut a, &mut b] {
            hash.write(part.name.as_bytes());
            hash.write(&[0]);
            hash.write(part.filename.as_deref().unwrap_or("").as_bytes());
            hash.write(&[0]);
            hash.write(&(part.body.len() as u64).to_le_bytes());
            hash.write(&part.body);
        }
    }
    format!(
        "----IroncladFormBoundary{:016x}{:08x}",
        a.finish(),
        b.finish() as u32
    )
}

struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        Fnv(0xcbf2_9ce4_8422_2325 ^ seed)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack.windows(needle.len()).any(|w| w == needle)
}

/// RFC 6901: `~` → `~0`, `/` → `~1`.
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PARTS: &[Part] = &[
        Part {
            name: "attachment",
            kind: PartKind::File,
            required: true,
            default: None,
        },
        Part {
            name: "metadata",
            kind: PartKind::Json,
            required: false,
            default: None,
        },
        Part {
            name: "recordType",
            kind: PartKind::Text,
            required: true,
            default: Some("imported"),
        },
        Part {
            name: "newRecordTypeId",
            kind: PartKind::Text,
            required: false,
            default: None,
        },
    ];

    fn input(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    /// A minimal RFC 7578 parser, independent of the encoder: (headers, body) per part.
    fn parse(form: &Form) -> Vec<(String, Vec<u8>)> {
        let boundary = form
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let delimiter = format!("--{boundary}");
        let body = &form.body;
        let mut starts = Vec::new();
        let mut i = 0;
        while i + delimiter.len() <= body.len() {
            if &body[i..i + delimiter.len()] == delimiter.as_bytes() {
                starts.push(i);
                i += delimiter.len();
            } else {
                i += 1;
            }
        }
        assert!(body.ends_with(format!("{delimiter}--\r\n").as_bytes()));
        starts
            .windows(2)
            .map(|w| {
                let chunk = &body[w[0] + delimiter.len() + 2..w[1] - 2];
                let split = chunk.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
                (
                    String::from_utf8(chunk[..split].to_vec()).unwrap(),
                    chunk[split + 4..].to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn builds_parts_from_the_input() {
        let bytes = [0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0xfe, 0x80];
        let parts = build(
            PARTS,
            &input(json!({
                "attachment": {"file_name": "NDA.pdf", "content_base64": base64::encode(&bytes)},
                "metadata": {"filename": "NDA.pdf"},
                "id": "ignored: a param, not a part"
            })),
        )
        .unwrap();
        assert_eq!(
            parts,
            [
                FormPart {
                    name: "attachment".into(),
                    filename: Some("NDA.pdf".into()),
                    content_type: Some("application/pdf".into()),
                    body: bytes.to_vec(),
                },
                FormPart {
                    name: "metadata".into(),
                    filename: None,
                    content_type: Some("application/json".into()),
                    body: br#"{"filename":"NDA.pdf"}"#.to_vec(),
                },
                // Required with a default, omitted: the default is sent.
                FormPart {
                    name: "recordType".into(),
                    filename: None,
                    content_type: None,
                    body: b"imported".to_vec(),
                },
            ]
        );
        let given = build(
            PARTS,
            &input(json!({
                "attachment": {"file_name": "x.bin", "content_type": "image/tiff", "content_base64": ""},
                "recordType": "contract"
            })),
        )
        .unwrap();
        assert_eq!(given[0].content_type.as_deref(), Some("image/tiff"));
        assert_eq!(given[1].body, b"contract");
    }

    #[test]
    fn bad_files_name_the_pointer() {
        let err = build(
            PARTS,
            &input(json!({"attachment": {"file_name": "a.pdf", "content_base64": "not base64!"}})),
        )
        .unwrap_err();
        let ConnectorError::InvalidInput { field, message } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "/attachment/content_base64");
        assert!(message.contains("base64"), "{message}");
        let err = build(PARTS, &input(json!({}))).unwrap_err();
        assert_eq!(err, ConnectorError::input("/attachment", "is required"));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_for("NDA.PDF"), "application/pdf");
        assert_eq!(
            content_type_for("a.b.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(content_type_for("photo.jpeg"), "image/jpeg");
        assert_eq!(content_type_for("x.csv"), "text/csv");
        assert_eq!(content_type_for("README"), "application/octet-stream");
        assert_eq!(content_type_for("x.zip"), "application/octet-stream");
    }

    #[test]
    fn encodes_rfc7578_with_dispositions_and_types() {
        let parts = vec![
            FormPart {
                name: "attachment".into(),
                filename: Some("Q3 \"final\" é.pdf".into()),
                content_type: Some("application/pdf".into()),
                body: vec![0, 159, 146, 150, b'\r', b'\n', b'-', b'-'],
            },
            FormPart {
                name: "metadata".into(),
                filename: None,
                content_type: Some("application/json".into()),
                body: br#"{"a":1}"#.to_vec(),
            },
            FormPart {
                name: "recordType".into(),
                filename: None,
                content_type: None,
                body: b"imported".to_vec(),
            },
        ];
        let form = encode(&parts);
        assert!(
            form.content_type
                .starts_with("multipart/form-data; boundary=----IroncladFormBoundary")
        );
        assert_eq!(form, encode(&parts), "deterministic");
        let parsed = parse(&form);
        assert_eq!(parsed.len(), 3);
        assert_eq!(
            parsed[0].0,
            "Content-Disposition: form-data; name=\"attachment\"; filename=\"Q3 %22final%22 é.pdf\"\r\nContent-Type: application/pdf"
        );
        assert_eq!(parsed[0].1, parts[0].body);
        assert_eq!(
            parsed[1].0,
            "Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json"
        );
        assert_eq!(parsed[1].1, br#"{"a":1}"#);
        assert_eq!(
            parsed[2].0,
            "Content-Disposition: form-data; name=\"recordType\""
        );
        assert_eq!(parsed[2].1, b"imported");
    }

    #[test]
    fn the_boundary_never_occurs_in_the_content() {
        let part = |body: &[u8]| FormPart {
            name: "attachment".into(),
            filename: Some("f.bin".into()),
            content_type: None,
            body: body.to_vec(),
        };
        let candidates = |salt: u64| ["AAAA", "BBBB", "CCCC"][salt as usize].to_string();
        let parts = [part(b"xxAAAAxx"), part(b"--BBBB")];
        let heads: Vec<Vec<u8>> = parts.iter().map(part_head).collect();
        assert_eq!(choose_boundary(&parts, &heads, candidates), "CCCC");
        // In a header too (a file name).
        let mut named = part(b"");
        named.filename = Some("AAAA.pdf".into());
        let heads = [part_head(&named)];
        assert_eq!(choose_boundary(&[named], &heads, candidates), "BBBB");
        // The real boundary depends on the content and is absent from it.
        let a = encode(&[part(b"one")]);
        let b = encode(&[part(b"two")]);
        assert_ne!(a.content_type, b.content_type);
        let boundary = a.content_type.rsplit('=').next().unwrap();
        assert_eq!(boundary.len(), "----IroncladFormBoundary".len() + 24);
        let planted = encode(&[part(format!("--{boundary}").as_bytes())]);
        assert_eq!(parse(&planted)[0].1, format!("--{boundary}").as_bytes());
    }

    #[test]
    fn header_injection_is_neutralised() {
        let part = FormPart {
            name: "a\r\nX-Evil: 1".into(),
            filename: Some("b\n.pdf".into()),
            content_type: Some("text/plain\r\nX-Evil: 2".into()),
            body: vec![],
        };
        let head = String::from_utf8(part_head(&part)).unwrap();
        assert_eq!(
            head,
            "Content-Disposition: form-data; name=\"a%0D%0AX-Evil: 1\"; filename=\"b%0A.pdf\"\r\nContent-Type: text/plainX-Evil: 2\r\n\r\n"
        );
    }
}
