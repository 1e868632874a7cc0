//! The read buffer of a connection, sized to the traffic: none at all
//! while idle (idle connections must stay small), a few hundred bytes for
//! light traffic, doubling while reads fill it (bulk transfers need few
//! syscalls), shrinking back after.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use tokio::io::{AsyncRead, ReadBuf};

/// Smallest read: enough for a PINGREQ, a CONNECT or a small PUBLISH.
const MIN_READ: usize = 256;
/// Largest read between two decode passes.
const MAX_READ: usize = 64 * 1024;

/// An adaptive read buffer. Decoded payloads are split off it without
/// copying, so it must keep no more spare room than the traffic needs.
#[derive(Debug)]
pub(super) struct ReadBuffer {
    /// The bytes read and not yet decoded.
    pub(super) buf: BytesMut,
    /// How much spare room to offer the next read.
    hint: usize,
    /// Spare room offered to the last read, to see if it filled it.
    offered: usize,
}

impl ReadBuffer {
    /// An empty buffer; nothing is allocated until the first read.
    pub(super) fn new() -> Self {
        Self {
            buf: BytesMut::new(),
            hint: MIN_READ,
            offered: 0,
        }
    }

    /// Make room for the next read. With nothing buffered and light
    /// traffic there is none to make: [`ReadBuffer::read_from`] then reads
    /// into the stack, and the buffer is allocated only when bytes come.
    pub(super) fn prepare(&mut self) {
        if self.parked() {
            // Also lets go of a tail shared with packets already decoded.
            self.buf = BytesMut::new();
            self.offered = MIN_READ;
            return;
        }
        let spare = self.buf.capacity() - self.buf.len();
        if spare < self.hint / 2 {
            self.buf.reserve(self.hint);
        }
        self.offered = self.buf.capacity() - self.buf.len();
    }

    /// Whether nothing is buffered and traffic is light enough to hold no
    /// buffer while waiting for the next read.
    fn parked(&self) -> bool {
        self.buf.is_empty() && self.hint == MIN_READ
    }

    /// Read once from `reader`; the count read, 0 at its end.
    pub(super) async fn read_from<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_from(cx, reader)).await
    }

    fn poll_read_from<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
    ) -> Poll<io::Result<usize>> {
        let n = if self.buf.capacity() == 0 {
            // The read lands on the stack, not in the task: a connection
            // waiting for its next packet holds no buffer at all.
            let mut stack = [0u8; MIN_READ];
            let mut read = ReadBuf::new(&mut stack);
            ready!(Pin::new(reader).poll_read(cx, &mut read))?;
            self.buf.extend_from_slice(read.filled());
            read.filled().len()
        } else {
            ready!(tokio_util::io::poll_read_buf(
                Pin::new(reader),
                cx,
                &mut self.buf
            ))?
        };
        self.filled(n);
        Poll::Ready(Ok(n))
    }

    /// Account for a read of `n` bytes: a read that filled the room offered
    /// asks for more next time; a small one lets the buffer shrink.
    fn filled(&mut self, n: usize) {
        if n >= self.offered {
            self.hint = (self.hint * 2).min(MAX_READ);
        } else if n < self.hint / 8 {
            self.hint = (self.hint / 2).max(MIN_READ);
        }
    }

    /// After decoding: give back a buffer much larger than the traffic
    /// needs, or any buffer once traffic is light and all of it decoded.
    pub(super) fn settle(&mut self) {
        if self.parked() || (self.buf.is_empty() && self.buf.capacity() > self.hint * 4) {
            self.buf = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `n` bytes through `r` from a source holding plenty.
    async fn read(r: &mut ReadBuffer, n: usize) -> usize {
        let data = vec![0xC0; n];
        r.read_from(&mut data.as_slice()).await.unwrap()
    }

    #[tokio::test]
    async fn holds_nothing_while_idle_grows_under_load_and_shrinks_back() {
        let mut r = ReadBuffer::new();
        r.prepare();
        assert_eq!(r.buf.capacity(), 0, "no buffer while waiting");
        assert_eq!(read(&mut r, 2).await, 2);
        assert_eq!(r.buf.len(), 2, "stack read copied in");
        r.buf.clear();
        r.settle();
        assert_eq!(r.buf.capacity(), 0, "light traffic: given back");
        for _ in 0..12 {
            r.prepare();
            let room = (r.buf.capacity() - r.buf.len()).max(MIN_READ);
            assert_eq!(read(&mut r, room).await, room);
            r.buf.clear();
        }
        assert_eq!(r.hint, MAX_READ);
        for _ in 0..12 {
            r.prepare();
            assert_eq!(read(&mut r, 2).await, 2);
            r.buf.clear();
            r.settle();
        }
        assert_eq!(r.hint, MIN_READ);
        assert_eq!(r.buf.capacity(), 0, "idle again: nothing held");
    }
}
