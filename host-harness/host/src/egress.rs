//! What a connector may reach, decided by its package and the operator, never by the
//! connector. A package declares `allowed_outbound_hosts` (in the manner of Spin's
//! `allowed_outbound_hosts` and Extism's `allowed_hosts`):
//!
//! - fixed origins: `https://na1.example.com`;
//! - templated origins bound to a named connection field: `https://{instance_url}` allows the
//!   origin of what the user typed into `instance_url`, and only if it is https and a public
//!   address (or loopback under `--allow-loopback`).
//!
//! For one connection form, [`EgressDeclaration::bind`] gives the origins the host allows; an
//! operator may narrow them further ([`Egress::operator_origins`]). The connector's plan may
//! only narrow them again: a plan, token URL or authorization URL outside them refuses the
//! connection before any request ([`crate::session`]).

use serde_json::{Map, Value};

use crate::policy::{EgressPolicy, canonical_origin, shown};

/// One entry of `allowed_outbound_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OutboundHost {
    /// A canonical origin.
    Fixed(String),
    /// `https://{field}`: the origin of the connection field's value.
    Field(String),
}

/// A package's `allowed_outbound_hosts`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressDeclaration {
    hosts: Vec<OutboundHost>,
}

/// Why a declaration entry could not be read.
#[derive(Debug, thiserror::Error)]
#[error("allowed_outbound_hosts entry `{entry}`: {why}")]
pub struct DeclarationError {
    entry: String,
    why: String,
}

impl EgressDeclaration {
    /// Parse entries: `https://host[:port]` or `https://{field}`. Only https: plain http is
    /// reachable only on loopback, which is the operator's choice (`--allow-loopback`), not
    /// the package's.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, DeclarationError> {
        let hosts = entries
            .iter()
            .map(|e| parse_entry(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(EgressDeclaration { hosts })
    }

    /// The entries as written in a manifest.
    pub fn entries(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| match h {
                OutboundHost::Fixed(origin) => origin.clone(),
                OutboundHost::Field(field) => format!("https://{{{field}}}"),
            })
            .collect()
    }

    /// The connection fields templated entries are bound to.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().filter_map(|h| match h {
            OutboundHost::Field(field) => Some(field.as_str()),
            OutboundHost::Fixed(_) => None,
        })
    }

    /// The origins a connection with this `form` may reach: every fixed origin, plus the
    /// origin of each templated field's value when it is an acceptable target.
    pub fn bind(&self, form: &Map<String, Value>, allow_loopback: bool) -> Bound {
        let mut bound = Bound::default();
        for host in &self.hosts {
            match host {
                OutboundHost::Fixed(origin) => bound.origins.push(origin.clone()),
                OutboundHost::Field(field) => match form.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.trim().is_empty() => {}
                    Some(Value::String(value)) => match bind_value(value, allow_loopback) {
                        Ok(origin) => bound.origins.push(origin),
                        Err(why) => bound.refused.push((field.clone(), why)),
                    },
                    Some(_) => bound
                        .refused
                        .push((field.clone(), "must be a URL, as text".into())),
                },
            }
        }
        bound.origins.sort();
        bound.origins.dedup();
        bound
    }
}

/// What one connection form may reach under a declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bound {
    /// Canonical origins.
    pub origins: Vec<String>,
    /// Templated fields whose values were refused as targets, and why.
    pub refused: Vec<(String, String)>,
}

/// The runtime's egress settings: the package's declaration and the operator's narrowing.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    pub declaration: EgressDeclaration,
    /// When set, only these origins (any spelling) may be reached, whatever the package
    /// declares (`--allow-origin`).
    pub operator_origins: Option<Vec<String>>,
}

impl Egress {
    /// The origins a connection with `form` may reach.
    pub fn allowed(&self, form: &Map<String, Value>, allow_loopback: bool) -> Bound {
        let mut bound = self.declaration.bind(form, allow_loopback);
        if let Some(operator) = &self.operator_origins {
            let operator: Vec<String> = operator
                .iter()
                .filter_map(|o| canonical_origin(o).ok())
                .collect();
            bound.origins.retain(|o| operator.contains(o));
        }
        bound
    }
}

