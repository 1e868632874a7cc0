//! PUBACK, PUBREC, PUBREL and PUBCOMP: four packets with one shape.

use bytestring::ByteString;

use super::{
    PacketId, ProtocolVersion, UserProperty, packet_id, read_reason_props, read_reason_tail,
    write_reason_tail,
};
use crate::error::DecodeError;
use crate::properties::ReasonProps;
use crate::reason::ReasonCode;
use crate::wire::{Out, Reader};

/// Which of the four acknowledgement packets an [`Ack`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckKind {
    /// PUBACK (4): QoS 1 acknowledgement.
    PubAck,
    /// PUBREC (5): QoS 2, part 1.
    PubRec,
    /// PUBREL (6): QoS 2, part 2 (fixed header flags 0b0010).
    PubRel,
    /// PUBCOMP (7): QoS 2, part 3.
    PubComp,
}

/// A publish acknowledgement of any of the four kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Which packet this is.
    pub kind: AckKind,
    /// The packet id being acknowledged.
    pub packet_id: PacketId,
    /// v5 reason code (always success for older versions). Each kind allows
    /// only its own codes; the decoder rejects the others.
    pub reason: ReasonCode,
    /// 0x1F Reason String (v5).
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}

impl Ack {
    /// A successful acknowledgement with no properties.
    pub fn new(kind: AckKind, packet_id: PacketId) -> Self {
        Self {
            kind,
            packet_id,
            reason: ReasonCode::Success,
            reason_string: None,
            user_properties: Vec::new(),
        }
    }
}

impl AckKind {
    /// The control packet type (4 to 7).
    pub fn packet_type(self) -> u8 {
        match self {
            Self::PubAck => 4,
            Self::PubRec => 5,
            Self::PubRel => 6,
            Self::PubComp => 7,
        }
    }

    /// The packet's name, for errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
        }
    }

    /// The v5 reason codes this kind may carry (3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1).
    fn codes(self) -> &'static [u8] {
        match self {
            Self::PubAck | Self::PubRec => &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
            Self::PubRel | Self::PubComp => &[0x00, 0x92],
        }
    }
}

impl Ack {
    pub(crate) fn decode(
        kind: AckKind,
        mut r: Reader,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let mut ack = Self::new(kind, packet_id(&mut r)?);
        if version.is_v5() {
            ack.reason = read_reason_tail(&mut r, kind.name(), kind.codes(), |r| {
                (ack.reason_string, ack.user_properties) = read_reason_props(r, kind.name())?;
                Ok(())
            })?;
        }
        r.finish()?;
        Ok(ack)
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        o.u16(self.packet_id.get());
        if version.is_v5() {
            let props = ReasonProps {
                reason_string: &self.reason_string,
                user_properties: &self.user_properties,
            };
            write_reason_tail(o, self.reason, &props);
        }
    }
}
