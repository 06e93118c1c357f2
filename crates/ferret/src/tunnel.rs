//! `ferret tunnel`: a local plain-TCP port that forwards every connection
//! over TLS (optionally with a client certificate) to a ferret server, for
//! clients that cannot speak TLS themselves (`dlv connect`, GoLand, VS Code).

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls;

/// What the tunnel connects to and how.
pub struct TunnelSettings {
    /// The TLS server, `HOST:PORT`.
    pub connect: String,
    /// The CA that signed the server's certificate.
    pub ca: PathBuf,
    /// Client certificate and key, for servers that require one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The local address to listen on.
    pub listen: String,
}

/// Runs the tunnel until interrupted.
pub async fn run(settings: TunnelSettings) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&settings.ca)
        .map_err(|e| format!("cannot read {}: {e}", settings.ca.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad certificate PEM in {}: {e}", settings.ca.display()))?;
    for ca in cas {
        roots
            .add(ca)
            .map_err(|e| format!("bad CA certificate in {}: {e}", settings.ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match &settings.client_cert {
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| format!("cannot read {}: {e}", cert.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad certificate PEM in {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("cannot read {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let host = settings
        .connect
        .rsplit_once(':')
        .map_or(settings.connect.as_str(), |(h, _)| h);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let server_name = ServerName::try_from(host.clone())
        .map_err(|_| format!("{host} is not a valid host name or address"))?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| {
            format!(
                "couldn't start listener: listen tcp {}: {e}",
                settings.listen
            )
        })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("Tunnel listening at: {local}");
    println!(
        "Forwarding to {} over TLS; connect a client to {local}",
        settings.connect
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        let (mut plain, peer) = listener.accept().await.map_err(|e| e.to_string())?;
        let connector = connector.clone();
        let server_name = server_name.clone();
        let target = settings.connect.clone();
        tokio::spawn(async move {
            let upstream = match tokio::net::TcpStream::connect(&target).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tunnel: cannot reach {target} for {peer}: {e}");
                    return;
                }
            };
            let mut secure = match connector.connect(server_name, upstream).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("tunnel: TLS with {target} failed for {peer}: {e}");
                    return;
                }
            };
            let _ = tokio::io::copy_bidirectional(&mut plain, &mut secure).await;
        });
    }
}
