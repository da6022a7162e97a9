//! What the host attaches to a request the guest marks `authenticate`, chosen by the
//! connector's plan: an OAuth token the host obtains and renews ([`Authenticator`]), or a
//! bearer token the user pasted into a secret field of the form, which the host can only send.
//! Either way the value comes from the form or the token store, never from the guest, and it
//! goes only where the egress policy lets the request go.

use std::sync::Arc;

use crate::bindings::connection::{AuthPlan, ConnectionPlan, GrantType};
use crate::egress::Bound;
use crate::oauth::{AuthError, Authenticator, Grant, OAuthSettings};
use crate::policy::shown;
use crate::report::{CallError, ErrorReport};
use crate::secret::{Redactor, Secret};
use crate::session::{ConnectionConfig, within};
use crate::token_store::TokenStore;

/// How the host authenticates one connection's requests.
pub enum Credential {
    OAuth(Box<Authenticator>),
    /// `auth-plan.bearer`: vendors whose API keys are long-lived tokens. Exchanging such a key
    /// for a fresh token may revoke the copy other integrations use, so the host never tries.
    Bearer(FormToken),
}

/// A bearer token from the connection form, sent as it is.
pub struct FormToken {
    token: Secret,
    /// The form field it came from, shown where the value never is.
    field: String,
}

impl FormToken {
    pub(crate) fn new(token: Secret, field: impl Into<String>) -> Self {
        FormToken {
            token,
            field: field.into(),
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::OAuth(_) => f.write_str("Credential::OAuth(<held by the host>)"),
            Credential::Bearer(t) => write!(f, "Credential::Bearer(field `{}`)", shown(&t.field)),
        }
    }
}

impl Credential {
    /// The token to send now (an OAuth token is fetched or refreshed when needed).
    pub async fn token(&self) -> Result<Secret, AuthError> {
        match self {
            Credential::OAuth(auth) => auth.bearer().await,
            Credential::Bearer(form) => Ok(form.token.clone()),
        }
    }

    /// After the API answered 401 to `rejected`: a renewed token to retry with, or `None`
    /// when this credential cannot be renewed and the 401 stands (the guest reports it).
    pub async fn renewed(&self, rejected: &Secret) -> Option<Result<Secret, AuthError>> {
        match self {
            Credential::OAuth(auth) => Some(auth.after_rejection(rejected).await),
            Credential::Bearer(_) => None,
        }
    }

    /// The OAuth client, for the commands that run its flows (`authorize`, `exchange`).
    pub fn oauth(&self) -> Option<&Authenticator> {
        match self {
            Credential::OAuth(auth) => Some(auth.as_ref()),
            Credential::Bearer(_) => None,
        }
    }

    /// The credential the plan asks for, from the form's secret fields. A plan naming a field
    /// that is not a secret field of the form, or a token endpoint the package and form do
    /// not allow, refuses the connection: a secret goes nowhere the connector alone chose.
    pub(crate) fn from_plan(
        plan: &ConnectionPlan,
        config: &ConnectionConfig,
        allowed: &Bound,
        secret_fields: &[String],
        tokens: TokenStore,
        http: &reqwest::Client,
        redactor: &mut Redactor,
    ) -> Result<Option<Arc<Credential>>, CallError> {
        let credential = match &plan.auth {
            AuthPlan::None => return Ok(None),
            AuthPlan::Bearer(bearer) => {
                let field = &bearer.token_field;
                let token = secret(
                    config,
                    secret_fields,
                    field,
                    "bearer token",
                    "required: the access token (it is sent as it is; the host cannot renew it)",
                )?;
                redactor.add(&token);
                Credential::Bearer(FormToken::new(token, field))
            }
            AuthPlan::Oauth2(oauth) => {
                // The client secret goes only where the package and the form allow, whatever
                // the connector's plan says.
                within(
                    std::slice::from_ref(&oauth.token_url),
                    allowed,
                    "the token endpoint",
                )?;
                if !oauth.authorize_url.is_empty() {
                    within(
                        std::slice::from_ref(&oauth.authorize_url),
                        allowed,
                        "the authorization endpoint",
                    )?;
                }
                let client_secret = secret(
                    config,
                    secret_fields,
                    &oauth.client_secret_field,
                    "client secret",
                    "required: the OAuth app's client secret",
                )?;
                redactor.add(&client_secret);
                let settings = OAuthSettings {
                    grant: match oauth.grant {
                        GrantType::ClientCredentials => Grant::ClientCredentials,
                        GrantType::AuthorizationCode => Grant::AuthorizationCode,
                    },
                    token_url: oauth.token_url.clone(),
                    authorize_url: oauth.authorize_url.clone(),
                    client_id: oauth.client_id.clone(),
                    scopes: oauth.scopes.clone(),
                    client_secret,
                };
                Credential::OAuth(Box::new(Authenticator::new(settings, tokens, http.clone())))
            }
        };
        Ok(Some(Arc::new(credential)))
    }
}

