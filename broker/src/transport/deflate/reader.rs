//! The inbound side as a sans-IO state machine: raw bytes in, frame events
//! out, with the message-level rules (fragmentation, RSV1 only on a
//! message's first frame, the message size limit) checked before a payload
//! byte is buffered.

use bytes::{Bytes, BytesMut};

use super::WsError;
use super::frame::{FrameHeader, Opcode, parse_header, unmask};

/// What the peer sent, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// The next piece of a binary message's payload, unmasked. Data frames
    /// are streamed as they arrive: MQTT needs no message boundaries, except
    /// that a compressed message ends with `last`.
    Data {
        /// Payload bytes (possibly empty, e.g. an empty final fragment).
        bytes: BytesMut,
        /// The message has RSV1: its payload is raw deflate (RFC 7692).
        compressed: bool,
        /// This piece ends the message.
        last: bool,
    },
    /// A Ping to answer with a Pong carrying the same bytes.
    Ping(Bytes),
    /// A Pong (unsolicited or not), ignored.
    Pong,
    /// A Close frame with its status code, if any.
    Close(Option<u16>),
}

/// The frame being read.
#[derive(Debug)]
struct Current {
    header: FrameHeader,
    /// Payload bytes already handed out (data frames only).
    done: u64,
}

/// Frames in, [`Event`]s out.
#[derive(Debug)]
pub struct FrameReader {
    /// Largest message, counted in payload bytes on the wire.
    max_message: u64,
    current: Option<Current>,
    /// Inside a fragmented message: whether it is compressed.
    message: Option<bool>,
    /// Wire bytes of the message so far, checked against `max_message`.
    message_len: u64,
    /// permessage-deflate was negotiated: RSV1 may mark a message.
    deflate: bool,
}

impl FrameReader {
    /// A reader refusing messages above `max_message` payload bytes; RSV1
    /// is refused unless `deflate` was negotiated.
    pub fn new(max_message: usize, deflate: bool) -> Self {
        Self {
            max_message: max_message as u64,
            current: None,
            message: None,
            message_len: 0,
            deflate,
        }
    }

    /// The next event from `rbuf` (consuming what it uses), `None` when
    /// more bytes are needed.
    pub fn next(&mut self, rbuf: &mut BytesMut) -> Result<Option<Event>, WsError> {
        loop {
            let Some(current) = &mut self.current else {
                let Some((header, at)) = parse_header(rbuf)? else {
                    return Ok(None);
                };
                self.start(&header)?;
                let _ = rbuf.split_to(at);
                self.current = Some(Current { header, done: 0 });
                continue;
            };
            let header = current.header;
            if header.opcode.is_control() {
                // At most 125 bytes: wait for all of it.
                let Ok(len) = usize::try_from(header.len) else {
                    return Err(WsError::BadControlFrame);
                };
                if rbuf.len() < len {
                    return Ok(None);
                }
                let mut payload = rbuf.split_to(len);
                unmask(&mut payload, header.mask, 0);
                self.current = None;
                return control(header.opcode, payload).map(Some);
            }
            let left = header.len - current.done;
            let take = usize::try_from(left).map_or(rbuf.len(), |l| l.min(rbuf.len()));
            if take == 0 && left != 0 {
                return Ok(None);
            }
            let mut bytes = rbuf.split_to(take);
            let compressed = self.message.unwrap_or(false);
            let last = self.payload(&mut bytes);
            return Ok(Some(Event::Data {
                bytes,
                compressed,
                last,
            }));
        }
    }

    /// While the next bytes on the wire are the payload of a plain
    /// (uncompressed) data message: how many of them the current frame
    /// still holds, and its whole length. The caller may read those bytes
    /// anywhere and hand them to [`FrameReader::plain_payload`] instead of
    /// through [`FrameReader::next`], saving a copy.
    pub fn plain_left(&self) -> Option<(u64, u64)> {
        let current = self.current.as_ref()?;
        let left = current.header.len - current.done;
        (!current.header.opcode.is_control() && self.message == Some(false) && left > 0)
            .then_some((left, current.header.len))
    }

