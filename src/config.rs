//! The connection form, parsed into types that cannot hold an invalid combination.
//! Every error names the form field and says what to change.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api_types::{ActingUser, ApiTypeSpec};
use crate::error::{ConnectorError, excerpt};

/// The form's JSON Schema (served by `describe`); `tests::schema_and_parser_agree` keeps it
/// and this parser in step.
pub const CONNECTION_SCHEMA: &str = include_str!("connection_schema.json");

/// Placeholder the host puts where a secret field was given (the guest never sees secrets).
pub const SECRET_PLACEHOLDER: &str = "<secret>";

const FIELDS: &[&str] = &[
    "api_type",
    "region",
    "instance_url",
    "grant_type",
    "client_id",
    "client_secret",
    "scopes",
    "impersonate_user",
    "site_access_id",
    "clickwrap_credential",
    "access_token",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiType {
    ClmPublic,
    ClmScim,
    ClickwrapRest,
    ClickwrapActivity,
}

impl ApiType {
    const ALL: [(&'static str, ApiType); 4] = [
        ("clm_public", ApiType::ClmPublic),
        ("clm_scim", ApiType::ClmScim),
        ("clickwrap_rest", ApiType::ClickwrapRest),
        ("clickwrap_activity", ApiType::ClickwrapActivity),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(s, _)| *s)
            .unwrap_or_default()
    }

    /// The API type of a form's `api_type` value.
    #[cfg(test)]
    pub fn named(name: &str) -> Option<ApiType> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Every API type, in the order `describe` lists their actions and triggers.
    pub fn all() -> impl Iterator<Item = ApiType> {
        Self::ALL.into_iter().map(|(_, t)| t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
}

impl Grant {
    const ALL: [(&'static str, Grant); 2] = [
        ("client_credentials", Grant::ClientCredentials),
        ("authorization_code", Grant::AuthorizationCode),
    ];
}

/// Who requests act as; sent as `x-as-user-email` or `x-as-user-id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Impersonation {
    Email(String),
    UserId(String),
}

impl Impersonation {
    pub fn header(&self) -> (&'static str, &str) {
        match self {
            Impersonation::Email(email) => ("x-as-user-email", email),
            Impersonation::UserId(id) => ("x-as-user-id", id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub grant: Grant,
    pub client_id: String,
    /// The form's `scopes`, checked; None asks for the API type's defaults.
    requested_scopes: Option<Vec<String>>,
    api_type: ApiType,
}

impl OAuthClient {
    /// A client of `api_type`'s connection asking for `scopes` (None: the type's defaults).
    pub(crate) fn new(
        api_type: ApiType,
        grant: Grant,
        client_id: String,
        scopes: Option<Vec<String>>,
    ) -> Self {
        OAuthClient {
            grant,
            client_id,
            requested_scopes: scopes,
            api_type,
        }
    }

    /// The scopes to request. The defaults are derived only here: every call parses the
    /// connection, but only `plan` needs them.
    pub fn scopes(&self) -> Vec<String> {
        self.requested_scopes
            .clone()
            .unwrap_or_else(|| (crate::api_types::spec(self.api_type).default_scopes)())
    }
}

/// How the host authenticates the connection's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Clickwrap Activity: the Site Access ID in every request, no credential.
    None,
    /// An OAuth client the host runs (CLM; Clickwrap REST's API key exchange).
    OAuth(OAuthClient),
    /// A token in the secret form field `field`, sent by the host as it is (Clickwrap REST's
    /// access token): nothing is exchanged, so nothing else is revoked.
    FormToken { field: &'static str },
}

/// A validated connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub api_type: ApiType,
    /// `scheme://host[:port]` of the Ironclad instance, without a trailing slash.
    pub origin: String,
    pub credential: Credential,
    pub impersonation: Option<Impersonation>,
    pub site_access_id: Option<String>,
}

impl Connection {
    pub fn parse(config: &str) -> Result<Connection, ConnectorError> {
        let value: Value = serde_json::from_str(config).map_err(|e| {
            ConnectorError::config("", format!("the connection is not valid JSON: {e}"))
        })?;
        let Value::Object(form) = value else {
            return Err(ConnectorError::config(
                "",
                "the connection must be a JSON object",
            ));
        };
        Self::from_form(&form)
    }

    fn from_form(form: &Map<String, Value>) -> Result<Connection, ConnectorError> {
        if let Some(unknown) = form.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(ConnectorError::config(
                unknown,
                format!("unknown field; expected one of {}", FIELDS.join(", ")),
            ));
        }
        let api_type = choice(form, "api_type", &ApiType::ALL)?;
        // What differs by API type is the type's own (`api_types::spec`).
        let spec = crate::api_types::spec(api_type);
        let origin = origin(form, spec)?;
        let credential = (spec.credential)(form, api_type)?;
        let impersonation = match text(form, "impersonate_user")? {
            Some(who) if spec.acting_user != ActingUser::Never => Some(impersonation(who)?),
            _ => None,
        };
        if spec.acting_user == ActingUser::RequiredWithClientCredentials
            && impersonation.is_none()
            && matches!(&credential, Credential::OAuth(o) if o.grant == Grant::ClientCredentials)
        {
            return Err(ConnectorError::config(
                "impersonate_user",
                "required with the client credentials grant: Ironclad needs the email or user id \
                 of the user requests act as",
            ));
        }
        let site_access_id = (spec.site_access_id)(text(form, "site_access_id")?)?;
        Ok(Connection {
            api_type,
            origin,
            credential,
            impersonation,
            site_access_id,
        })
    }

    /// The OAuth client the host runs for this connection, if it runs one.
    pub fn oauth(&self) -> Option<&OAuthClient> {
        match &self.credential {
            Credential::OAuth(client) => Some(client),
            Credential::None | Credential::FormToken { .. } => None,
        }
    }

    /// Base URL of the CLM Public API.
    pub fn public_api_base(&self) -> String {
        format!("{}/public/api/v1", self.origin)
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.origin)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.origin)
    }

    pub fn userinfo_url(&self) -> String {
        format!("{}/oauth/userinfo", self.origin)
    }

    /// Eight hex digits naming the data this connection reads: its API type, its instance (or
    /// Clickwrap host) and its Clickwrap site. Cursors carry it ([`crate::owner`]), so one made
    /// on another connection is refused rather than read against other data. Credentials and
    /// the acting user are left out: they change who reads, not what a position means.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.api_type.as_str(),
            &self.origin,
            self.site_access_id.as_deref().unwrap_or_default(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// An OAuth client credential from the CLM form fields (`grant_type`, `client_id`,
/// `client_secret`, `scopes`).
pub fn oauth_credential(
    form: &Map<String, Value>,
    api_type: ApiType,
) -> Result<Credential, ConnectorError> {
    Ok(Credential::OAuth(oauth_client(form, api_type)?))
}

fn oauth_client(
    form: &Map<String, Value>,
    api_type: ApiType,
) -> Result<OAuthClient, ConnectorError> {
    let grant = choice(form, "grant_type", &Grant::ALL)?;
    let client_id = text(form, "client_id")?.ok_or_else(|| {
        ConnectorError::config("client_id", "required: the OAuth app's client id")
    })?;
    if !is_uuid(client_id) {
        return Err(ConnectorError::config(
            "client_id",
            "Ironclad client ids are UUIDs like 3f2b...-...; copy it from Company Settings > API",
        ));
    }
    if text(form, "client_secret")?.is_none() {
        return Err(ConnectorError::config(
            "client_secret",
            "required: the OAuth app's client secret",
        ));
    }
    let requested_scopes: Option<Vec<String>> =
        text(form, "scopes")?.map(|list| list.split_whitespace().map(str::to_string).collect());
    if let Some(bad) = requested_scopes.iter().flatten().find(|s| {
        !s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    }) {
        return Err(ConnectorError::config(
            "scopes",
            format!(
                "`{}` is not a scope name; separate scopes with spaces, e.g. `public.workflows.readWorkflows public.records.readRecords`",
                excerpt(bad)
            ),
        ));
    }
    Ok(OAuthClient {
        grant,
        client_id: client_id.to_string(),
        requested_scopes,
        api_type,
    })
}

/// The form's regions: an Ironclad CLM instance host each (`custom`: the form's
/// `instance_url`). Other API types map the same names onto their own hosts.
const REGIONS: [(&str, Option<&str>); 4] = [
    ("na1", Some("https://na1.ironcladapp.com")),
    ("eu1", Some("https://eu1.ironcladapp.com")),
    ("demo", Some("https://demo.ironcladapp.com")),
    ("custom", None),
];

/// The Ironclad CLM instance origin of a region (both CLM APIs live on the instance).
pub fn clm_origin(region: &str) -> Result<Option<&'static str>, ConnectorError> {
    Ok(REGIONS
        .iter()
        .find(|(name, _)| *name == region)
        .and_then(|(_, o)| *o))
}

/// The origin for the chosen region, as the API type maps regions to hosts.
fn origin(form: &Map<String, Value>, spec: &ApiTypeSpec) -> Result<String, ConnectorError> {
    let region = choice(form, "region", &REGIONS.map(|(name, _)| (name, name)))?;
    let fixed = (spec.origin)(region)?;
    match fixed {
        Some(fixed) => Ok(fixed.to_string()),
        None => {
            let url = text(form, "instance_url")?.ok_or_else(|| {
                ConnectorError::config(
                    "instance_url",
                    "required when region is `custom`, e.g. https://acme.ironcladapp.com",
                )
            })?;
            instance_origin(url)
        }
    }
}

/// Accept `scheme://host[:port][/]` only: the API paths are appended by the connector.
fn instance_origin(raw: &str) -> Result<String, ConnectorError> {
    let bad = |why: &str| {
        ConnectorError::config(
            "instance_url",
            format!(
                "`{}` {why}; expected a URL like https://acme.ironcladapp.com",
                excerpt(raw)
            ),
        )
    };
    let uri: http::Uri = raw.parse().map_err(|_| bad("is not a valid URL"))?;
    let scheme = uri.scheme_str().ok_or_else(|| bad("has no scheme"))?;
    if scheme != "https" && scheme != "http" {
        return Err(bad("must use https"));
    }
    let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("must not contain credentials"));
    }
    if authority.host().is_empty() {
        return Err(bad("has no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() || raw.contains('#') {
        return Err(bad("must not have a path, query or fragment"));
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

fn impersonation(who: &str) -> Result<Impersonation, ConnectorError> {
    if who.contains('@') {
        let valid = who.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !who.chars().any(|c| c.is_whitespace());
        if !valid {
            return Err(ConnectorError::config(
                "impersonate_user",
                format!("`{}` is not a valid email address", excerpt(who)),
            ));
        }
        Ok(Impersonation::Email(who.to_string()))
    } else if who.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(Impersonation::UserId(who.to_string()))
    } else {
        Err(ConnectorError::config(
            "impersonate_user",
            format!(
                "`{}` is neither an email nor an Ironclad user id (letters and digits only)",
                excerpt(who)
            ),
        ))
    }
}

/// A required enum field.
fn choice<T: Copy>(
    form: &Map<String, Value>,
    field: &str,
    options: &[(&str, T)],
) -> Result<T, ConnectorError> {
    let names = || {
        options
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let given = text(form, field)?
        .ok_or_else(|| ConnectorError::config(field, format!("required; one of {}", names())))?;
    options
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            ConnectorError::config(
                field,
                format!(
                    "unknown value `{}`; expected one of {}",
                    excerpt(given),
                    names()
                ),
            )
        })
}

/// An optional string field; blank counts as absent.
pub(crate) fn text<'a>(
    form: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ConnectorError> {
    match form.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(other) => Err(ConnectorError::config(
            field,
            format!("must be a string, got {other}"),
        )),
    }
}

pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLIENT: &str = "6c7e2f52-3a51-4b8e-9d43-1f0c2b7a9e10";

    fn cc(extra: Value) -> Value {
        let mut base = json!({
            "api_type": "clm_public", "region": "na1", "grant_type": "client_credentials",
            "client_id": CLIENT, "client_secret": SECRET_PLACEHOLDER,
            "impersonate_user": "jane@acme.example"
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    }

    fn parse(v: Value) -> Result<Connection, ConnectorError> {
        Connection::parse(&v.to_string())
    }

    fn field_of(err: ConnectorError) -> String {
        match err {
            ConnectorError::InvalidConfig { field, .. } => field,
            other => panic!("expected invalid_config, got {other:?}"),
        }
    }

    #[test]
    fn client_credentials_with_email() {
        let c = parse(cc(json!({}))).unwrap();
        assert_eq!(c.origin, "https://na1.ironcladapp.com");
        assert_eq!(
            c.public_api_base(),
            "https://na1.ironcladapp.com/public/api/v1"
        );
        assert_eq!(
            c.impersonation.as_ref().unwrap().header(),
            ("x-as-user-email", "jane@acme.example")
        );
        let oauth = c.oauth().unwrap();
        assert_eq!(oauth.grant, Grant::ClientCredentials);
        assert!(
            oauth
                .scopes()
                .contains(&"public.workflows.readWorkflows".to_string())
        );
    }

    #[test]
    fn user_id_impersonation_and_custom_region() {
        let c = parse(cc(json!({
            "impersonate_user": "63d415e0dd0d828c3a878548",
            "region": "custom", "instance_url": "http://127.0.0.1:8080/"
        })))
        .unwrap();
        assert_eq!(c.origin, "http://127.0.0.1:8080");
        assert_eq!(
            c.impersonation.unwrap().header(),
            ("x-as-user-id", "63d415e0dd0d828c3a878548")
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!({"client_id": null}), "client_id"),
            (json!({"client_id": "not-a-uuid"}), "client_id"),
            (json!({"client_secret": ""}), "client_secret"),
            (json!({"region": "mars"}), "region"),
            (json!({"region": "custom"}), "instance_url"),
            (
                json!({"region": "custom", "instance_url": "ftp://x"}),
                "instance_url",
            ),
            (
                json!({"region": "custom", "instance_url": "https://a.example/path"}),
                "instance_url",
            ),
            (
                json!({"region": "custom", "instance_url": "not a url"}),
                "instance_url",
            ),
            (json!({"impersonate_user": null}), "impersonate_user"),
            (json!({"impersonate_user": "jane@"}), "impersonate_user"),
            (json!({"grant_type": "password"}), "grant_type"),
            (json!({"api_type": "soap"}), "api_type"),
            (json!({"scopes": "a,b"}), "scopes"),
            (json!({"regoin": "na1"}), "regoin"),
        ];
        for (patch, field) in cases {
            assert_eq!(
                field_of(parse(cc(patch.clone())).unwrap_err()),
                field,
                "{patch}"
            );
        }
    }

    #[test]
    fn authorization_code_needs_no_impersonation() {
        let c = parse(cc(
            json!({"grant_type": "authorization_code", "impersonate_user": null}),
        ))
        .unwrap();
        assert!(c.impersonation.is_none());
    }

    #[test]
    fn clickwrap_activity_needs_site_id_not_oauth() {
        let form = json!({"api_type": "clickwrap_activity", "region": "na1"});
        assert_eq!(field_of(parse(form).unwrap_err()), "site_access_id");
        let form = json!({"api_type": "clickwrap_activity", "region": "na1",
                          "site_access_id": "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317"});
        let conn = parse(form).unwrap();
        assert_eq!(conn.credential, Credential::None);
        assert_eq!(conn.origin, "https://pactsafe.io");
    }

    #[test]
    fn scim_defaults_scopes() {
        let c = parse(cc(json!({"api_type": "clm_scim"}))).unwrap();
        assert_eq!(
            c.oauth().unwrap().scopes(),
            ["scim.users.readUsers", "scim.groups.readGroups"]
        );
    }

    #[test]
    fn schema_and_parser_agree() {
        let schema: Value = serde_json::from_str(CONNECTION_SCHEMA).unwrap();
        let props = schema["properties"].as_object().unwrap();
        let names: Vec<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(names.len(), FIELDS.len());
        assert!(FIELDS.iter().all(|f| names.contains(f)));
        let enums =
            |f: &str| -> Vec<String> { serde_json::from_value(props[f]["enum"].clone()).unwrap() };
        assert_eq!(enums("api_type"), ApiType::ALL.map(|(n, _)| n.to_string()));
        assert_eq!(enums("grant_type"), Grant::ALL.map(|(n, _)| n.to_string()));
        for region in enums("region") {
            let form = cc(json!({"region": region, "instance_url": "https://x.example"}));
            parse(form).unwrap();
        }
        assert_eq!(props["client_secret"]["x-secret"], true);
        assert_eq!(props["access_token"]["x-secret"], true);
    }
}