fn parse_entry(entry: &str) -> Result<OutboundHost, DeclarationError> {
    let error = |why: &str| DeclarationError {
        entry: entry.to_string(),
        why: why.to_string(),
    };
    if let Some(rest) = entry.strip_prefix("https://{") {
        let field = rest
            .strip_suffix('}')
            .ok_or_else(|| error("a template is `https://{field}` and nothing else"))?;
        if field.is_empty()
            || !field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(error("the field name must be letters, digits, `_` or `-`"));
        }
        return Ok(OutboundHost::Field(field.to_string()));
    }
    if !entry.starts_with("https://") {
        return Err(error("only https origins may be declared"));
    }
    let parsed = url::Url::parse(entry).map_err(|e| error(&e.to_string()))?;
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        // A path would be ignored, and a reader would think it narrows something.
        return Err(error("an origin has no path, query or fragment"));
    }
    let origin = parsed.origin().ascii_serialization();
    // The declared host itself must be one the policy could ever reach.
    EgressPolicy::new(Vec::new(), false)
        .check_address(&origin)
        .map_err(|why| error(&why))?;
    Ok(OutboundHost::Fixed(origin))
}

/// The origin a templated field's value allows: an https URL (or a bare host, read as
/// https) of a public host; http and loopback only when loopback is allowed.
fn bind_value(value: &str, allow_loopback: bool) -> Result<String, String> {
    let value = value.trim();
    let url = if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    };
    let parsed = EgressPolicy::new(Vec::new(), allow_loopback)
        .check_address(&url)
        .map_err(|why| format!("`{}` cannot be reached: {why}", shown(value)))?;
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn fixed_and_templated_origins() {
        let d = EgressDeclaration::parse(&[
            "https://na1.example.com",
            "https://API.example.com:443/",
            "https://{instance_url}",
        ])
        .unwrap();
        assert_eq!(
            d.entries(),
            [
                "https://na1.example.com",
                "https://api.example.com",
                "https://{instance_url}"
            ]
        );
        let b = d.bind(
            &form(json!({"instance_url": "https://Acme.example.org/"})),
            false,
        );
        assert_eq!(
            b.origins,
            [
                "https://acme.example.org",
                "https://api.example.com",
                "https://na1.example.com"
            ]
        );
        assert!(b.refused.is_empty());
        // No value: the template allows nothing.
        let b = d.bind(&form(json!({})), false);
        assert_eq!(b.origins.len(), 2);
    }

    #[test]
    fn templated_values_must_be_public_https() {
        let d = EgressDeclaration::parse(&["https://{instance_url}"]).unwrap();
        for value in [
            "http://acme.example.org",
            "https://2130706433:8443",
            "https://127.1",
            "https://169.254.169.254",
            "https://user:pw@acme.example.org",
            "ftp://acme.example.org",
        ] {
            let b = d.bind(&form(json!({ "instance_url": value })), false);
            assert!(b.origins.is_empty(), "{value}");
            assert_eq!(b.refused[0].0, "instance_url", "{value}");
        }
        let b = d.bind(
            &form(json!({ "instance_url": ["https://a.example"] })),
            false,
        );
        assert!(b.refused[0].1.contains("as text"));
        // Loopback (the emulator) only when the operator allows it; http only there.
        let b = d.bind(
            &form(json!({ "instance_url": "http://127.0.0.1:4010" })),
            true,
        );
        assert_eq!(b.origins, ["http://127.0.0.1:4010"]);
        let b = d.bind(&form(json!({ "instance_url": "acme.example.org" })), false);
        assert_eq!(b.origins, ["https://acme.example.org"]);
    }

    #[test]
    fn bad_entries_are_refused() {
        for entry in [
            "http://na1.example.com",
            "https://{}",
            "https://{a b}",
            "https://{x}.example.com",
            "https://127.0.0.1",
            "https://10.0.0.1",
            "https://na1.example.com/api",
            "na1.example.com",
        ] {
            assert!(EgressDeclaration::parse(&[entry]).is_err(), "{entry}");
        }
    }

    #[test]
    fn the_operator_only_narrows() {
        let egress = Egress {
            declaration: EgressDeclaration::parse(&[
                "https://a.example.com",
                "https://b.example.com",
            ])
            .unwrap(),
            operator_origins: Some(vec![
                "https://B.example.com:443".into(),
                "https://c.example.com".into(),
            ]),
        };
        assert_eq!(
            egress.allowed(&Map::new(), false).origins,
            ["https://b.example.com"]
        );
    }
}
