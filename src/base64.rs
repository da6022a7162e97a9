//! Standard base64 (RFC 4648 §4), the encoding files travel in through action inputs and
//! outputs. Written here rather than taken as a dependency: it is small, and the component
//! stays lean.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` in padded standard base64.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 0x3f) as usize] as char;
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// `bytes` in unpadded URL-safe base64 (RFC 4648 §5), for opaque tokens such as page cursors.
pub fn encode_url(bytes: &[u8]) -> String {
    encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// Decode what [`encode_url`] wrote; None for anything else (the standard alphabet, padding,
/// whitespace included).
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
    if text
        .bytes()
        .any(|b| matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace())
    {
        return None;
    }
    decode(&text.replace('-', "+").replace('_', "/")).ok()
}

/// Why a text is not base64; `offset` is a byte offset into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

/// Decode standard base64. ASCII whitespace is skipped (line-wrapped MIME output decodes);
/// padding may be left off; anything else outside the alphabet is an error, with a hint for
/// the URL-safe alphabet.
pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut quad = [0u8; 4];
    let mut filled = 0;
    let mut padding_at: Option<usize> = None;
    let mut pads = 0usize;
    for (offset, byte) in text.bytes().enumerate() {
        if byte.is_ascii_whitespace() {
            continue;
        }
        if byte == b'=' {
            padding_at.get_or_insert(offset);
            pads += 1;
            continue;
        }
        if let Some(at) = padding_at {
            return Err(DecodeError {
                offset: at,
                message: "padding `=` may only end the text".into(),
            });
        }
        let Some(value) = sextet(byte) else {
            let shown = text[offset..].chars().next().unwrap_or('?');
            let hint = if matches!(byte, b'-' | b'_') {
                "; standard base64 uses `+` and `/`, not the URL-safe `-` and `_`"
            } else {
                ""
            };
            return Err(DecodeError {
                offset,
                message: format!("`{shown}` is not a base64 character{hint}"),
            });
        };
        quad[filled] = value;
        filled += 1;
        if filled == 4 {
            out.push((quad[0] << 2) | (quad[1] >> 4));
            out.push((quad[1] << 4) | (quad[2] >> 2));
            out.push((quad[2] << 6) | quad[3]);
            filled = 0;
        }
    }
    let end = text.len();
    match filled {
        0 => {}
        1 => {
            return Err(DecodeError {
                offset: end,
                message: "the text ends in the middle of a byte (its length is wrong)".into(),
            });
        }
        2 => out.push((quad[0] << 2) | (quad[1] >> 4)),
        _ => {
            out.push((quad[0] << 2) | (quad[1] >> 4));
            out.push((quad[1] << 4) | (quad[2] >> 2));
        }
    }
    // Padding, when present, must complete the last group of four exactly.
    if let Some(at) = padding_at
        && (filled < 2 || filled + pads != 4)
    {
        return Err(DecodeError {
            offset: at,
            message: "misplaced padding `=`".into(),
        });
    }
    Ok(out)
}

fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).cycle().take(256 * 3 + 2).collect();
        for len in [0, 1, 2, 3, 4, 255, 256, all.len()] {
            let bytes = &all[..len];
            assert_eq!(decode(&encode(bytes)).unwrap(), bytes, "length {len}");
        }
        assert_eq!(encode(&[0xff, 0xfe, 0x00]), "//4A");
        assert_eq!(encode(&[0xfb, 0xef]), "++8=");
    }

    #[test]
    fn url_safe_tokens_round_trip_and_nothing_else_decodes() {
        let bytes = [0xfb, 0xef, 0xff, 0x00];
        assert_eq!(encode_url(&bytes), "--__AA");
        assert_eq!(decode_url("--__AA").unwrap(), bytes);
        for other in ["++//AA", "--__AA==", "--__ AA", "Zm9vY"] {
            assert_eq!(decode_url(other), None, "{other}");
        }
    }

    #[test]
    fn lenient_on_whitespace_and_missing_padding() {
        assert_eq!(decode("Zm9v\r\nYmFy\n").unwrap(), b"foobar");
        assert_eq!(decode("Zg").unwrap(), b"f");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert_eq!(decode(" Zm8 = ").unwrap(), b"fo");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        let err = decode("Zm9v!").unwrap_err();
        assert_eq!(err.offset, 4);
        assert!(err.message.contains("`!`"), "{err}");
        let err = decode("ab-_").unwrap_err();
        assert!(err.message.contains("URL-safe"), "{err}");
        assert_eq!(decode("Zm9vY").unwrap_err().offset, 5);
        assert!(decode("Zg=a").unwrap_err().message.contains("only end"));
        assert!(decode("Zg=").is_err(), "half padding");
        assert!(decode("Zm9v=").is_err(), "padding after a full group");
        assert!(decode("Zg===").is_err(), "too much padding");
        assert!(decode("====").is_err());
        assert!(decode("é").unwrap_err().message.contains("`é`"));
    }
}