/// The value of the secret field `field`, which the plan names as its `what`.
fn secret(
    config: &ConnectionConfig,
    secret_fields: &[String],
    field: &str,
    what: &str,
    missing: &str,
) -> Result<Secret, CallError> {
    if !secret_fields.iter().any(|f| f == field) {
        return Err(ErrorReport::new(
            "invalid_config",
            format!(
                "the connector names `{}` as the {what}, which is not a secret field of its form",
                shown(field)
            ),
        )
        .into());
    }
    config.secret(field).ok_or_else(|| {
        ErrorReport::new("invalid_config", missing)
            .with_field(field)
            .into()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bindings::connection::BearerToken;

    fn plan(token_field: &str) -> ConnectionPlan {
        ConnectionPlan {
            auth: AuthPlan::Bearer(BearerToken {
                token_field: token_field.into(),
            }),
            allowed_origins: vec!["https://api.example.com".into()],
            base_url: "https://api.example.com/v1".into(),
        }
    }

    fn build(
        plan: &ConnectionPlan,
        form: serde_json::Value,
        redactor: &mut Redactor,
    ) -> Result<Option<Arc<Credential>>, CallError> {
        let dir = std::env::temp_dir().join(format!("credential-test-{}", std::process::id()));
        let config = ConnectionConfig::from_value(form).unwrap();
        let allowed = Bound {
            origins: vec!["https://api.example.com".into()],
            refused: Vec::new(),
        };
        Credential::from_plan(
            plan,
            &config,
            &allowed,
            &["access_token".to_string()],
            TokenStore::new(dir.join("tokens.json")),
            &reqwest::Client::new(),
            redactor,
        )
    }

    fn refusal(result: Result<Option<Arc<Credential>>, CallError>) -> ErrorReport {
        match result {
            Err(CallError::Connector(report)) => *report,
            Err(other) => panic!("expected a connector error, got {other}"),
            Ok(c) => panic!("expected a refusal, got {c:?}"),
        }
    }

    #[tokio::test]
    async fn a_form_token_is_sent_as_given_never_renewed_and_never_shown() {
        let mut redactor = Redactor::default();
        let credential = build(
            &plan("access_token"),
            json!({ "access_token": "pasted-profile-token-9f3a" }),
            &mut redactor,
        )
        .unwrap()
        .expect("a bearer credential");
        let token = credential.token().await.unwrap();
        assert_eq!(token.expose(), "pasted-profile-token-9f3a");
        // No exchange, no token store: a 401 stands.
        assert!(credential.renewed(&token).await.is_none());
        assert!(credential.oauth().is_none());
        let shown = format!("{credential:?}");
        assert!(!shown.contains("pasted-profile-token"), "{shown}");
        assert!(shown.contains("access_token"), "{shown}");
        assert_eq!(
            redactor.redact("Authorization: Bearer pasted-profile-token-9f3a"),
            "Authorization: Bearer <redacted>"
        );
    }

    #[test]
    fn a_missing_token_is_refused_naming_its_field() {
        let report = refusal(build(
            &plan("access_token"),
            json!({ "access_token": "" }),
            &mut Redactor::default(),
        ));
        assert_eq!(report.kind, "invalid_config");
        assert_eq!(report.field.as_deref(), Some("access_token"));
        assert!(
            report.message.contains("cannot renew"),
            "{}",
            report.message
        );
    }

    #[test]
    fn a_token_field_that_is_not_secret_is_refused() {
        // The plan could otherwise have the host send a value the guest saw, or any field.
        let report = refusal(build(
            &plan("region"),
            json!({ "region": "na1", "access_token": "pasted-profile-token-9f3a" }),
            &mut Redactor::default(),
        ));
        assert_eq!(report.kind, "invalid_config");
        assert!(
            report.message.contains("`region`") && report.message.contains("not a secret field"),
            "{}",
            report.message
        );
    }
}
