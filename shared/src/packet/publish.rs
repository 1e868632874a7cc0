//! PUBLISH: an application message, in either direction.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::{Packet, PacketId, PayloadFormat, ProtocolVersion, QoS, UserProperty, packet_id};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{self, Property as P, WriteProps, id, opt};
use crate::topic::TopicName;
use crate::wire::{Counter, MAX_VARINT, Out, Reader, Writer, varint_len};

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

const NO_TOPIC: &str = "[MQTT-3.3.2-1] PUBLISH needs a topic name (or, in 5.0, a topic alias)";

impl Publish {
    /// Decode a PUBLISH from its fixed-header flags and body, already in
    /// the shape [`crate::Decoder::decode`] returns.
    ///
    /// Inlined into that one caller, and the packet built there in one
    /// expression from its fields: returned as a `Publish` and wrapped
    /// (`Packet::Publish`, then `Some`), the packet, about 220 bytes, was
    /// copied twice on the way out (measured with callgrind: 85 of the 725
    /// instructions a 3.1.1 PUBLISH took to decode).
    #[inline(always)]
    pub(crate) fn decode(
        flags: u8,
        mut r: Reader,
        version: ProtocolVersion,
    ) -> Result<Option<Packet>, DecodeError> {
        let dup = flags & 0x08 != 0;
        let qos = QoS::from_bits((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQoS)?;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQoS0);
        }
        let topic = r.utf8()?;
        let qos_pid = match qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            _ => QosPid::new(qos, packet_id(&mut r)?),
        };
        let retain = flags & 0x01 != 0;
        if version.is_v5() {
            let len = r.varint()?;
            if len != 0 {
                return Self::decode_with_properties(dup, qos_pid, retain, topic, len, r)
                    .map(|p| Some(Packet::Publish(p)));
            }
            if topic.is_empty() {
                return Err(DecodeError::EmptyTopicWithoutAlias);
            }
        }
        let topic = TopicName::from_wire(topic, false).map_err(DecodeError::topic_name)?;
        // Without properties (every 3.1.1 message, most 5.0 ones) the
        // default properties are written straight into the packet: built
        // first and moved in, they cost about 60 instructions a packet.
        Ok(Some(Packet::Publish(Self {
            dup,
            qos_pid,
            retain,
            topic,
            properties: PublishProperties::default(),
            payload: r.rest(),
        })))
    }

    /// The rest of [`Self::decode`] for a v5 PUBLISH whose property block
    /// (of `len` bytes, length already read) is not empty. Kept out of line
    /// so that the common path above builds its packet in place.
    #[cold]
    #[inline(never)]
    fn decode_with_properties(
        dup: bool,
        qos_pid: QosPid,
        retain: bool,
        topic: ByteString,
        len: u32,
        mut r: Reader,
    ) -> Result<Self, DecodeError> {
        let mut properties = PublishProperties::default();
        properties.read(len, &mut r)?;
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicWithoutAlias);
        }
        Ok(Self {
            dup,
            qos_pid,
            retain,
            topic: TopicName::from_wire(topic, true).map_err(DecodeError::topic_name)?,
            properties,
            payload: r.rest(),
        })
    }

    /// The four flag bits of the fixed header.
    pub(crate) fn flags(&self) -> u8 {
        u8::from(self.dup) << 3 | (self.qos_pid.qos() as u8) << 1 | u8::from(self.retain)
    }

    /// The broker's hot path: size the body directly (the properties are
    /// counted once), reserve once, write. Same bytes as [`Self::write`].
    pub(crate) fn encode_fast(
        &self,
        version: ProtocolVersion,
        max_packet_size: u32,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        // Most messages carry no properties: then both passes over them
        // (counting and writing) are skipped for the one-byte empty block.
        let with_props = version.is_v5() && !self.properties.is_empty();
        let mut props = Counter::new(false);
        if with_props {
            self.properties.write_props(&mut props);
        }
        if let Some(e) = props.error {
            return Err(e);
        }
        if self.topic.is_empty() && (!version.is_v5() || self.properties.topic_alias.is_none()) {
            return Err(EncodeError::Invalid(NO_TOPIC));
        }
        let pid_len = if self.qos_pid.packet_id().is_some() {
            2
        } else {
            0
        };
        let props_total = if version.is_v5() {
            varint_len(props.len as u32) + props.len
        } else {
            0
        };
        let body = 2 + self.topic.as_str().len() + pid_len + props_total + self.payload.len();
        if body > MAX_VARINT as usize {
            return Err(EncodeError::TooLarge {
                size: body,
                max: MAX_VARINT,
            });
        }
        let total = 1 + varint_len(body as u32) + body;
        if total > max_packet_size as usize {
            return Err(EncodeError::TooLarge {
                size: total,
                max: max_packet_size,
            });
        }
        buf.reserve(total);
        let mut w = Writer { buf, lean: false };
        w.u8(3 << 4 | self.flags());
        w.varint(body as u32);
        w.string(self.topic.as_str());
        if let Some(id) = self.qos_pid.packet_id() {
            w.u16(id.get());
        }
        if with_props {
            w.varint(props.len as u32);
            self.properties.write_props(&mut w);
        } else if version.is_v5() {
            w.u8(0);
        }
        w.put(&self.payload);
        Ok(())
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        if self.topic.is_empty() && (!version.is_v5() || self.properties.topic_alias.is_none()) {
            o.fail(EncodeError::Invalid(NO_TOPIC));
        }
        o.string(self.topic.as_str());
        if let Some(id) = self.qos_pid.packet_id() {
            o.u16(id.get());
        }
        if version.is_v5() {
            properties::block(o, &self.properties);
        }
        o.put(&self.payload);
    }
}

