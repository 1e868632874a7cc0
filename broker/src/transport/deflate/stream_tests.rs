//! [`DeflateWsStream`] against a fake client over an in-memory duplex:
//! compressed and plain messages both ways, ping/pong, every refusal with
//! its close code, and the closing handshake.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::transport::deflate::codec::TAIL;

const MASK: [u8; 4] = [1, 2, 3, 4];

/// A masked client frame.
pub(super) fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
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

/// What a client's compressor sends for `data` (raw deflate, sync flush, tail cut).
fn client_deflate(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("compress");
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - 4);
    out
}

struct Client {
    io: DuplexStream,
    buf: Vec<u8>,
}

impl Client {
    async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("client write");
    }

    /// The next server frame: (first byte, payload), `None` at EOF.
    async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Some((b0, payload, len)) = server_frame(&self.buf) {
                self.buf.drain(..len);
                return Some((b0, payload));
            }
            let mut chunk = [0; 8192];
            let n = self.io.read(&mut chunk).await.expect("client read");
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The payload of the next data frame, inflated if RSV1 is set.
    async fn message(&mut self) -> Vec<u8> {
        let (b0, payload) = self.frame().await.expect("a frame");
        assert_eq!(b0 & 0x0F, 0x2, "binary");
        if b0 & 0x40 == 0 {
            return payload;
        }
        let mut d = Decompress::new(false);
        let input = [payload, TAIL.to_vec()].concat();
        let mut out = Vec::with_capacity(8 << 20);
        d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .expect("inflate");
        out
    }
}

/// The server frame at the start of `buf`: (first byte, payload, bytes
/// it takes), `None` while incomplete.
pub(super) fn server_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let [b0, b1, ..] = *buf else {
        return None;
    };
    assert_eq!(b1 & 0x80, 0, "server frames are unmasked");
    let (len, at) = match b1 {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    Some((b0, payload, at + len))
}

fn pair(max: usize) -> (DeflateWsStream<DuplexStream>, Client) {
    pair_with(max, true)
}

fn pair_with(max: usize, deflate: bool) -> (DeflateWsStream<DuplexStream>, Client) {
    let (a, b) = tokio::io::duplex(1 << 20);
    (
        DeflateWsStream::new(a, max, deflate),
        Client {
            io: b,
            buf: Vec::new(),
        },
    )
}

async fn read_exact(s: &mut DeflateWsStream<DuplexStream>, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    s.read_exact(&mut out).await.expect("server read");
    out
}

#[tokio::test]
async fn compressed_and_plain_messages_in_both_directions() {
    let (mut server, mut client) = pair(1 << 20);
    // RFC 7692 section 7.2.3.1's "Hello", then a fragmented compressed
    // message with a ping between fragments, then a plain one.
    client
        .send(&frame(0xC2, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))
        .await;
    let big: Vec<u8> = br#"{"id":1,"temp":21.5,"unit":"C"}"#.repeat(2000);
    let z = client_deflate(&big);
    client.send(&frame(0x42, &z[..10])).await;
    client.send(&frame(0x89, b"hi")).await;
    client.send(&frame(0x00, &z[10..])).await;
    client.send(&frame(0x80, b"")).await;
    client.send(&frame(0x82, b"plain")).await;
    assert_eq!(read_exact(&mut server, 5).await, b"Hello");
    assert_eq!(read_exact(&mut server, big.len()).await, big);
    assert_eq!(read_exact(&mut server, 5).await, b"plain");
    assert_eq!(client.frame().await, Some((0x8A, b"hi".to_vec())), "pong");

    server.write_all(&big).await.expect("write");
    server.write_all(b"\x40\x02\x00\x01").await.expect("write");
    server.flush().await.expect("flush");
    let (b0, wire) = {
        let (b0, p) = client.frame().await.expect("frame");
        (b0, p)
    };
    assert_eq!(b0, 0xC2, "compressed");
    assert!(
        wire.len() < big.len() / 20,
        "{} bytes for {}",
        wire.len(),
        big.len()
    );
    assert_eq!(
        client.message().await,
        b"\x40\x02\x00\x01",
        "a PUBACK goes plain"
    );
    // Messages stand alone: the second one inflates with a fresh context.
    server.write_all(&big).await.expect("write");
    server.flush().await.expect("flush");
    assert_eq!(client.message().await, big);
    // A large write becomes messages of at most 64 KiB of input each.
    let huge = big.repeat(3);
    server.write_all(&huge).await.expect("write");
    server.flush().await.expect("flush");
    let mut got = Vec::new();
    while got.len() < huge.len() {
        let m = client.message().await;
        assert!(m.len() <= 64 * 1024, "{} bytes in one message", m.len());
        got.extend(m);
    }
    assert_eq!(got, huge);
}

