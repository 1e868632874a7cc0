//! permessage-deflate's compression (RFC 7692 section 7.2): raw DEFLATE
//! with the sync-flush tail `00 00 ff ff` stripped on the way out and put
//! back on the way in, with no context taken over between messages.
//!
//! Because no context survives a message, compressors and decompressors are
//! not owned by connections but taken from small process-wide pools for one
//! message and returned reset: an idle connection holds neither (flate2's
//! Rust backend, miniz_oxide, allocates about 300 KiB per compressor and
//! 43 KiB per decompressor, both with a 32 KiB window).

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use parking_lot::Mutex;

use super::WsError;
use super::frame::{Opcode, put_header};

/// The tail a sync flush ends with, removed from every compressed message
/// (section 7.2.1) and appended again before inflating (section 7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Messages shorter than this go out uncompressed (RSV1 clear, allowed per
/// message by section 6): a PUBACK or PINGRESP would only grow.
pub const MIN_COMPRESS: usize = 64;

/// How many idle compressors or decompressors each pool keeps: about one
/// per worker thread is all that is ever in use at once for compressors,
/// which are taken and returned within one `poll_write`.
const POOL_IDLE: usize = 16;

/// Level 1: broker fan-out compresses once per subscriber, so speed matters
/// more than the last few percent of ratio.
const LEVEL: u32 = 1;

static COMPRESSORS: Mutex<Vec<Compress>> = Mutex::new(Vec::new());
static DECOMPRESSORS: Mutex<Vec<Decompress>> = Mutex::new(Vec::new());

/// Append `payload` as one binary message to `out`: with `compress`
/// (deflate negotiated), compressed with RSV1 set unless it is short or
/// compression would not shrink it; else plain.
pub fn put_message(out: &mut BytesMut, payload: &[u8], compress: bool) {
    if compress && payload.len() >= MIN_COMPRESS {
        let compressed = deflate(payload);
        if compressed.len() < payload.len() {
            put_header(out, Opcode::Binary, true, compressed.len());
            out.extend_from_slice(&compressed);
            return;
        }
    }
    put_header(out, Opcode::Binary, false, payload.len());
    out.extend_from_slice(payload);
}

/// Raw DEFLATE of `data` ending with a sync flush, minus its tail.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut c = COMPRESSORS
        .lock()
        .pop()
        .unwrap_or_else(|| Compress::new(Compression::new(LEVEL), false));
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut consumed = 0;
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let before = c.total_in();
        // Compressing from memory into a growing Vec cannot fail.
        let status = c.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
        consumed += usize::try_from(c.total_in() - before).unwrap_or(usize::MAX);
        // The flush is complete once all input is taken and output had room.
        if consumed >= data.len() && out.len() < out.capacity() || status.is_err() {
            break;
        }
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
    c.reset();
    let mut pool = COMPRESSORS.lock();
    if pool.len() < POOL_IDLE {
        pool.push(c);
    }
    out
}

/// The decompressor of one inbound compressed message, fed as its frames
/// arrive; it goes back to the pool when the message ends or is dropped.
#[derive(Debug)]
pub struct Inflater {
    d: Option<Decompress>,
    /// How much of [`TAIL`] was fed once the message's payload ended.
    tail_fed: usize,
    /// The last call filled the output: more may be waiting inside.
    output_full: bool,
    /// A final deflate block was seen: what follows is ignored.
    finished: bool,
    /// Inflated bytes of this message, bounded by `max_message`.
    inflated: u64,
    max_message: u64,
}

impl Inflater {
    /// A decompressor for one message of at most `max_message` inflated bytes.
    pub fn new(max_message: usize) -> Self {
        let d = DECOMPRESSORS
            .lock()
            .pop()
            .unwrap_or_else(|| Decompress::new(false));
        Self {
            d: Some(d),
            tail_fed: 0,
            output_full: false,
            finished: false,
            inflated: 0,
            max_message: max_message as u64,
        }
    }

