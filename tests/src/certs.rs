//! Certificates made for a test with rcgen: a CA, a server certificate for
//! `localhost` / `127.0.0.1` / `::1` signed by it, and a client certificate
//! with a Common Name, all written as PEM into a temporary directory that
//! lives as long as the [`TestPki`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The Common Name of [`TestPki::client_cert`].
pub const CLIENT_CN: &str = "sensor-17";

/// A CA with one server and one client certificate, as PEM files.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl TestPki {
    /// Generate everything.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, pem: String| {
            std::fs::write(dir.path().join(name), pem).expect("write PEM");
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params("Courtier test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        write("ca.pem", ca_cert.pem());
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = server.signed_by(&server_key, &issuer).expect("server cert");
        write("server.pem", server_cert.pem());
        write("server.key", server_key.serialize_pem());

        let client_key = KeyPair::generate().expect("client key");
        let mut client = CertificateParams::new(Vec::<String>::new()).expect("client params");
        client
            .distinguished_name
            .push(DnType::CommonName, CLIENT_CN);
        let client_cert = client.signed_by(&client_key, &issuer).expect("client cert");
        write("client.pem", client_cert.pem());
        write("client.key", client_key.serialize_pem());

        // A CA nobody uses, for "signed by the wrong CA" cases.
        let other_key = KeyPair::generate().expect("other key");
        let other = ca_params("Another CA")
            .self_signed(&other_key)
            .expect("other CA");
        write("other-ca.pem", other.pem());
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate (PEM file).
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// An unrelated CA certificate.
    pub fn other_ca(&self) -> PathBuf {
        self.path("other-ca.pem")
    }

    /// The server certificate.
    pub fn server_cert(&self) -> PathBuf {
        self.path("server.pem")
    }

    /// The server key.
    pub fn server_key(&self) -> PathBuf {
        self.path("server.key")
    }

    /// The client certificate (CN = [`CLIENT_CN`]).
    pub fn client_cert(&self) -> PathBuf {
        self.path("client.pem")
    }

    /// The client key.
    pub fn client_key(&self) -> PathBuf {
        self.path("client.key")
    }

    /// Broker flags for TLS with these files: `--cert FILE --key FILE`.
    pub fn broker_args(&self) -> Vec<String> {
        vec![
            "--cert".into(),
            path_str(&self.server_cert()),
            "--key".into(),
            path_str(&self.server_key()),
        ]
    }

    /// A rustls client trusting the test CA, presenting the client
    /// certificate when `with_client_cert`.
    pub fn client_config(&self, with_client_cert: bool) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.ca()).expect("CA file") {
            roots.add(cert.expect("CA PEM")).expect("CA usable");
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots);
        let config = if with_client_cert {
            let chain = CertificateDer::pem_file_iter(self.client_cert())
                .expect("client cert")
                .collect::<Result<Vec<_>, _>>()
                .expect("client cert PEM");
            let key = PrivateKeyDer::from_pem_file(self.client_key()).expect("client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// A path as a command-line argument.
pub fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}
