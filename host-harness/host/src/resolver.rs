//! DNS for the host's HTTP client: names are resolved here, and a name that resolves to any
//! address that is not public (loopback, private, link-local, metadata, ...) is refused
//! before a connection is attempted. The client connects only to the addresses checked
//! here, so a name cannot be re-resolved to something else between check and connect.
//! Literal IP addresses never reach a resolver; [`crate::policy`] judges those.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::policy::non_public;

/// A name refused because of where it points. Found in a request error's source chain to
/// report the refusal as a policy denial rather than a connection failure.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` resolves to {ip}, a {kind} address; the host refuses it")]
pub struct RefusedAddress {
    pub host: String,
    pub ip: IpAddr,
    pub kind: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` does not resolve to any address")]
struct NoAddress(String);

#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    /// `localhost` may resolve to loopback (`--allow-loopback`, a local emulator).
    allow_loopback: bool,
    /// Names answered without DNS, like curl's `--resolve` (embedders, tests).
    pinned: BTreeMap<String, Vec<IpAddr>>,
}

impl GuardedResolver {
    pub fn new(allow_loopback: bool, pinned: BTreeMap<String, Vec<IpAddr>>) -> Self {
        let pinned = pinned
            .into_iter()
            .map(|(name, ips)| (normalise(&name), ips))
            .collect();
        GuardedResolver {
            allow_loopback,
            pinned,
        }
    }

    /// The addresses of `host`, every one of them public (or loopback for `localhost`
    /// when allowed); one address that is not refuses the name, so a record set that
    /// mixes a public and a private address cannot be used to reach the private one.
    pub async fn lookup(
        &self,
        host: &str,
    ) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let host = normalise(host);
        let ips: Vec<IpAddr> = match self.pinned.get(&host) {
            Some(ips) => ips.clone(),
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect(),
        };
        if ips.is_empty() {
            return Err(Box::new(NoAddress(host)));
        }
        let loopback_ok = self.allow_loopback && host == "localhost";
        for &ip in &ips {
            if let Some(kind) = non_public(ip)
                && !(loopback_ok && ip.is_loopback())
            {
                return Err(Box::new(RefusedAddress { host, ip, kind }));
            }
        }
        Ok(ips)
    }
}

/// `Name.` and `name` are one name.
fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let ips = resolver.lookup(name.as_str()).await?;
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The refusal behind a failed request, if a name was refused.
pub fn refusal<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e RefusedAddress> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<RefusedAddress>() {
            return Some(refused);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(name: &str, ips: &[&str]) -> BTreeMap<String, Vec<IpAddr>> {
        BTreeMap::from([(
            name.to_string(),
            ips.iter().map(|s| s.parse().unwrap()).collect(),
        )])
    }

    #[tokio::test]
    async fn names_pointing_inside_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.0.0.5",
            "169.254.169.254",
            "::1",
            "fd00:ec2::254",
        ] {
            let r = GuardedResolver::new(true, pinned("api.example.com", &[ip]));
            let e = r.lookup("api.example.com").await.unwrap_err();
            let refused = e.downcast_ref::<RefusedAddress>().expect("a refusal");
            assert_eq!(refused.ip.to_string(), ip);
        }
    }

    #[tokio::test]
    async fn one_private_address_refuses_the_whole_name() {
        let r = GuardedResolver::new(false, pinned("mixed.example", &["52.1.2.3", "10.0.0.1"]));
        assert!(r.lookup("MIXED.example.").await.is_err());
        let r = GuardedResolver::new(false, pinned("public.example", &["52.1.2.3"]));
        assert_eq!(
            r.lookup("public.example").await.unwrap(),
            vec!["52.1.2.3".parse::<IpAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn localhost_only_with_allow_loopback() {
        let strict = GuardedResolver::new(false, BTreeMap::new());
        assert!(strict.lookup("localhost").await.is_err());
        let relaxed = GuardedResolver::new(true, BTreeMap::new());
        let ips = relaxed.lookup("localhost.").await.unwrap();
        assert!(ips.iter().all(IpAddr::is_loopback), "{ips:?}");
        // Any other name pointing at loopback is still refused.
        let r = GuardedResolver::new(true, pinned("evil.example", &["127.0.0.1"]));
        assert!(r.lookup("evil.example").await.is_err());
    }

    #[tokio::test]
    async fn numeric_names_the_system_resolver_accepts_are_judged_by_address() {
        // 2130706433 is 127.0.0.1 to getaddrinfo; it is not an IP literal to a URL parser.
        let r = GuardedResolver::new(false, BTreeMap::new());
        assert!(r.lookup("2130706433").await.is_err());
    }
}
