//! Webhook signatures as Ironclad makes them (§6.3 of the API digest): RSA PKCS#1 v1.5 with
//! SHA-256 over the event id, then the exact body bytes sent, then the nonce; base64.
//!
//! The emulator signs with one of two TEST-ONLY key pairs committed under `fixtures/emulator/`
//! (`webhook-signing-key[-2].pem`, public halves `webhook-verification-key[-2].pem`), so a
//! test can rotate the key (`POST /_emulator/webhook-key/rotate`) and see
//! `GET /webhooks/verification-key` change. Never use them for anything real.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

/// `(private PEM, public PEM)` of each test key, in rotation order.
const KEYS: [(&str, &str); 2] = [
    (
        include_str!("../../../fixtures/emulator/webhook-signing-key.pem"),
        include_str!("../../../fixtures/emulator/webhook-verification-key.pem"),
    ),
    (
        include_str!("../../../fixtures/emulator/webhook-signing-key-2.pem"),
        include_str!("../../../fixtures/emulator/webhook-verification-key-2.pem"),
    ),
];

/// Which test key signs deliveries now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyId(usize);

impl KeyId {
    /// The other key (rotation alternates between the two).
    pub fn rotated(self) -> Self {
        Self((self.0 + 1) % KEYS.len())
    }

    /// The PEM public key `GET /webhooks/verification-key` serves.
    pub fn verification_pem(self) -> &'static str {
        KEYS[self.0].1
    }

    fn signing_key(self) -> &'static SigningKey<Sha256> {
        static PARSED: [OnceLock<SigningKey<Sha256>>; 2] = [OnceLock::new(), OnceLock::new()];
        PARSED[self.0].get_or_init(|| {
            let key = RsaPrivateKey::from_pkcs8_pem(KEYS[self.0].0)
                .expect("the committed webhook signing keys are PKCS#8 RSA keys");
            SigningKey::new(key)
        })
    }
}

/// The base64 signature of one delivery with `key`.
pub fn sign(key: KeyId, event_id: &str, body: &[u8], nonce: &str) -> String {
    let mut signed = Vec::with_capacity(event_id.len() + body.len() + nonce.len());
    signed.extend_from_slice(event_id.as_bytes());
    signed.extend_from_slice(body);
    signed.extend_from_slice(nonce.as_bytes());
    STANDARD.encode(key.signing_key().sign(&signed).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPublicKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    fn verifies(public_pem: &str, message: &[u8], signature: &str) -> bool {
        let key =
            VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_pem(public_pem).unwrap());
        let bytes = STANDARD.decode(signature).unwrap();
        key.verify(message, &Signature::try_from(bytes.as_slice()).unwrap())
            .is_ok()
    }

    #[test]
    fn signs_event_id_body_nonce_with_the_current_key() {
        let first = KeyId::default();
        let second = first.rotated();
        assert_ne!(first.verification_pem(), second.verification_pem());
        assert_eq!(second.rotated(), first);
        let signature = sign(first, "webhookEvent00", br#"{"a":1}"#, "n0nce");
        // PKCS#1 v1.5 is deterministic: the same input signs the same.
        assert_eq!(
            signature,
            sign(first, "webhookEvent00", br#"{"a":1}"#, "n0nce")
        );
        let message = br#"webhookEvent00{"a":1}n0nce"#;
        assert!(verifies(first.verification_pem(), message, &signature));
        assert!(!verifies(second.verification_pem(), message, &signature));
        assert!(!verifies(
            first.verification_pem(),
            br#"webhookEvent00{"a":2}n0nce"#,
            &signature
        ));
        let rotated = sign(second, "webhookEvent00", br#"{"a":1}"#, "n0nce");
        assert!(verifies(second.verification_pem(), message, &rotated));
    }
}
