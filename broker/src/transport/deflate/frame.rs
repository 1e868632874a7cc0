//! The WebSocket frame codec, server side (RFC 6455 section 5.2): parse a
//! client frame header (every rule that needs no message state is checked
//! here), unmask payloads, and write unmasked server frame headers.

use bytes::BytesMut;

use super::WsError;

/// A frame's opcode (section 5.2); the reserved ones are refused on parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// 0x0: the next fragment of a message.
    Continuation,
    /// 0x1: UTF-8 text, which MQTT forbids.
    Text,
    /// 0x2: binary data, MQTT's bytes.
    Binary,
    /// 0x8: the closing handshake.
    Close,
    /// 0x9: answered with a Pong.
    Ping,
    /// 0xA: ignored.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Result<Self, WsError> {
        Ok(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(WsError::ReservedOpcode(other)),
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Control frames (opcodes 0x8 and up) may interleave with a fragmented message.
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The last frame of its message.
    pub fin: bool,
    /// RSV1: with permessage-deflate, "this message is compressed".
    pub rsv1: bool,
    /// What the frame is.
    pub opcode: Opcode,
    /// The masking key every client frame carries (section 5.3).
    pub mask: [u8; 4],
    /// The payload length.
    pub len: u64,
}

/// The longest client frame header: two bytes, a 64-bit length and the
/// masking key.
pub const MAX_CLIENT_HEADER: usize = 14;

/// Control frame payloads are at most 125 bytes (section 5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// The header at the start of `buf` and its length in bytes, `None` while
/// `buf` holds less than a whole header.
pub fn parse_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x30 != 0 {
        return Err(WsError::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F)?;
    if b1 & 0x80 == 0 {
        return Err(WsError::Unmasked);
    }
    let (len, at) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    // The most significant bit of a 64-bit length must be 0 (section 5.2).
    if len >> 63 != 0 {
        return Err(WsError::LengthMsb);
    }
    if opcode.is_control() {
        if !fin || len > MAX_CONTROL_PAYLOAD {
            return Err(WsError::BadControlFrame);
        }
        // RFC 7692 section 6: RSV1 only ever marks data messages.
        if rsv1 {
            return Err(WsError::Rsv1OnControl);
        }
    }
    let Some(mask) = buf
        .get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
    else {
        return Ok(None);
    };
    let header = FrameHeader {
        fin,
        rsv1,
        opcode,
        mask,
        len,
    };
    Ok(Some((header, at + 4)))
}

/// Unmask `data` in place; `offset` is its position in the frame's
/// payload, so a payload may be unmasked in pieces as it arrives.
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: u64) {
    // `offset % 4` is below 4, so the cast cannot truncate. Rotated, the
    // key starts at `data[0]`.
    let mut key = mask;
    key.rotate_left((offset % 4) as usize);
    // Eight bytes at a time: byte by byte, unmasking a 16 KiB message cost
    // more than the rest of its trip through the broker.
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// The longest server frame header: two bytes and a 64-bit length.
pub const MAX_HEADER: usize = 10;

/// The header of an unmasked server frame (servers never mask, section
/// 5.1), built on the stack so a payload can follow it without being
/// copied next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHeader {
    bytes: [u8; MAX_HEADER],
    len: u8,
}

impl ServerHeader {
    /// The header of a frame of `len` payload bytes, in the shortest
    /// length form (section 5.2).
    pub fn new(opcode: Opcode, rsv1: bool, len: usize) -> Self {
        let mut bytes = [0; MAX_HEADER];
        bytes[0] = 0x80 | if rsv1 { 0x40 } else { 0 } | opcode.bits();
        let at = match u16::try_from(len) {
            Ok(n) if n < 126 => {
                // Below 126, so the cast cannot truncate.
                bytes[1] = n as u8;
                2
            }
            Ok(n) => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&n.to_be_bytes());
                4
            }
            Err(_) => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(len as u64).to_be_bytes());
                10
            }
        };
        Self { bytes, len: at }
    }

    /// The header's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Append the header of an unmasked server frame.
