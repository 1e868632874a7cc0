//! CONNACK: the server's answer to CONNECT.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use bytestring::ByteString;

use super::{QoS, UserProperty};
use crate::reason::ReasonCode;

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
