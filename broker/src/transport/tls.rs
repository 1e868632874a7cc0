//! TLS with rustls (ring provider): the server configuration for the `--tls`
//! and `--https` listeners from PEM files, the server certificate in a
//! [`CertSlot`] that reloads replace, and the verified client certificate's
//! name. The client CA is read once, at start.
//!
//! Every failure is one [`TlsError`] line that names the flag (or config
//! key), the file and the fix, so a wrong path is found before any client
//! connects.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use super::x509;

/// Why a TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error(
        "{flag} {path}: cannot read the file: {cause} (check the path given with {flag} or the `{}` key)",
        config_key(flag)
    )]
    Read {
        /// The flag (and config key) naming the file.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error (not a `source`: the message already says it, once).
        cause: io::Error,
    },
    /// The file holds no usable PEM item of the expected kind.
    #[error("{flag} {path}: {problem} (expected {expected})")]
    Pem {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the parser found wrong.
        problem: String,
        /// What the file must contain.
        expected: &'static str,
    },
    /// rustls refused the certificate, key or CA (e.g. a key that does not
    /// match the certificate).
    #[error(
        "{what}: {cause} (check that --cert and --key belong together and --client-ca is a CA)"
    )]
    Rustls {
        /// What was being set up.
        what: &'static str,
        /// The rustls error.
        cause: rustls::Error,
    },
    /// The client CA file cannot verify client certificates.
    #[error(
        "--client-ca {path}: {problem} (give the PEM certificate of the CA that signs client certificates)"
    )]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// What rustls reported.
        problem: String,
    },
}

/// The PEM files of a TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first (`--cert`).
    pub cert: PathBuf,
    /// Private key: PKCS#8, PKCS#1 or SEC1 (`--key`).
    pub key: PathBuf,
    /// CA that client certificates must chain to; when set, a client
    /// certificate is required (`--client-ca`).
    pub client_ca: Option<PathBuf>,
}

/// The configuration file key of `flag` (`--client-ca` → `client_ca`).
fn config_key(flag: &str) -> String {
    flag.trim_start_matches("--").replace('-', "_")
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read {
        flag,
        path: path.to_owned(),
        cause,
    })
}

fn pem_error(flag: &'static str, path: &Path, expected: &'static str, e: &pem::Error) -> TlsError {
    let problem = match e {
        pem::Error::NoItemsFound => "no PEM item of the right kind in the file".to_owned(),
        other => format!("not valid PEM: {other}"),
    };
    TlsError::Pem {
        flag,
        path: path.to_owned(),
        problem,
        expected,
    }
}

/// Every certificate in a PEM file; an error if there is none.
fn load_certs(flag: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    const EXPECTED: &str = "one or more `-----BEGIN CERTIFICATE-----` blocks";
    let bytes = read(flag, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(flag, path, EXPECTED, &e))?;
    if certs.is_empty() {
        return Err(pem_error(flag, path, EXPECTED, &pem::Error::NoItemsFound));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read("--key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        pem_error(
            "--key",
            path,
            "a `-----BEGIN PRIVATE KEY-----` (or RSA/EC PRIVATE KEY) block",
            &e,
        )
    })
}

fn root_store(flag: &'static str, path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(flag, path)? {
        roots.add(cert).map_err(|e| TlsError::Pem {
            flag,
            path: path.to_owned(),
            problem: format!("unusable CA certificate: {e}"),
            expected: "a CA certificate in PEM",
        })?;
    }
    Ok(roots)
}

/// The server configuration for `files`. `alpn` lists the protocols
/// offered in ALPN (`http/1.1` for WSS, so WebSocket upgrades stay on
/// HTTP/1.1; none for MQTT over TLS).
///
/// The certificate comes from `cert`, shared by every listener, so that
/// [`CertSlot::reload`] rotates it for all of them at once.
pub fn server_config(
    files: &TlsFiles,
    alpn: &[&[u8]],
    cert: Arc<CertSlot>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|cause| TlsError::Rustls {
            what: "TLS protocol versions",
            cause,
        })?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = root_store("--client-ca", ca)?;
            // The default builder requires a certificate: an anonymous
            // client is refused during the handshake.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| TlsError::ClientCa {
                    path: ca.clone(),
                    problem: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(cert);
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The server certificate in force. Handshakes read it; a reload replaces
/// it, so certificates rotate without a restart and without touching
/// established connections.
#[derive(Debug)]
pub struct CertSlot(RwLock<Arc<CertifiedKey>>);

impl CertSlot {
    /// Load `cert` and `key`, checking that they belong together.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        Ok(Self(RwLock::new(certified_key(files)?)))
    }

    /// Load the files again; on error the certificate in force stays.
    pub fn reload(&self, files: &TlsFiles) -> Result<(), TlsError> {
        let key = certified_key(files)?;
        *self.0.write() = key;
        Ok(())
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0.read()))
    }
}

fn certified_key(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let certs = load_certs("--cert", &files.cert)?;
    let key = load_key(&files.key)?;
    CertifiedKey::from_der(certs, key, &provider())
        .map(Arc::new)
        .map_err(|cause| TlsError::Rustls {
            what: "--cert/--key",
            cause,
        })
}

/// The Common Name of the client certificate of a finished handshake, if
/// the client presented one (only with `--client-ca`, so it was verified).
pub fn peer_common_name(conn: &rustls::ServerConnection) -> Option<Box<str>> {
    let leaf = conn.peer_certificates()?.first()?;
    x509::subject_common_name(leaf).map(String::into_boxed_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        TlsFiles {
            cert: dir.join(cert),
            key: dir.join(key),
            client_ca: None,
        }
    }

    #[test]
    fn a_missing_file_names_the_flag_and_the_path() {
        let dir = std::env::temp_dir();
        let err = CertSlot::load(&files(&dir, "no-such-cert.pem", "k.pem")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("--cert "), "{text}");
        assert!(text.contains("no-such-cert.pem"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn a_file_without_pem_says_what_it_expected() {
        let dir = std::env::temp_dir().join(format!("courtier-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("junk.pem"), "not a certificate\n").expect("write");
        let err = CertSlot::load(&files(&dir, "junk.pem", "k.pem")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("junk.pem"), "{text}");
        assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
    }
}
