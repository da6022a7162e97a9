//! Egress policy: which URLs a connector may reach. Checked on every request the guest makes.

use http::Uri;

#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// `scheme://host[:port]` origins from the connection plan.
    allowed_origins: Vec<String>,
    /// Permit `http://127.0.0.1:*` / `http://localhost:*` (tests, the emulator).
    allow_loopback: bool,
}

impl EgressPolicy {
    pub fn new(allowed_origins: Vec<String>, allow_loopback: bool) -> Self {
        let allowed_origins = allowed_origins
            .into_iter()
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        EgressPolicy {
            allowed_origins,
            allow_loopback,
        }
    }

    /// Ok when the URL may be requested; otherwise why not.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("`{url}` is not a valid URL"))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err("URLs with credentials are not allowed".into());
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let loopback = is_loopback_or_private(&host);
        match (scheme, loopback) {
            ("https", false) => {}
            ("http" | "https", true) if self.allow_loopback && is_loopback(&host) => {}
            ("http" | "https", true) => {
                return Err(format!(
                    "`{host}` is a loopback or private address; the host refuses it (start the harness with --allow-loopback to reach a local emulator)"
                ));
            }
            ("http", false) => return Err("plain http is refused; use https".into()),
            _ => return Err(format!("scheme `{scheme}` is not allowed")),
        }
        let origin = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
        if self.allowed_origins.contains(&origin) {
            Ok(())
        } else {
            Err(format!(
                "`{origin}` is not a host this connection uses (allowed: {})",
                self.allowed_origins.join(", ")
            ))
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Literal loopback, private, link-local and unspecified addresses. (Names that resolve to
/// such addresses are caught after DNS resolution by the client's connector.)
fn is_loopback_or_private(host: &str) -> bool {
    use std::net::IpAddr;
    if is_loopback(host) || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_loopback()
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_unspecified()
                || ip.is_loopback()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_planned_https_origin() {
        let p = EgressPolicy::new(vec!["https://na1.ironcladapp.com".into()], false);
        assert!(
            p.check("https://na1.ironcladapp.com/public/api/v1/workflows?page=0")
                .is_ok()
        );
        assert!(
            p.check("https://eu1.ironcladapp.com/x")
                .unwrap_err()
                .contains("not a host")
        );
        assert!(
            p.check("http://na1.ironcladapp.com/x")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(p.check("https://user:pw@na1.ironcladapp.com/").is_err());
    }

    #[test]
    fn loopback_only_when_allowed() {
        let origin = "http://127.0.0.1:4010".to_string();
        let strict = EgressPolicy::new(vec![origin.clone()], false);
        assert!(
            strict
                .check("http://127.0.0.1:4010/oauth/token")
                .unwrap_err()
                .contains("--allow-loopback")
        );
        let relaxed = EgressPolicy::new(vec![origin], true);
        assert!(relaxed.check("http://127.0.0.1:4010/oauth/token").is_ok());
        assert!(relaxed.check("http://10.0.0.1/").is_err());
        assert!(
            relaxed
                .check("http://169.254.169.254/latest/meta-data")
                .is_err()
        );
        assert!(relaxed.check("http://127.0.0.1:9999/").is_err());
    }
}
