//! OAuth 2.0, run by the host on the connector's behalf: client credentials, authorization
//! code with PKCE, refresh with rotation. Tokens live in the [`TokenStore`]; no token or
//! secret is ever printed, logged or put in an error.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::http_import::describe_error;
use crate::secret::{Redactor, Secret};
use crate::token_store::{PendingAuthorization, TokenRecord, TokenStore};

/// Renew this long before the announced expiry, so a token never dies mid-request.
const EXPIRY_SKEW_SECS: u64 = 60;
/// A token endpoint that does not answer in this long is reported, not waited for.
const TOKEN_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
}

impl Grant {
    fn as_str(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::AuthorizationCode => "authorization_code",
        }
    }
}

/// What the connector's plan says, plus the secret only the host holds.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub grant: Grant,
    pub token_url: String,
    pub authorize_url: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub client_secret: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the token endpoint refused the request ({status} {error}{}){}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
        hint(error)
    )]
    Refused {
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error(
        "this connection is not authorized yet: run `connector-harness authorize` and then `exchange`"
    )]
    NotAuthorized,
    #[error(
        "no authorization is pending for this connection: run `connector-harness authorize` first"
    )]
    NoPendingAuthorization,
    #[error("could not reach the token endpoint: {0}")]
    Transport(String),
    /// The egress policy refused the token endpoint's address.
    #[error("the token endpoint is refused: {0}")]
    Denied(String),
    #[error("the token endpoint answered {0} with a body that is not a token response")]
    BadResponse(u16),
    #[error("token store: {0:#}")]
    Store(#[from] anyhow::Error),
}

fn hint(error: &str) -> &'static str {
    match error {
        "invalid_client" | "unauthorized_client" => {
            "; check client_id and client_secret, and that the app allows this grant type"
        }
        "invalid_grant" => {
            "; the authorization or refresh token is no longer valid: reconnect with `authorize`"
        }
        "invalid_scope" => {
            "; request only scopes registered on the OAuth app (connection field `scopes`)"
        }
        _ => "",
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// What `exchange` reports: facts about the grant, never the tokens.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GrantSummary {
    pub expires_at: Option<u64>,
    pub scope: Option<String>,
    pub refreshable: bool,
}

pub struct Authenticator {
    settings: OAuthSettings,
    store: TokenStore,
    key: String,
    http: reqwest::Client,
    /// Serialises token work: concurrent requests share one refresh (single flight).
    current: Mutex<Option<TokenRecord>>,
    /// A renewal the token store could not keep, to write on the next use.
    unsaved: std::sync::Mutex<Option<TokenRecord>>,
}

/// A renewal, and whether the token store kept it.
enum Renewed {
    Kept(TokenRecord),
    Unsaved(TokenRecord, anyhow::Error),
}

impl Authenticator {
    pub fn new(settings: OAuthSettings, store: TokenStore, http: reqwest::Client) -> Self {
        let key = TokenStore::key(
            &settings.token_url,
            &settings.client_id,
            settings.grant.as_str(),
            &settings.scopes.join(" "),
            settings.client_secret.expose(),
        );
        Authenticator {
            settings,
            store,
            key,
            http,
            current: Mutex::new(None),
            unsaved: std::sync::Mutex::new(None),
        }
    }

    pub fn register_secrets(&self, redactor: &mut Redactor) {
        redactor.add(&self.settings.client_secret);
    }