impl PublishProperties {
    /// True when no property is set.
    fn is_empty(&self) -> bool {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            payload_format_indicator,
            message_expiry_interval,
            topic_alias,
            response_topic,
            correlation_data,
            user_properties,
            subscription_identifiers,
            content_type,
        } = self;
        payload_format_indicator.is_none()
            && message_expiry_interval.is_none()
            && topic_alias.is_none()
            && response_topic.is_none()
            && correlation_data.is_none()
            && user_properties.is_empty()
            && subscription_identifiers.is_empty()
            && content_type.is_none()
    }

    /// Read a property block of `len` bytes whose length was already read.
    fn read(&mut self, len: u32, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_block(r, len, "PUBLISH", |p| {
            match p {
                P::PayloadFormatIndicator(v) => self.payload_format_indicator = Some(v),
                P::MessageExpiryInterval(v) => self.message_expiry_interval = Some(v),
                P::TopicAlias(v) => self.topic_alias = Some(v),
                P::ResponseTopic(v) => self.response_topic = Some(v),
                P::CorrelationData(v) => self.correlation_data = Some(v),
                P::User(v) => self.user_properties.push(v),
                P::SubscriptionIdentifier(v) => self.subscription_identifiers.push(v),
                P::ContentType(v) => self.content_type = Some(v),
                _ => return false,
            }
            true
        })
    }
}

impl WriteProps for PublishProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(
            o,
            id::PAYLOAD_FORMAT_INDICATOR,
            &self.payload_format_indicator,
        );
        opt(
            o,
            id::MESSAGE_EXPIRY_INTERVAL,
            &self.message_expiry_interval,
        );
        opt(o, id::TOPIC_ALIAS, &self.topic_alias);
        opt(o, id::RESPONSE_TOPIC, &self.response_topic);
        opt(o, id::CORRELATION_DATA, &self.correlation_data);
        // Application properties: forwarded unaltered ([MQTT-3.3.2-17]),
        // never dropped to fit a size limit.
        properties::write_users(o, &self.user_properties);
        for &sub in &self.subscription_identifiers {
            properties::subscription_id(o, sub);
        }
        opt(o, id::CONTENT_TYPE, &self.content_type);
    }
}
