//! A small `multipart/form-data` parser (RFC 7578 over RFC 2046): the boundary from the
//! `Content-Type`, each part's headers (`Content-Disposition` name and filename, including
//! RFC 5987 `filename*=UTF-8''…`, and `Content-Type`) and its bytes, binary-safe and without
//! copying (parts are slices of the request body). Delimiters are `CRLF--boundary`; a body
//! written with bare LF line ends is accepted too.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

/// Largest request body the upload routes accept: Ironclad's documented 100 MB for a file plus
/// room for the multipart framing and the other parts.
pub const UPLOAD_BODY_LIMIT: usize = 101 * 1024 * 1024;

/// Largest file Ironclad accepts in one upload (smart import documents 100 MB).
pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Part {
    /// The part's bytes as text (lossy), for text and JSON parts.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A parsed `multipart/form-data` body, parts in order.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub parts: Vec<Part>,
}

impl Form {
    /// The first part called `name`.
    pub fn get(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// The form of a request: its `Content-Type` must be `multipart/form-data` with a boundary.
    pub fn from_request(headers: &HeaderMap, body: &Bytes) -> Result<Self, Error> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = boundary(content_type)?;
        let parts = parse(body, &boundary)?
            .into_iter()
            .map(|p| Part {
                name: p.name,
                filename: p.filename,
                content_type: p.content_type,
                data: body.slice_ref(p.data),
            })
            .collect();
        Ok(Self { parts })
    }
}

/// Why a body is not a usable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The content type is not `multipart/form-data` (the type seen, possibly empty).
    NotMultipart(String),
    /// `multipart/form-data` without a usable `boundary` parameter.
    NoBoundary,
    /// The body does not follow the multipart syntax.
    Malformed(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotMultipart(t) if t.is_empty() => {
                write!(f, "the request body must be multipart/form-data")
            }
            Error::NotMultipart(t) => {
                write!(f, "the request body must be multipart/form-data, not {t}")
            }
            Error::NoBoundary => write!(
                f,
                "the multipart/form-data content type has no boundary parameter"
            ),
            Error::Malformed(why) => write!(f, "malformed multipart/form-data body: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// A part borrowing from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPart<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type (`boundary=x` or `boundary="x"`).
pub fn boundary(content_type: &str) -> Result<String, Error> {
    let mut pieces = split_params(content_type);
    let media = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != "multipart/form-data" {
        return Err(Error::NotMultipart(media));
    }
    let boundary = pieces
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| unquote(v.trim()))
        })
        .next()
        .ok_or(Error::NoBoundary)?;
    // RFC 2046: 1 to 70 characters, not ending in a space.
    if boundary.is_empty() || boundary.len() > 70 || boundary.ends_with(' ') {
        return Err(Error::NoBoundary);
    }
    Ok(boundary)
}

/// The parts of `body`, delimited by `boundary`.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<RawPart<'a>>, Error> {
    let dash = format!("--{boundary}");
    let dash = dash.as_bytes();
    // The first delimiter opens the body or follows the preamble's line end.
    let first = if body.starts_with(dash) {
        0
    } else {
        let after_lf = [b"\n".as_slice(), dash].concat();
        find(body, &after_lf, 0)
            .map(|i| i + 1)
            .ok_or_else(|| malformed("the opening boundary delimiter is missing"))?
    };
    let mut pos = first + dash.len();
    if body[pos..].starts_with(b"--") {
        return Ok(Vec::new());
    }
    // CRLF line ends as the RFC says, or bare LF when the body uses those.
    let padded = skip_padding(body, pos);
    let eol: &[u8] = if body[padded..].starts_with(b"\r\n") {
        b"\r\n"
    } else if body[padded..].starts_with(b"\n") {
        b"\n"
    } else {
        return Err(malformed(
            "a boundary delimiter is not followed by a line end",
        ));
    };
    let close = [eol, dash].concat();
    let blank = [eol, eol].concat();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            // The close delimiter; the epilogue is ignored.
            return Ok(parts);
        }
        pos = skip_padding(body, pos);
        if !body[pos..].starts_with(eol) {
            return Err(malformed(
                "a boundary delimiter is not followed by a line end",
            ));
        }
        pos += eol.len();
        let (head, data_start) = if body[pos..].starts_with(eol) {
            (&body[pos..pos], pos + eol.len())
        } else {
            let end = find(body, &blank, pos)
                .ok_or_else(|| malformed("a part's headers do not end with an empty line"))?;
            (&body[pos..end], end + blank.len())
        };
        let head =
            std::str::from_utf8(head).map_err(|_| malformed("a part's headers are not UTF-8"))?;
        let data_end = find(body, &close, data_start).ok_or_else(|| {
            malformed("the closing boundary delimiter is missing (the body may be truncated)")
        })?;
        parts.push(part(head, &body[data_start..data_end], eol)?);
        pos = data_end + close.len();
    }
}

