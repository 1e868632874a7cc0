//! PUBLISH: an application message, in either direction.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use bytestring::ByteString;

use super::{PacketId, PayloadFormat, QoS, UserProperty};
use crate::topic::TopicName;

/// The QoS of a PUBLISH together with its packet id: QoS 0 has none, QoS 1
/// and 2 always have one, so a mismatch cannot be represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QosPid {
    /// QoS 0, no packet id.
    AtMostOnce,
    /// QoS 1 with its packet id.
    AtLeastOnce(PacketId),
    /// QoS 2 with its packet id.
    ExactlyOnce(PacketId),
}

impl QosPid {
    /// The QoS level.
    pub fn qos(self) -> QoS {
        match self {
            Self::AtMostOnce => QoS::AtMostOnce,
            Self::AtLeastOnce(_) => QoS::AtLeastOnce,
            Self::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }

    /// The packet id, absent for QoS 0.
    pub fn packet_id(self) -> Option<PacketId> {
        match self {
            Self::AtMostOnce => None,
            Self::AtLeastOnce(id) | Self::ExactlyOnce(id) => Some(id),
        }
    }

    /// Combine a QoS with a packet id (ignored for QoS 0).
    pub fn new(qos: QoS, id: PacketId) -> Self {
        match qos {
            QoS::AtMostOnce => Self::AtMostOnce,
            QoS::AtLeastOnce => Self::AtLeastOnce(id),
            QoS::ExactlyOnce => Self::ExactlyOnce(id),
        }
    }
}

/// PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP flag: this may be a re-delivery. Always false at QoS 0 ([MQTT-3.3.1-2]).
    pub dup: bool,
    /// QoS and packet id.
    pub qos_pid: QosPid,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic name. Empty only in a v5 PUBLISH that carries a Topic Alias,
    /// where the alias stands for the topic ([MQTT-3.3.2-8]); the decoder
    /// enforces that.
    pub topic: TopicName,
    /// v5 properties.
    pub properties: PublishProperties,
    /// The application payload: a zero-copy slice of the read buffer.
    pub payload: Bytes,
}

/// v5 PUBLISH properties (3.3.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishProperties {
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x23 Topic Alias; zero is a protocol error.
    pub topic_alias: Option<NonZeroU16>,
    /// 0x08 Response Topic.
    pub response_topic: Option<TopicName>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x26 User Property, repeatable, in order.
    pub user_properties: Vec<UserProperty>,
    /// 0x0B Subscription Identifier: server to client only, repeatable.
    pub subscription_identifiers: Vec<NonZeroU32>,
    /// 0x03 Content Type.
    pub content_type: Option<ByteString>,
}
