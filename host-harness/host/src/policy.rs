//! Egress policy: which URLs a connector may reach. Checked on every request the guest makes
//! and on every redirect hop.
//!
//! A URL is parsed once, by the parser the transport uses (`reqwest::Url`, WHATWG rules), and
//! the request is sent to that parsed URL. So `https://2130706433/`, `https://0x7f.1/`,
//! `https://127.1/` and `https://%31%32%37.0.0.1/` are judged as what they are, 127.0.0.1,
//! and not as names; a literal address is judged here, a name by the resolver after DNS
//! ([`crate::resolver`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Origin, Url};

#[derive(Debug, Clone)]
pub struct EgressPolicy {
    /// Canonical `scheme://host[:port]` origins this connection may reach.
    allowed_origins: Vec<String>,
    /// Permit loopback addresses (tests, a local emulator): `--allow-loopback`.
    allow_loopback: bool,
}

impl EgressPolicy {
    /// `allowed_origins` in any spelling the URL parser accepts; unparseable ones allow nothing.
    pub fn new(allowed_origins: Vec<String>, allow_loopback: bool) -> Self {
        let allowed_origins = allowed_origins
            .iter()
            .filter_map(|o| canonical_origin(o).ok())
            .collect();
        EgressPolicy {
            allowed_origins,
            allow_loopback,
        }
    }

    /// The canonical origins this policy allows.
    pub fn origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The URL to send when `url` may be requested; otherwise why not.
    pub fn check(&self, url: &str) -> Result<Url, String> {
        let parsed = self.check_address(url)?;
        let origin = parsed.origin().ascii_serialization();
        if self.allowed_origins.contains(&origin) {
            Ok(parsed)
        } else {
            Err(format!(
                "`{origin}` is not a host this connection may reach (allowed: {})",
                self.allowed_origins.join(", ")
            ))
        }
    }

    /// Everything but the origin allow-list: the scheme, no credentials, and a host that is a
    /// public address or a name (names are judged after resolution), loopback only when
    /// allowed. The parsed URL, canonical.
    pub fn check_address(&self, url: &str) -> Result<Url, String> {
        let parsed =
            Url::parse(url).map_err(|e| format!("`{}` is not a valid URL: {e}", shown(url)))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("URLs with credentials are not allowed".into());
        }
        let scheme = parsed.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(format!("scheme `{scheme}` is not allowed"));
        }
        let loopback = match parsed.host() {
            None => return Err(format!("`{}` has no host", shown(url))),
            Some(Host::Ipv4(ip)) => self.judge_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.judge_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => {
                // `localhost.` is `localhost`: a trailing dot must not slip a name past the checks.
                let name = name.trim_end_matches('.');
                if name == "localhost" || name.ends_with(".localhost") {
                    if !(self.allow_loopback && name == "localhost") {
                        return Err(format!("`{name}` is a loopback name; {LOOPBACK_HINT}"));
                    }
                    true
                } else {
                    false
                }
            }
        };
        if scheme == "http" && !loopback {
            return Err("plain http is refused; use https".into());
        }
        Ok(parsed)
    }

    /// Whether `ip` may be reached: loopback when allowed (true), a public address (false).
    fn judge_ip(&self, ip: IpAddr) -> Result<bool, String> {
        match non_public(ip) {
            None => Ok(false),
            Some(_) if ip.is_loopback() && self.allow_loopback => Ok(true),
            Some("loopback") => Err(format!("`{ip}` is a loopback address; {LOOPBACK_HINT}")),
            Some(kind) => Err(format!("`{ip}` is a {kind} address; the host refuses it")),
        }
    }
}

const LOOPBACK_HINT: &str =
    "the host refuses it (start the harness with --allow-loopback to reach a local emulator)";

