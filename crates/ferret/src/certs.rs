//! Example TLS certificates for trying ferret's TLS with client
//! authentication.
//!
//! [`write_certs`] makes a throwaway certificate authority and two leaf
//! certificates signed by it, one for the server and one for a client, and
//! writes them as PEM files. They are meant for examples and local testing,
//! not for production: the CA key is written next to the certificates.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// Names of the files [`write_certs`] writes, in the order it writes them.
pub const FILE_NAMES: [&str; 6] = [
    "ca.pem",
    "ca.key",
    "server.pem",
    "server.key",
    "client.pem",
    "client.key",
];

/// Subject alternative names of the server certificate when no host is given.
pub const DEFAULT_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// How many years the certificates are valid, from the moment they are made.
const VALIDITY_YEARS: i32 = 10;

/// Writes a self-signed CA (`ca.pem`, `ca.key`), a server certificate signed
/// by it (`server.pem`, `server.key`) and a client certificate signed by it
/// (`client.pem`, `client.key`) into `out`, creating the directory if it is
/// missing. Returns the paths written, in the order of [`FILE_NAMES`].
///
/// All keys are ECDSA P-256 in PKCS#8 PEM; key files get mode 0600. The
/// server certificate's subject alternative names are `hosts` (each a DNS
/// name or an IP address), or [`DEFAULT_HOSTS`] when `hosts` is empty. Every
/// certificate is valid for 10 years from now.
///
/// Refuses, before writing anything, if any of the six files already exists.
/// If writing fails part way, the files this call created are removed.
pub fn write_certs(out: &Path, hosts: &[String]) -> Result<Vec<PathBuf>, String> {
    let hosts: Vec<String> = if hosts.is_empty() {
        DEFAULT_HOSTS.iter().map(|h| h.to_string()).collect()
    } else {
        hosts.to_vec()
    };
    if let Some(bad) = hosts
        .iter()
        .find(|h| h.trim().is_empty() || h.trim() != h.as_str())
    {
        return Err(format!("invalid host {bad:?} for the server certificate"));
    }

    let contents = generate(&hosts)?;

    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create directory {}: {e}", out.display()))?;
    let paths: Vec<PathBuf> = FILE_NAMES.iter().map(|n| out.join(n)).collect();
    let existing: Vec<String> = paths
        .iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(format!(
            "refusing to overwrite existing file(s): {}",
            existing.join(", ")
        ));
    }

    let mut written = Vec::new();
    for (path, text) in paths.iter().zip(contents.iter()) {
        let is_key = path.extension().is_some_and(|e| e == "key");
        if let Err(e) = write_new(path, text, if is_key { 0o600 } else { 0o644 }) {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        written.push(path.clone());
    }
    Ok(written)
}

/// Makes the CA, server and client certificates and keys, returning their
/// PEM texts in the order of [`FILE_NAMES`].
fn generate(hosts: &[String]) -> Result<[String; 6], String> {
    let not_before = OffsetDateTime::now_utc();
    // Same day and time 10 years on (from 29 February, 1 March).
    let year = not_before.year() + VALIDITY_YEARS;
    let not_after = match not_before.replace_year(year) {
        Ok(t) => t,
        Err(_) => (not_before + Duration::days(1))
            .replace_year(year)
            .map_err(|e| format!("cannot compute the expiry date: {e}"))?,
    };

    // The CA: may sign leaf certificates only (path length 0).
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ferret example CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_key = new_key("CA")?;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| format!("cannot make the CA certificate: {e}"))?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);

    // A leaf certificate signed by the CA.
    let leaf = |what: &str,
                sans: Vec<String>,
                cn: &str,
                eku: ExtendedKeyUsagePurpose|
     -> Result<(String, String), String> {
        let mut params = CertificateParams::new(sans)
            .map_err(|e| format!("invalid host for the {what} certificate: {e}"))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![eku];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let key = new_key(what)?;
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| format!("cannot make the {what} certificate: {e}"))?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_pem, server_key) = leaf(
        "server",
        hosts.to_vec(),
        "ferret server",
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let (client_pem, client_key) = leaf(
        "client",
        Vec::new(),
        "ferret client",
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;

    Ok([
        ca_cert.pem(),
        ca_key_pem,
        server_pem,
        server_key,
        client_pem,
        client_key,
    ])
}

/// Generates a fresh ECDSA P-256 key pair; `what` names it in the error.
fn new_key(what: &str) -> Result<KeyPair, String> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate the {what} key: {e}"))
}

