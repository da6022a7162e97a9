//! OAuth state: access tokens, refresh grants and authorization codes, as the OAuth server
//! (`infra::oauth`) issues them and authentication (`infra::auth`) reads them.

/// How an access token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub client_id: String,
    pub grant: Grant,
    /// The consenting user for authorization-code tokens.
    pub user_id: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user_id: String,
    /// The scopes originally granted; a refresh may narrow but never widen them.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    /// `(method, challenge)` when the authorize request carried PKCE.
    pub pkce: Option<(String, String)>,
    pub expires_at_ms: i64,
}
