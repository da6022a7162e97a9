//! The two TEST-ONLY webhook key pairs committed under `fixtures/emulator/`
//! (`webhook-signing-key[-2].pem`, public halves `webhook-verification-key[-2].pem`) and which
//! of them is current: tenant state, rotated by `POST /_emulator/webhook-key/rotate`. Signing
//! with them is `infra::signing`. Never use them for anything real.

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

    /// Its place in the rotation (0 or 1).
    pub fn index(self) -> usize {
        self.0
    }

    /// The PEM private key deliveries are signed with.
    pub fn signing_pem(self) -> &'static str {
        KEYS[self.0].0
    }
}
