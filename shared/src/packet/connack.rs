//! CONNACK: the server's answer to CONNECT.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use bytestring::ByteString;

use super::{ProtocolVersion, QoS, UserProperty, reason_in};
use crate::error::DecodeError;
use crate::properties::{self, Property as P, WriteProps, id, opt, users};
use crate::reason::ReasonCode;
use crate::wire::{Out, Reader};

/// CONNACK. One model for every version: 3.1/3.1.1 return codes are mapped
/// to and from their v5 reason codes (see [`ReasonCode::to_v3_connack`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    /// Session Present flag; must be false when `reason` is not success.
    pub session_present: bool,
    /// The outcome of the connection attempt.
    pub reason: ReasonCode,
    /// v5 properties.
    pub properties: ConnAckProperties,
}

/// v5 CONNACK properties (3.2.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnAckProperties {
    /// 0x11 Session Expiry Interval chosen by the server.
    pub session_expiry_interval: Option<u32>,
    /// 0x21 Receive Maximum of the server.
    pub receive_maximum: Option<NonZeroU16>,
    /// 0x24 Maximum QoS the server supports (0 or 1; absent means 2).
    pub maximum_qos: Option<QoS>,
    /// 0x25 Retain Available; absent means true.
    pub retain_available: Option<bool>,
    /// 0x27 Maximum Packet Size the server accepts.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// 0x12 Assigned Client Identifier.
    pub assigned_client_identifier: Option<ByteString>,
    /// 0x22 Topic Alias Maximum the server accepts.
    pub topic_alias_maximum: Option<u16>,
    /// 0x1F Reason String.
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property.
    pub user_properties: Vec<UserProperty>,
    /// 0x28 Wildcard Subscription Available; absent means true.
    pub wildcard_subscription_available: Option<bool>,
    /// 0x29 Subscription Identifiers Available; absent means true.
    pub subscription_identifiers_available: Option<bool>,
    /// 0x2A Shared Subscription Available; absent means true.
    pub shared_subscription_available: Option<bool>,
    /// 0x13 Server Keep Alive, overriding the client's.
    pub server_keep_alive: Option<u16>,
    /// 0x1A Response Information.
    pub response_information: Option<ByteString>,
    /// 0x1C Server Reference.
    pub server_reference: Option<ByteString>,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<ByteString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
}

/// Reason codes a v5 CONNACK may carry (3.2.2.2).
const CODES: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];

impl ConnAck {
    pub(crate) fn decode(r: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        // 3.1 left the whole byte unused; 3.1.1 and 5.0 reserve bits 7-1.
        let session_present = match version {
            ProtocolVersion::V3_1 => false,
            _ if flags & 0xFE != 0 => return Err(DecodeError::ConnAckReservedFlags),
            _ => flags & 0x01 != 0,
        };
        let code = r.u8()?;
        let invalid = DecodeError::InvalidReasonCode {
            packet: "CONNACK",
            code,
        };
        let mut properties = ConnAckProperties::default();
        let reason = if version.is_v5() {
            let reason = reason_in(code, CODES).ok_or(invalid)?;
            properties.read(r)?;
            reason
        } else {
            ReasonCode::from_v3_connack(code).ok_or(invalid)?
        };
        r.finish()?;
        Ok(Self {
            session_present,
            reason,
            properties,
        })
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        o.u8(u8::from(
            self.session_present && version != ProtocolVersion::V3_1,
        ));
        if version.is_v5() {
            o.u8(self.reason.as_u8());
            properties::block(o, &self.properties);
        } else {
            o.u8(self.reason.to_v3_connack().as_u8());
        }
    }
}

impl ConnAckProperties {
    fn read(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_properties(r, "CONNACK", |p| {
            match p {
                P::SessionExpiryInterval(v) => self.session_expiry_interval = Some(v),
                P::ReceiveMaximum(v) => self.receive_maximum = Some(v),
                P::MaximumQoS(v) => self.maximum_qos = Some(v),
                P::RetainAvailable(v) => self.retain_available = Some(v),
                P::MaximumPacketSize(v) => self.maximum_packet_size = Some(v),
                P::AssignedClientIdentifier(v) => self.assigned_client_identifier = Some(v),
                P::TopicAliasMaximum(v) => self.topic_alias_maximum = Some(v),
                P::ReasonString(v) => self.reason_string = Some(v),
                P::User(v) => self.user_properties.push(v),
                P::WildcardSubscriptionAvailable(v) => {
                    self.wildcard_subscription_available = Some(v)
                }
                P::SubscriptionIdentifierAvailable(v) => {
                    self.subscription_identifiers_available = Some(v)
                }
                P::SharedSubscriptionAvailable(v) => self.shared_subscription_available = Some(v),
                P::ServerKeepAlive(v) => self.server_keep_alive = Some(v),
                P::ResponseInformation(v) => self.response_information = Some(v),
                P::ServerReference(v) => self.server_reference = Some(v),
                P::AuthenticationMethod(v) => self.authentication_method = Some(v),
                P::AuthenticationData(v) => self.authentication_data = Some(v),
                _ => return false,
            }
            true
        })?;
        properties::check_auth(&self.authentication_method, &self.authentication_data)
    }
}

impl WriteProps for ConnAckProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(
            o,
            id::SESSION_EXPIRY_INTERVAL,
            &self.session_expiry_interval,
        );
        opt(o, id::RECEIVE_MAXIMUM, &self.receive_maximum);
        opt(o, id::MAXIMUM_QOS, &self.maximum_qos);
        opt(o, id::RETAIN_AVAILABLE, &self.retain_available);
        opt(o, id::MAXIMUM_PACKET_SIZE, &self.maximum_packet_size);
        opt(
            o,
            id::ASSIGNED_CLIENT_IDENTIFIER,
            &self.assigned_client_identifier,
        );
        opt(o, id::TOPIC_ALIAS_MAXIMUM, &self.topic_alias_maximum);
        opt(o, id::REASON_STRING, &self.reason_string);
        users(o, &self.user_properties);
        opt(
            o,
            id::WILDCARD_SUBSCRIPTION_AVAILABLE,
            &self.wildcard_subscription_available,
        );
        opt(
            o,
            id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
            &self.subscription_identifiers_available,
        );
        opt(
            o,
            id::SHARED_SUBSCRIPTION_AVAILABLE,
            &self.shared_subscription_available,
        );
        opt(o, id::SERVER_KEEP_ALIVE, &self.server_keep_alive);
        opt(o, id::RESPONSE_INFORMATION, &self.response_information);
        opt(o, id::SERVER_REFERENCE, &self.server_reference);
        opt(o, id::AUTHENTICATION_METHOD, &self.authentication_method);
        opt(o, id::AUTHENTICATION_DATA, &self.authentication_data);
    }
}
