//! One MQTT client connection over TCP or WebSocket: the byte transport, the CONNECT and
//! SUBSCRIBE handshakes, and decoding what the broker sends.
//!
//! Both transports carry the same byte stream: several MQTT packets may share one WebSocket
//! binary frame, and one packet may span frames ([MQTT-6.0.0-2]), so the WebSocket side
//! ([`crate::ws`]) reads each frame's payload into the same read buffer the TCP side fills.

use std::net::SocketAddr;
use std::num::NonZeroU16;

use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut, BytesMut};
use courtier_proto::packet::{ConnAck, Connect, Subscribe, Subscription, SubscriptionOptions};
use courtier_proto::{Decoder, Packet, ProtocolVersion, QoS, TopicFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ws::WsWire;

/// The largest packet the generator accepts from a broker: a 64 KiB payload plus headers.
const MAX_PACKET: u32 = 1 << 20;

/// How far the read buffer grows before each read: enough for several 64 KiB packets.
const READ_CHUNK: usize = 128 * 1024;

/// Which wire a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    /// MQTT directly over TCP.
    Tcp,
    /// MQTT in WebSocket binary frames, subprotocol `mqtt`.
    Ws,
}

/// Where and how clients connect.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The broker's loopback address for this transport.
    pub(crate) addr: SocketAddr,
    /// TCP or WebSocket.
    pub(crate) transport: Transport,
    /// The HTTP path of the WebSocket endpoint.
    pub(crate) ws_path: String,
    /// The MQTT protocol version every client speaks.
    pub(crate) version: ProtocolVersion,
    /// Persistent sessions (3.1.1 clean session off, 5.0 a session expiry of an hour): the
    /// broker must then keep QoS 1/2 deliveries durably (what `--persistent` measures).
    pub(crate) persistent: bool,
}

/// The byte stream under one client.
enum Wire {
    Tcp(TcpStream),
    Ws(Box<WsWire>),
}

/// A connected MQTT client: its wire, decoder and buffers.
pub(crate) struct Client {
    wire: Wire,
    decoder: Decoder,
    /// Bytes read but not yet decoded.
    read_buf: BytesMut,
    /// Bytes queued by the caller and sent by [`Client::flush`].
    pub(crate) write_buf: BytesMut,
    /// The version spoken, for encoding.
    pub(crate) version: ProtocolVersion,
}

impl Client {
    /// Opens the wire, sends CONNECT (clean session, no keep alive so an idle client costs the
    /// broker no pings) and waits for a successful CONNACK.
    pub(crate) async fn connect(target: &Target, client_id: &str) -> Result<(Self, ConnAck)> {
        let tcp = TcpStream::connect(target.addr)
            .await
            .with_context(|| format!("could not connect to {}", target.addr))?;
        // Batching is done here on purpose; Nagle would only add latency on top of it.
        tcp.set_nodelay(true)?;
        let wire = match target.transport {
            Transport::Tcp => Wire::Tcp(tcp),
            Transport::Ws => {
                let ws = WsWire::connect(tcp, target.addr, &target.ws_path).await?;
                Wire::Ws(Box::new(ws))
            }
        };
        let mut client = Self {
            wire,
            decoder: Decoder::with_version(MAX_PACKET, target.version),
            read_buf: BytesMut::with_capacity(4096),
            write_buf: BytesMut::with_capacity(4096),
            version: target.version,
        };
        let mut connect = Connect {
            protocol: target.version,
            clean_start: true,
            keep_alive: 0,
            client_id: client_id.into(),
            will: None,
            username: None,
            password: None,
            properties: Default::default(),
        };
        if target.persistent {
            if target.version.is_v5() {
                connect.properties.session_expiry_interval = Some(3600);
            } else {
                connect.clean_start = false;
            }
        }
        client
            .send_packet(&Packet::Connect(Box::new(connect)))
            .await?;
        match client.next_packet().await? {
            Packet::ConnAck(ack) if ack.reason.is_success() => Ok((client, ack)),
            Packet::ConnAck(ack) => bail!("{client_id}: CONNACK refused: {:?}", ack.reason),
            other => bail!("{client_id}: expected CONNACK, got {}", other.name()),
        }
    }

    /// Subscribes to `filter` at `qos` and waits for a SUBACK granting exactly that QoS, so a
    /// downgraded subscription cannot pass for a QoS 1/2 run.
    pub(crate) async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<()> {
        let subscribe = Subscribe {
            packet_id: NonZeroU16::MIN,
            subscriptions: vec![Subscription {
                filter: TopicFilter::new(filter).map_err(|e| anyhow!("{filter}: {e}"))?,
                options: SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
            }],
            properties: Default::default(),
        };
        self.send_packet(&Packet::Subscribe(subscribe)).await?;
        match self.next_packet().await? {
            Packet::SubAck(ack) => match ack.reason_codes.first() {
                Some(code) if code.as_u8() == qos as u8 => Ok(()),
                other => bail!("SUBSCRIBE {filter} at {qos:?} answered with {other:?}"),
            },
            other => bail!("expected SUBACK, got {}", other.name()),
        }
    }

    /// Encodes `packet` into the write buffer and flushes.
    async fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        packet.encode(self.version, &mut self.write_buf)?;
        self.flush().await
    }

    /// Sends everything in the write buffer: one `write_all` on TCP, one binary frame on
    /// WebSocket.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        match &mut self.wire {
            Wire::Tcp(tcp) => {
                tcp.write_all(&self.write_buf).await?;
                self.write_buf.clear();
            }
            Wire::Ws(ws) => {
                ws.send(&mut self.write_buf).await?;
                self.write_buf.clear();
            }
        }
        Ok(())
    }

    /// The next packet already buffered, without reading.
    pub(crate) fn buffered_packet(&mut self) -> Result<Option<Packet>> {
        Ok(self.decoder.decode(&mut self.read_buf)?)
    }

    /// Reads once from the wire into the read buffer. Cancel-safe: nothing is lost if the
    /// future is dropped, which lets callers race it against a timer in `select!`.
    pub(crate) async fn fill(&mut self) -> Result<()> {
        match &mut self.wire {
            Wire::Tcp(tcp) => {
                self.read_buf.reserve(READ_CHUNK);
                if tcp.read_buf(&mut self.read_buf).await? == 0 {
                    bail!("the broker closed the connection");
                }
            }
            Wire::Ws(ws) => ws.fill(&mut self.read_buf, READ_CHUNK).await?,
        }
        Ok(())
    }

    /// The next packet, reading as needed.
    pub(crate) async fn next_packet(&mut self) -> Result<Packet> {
        loop {
            if let Some(packet) = self.buffered_packet()? {
                return Ok(packet);
            }
            self.fill().await?;
        }
    }
}

/// A 4-byte acknowledgement (PUBACK, PUBREC, PUBREL or PUBCOMP) with no reason code, which
/// means Success in 5.0 and is the only form in 3.1.1.
pub(crate) fn put_ack(buf: &mut BytesMut, packet_type: u8, packet_id: NonZeroU16) {
    // PUBREL carries the fixed-header flags 0b0010 ([MQTT-3.6.1-1]).
    let flags = if packet_type == 6 { 0b0010 } else { 0 };
    buf.put_u8(packet_type << 4 | flags);
    buf.put_u8(2);
    buf.put_u16(packet_id.get());
}