pub fn put_header(out: &mut BytesMut, opcode: Opcode, rsv1: bool, len: usize) {
    out.extend_from_slice(ServerHeader::new(opcode, rsv1, len).as_bytes());
}

/// Append a whole unmasked server frame.
pub fn put_frame(out: &mut BytesMut, opcode: Opcode, rsv1: bool, payload: &[u8]) {
    put_header(out, opcode, rsv1, payload.len());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmasking_in_pieces_and_words_matches_byte_by_byte() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let plain: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let masked: Vec<u8> = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        for split in [0, 1, 2, 3, 7, 8, 9, 513, 999, 1000] {
            let mut data = masked.clone();
            let (a, b) = data.split_at_mut(split);
            unmask(a, mask, 0);
            unmask(b, mask, split as u64);
            assert_eq!(data, plain, "split at {split}");
        }
    }

    fn parse(bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>, WsError> {
        parse_header(bytes)
    }

    /// RFC 6455 section 5.7: a single-frame masked text message "Hello".
    #[test]
    fn masked_hello_from_rfc_6455() {
        let mut frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, at) = parse(&frame).expect("valid").expect("whole header");
        assert_eq!(
            (h.fin, h.rsv1, h.opcode, h.len, at),
            (true, false, Opcode::Text, 5, 6)
        );
        // Unmasked in two pieces, as bytes arrive.
        let (first, rest) = frame[at..].split_at_mut(2);
        unmask(first, h.mask, 0);
        unmask(rest, h.mask, 2);
        assert_eq!(&frame[at..], b"Hello");
    }

    /// RFC 6455 section 5.7: lengths of 256 bytes and 64 KiB, unmasked server frames.
    #[test]
    fn server_headers_use_the_shortest_length_form() {
        let mut out = BytesMut::new();
        put_header(&mut out, Opcode::Binary, false, 256);
        assert_eq!(&out[..], [0x82, 0x7E, 0x01, 0x00]);
        out.clear();
        put_header(&mut out, Opcode::Binary, false, 65536);
        assert_eq!(&out[..], [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        out.clear();
        put_frame(&mut out, Opcode::Pong, false, b"Hello");
        assert_eq!(&out[..], [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        // RFC 7692 section 7.2.3.1: "Hello" compressed, RSV1 set.
        out.clear();
        put_frame(
            &mut out,
            Opcode::Text,
            true,
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        );
        assert_eq!(
            &out[..],
            [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
    }

    #[test]
    fn partial_headers_wait_for_more() {
        let whole = [0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4];
        for end in 0..whole.len() {
            assert_eq!(parse(&whole[..end]), Ok(None), "{end} bytes");
        }
        let (h, at) = parse(&whole).expect("valid").expect("whole");
        assert_eq!((h.len, at, h.mask), (256, 8, [1, 2, 3, 4]));
        let long = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 9, 9, 9];
        assert_eq!(
            parse(&long).expect("valid").map(|(h, at)| (h.len, at)),
            Some((65536, 14))
        );
    }

    #[test]
    fn protocol_violations_are_refused() {
        let cases: [(&[u8], WsError); 7] = [
            // An unmasked client frame (section 5.1).
            (&[0x82, 0x05], WsError::Unmasked),
            (&[0xA2, 0x80], WsError::ReservedBits),
            (&[0x92, 0x80], WsError::ReservedBits),
            (&[0x83, 0x80], WsError::ReservedOpcode(3)),
            // A fragmented ping, an oversized one, a compressed one.
            (&[0x09, 0x80], WsError::BadControlFrame),
            (&[0x89, 0xFE, 0x00, 0x7E], WsError::BadControlFrame),
            (&[0xC9, 0x80], WsError::Rsv1OnControl),
        ];
        for (bytes, expect) in cases {
            assert_eq!(parse(bytes), Err(expect.clone()), "{bytes:02x?}");
            assert_eq!(expect.close_code(), 1002);
        }
        assert_eq!(
            parse(&[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(WsError::LengthMsb)
        );
    }
}
