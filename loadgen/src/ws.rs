//! The generator's WebSocket client (RFC 6455), as lean as its TCP side so that a WebSocket
//! run measures the broker rather than the generator: each flush becomes one binary frame,
//! masked in place in the write buffer and sent with its header in one vectored write, and a
//! data frame's payload is read straight into the MQTT read buffer, never copied. (With
//! tungstenite, every frame was copied to be masked, every message copied out of its frame,
//! and the read buffer zeroed before each read: about a third more generator CPU per 16 KiB
//! message than over TCP.)
//!
//! It is still a complete client: the opening handshake checks the accept key, the upgrade
//! headers and the `mqtt` subprotocol (section 4.1); every frame is masked with a key from the
//! operating system's random source (section 5.3); server frames must be unmasked, carry no
//! reserved bits, and respect fragmentation and the control frame rules; Pings are answered.

use std::io::IoSlice;
use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Buf, BytesMut};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Appended to the client's key to make the server's accept key (section 4.2.2).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The longest server frame header: unmasked, with a 64-bit length (section 5.2).
const MAX_SERVER_HEADER: usize = 10;

/// The longest control frame payload (section 5.5).
const MAX_CONTROL: usize = 125;

/// The largest handshake response accepted.
const MAX_RESPONSE_HEAD: usize = 8192;

/// One WebSocket connection carrying MQTT bytes in binary frames.
pub(crate) struct WsWire {
    tcp: TcpStream,
    /// Bytes read and not yet parsed: frame headers, control frames, and the first bytes of a
    /// payload that arrived with its header.
    raw: BytesMut,
    /// Payload bytes of the current data frame still to come.
    left: u64,
    /// A fragmented message has begun and not ended.
    fragmented: bool,
    /// Pongs owed, sent before the next data frame.
    pongs: BytesMut,
    keys: MaskKeys,
}

impl WsWire {
    /// The opening handshake on `tcp` for `ws://addr/path`, asking for subprotocol `mqtt`.
    pub(crate) async fn connect(mut tcp: TcpStream, addr: SocketAddr, path: &str) -> Result<Self> {
        let mut nonce = [0; 16];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
        let key = BASE64.encode(nonce);
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: mqtt\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await?;
        let mut raw = BytesMut::with_capacity(1024);
        let head = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            ensure!(raw.len() < MAX_RESPONSE_HEAD, "handshake response too long");
            if tcp.read_buf(&mut raw).await? == 0 {
                bail!("the broker closed the connection during the WebSocket handshake");
            }
        };
        let text = std::str::from_utf8(&raw[..head]).context("handshake response")?;
        check_response(text, &key).with_context(|| format!("ws://{addr}{path}"))?;
        raw.advance(head);
        Ok(Self {
            tcp,
            raw,
            left: 0,
            fragmented: false,
            pongs: BytesMut::new(),
            keys: MaskKeys::new(),
        })
    }

    /// Sends `payload` as one binary frame, masking it in place; owed Pongs go first.
    pub(crate) async fn send(&mut self, payload: &mut [u8]) -> Result<()> {
        if !self.pongs.is_empty() {
            self.tcp.write_all(&self.pongs).await?;
            self.pongs.clear();
        }
        let key = self.keys.next()?;
        mask(payload, key);
        let (header, len) = client_header(0x2, payload.len(), key);
        let mut parts = [IoSlice::new(&header[..len]), IoSlice::new(payload)];
        let mut parts = &mut parts[..];
        while !parts.is_empty() {
            let n = self.tcp.write_vectored(parts).await?;
            ensure!(n > 0, "the broker stopped taking bytes");
            IoSlice::advance_slices(&mut parts, n);
        }
        Ok(())
    }

    /// Reads until some MQTT bytes were appended to `read_buf`, reserving `chunk` bytes for a
    /// payload read. Cancel-safe: every await is a read whose bytes are accounted for as soon
    /// as it returns.
    pub(crate) async fn fill(&mut self, read_buf: &mut BytesMut, chunk: usize) -> Result<()> {
        loop {
            if self.left > 0 {
                return self.payload(read_buf, chunk).await;
            }
            match parse_header(&self.raw)? {
                Some(h) if h.opcode & 0x8 == 0 => {
                    self.data_frame(&h)?;
                    self.raw.advance(h.size);
                    self.left = h.len;
                }
                Some(h) if self.raw.len() >= h.size + h.len as usize => {
                    let payload = self.raw.split_to(h.size + h.len as usize).split_off(h.size);
                    match h.opcode {
                        0x8 => bail!("the broker closed the WebSocket"),
                        0x9 => self.queue_pong(&payload)?,
                        0xA => {}
                        other => bail!("reserved opcode {other:#x} from the broker"),
                    }
                }
                // A header, or a control frame's payload, is still to come.
                _ => {
                    let most = (MAX_SERVER_HEADER + MAX_CONTROL) as u64;
                    if (&mut self.tcp).take(most).read_buf(&mut self.raw).await? == 0 {
                        bail!("the broker closed the connection");
                    }
                }
            }
        }
    }

    /// Appends payload bytes of the current data frame to `read_buf`: those that arrived with
    /// the header, else a read straight into `read_buf` of at most the rest of the frame and
    /// the next header, whose bytes are moved to `raw`.
    async fn payload(&mut self, read_buf: &mut BytesMut, chunk: usize) -> Result<()> {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        if !self.raw.is_empty() {
            let n = left.min(self.raw.len());
            read_buf.extend_from_slice(&self.raw.split_to(n));
            self.left -= n as u64;
            return Ok(());
        }
        read_buf.reserve(chunk);
        let start = read_buf.len();
        let most = self.left + MAX_SERVER_HEADER as u64;
        if (&mut self.tcp).take(most).read_buf(read_buf).await? == 0 {
            bail!("the broker closed the connection");
        }
        let end = start + left.min(read_buf.len() - start);
        self.raw.extend_from_slice(&read_buf[end..]);
        read_buf.truncate(end);
        self.left -= (end - start) as u64;
        Ok(())
    }

    /// Checks a data frame against the message in progress (section 5.4).
    fn data_frame(&mut self, h: &Header) -> Result<()> {
        match (h.opcode, self.fragmented) {
            (0x1, _) => bail!("a text frame from the broker (MQTT is binary)"),
            (0x2, true) => bail!("a new message inside a fragmented one"),
            (0x0, false) => bail!("a continuation frame outside a fragmented message"),
            (0x0 | 0x2, _) => {}
            (other, _) => bail!("reserved opcode {other:#x} from the broker"),
        }
        self.fragmented = !h.fin;
        Ok(())
    }

    /// Owes the broker a Pong with `payload` (section 5.5.3).
    fn queue_pong(&mut self, payload: &[u8]) -> Result<()> {
        let key = self.keys.next()?;
        let (header, len) = client_header(0xA, payload.len(), key);
        self.pongs.extend_from_slice(&header[..len]);
        let start = self.pongs.len();
        self.pongs.extend_from_slice(payload);
        mask(&mut self.pongs[start..], key);
        Ok(())
    }
}

