//! MQTT over WebSocket as a byte stream: binary frames in, bytes out, so
//! the same decoder and connection task serve TCP and WebSocket clients.
//!
//! MQTT packets may span frames and a frame may hold several packets
//! (MQTT 5.0 section 6): frame boundaries mean nothing here. A text frame
//! is an error that closes the connection ([MQTT-6.0.0-1]) with close code
//! 1003, "unsupported data" (RFC 6455 section 7.4.1).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long a close waits for the peer's Close frame before dropping the
/// TCP connection anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The largest binary frame we send. The connection task hands over its
/// whole coalesced write buffer (30 MB was seen under load); one frame of
/// that costs the peer one frame's latency and allocation. MQTT over
/// WebSocket is a byte stream, so packets may span frames (MQTT 5.0 section 6).
const MAX_FRAME: usize = 64 * 1024;

/// A WebSocket seen as `AsyncRead + AsyncWrite` of MQTT bytes.
#[derive(Debug)]
pub struct WsStream {
    ws: WebSocket,
    /// The unread rest of the last binary frame.
    pending: Bytes,
    /// Set once the peer closed: reads return end-of-stream.
    closed: bool,
    /// The close frame to send on shutdown, when we close for a reason.
    close_with: Option<CloseFrame>,
    /// Running once our Close is sent: the end of the wait for the peer's.
    close_deadline: Option<Pin<Box<Sleep>>>,
}

impl WsStream {
    /// Wrap an upgraded WebSocket.
    pub fn new(ws: WebSocket) -> Self {
        Self {
            ws,
            pending: Bytes::new(),
            closed: false,
            close_with: None,
            close_deadline: None,
        }
    }
}

impl AsyncRead for WsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let n = buf.remaining().min(this.pending.len());
                buf.put_slice(&this.pending[..n]);
                this.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.closed {
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut this.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => this.pending = data,
                Some(Ok(Message::Text(_))) => {
                    this.close_with = Some(CloseFrame {
                        code: close_code::UNSUPPORTED,
                        reason: "MQTT over WebSocket needs binary frames".into(),
                    });
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "[MQTT-6.0.0-1] MQTT over WebSocket must use binary frames",
                    )));
                }
                // Pongs to pings are queued by tungstenite and sent with the next write or read.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => this.closed = true,
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
    }
}

impl AsyncWrite for WsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(io::Error::other)?;
        // One frame per call, at most MAX_FRAME: `write_all` calls again
        // for the rest of a larger buffer.
        let n = buf.len().min(MAX_FRAME);
        Pin::new(&mut this.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(&buf[..n])))
            .map_err(io::Error::other)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().ws)
            .poll_flush(cx)
            .map_err(io::Error::other)
    }

    /// The closing handshake (RFC 6455 section 7.1.1): send our Close, then
    /// wait (bounded by [`CLOSE_GRACE`]) for the peer's Close before the
    /// TCP connection is dropped. Dropping it at once makes the peer's
    /// Close reply fail with EPIPE/ECONNRESET, which clients such as
    /// mqtt.js report as an error after a clean DISCONNECT.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.close_deadline.is_none() {
            if this.close_with.is_some() {
                ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(io::Error::other)?;
                let frame = this.close_with.take();
                Pin::new(&mut this.ws)
                    .start_send(Message::Close(frame))
                    .map_err(io::Error::other)?;
            }
            ready!(Pin::new(&mut this.ws).poll_close(cx)).map_err(io::Error::other)?;
            if this.closed {
                // The peer closed first: its Close was already answered.
                return Poll::Ready(Ok(()));
            }
            this.close_deadline = Some(Box::pin(tokio::time::sleep(CLOSE_GRACE)));
        }
        loop {
            match Pin::new(&mut this.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => {
                    this.closed = true;
                    return Poll::Ready(Ok(()));
                }
                // Data after our Close is discarded (section 1.4).
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Pending => break,
            }
        }
        match this.close_deadline.as_mut() {
            Some(deadline) => deadline.as_mut().poll(cx).map(Ok),
            None => Poll::Ready(Ok(())),
        }
    }
}
