//! Ironclad's webhook signature: RSA with SHA-256 (PKCS#1 v1.5) over the event id,
//! `JSON.stringify(body)` and the nonce, concatenated in that order; the nonce and the base64
//! signature arrive as JSON in `X-Ironclad-Webhook-Verification`. The public key is Ironclad's
//! PEM from `GET /webhooks/verification-key`, an RSA key of at least [`MIN_KEY_BITS`].
//!
//! The body is checked as received first, then re-serialised as JavaScript would
//! ([`Body`]): what Ironclad sends is the text it signed, unless something on the way (a proxy,
//! a gateway) re-serialised the JSON.

use std::cell::OnceCell;

use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde::Deserialize;
use sha2::Sha256;

use super::js_json;
use crate::error::excerpt;

pub const EVENT_ID_HEADER: &str = "x-ironclad-webhook-event-id";
pub const VERIFICATION_HEADER: &str = "x-ironclad-webhook-verification";

/// RSA keys shorter than this are refused: 1024-bit RSA is within reach of a well-funded
/// forger, and NIST has disallowed it for signatures since 2013 (SP 800-131A).
pub const MIN_KEY_BITS: usize = 2048;
/// The longest key the RSA crate accepts (its default cap).
const MAX_KEY_BITS: usize = 4096;

/// Why a delivery could not be trusted (before or after checking the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A header is missing.
    Unsigned(String),
    /// The verification header is not what Ironclad sends.
    Malformed(String),
    /// Well formed, but the signature does not match this key.
    Mismatch,
}

/// The parsed `X-Ironclad-Webhook-Verification` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub nonce: String,
    signature: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    nonce: String,
    #[serde(default = "sha256")]
    sign_algorithm: String,
    signature: String,
    #[serde(default = "base64")]
    encoding: String,
}

fn sha256() -> String {
    "sha256".into()
}

fn base64() -> String {
    "base64".into()
}

impl Verification {
    pub fn parse(header: &str) -> Result<Self, Refusal> {
        let h: Header = serde_json::from_str(header).map_err(|e| {
            Refusal::Malformed(format!(
                "{VERIFICATION_HEADER} is not the expected JSON: {}",
                excerpt(&e.to_string())
            ))
        })?;
        let algorithm = h.sign_algorithm.to_ascii_lowercase();
        if !matches!(
            algorithm.as_str(),
            "sha256" | "rsa-sha256" | "sha256withrsaencryption"
        ) {
            return Err(Refusal::Malformed(format!(
                "signAlgorithm `{}` is not RSA-SHA256",
                excerpt(&h.sign_algorithm)
            )));
        }
        let signature = match h.encoding.to_ascii_lowercase().as_str() {
            "base64" => crate::base64::decode(&h.signature).ok(),
            "hex" => decode_hex(&h.signature),
            other => {
                return Err(Refusal::Malformed(format!(
                    "signature encoding `{}` is not base64 or hex",
                    excerpt(other)
                )));
            }
        }
        .ok_or_else(|| {
            Refusal::Malformed(format!(
                "the signature is not valid {}",
                excerpt(&h.encoding)
            ))
        })?;
        if h.nonce.is_empty() {
            return Err(Refusal::Malformed("the nonce is empty".into()));
        }
        // A PKCS#1 v1.5 signature is as long as the key's modulus: one no acceptable key could
        // have made is malformed, refused before any key is read or fetched.
        let bytes = signature.len();
        if !(MIN_KEY_BITS / 8..=MAX_KEY_BITS / 8).contains(&bytes) {
            return Err(Refusal::Malformed(format!(
                "the signature is {bytes} bytes; RSA keys of {MIN_KEY_BITS} to {MAX_KEY_BITS} \
                 bits sign with {} to {}",
                MIN_KEY_BITS / 8,
                MAX_KEY_BITS / 8
            )));
        }
        Ok(Verification {
            nonce: h.nonce,
            signature,
        })
    }

    /// Did `key` sign `event_id ++ body ++ nonce`, with the body in either of its forms?
    pub fn verify(&self, key: &PublicKey, event_id: &str, body: &Body) -> Result<(), Refusal> {
        let signature =
            Signature::try_from(self.signature.as_slice()).map_err(|_| Refusal::Mismatch)?;
        let signs = |text: &[u8]| {
            let mut signed = Vec::with_capacity(event_id.len() + text.len() + self.nonce.len());
            signed.extend_from_slice(event_id.as_bytes());
            signed.extend_from_slice(text);
            signed.extend_from_slice(self.nonce.as_bytes());
            key.0.verify(&signed, &signature).is_ok()
        };
        if signs(body.raw) || body.stringified().is_some_and(signs) {
            Ok(())
        } else {
            Err(Refusal::Mismatch)
        }
    }
}

/// A delivery's body in the two forms a signature may cover: the bytes received, and
/// `JSON.stringify(JSON.parse(bytes))`, which is what Ironclad signs. The second is made only
/// when the first fails, and once however many keys are tried.
pub struct Body<'a> {
    raw: &'a [u8],
    /// `None`: the same text as `raw`, or none (not JSON, or beyond `js_json`'s limits).
    stringified: OnceCell<Option<String>>,
}

impl<'a> Body<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        Body {
            raw,
            stringified: OnceCell::new(),
        }
    }

    fn stringified(&self) -> Option<&[u8]> {
        self.stringified
            .get_or_init(|| js_json::stringify(self.raw).filter(|text| text.as_bytes() != self.raw))
            .as_deref()
            .map(str::as_bytes)
    }
}