/// Checks the broker's answer to the upgrade (section 4.1): status 101, the upgrade headers,
/// the accept key derived from `key`, subprotocol `mqtt` and no extension.
fn check_response(head: &str, key: &str) -> Result<()> {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    ensure!(
        status.starts_with("HTTP/1.1 101 "),
        "not upgraded: {status}"
    );
    let header = |name: &str| {
        lines.clone().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    };
    let has = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    ensure!(has("upgrade", "websocket"), "no `Upgrade: websocket`");
    ensure!(has("connection", "upgrade"), "no `Connection: upgrade`");
    let accept = BASE64.encode(Sha1::digest(format!("{key}{ACCEPT_GUID}")));
    ensure!(
        header("sec-websocket-accept") == Some(accept.as_str()),
        "wrong Sec-WebSocket-Accept"
    );
    ensure!(
        header("sec-websocket-extensions").is_none(),
        "an extension we did not ask for"
    );
    match header("sec-websocket-protocol") {
        Some("mqtt") => Ok(()),
        other => bail!("answered subprotocol {other:?} instead of mqtt"),
    }
}

/// A server frame header.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    opcode: u8,
    fin: bool,
    len: u64,
    /// The header's own length.
    size: usize,
}

/// The server frame header at the start of `buf`, `None` while incomplete.
fn parse_header(buf: &[u8]) -> Result<Option<Header>> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    ensure!(b0 & 0x70 == 0, "reserved bits in a server frame");
    ensure!(
        b1 & 0x80 == 0,
        "a masked server frame (RFC 6455 section 5.1)"
    );
    // A 7-bit length, or 126 and 16 bits, or 127 and 64 bits of which the first is 0.
    let extended = match b1 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let Some(length) = buf.get(2..2 + extended) else {
        return Ok(None);
    };
    let len = match extended {
        0 => u64::from(b1),
        _ => length.iter().fold(0, |len, b| len << 8 | u64::from(*b)),
    };
    ensure!(len >> 63 == 0, "a 64-bit length with its top bit set");
    let size = 2 + extended;
    let (opcode, fin) = (b0 & 0x0F, b0 & 0x80 != 0);
    if opcode & 0x8 != 0 {
        ensure!(
            fin && len <= MAX_CONTROL as u64,
            "a fragmented or oversized control frame"
        );
    }
    Ok(Some(Header {
        opcode,
        fin,
        len,
        size,
    }))
}

/// The header of a final client frame: opcode, length and masking key (section 5.2), in the
/// first `len` bytes of the array.
fn client_header(opcode: u8, len: usize, key: [u8; 4]) -> ([u8; 14], usize) {
    let mut h = [0; 14];
    h[0] = 0x80 | opcode;
    let at = match len {
        0..=125 => {
            h[1] = 0x80 | len as u8;
            2
        }
        126..=0xFFFF => {
            h[1] = 0x80 | 126;
            h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            h[1] = 0x80 | 127;
            h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    };
    h[at..at + 4].copy_from_slice(&key);
    (h, at + 4)
}

/// XORs `data` with `key` (section 5.3), eight bytes at a time.
fn mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = data.chunks_exact_mut(8);
    for word in &mut words {
        let masked = u64::from_ne_bytes(word.try_into().unwrap_or_default()) ^ wide;
        word.copy_from_slice(&masked.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// Masking keys from the operating system's random source, 256 per system call.
struct MaskKeys {
    pool: [u8; 1024],
    used: usize,
}

impl MaskKeys {
    fn new() -> Self {
        Self {
            pool: [0; 1024],
            used: 1024,
        }
    }

    fn next(&mut self) -> Result<[u8; 4]> {
        if self.used == self.pool.len() {
            getrandom::fill(&mut self.pool)
                .map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
            self.used = 0;
        }
        let mut key = [0; 4];
        key.copy_from_slice(&self.pool[self.used..self.used + 4]);
        self.used += 4;
        Ok(key)
    }
}

#[cfg(test)]
#[path = "ws_tests.rs"]
mod tests;
