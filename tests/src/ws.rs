//! A raw MQTT-over-WebSocket client for the transport tests: packets are
//! encoded with `courtier-proto` and sent as binary frames.

use std::net::SocketAddr;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use courtier_proto::{Decoder, Packet, ProtocolVersion};

use crate::TIMEOUT;

/// An MQTT client over a WebSocket.
#[derive(Debug)]
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    rbuf: BytesMut,
    decoder: Decoder,
    version: ProtocolVersion,
    /// The largest binary frame received so far, in bytes.
    pub largest_frame: usize,
}

/// Open `ws://addr/mqtt` offering `subprotocol` (none if `None`).
pub async fn handshake(
    addr: SocketAddr,
    subprotocol: Option<&str>,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Error> {
    handshake_with(addr, "/mqtt", subprotocol, &[]).await
}

/// Open `ws://addr{path}` offering `subprotocol`, with extra request `headers`.
pub async fn handshake_with(
    addr: SocketAddr,
    path: &str,
    subprotocol: Option<&str>,
    headers: &[(&'static str, &str)],
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Error> {
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    if let Some(p) = subprotocol {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(p).expect("header value"),
        );
    }
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).expect("header value"));
    }
    let (ws, _response) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::connect_async(request))
        .await
        .expect("WebSocket handshake timed out")?;
    Ok(ws)
}

/// The HTTP status of a refused handshake (panics if it was not refused
/// with an HTTP response).
pub fn refusal_status(result: Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Error>) -> u16 {
    match result {
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, the handshake succeeded"),
    }
}

impl WsClient {
    /// Open a WebSocket with the `mqtt` subprotocol; nothing is sent yet.
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Self {
        let ws = handshake(addr, Some("mqtt"))
            .await
            .expect("WebSocket handshake");
        Self {
            ws,
            rbuf: BytesMut::new(),
            decoder: Decoder::with_version(u32::MAX, version),
            version,
            largest_frame: 0,
        }
    }

    /// Encode `packet` into one binary frame.
    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        packet
            .encode(self.version, &mut buf)
            .expect("test packet encodes");
        self.send_frame(buf.to_vec()).await;
    }

    /// Send `bytes` as one binary frame.
    pub async fn send_frame(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send frame");
    }

    /// Send a text frame (which MQTT forbids).
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send text frame");
    }

    /// The next packet, `None` if the connection closed.
    pub async fn next(&mut self) -> Option<Packet> {
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(p) = self
                    .decoder
                    .decode(&mut self.rbuf)
                    .expect("broker sent a valid packet")
                {
                    return Some(p);
                }
                match self.ws.next().await {
                    Some(Ok(Message::Binary(b))) => {
                        self.largest_frame = self.largest_frame.max(b.len());
                        self.rbuf.extend_from_slice(&b);
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .expect("timed out waiting for a packet over WebSocket")
    }

    /// Send a ping and wait for the pong carrying the same data.
    pub async fn ping_pong(&mut self, data: &'static [u8]) {
        self.ws
            .send(Message::Ping(data.into()))
            .await
            .expect("send ping");
        tokio::time::timeout(TIMEOUT, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Pong(got))) => {
                        assert_eq!(&got[..], data, "pong echoes the ping");
                        return;
                    }
                    Some(Ok(Message::Binary(b))) => self.rbuf.extend_from_slice(&b),
                    Some(Ok(_)) => {}
                    other => panic!("no pong: {other:?}"),
                }
            }
        })
        .await
        .expect("timed out waiting for a pong");
    }

    /// Read until the server's Close frame; returns its close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        tokio::time::timeout(TIMEOUT, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => {}
                    None | Some(Err(_)) => return None,
                }
            }
        })
        .await
        .expect("timed out waiting for a close frame")
    }

    /// The next packet; fails if the connection closes first.
    pub async fn recv(&mut self) -> Packet {
        self.next()
            .await
            .expect("WebSocket closed while a packet was expected")
    }
}
