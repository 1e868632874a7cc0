//! Incremental framing: bytes in, packets out, and packets back to bytes.
//!
//! The decoder reads the fixed header, checks the announced size against the
//! configured maximum before waiting for the body (so a peer cannot make us
//! buffer more than the limit), then splits the whole packet off the read
//! buffer and freezes it, so PUBLISH topics and payloads are zero-copy slices.

use bytes::{Buf, BufMut, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::packet::{Ack, AckKind, Auth, ConnAck, Connect, Disconnect, Packet, ProtocolVersion};
use crate::packet::{Publish, SubAck, Subscribe, UnsubAck, Unsubscribe};
use crate::wire::{self, Counter, MAX_VARINT, Out, Reader, Writer};

/// How far ahead of the bytes received [`Decoder::decode`] reserves room
/// for a partial packet.
pub const RESERVE_AHEAD: usize = 64 * 1024;

/// An incremental decoder for one connection.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// The largest packet (fixed header included) we accept.
    max_packet_size: u32,
    /// `None` on a server until CONNECT tells us the version.
    version: Option<ProtocolVersion>,
}

impl Decoder {
    /// A server-side decoder: the version is learnt from CONNECT, and any
    /// other first packet is a protocol error ([MQTT-3.1.0-1]).
    pub fn new(max_packet_size: u32) -> Self {
        Self {
            max_packet_size,
            version: None,
        }
    }

    /// A decoder for a known version (client side, or after CONNECT).
    pub fn with_version(max_packet_size: u32, version: ProtocolVersion) -> Self {
        Self {
            max_packet_size,
            version: Some(version),
        }
    }

    /// The version in force, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// Set the version in force (a client learns it from its own CONNECT).
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = Some(version);
    }

    /// The largest packet accepted, fixed header included.
    pub fn max_packet_size(&self) -> u32 {
        self.max_packet_size
    }

    /// Change the largest packet accepted.
    pub fn set_max_packet_size(&mut self, max_packet_size: u32) {
        self.max_packet_size = max_packet_size;
    }

    /// Decode the next packet from `buf`, `Ok(None)` if more bytes are needed.
    ///
    /// On success the packet's bytes are removed from `buf`. After an error
    /// the connection must be closed: `buf` is left as it was.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let Some((remaining, len_bytes)) = wire::parse_varint(&buf[1..])? else {
            return Ok(None);
        };
        let header_len = 1 + len_bytes;
        let size = header_len as u64 + u64::from(remaining);
        if size > u64::from(self.max_packet_size) {
            return Err(DecodeError::PacketTooLarge {
                size,
                max: self.max_packet_size,
            });
        }
        let packet_type = first >> 4;
        if self.version.is_none() && packet_type != 1 {
            return Err(DecodeError::FirstPacketNotConnect(packet_type));
        }
        check_flags(first)?;
        let size = size as usize;
        if buf.len() < size {
            // Room for the rest, but never more than RESERVE_AHEAD beyond
            // what has arrived: a peer that announces a large packet and
            // sends nothing more must not make us hold `max_packet_size`
            // bytes (thousands of such peers would). A large packet grows
            // the buffer as its bytes come, by amortised doubling.
            buf.reserve((size - buf.len()).min(RESERVE_AHEAD));
            return Ok(None);
        }
        let mut frame = buf.split_to(size).freeze();
        frame.advance(header_len);
        let Some(version) = self.version else {
            // A server's CONNECT (checked above): learn the version from it.
            let packet = decode_packet(first, Reader::new(frame), ProtocolVersion::V5)?;
            if let Some(Packet::Connect(c)) = &packet {
                self.version = Some(c.protocol);
            }
            return Ok(packet);
        };
        // Returned as built, without looking at it: the packet (about 220
        // bytes) is then written once, in place, not copied out of a local.
        decode_packet(first, Reader::new(frame), version)
    }
}

/// Check the fixed header flags: PUBREL, SUBSCRIBE and UNSUBSCRIBE carry
/// 0b0010, PUBLISH its own flags, every other packet 0 ([MQTT-2.1.3-1]).
fn check_flags(first: u8) -> Result<(), DecodeError> {
    let (packet_type, flags) = (first >> 4, first & 0x0F);
    let expected = match packet_type {
        3 => return Ok(()),
        6 | 8 | 10 => 0b0010,
        _ => 0,
    };
    if flags == expected {
        Ok(())
    } else {
        Err(DecodeError::ReservedFlags { packet_type, flags })
    }
}