/// `scheme://host[:port]` of `url` as the URL parser writes it (lowercase, default port
/// dropped, IPv4 in dotted decimal, IPv6 compressed).
pub fn canonical_origin(url: &str) -> Result<String, String> {
    let parsed =
        Url::parse(url).map_err(|e| format!("`{}` is not a valid URL: {e}", shown(url)))?;
    match parsed.origin() {
        origin @ Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        Origin::Opaque(_) => Err(format!("`{}` has no origin", shown(url))),
    }
}

/// A URL as an error message shows it: bounded, whatever the guest sent.
pub fn shown(text: &str) -> String {
    const MAX: usize = 120;
    if text.len() <= MAX {
        return text.to_string();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes)", &text[..cut], text.len())
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

    /// `fixtures/egress/non-public-spellings.txt`, with PORT filled in.
    fn spellings(port: u16) -> Vec<String> {
        include_str!("../../../fixtures/egress/non-public-spellings.txt")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.replace("PORT", &port.to_string()))
            .collect()
    }

    #[test]
    fn only_the_allowed_https_origin() {
        let p = EgressPolicy::new(vec!["https://api.example.com".into()], false);
        let sent = p
            .check("https://API.example.com:443/v1/items?page=0")
            .unwrap();
        assert_eq!(sent.as_str(), "https://api.example.com/v1/items?page=0");
        assert!(
            p.check("https://other.example.com/x")
                .unwrap_err()
                .contains("not a host")
        );
        assert!(
            p.check("http://api.example.com/x")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(p.check("https://user:pw@api.example.com/").is_err());
        assert!(p.check("ftp://api.example.com/").is_err());
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
        // Another spelling of the same origin is the same origin.
        assert!(relaxed.check("http://2130706433:4010/oauth/token").is_ok());
        assert!(relaxed.check("http://10.0.0.1/").is_err());
        assert!(
            relaxed
                .check("http://169.254.169.254/latest/meta-data")
                .is_err()
        );
        assert!(relaxed.check("http://127.0.0.1:9999/").is_err());
    }

    /// Every spelling is refused even when the allow-list holds it verbatim; with
    /// `--allow-loopback`, only the loopback ones pass the address checks.
    #[test]
    fn every_non_public_spelling_is_refused_whatever_the_allow_list_says() {
        for url in spellings(4010) {
            let strict = EgressPolicy::new(vec![url.clone()], false);
            assert!(strict.check(&url).is_err(), "{url} must be refused");
            assert!(strict.check_address(&url).is_err(), "{url} must be refused");
        }
    }

    #[test]
    fn allow_loopback_lets_loopback_through_and_nothing_else() {
        let relaxed = EgressPolicy::new(Vec::new(), true);
        for url in spellings(4010) {
            let Ok(parsed) = relaxed.check_address(&url) else {
                continue;
            };
            let host = parsed.host().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                host.trim_end_matches('.') == "localhost"
                    || host == "[::1]"
                    || host.starts_with("127."),
                "{url} passed as {parsed}"
            );
        }
    }

    #[test]
    fn canonical_origins() {
        for (spelling, canonical) in [
            ("https://2130706433:8443/x", "https://127.0.0.1:8443"),
            ("HTTPS://Api.Example.COM:443", "https://api.example.com"),
            ("https://[0:0::1]/", "https://[::1]"),
        ] {
            assert_eq!(canonical_origin(spelling).unwrap(), canonical);
        }
        assert!(canonical_origin("not a url").is_err());
        assert!(canonical_origin("data:text/plain,x").is_err());
    }

    #[test]
    fn long_urls_are_shown_bounded() {
        let long = format!("https://a.example/{}", "x".repeat(100_000));
        let e = EgressPolicy::new(Vec::new(), false)
            .check(&long)
            .unwrap_err();
        assert!(e.len() < 400, "{} bytes", e.len());
        let bad = format!("https://{}", "é".repeat(50_000));
        assert!(
            EgressPolicy::new(Vec::new(), false)
                .check(&bad)
                .unwrap_err()
                .len()
                < 400
        );
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
