//! The primitive encodings of MQTT: variable byte integers, two-byte-length
//! UTF-8 strings and binary data, read from a frozen packet body and written
//! through `Out`, which either counts bytes or writes them.
//!
//! Counting and writing go through the same code path on purpose: the size a
//! packet announces in its fixed header can then never disagree with the
//! bytes that follow it.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError};

/// The largest value a variable byte integer can carry (1.5.5).
pub const MAX_VARINT: u32 = 268_435_455;

/// The number of bytes `value` takes as a variable byte integer (1 to 4).
pub fn varint_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Parse a variable byte integer from the start of `bytes`.
///
/// `Ok(None)` means the integer continues past the end of `bytes`. A fifth
/// byte, or a longer form than needed, is malformed ([MQTT-1.5.5-1]).
pub fn parse_varint(bytes: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value = 0u32;
    for (i, &b) in bytes.iter().enumerate().take(4) {
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            // A trailing zero byte means a shorter form existed.
            if i > 0 && b == 0 {
                return Err(DecodeError::NonMinimalVarint);
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if bytes.len() >= 4 {
        Err(DecodeError::VarintTooLong)
    } else {
        Ok(None)
    }
}

/// A cursor over one packet's body. Every read is bounds-checked: running
/// past the end means the remaining length lied, which is malformed.
#[derive(Debug)]
pub(crate) struct Reader {
    buf: Bytes,
}

impl Reader {
    pub(crate) fn new(buf: Bytes) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                extra: self.buf.len(),
            })
        }
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            Err(DecodeError::UnexpectedEnd)
        } else {
            Ok(())
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.need(2)?;
        Ok(self.buf.get_u16())
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        match parse_varint(&self.buf)? {
            Some((value, len)) => {
                self.buf.advance(len);
                Ok(value)
            }
            None => Err(DecodeError::UnexpectedEnd),
        }
    }

    /// The bytes not read yet.
    pub(crate) fn remaining(&self) -> &[u8] {
        &self.buf
    }

    /// Split off the next `n` bytes as their own zero-copy slice.
    pub(crate) fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    /// Everything left, zero-copy.
    pub(crate) fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// Two-byte length, then that many bytes.
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    /// A UTF-8 encoded string: well-formed ([MQTT-1.5.4-1]; Rust's UTF-8
    /// check also rejects the UTF-16 surrogates) and free of U+0000
    /// ([MQTT-1.5.4-2]).
    pub(crate) fn string(&mut self) -> Result<ByteString, DecodeError> {
        let s = self.utf8()?;
        if s.as_bytes().contains(&0) {
            return Err(DecodeError::NullCharacter);
        }
        Ok(s)
    }

    /// A well-formed UTF-8 string whose U+0000 check is left to the caller:
    /// topic names and filters, whose validation scans for it anyway.
    pub(crate) fn utf8(&mut self) -> Result<ByteString, DecodeError> {
        ByteString::try_from(self.binary()?).map_err(|_| DecodeError::InvalidUtf8)
    }
}

/// The number of entries left in `bytes` if it is a list of two-byte-length
/// prefixed fields each followed by `trailer` fixed bytes (the filters of
/// SUBSCRIBE and UNSUBSCRIBE): a cheap pre-pass that lets the decoder
/// allocate its list once, at its final size, instead of growing it. A
/// truncated last entry still counts, so the answer is never too small for
/// the entries that decode.
///
/// Peer input decides the count, but a list that size is what decoding the
/// same packet would build anyway; the maximum packet size bounds both.
pub(crate) fn count_prefixed(mut bytes: &[u8], trailer: usize) -> usize {
    let mut count = 0;
    while let [hi, lo, rest @ ..] = bytes {
        count += 1;
        let skip = usize::from(u16::from_be_bytes([*hi, *lo])) + trailer;
        bytes = rest.get(skip..).unwrap_or_default();
    }
    count
}

/// Where encoded bytes go: [`Counter`] only counts, [`Writer`] writes.
/// Both are driven by the same per-packet `write` functions.
pub(crate) trait Out {
    /// Append raw bytes.
    fn put(&mut self, bytes: &[u8]);

    /// Whether reason strings and user properties are being dropped to fit
    /// the peer's Maximum Packet Size (3.1.2.11.4).
    fn lean(&self) -> bool;

    /// Record that the packet cannot be encoded. Only the counting pass,
    /// which always runs first, keeps it.
    fn fail(&mut self, error: EncodeError);

    fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    fn u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    fn varint(&mut self, v: u32) {
        if v > MAX_VARINT {
            self.fail(EncodeError::ValueTooLarge { value: v });
            return;
        }
        let mut out = [0u8; 4];
        let len = write_varint(v, &mut out);
        self.put(&out[..len]);
    }

    fn binary(&mut self, b: &[u8]) {
        match u16::try_from(b.len()) {
            Ok(len) => {
                self.u16(len);
                self.put(b);
            }
            Err(_) => self.fail(EncodeError::FieldTooLong { len: b.len() }),
        }
    }

    fn string(&mut self, s: &str) {
        self.binary(s.as_bytes());
    }
}

/// Encode `v` (at most [`MAX_VARINT`]) into `out`, returning the length used.
pub(crate) fn write_varint(mut v: u32, out: &mut [u8; 4]) -> usize {
    let mut i = 0;
    loop {
        let mut byte = (v & 0x7F) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        out[i] = byte;
        i += 1;
        if v == 0 || i == 4 {
            return i;
        }
    }
}

/// The counting pass: a size and the first reason the packet cannot be encoded.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) len: usize,
    pub(crate) lean: bool,
    pub(crate) error: Option<EncodeError>,
}

impl Counter {
    pub(crate) fn new(lean: bool) -> Self {
        Self {
            len: 0,
            lean,
            error: None,
        }
    }
}

impl Out for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
    }

    fn lean(&self) -> bool {
        self.lean
    }

    fn fail(&mut self, error: EncodeError) {
        self.error.get_or_insert(error);
    }
}

/// The writing pass into a buffer reserved beforehand.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    pub(crate) buf: &'a mut BytesMut,
    pub(crate) lean: bool,
}

impl Out for Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    fn lean(&self) -> bool {
        self.lean
    }

    fn fail(&mut self, _error: EncodeError) {}
}