/// Decode one packet body whose fixed header flags have been checked,
/// already wrapped as [`Decoder::decode`] returns it: each packet is built
/// in the return value, not built first and then copied into `Some`
/// (for PUBLISH, see [`Publish::decode`]).
#[inline(always)]
fn decode_packet(
    first: u8,
    mut r: Reader,
    version: ProtocolVersion,
) -> Result<Option<Packet>, DecodeError> {
    let ack = |kind, r| Ack::decode(kind, r, version).map(|a| Some(Packet::Ack(a)));
    match first >> 4 {
        1 => Connect::decode(&mut r).map(|c| Some(Packet::Connect(Box::new(c)))),
        2 => ConnAck::decode(&mut r, version).map(|c| Some(Packet::ConnAck(c))),
        3 => Publish::decode(first & 0x0F, r, version),
        4 => ack(AckKind::PubAck, r),
        5 => ack(AckKind::PubRec, r),
        6 => ack(AckKind::PubRel, r),
        7 => ack(AckKind::PubComp, r),
        8 => Subscribe::decode(r, version).map(|s| Some(Packet::Subscribe(s))),
        9 => SubAck::decode(r, version).map(|s| Some(Packet::SubAck(s))),
        10 => Unsubscribe::decode(r, version).map(|u| Some(Packet::Unsubscribe(u))),
        11 => UnsubAck::decode(r, version).map(|u| Some(Packet::UnsubAck(u))),
        12 => r.finish().map(|()| Some(Packet::PingReq)),
        13 => r.finish().map(|()| Some(Packet::PingResp)),
        14 => Disconnect::decode(r, version).map(|d| Some(Packet::Disconnect(d))),
        15 if version.is_v5() => Auth::decode(r).map(|a| Some(Packet::Auth(a))),
        other => Err(DecodeError::ReservedPacketType(other)),
    }
}

impl Packet {
    /// The control packet type, 1 to 15.
    pub fn packet_type(&self) -> u8 {
        match self {
            Self::Connect(_) => 1,
            Self::ConnAck(_) => 2,
            Self::Publish(_) => 3,
            Self::Ack(a) => a.kind.packet_type(),
            Self::Subscribe(_) => 8,
            Self::SubAck(_) => 9,
            Self::Unsubscribe(_) => 10,
            Self::UnsubAck(_) => 11,
            Self::PingReq => 12,
            Self::PingResp => 13,
            Self::Disconnect(_) => 14,
            Self::Auth(_) => 15,
        }
    }

