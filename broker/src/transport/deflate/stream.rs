//! A WebSocket (permessage-deflate or not) as `AsyncRead + AsyncWrite` of
//! MQTT bytes, over any byte stream (the upgraded HTTP connection in the broker,
//! an in-memory duplex in tests). Reads inflate straight into the caller's
//! buffer; each write becomes messages of at most 64 KiB, compressed when
//! that pays, and otherwise sent with their headers by one vectored write
//! straight from the caller's buffer ([`super::writer`]).

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::WsError;
use super::codec::{Inflater, put_message};
use super::frame::{MAX_CLIENT_HEADER, Opcode, put_frame};
use super::reader::{Event, FrameReader};
use super::writer::{FrameRun, SLICES_PER_WRITE};

/// How long a close waits for the peer's Close frame before dropping the
/// connection anyway (as on the plain path).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Bytes asked of the socket per read while data flows: as much as the
/// plain path's largest read, so a stream of data costs as few system
/// calls on both.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes asked of the socket after a read smaller than [`SMALL_READ`]:
/// an idle connection (its last read a CONNECT or a PINGREQ) then waits
/// holding a buffer this small, not a [`READ_CHUNK`].
const IDLE_READ: usize = 512;

/// A read this small looks like control traffic, not a stream of data.
const SMALL_READ: usize = 128;

/// Past this many unsent bytes a compressed write waits for the socket
/// first, so a slow reader holds back the connection task instead of
/// growing memory.
const WRITE_HIGH_WATER: usize = 64 * 1024;

/// The most bytes one write turns into one message. The connection task
/// hands over its whole coalesced buffer (megabytes under load); bounded
/// messages bound the peer's per-frame latency and allocation, and our
/// compression work per poll. MQTT over WebSocket is a byte stream, so
/// packets may span messages (MQTT 5.0 section 6).
const MAX_MESSAGE_OUT: usize = 64 * 1024;

/// Normal closure (RFC 6455 section 7.4.1).
const CLOSE_NORMAL: u16 = 1000;

