//! The packet model: one type per MQTT control packet, shared by every protocol version.
//!
//! MQTT 3.1, 3.1.1 and 5.0 are one model here. Fields that only exist in 5.0
//! (properties, most reason codes) are simply not written when encoding for
//! an older version, and take their "absent" value when decoding one.
//! The version is a parameter of [`crate::framing::Decoder`] and of
//! [`Packet::encode`], never a second tree of types.

use std::num::NonZeroU16;

use bytestring::ByteString;

use crate::error::DecodeError;
use crate::properties::{self, Property, WriteProps};
use crate::reason::ReasonCode;
use crate::wire::{Out, Reader};

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod publish;
mod subscribe;
mod unsubscribe;

pub use ack::{Ack, AckKind};
pub use auth::{Auth, AuthProperties};
pub use connack::{ConnAck, ConnAckProperties};
pub use connect::{Connect, ConnectProperties, LastWill, WillProperties};
pub use disconnect::{Disconnect, DisconnectProperties};
pub use publish::{Publish, PublishProperties, QosPid};
pub use subscribe::{
    RetainHandling, SubAck, Subscribe, SubscribeProperties, Subscription, SubscriptionOptions,
};
pub use unsubscribe::{UnsubAck, Unsubscribe};

/// A packet identifier. Zero is not a valid identifier ([MQTT-2.2.1-3]), so it
/// cannot be represented.
pub type PacketId = NonZeroU16;

/// The protocol level carried in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V3_1,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V3_1_1,
    /// MQTT 5.0: protocol name `MQTT`, level 5.
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            Self::V3_1 => 3,
            Self::V3_1_1 => 4,
            Self::V5 => 5,
        }
    }

    /// The protocol name of CONNECT.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Self::V3_1 => "MQIsdp",
            Self::V3_1_1 | Self::V5 => "MQTT",
        }
    }

    /// Whether this version has properties and reason codes (5.0).
    pub fn is_v5(self) -> bool {
        self == Self::V5
    }
}

/// Quality of service of a message delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum QoS {
    /// QoS 0: fire and forget.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: acknowledged with PUBACK, may be duplicated.
    AtLeastOnce = 1,
    /// QoS 2: four-step handshake, delivered exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a two-bit value; `None` for 3, which no packet may carry.
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }
}

/// A v5 user property: a name/value pair that may repeat, order preserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserProperty {
    /// The name.
    pub name: bytestring::ByteString,
    /// The value.
    pub value: bytestring::ByteString,
}

/// The v5 Payload Format Indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    Unspecified,
    /// 1: UTF-8 encoded character data.
    Utf8,
}

/// Every MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT (1).
    Connect(Box<Connect>),
    /// CONNACK (2).
    ConnAck(ConnAck),
    /// PUBLISH (3).
    Publish(Publish),
    /// PUBACK (4), PUBREC (5), PUBREL (6) and PUBCOMP (7): see [`Ack::kind`].
    Ack(Ack),
    /// SUBSCRIBE (8).
    Subscribe(Subscribe),
    /// SUBACK (9).
    SubAck(SubAck),
    /// UNSUBSCRIBE (10).
    Unsubscribe(Unsubscribe),
    /// UNSUBACK (11).
    UnsubAck(UnsubAck),
    /// PINGREQ (12).
    PingReq,
    /// PINGRESP (13).
    PingResp,
    /// DISCONNECT (14).
    Disconnect(Disconnect),
    /// AUTH (15), 5.0 only.
    Auth(Auth),
}

/// Read a packet identifier, which must not be zero ([MQTT-2.2.1-3]).
pub(crate) fn packet_id(r: &mut Reader) -> Result<PacketId, DecodeError> {
    PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)
}

/// The reason code for `code` if it is one of `allowed`.
pub(crate) fn reason_in(code: u8, allowed: &[u8]) -> Option<ReasonCode> {
    if allowed.contains(&code) {
        ReasonCode::from_u8(code)
    } else {
        None
    }
}

/// Read the optional reason code and properties that end a v5 PUBACK,
/// PUBREC, PUBREL, PUBCOMP, DISCONNECT or AUTH. A body that stops before
/// the reason code means Success; one that stops before the property length
/// means no properties (3.4.2.1, 3.14.2.1, 3.15.2.1).
pub(crate) fn read_reason_tail(
    r: &mut Reader,
    packet: &'static str,
    allowed: &[u8],
    read_props: impl FnOnce(&mut Reader) -> Result<(), DecodeError>,
) -> Result<ReasonCode, DecodeError> {
    if r.is_empty() {
        return Ok(ReasonCode::Success);
    }
    let code = r.u8()?;
    let reason = reason_in(code, allowed).ok_or(DecodeError::InvalidReasonCode { packet, code })?;
    if !r.is_empty() {
        read_props(r)?;
    }
    Ok(reason)
}

/// Write the tail [`read_reason_tail`] reads, in its shortest form.
pub(crate) fn write_reason_tail<O: Out>(o: &mut O, reason: ReasonCode, props: &impl WriteProps) {
    let len = properties::props_len(props, o.lean());
    if len == 0 && reason == ReasonCode::Success {
        return;
    }
    o.u8(reason.as_u8());
    if len > 0 {
        o.varint(len as u32);
        props.write_props(o);
    }
}

/// Read a property block holding only Reason String and User Properties.
pub(crate) fn read_reason_props(
    r: &mut Reader,
    packet: &'static str,
) -> Result<(Option<ByteString>, Vec<UserProperty>), DecodeError> {
    let (mut reason_string, mut users) = (None, Vec::new());
    properties::read_properties(r, packet, |p| {
        match p {
            Property::ReasonString(v) => reason_string = Some(v),
            Property::User(v) => users.push(v),
            _ => return false,
        }
        true
    })?;
    Ok((reason_string, users))
}