/// A parsed verification key.
pub struct PublicKey(VerifyingKey<Sha256>);

impl PublicKey {
    /// `-----BEGIN PUBLIC KEY-----` (SPKI) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) PEM
    /// of an RSA key of at least [`MIN_KEY_BITS`].
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        use rsa::traits::PublicKeyParts;
        let pem = pem.trim();
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| {
                use rsa::pkcs1::DecodeRsaPublicKey;
                RsaPublicKey::from_pkcs1_pem(pem)
            })
            .map_err(|e| format!("the verification key is not an RSA public key PEM: {e}"))?;
        let bits = key.n().bits();
        if bits < MIN_KEY_BITS {
            return Err(format!(
                "the verification key is a {bits}-bit RSA key; keys under {MIN_KEY_BITS} bits \
                 are too weak to trust"
            ));
        }
        Ok(PublicKey(VerifyingKey::new(key)))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Signatures made with the emulator's test-only key (fixtures/emulator/webhook-signing-key.pem):
    //   printf '%s' "$ID$BODY$NONCE" | openssl dgst -sha256 -sign webhook-signing-key.pem | base64 -w0
    const KEY: &str = include_str!("../../../../fixtures/emulator/webhook-verification-key.pem");
    const ID: &str = "webhookEvent0123456789abcdef0123456789abcdef";
    const BODY: &str = r#"{"companyID":"5928719b30182d3700364a74","payload":{"event":"workflow_launched","templateID":"t1","workflowID":"w1"},"timestamp":"2026-11-23T10:00:00.000Z","webhookID":"5928719b30182d3700364a75"}"#;
    const NONCE: &str = "9f86d081884c7d65";
    const SIGNATURE: &str = include_str!("testdata/signature.b64");

    fn header(signature: &str) -> String {
        format!(
            r#"{{"nonce":"{NONCE}","signAlgorithm":"sha256","signature":"{signature}","encoding":"base64"}}"#
        )
    }

    #[test]
    fn a_genuine_delivery_verifies() {
        let key = PublicKey::from_pem(KEY).unwrap();
        let v = Verification::parse(&header(SIGNATURE.trim())).unwrap();
        assert_eq!(v.verify(&key, ID, &Body::new(BODY.as_bytes())), Ok(()));
    }

    /// The same signature over a copy of [`BODY`] re-serialised on the way (pretty-printed,
    /// escapes where there were none): `JSON.stringify` of it is `BODY` again.
    #[test]
    fn a_re_serialised_delivery_verifies() {
        let key = PublicKey::from_pem(KEY).unwrap();
        let v = Verification::parse(&header(SIGNATURE.trim())).unwrap();
        let pretty = r#"{
  "companyID": "5928719b30182d3700364a74",
  "payload": { "event": "workflow_launched", "templateID": "t\u0031", "workflowID": "w1" },
  "timestamp": "2026-11-23T10:00:00.000Z",
  "webhookID": "5928719b30182d3700364a75"
}"#;
        assert_eq!(v.verify(&key, ID, &Body::new(pretty.as_bytes())), Ok(()));
        let tampered = pretty.replace("w1", "w2");
        assert_eq!(
            v.verify(&key, ID, &Body::new(tampered.as_bytes())),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn any_changed_byte_fails() {
        let key = PublicKey::from_pem(KEY).unwrap();
        let v = Verification::parse(&header(SIGNATURE.trim())).unwrap();
        let mut body = BODY.as_bytes().to_vec();
        body[40] ^= 1;
        assert_eq!(
            v.verify(&key, ID, &Body::new(&body)),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            v.verify(&key, "webhookEventother", &Body::new(BODY.as_bytes())),
            Err(Refusal::Mismatch)
        );
        let other_nonce = header(SIGNATURE.trim()).replace(NONCE, "0000");
        let v = Verification::parse(&other_nonce).unwrap();
        assert_eq!(
            v.verify(&key, ID, &Body::new(BODY.as_bytes())),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused_before_any_crypto() {
        assert!(matches!(
            Verification::parse("nope"),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            Verification::parse(&header("***")),
            Err(Refusal::Malformed(_))
        ));
        let md5 = header(SIGNATURE.trim()).replace("sha256", "md5");
        assert!(matches!(
            Verification::parse(&md5),
            Err(Refusal::Malformed(_))
        ));
        assert!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        // A signature no key of 2048 to 4096 bits could have made.
        for bytes in [0, 1, 128, 255, 513] {
            let short = header(&crate::base64::encode(&vec![7u8; bytes]));
            assert!(
                matches!(Verification::parse(&short), Err(Refusal::Malformed(m)) if m.contains("bytes")),
                "{bytes}"
            );
        }
    }

    #[test]
    fn only_rsa_keys_of_2048_bits_or_more_are_keys() {
        assert!(PublicKey::from_pem(KEY).is_ok(), "2048 bits");
        let weak = PublicKey::from_pem(include_str!("testdata/weak-1024-verification-key.pem"));
        assert!(
            weak.as_ref().is_err_and(|e| e.contains("1024-bit")),
            "{:?}",
            weak.err()
        );
        let ec = PublicKey::from_pem(include_str!("testdata/ec-p256-verification-key.pem"));
        assert!(ec.is_err_and(|e| e.contains("not an RSA public key")));
    }
}
