//! [`DeflateWsStream`] over a scripted socket that hands over its input in
//! reads of chosen sizes and takes a chosen number of bytes per write:
//! frames split across reads (long ones read straight into the caller's
//! buffer, the rest through the stream's own), vectored writes cut at every
//! point of a frame, and control frames in between.

use std::io::IoSlice;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::tests::{frame, server_frame};
use super::*;

/// A socket following a script, every call ready at once.
#[derive(Debug, Default)]
struct Scripted {
    /// What the peer sent; its end reads as the end of the stream.
    input: Vec<u8>,
    read_at: usize,
    /// Bytes returned by each read at most, in turn (cycled).
    reads: Vec<usize>,
    reads_done: usize,
    /// Everything written.
    output: Vec<u8>,
    /// Bytes taken by each write at most, in turn (cycled).
    writes: Vec<usize>,
    writes_done: usize,
    vectored: bool,
}

impl Scripted {
    fn new(input: Vec<u8>, reads: &[usize], writes: &[usize], vectored: bool) -> Self {
        Self {
            input,
            reads: reads.to_vec(),
            writes: writes.to_vec(),
            vectored,
            ..Self::default()
        }
    }
}

/// The next size of a cycled script.
fn next(sizes: &[usize], done: &mut usize) -> usize {
    *done += 1;
    sizes[(*done - 1) % sizes.len()]
}

impl AsyncRead for Scripted {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let left = this.input.len() - this.read_at;
        let n = next(&this.reads, &mut this.reads_done)
            .min(buf.remaining())
            .min(left);
        buf.put_slice(&this.input[this.read_at..this.read_at + n]);
        this.read_at += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut room = next(&this.writes, &mut this.writes_done);
        let start = this.output.len();
        for b in bufs {
            let n = room.min(b.len());
            this.output.extend_from_slice(&b[..n]);
            room -= n;
        }
        Poll::Ready(Ok(this.output.len() - start))
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The server's frames in `wire`, which must hold whole frames only: the
/// binary payloads joined, and the payloads of the Pongs.
fn data_and_pongs(wire: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (mut data, mut pongs, mut at) = (Vec::new(), Vec::new(), 0);
    while at < wire.len() {
        let (b0, payload, len) = server_frame(&wire[at..]).expect("whole frames only");
        match b0 {
            0x82 => {
                assert!(payload.len() <= MAX_MESSAGE_OUT, "{} bytes", payload.len());
                data.extend(payload);
            }
            0x8A => pongs.push(payload),
            other => panic!("unexpected frame {other:#x}"),
        }
        at += len;
    }
    (data, pongs)
}

#[tokio::test]
async fn frames_split_across_reads_arrive_whole_and_in_order() {
    // Frames longer and shorter than the caller's buffer, each followed by
    // a ping, then a message in three fragments with a ping inside it.
    let (mut wire, mut expect) = (Vec::new(), Vec::new());
    for (i, n) in [70_000, 5, 20_000, 0, 65_536, 130].into_iter().enumerate() {
        let payload: Vec<u8> = (0..n).map(|j| (i * 31 + j * 7) as u8).collect();
        wire.extend(frame(0x82, &payload));
        wire.extend(frame(0x89, &[i as u8]));
        expect.extend(payload);
    }
    let long: Vec<u8> = (0..100_000u32).map(|j| (j % 251) as u8).collect();
    wire.extend(frame(0x02, &long[..40_000]));
    wire.extend(frame(0x89, b"mid"));
    wire.extend(frame(0x00, &long[40_000..90_000]));
    wire.extend(frame(0x80, &long[90_000..]));
    expect.extend(&long);
    let reads: [&[usize]; 5] = [
        &[1, 2, 3],
        &[1000],
        &[65_550],
        &[3, 70_000, 14],
        &[usize::MAX],
    ];
    for reads in reads {
        for room in [256, 4096, 65_536] {
            let io = Scripted::new(wire.clone(), reads, &[usize::MAX], true);
            let mut server = DeflateWsStream::new(io, 1 << 20, false);
            let mut got = Vec::new();
            let mut chunk = vec![0; room];
            loop {
                let n = server.read(&mut chunk).await.expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
            }
            assert!(got == expect, "reads {reads:?}, room {room}");
            let (_, pongs) = data_and_pongs(&server.io.output);
            let sent: Vec<&[u8]> = vec![&[0], &[1], &[2], &[3], &[4], &[5], b"mid"];
            assert_eq!(pongs, sent, "reads {reads:?}, room {room}");
        }
    }
}

/// Writes cut anywhere, header or payload: each frame is finished before
/// the Pong a read queues after it, with the vectored path and without.
#[tokio::test]
async fn writes_cut_anywhere_finish_their_frame_before_a_pong() {
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let writes: [&[usize]; 4] = [&[1, 2, 3, 5, 8], &[13, 70_000], &[65_539], &[100_000, 1]];
    for vectored in [true, false] {
        for writes in writes {
            let io = Scripted::new(Vec::new(), &[usize::MAX], writes, vectored);
            let mut server = DeflateWsStream::new(io, 1 << 20, false);
            let (mut sent, mut pings) = (0, 0);
            for round in 0.. {
                if sent == payload.len() {
                    break;
                }
                sent += server.write(&payload[sent..]).await.expect("write");
                // Every other write follows the last at once; before the
                // rest, a ping and a byte arrive and reading the byte
                // queues the Pong.
                if round % 2 == 0 {
                    continue;
                }
                server.io.input.extend(frame(0x89, b"p"));
                server.io.input.extend(frame(0x82, b"x"));
                assert_eq!(server.read_u8().await.expect("read"), b'x');
                pings += 1;
            }
            server.flush().await.expect("flush");
            let (data, pongs) = data_and_pongs(&server.io.output);
            assert!(data == payload, "writes {writes:?}, vectored {vectored}");
            assert_eq!(pongs, vec![b"p".to_vec(); pings]);
        }
    }
}

#[tokio::test]
async fn the_bytes_before_a_fault_are_read_before_its_error() {
    let wire = [frame(0x82, b"abc"), frame(0x81, b"text")].concat();
    let io = Scripted::new(wire, &[usize::MAX], &[usize::MAX], true);
    let mut server = DeflateWsStream::new(io, 1000, false);
    let mut buf = [0; 64];
    assert_eq!(server.read(&mut buf).await.expect("the data first"), 3);
    assert_eq!(&buf[..3], b"abc");
    let err = server.read(&mut buf).await.expect_err("then the fault");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let (b0, payload, _) = server_frame(&server.io.output).expect("our Close");
    assert_eq!((b0, &payload[..2]), (0x88, &1003u16.to_be_bytes()[..]));
}
