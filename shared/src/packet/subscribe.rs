//! SUBSCRIBE and SUBACK.

use std::num::NonZeroU32;

use bytes::{BufMut, BytesMut};
use bytestring::ByteString;

use super::{
    PacketId, ProtocolVersion, QoS, UserProperty, packet_id, read_reason_props, reason_in,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{self, Property as P, ReasonProps, WriteProps};
use crate::reason::ReasonCode;
use crate::topic::TopicFilter;
use crate::wire::{self, MAX_VARINT, Out, Reader, varint_len};

/// v5 Retain Handling subscription option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at subscribe time.
    #[default]
    SendAtSubscribe,
    /// 1: send them only if the subscription did not exist.
    SendIfNew,
    /// 2: do not send them.
    DoNotSend,
}

/// The options byte of one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the subscriber wants.
    pub qos: QoS,
    /// v5 No Local: do not send the client its own publishes.
    pub no_local: bool,
    /// v5 Retain As Published: keep the RETAIN flag when forwarding.
    pub retain_as_published: bool,
    /// v5 Retain Handling.
    pub retain_handling: RetainHandling,
}

/// One topic filter with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The filter, possibly a `$share/{group}/{filter}`.
    pub filter: TopicFilter,
    /// Its options.
    pub options: SubscriptionOptions,
}

/// SUBSCRIBE: at least one subscription ([MQTT-3.8.3-2]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet id.
    pub packet_id: PacketId,
    /// The subscriptions, in order; never empty.
    pub subscriptions: Vec<Subscription>,
    /// v5 properties.
    pub properties: SubscribeProperties,
}

/// v5 SUBSCRIBE properties (3.8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeProperties {
    /// 0x0B Subscription Identifier, 1 to 268,435,455.
    pub subscription_identifier: Option<NonZeroU32>,
    /// 0x26 User Property.
    pub user_properties: Vec<UserProperty>,
}

/// SUBACK: one reason code per subscription, in order. For 3.1.1 the codes
/// are GrantedQoS0/1/2 or a failure (encoded as 0x80).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet id of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per subscription.
    pub reason_codes: Vec<ReasonCode>,
    /// 0x1F Reason String (v5).
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}

/// Reason codes a v5 SUBACK may carry (3.9.3).
const SUBACK_CODES: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];

impl SubscriptionOptions {
    fn decode(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let reserved = if version.is_v5() { 0xC0 } else { 0xFC };
        if byte & reserved != 0 {
            return Err(DecodeError::SubscriptionOptionsReserved);
        }
        let qos = QoS::from_bits(byte & 0x03).ok_or(DecodeError::InvalidSubscriptionQoS)?;
        let retain_handling = match (byte >> 4) & 0x03 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidRetainHandling),
        };
        Ok(Self {
            qos,
            no_local: byte & 0x04 != 0,
            retain_as_published: byte & 0x08 != 0,
            retain_handling,
        })
    }

    fn encode(self, version: ProtocolVersion) -> u8 {
        let qos = self.qos as u8;
        if !version.is_v5() {
            return qos;
        }
        qos | u8::from(self.no_local) << 2
            | u8::from(self.retain_as_published) << 3
            | (self.retain_handling as u8) << 4
    }
}

