//! Where the Temporal cluster is and how to reach it: the frontend address, the namespace,
//! TLS and an API key, with the flag and environment names of Temporal's own CLI
//! (`temporal options`), so an operator configures this worker as they configure `temporal`.
//! The same flags reach the development server, a self-hosted cluster (mTLS) and Temporal
//! Cloud (API key, or mTLS).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use temporalio_client::{
    Client, ClientOptions, ClientTlsOptions, Connection, ConnectionOptions, TlsOptions, Url,
};

#[derive(Debug, Clone, clap::Args)]
pub struct Frontend {
    /// Temporal Service gRPC endpoint, host:port.
    #[arg(
        long,
        env = "TEMPORAL_ADDRESS",
        default_value = "localhost:7233",
        global = true
    )]
    pub address: String,
    /// Temporal Service Namespace.
    #[arg(
        long,
        short = 'n',
        env = "TEMPORAL_NAMESPACE",
        default_value = "default",
        global = true
    )]
    pub namespace: String,
    /// API key for requests (Temporal Cloud). Turns TLS on.
    #[arg(long, env = "TEMPORAL_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// Enable base TLS encryption. Turned on by any other TLS option or an API key.
    #[arg(long, env = "TEMPORAL_TLS", global = true)]
    pub tls: bool,
    /// Path to the server CA certificate (PEM), when the system roots do not hold it.
    #[arg(long, env = "TEMPORAL_TLS_SERVER_CA_CERT_PATH", global = true)]
    pub tls_ca_path: Option<PathBuf>,
    /// Path to the client's x509 certificate (PEM), for mTLS.
    #[arg(long, env = "TEMPORAL_TLS_CLIENT_CERT_PATH", global = true)]
    pub tls_cert_path: Option<PathBuf>,
    /// Path to the client's x509 private key (PEM), for mTLS.
    #[arg(long, env = "TEMPORAL_TLS_CLIENT_KEY_PATH", global = true)]
    pub tls_key_path: Option<PathBuf>,
    /// Override the TLS server name the certificate is checked against.
    #[arg(long, env = "TEMPORAL_TLS_SERVER_NAME", global = true)]
    pub tls_server_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error("--address `{address}` is not host:port")]
    Address { address: String },
    #[error("--tls-cert-path and --tls-key-path go together (mTLS needs both)")]
    HalfPair,
    #[error("reading {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The API key is never part of the message: only the address and the cause.
    #[error("connecting to Temporal at {address} (namespace {namespace}): {reason}")]
    Connect {
        address: String,
        namespace: String,
        reason: String,
    },
}

impl Frontend {
    fn uses_tls(&self) -> bool {
        self.tls
            || self.api_key.is_some()
            || self.tls_ca_path.is_some()
            || self.tls_cert_path.is_some()
            || self.tls_key_path.is_some()
            || self.tls_server_name.is_some()
    }

    /// The SDK takes a URL; Temporal's tools take host:port. The scheme follows TLS.
    fn url(&self) -> Result<Url, FrontendError> {
        let scheme = if self.uses_tls() { "https" } else { "http" };
        let bad = || FrontendError::Address {
            address: self.address.clone(),
        };
        if self.address.contains("://") {
            return Err(bad());
        }
        let url = Url::from_str(&format!("{scheme}://{}", self.address)).map_err(|_| bad())?;
        if url.host_str().is_none() || url.port().is_none() || url.path() != "/" {
            return Err(bad());
        }
        Ok(url)
    }

    fn tls_options(&self) -> Result<Option<TlsOptions>, FrontendError> {
        if !self.uses_tls() {
            return Ok(None);
        }
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|source| FrontendError::Read {
                what,
                path: path.to_path_buf(),
                source,
            })
        };
        let client_tls_options = match (&self.tls_cert_path, &self.tls_key_path) {
            (Some(cert), Some(key)) => Some(
                ClientTlsOptions::builder()
                    .client_cert(read("the client certificate", cert)?)
                    .client_private_key(read("the client key", key)?)
                    .build(),
            ),
            (None, None) => None,
            _ => return Err(FrontendError::HalfPair),
        };
        let server_root_ca_cert = self
            .tls_ca_path
            .as_deref()
            .map(|p| read("the server CA certificate", p))
            .transpose()?;
        Ok(Some(
            TlsOptions::builder()
                .maybe_server_root_ca_cert(server_root_ca_cert)
                .maybe_domain(self.tls_server_name.clone())
                .maybe_client_tls_options(client_tls_options)
                .build(),
        ))
    }

    /// A client bound to the namespace. `identity` names this process in the cluster's
    /// records (which worker ran which task).
    pub async fn connect(&self, identity: String) -> Result<Client, FrontendError> {
        let options = ConnectionOptions::new(self.url()?)
            .identity(identity)
            .maybe_tls_options(self.tls_options()?)
            .maybe_api_key(self.api_key.clone())
            .build();
        let failed = |reason: String| FrontendError::Connect {
            address: self.address.clone(),
            namespace: self.namespace.clone(),
            reason,
        };
        let connection = Connection::connect(options)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Client::new(
            connection,
            ClientOptions::new(self.namespace.clone()).build(),
        )
        .map_err(|e| failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        frontend: Frontend,
    }

    fn parse(args: &[&str]) -> Frontend {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .unwrap()
            .frontend
    }

    #[test]
    fn addresses_are_host_and_port_and_tls_follows_any_tls_option_or_an_api_key() {
        let plain = parse(&["--address", "127.0.0.1:7233"]);
        assert_eq!(plain.url().unwrap().as_str(), "http://127.0.0.1:7233/");
        assert!(plain.tls_options().unwrap().is_none());

        let cloud = parse(&["--address", "ns.acct.tmprl.cloud:7233", "--api-key", "k"]);
        assert_eq!(
            cloud.url().unwrap().as_str(),
            "https://ns.acct.tmprl.cloud:7233/"
        );
        assert!(cloud.tls_options().unwrap().is_some());

        for bad in ["localhost", "http://localhost:7233", "localhost:7233/x"] {
            assert!(
                matches!(
                    parse(&["--address", bad]).url(),
                    Err(FrontendError::Address { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse(&["--tls-cert-path", "c.pem"]).tls_options(),
            Err(FrontendError::HalfPair)
        ));
    }
}