fn part<'a>(head: &str, data: &'a [u8], eol: &[u8]) -> Result<RawPart<'a>, Error> {
    let eol = std::str::from_utf8(eol).unwrap_or("\r\n");
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split(eol).filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed(&format!("the part header line '{line}' has no colon")))?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => disposition = Some(value.trim().to_owned()),
            "content-type" => content_type = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let disposition =
        disposition.ok_or_else(|| malformed("a part has no Content-Disposition header"))?;
    let mut pieces = split_params(&disposition);
    if !pieces
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("form-data")
    {
        return Err(malformed("a part's Content-Disposition is not form-data"));
    }
    let mut name = None;
    let mut filename = None;
    let mut filename_ext = None;
    for piece in pieces {
        let Some((k, v)) = piece.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(unquote(v.trim())),
            "filename" => filename = Some(unquote(v.trim())),
            "filename*" => filename_ext = ext_value(v.trim()),
            _ => {}
        }
    }
    let name = name.ok_or_else(|| malformed("a part's Content-Disposition has no name"))?;
    Ok(RawPart {
        name,
        filename: filename_ext.or(filename),
        content_type,
        data,
    })
}

fn malformed(why: &str) -> Error {
    Error::Malformed(why.to_owned())
}

/// `;`-separated header parameters, respecting quoted strings.
fn split_params(value: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                pieces.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&value[start..]);
    pieces.into_iter()
}