/// Creates `path` (failing if it exists) with permission bits `mode` and
/// writes `text` to it.
fn write_new(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    /// A fresh, empty directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        /// Makes a directory name unique to this process and `tag`.
        fn new(tag: &str) -> Self {
            let p = std::env::temp_dir().join(format!(
                "ferret-certs-test-{}-{tag}-{}",
                std::process::id(),
                OffsetDateTime::now_utc().unix_timestamp_nanos()
            ));
            let _ = std::fs::remove_dir_all(&p);
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Whether `openssl` can be run.
    fn have_openssl() -> bool {
        Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs openssl with `args` in `dir`, asserting success; returns stdout.
    fn openssl(dir: &Path, args: &[&str]) -> String {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            o.status.success(),
            "openssl {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    #[test]
    fn writes_six_pem_files_with_private_keys_0600() {
        let tmp = TempDir::new("files");
        let dir = tmp.0.join("nested/out"); // created if missing
        let paths = write_certs(&dir, &[]).unwrap();
        let expected: Vec<PathBuf> = FILE_NAMES.iter().map(|n| dir.join(n)).collect();
        assert_eq!(paths, expected);
        for p in &paths {
            let text = std::fs::read_to_string(p).unwrap();
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            if p.extension().unwrap() == "key" {
                assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{p:?}");
                assert!(
                    text.trim_end().ends_with("-----END PRIVATE KEY-----"),
                    "{p:?}"
                );
                assert_eq!(mode, 0o600, "{p:?}");
            } else {
                assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"), "{p:?}");
                assert!(
                    text.trim_end().ends_with("-----END CERTIFICATE-----"),
                    "{p:?}"
                );
            }
        }
    }

    #[test]
    fn refuses_to_overwrite() {
        let tmp = TempDir::new("overwrite");
        std::fs::create_dir_all(&tmp.0).unwrap();
        std::fs::write(tmp.0.join("server.key"), "keep me").unwrap();
        let err = write_certs(&tmp.0, &[]).unwrap_err();
        assert!(err.contains("refusing to overwrite"), "{err}");
        assert!(err.contains("server.key"), "{err}");
        assert!(!err.contains("ca.pem"), "{err}");
        // Nothing was written, the existing file is untouched.
        assert_eq!(
            std::fs::read_to_string(tmp.0.join("server.key")).unwrap(),
            "keep me"
        );
        assert!(!tmp.0.join("ca.pem").exists());

        // A second run over a complete set names every file.
        let tmp2 = TempDir::new("overwrite2");
        write_certs(&tmp2.0, &[]).unwrap();
        let err = write_certs(&tmp2.0, &[]).unwrap_err();
        for n in FILE_NAMES {
            assert!(err.contains(n), "{err}");
        }
    }

    #[test]
    fn rejects_invalid_hosts() {
        let tmp = TempDir::new("badhost");
        for bad in ["", " localhost", "exämple.com"] {
            let err = write_certs(&tmp.0, &[bad.to_string()]).unwrap_err();
            assert!(err.contains("host"), "{bad:?}: {err}");
        }
        assert!(!tmp.0.join("ca.pem").exists());
    }

    #[test]
    fn openssl_verifies_chain_and_sans() {
        if !have_openssl() {
            eprintln!("openssl not on PATH: skipping");
            return;
        }
        let tmp = TempDir::new("openssl");
        let hosts: Vec<String> = ["debug.example.com", "10.1.2.3", "fe80::1", "localhost"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        write_certs(&tmp.0, &hosts).unwrap();
        let d = &tmp.0;

        let out = openssl(d, &["verify", "-CAfile", "ca.pem", "server.pem"]);
        assert!(out.contains("server.pem: OK"), "{out}");
        let out = openssl(d, &["verify", "-CAfile", "ca.pem", "client.pem"]);
        assert!(out.contains("client.pem: OK"), "{out}");
        // Each leaf is fit for its purpose only.
        let out = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslserver",
                "server.pem",
            ],
        );
        assert!(out.contains("OK"), "{out}");
        let out = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslclient",
                "client.pem",
            ],
        );
        assert!(out.contains("OK"), "{out}");
        let bad = Command::new("openssl")
            .args([
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslclient",
                "server.pem",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            !bad.status.success(),
            "server cert accepted for client auth"
        );

        let san = openssl(
            d,
            &[
                "x509",
                "-in",
                "server.pem",
                "-noout",
                "-ext",
                "subjectAltName",
            ],
        );
        for want in [
            "DNS:debug.example.com",
            "IP Address:10.1.2.3",
            "IP Address:FE80:0:0:0:0:0:0:1",
            "DNS:localhost",
        ] {
            assert!(san.contains(want), "missing {want} in {san}");
        }

        let subj = openssl(
            d,
            &["x509", "-in", "ca.pem", "-noout", "-subject", "-enddate"],
        );
        assert!(
            subj.contains("CN=ferret example CA") || subj.contains("CN = ferret example CA"),
            "{subj}"
        );
        let year = OffsetDateTime::now_utc().year() + 10;
        assert!(
            subj.contains(&year.to_string()),
            "not valid for 10 years: {subj}"
        );
        let subj = openssl(d, &["x509", "-in", "server.pem", "-noout", "-subject"]);
        assert!(subj.contains("ferret server"), "{subj}");
        let subj = openssl(d, &["x509", "-in", "client.pem", "-noout", "-subject"]);
        assert!(subj.contains("ferret client"), "{subj}");

        // Each key matches its certificate.
        for name in ["ca", "server", "client"] {
            let from_cert = openssl(
                d,
                &["x509", "-in", &format!("{name}.pem"), "-noout", "-pubkey"],
            );
            let from_key = openssl(d, &["pkey", "-in", &format!("{name}.key"), "-pubout"]);
            assert_eq!(
                from_cert, from_key,
                "{name} key does not match its certificate"
            );
        }
    }

    #[test]
    fn default_hosts_in_server_certificate() {
        if !have_openssl() {
            eprintln!("openssl not on PATH: skipping");
            return;
        }
        let tmp = TempDir::new("defaults");
        write_certs(&tmp.0, &[]).unwrap();
        let san = openssl(
            &tmp.0,
            &[
                "x509",
                "-in",
                "server.pem",
                "-noout",
                "-ext",
                "subjectAltName",
            ],
        );
        for want in [
            "DNS:localhost",
            "IP Address:127.0.0.1",
            "IP Address:0:0:0:0:0:0:0:1",
        ] {
            assert!(san.contains(want), "missing {want} in {san}");
        }
    }
}
