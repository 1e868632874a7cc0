//! The read buffer of a connection, sized to the traffic: a few hundred
//! bytes while idle (idle connections must stay small), doubling while
//! reads fill it (bulk transfers need few syscalls), shrinking back after.

use bytes::BytesMut;

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

    /// Make room for the next read.
    pub(super) fn prepare(&mut self) {
        let spare = self.buf.capacity() - self.buf.len();
        if spare < self.hint / 2 {
            self.buf.reserve(self.hint);
        }
        self.offered = self.buf.capacity() - self.buf.len();
    }

    /// Account for a read of `n` bytes: a read that filled the room offered
    /// asks for more next time; a small one lets the buffer shrink.
    pub(super) fn filled(&mut self, n: usize) {
        if n >= self.offered {
            self.hint = (self.hint * 2).min(MAX_READ);
        } else if n < self.hint / 8 {
            self.hint = (self.hint / 2).max(MIN_READ);
        }
    }

    /// After decoding: give back a buffer much larger than the traffic needs.
    pub(super) fn settle(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > self.hint * 4 {
            self.buf = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_under_load_and_shrinks_when_idle() {
        let mut r = ReadBuffer::new();
        r.prepare();
        assert!(r.buf.capacity() >= MIN_READ && r.buf.capacity() < 4 * MIN_READ);
        for _ in 0..12 {
            r.prepare();
            let room = r.buf.capacity() - r.buf.len();
            r.buf.resize(r.buf.len() + room, 0);
            r.filled(room);
            r.buf.clear();
        }
        assert_eq!(r.hint, MAX_READ);
        for _ in 0..12 {
            r.prepare();
            r.buf.extend_from_slice(&[0xC0, 0]);
            r.filled(2);
            r.buf.clear();
            r.settle();
        }
        assert_eq!(r.hint, MIN_READ);
        assert!(
            r.buf.capacity() <= 4 * MIN_READ,
            "capacity {}",
            r.buf.capacity()
        );
    }
}
