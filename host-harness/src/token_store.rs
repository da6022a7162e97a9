//! The token store: a JSON file, created 0600, rewritten atomically ([`private_file`]). It holds access and
//! refresh tokens per OAuth client, and the PKCE verifier of a pending authorization.

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
    /// `connector-harness/tokens.json`.
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("CONNECTOR_TOKEN_STORE") {
            return PathBuf::from(p);
        }
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("connector-harness").join("tokens.json")
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

    pub fn put(&self, key: &str, record: TokenRecord) -> anyhow::Result<()> {
        let mut all = self.load()?;
        all.insert(key.to_string(), record);
        self.save(&all)
    }

    fn load(&self) -> anyhow::Result<BTreeMap<String, TokenRecord>> {
        match private_file::read(&self.path)? {
            Some(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "token store {} is corrupt; delete it and reconnect",
                    self.path.display()
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