/// MQTT bytes over a WebSocket, compressed when deflate was negotiated.
#[derive(Debug)]
pub struct DeflateWsStream<S> {
    io: S,
    reader: FrameReader,
    /// Bytes read from `io` and not yet parsed.
    rbuf: BytesMut,
    /// Unread payload of an uncompressed message.
    plain: BytesMut,
    /// Compressed payload not yet inflated.
    compressed: BytesMut,
    /// The compressed message's last frame has arrived.
    ended: bool,
    /// Present while a compressed message is being read.
    inflater: Option<Inflater>,
    max_message: usize,
    /// permessage-deflate was negotiated: compress what we send.
    deflate: bool,
    /// Frames to send before anything else: compressed data, the rest of a
    /// plain frame a write cut short, pongs, our Close.
    wbuf: BytesMut,
    close_sent: bool,
    /// The peer's Close arrived, or the connection ended: reads return EOF.
    peer_done: bool,
    /// Why we close, when it is for a fault of the peer.
    close_with: Option<WsError>,
    /// Running once our Close is sent: the end of the wait for the peer's.
    close_deadline: Option<Pin<Box<Sleep>>>,
    /// Bytes the last read brought, to size the next.
    last_read: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> DeflateWsStream<S> {
    /// Wrap `io`, on which the handshake is done, with permessage-deflate
    /// if `deflate`; messages above `max_message` bytes (on the wire or
    /// inflated) close with 1009.
    pub fn new(io: S, max_message: usize, deflate: bool) -> Self {
        Self {
            io,
            reader: FrameReader::new(max_message, deflate),
            rbuf: BytesMut::new(),
            plain: BytesMut::new(),
            compressed: BytesMut::new(),
            ended: false,
            inflater: None,
            max_message,
            deflate,
            wbuf: BytesMut::new(),
            close_sent: false,
            peer_done: false,
            close_with: None,
            close_deadline: None,
            last_read: 0,
        }
    }

    /// Fail the connection (RFC 6455 section 7.1.7): our Close with the
    /// fault's code is queued and pushed out at once, so the peer learns
    /// why even when the connection task drops us without a shutdown (as
    /// it does for a read error before CONNECT); then the reader's error.
    fn fail(&mut self, cx: &mut Context<'_>, e: WsError) -> io::Error {
        self.queue_close(Some(e.close_code()), &e.to_string());
        if self.poll_write_out(cx).is_ready() {
            let _ = Pin::new(&mut self.io).poll_flush(cx);
        }
        self.close_with.get_or_insert(e.clone());
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    /// Read more from `io`, `Ok(0)` at its end: straight into `buf` when
    /// all the room it has is taken by the current plain frame's payload
    /// (unmasked in place, never copied), else into `rbuf`.
    fn fill(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<usize>> {
        let room = buf.remaining() as u64;
        match self.reader.plain_left() {
            Some((left, _)) if left >= room => {
                let before = buf.filled().len();
                ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
                let read = &mut buf.filled_mut()[before..];
                self.reader.plain_payload(read);
                self.last_read = read.len();
                Poll::Ready(Ok(self.last_read))
            }
            // The rest of a frame longer than the caller's room is read up
            // to the next frame's header: if that frame is as long, its
            // payload is then read straight into the caller's buffer.
            Some((left, len)) if len >= room => {
                // `left` is below `room`, a `usize`.
                let tail = usize::try_from(left).unwrap_or(READ_CHUNK) + MAX_CLIENT_HEADER;
                // Sized by the frame, not by the traffic: `last_read` stays.
                self.rbuf.reserve(tail);
                let mut limited = (&mut self.io).take(tail as u64);
                tokio_util::io::poll_read_buf(Pin::new(&mut limited), cx, &mut self.rbuf)
            }
            _ => self.fill_rbuf(cx),
        }
    }

    /// Read into `rbuf` as much as the traffic calls for; `Ok(0)` at the
    /// end of `io`.
    fn fill_rbuf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let want = if self.last_read < SMALL_READ {
            if self.rbuf.is_empty() && self.rbuf.capacity() > 4 * IDLE_READ {
                // Traffic fell off: give back the large buffer before waiting.
                self.rbuf = BytesMut::new();
            }
            IDLE_READ
        } else {
            READ_CHUNK
        };
        self.rbuf.reserve(want);
        let n = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut self.io),
            cx,
            &mut self.rbuf
        ))?;
        self.last_read = n;
        Poll::Ready(Ok(n))
    }

    /// Send everything queued.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.wbuf.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.wbuf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wbuf.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Write the start of `buf` as plain messages of at most
    /// [`MAX_MESSAGE_OUT`] bytes, their headers and the caller's bytes in
    /// one vectored write: the payload is not copied unless the socket
    /// takes only part of a frame. Returns the payload bytes taken.
    fn poll_write_plain(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // What is queued goes first: frames must not interleave.
        ready!(self.poll_write_out(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let run = FrameRun::new(buf, MAX_MESSAGE_OUT);
        let mut slices = [IoSlice::new(&[]); SLICES_PER_WRITE];
        let count = run.slices(&mut slices);
        let written = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        Poll::Ready(Ok(run.settle(written, &mut self.wbuf)))
    }

    /// Queue our Close frame with `code` and a short reason.
    fn queue_close(&mut self, code: Option<u16>, reason: &str) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        let mut body = Vec::with_capacity(125);
        if let Some(code) = code {
            body.extend_from_slice(&code.to_be_bytes());
            // A control payload is at most 125 bytes; our reasons are ASCII.
            body.extend_from_slice(&reason.as_bytes()[..reason.len().min(123)]);
        }
        put_frame(&mut self.wbuf, Opcode::Close, false, &body);
    }

    /// Act on one inbound event.
    fn handle(&mut self, event: Event) {
        match event {
            Event::Data {
                bytes,
                compressed: false,
                ..
            } => self.plain = bytes,
            Event::Data {
                bytes,
                compressed: true,
                last,
            } => {
                let max = self.max_message;
                self.inflater.get_or_insert_with(|| Inflater::new(max));
                self.compressed.extend_from_slice(&bytes);
                self.ended = last;
            }
            Event::Ping(data) => put_frame(&mut self.wbuf, Opcode::Pong, false, &data),
            Event::Pong => {}
            Event::Close(code) => {
                self.peer_done = true;
                // Echo the peer's code (section 5.5.1).
                self.queue_close(code, "");
            }
        }
    }

    /// Inflate into `buf` while a compressed message is in progress;
    /// `Some(n)` when this call did something.
    fn poll_inflate(&mut self, buf: &mut ReadBuf<'_>) -> Result<Option<usize>, WsError> {
        let Some(inflater) = self.inflater.as_mut() else {
            return Ok(None);
        };
        if inflater.has_work(&self.compressed, self.ended) {
            let n =
                inflater.inflate(&mut self.compressed, self.ended, buf.initialize_unfilled())?;
            buf.advance(n);
            return Ok(Some(n));
        }
        if self.ended {
            // The message is whole: its decompressor goes back to the pool.
            self.inflater = None;
            self.compressed.clear();
            self.ended = false;
        }
        Ok(None)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for DeflateWsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = &this.close_with {
            // Failed while handing over the bytes before the fault.
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())));
        }
        // Every frame already read is handed over while `buf` has room,
        // and the socket is read only when nothing was.
        let start = buf.filled().len();
        loop {
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            // Pongs and our Close reply go out even when the connection
            // task writes nothing; a full socket leaves them to later.
            if !this.wbuf.is_empty()
                && let Poll::Ready(Err(e)) = this.poll_write_out(cx)
            {
                return Poll::Ready(Err(e));
            }
            if !this.plain.is_empty() {
                let n = buf.remaining().min(this.plain.len());
                buf.put_slice(&this.plain.split_to(n));
                continue;
            }
            let fault = match this.poll_inflate(buf) {
                Ok(Some(_)) => continue,
                Ok(None) if this.peer_done => return Poll::Ready(Ok(())),
                Ok(None) => match this.reader.next(&mut this.rbuf) {
                    Ok(Some(event)) => {
                        this.handle(event);
                        continue;
                    }
                    Ok(None) if buf.filled().len() > start => return Poll::Ready(Ok(())),
                    Ok(None) => {
                        if ready!(this.fill(cx, buf))? == 0 {
                            // TCP ended without a Close frame.
                            this.peer_done = true;
                        }
                        continue;
                    }
                    Err(e) => e,
                },
                Err(e) => e,
            };
            let e = this.fail(cx, fault);
            // The bytes before the fault still reach the caller; the next
            // read returns the error.
            return Poll::Ready(if buf.filled().len() > start {
                Ok(())
            } else {
                Err(e)
            });
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for DeflateWsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.close_sent {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if !this.deflate && this.io.is_write_vectored() {
            return this.poll_write_plain(cx, buf);
        }
        if this.wbuf.len() >= WRITE_HIGH_WATER {
            ready!(this.poll_write_out(cx))?;
        }
        // One message per call; `write_all` calls again for the rest.
        let n = buf.len().min(MAX_MESSAGE_OUT);
        if n > 0 {
            put_message(&mut this.wbuf, &buf[..n], this.deflate);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    /// The closing handshake (RFC 6455 section 7.1.1), as on the plain
    /// path: our Close (with the fault's code, else 1000), then a wait
    /// bounded by [`CLOSE_GRACE`] for the peer's Close (unless we fail the
    /// connection for a fault of the peer), then TCP shutdown.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.close_deadline.is_none() {
            let (code, reason) = match &this.close_with {
                Some(e) => (e.close_code(), e.to_string()),
                None => (CLOSE_NORMAL, String::new()),
            };
            this.queue_close(Some(code), &reason);
            ready!(this.poll_write_out(cx))?;
            ready!(Pin::new(&mut this.io).poll_flush(cx))?;
            this.close_deadline = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
            // Failing the connection (section 7.1.7) waits for nothing: the
            // rest of the peer's input cannot be parsed anyway.
            if this.close_with.is_some() {
                this.peer_done = true;
            }
        }
        while !this.peer_done {
            // Data after our Close is discarded (section 1.4).
            match this.reader.next(&mut this.rbuf) {
                Ok(Some(Event::Close(_))) | Err(_) => this.peer_done = true,
                Ok(Some(_)) => {}
                Ok(None) => match this.fill_rbuf(cx) {
                    Poll::Ready(Ok(0) | Err(_)) => this.peer_done = true,
                    Poll::Ready(Ok(_)) => {}
                    Poll::Pending => {
                        if let Some(deadline) = this.close_deadline.as_mut() {
                            ready!(deadline.as_mut().poll(cx));
                        }
                        this.peer_done = true;
                    }
                },
            }
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "stream_split_tests.rs"]
mod split_tests;