    /// Unmask `data` in place: the next payload bytes of the current plain
    /// frame, read by the caller after [`FrameReader::plain_left`] said how
    /// many it may read (at most that many).
    pub fn plain_payload(&mut self, data: &mut [u8]) {
        debug_assert!(
            self.plain_left()
                .is_some_and(|(left, _)| data.len() as u64 <= left)
        );
        self.payload(data);
    }

    /// Unmask `data`, the next payload bytes of the current data frame (no
    /// more than it holds), and account for them; whether they end the
    /// message.
    fn payload(&mut self, data: &mut [u8]) -> bool {
        let Some(current) = &mut self.current else {
            return false;
        };
        let header = current.header;
        unmask(data, header.mask, current.done);
        current.done += data.len() as u64;
        let frame_done = current.done == header.len;
        let last = frame_done && header.fin;
        if frame_done {
            self.current = None;
        }
        if last {
            self.message = None;
            self.message_len = 0;
        }
        last
    }

    /// Check a new frame against the message it starts or continues.
    fn start(&mut self, h: &FrameHeader) -> Result<(), WsError> {
        if h.rsv1 && !self.deflate {
            return Err(WsError::ReservedBits);
        }
        match h.opcode {
            Opcode::Text => return Err(WsError::Text),
            Opcode::Binary if self.message.is_some() => return Err(WsError::ExpectedContinuation),
            Opcode::Binary => self.message = Some(h.rsv1),
            // RFC 7692 section 6.1: RSV1 is set on the first frame only.
            Opcode::Continuation if h.rsv1 => return Err(WsError::Rsv1OnContinuation),
            Opcode::Continuation if self.message.is_none() => {
                return Err(WsError::UnexpectedContinuation);
            }
            Opcode::Continuation | Opcode::Close | Opcode::Ping | Opcode::Pong => {}
        }
        if !h.opcode.is_control() {
            // Checked on the header, before any of the payload is buffered.
            self.message_len = self.message_len.saturating_add(h.len);
            if self.message_len > self.max_message {
                return Err(WsError::TooBig(self.max_message));
            }
        }
        Ok(())
    }
}