    /// A valid access token, fetched or refreshed when needed.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        let mut current = self.current.lock().await;
        self.keep_unsaved();
        let record = match current.take() {
            Some(r) => r,
            None => remembered(self.store.get(&self.key)?),
        };
        let record = if is_fresh(&record) {
            record
        } else {
            self.renew(record, None).await?
        };
        let token = record
            .access_token
            .clone()
            .map(Secret::new)
            .ok_or(AuthError::NotAuthorized)?;
        *current = Some(record);
        Ok(token)
    }

    /// Called after a 401 with `rejected`: renew once, unless another request already did.
    pub async fn after_rejection(&self, rejected: &Secret) -> Result<Secret, AuthError> {
        {
            let mut current = self.current.lock().await;
            let record = match current.take() {
                Some(r) => r,
                None => self.store.get(&self.key)?,
            };
            let renewed = if record.access_token.as_deref() == Some(rejected.expose()) {
                self.renew(
                    TokenRecord {
                        access_token: None,
                        expires_at: None,
                        ..record
                    },
                    Some(rejected.expose()),
                )
                .await?
            } else {
                record
            };
            *current = Some(renewed);
        }
        self.bearer().await
    }

    /// Client credentials: a new token. Authorization code: refresh (rotating the refresh token).
    /// `rejected`: an access token the API refused, never to be taken back from the store.
    async fn renew(
        &self,
        record: TokenRecord,
        rejected: Option<&str>,
    ) -> Result<TokenRecord, AuthError> {
        let rejected = rejected.map(str::to_string);
        // Persist before use: a rotated refresh token that is lost locks the user out. The
        // renewal runs to the end on its own task, so a call stopped at its deadline cannot
        // drop a rotated token between Ironclad issuing it and the store keeping it.
        let (http, settings) = (self.http.clone(), self.settings.clone());
        let (store, key) = (self.store.clone(), self.key.clone());
        tokio::spawn(async move {
            // One renewal per connection at a time across processes: under this
            // connection's lock, a renewal another process finished meanwhile is used
            // instead of spending the refresh token again.
            let (lock_store, lock_key) = (store.clone(), key.clone());
            let _lock = tokio::task::spawn_blocking(move || lock_store.lock_key(&lock_key))
                .await
                .map_err(|e| AuthError::Transport(format!("waiting for the token lock: {e}")))??;
            let latest = store.get(&key)?;
            if latest.access_token.is_some()
                && latest.access_token != record.access_token
                && latest.access_token != rejected
                && is_fresh(&latest)
            {
                return Ok(Renewed::Kept(remembered(latest)));
            }
            // A refresh token is spent by the request below: make sure its successor can be
            // kept before spending it.
            store.check_writable()?;
            // The store's latest refresh token: another process may have rotated it.
            let previous = latest.refresh_token.or(record.refresh_token);
            let body = renewal_body(&settings, previous.as_deref())?;
            let fresh = token_request(&http, &settings.token_url, body, previous).await?;
            match store.put(&key, fresh.clone()) {
                Ok(()) => Ok(Renewed::Kept(fresh)),
                // Issued but not kept: the token serves this session from memory, and
                // keeping it is tried again on the next use, rather than losing it.
                Err(e) => Ok(Renewed::Unsaved(fresh, e)),
            }
        })
        .await
        .map_err(|e| AuthError::Transport(format!("the token renewal did not finish: {e}")))?
        .map(|renewed| self.note(renewed))
    }

    /// A renewal's record; one that could not be written is kept in memory for another try.
    fn note(&self, renewed: Renewed) -> TokenRecord {
        match renewed {
            Renewed::Kept(record) => record,
            Renewed::Unsaved(record, error) => {
                eprintln!(
                    "warning: a renewed token could not be written to the token store ({error:#}); it is kept in memory and written on its next use"
                );
                *self.unsaved.lock().unwrap_or_else(|p| p.into_inner()) = Some(record.clone());
                record
            }
        }
    }

    /// Write a renewal that could not be written before, if any.
    fn keep_unsaved(&self) {
        let mut unsaved = self.unsaved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(record) = unsaved.take()
            && let Err(e) = self.store.put(&self.key, record.clone())
        {
            eprintln!("warning: the token store is still not writable ({e:#})");
            *unsaved = Some(record);
        }
    }

    /// The authorization URL (with state and a PKCE S256 challenge). The verifier waits in
    /// the token store for `exchange`.
    pub fn authorization_url(&self, redirect_uri: &str) -> Result<(String, String), AuthError> {
        let state = random_token(16);
        let code_verifier = random_token(48);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()));
        let query = [
            ("response_type", "code"),
            ("client_id", self.settings.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", &self.settings.scopes.join(" ")),
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        let url = format!("{}?{}", self.settings.authorize_url, query.join("&"));
        let mut record = self.store.get(&self.key)?;
        record.pending = Some(PendingAuthorization {
            state: state.clone(),
            code_verifier,
            redirect_uri: redirect_uri.into(),
        });
        self.store.put(&self.key, record)?;
        Ok((url, state))
    }

    /// Trade the code from the redirect for tokens and store them.
    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<GrantSummary, AuthError> {
        let record = self.store.get(&self.key)?;
        let pending = record.pending.ok_or(AuthError::NoPendingAuthorization)?;
        let body = json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.expose(),
            "code_verifier": pending.code_verifier,
        });
        let fresh = token_request(&self.http, &self.settings.token_url, body, None).await?;
        self.store.put(&self.key, fresh.clone())?;
        *self.current.lock().await = Some(fresh.clone());
        Ok(GrantSummary {
            expires_at: fresh.expires_at,
            scope: fresh.scope,
            refreshable: fresh.refresh_token.is_some(),
        })
    }
}

