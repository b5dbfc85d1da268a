//! Optional TLS with client-certificate verification (mutual TLS), for deployments where the
//! Spine Secure Proxy's connection ends at bookable rather than at a proxy in front of it
//! ("GP Connect utilises TLS Mutual Authentication for system level authorization").
//!
//! `bookable serve --tls-cert chain.pem --tls-key key.pem --tls-client-ca spine-ca.pem`: the
//! server presents `chain.pem` and accepts only clients whose certificate chains to a CA in
//! `spine-ca.pem`. Without the flags bookable serves plain HTTP, as behind a terminating proxy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// The TLS settings of `bookable serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, server certificate first); needs
    /// --tls-key and --tls-client-ca.
    #[arg(long, env = "BOOKABLE_TLS_CERT", requires_all = ["tls_key", "tls_client_ca"])]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "BOOKABLE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The CA certificates (PEM) a client's certificate must chain to: clients without one are
    /// refused during the handshake.
    #[arg(long, env = "BOOKABLE_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

impl TlsArgs {
    /// The server configuration, or `None` for plain HTTP.
    pub fn server_config(&self) -> anyhow::Result<Option<rustls::ServerConfig>> {
        match (&self.tls_cert, &self.tls_key, &self.tls_client_ca) {
            (None, None, None) => Ok(None),
            (Some(cert), Some(key), Some(ca)) => server_config(cert, key, ca).map(Some),
            _ => bail!("--tls-cert, --tls-key and --tls-client-ca go together"),
        }
    }
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading the certificates in {}", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

/// A TLS 1.2/1.3 server configuration presenting `cert` (with `key`) that requires a client
/// certificate chaining to one of the CAs in `client_ca`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> anyhow::Result<rustls::ServerConfig> {
    // Name the provider: more than one may be compiled in, so there is no default to rely on.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in certificates(client_ca)? {
        roots
            .add(ca)
            .with_context(|| format!("a CA certificate in {}", client_ca.display()))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("building the client certificate verifier")?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key in {}", key.display()))?;
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certificates(cert)?, key)
        .context("the server certificate and its key")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        tls: TlsArgs,
    }

    #[test]
    fn without_settings_bookable_serves_plain_http() {
        assert!(TlsArgs::default().server_config().unwrap().is_none());
    }

    #[test]
    fn the_three_settings_go_together_or_not_at_all() {
        let path = |set: bool| set.then(|| PathBuf::from("file.pem"));
        for partial in 1..7u8 {
            let args = TlsArgs {
                tls_cert: path(partial & 1 != 0),
                tls_key: path(partial & 2 != 0),
                tls_client_ca: path(partial & 4 != 0),
            };
            let error = args.server_config().unwrap_err();
            assert_eq!(
                error.to_string(),
                "--tls-cert, --tls-key and --tls-client-ca go together",
                "{args:?}"
            );
        }
    }

    #[test]
    fn the_command_line_names_the_settings_missing() {
        let refused = |args: &[&str]| {
            let mut argv = vec!["serve"];
            argv.extend(args);
            Serve::try_parse_from(argv).unwrap_err().to_string()
        };
        let cert_alone = refused(&["--tls-cert", "chain.pem"]);
        assert!(cert_alone.contains("--tls-key"), "{cert_alone}");
        assert!(cert_alone.contains("--tls-client-ca"), "{cert_alone}");
        let key_alone = refused(&["--tls-key", "key.pem"]);
        assert!(key_alone.contains("--tls-cert"), "{key_alone}");
        let ca_alone = refused(&["--tls-client-ca", "ca.pem"]);
        assert!(ca_alone.contains("--tls-cert"), "{ca_alone}");
        let all = Serve::try_parse_from([
            "serve",
            "--tls-cert",
            "chain.pem",
            "--tls-key",
            "key.pem",
            "--tls-client-ca",
            "ca.pem",
        ])
        .unwrap();
        assert_eq!(all.tls.tls_cert, Some(PathBuf::from("chain.pem")));
    }
}
