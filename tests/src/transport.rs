//! One raw MQTT client over any of the broker's four transports (TCP, TLS,
//! WebSocket, secure WebSocket), so a test can be a table over transport
//! pairs. Packets are encoded with `courtier-proto`; over WebSocket each
//! send is one binary frame.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use courtier_proto::packet::{Ack, AckKind, Connect, Publish};
use courtier_proto::{Decoder, Packet, ProtocolVersion};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::{BrokerProcess, TIMEOUT};

/// The four ways to reach the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// MQTT over TCP.
    Tcp,
    /// MQTT over TLS.
    Tls,
    /// MQTT over WebSocket.
    Ws,
    /// MQTT over WebSocket over TLS.
    Wss,
}

impl Transport {
    /// All four.
    pub const ALL: [Transport; 4] = [Self::Tcp, Self::Tls, Self::Ws, Self::Wss];

    /// Lower-case name, for topics and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::Ws => "ws",
            Self::Wss => "wss",
        }
    }
}

/// A byte stream of any kind.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Conn {
    Bytes(Box<dyn Io>),
    Ws(Box<WebSocketStream<Box<dyn Io>>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bytes(_) => "Conn::Bytes",
            Self::Ws(_) => "Conn::Ws",
        })
    }
}

/// TLS to `addr` (server name `localhost`) with `config`.
pub async fn tls_connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Box<dyn Io> {
    let tcp = TcpStream::connect(addr).await.expect("TCP connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = tokio::time::timeout(
        TIMEOUT,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .expect("TLS handshake timed out")
    .expect("TLS handshake");
    Box::new(tls)
}

/// Whether an MQTT session gets going over TLS to `addr` with `config`:
/// the handshake, a v5 CONNECT and a CONNACK back. A handshake the server
/// refused shows as a failed first read (TLS 1.3 clients learn of a refused
/// certificate only then).
pub async fn mqtt_session_over_tls(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> bool {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let Ok(mut tls) = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
    else {
        return false;
    };
    let mut buf = BytesMut::new();
    let connect = crate::connect_packet(ProtocolVersion::V5, "tls-probe");
    Packet::Connect(Box::new(connect))
        .encode(ProtocolVersion::V5, &mut buf)
        .expect("encode");
    if tls.write_all(&buf).await.is_err() {
        return false;
    }
    let mut first = [0u8; 1];
    matches!(
        tokio::time::timeout(TIMEOUT, tls.read(&mut first)).await,
        Ok(Ok(1)) if first[0] == 0x20
    )
}

/// An MQTT client over any [`Transport`].
#[derive(Debug)]
pub struct AnyClient {
    conn: Conn,
    rbuf: BytesMut,
    decoder: Decoder,
    version: ProtocolVersion,
}

impl AnyClient {
    /// Open a connection over `transport` to `broker` (started with every
    /// listener; TLS trusts `tls`); nothing is sent yet.
    pub async fn open(
        broker: &BrokerProcess,
        transport: Transport,
        tls: &Arc<rustls::ClientConfig>,
        version: ProtocolVersion,
    ) -> Self {
        let want = |a: Option<SocketAddr>| a.unwrap_or_else(|| panic!("no {transport:?} listener"));
        let conn = match transport {
            Transport::Tcp => {
                let tcp = TcpStream::connect(broker.addr).await.expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                Conn::Bytes(Box::new(tcp))
            }
            Transport::Tls => Conn::Bytes(tls_connect(want(broker.tls), Arc::clone(tls)).await),
            Transport::Ws => {
                let addr = want(broker.http);
                let tcp = TcpStream::connect(addr).await.expect("connect");
                ws_over(format!("ws://{addr}/mqtt"), Box::new(tcp)).await
            }
            Transport::Wss => {
                let addr = want(broker.https);
                let stream = tls_connect(addr, Arc::clone(tls)).await;
                ws_over(format!("wss://localhost:{}/mqtt", addr.port()), stream).await
            }
        };
        Self {
            conn,
            rbuf: BytesMut::new(),
            decoder: Decoder::with_version(u32::MAX, version),
            version,
        }
    }

    /// Open and CONNECT; expects a successful CONNACK.
    pub async fn connect(
        broker: &BrokerProcess,
        transport: Transport,
        tls: &Arc<rustls::ClientConfig>,
        connect: Connect,
    ) -> Self {
        let mut c = Self::open(broker, transport, tls, connect.protocol).await;
        c.send(&Packet::Connect(Box::new(connect))).await;
        match c.recv().await {
            Packet::ConnAck(a) if a.reason.is_success() => c,
            other => panic!("{transport:?}: expected a successful CONNACK, got {other:?}"),
        }
    }

    /// Encode and send one packet.
    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        packet.encode(self.version, &mut buf).expect("encodes");
        match &mut self.conn {
            Conn::Bytes(s) => {
                s.write_all(&buf).await.expect("write");
                s.flush().await.expect("flush");
            }
            Conn::Ws(ws) => ws
                .send(Message::Binary(buf.freeze()))
                .await
                .expect("send frame"),
        }
    }

    /// Send a successful acknowledgement of `kind` for `id`.
    pub async fn ack(&mut self, kind: AckKind, id: courtier_proto::PacketId) {
        self.send(&Packet::Ack(Ack::new(kind, id))).await;
    }

    /// The next packet, `None` when the connection closed.
    pub async fn next(&mut self) -> Option<Packet> {
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(p) = self.decoder.decode(&mut self.rbuf).expect("valid packet") {
                    return Some(p);
                }
                match &mut self.conn {
                    Conn::Bytes(s) => match s.read_buf(&mut self.rbuf).await {
                        Ok(0) | Err(_) => return None,
                        Ok(_) => {}
                    },
                    Conn::Ws(ws) => match ws.next().await {
                        Some(Ok(Message::Binary(b))) => self.rbuf.extend_from_slice(&b),
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                        Some(Ok(_)) => {}
                    },
                }
            }
        })
        .await
        .expect("timed out waiting for a packet")
    }

    /// The next packet; fails if the connection closes first.
    pub async fn recv(&mut self) -> Packet {
        self.next()
            .await
            .expect("closed while a packet was expected")
    }

    /// Expect an acknowledgement of `kind`.
    pub async fn expect_ack(&mut self, kind: AckKind) -> Ack {
        match self.recv().await {
            Packet::Ack(a) if a.kind == kind => a,
            other => panic!("expected {}, got {other:?}", kind.name()),
        }
    }

    /// Expect a PUBLISH.
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    /// Drop the connection without DISCONNECT (the will is published).
    pub fn abort(self) {
        drop(self);
    }
}

async fn ws_over(url: String, stream: Box<dyn Io>) -> Conn {
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let (ws, _) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::client_async(request, stream))
        .await
        .expect("WebSocket handshake timed out")
        .expect("WebSocket handshake");
    Conn::Ws(Box::new(ws))
}
