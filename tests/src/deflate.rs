//! A raw MQTT-over-WebSocket client with permessage-deflate (RFC 7692),
//! written from the RFCs so the tests can see every frame: the handshake
//! response, RSV1 on each message, and the bytes on the wire.

use std::net::SocketAddr;

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use courtier_proto::{Decoder, Packet, ProtocolVersion};

use crate::TIMEOUT;

/// The RFC 6455 section 1.3 example key, and the accept value it must get.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// `Sec-WebSocket-Accept` for [`KEY`].
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x81];

/// An MQTT client over a raw WebSocket, compressing when deflate was negotiated.
#[derive(Debug)]
pub struct DeflateClient {
    stream: TcpStream,
    raw: Vec<u8>,
    /// The handshake response head (status line and headers).
    pub response: String,
    /// Whether the response accepted permessage-deflate.
    pub deflate: bool,
    mqtt: BytesMut,
    decoder: Decoder,
    version: ProtocolVersion,
    /// Bytes written to and read from TCP after the handshake.
    pub wire_out: usize,
    /// See `wire_out`.
    pub wire_in: usize,
    /// Data messages received with RSV1 set.
    pub compressed_in: usize,
    /// Data messages received plain.
    pub plain_in: usize,
}

impl DeflateClient {
    /// Open `ws://addr/mqtt` with subprotocol `mqtt`, offering `extensions`
    /// (none if `None`); panics unless the answer is 101.
    pub async fn open(
        addr: SocketAddr,
        extensions: Option<&str>,
        version: ProtocolVersion,
    ) -> Self {
        Self::open_with(addr, extensions, &[], version).await
    }

    /// [`Self::open`] with extra request headers (`X-Forwarded-For`, ...).
    pub async fn open_with(
        addr: SocketAddr,
        extensions: Option<&str>,
        headers: &[(&str, &str)],
        version: ProtocolVersion,
    ) -> Self {
        let mut stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut request = format!(
            "GET /mqtt HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n"
        );
        if let Some(ext) = extensions {
            request.push_str(&format!("Sec-WebSocket-Extensions: {ext}\r\n"));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send handshake");
        let mut raw = Vec::new();
        let end = tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    return i + 4;
                }
                let mut chunk = [0; 4096];
                let n = stream.read(&mut chunk).await.expect("read handshake");
                assert!(n > 0, "connection closed during the handshake");
                raw.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("handshake timed out");
        let response = String::from_utf8_lossy(&raw[..end]).into_owned();
        raw.drain(..end);
        assert!(
            response.starts_with("HTTP/1.1 101"),
            "not upgraded: {response}"
        );
        let mut client = Self {
            stream,
            raw,
            deflate: false,
            response,
            mqtt: BytesMut::new(),
            decoder: Decoder::with_version(u32::MAX, version),
            version,
            wire_out: 0,
            wire_in: 0,
            compressed_in: 0,
            plain_in: 0,
        };
        client.deflate = client
            .header("sec-websocket-extensions")
            .is_some_and(|e| e.starts_with("permessage-deflate"));
        client
    }

    /// A response header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// Send `payload` as one binary message: compressed (RSV1) when deflate
    /// was negotiated and `compress`, else plain.
    pub async fn send_message(&mut self, payload: &[u8], compress: bool) {
        let compress = compress && self.deflate;
        let body = if compress {
            deflate(payload)
        } else {
            payload.to_vec()
        };
        let frame = masked_frame(if compress { 0xC2 } else { 0x82 }, &body);
        self.send_raw(&frame).await;
    }

    /// Write raw bytes (a hand-made frame).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.wire_out += bytes.len();
        self.stream.write_all(bytes).await.expect("send frame");
    }

    /// Encode `packet` and send it as one message, compressed if negotiated.
    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        packet
            .encode(self.version, &mut buf)
            .expect("test packet encodes");
        self.send_message(&buf, true).await;
    }

    /// The next frame: (first byte, payload); `None` when TCP closes.
    pub async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some((len, at)) = server_frame_len(&self.raw)
                    && self.raw.len() >= at + len
                {
                    let b0 = self.raw[0];
                    let payload = self.raw[at..at + len].to_vec();
                    self.raw.drain(..at + len);
                    return Some((b0, payload));
                }
                let mut chunk = vec![0; 64 * 1024];
                let n = self.stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                self.wire_in += n;
                self.raw.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("timed out waiting for a WebSocket frame")
    }

    /// The next MQTT packet; `None` if the connection closed first.
    pub async fn next(&mut self) -> Option<Packet> {
        loop {
            if let Some(p) = self
                .decoder
                .decode(&mut self.mqtt)
                .expect("broker sent a valid packet")
            {
                return Some(p);
            }
            let (b0, payload) = self.frame().await?;
            match b0 & 0x0F {
                0x2 if b0 & 0x40 != 0 => {
                    self.compressed_in += 1;
                    self.mqtt.extend_from_slice(&inflate(&payload));
                }
                0x2 => {
                    self.plain_in += 1;
                    self.mqtt.extend_from_slice(&payload);
                }
                0x8 => return None,
                _ => {}
            }
        }
    }

    /// The next packet; fails if the connection closes first.
    pub async fn recv(&mut self) -> Packet {
        self.next()
            .await
            .expect("WebSocket closed while a packet was expected")
    }

    /// Read until the server's Close frame; its status code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            let (b0, payload) = self.frame().await?;
            if b0 & 0x0F == 0x8 {
                return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            }
        }
    }
}

/// The (payload length, header length) of a whole server frame header.
fn server_frame_len(raw: &[u8]) -> Option<(usize, usize)> {
    assert!(
        raw.len() < 2 || raw[1] & 0x80 == 0,
        "server frames must not be masked"
    );
    match *raw.get(1)? {
        126 => Some((
            usize::from(u16::from_be_bytes(raw.get(2..4)?.try_into().ok()?)),
            4,
        )),
        127 => Some((
            usize::try_from(u64::from_be_bytes(raw.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        )),
        n => Some((usize::from(n), 2)),
    }
}

/// A masked client frame with first byte `b0`.
pub fn masked_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// One message's raw DEFLATE, sync-flushed, tail removed (RFC 7692 7.2.1).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("compress");
    assert!(out.ends_with(&TAIL), "a sync flush ends with 00 00 ff ff");
    out.truncate(out.len() - TAIL.len());
    out
}

/// One message inflated with a fresh context (no context takeover).
pub fn inflate(payload: &[u8]) -> Vec<u8> {
    let input = [payload, &TAIL[..]].concat();
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(payload.len() * 8 + 1024);
    loop {
        let before = d.total_in();
        d.decompress_vec(
            &input[usize::try_from(before).expect("fits")..],
            &mut out,
            FlushDecompress::Sync,
        )
        .expect("the broker's message inflates");
        if usize::try_from(d.total_in()).expect("fits") == input.len() && out.len() < out.capacity()
        {
            return out;
        }
        out.reserve(out.capacity());
    }
}