/// A token or a quoted string (backslash escapes undone).
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return v.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 5987 `charset'lang'percent-encoded` (UTF-8 or ISO-8859-1).
fn ext_value(v: &str) -> Option<String> {
    let v = unquote(v);
    let mut fields = v.splitn(3, '\'');
    let charset = fields.next()?.to_ascii_lowercase();
    let _lang = fields.next()?;
    let encoded = fields.next()?;
    let bytes = percent_decode(encoded);
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| b.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

fn skip_padding(body: &[u8], mut pos: usize) -> usize {
    while matches!(body.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// The first index of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = from;
    while i + needle.len() <= haystack.len() {
        let next = haystack[i..=haystack.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += next;
        if haystack[i + 1..i + needle.len()] == *rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// A part to [`encode`]: `(name, filename, content type, bytes)`.
#[cfg(test)]
pub type PartSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body from parts, and the boundary it uses (for tests).
#[cfg(test)]
pub fn encode(parts: &[PartSpec<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("emulator-{}", crate::ids::hex(12));
    let mut body = Vec::new();
    for (name, filename, content_type, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disposition.push_str(&format!("; filename=\"{}\"", f.replace('"', "\\\"")));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(t) = content_type {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary() -> Vec<u8> {
        // Every byte value, CR/LF runs and a fake delimiter prefix that must not end the part.
        let mut v: Vec<u8> = (0..=255u8).collect();
        v.extend_from_slice(b"\r\n--not-the-boundary\r\n\r\n\xff\xfe\x00");
        v
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\"").unwrap(),
            "a b;c"
        );
        assert_eq!(
            boundary("application/json"),
            Err(Error::NotMultipart("application/json".into()))
        );
        assert_eq!(boundary(""), Err(Error::NotMultipart(String::new())));
        assert_eq!(boundary("multipart/form-data"), Err(Error::NoBoundary));
        assert_eq!(
            boundary("multipart/form-data; boundary="),
            Err(Error::NoBoundary)
        );
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            Err(Error::NoBoundary)
        );
    }

    #[test]
    fn round_trips_binary_parts() {
        let data = binary();
        let (b, body) = encode(&[
            (
                "metadata",
                None,
                Some("application/json"),
                br#"{"filename":"a.pdf"}"#,
            ),
            (
                "attachment",
                Some("NDA \"final\".pdf"),
                Some("application/pdf"),
                &data,
            ),
            ("empty", None, None, b""),
        ]);
        let parts = parse(&body, &b).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "metadata");
        assert_eq!(parts[0].data, br#"{"filename":"a.pdf"}"#);
        assert_eq!(parts[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(parts[1].filename.as_deref(), Some("NDA \"final\".pdf"));
        assert_eq!(parts[1].data, data.as_slice());
        assert_eq!(parts[2].data, b"");
        assert_eq!(parts[2].filename, None);
    }

    #[test]
    fn preamble_epilogue_padding_and_header_case() {
        let body = b"preamble\r\n--XyZ  \r\ncontent-disposition: FORM-DATA; NAME=recordType\r\nX-Other: 1\r\n\r\nimported\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\"\r\n\r\n\x00\x01\r\n--XyZ--\r\nepilogue";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "recordType");
        assert_eq!(parts[0].data, b"imported");
        assert_eq!(parts[1].filename.as_deref(), Some("résumé.pdf"));
        assert_eq!(parts[1].data, b"\x00\x01");
    }

    #[test]
    fn bare_lf_bodies() {
        let body = b"--b\nContent-Disposition: form-data; name=\"a\"\n\nline1\r\nline2\n--b\nContent-Disposition: form-data; name=\"c\"\n\n\n--b--\n";
        let parts = parse(body, "b").unwrap();
        assert_eq!(parts[0].data, b"line1\r\nline2");
        assert_eq!(parts[1].name, "c");
        assert_eq!(parts[1].data, b"");
    }

    #[test]
    fn empty_form_and_errors() {
        assert_eq!(parse(b"--x--", "x").unwrap(), vec![]);
        assert_eq!(parse(b"--x--\r\n", "x").unwrap(), vec![]);
        let err = |body: &[u8]| match parse(body, "x") {
            Err(Error::Malformed(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(err(b"no delimiter").contains("opening"));
        assert!(
            err(b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\ndata").contains("closing")
        );
        assert!(
            err(b"--x\r\nContent-Disposition: form-data; name=a\r\ndata\r\n--x--")
                .contains("empty line")
        );
        assert!(err(b"--x\r\nContent-Type: text/plain\r\n\r\nd\r\n--x--").contains("Disposition"));
        assert!(err(b"--x\r\nContent-Disposition: form-data\r\n\r\nd\r\n--x--").contains("name"));
        assert!(
            err(b"--x\r\nContent-Disposition: inline; name=a\r\n\r\nd\r\n--x--")
                .contains("form-data")
        );
        assert!(err(b"--xjunk\r\n").contains("line end"));
    }

    #[test]
    fn large_parts_are_sliced_not_copied() {
        let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        let (b, body) = encode(&[("attachment", Some("big.bin"), None, &big)]);
        let body = Bytes::from(body);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}")
                .parse()
                .unwrap(),
        );
        let form = Form::from_request(&headers, &body).unwrap();
        let part = form.get("attachment").unwrap();
        assert_eq!(part.data.len(), big.len());
        assert_eq!(part.data, big);
        assert_eq!(form.parts.len(), 1);
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(
            Form::from_request(&headers, &body).unwrap_err(),
            Error::NotMultipart("text/plain".into())
        );
    }
}