/// The event of a whole control frame.
fn control(opcode: Opcode, payload: BytesMut) -> Result<Event, WsError> {
    Ok(match opcode {
        Opcode::Ping => Event::Ping(payload.freeze()),
        Opcode::Pong => Event::Pong,
        _ => match *payload {
            [] => Event::Close(None),
            [a, b, ..] => Event::Close(Some(u16::from_be_bytes([a, b]))),
            // A one-byte body cannot hold a status code (section 5.5.1).
            [_] => return Err(WsError::BadClosePayload),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A masked client frame.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![b0];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&MASK);
        let start = out.len();
        out.extend_from_slice(payload);
        unmask(&mut out[start..], MASK, 0);
        out
    }

    /// All events from `bytes` fed one byte at a time (the worst chunking).
    fn events(max: usize, bytes: &[u8]) -> Result<Vec<Event>, WsError> {
        let mut r = FrameReader::new(max, true);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for b in bytes {
            buf.extend_from_slice(&[*b]);
            while let Some(e) = r.next(&mut buf)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The data of `events`, joined, with (compressed, last) of each piece that ends a message.
    fn data(events: &[Event]) -> (Vec<u8>, Vec<bool>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for e in events {
            if let Event::Data {
                bytes: b,
                compressed,
                last,
            } = e
            {
                bytes.extend_from_slice(b);
                if *last {
                    ends.push(*compressed);
                }
            }
        }
        (bytes, ends)
    }

    #[test]
    fn fragments_with_interleaved_control_frames() {
        let mut wire = frame(0x42, b"He"); // binary, RSV1, not FIN
        wire.extend(frame(0x89, b"ping"));
        wire.extend(frame(0x00, b"l"));
        wire.extend(frame(0x8A, b""));
        wire.extend(frame(0x80, b"lo"));
        wire.extend(frame(0x82, &[7; 300]));
        wire.extend(frame(0x88, &[0x03, 0xe8]));
        let ev = events(1000, &wire).expect("valid");
        assert!(ev.contains(&Event::Ping(Bytes::from_static(b"ping"))));
        assert!(ev.contains(&Event::Pong));
        assert_eq!(ev.last(), Some(&Event::Close(Some(1000))));
        let (bytes, ends) = data(&ev);
        assert_eq!(&bytes[..5], b"Hello");
        assert_eq!(bytes.len(), 305);
        assert_eq!(ends, [true, false]);
    }

    #[test]
    fn a_plain_payload_may_be_read_past_the_reader() {
        let payload: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let wire = [frame(0x02, &payload), frame(0x80, b"!"), frame(0xC2, b"z")].concat();
        let mut r = FrameReader::new(1000, true);
        // Only the 8-byte header goes through the reader.
        assert_eq!(r.next(&mut BytesMut::from(&wire[..8])), Ok(None));
        assert_eq!(r.plain_left(), Some((300, 300)));
        let mut read = wire[8..308].to_vec();
        r.plain_payload(&mut read[..101]);
        assert_eq!(r.plain_left(), Some((199, 300)));
        r.plain_payload(&mut read[101..]);
        assert_eq!(read, payload);
        assert_eq!(r.plain_left(), None, "between frames");
        // The message goes on in a continuation, then ends.
        let mut rest = BytesMut::from(&wire[308..315]);
        assert_eq!(r.plain_left(), None);
        let Ok(Some(Event::Data { bytes, last, .. })) = r.next(&mut rest) else {
            panic!("the continuation's data");
        };
        assert_eq!((&bytes[..], last), (&b"!"[..], true));
        // A compressed message is never read past the reader.
        let mut rest = BytesMut::from(&wire[315..321]);
        assert_eq!(r.next(&mut rest), Ok(None));
        assert_eq!(r.plain_left(), None);
    }

    #[test]
    fn an_empty_final_fragment_still_ends_the_message() {
        let mut wire = frame(0x42, b"abc");
        wire.extend(frame(0x80, b""));
        let (_, ends) = data(&events(100, &wire).expect("valid"));
        assert_eq!(ends, [true]);
    }

    #[test]
    fn message_rules_are_enforced() {
        let bad: [(Vec<u8>, WsError, u16); 6] = [
            (frame(0x81, b"text"), WsError::Text, 1003),
            (
                [frame(0x42, b"a"), frame(0xC0, b"b")].concat(),
                WsError::Rsv1OnContinuation,
                1002,
            ),
            (frame(0x80, b"a"), WsError::UnexpectedContinuation, 1002),
            (
                [frame(0x02, b"a"), frame(0x82, b"b")].concat(),
                WsError::ExpectedContinuation,
                1002,
            ),
            (frame(0x88, &[3]), WsError::BadClosePayload, 1002),
            // 60 + 50 bytes of one message exceed 100.
            (
                [frame(0x02, &[0; 60]), frame(0x80, &[0; 50])].concat(),
                WsError::TooBig(100),
                1009,
            ),
        ];
        for (wire, err, code) in bad {
            assert_eq!(events(100, &wire), Err(err.clone()), "{err}");
            assert_eq!(err.close_code(), code);
        }
    }

    #[test]
    fn rsv1_needs_deflate_negotiated() {
        let mut r = FrameReader::new(100, false);
        let mut wire = BytesMut::from(&frame(0xC2, b"x")[..]);
        assert_eq!(r.next(&mut wire), Err(WsError::ReservedBits));
        let mut r = FrameReader::new(100, false);
        let mut wire = BytesMut::from(&frame(0x82, b"x")[..]);
        assert!(matches!(
            r.next(&mut wire),
            Ok(Some(Event::Data { last: true, .. }))
        ));
    }

    #[test]
    fn an_oversized_frame_is_refused_on_its_header() {
        // Only the header arrives: the 2^40-byte payload is never awaited.
        let mut wire = vec![0x82, 0xFF];
        wire.extend_from_slice(&(1u64 << 40).to_be_bytes());
        wire.extend_from_slice(&MASK);
        let mut r = FrameReader::new(1 << 20, true);
        assert_eq!(
            r.next(&mut BytesMut::from(&wire[..])),
            Err(WsError::TooBig(1 << 20))
        );
    }
}
