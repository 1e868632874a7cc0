//! Connectors for the command-line client: TCP, TLS and WebSocket (over
//! either) all become one boxed byte stream that the driver reads and
//! writes, exactly as the broker's transports all feed one decoder.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::args::{Endpoint, Scheme};

/// A bidirectional byte stream, whatever carries it.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// The stream the driver gets from [`connect`].
pub type BoxStream = Box<dyn ByteStream>;

/// Bytes the WebSocket bridge buffers in each direction. A packet larger
/// than this still passes, in pieces: the bridge only sets the pace.
const WS_BRIDGE_BUFFER: usize = 64 * 1024;

/// Why no stream could be opened.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// TCP connect failed (refused, unreachable, unknown host).
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// Why.
        source: io::Error,
    },
    /// TLS needs trust anchors.
    #[error(
        "mqtts:// and wss:// need --cafile FILE: the PEM certificate of the CA that signed the server's certificate"
    )]
    NoCaFile,
    /// The CA file cannot be read or holds no certificate.
    #[error("--cafile {path}: {problem}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The TLS client configuration cannot be built.
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// The TLS handshake failed (untrusted certificate, wrong name, no common version).
    #[error("TLS with {host}: {problem}")]
    Tls {
        /// The host.
        host: String,
        /// What failed.
        problem: String,
    },
    /// The WebSocket upgrade failed.
    #[error("WebSocket upgrade at {url}: {source}")]
    WebSocket {
        /// The URL.
        url: String,
        /// Why.
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
}

/// TLS settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// PEM file of trusted CA certificates.
    pub cafile: Option<PathBuf>,
    /// Accept a certificate whose name does not match the host (its chain is still verified).
    pub insecure: bool,
}

/// Open the transport `endpoint` names.
pub async fn connect(endpoint: &Endpoint, tls: &TlsSettings) -> Result<BoxStream, TransportError> {
    let config = if endpoint.scheme.is_tls() {
        Some(tls_config(tls)?)
    } else {
        None
    };
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|source| TransportError::Connect {
            host: endpoint.host.clone(),
            port: endpoint.port,
            source,
        })?;
    // MQTT packets are small and latency-bound: no Nagle delay.
    let _ = tcp.set_nodelay(true);
    match (endpoint.scheme, config) {
        (Scheme::Mqtts, Some(config)) => {
            Ok(Box::new(tls_connect(tcp, &endpoint.host, config).await?))
        }
        (Scheme::Wss, Some(config)) => {
            let tls = tls_connect(tcp, &endpoint.host, config).await?;
            ws_connect(tls, endpoint).await
        }
        (Scheme::Ws, _) => ws_connect(tcp, endpoint).await,
        _ => Ok(Box::new(tcp)),
    }
}

fn tls_config(tls: &TlsSettings) -> Result<Arc<ClientConfig>, TransportError> {
    let path = tls.cafile.as_deref().ok_or(TransportError::NoCaFile)?;
    let roots = load_roots(path)?;
    let tls_err = |e: &dyn std::fmt::Display| TransportError::TlsSetup(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| tls_err(&e))?;
    let config = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerName(verifier)))
    } else {
        builder.with_webpki_verifier(verifier)
    };
    Ok(Arc::new(config.with_no_client_auth()))
}

fn load_roots(path: &Path) -> Result<RootCertStore, TransportError> {
    let bad = |problem: String| TransportError::CaFile {
        path: path.to_owned(),
        problem,
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    Ok(roots)
}

async fn tls_connect(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TransportError> {
    let tls_err = |problem: String| TransportError::Tls {
        host: host.to_owned(),
        problem,
    };
    let name = ServerName::try_from(host.to_owned()).map_err(|e| tls_err(e.to_string()))?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| tls_err(e.to_string()))
}

/// mosquitto's `--insecure`: the chain must still lead to a trusted CA, but
/// the certificate may name another host (a test broker on an IP address,
/// a certificate for the public name used through a tunnel).
#[derive(Debug)]
struct AnyServerName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // webpki checks the name last, after the chain: this error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Upgrade `stream` to a WebSocket offering the `mqtt` subprotocol
/// ([MQTT-6.0.0-3]), then bridge its binary frames to a byte stream.
async fn ws_connect<S>(stream: S, endpoint: &Endpoint) -> Result<BoxStream, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let scheme = if endpoint.scheme.is_tls() {
        "wss"
    } else {
        "ws"
    };
    let host = if endpoint.host.contains(':') {
        format!("[{}]", endpoint.host)
    } else {
        endpoint.host.clone()
    };
    let url = format!("{scheme}://{host}:{}{}", endpoint.port, endpoint.ws_path);
    let ws_err = |source| TransportError::WebSocket {
        url: url.clone(),
        source: Box::new(source),
    };
    let mut request = url.as_str().into_client_request().map_err(ws_err)?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let (ws, _response) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(ws_err)?;
    let (local, remote) = tokio::io::duplex(WS_BRIDGE_BUFFER);
    tokio::spawn(ws_bridge(ws, remote));
    Ok(Box::new(local))
}

/// Move bytes between the driver's end of a duplex pipe and WebSocket
/// binary frames, one frame per write ([MQTT-6.0.0-1]). Ends when either
/// side closes; dropping `pipe` then shows the driver an end of stream.
async fn ws_bridge<S>(ws: tokio_tungstenite::WebSocketStream<S>, pipe: DuplexStream)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut sink, mut frames) = ws.split();
    let (mut from_driver, mut to_driver) = tokio::io::split(pipe);
    let mut buf = vec![0u8; WS_BRIDGE_BUFFER];
    loop {
        tokio::select! {
            read = from_driver.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                Ok(n) => {
                    let frame = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
                    if sink.send(frame).await.is_err() {
                        break;
                    }
                }
            },
            frame = frames.next() => match frame {
                Some(Ok(Message::Binary(data))) => {
                    if to_driver.write_all(&data).await.is_err() {
                        break;
                    }
                }
                // Pings are answered by tungstenite itself; MQTT has no text frames.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Text(_) | Message::Close(_)) | Err(_)) | None => break,
            },
        }
    }
}
