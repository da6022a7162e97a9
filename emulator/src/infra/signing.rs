//! Webhook signatures as Ironclad makes them (§6.3 of the API digest): RSA PKCS#1 v1.5 with
//! SHA-256 over the event id, then the exact body bytes sent, then the nonce; base64.
//!
//! The emulator signs with one of two TEST-ONLY key pairs (`store::webhook_keys`), so a test can
//! rotate the key (`POST /_emulator/webhook-key/rotate`) and see
//! `GET /webhooks/verification-key` change.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

use crate::store::webhook_keys::KeyId;

/// The parsed private key of `key`, parsed once per process.
fn signing_key(key: KeyId) -> &'static SigningKey<Sha256> {
    static PARSED: [OnceLock<SigningKey<Sha256>>; 2] = [OnceLock::new(), OnceLock::new()];
    PARSED[key.index()].get_or_init(|| {
        let private = RsaPrivateKey::from_pkcs8_pem(key.signing_pem())
            .expect("the committed webhook signing keys are PKCS#8 RSA keys");
        SigningKey::new(private)
    })
}

/// The base64 signature of one delivery with `key`.
pub fn sign(key: KeyId, event_id: &str, body: &[u8], nonce: &str) -> String {
    let mut signed = Vec::with_capacity(event_id.len() + body.len() + nonce.len());
    signed.extend_from_slice(event_id.as_bytes());
    signed.extend_from_slice(body);
    signed.extend_from_slice(nonce.as_bytes());
    STANDARD.encode(signing_key(key).sign(&signed).to_bytes())
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
