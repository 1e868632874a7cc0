//! CONNECT: the first packet a client sends, with its will and v5 properties.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use bytestring::ByteString;

use super::{PayloadFormat, ProtocolVersion, QoS, UserProperty};
use crate::topic::TopicName;

/// CONNECT, as sent by a client of any protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version the client speaks; it decides how every later
    /// packet of the connection is encoded.
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1, 3.1.1) or Clean Start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 turns the mechanism off.
    pub keep_alive: u16,
    /// The client identifier; may be empty (the server then assigns one or refuses).
    pub client_id: ByteString,
    /// The last will, published by the server when the connection ends badly.
    pub will: Option<LastWill>,
    /// User name, if the flag is set.
    pub username: Option<ByteString>,
    /// Password, if the flag is set. 3.1.1 forbids it without a user name
    /// ([MQTT-3.1.2-22]); 5.0 allows it.
    pub password: Option<Bytes>,
    /// v5 properties; all absent for older versions.
    pub properties: ConnectProperties,
}

/// The will message of a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Where the will is published.
    pub topic: TopicName,
    /// The will payload.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will retain flag.
    pub retain: bool,
    /// v5 will properties.
    pub properties: WillProperties,
}

/// v5 CONNECT properties (3.1.2.11). `None` means absent on the wire, which
/// keeps `decode(encode(p)) == p` exact; the spec's default applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectProperties {
    /// 0x11 Session Expiry Interval, seconds; absent means 0.
    pub session_expiry_interval: Option<u32>,
    /// 0x21 Receive Maximum; absent means 65,535. Zero is a protocol error.
    pub receive_maximum: Option<NonZeroU16>,
    /// 0x27 Maximum Packet Size the client accepts. Zero is a protocol error.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// 0x22 Topic Alias Maximum the client accepts from the server.
    pub topic_alias_maximum: Option<u16>,
    /// 0x19 Request Response Information.
    pub request_response_information: Option<bool>,
    /// 0x17 Request Problem Information; absent means true.
    pub request_problem_information: Option<bool>,
    /// 0x26 User Property, repeatable, in order.
    pub user_properties: Vec<UserProperty>,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<ByteString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
}

/// v5 will properties (3.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WillProperties {
    /// 0x18 Will Delay Interval, seconds.
    pub will_delay_interval: Option<u32>,
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03 Content Type.
    pub content_type: Option<ByteString>,
    /// 0x08 Response Topic.
    pub response_topic: Option<TopicName>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x26 User Property, repeatable, in order.
    pub user_properties: Vec<UserProperty>,
}