    /// The packet's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        const NAMES: [&str; 16] = [
            "",
            "CONNECT",
            "CONNACK",
            "PUBLISH",
            "PUBACK",
            "PUBREC",
            "PUBREL",
            "PUBCOMP",
            "SUBSCRIBE",
            "SUBACK",
            "UNSUBSCRIBE",
            "UNSUBACK",
            "PINGREQ",
            "PINGRESP",
            "DISCONNECT",
            "AUTH",
        ];
        NAMES[usize::from(self.packet_type())]
    }

    /// The first byte of the fixed header.
    fn first_byte(&self) -> u8 {
        let flags = match self {
            Self::Publish(p) => p.flags(),
            Self::Subscribe(_) | Self::Unsubscribe(_) => 0b0010,
            Self::Ack(a) if a.kind == AckKind::PubRel => 0b0010,
            _ => 0,
        };
        self.packet_type() << 4 | flags
    }

    /// Drive `o` through the body for `version`. CONNECT is written for its
    /// own `protocol`, which is what makes it self-describing.
    fn write_body<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        match self {
            Self::Connect(c) => c.write(o),
            Self::ConnAck(c) => c.write(version, o),
            Self::Publish(p) => p.write(version, o),
            Self::Ack(a) => a.write(version, o),
            Self::Subscribe(s) => s.write(version, o),
            Self::SubAck(s) => s.write(version, o),
            Self::Unsubscribe(u) => u.write(version, o),
            Self::UnsubAck(u) => u.write(version, o),
            Self::PingReq | Self::PingResp => {}
            Self::Disconnect(d) => d.write(version, o),
            Self::Auth(a) => a.write(o),
        }
    }

    /// Count the body, and check that it can be encoded at all.
    fn measure(&self, version: ProtocolVersion, lean: bool) -> Result<usize, EncodeError> {
        if matches!(self, Self::Auth(_)) && !version.is_v5() {
            return Err(EncodeError::NotInVersion {
                packet: "AUTH",
                version,
            });
        }
        let mut counter = Counter::new(lean);
        self.write_body(version, &mut counter);
        match counter.error {
            Some(e) => Err(e),
            None if counter.len > MAX_VARINT as usize => Err(EncodeError::TooLarge {
                size: counter.len,
                max: MAX_VARINT,
            }),
            None => Ok(counter.len),
        }
    }

    /// The exact number of bytes [`Packet::encode`] writes for `version`,
    /// computed without encoding. (For a packet that cannot be encoded it
    /// is the size it would have.)
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let mut counter = Counter::new(false);
        self.write_body(version, &mut counter);
        1 + wire::varint_len(counter.len as u32) + counter.len
    }

    /// Encode for `version` into `buf`, reserving the space once.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        // PUBLISH first and on its own: the broker's hot path stays a
        // single test (a shared `match` costs it about 12 instructions).
        if let Self::Publish(p) = self {
            return p.encode_fast(version, u32::MAX, buf);
        }
        self.encode_other(version, buf)
    }

    /// [`Self::encode`] for every packet but PUBLISH, out of line so that
    /// the PUBLISH path keeps a short prologue.
    #[inline(never)]
    fn encode_other(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        if self.encode_direct(version, u32::MAX, buf) {
            return Ok(());
        }
        let body = self.measure(version, false)?;
        self.write(version, body, false, buf);
        Ok(())
    }

    /// Encode for a peer whose Maximum Packet Size is `max_packet_size`.
    ///
    /// If the packet is too large, reason strings and user properties are
    /// dropped first, as the spec allows for every packet but PUBLISH and
    /// CONNECT (3.1.2.11.4, [MQTT-3.1.2-25]); a PUBLISH is never altered
    /// ([MQTT-3.3.2-17]). Fails with [`EncodeError::TooLarge`] if the packet
    /// still does not fit: the caller then discards it ([MQTT-3.1.2-25]).
    pub fn encode_within(
        &self,
        version: ProtocolVersion,
        max_packet_size: u32,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        if let Self::Publish(p) = self {
            return p.encode_fast(version, max_packet_size, buf);
        }
        if self.encode_direct(version, max_packet_size, buf) {
            return Ok(());
        }
        let max = max_packet_size as usize;
        let total = |body: usize| 1 + wire::varint_len(body as u32) + body;
        let body = self.measure(version, false)?;
        if total(body) <= max {
            self.write(version, body, false, buf);
            return Ok(());
        }
        if !matches!(self, Self::Publish(_) | Self::Connect(_)) {
            let body = self.measure(version, true)?;
            if total(body) <= max {
                self.write(version, body, true, buf);
                return Ok(());
            }
        }
        Err(EncodeError::TooLarge {
            size: total(body),
            max: max_packet_size,
        })
    }

    /// The one-pass encoders of SUBSCRIBE and CONNECT; false when the
    /// packet is left to the generic encoder (nothing written then).
    fn encode_direct(&self, version: ProtocolVersion, max: u32, buf: &mut BytesMut) -> bool {
        match self {
            Self::Subscribe(s) => s.encode_fast(version, max, buf).is_some(),
            Self::Connect(c) => c.encode_fast(max, buf).is_some(),
            _ => false,
        }
    }

    /// Write the fixed header and a body already measured at `body` bytes.
    fn write(&self, version: ProtocolVersion, body: usize, lean: bool, buf: &mut BytesMut) {
        let mut len = [0u8; 4];
        let len_bytes = wire::write_varint(body as u32, &mut len);
        buf.reserve(1 + len_bytes + body);
        buf.put_u8(self.first_byte());
        buf.put_slice(&len[..len_bytes]);
        self.write_body(version, &mut Writer { buf, lean });
    }
}