    /// Inflate from `input` (advancing it) into `out`; `ended` says the
    /// message's payload is complete, so the tail is fed after it. Returns
    /// the bytes written. Output is bounded by `out`, so a small message
    /// that inflates hugely (a "zip bomb") costs only this call's buffer,
    /// and fails with [`WsError::TooBig`] past `max_message`.
    pub fn inflate(
        &mut self,
        input: &mut BytesMut,
        ended: bool,
        out: &mut [u8],
    ) -> Result<usize, WsError> {
        let Some(d) = self.d.as_mut() else {
            return Ok(0);
        };
        if self.finished {
            input.clear();
            return Ok(0);
        }
        let from_tail = input.is_empty() && ended && self.tail_fed < TAIL.len();
        let src: &[u8] = if from_tail {
            &TAIL[self.tail_fed..]
        } else {
            input
        };
        let had_input = !src.is_empty();
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let status = d
            .decompress(src, out, FlushDecompress::None)
            .map_err(|_| WsError::BadDeflate)?;
        let used = usize::try_from(d.total_in() - in_before).unwrap_or(usize::MAX);
        let made = usize::try_from(d.total_out() - out_before).unwrap_or(usize::MAX);
        if from_tail {
            self.tail_fed += used;
        } else {
            let _ = input.split_to(used.min(input.len()));
        }
        self.output_full = made == out.len();
        self.finished = status == Status::StreamEnd;
        self.inflated += made as u64;
        if self.inflated > self.max_message {
            return Err(WsError::TooBig(self.max_message));
        }
        if made == 0 && used == 0 && had_input && !out.is_empty() {
            // No progress with input and room: the stream is broken.
            return Err(WsError::BadDeflate);
        }
        Ok(made)
    }

    /// Whether a call to [`Self::inflate`] has anything to do.
    pub fn has_work(&self, input: &BytesMut, ended: bool) -> bool {
        !self.finished && (!input.is_empty() || self.output_full || ended && !self.done(input))
    }

    /// Whether the message is wholly inflated (given its payload ended).
    pub fn done(&self, input: &BytesMut) -> bool {
        self.finished || (input.is_empty() && self.tail_fed == TAIL.len() && !self.output_full)
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        if let Some(mut d) = self.d.take() {
            d.reset(false);
            let mut pool = DECOMPRESSORS.lock();
            if pool.len() < POOL_IDLE {
                pool.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflate a whole message with an output buffer of `chunk` bytes.
    fn inflate_all(message: &[u8], max: usize, chunk: usize) -> Result<Vec<u8>, WsError> {
        let mut inf = Inflater::new(max);
        let mut input = BytesMut::from(message);
        let mut out = Vec::new();
        let mut buf = vec![0; chunk];
        while !inf.done(&input) {
            let n = inf.inflate(&mut input, true, &mut buf)?;
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }

    #[test]
    fn rfc_7692_hello_inflates() {
        // Section 7.2.3.1, and 7.2.3.3 (the same with a final block).
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_all(&hello, 100, 2).expect("inflates"), b"Hello");
        let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(
            inflate_all(&final_block, 100, 64).expect("inflates"),
            b"Hello"
        );
        // Section 7.2.3.4: "Hello" in a stored (uncompressed) block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(inflate_all(&stored, 100, 3).expect("inflates"), b"Hello");
    }

    #[test]
    fn put_message_round_trips_and_skips_what_does_not_shrink() {
        let json = br#"{"sensor":"kitchen","temperature":21.5,"humidity":40,"ok":true}"#.repeat(20);
        let mut out = BytesMut::new();
        put_message(&mut out, &json, true);
        assert_eq!(out[0], 0xC2, "FIN, RSV1, binary");
        let at = if out[1] == 126 { 4 } else { 2 };
        assert!(out.len() - at < json.len() / 4, "{} bytes", out.len());
        assert!(!out.ends_with(&TAIL));
        assert_eq!(
            inflate_all(&out[at..], 1 << 20, 100).expect("inflates"),
            json
        );

        for short in [
            &b"\x40\x02\x00\x01"[..],
            &[0x5a; 200].map(|_| rand_byte())[..],
        ] {
            let mut out = BytesMut::new();
            put_message(&mut out, short, true);
            assert_eq!(out[0], 0x82, "sent plain");
        }
    }

    /// Bytes that do not compress, without a random number crate.
    fn rand_byte() -> u8 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static X: AtomicU32 = AtomicU32::new(12345);
        let x = X
            .fetch_add(0x9E37_79B9, Ordering::Relaxed)
            .wrapping_mul(0x85eb_ca6b);
        (x >> 24) as u8
    }

    #[test]
    fn an_inflate_bomb_is_bounded() {
        // 10 MiB of zeros compress to about 10 KiB.
        let mut out = BytesMut::new();
        put_message(&mut out, &vec![0; 10 << 20], true);
        let at = match out[1] {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        assert!(out.len() < 64 * 1024);
        assert_eq!(
            inflate_all(&out[at..], 1 << 20, 16 * 1024),
            Err(WsError::TooBig(1 << 20))
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            inflate_all(&[0xff; 32], 1000, 100),
            Err(WsError::BadDeflate)
        );
        assert_eq!(WsError::BadDeflate.close_code(), 1007);
    }
}
