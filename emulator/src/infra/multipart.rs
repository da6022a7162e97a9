//! `multipart/form-data` request bodies (RFC 7578 over RFC 2046). `multer`, the parser
//! axum's `Multipart` extractor is built on, finds the parts; this module adds what the
//! emulator answers with: each part's `Content-Disposition` read as RFC 6266 says (parameter
//! names in any case, RFC 5987 `filename*=UTF-8''…` over `filename`), which multer does not,
//! and the reason a body is refused in words that say where it went wrong, which become the
//! message of an Ironclad-shaped 400.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use futures_util::FutureExt;
use percent_encoding::percent_decode_str;

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
        Ok(Self {
            parts: parse(body.clone(), &boundary)?,
        })
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

/// The boundary of a `multipart/form-data` content type (`boundary=x` or `boundary="x"`).
pub fn boundary(content_type: &str) -> Result<String, Error> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != "multipart/form-data" {
        return Err(Error::NotMultipart(media));
    }
    // multer refuses a content type it cannot parse (`boundary=` with no value) or without a
    // boundary; it does not hold the boundary to RFC 2046's 1 to 70 characters, not ending in
    // a space, which a delimiter line needs.
    match multer::parse_boundary(content_type) {
        Ok(b) if !b.is_empty() && b.len() <= 70 && !b.ends_with(' ') => Ok(b),
        _ => Err(Error::NoBoundary),
    }
}

/// The parts of `body`, delimited by `boundary`. multer copies the body once into its
/// buffer; the parts are slices of that copy.
pub fn parse(body: Bytes, boundary: &str) -> Result<Vec<Part>, Error> {
    let whole = body.clone();
    let stream = futures_util::stream::once(async { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    let why = |e| malformed(e, &whole, boundary);
    while let Some(field) = at_once(multipart.next_field()).map_err(why)? {
        let (name, filename) = disposition(field.headers())?;
        let content_type = field
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .map(|v| v.trim().to_owned());
        let data = at_once(field.bytes()).map_err(why)?;
        parts.push(Part {
            name,
            filename,
            content_type,
            data,
        });
    }
    Ok(parts)
}

/// The whole body is one chunk, ready at once, so multer never waits for more: each step
/// completes in its first poll.
fn at_once<T>(step: impl Future<Output = multer::Result<T>>) -> multer::Result<T> {
    step.now_or_never()
        .unwrap_or(Err(multer::Error::IncompleteStream))
}

/// multer's error as a reason a user can act on. multer says "incomplete stream" both when
/// the opening delimiter is missing and when a delimiter line or a header block is cut short;
/// a body without the delimiter anywhere is the first.
fn malformed(error: multer::Error, body: &[u8], boundary: &str) -> Error {
    use multer::Error as M;
    let delimiter = format!("--{boundary}");
    let why = match error {
        M::IncompleteStream
            if !body
                .windows(delimiter.len())
                .any(|w| w == delimiter.as_bytes()) =>
        {
            "the opening boundary delimiter is missing"
        }
        M::IncompleteFieldData { .. } => {
            "the closing boundary delimiter is missing (the body may be truncated)"
        }
        M::IncompleteStream | M::IncompleteHeaders => {
            "a boundary delimiter is not followed by a line end (CRLF), or a part's headers do \
             not end with an empty line"
        }
        _ => "a part's headers cannot be read",
    };
    Error::Malformed(why.to_owned())
}

/// A part's name and file name, from its `Content-Disposition: form-data; name=…`.
fn disposition(headers: &HeaderMap) -> Result<(String, Option<String>), Error> {
    let malformed = |why: &str| Error::Malformed(why.to_owned());
    let value = headers
        .get(header::CONTENT_DISPOSITION)
        .ok_or_else(|| malformed("a part has no Content-Disposition header"))?;
    // Clients write file names in UTF-8 as they are (`filename="é.pdf"`), which the
    // `HeaderValue` text accessor refuses.
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| malformed("a part's Content-Disposition is not UTF-8"))?;
    let mut pieces = split_params(value);
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
    Ok((name, filename_ext.or(filename)))
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
    let bytes: Vec<u8> = percent_decode_str(fields.next()?).collect();
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

/// A part to [`encode`]: `(name, filename, content type, bytes)`.
#[cfg(test)]
pub type PartSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body from parts, and the boundary it uses (for tests).
#[cfg(test)]
pub fn encode(parts: &[PartSpec<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("emulator-{}", crate::store::ids::hex(12));
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
        let parts = parse(body.into(), &b).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "metadata");
        assert_eq!(&parts[0].data[..], br#"{"filename":"a.pdf"}"#);
        assert_eq!(parts[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(parts[1].filename.as_deref(), Some("NDA \"final\".pdf"));
        assert_eq!(parts[1].data, data.as_slice());
        assert_eq!(&parts[2].data[..], b"");
        assert_eq!(parts[2].filename, None);
    }

    #[test]
    fn preamble_epilogue_padding_and_header_case() {
        let body = b"preamble\r\n--XyZ  \r\ncontent-disposition: FORM-DATA; NAME=recordType\r\nX-Other: 1\r\n\r\nimported\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\"\r\n\r\n\x00\x01\r\n--XyZ--\r\nepilogue";
        let parts = parse(Bytes::from_static(body), "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "recordType");
        assert_eq!(&parts[0].data[..], b"imported");
        assert_eq!(parts[1].filename.as_deref(), Some("résumé.pdf"));
        assert_eq!(&parts[1].data[..], b"\x00\x01");
        let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"Q3 é.pdf\"\r\n\r\nx\r\n--b--";
        let parts = parse(Bytes::from_static(body.as_bytes()), "b").unwrap();
        assert_eq!(parts[0].filename.as_deref(), Some("Q3 é.pdf"), "raw UTF-8");
    }

    #[test]
    fn line_ends_are_crlf() {
        // RFC 2046 delimits with CRLF; a body written with bare LF is refused, as multer does.
        let body = b"--b\nContent-Disposition: form-data; name=\"a\"\n\nline1\r\nline2\n--b--\n";
        assert!(matches!(
            parse(Bytes::from_static(body), "b"),
            Err(Error::Malformed(why)) if why.contains("CRLF")
        ));
    }

    #[test]
    fn empty_form_and_errors() {
        assert_eq!(parse(Bytes::from_static(b"--x--"), "x").unwrap(), vec![]);
        assert_eq!(
            parse(Bytes::from_static(b"--x--\r\n"), "x").unwrap(),
            vec![]
        );
        let err = |body: &'static [u8]| match parse(Bytes::from_static(body), "x") {
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
    fn large_parts_arrive_whole() {
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
