//! The token store: a JSON file, 0600 in a 0700 directory, rewritten atomically under an
//! advisory lock ([`private_file`]), so any number of processes can share it and a rotated
//! refresh token of one connection never overwrites another's. It holds access and refresh
//! tokens per OAuth client, and the PKCE verifier of a pending authorization.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::private_file;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingAuthorization>,
}

/// An authorization started by `authorize`, finished by `exchange`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub state: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenStore { path: path.into() }
    }

    /// `$CONNECTOR_TOKEN_STORE`, else `$XDG_STATE_HOME` or `~/.local/state`, under
    /// `connector-harness/tokens.json`. With none of them set there is no safe place (a
    /// shared temp directory is not one), and that is an error.
    pub fn default_path() -> anyhow::Result<PathBuf> {
        if let Some(p) = std::env::var_os("CONNECTOR_TOKEN_STORE").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let base = std::env::var_os("XDG_STATE_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|p| !p.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/state"))
            })
            .context(
                "no safe place for the token store: set HOME, XDG_STATE_HOME or CONNECTOR_TOKEN_STORE, or pass --token-store",
            )?;
        Ok(base.join("connector-harness").join("tokens.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A stable key per (token endpoint, client, grant, scopes, secret): tokens are never
    /// mixed between apps or environments, and editing the secret or the scopes of a
    /// connection never reuses a token minted for the old ones. Hashed, so the file reveals
    /// neither the apps configured nor anything about the secret.
    pub fn key(
        token_url: &str,
        client_id: &str,
        grant: &str,
        scopes: &str,
        client_secret: &str,
    ) -> String {
        let digest = Sha256::digest(format!(
            "{token_url}\n{client_id}\n{grant}\n{scopes}\n{client_secret}"
        ));
        digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }

    pub fn get(&self, key: &str) -> anyhow::Result<TokenRecord> {
        Ok(self.load()?.remove(key).unwrap_or_default())
    }

    /// Store `record` under `key`, leaving every other connection's record as it is now in
    /// the file (read and written under the store's lock).
    pub fn put(&self, key: &str, record: TokenRecord) -> anyhow::Result<()> {
        let _lock = private_file::lock(&self.path)?;
        let mut all = self.load()?;
        all.insert(key.to_string(), record);
        self.save(&all)
    }

    /// Hold `key`'s own lock: one renewal of a connection at a time across processes, so a
    /// refresh token is never spent twice. Other connections are not held up.
    pub fn lock_key(&self, key: &str) -> anyhow::Result<private_file::Lock> {
        private_file::lock(&self.path.with_file_name(format!(
            "{}.{key}",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("tokens")
        )))
    }

    /// Fail early when a renewal could not be kept: a rotated refresh token that cannot be
    /// written would be lost.
    pub fn check_writable(&self) -> anyhow::Result<()> {
        private_file::check_writable(&self.path)
    }

    fn load(&self) -> anyhow::Result<BTreeMap<String, TokenRecord>> {
        match private_file::read_secret(&self.path)? {
            // The parse error's position only: serde's message may quote the file's content.
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "token store {} is corrupt (line {}, column {}); delete it and reconnect",
                    self.path.display(),
                    e.line(),
                    e.column()
                )
            }),
            None => Ok(BTreeMap::new()),
        }
    }

    fn save(&self, all: &BTreeMap<String, TokenRecord>) -> anyhow::Result<()> {
        private_file::write(&self.path, &serde_json::to_vec_pretty(all)?)
            .with_context(|| format!("writing token store {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_private_permissions() {
        let dir = std::env::temp_dir().join(format!("ts-test-{}", std::process::id()));
        let store = TokenStore::new(dir.join("nested/tokens.json"));
        let key = TokenStore::key(
            "https://x/oauth/token",
            "client",
            "client_credentials",
            "a b",
            "s3cret",
        );
        assert_ne!(
            key,
            TokenStore::key(
                "https://x/oauth/token",
                "client",
                "client_credentials",
                "a b",
                "other"
            )
        );
        assert_eq!(store.get(&key).unwrap(), TokenRecord::default());
        let record = TokenRecord {
            access_token: Some("a".into()),
            expires_at: Some(5),
            ..Default::default()
        };
        store.put(&key, record.clone()).unwrap();
        assert_eq!(store.get(&key).unwrap(), record);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
