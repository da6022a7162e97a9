//! Base64 as the connector meets it: standard base64 (RFC 4648 §4) for files in action inputs
//! and outputs, unpadded URL-safe base64 (§5) for opaque tokens such as page cursors. The
//! `base64` crate does the coding; this module keeps the rules callers rely on, which no
//! single crate engine has:
//! - what a user pastes decodes if its bytes are clear: ASCII whitespace is skipped (a
//!   line-wrapped MIME dump), padding may be left off, and bits past the last byte are
//!   ignored;
//! - a token decodes only in the form [`encode_url`] writes;
//! - an error says where (an offset into the text as given) and why, in words a user can act
//!   on, with a hint when the URL-safe alphabet was pasted where the standard one belongs.

use std::borrow::Cow;

use base64::Engine;
use base64::alphabet::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Writes padded standard base64; reads text whose padding, if any, completes the last group.
static PADDED: GeneralPurpose =
    GeneralPurpose::new(&STANDARD, lenient(DecodePaddingMode::RequireCanonical));
/// Reads standard base64 without padding (the crate's `Indifferent` mode would also take a
/// half-padded `Zg=`, which is neither form).
static UNPADDED: GeneralPurpose =
    GeneralPurpose::new(&STANDARD, lenient(DecodePaddingMode::RequireNone));
static TOKEN: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    lenient(DecodePaddingMode::RequireNone).with_encode_padding(false),
);

const fn lenient(padding: DecodePaddingMode) -> GeneralPurposeConfig {
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(padding)
        .with_decode_allow_trailing_bits(true)
}

/// `bytes` in padded standard base64.
pub fn encode(bytes: &[u8]) -> String {
    PADDED.encode(bytes)
}

/// `bytes` in unpadded URL-safe base64, for opaque tokens such as page cursors.
pub fn encode_url(bytes: &[u8]) -> String {
    TOKEN.encode(bytes)
}

/// Decode what [`encode_url`] wrote; None for anything else (the standard alphabet, padding,
/// whitespace included).
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
    TOKEN.decode(text).ok()
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
    let compact: Cow<[u8]> = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(text.bytes().filter(|b| !b.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(text.as_bytes())
    };
    let engine = if compact.ends_with(b"=") {
        &PADDED
    } else {
        &UNPADDED
    };
    engine.decode(&compact).map_err(|_| explain(text))
}

/// Why `text` failed to decode, found by reading it from the start: the crate's own error
/// names a byte of the chunk it stopped in (not always the first bad one, nor on a character
/// boundary), while a user is best told of the first thing wrong, where it stands in the text
/// as given.
fn explain(text: &str) -> DecodeError {
    let mut first_pad = None;
    let mut data = 0usize;
    let fail = |offset, message: String| DecodeError { offset, message };
    for (offset, byte) in text.bytes().enumerate() {
        match byte {
            _ if byte.is_ascii_whitespace() => {}
            b'=' => {
                first_pad.get_or_insert(offset);
            }
            _ if let Some(at) = first_pad => {
                return fail(at, "padding `=` may only end the text".into());
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => data += 1,
            _ => {
                let shown = text[offset..].chars().next().unwrap_or('?');
                let hint = if matches!(byte, b'-' | b'_') {
                    "; standard base64 uses `+` and `/`, not the URL-safe `-` and `_`"
                } else {
                    ""
                };
                return fail(offset, format!("`{shown}` is not a base64 character{hint}"));
            }
        }
    }
    match first_pad {
        // Every character is base64 and padding ends the text, but not a group of four.
        Some(at) if data % 4 != 1 => fail(at, "misplaced padding `=`".into()),
        // A lone character past the last full group is not a byte, padded or not.
        _ => fail(
            text.len(),
            "the text ends in the middle of a byte (its length is wrong)".into(),
        ),
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

    #[test]
    fn errors_name_the_first_fault_where_it_stands_in_the_text_as_given() {
        // The crate stops at a later bad byte of the chunk, or inside a character.
        let err = decode("Za!=-").unwrap_err();
        assert_eq!(
            (err.offset, err.message.contains("`!`")),
            (2, true),
            "{err}"
        );
        let err = decode("_/aé").unwrap_err();
        assert_eq!(
            (err.offset, err.message.contains("URL-safe")),
            (0, true),
            "{err}"
        );
        let err = decode("Zm9v\r\n  Zm9!").unwrap_err();
        assert_eq!(err.offset, 11, "{err}");
        assert_eq!(decode("Zm9v\nZ=").unwrap_err().offset, 7);
        assert_eq!(decode("Zm9vYg= \n").unwrap_err().offset, 6);
    }
}