impl Subscribe {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = packet_id(&mut r)?;
        let mut properties = SubscribeProperties::default();
        if version.is_v5() {
            properties::read_properties(&mut r, "SUBSCRIBE", |p| {
                match p {
                    P::SubscriptionIdentifier(v) => properties.subscription_identifier = Some(v),
                    P::User(v) => properties.user_properties.push(v),
                    _ => return false,
                }
                true
            })?;
        }
        // Each filter is followed by its one-byte options.
        let mut subscriptions = Vec::with_capacity(wire::count_prefixed(r.remaining(), 1));
        while !r.is_empty() {
            let filter = TopicFilter::new(r.utf8()?).map_err(DecodeError::topic_filter)?;
            let options = SubscriptionOptions::decode(r.u8()?, version)?;
            if options.no_local && filter.as_str().starts_with("$share/") {
                return Err(DecodeError::NoLocalOnSharedSubscription);
            }
            subscriptions.push(Subscription { filter, options });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::NoSubscriptions);
        }
        Ok(Self {
            packet_id,
            subscriptions,
            properties,
        })
    }

    /// The usual SUBSCRIBE, without v5 properties, sized directly (three
    /// bytes per filter besides the filter itself), reserved once and
    /// written in one pass, the same bytes as [`Self::write`]. `None` leaves
    /// every other case (properties, no filter, past `max_packet_size`) to
    /// the generic two-pass encoder, which owns those rules and errors.
    pub(crate) fn encode_fast(
        &self,
        version: ProtocolVersion,
        max_packet_size: u32,
        buf: &mut BytesMut,
    ) -> Option<()> {
        let SubscribeProperties {
            subscription_identifier,
            user_properties,
        } = &self.properties;
        if self.subscriptions.is_empty()
            || (version.is_v5()
                && (subscription_identifier.is_some() || !user_properties.is_empty()))
        {
            return None;
        }
        let filters: usize = self
            .subscriptions
            .iter()
            .map(|s| 3 + s.filter.as_str().len())
            .sum();
        // Packet id, then the empty property block of 5.0.
        let body = 2 + usize::from(version.is_v5()) + filters;
        let body_len = u32::try_from(body).ok().filter(|&b| b <= MAX_VARINT)?;
        let total = 1 + varint_len(body_len) + body;
        if total > max_packet_size as usize {
            return None;
        }
        buf.reserve(total);
        buf.put_u8(0x82);
        let mut len = [0; 4];
        let len_bytes = wire::write_varint(body_len, &mut len);
        buf.put_slice(&len[..len_bytes]);
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            buf.put_u8(0);
        }
        for s in &self.subscriptions {
            let filter = s.filter.as_str().as_bytes();
            // A TopicFilter is at most 65,535 bytes: this cannot truncate.
            buf.put_u16(filter.len() as u16);
            buf.put_slice(filter);
            buf.put_u8(s.options.encode(version));
        }
        Some(())
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        if self.subscriptions.is_empty() {
            o.fail(EncodeError::Invalid(
                "[MQTT-3.8.3-2] SUBSCRIBE needs a topic filter",
            ));
        }
        o.u16(self.packet_id.get());
        if version.is_v5() {
            properties::block(o, &self.properties);
        }
        for s in &self.subscriptions {
            o.string(s.filter.as_str());
            o.u8(s.options.encode(version));
        }
    }
}

impl WriteProps for SubscribeProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        if let Some(sub) = self.subscription_identifier {
            properties::subscription_id(o, sub);
        }
        properties::write_users(o, &self.user_properties);
    }
}

impl SubAck {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = packet_id(&mut r)?;
        let (reason_string, user_properties) = if version.is_v5() {
            read_reason_props(&mut r, "SUBACK")?
        } else {
            Default::default()
        };
        let reason_codes = r
            .rest()
            .iter()
            .map(|&code| {
                let reason = if version.is_v5() {
                    reason_in(code, SUBACK_CODES)
                } else {
                    reason_in(code, &[0x00, 0x01, 0x02, 0x80])
                };
                reason.ok_or(DecodeError::InvalidReasonCode {
                    packet: "SUBACK",
                    code,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            packet_id,
            reason_codes,
            reason_string,
            user_properties,
        })
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        o.u16(self.packet_id.get());
        if version.is_v5() {
            properties::block(o, &self.reason_props());
            for code in &self.reason_codes {
                o.u8(code.as_u8());
            }
        } else {
            for code in &self.reason_codes {
                o.u8(match code {
                    ReasonCode::Success | ReasonCode::GrantedQoS1 | ReasonCode::GrantedQoS2 => {
                        code.as_u8()
                    }
                    _ => 0x80,
                });
            }
        }
    }

    fn reason_props(&self) -> ReasonProps<'_> {
        ReasonProps {
            reason_string: &self.reason_string,
            user_properties: &self.user_properties,
        }
    }
}
