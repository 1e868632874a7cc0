//! UNSUBSCRIBE and UNSUBACK.

use bytestring::ByteString;

use super::{PacketId, ProtocolVersion, UserProperty, packet_id, read_reason_props, reason_in};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{self, Property as P, ReasonProps, WriteProps};
use crate::reason::ReasonCode;
use crate::topic::TopicFilter;
use crate::wire::{self, Out, Reader};

/// UNSUBSCRIBE: at least one filter ([MQTT-3.10.3-2]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet id.
    pub packet_id: PacketId,
    /// The filters to remove; never empty.
    pub filters: Vec<TopicFilter>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}

/// UNSUBACK. 3.1.1 has no payload, so `reason_codes` is empty there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet id of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// v5: one code per filter, in order.
    pub reason_codes: Vec<ReasonCode>,
    /// 0x1F Reason String (v5).
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}

/// Reason codes a v5 UNSUBACK may carry (3.11.3).
const UNSUBACK_CODES: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];

impl Unsubscribe {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = packet_id(&mut r)?;
        let mut user_properties = Vec::new();
        if version.is_v5() {
            properties::read_properties(&mut r, "UNSUBSCRIBE", |p| match p {
                P::User(v) => {
                    user_properties.push(v);
                    true
                }
                _ => false,
            })?;
        }
        let mut filters = Vec::with_capacity(wire::count_prefixed(r.remaining(), 0));
        while !r.is_empty() {
            filters.push(TopicFilter::new(r.utf8()?).map_err(DecodeError::topic_filter)?);
        }
        if filters.is_empty() {
            return Err(DecodeError::NoUnsubscribeFilters);
        }
        Ok(Self {
            packet_id,
            filters,
            user_properties,
        })
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        if self.filters.is_empty() {
            o.fail(EncodeError::Invalid(
                "[MQTT-3.10.3-2] UNSUBSCRIBE needs a topic filter",
            ));
        }
        o.u16(self.packet_id.get());
        if version.is_v5() {
            properties::block(o, &UserProps(&self.user_properties));
        }
        for f in &self.filters {
            o.string(f.as_str());
        }
    }
}

/// UNSUBSCRIBE's only property: User Property, never dropped (a client
/// sends it, and a client has no size limit to fit before CONNACK).
struct UserProps<'a>(&'a [UserProperty]);

impl WriteProps for UserProps<'_> {
    fn write_props<O: Out>(&self, o: &mut O) {
        properties::write_users(o, self.0);
    }
}

impl UnsubAck {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut ack = Self {
            packet_id: packet_id(&mut r)?,
            reason_codes: Vec::new(),
            reason_string: None,
            user_properties: Vec::new(),
        };
        if version.is_v5() {
            (ack.reason_string, ack.user_properties) = read_reason_props(&mut r, "UNSUBACK")?;
            ack.reason_codes = r
                .rest()
                .iter()
                .map(|&code| {
                    reason_in(code, UNSUBACK_CODES).ok_or(DecodeError::InvalidReasonCode {
                        packet: "UNSUBACK",
                        code,
                    })
                })
                .collect::<Result<_, _>>()?;
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
            properties::block(o, &props);
            for code in &self.reason_codes {
                o.u8(code.as_u8());
            }
        }
    }
}
