//! PUBACK, PUBREC, PUBREL and PUBCOMP: four packets with one shape.

use bytestring::ByteString;

use super::{PacketId, UserProperty};
use crate::reason::ReasonCode;

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