#[tokio::test]
async fn without_deflate_everything_is_plain() {
    let (mut server, mut client) = pair_with(1 << 20, false);
    let json = br#"{"id":1,"temp":21.5,"unit":"C"}"#.repeat(100);
    client.send(&frame(0x02, &json[..100])).await;
    client.send(&frame(0x80, &json[100..])).await;
    assert_eq!(read_exact(&mut server, json.len()).await, json);
    server.write_all(&json).await.expect("write");
    server.flush().await.expect("flush");
    assert_eq!(
        client.frame().await,
        Some((0x82, json.clone())),
        "not compressed"
    );
    // A compressed message was not negotiated: RSV1 is a protocol error.
    client.send(&frame(0xC2, &client_deflate(&json))).await;
    let err = server.read_u8().await.expect_err("refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let (b0, payload) = client.frame().await.expect("close");
    assert_eq!((b0, &payload[..2]), (0x88, &1002u16.to_be_bytes()[..]));
}

/// Each refusal closes with its code once the connection task shuts down.
async fn refused(max: usize, wire: Vec<u8>, code: u16) {
    let (mut server, mut client) = pair(max);
    client.send(&wire).await;
    let mut sink = Vec::new();
    let err = server.read_to_end(&mut sink).await.expect_err("refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        sink.len() <= max,
        "inflated output stayed bounded: {}",
        sink.len()
    );
    let shutdown = tokio::spawn(async move { server.shutdown().await });
    let (b0, payload) = client.frame().await.expect("close frame");
    assert_eq!(b0, 0x88);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code, "{err}");
    // Failing the connection (RFC 6455 section 7.1.7) closes TCP at once.
    assert_eq!(client.frame().await, None);
    shutdown.await.expect("join").expect("clean shutdown");
}

#[tokio::test]
async fn refusals_carry_their_close_codes() {
    // Unmasked client frame.
    refused(1000, vec![0x82, 0x01, 0x00], 1002).await;
    // RSV1 on a continuation.
    refused(1000, [frame(0x02, b"a"), frame(0xC0, b"b")].concat(), 1002).await;
    // A text frame.
    refused(1000, frame(0x81, b"{}"), 1003).await;
    // Too big on the wire.
    refused(1000, frame(0x82, &[0; 1001]), 1009).await;
    // Not deflate.
    refused(1000, frame(0xC2, &[0xff; 20]), 1007).await;
    // A bomb: 64 MiB of zeros in about 64 KiB, refused after 1 MiB inflated.
    let bomb = client_deflate(&vec![0; 64 << 20]);
    assert!(bomb.len() < 128 * 1024);
    refused(1 << 20, frame(0xC2, &bomb), 1009).await;
}

#[tokio::test]
async fn the_peer_closing_first_is_echoed_and_reads_end() {
    let (mut server, mut client) = pair(1000);
    client.send(&frame(0x88, &[0x03, 0xe8])).await;
    let mut sink = Vec::new();
    server.read_to_end(&mut sink).await.expect("clean end");
    assert!(sink.is_empty());
    assert_eq!(client.frame().await, Some((0x88, vec![0x03, 0xe8])));
    server.shutdown().await.expect("shutdown");
    assert_eq!(client.frame().await, None, "TCP closed after the handshake");
}

#[tokio::test(start_paused = true)]
async fn our_close_waits_for_the_peer_then_gives_up() {
    let (mut server, mut client) = pair(1000);
    // No reply: the grace period (virtual time) ends the wait.
    server.shutdown().await.expect("shutdown");
    assert_eq!(client.frame().await, Some((0x88, vec![0x03, 0xe8])));
    assert_eq!(client.frame().await, None);
}

/// Every idle WebSocket connection holds one of these in its task (issue 9:
/// the idle footprint must not grow): small, and no buffer until bytes come.
#[test]
fn a_new_stream_is_small_and_holds_no_buffer() {
    type Upgraded = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>;
    let size = std::mem::size_of::<DeflateWsStream<Upgraded>>();
    assert!(size <= 328, "DeflateWsStream is {size} bytes");
    let (server, _client) = pair(1000);
    let held = [
        &server.rbuf,
        &server.plain,
        &server.compressed,
        &server.wbuf,
    ];
    assert!(held.iter().all(|b| b.capacity() == 0));
}

/// After a burst, a message as small as a PINGREQ lets the large read
/// buffer go: the connection then waits holding [`IDLE_READ`] bytes.
#[tokio::test]
async fn after_a_burst_the_wait_holds_a_small_buffer() {
    use futures_util::FutureExt;

    let (mut server, mut client) = pair_with(1 << 20, false);
    let burst: Vec<u8> = (0..2000).flat_map(|_| frame(0x82, &[9; 100])).collect();
    client.send(&burst).await;
    assert_eq!(read_exact(&mut server, 200_000).await, vec![9; 200_000]);
    assert!(server.last_read >= SMALL_READ, "bulk reads");
    client.send(&frame(0x82, &[0xC0, 0x00])).await;
    assert_eq!(read_exact(&mut server, 2).await, [0xC0, 0x00]);
    let mut buf = [0; 16];
    assert!(server.read(&mut buf).now_or_never().is_none(), "waiting");
    assert!(
        server.rbuf.capacity() <= IDLE_READ,
        "{}",
        server.rbuf.capacity()
    );
}