/// Client credentials: a new token. Authorization code: a refresh with `refresh`.
fn renewal_body(
    settings: &OAuthSettings,
    refresh: Option<&str>,
) -> Result<serde_json::Value, AuthError> {
    Ok(match settings.grant {
        Grant::ClientCredentials => json!({
            "grant_type": "client_credentials",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.expose(),
            "scope": settings.scopes.join(" "),
        }),
        Grant::AuthorizationCode => json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh.ok_or(AuthError::NotAuthorized)?,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.expose(),
        }),
    })
}

async fn token_request(
    http: &reqwest::Client,
    token_url: &str,
    body: serde_json::Value,
    previous_refresh: Option<String>,
) -> Result<TokenRecord, AuthError> {
    let response = http
        .post(token_url)
        .header("accept", "application/json")
        .timeout(TOKEN_REQUEST_TIMEOUT)
        .json(&body)
        .send()
        .await
        // reqwest errors name the URL, never the body; the causes say why (a refused
        // address, a reset).
        .map_err(|e| match crate::resolver::refusal(&e) {
            Some(refused) => AuthError::Denied(refused.to_string()),
            None => AuthError::Transport(describe_error(&e.without_url())),
        })?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    if !(200..300).contains(&status) {
        let parsed: Option<OAuthErrorBody> = serde_json::from_slice(&bytes).ok();
        let (error, description) = parsed
            .map(|b| (b.error, b.error_description))
            .unwrap_or((None, None));
        return Err(AuthError::Refused {
            status,
            error: error.unwrap_or_else(|| "error".into()),
            description,
        });
    }
    let token: TokenResponse =
        serde_json::from_slice(&bytes).map_err(|_| AuthError::BadResponse(status))?;
    Ok(remembered(TokenRecord {
        access_token: Some(token.access_token),
        expires_at: token.expires_in.map(|s| now() + s),
        // Some servers do not rotate: keep the old refresh token then.
        refresh_token: token.refresh_token.or(previous_refresh),
        scope: token.scope,
        pending: None,
    }))
}

/// Tokens join the secrets this process masks wherever text leaves it (panics included).
fn remembered(record: TokenRecord) -> TokenRecord {
    for token in [&record.access_token, &record.refresh_token]
        .into_iter()
        .flatten()
    {
        crate::secret::remember(token);
    }
    record
}

fn is_fresh(record: &TokenRecord) -> bool {
    record.access_token.is_some()
        && record
            .expires_at
            .is_none_or(|at| now() + EXPIRY_SKEW_SECS < at)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `bytes` random bytes as unpadded URL-safe base64: OAuth `state`, PKCE verifiers, the studio's
/// per-run token.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_errors_explain_without_secrets() {
        let e = AuthError::Refused {
            status: 401,
            error: "invalid_client".into(),
            description: Some("invalid client".into()),
        };
        let text = e.to_string();
        assert!(
            text.contains("401 invalid_client: invalid client"),
            "{text}"
        );
        assert!(text.contains("check client_id and client_secret"));
    }

    #[test]
    fn freshness_uses_skew() {
        let mut r = TokenRecord {
            access_token: Some("t".into()),
            expires_at: Some(now() + 30),
            ..Default::default()
        };
        assert!(!is_fresh(&r));
        r.expires_at = Some(now() + 3600);
        assert!(is_fresh(&r));
        assert!(!is_fresh(&TokenRecord::default()));
    }
}
