//! TLS on the debug port (rustls, TLS 1.2 and 1.3 with rustls's modern
//! cipher suites only), optionally requiring client certificates signed by
//! a given CA and with an allowed subject. The configuration can be
//! reloaded (on SIGHUP) without dropping connected clients: each handshake
//! uses the configuration current at its start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// Where the certificate material lives.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// The server certificate chain (PEM).
    pub cert: PathBuf,
    /// The server private key (PEM; RSA, ECDSA or Ed25519).
    pub key: PathBuf,
    /// When set, clients must present a certificate signed by this CA.
    pub client_ca: Option<PathBuf>,
    /// When not empty, the client certificate's subject must be one of these
    /// (compared with the RFC 4514 text, e.g. `CN=ferret client`).
    pub allowed_subjects: Vec<String>,
}

/// The live TLS configuration, swappable on reload.
#[derive(Debug)]
pub struct TlsState {
    settings: TlsSettings,
    config: RwLock<Arc<rustls::ServerConfig>>,
}

impl TlsState {
    /// Loads the files; errors name the file and what is wrong with it.
    pub fn load(settings: TlsSettings) -> Result<TlsState, String> {
        let config = build(&settings)?;
        Ok(TlsState {
            settings,
            config: RwLock::new(Arc::new(config)),
        })
    }

    /// Reads the files again; on error the old configuration stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = build(&self.settings)?;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(())
    }

    /// An acceptor with the current configuration.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(
            self.config
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    /// Whether a client with this certificate subject may stay.
    pub fn subject_allowed(&self, subject: Option<&str>) -> bool {
        self.settings.allowed_subjects.is_empty()
            || subject.is_some_and(|s| self.settings.allowed_subjects.iter().any(|a| a == s))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad certificate PEM in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate found in {}", path.display()));
    }
    Ok(certs)
}

fn build(settings: &TlsSettings) -> Result<rustls::ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let certs = read_certs(&settings.cert)?;
    let key = PrivateKeyDer::from_pem_file(&settings.key).map_err(|e| {
        format!(
            "cannot read a private key from {}: {e}",
            settings.key.display()
        )
    })?;
    let builder = match &settings.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(ca)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("bad CA certificate in {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| format!("client CA {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "{} and {} do not make a usable certificate: {e}",
            settings.cert.display(),
            settings.key.display()
        )
    })
}

/// The subject of a DER certificate in RFC 4514 form (`CN=...`).
pub fn subject_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.subject().to_string())
}
