//! TLS with rustls (ring provider): the server configurations for the
//! `--tls` and `--https` listeners from PEM files, kept in [`ServerTls`] so
//! that a reload replaces them (certificate, key and client CA together),
//! and the verified client certificate's name.
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
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

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

/// The verifier of client certificates signed by the CA in `ca`.
fn client_verifier(ca: &Path) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let roots = root_store("--client-ca", ca)?;
    // The default builder requires a certificate: an anonymous client is
    // refused during the handshake.
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::ClientCa {
            path: ca.to_owned(),
            problem: e.to_string(),
        })
}

/// The ALPN protocols of the `--https` listeners: WebSocket upgrades stay
/// on HTTP/1.1. MQTT over TLS offers none.
const HTTPS_ALPN: &[u8] = b"http/1.1";

/// The configurations for both kinds of TLS listener, from the files as
/// they are now: nothing is half-loaded, the files are read once for both.
fn server_configs(files: &TlsFiles) -> Result<[Arc<ServerConfig>; 2], TlsError> {
    let cert = Arc::new(SingleCertAndKey::from(certified_key(files)?));
    let verifier = files
        .client_ca
        .as_deref()
        .map(client_verifier)
        .transpose()?;
    let build = |alpn: &[&[u8]]| {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|cause| TlsError::Rustls {
                what: "TLS protocol versions",
                cause,
            })?;
        let builder = match &verifier {
            None => builder.with_no_client_auth(),
            Some(verifier) => builder.with_client_cert_verifier(Arc::clone(verifier)),
        };
        let mut config = builder.with_cert_resolver(Arc::clone(&cert) as _);
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    };
    Ok([build(&[])?, build(&[HTTPS_ALPN])?])
}

/// The configuration one kind of TLS listener accepts with. A reload
/// replaces it; each accepted connection takes the one in force.
#[derive(Debug)]
pub struct TlsConfigSlot(RwLock<Arc<ServerConfig>>);

impl TlsConfigSlot {
    /// An acceptor with the configuration in force, for one handshake.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.0.read()))
    }
}

/// The TLS settings of every TLS listener: the server certificate and key,
/// and the CA client certificates must chain to. A reload builds new
/// configurations from the files and puts them in force for the next
/// handshakes; established connections keep theirs. A new configuration
/// also starts an empty session cache, so no session resumed after a reload
/// skips the new CA's verdict.
#[derive(Debug)]
pub struct ServerTls {
    files: TlsFiles,
    /// For `--tls` listeners (MQTT over TLS).
    pub mqtt: Arc<TlsConfigSlot>,
    /// For `--https` listeners (ALPN `http/1.1`).
    pub https: Arc<TlsConfigSlot>,
}

impl ServerTls {
    /// Load the files, checking that certificate and key belong together.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let [mqtt, https] = server_configs(&files)?;
        let slot = |config| Arc::new(TlsConfigSlot(RwLock::new(config)));
        Ok(Self {
            files,
            mqtt: slot(mqtt),
            https: slot(https),
        })
    }

    /// Load the files again; on error the configurations in force stay.
    pub fn reload(&self) -> Result<(), TlsError> {
        let [mqtt, https] = server_configs(&self.files)?;
        *self.mqtt.0.write() = mqtt;
        *self.https.0.write() = https;
        Ok(())
    }

    /// The files a reload reads.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        [&self.files.cert, &self.files.key]
            .into_iter()
            .chain(&self.files.client_ca)
            .map(PathBuf::as_path)
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
        let err = ServerTls::load(files(&dir, "no-such-cert.pem", "k.pem")).unwrap_err();
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
        let err = ServerTls::load(files(&dir, "junk.pem", "k.pem")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("junk.pem"), "{text}");
        assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
    }
}
