//! Egress policy: which URLs a connector may reach. Checked on every request the guest makes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
        // `localhost.` is `localhost`: a trailing dot must not slip a name past the checks.
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let loopback = is_loopback_or_private(&host);
        if let Some(ip) = host.parse::<IpAddr>().ok().filter(|_| !is_loopback(&host))
            && let Some(kind) = non_public(ip)
        {
            return Err(format!("`{host}` is a {kind} address; the host refuses it"));
        }
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

/// Literal addresses that are not public, and `localhost` names. Names that resolve to
/// such addresses are refused after DNS resolution ([`crate::resolver`]).
fn is_loopback_or_private(host: &str) -> bool {
    is_loopback(host)
        || host.ends_with(".localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| non_public(ip).is_some())
}

/// Why `ip` is not a public unicast address (loopback, private, link-local where cloud
/// metadata services live, carrier-grade NAT, documentation, multicast, reserved), or None
/// when it is one. IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4) is judged as
/// the IPv4 address it carries.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "\"this network\" (0.0.0.0/8)",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local (cloud metadata)",
        (100, 64..=127, _) => "shared carrier-grade NAT",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved or broadcast",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        non_public_v4(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        ))
    };
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => Some("unspecified"),
        [0, 0, 0, 0, 0, 0, 0, 1] => Some("loopback"),
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): an IPv4 address in disguise.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => {
            Some(embedded(hi, lo).unwrap_or("IPv4-in-IPv6"))
        }
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] | [0x2002, hi, lo, ..] => embedded(hi, lo),
        [0x2001, 0x0db8, ..] => Some("documentation"),
        [0x0100, 0, 0, 0, ..] => Some("discard-only"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("unique local (private)"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("link-local"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("site-local"),
        [first, ..] if first & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
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

    #[test]
    fn literal_non_public_addresses_are_refused_whatever_the_plan_says() {
        for url in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.1.2.3/",
            "https://172.20.0.1/",
            "https://192.168.1.1/",
            "https://100.100.100.200/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://localhost./",
            "https://api.localhost/",
        ] {
            let origin = url
                .trim_end_matches('/')
                .split('/')
                .take(3)
                .collect::<Vec<_>>()
                .join("/");
            let strict = EgressPolicy::new(vec![origin.clone()], false);
            assert!(strict.check(url).is_err(), "{url} must be refused");
            // --allow-loopback lets loopback through, and nothing else.
            let relaxed = EgressPolicy::new(vec![origin], true);
            let loopback = ["https://[::1]/", "https://localhost./"].contains(&url);
            assert_eq!(relaxed.check(url).is_ok(), loopback, "{url}");
        }
    }

    #[test]
    fn classifies_addresses() {
        let kind = |s: &str| non_public(s.parse().unwrap());
        assert_eq!(kind("169.254.169.254"), Some("link-local (cloud metadata)"));
        assert_eq!(kind("::ffff:10.0.0.1"), Some("private"));
        assert_eq!(kind("64:ff9b::7f00:1"), Some("loopback"));
        assert_eq!(
            kind("2002:a9fe:a9fe::"),
            Some("link-local (cloud metadata)")
        );
        assert_eq!(kind("fd00:ec2::254"), Some("unique local (private)"));
        for public in ["52.1.2.3", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"] {
            assert_eq!(kind(public), None, "{public}");
        }
    }
}
