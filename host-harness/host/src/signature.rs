//! Signatures over published artifacts: OpenSSH signatures (SSHSIG, the format of
//! `ssh-keygen -Y sign`) with Ed25519 keys, over an artifact's manifest digest
//! (`sha256:…`, as ASCII) in the namespace [`NAMESPACE`]. The manifest pins the component's
//! digest, so a valid signature vouches for the bytes that run.
//!
//! A buyer needs no tool of ours to check one:
//! `printf %s sha256:… | ssh-keygen -Y verify -f allowed_signers -I vendor -n ipaas-connector -s sig`.

use std::fmt;
use std::path::Path;

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace: a signature made for anything else (a git commit, a file) does not
/// verify as an artifact signature.
pub const NAMESPACE: &str = "ipaas-connector";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("{path}: {why}")]
    Key { path: String, why: String },
    #[error("the signature is not an OpenSSH signature (SSHSIG): {0}")]
    Malformed(String),
    #[error("signed by key {signed_by}, not by the trusted key {trusted}: refused")]
    WrongKey { signed_by: String, trusted: String },
    #[error(
        "the signature by {trusted} does not match {message}: refused (the artifact or its signature was changed)"
    )]
    Mismatch { trusted: String, message: String },
}

/// A public key signatures must come from (`ssh-ed25519 AAAA… comment`, one line).
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedKey(PublicKey);

impl fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrustedKey({})", self.fingerprint())
    }
}

impl TrustedKey {
    pub fn from_file(path: &Path) -> Result<TrustedKey, SignatureError> {
        let key_error = |why: String| SignatureError::Key {
            path: path.display().to_string(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|e| key_error(e.to_string()))?;
        let key = PublicKey::from_openssh(text.trim()).map_err(|e| {
            key_error(format!(
                "not an OpenSSH public key (`ssh-ed25519 AAAA…`, as in KEY.pub): {e}"
            ))
        })?;
        Ok(TrustedKey(key))
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Check that `armored` (`-----BEGIN SSH SIGNATURE-----…`) is this key's signature of
    /// `message` in [`NAMESPACE`].
    pub fn verify(&self, message: &[u8], armored: &str) -> Result<(), SignatureError> {
        let signature =
            SshSig::from_pem(armored).map_err(|e| SignatureError::Malformed(e.to_string()))?;
        let signer = PublicKey::from(signature.public_key().clone());
        if signer.key_data() != self.0.key_data() {
            return Err(SignatureError::WrongKey {
                signed_by: signer.fingerprint(HashAlg::Sha256).to_string(),
                trusted: self.fingerprint(),
            });
        }
        self.0
            .verify(NAMESPACE, message, &signature)
            .map_err(|_| SignatureError::Mismatch {
                trusted: self.fingerprint(),
                message: String::from_utf8_lossy(message).into_owned(),
            })
    }
}

/// Sign `message` with the OpenSSH private key in `path` (unencrypted, as `ssh-keygen -N ""`
/// writes it); returns the armored signature and the key's fingerprint.
pub fn sign(path: &Path, message: &[u8]) -> Result<(String, String), SignatureError> {
    let key_error = |why: String| SignatureError::Key {
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| key_error(e.to_string()))?;
    let key = PrivateKey::from_openssh(&text)
        .map_err(|e| key_error(format!("not an OpenSSH private key: {e}")))?;
    if key.is_encrypted() {
        return Err(key_error(
            "encrypted; decrypt a copy for signing, or sign the digest with `ssh-keygen -Y sign -n ipaas-connector`".into(),
        ));
    }
    let signature = key
        .sign(NAMESPACE, HashAlg::Sha512, message)
        .map_err(|e| key_error(format!("cannot sign with it: {e}")))?;
    let armored = signature
        .to_pem(LineEnding::LF)
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    Ok((
        armored,
        key.public_key().fingerprint(HashAlg::Sha256).to_string(),
    ))
}
